//! VEX documents in (as triage decisions) and out (per artifact).

use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::vulnerabilities::core::purl::Purl;
use crate::vulnerabilities::core::triage::State;
use crate::vulnerabilities::core::triage::{self};
use crate::vulnerabilities::store;

use super::*;

/// The outcome of a VEX import.
#[derive(Debug, Serialize, ToSchema)]
pub struct VexReport {
    /// `openvex`, `cyclonedx` or `csaf`.
    pub format: String,
    /// Statements read from the document.
    pub statements: usize,
    /// Triage decisions recorded from them.
    pub applied: usize,
    /// Statements that matched nothing Cairn knows.
    pub unmatched: usize,
    /// Each unmatched statement: where it is, what it names, why.
    pub unmatched_statements: Vec<UnmatchedStatement>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedStatement {
    /// JSON pointer to the statement in the document.
    pub pointer: String,
    pub vulnerability: String,
    pub reason: String,
}

/// Applies a VEX document's statements as triage decisions (one
/// transaction). A product is an artifact by digest, or by the purl its
/// SBOM describes; a purl naming no artifact is the package itself
/// (a portfolio decision). Subcomponents name the packages within.
pub async fn import_vex(
    tx: &mut PgConnection,
    doc: &crate::vulnerabilities::core::vex::VexDocument,
    author: &str,
) -> sqlx::Result<VexReport> {
    use crate::vulnerabilities::core::vex::{ProductRef, VexFormat, VexStatus};
    let source = match doc.format {
        VexFormat::OpenVex => "openvex",
        VexFormat::CycloneDx => "cyclonedx",
        VexFormat::Csaf => "csaf",
    };
    let mut report = VexReport {
        format: source.into(),
        statements: doc.statements.len(),
        applied: 0,
        unmatched: 0,
        unmatched_statements: Vec::new(),
    };
    for st in &doc.statements {
        let mut unmatched = |reason: String| {
            report.unmatched_statements.push(UnmatchedStatement {
                pointer: st.pointer.clone(),
                vulnerability: st.vulnerability.clone(),
                reason,
            });
        };
        let mut group = None;
        for id in std::iter::once(&st.vulnerability).chain(&st.aliases) {
            if let Some(g) = vulnerability_group(&mut *tx, id).await? {
                group = Some(g);
                break;
            }
        }
        let Some(group) = group else {
            unmatched(format!(
                "no imported advisory knows {} or its aliases",
                st.vulnerability
            ));
            continue;
        };
        let state = match st.status {
            VexStatus::NotAffected => State::NotAffected,
            VexStatus::Affected => State::Affected,
            VexStatus::Fixed => State::Fixed,
            VexStatus::UnderInvestigation => State::UnderInvestigation,
        };
        let justification = st
            .justification
            .as_deref()
            .filter(|j| state == State::NotAffected && triage::is_justification(j));
        let comment = st.detail.as_deref().or(st.action.as_deref());
        // (artifact, package key, purl) targets; artifact None = portfolio.
        let mut targets: Vec<(Option<i64>, String, Option<String>)> = Vec::new();
        for product in &st.products {
            let artifacts = match product {
                ProductRef::Digest(d) => {
                    crate::attestations::store::artifacts_with_digest(&mut *tx, d).await?
                }
                ProductRef::Purl(p) => store::artifacts_with_root_purl(&mut *tx, p).await?,
            };
            if artifacts.is_empty() {
                if let ProductRef::Purl(p) = product {
                    if let Some(pkg) = Purl::parse(p).and_then(|x| x.package()) {
                        let key = pkg.key();
                        if !store::artifacts_with_packages(&mut *tx, std::slice::from_ref(&key))
                            .await?
                            .is_empty()
                        {
                            let versioned = Purl::parse(p).is_some_and(|x| x.version.is_some());
                            targets.push((None, key, versioned.then(|| p.clone())));
                        }
                    }
                }
                continue;
            }
            for a in artifacts {
                if st.subcomponents.is_empty() {
                    // About the whole product: every component it is affected through.
                    for f in artifact_findings(&mut *tx, a).await? {
                        if f.vulnerability_id == group {
                            targets.push((Some(a), f.package_key.clone(), None));
                        }
                    }
                } else {
                    for sub in &st.subcomponents {
                        let Some(purl) = Purl::parse(sub) else {
                            continue;
                        };
                        let Some(pkg) = purl.package() else { continue };
                        targets.push((
                            Some(a),
                            pkg.key(),
                            purl.version.is_some().then(|| sub.clone()),
                        ));
                    }
                }
            }
        }
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            unmatched("no artifact or component of the portfolio matches its products".into());
            continue;
        }
        for (artifact, key, purl) in &targets {
            let stale = match artifact {
                Some(a) => vec![*a],
                None => store::artifacts_with_packages(&mut *tx, std::slice::from_ref(key)).await?,
            };
            crate::queue::evaluate(&mut *tx, &stale, "VEX imported").await?;
            store::insert_decision(
                &mut *tx,
                &store::NewDecision {
                    vulnerability_id: group,
                    package_key: key,
                    purl: purl.as_deref(),
                    scope: if artifact.is_some() {
                        "artifact"
                    } else {
                        "portfolio"
                    },
                    artifact_id: *artifact,
                    project_id: None,
                    state: state.as_str(),
                    justification,
                    comment,
                    source,
                    author,
                    expires_at: None,
                },
            )
            .await?;
            report.applied += 1;
        }
    }
    report.unmatched = report.unmatched_statements.len();
    Ok(report)
}

/// The artifact's findings as a VEX document of `format`.
pub async fn export_vex(
    conn: &mut PgConnection,
    artifact_id: i64,
    format: crate::vulnerabilities::core::vex::VexFormat,
) -> sqlx::Result<Option<serde_json::Value>> {
    use crate::vulnerabilities::core::vex::{
        self, ExportDocument, ExportStatement, VexFormat, VexStatus,
    };
    let Some(a) = store::artifact_identity(&mut *conn, artifact_id).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    let mut statements: Vec<ExportStatement> = artifact_findings(&mut *conn, artifact_id)
        .await?
        .into_iter()
        // VEX names packages by purl: a scanner's package without one is left out.
        .filter(|f| !f.purl.is_empty())
        .map(|f| {
            let (status, justification, detail) = match f.state {
                State::NotAffected => (VexStatus::NotAffected, f.justification, None),
                // The match was wrong: the vulnerable code is not there.
                State::FalsePositive => (
                    VexStatus::NotAffected,
                    Some("vulnerable_code_not_present".to_string()),
                    Some("triaged as a false positive".to_string()),
                ),
                State::Affected => (VexStatus::Affected, None, None),
                State::Fixed => (VexStatus::Fixed, None, None),
                State::InTriage | State::UnderInvestigation => {
                    (VexStatus::UnderInvestigation, None, None)
                }
            };
            ExportStatement {
                vulnerability: f.id,
                aliases: f.aliases,
                purl: f.purl,
                status,
                justification,
                detail,
                timestamp: now,
            }
        })
        .collect();
    statements.sort_by(|x, y| (&x.vulnerability, &x.purl).cmp(&(&y.vulnerability, &y.purl)));
    let doc = ExportDocument {
        id: format!(
            "https://cairn.invalid/vex/artifacts/{artifact_id}/{}",
            now.timestamp()
        ),
        author: "Cairn".into(),
        product_name: format!("{}/{}", a.project, a.name),
        product_version: a.version,
        product_digest: a.digest,
        product_purl: None,
        timestamp: now,
        statements,
    };
    Ok(Some(match format {
        VexFormat::OpenVex => vex::to_openvex(&doc),
        VexFormat::CycloneDx => vex::to_cyclonedx(&doc),
        VexFormat::Csaf => vex::to_csaf(&doc),
    }))
}
