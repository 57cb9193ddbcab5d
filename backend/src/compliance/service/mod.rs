//! Use cases of compliance reports: gather each release's evidence as of a
//! time, judge every control of a framework (`core::assess`), sign the
//! export; control statements.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::core::assess::{
    self, Evidence, EvidenceId, EvidenceKind, NeedFact, ReleaseFacts, RuleFact, Statement,
    StatementStatus,
};
use super::core::framework::{self, Framework, Need};
use super::core::report::{Report, Scope};
use super::core::sign::{self, ReportKey};
use super::store::{self, NewStatement, StatementRow};
use crate::attestations::store::AttestationRecord;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::policies::core::input::ProvenanceFacts;

/// A report covers at most this many releases (a portfolio larger than
/// that is reported per project).
pub const MAX_RELEASES: i64 = 2_000;

/// What a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub framework: String,
    pub project: Option<String>,
    pub version: Option<String>,
    /// As of this time; now when absent.
    pub at: Option<DateTime<Utc>>,
}

pub fn framework(id: &str) -> ApiResult<&'static Framework> {
    framework::get(id).ok_or_else(|| {
        let known: Vec<&str> = framework::all().iter().map(|f| f.id.as_str()).collect();
        ApiError::not_found(format!(
            "there is no framework `{id}`; known: {}",
            known.join(", ")
        ))
    })
}

async fn project_id(conn: &mut PgConnection, name: &str) -> ApiResult<i64> {
    crate::policies::store::project_id(&mut *conn, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project `{name}`")))
}

/// Builds the report: every control of the framework over the releases in
/// scope, with the evidence behind each status.
pub async fn report(pool: &PgPool, req: &ReportRequest, now: DateTime<Utc>) -> ApiResult<Report> {
    let fw = framework(&req.framework)?;
    let mut one = reports(pool, &[fw], req, now).await?;
    Ok(one.remove(0))
}

/// Reports of several frameworks over the same scope (`req` without its
/// `framework`): the releases' evidence is read once and judged per
/// framework.
pub async fn reports(
    pool: &PgPool,
    frameworks: &[&'static Framework],
    req: &ReportRequest,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Report>> {
    let at = req.at.unwrap_or(now);
    if at > now {
        return Err(ApiError::bad_request(format!(
            "`at` ({}) is in the future",
            at.to_rfc3339()
        )));
    }
    if req.version.is_some() && req.project.is_none() {
        return Err(ApiError::bad_request("`version` needs `project`"));
    }
    let mut conn = pool.acquire().await?;
    let pid = match &req.project {
        Some(p) => Some(project_id(&mut conn, p).await?),
        None => None,
    };
    let releases = store::releases(
        &mut *conn,
        pid,
        req.version.as_deref(),
        at,
        MAX_RELEASES + 1,
    )
    .await?;
    if releases.len() as i64 > MAX_RELEASES {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "too-many-releases",
            "Too many releases",
            format!("the scope holds more than {MAX_RELEASES} releases: ask per project"),
        ));
    }
    if let (Some(p), Some(v), true) = (&req.project, &req.version, releases.is_empty()) {
        return Err(ApiError::not_found(format!(
            "project `{p}` has no artifact with version `{v}`"
        )));
    }
    let facts = gather(&mut conn, &releases, at).await?;

    let mut project_ids: Vec<i64> = releases.iter().map(|r| r.project_id).collect();
    project_ids.extend(pid);
    project_ids.sort_unstable();
    project_ids.dedup();
    let scope = Scope {
        kind: match (&req.project, &req.version) {
            (Some(_), Some(_)) => "release",
            (Some(_), None) => "project",
            _ => "portfolio",
        }
        .to_owned(),
        project: req.project.clone(),
        version: req.version.clone(),
        releases: releases
            .iter()
            .map(|r| label(&r.project, &r.name, &r.version, pid.is_none()))
            .collect(),
        as_of: at,
    };
    let mut out = Vec::with_capacity(frameworks.len());
    for fw in frameworks {
        let statements = store::statements_at(&mut conn, &fw.id, &project_ids, at).await?;
        let controls = fw
            .controls
            .iter()
            .map(|c| {
                let st = pick_statement(&statements, &c.id, pid, at);
                assess::assess(c, &facts, st.as_ref(), at)
            })
            .collect();
        out.push(Report::new(fw, scope.clone(), now, controls));
    }
    Ok(out)
}

fn label(project: &str, name: &str, version: &str, with_project: bool) -> String {
    if with_project {
        format!("{project}/{name}@{version}")
    } else {
        format!("{name}@{version}")
    }
}

/// The statement that counts for a control: the project's own when it is
/// valid, else a valid organisation-wide one, else the newest expired one
/// (so the report can say it expired). In a portfolio report only
/// organisation-wide statements count.
fn pick_statement(
    rows: &[(Option<i64>, StatementRow)],
    control: &str,
    project: Option<i64>,
    at: DateTime<Utc>,
) -> Option<Statement> {
    let valid = |s: &StatementRow| s.expires_at.is_none_or(|e| e > at);
    let mut candidates: Vec<&(Option<i64>, StatementRow)> = rows
        .iter()
        .filter(|(p, s)| {
            s.control == control && (p.is_none() || (project.is_some() && *p == project))
        })
        .collect();
    // Valid first, then the project's own, then newest.
    candidates.sort_by_key(|(p, s)| (!valid(s), p.is_none(), std::cmp::Reverse(s.created_at)));
    candidates.first().map(|(_, s)| statement_of(s))
}

fn statement_of(s: &StatementRow) -> Statement {
    Statement {
        id: s.id,
        status: StatementStatus::parse(&s.status).unwrap_or(StatementStatus::NotSatisfied),
        statement: s.statement.clone(),
        author: s.author.clone(),
        created_at: s.created_at,
        expires_at: s.expires_at,
        project: s.project.clone(),
    }
}

/// Reads the evidence of every release: its latest evaluations (and what
/// their rules cited), SBOM, verified signatures and provenance over its
/// digest, CI runs, findings with triage and VEX, CI definitions, Go build.
async fn gather(
    conn: &mut PgConnection,
    releases: &[store::Release],
    at: DateTime<Utc>,
) -> ApiResult<Vec<ReleaseFacts>> {
    let ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let evaluations = store::evaluations(&mut *conn, &ids, at).await?;
    let cited_sboms: Vec<i64> = cited(&evaluations, "sbom");
    let cited_runs: Vec<i64> = cited(&evaluations, "ci-run");
    let sboms = store::sboms(&mut *conn, &ids, &cited_sboms, at).await?;
    // Verified attestations over the releases' digests, in one read.
    let digests: Vec<String> = releases.iter().filter_map(|r| r.digest.clone()).collect();
    let verified: Vec<AttestationRecord> =
        crate::attestations::store::verified_for_digests(&mut *conn, &digests)
            .await?
            .into_iter()
            .filter(|a| a.verified && a.uploaded_at <= at)
            .collect();
    let mut attestations: HashMap<i64, Vec<AttestationRecord>> = HashMap::new();
    let mut commits = BTreeSet::new();
    for r in releases {
        let Some(d) = &r.digest else { continue };
        let recs: Vec<AttestationRecord> = verified
            .iter()
            .filter(|a| a.subjects.iter().any(|s| &s.digest == d))
            .cloned()
            .collect();
        for a in &recs {
            commits.extend(a.identity.as_ref().and_then(|i| i.workflow_sha.clone()));
            commits.extend(a.provenance.as_ref().and_then(|p| p.source_commit.clone()));
        }
        attestations.insert(r.id, recs);
    }
    let runs = store::runs(
        &mut *conn,
        &commits.into_iter().collect::<Vec<_>>(),
        &cited_runs,
        at,
    )
    .await?;
    let findings = store::findings(&mut *conn, &ids, at).await?;
    let advisories = store::advisories_known(&mut *conn, at).await?;
    let pending: BTreeSet<i64> = store::pending(&mut *conn, &ids)
        .await?
        .into_iter()
        .collect();
    let project_ids: Vec<i64> = releases.iter().map(|r| r.project_id).collect();
    let ci = store::ci_definitions(&mut *conn, &project_ids, at).await?;
    let go = store::go_builds(&mut *conn, &ids, at).await?;

    let mut out = Vec::with_capacity(releases.len());
    let multi_project = releases
        .iter()
        .any(|r| r.project_id != releases[0].project_id);
    for r in releases {
        let rel = label(&r.project, &r.name, &r.version, multi_project);
        let tag = |mut e: Evidence| {
            e.release = Some(rel.clone());
            e
        };
        let atts = attestations.get(&r.id).map(Vec::as_slice).unwrap_or(&[]);
        let latest_sbom = sboms
            .iter()
            .filter(|s| s.artifact_id == r.id)
            .max_by_key(|s| (s.uploaded_at, s.id));
        let sbom_cite = |s: &store::Sbom| {
            let mut e = Evidence::new(
                EvidenceKind::Sbom,
                EvidenceId::Row(s.id),
                format!("/api/v1/sboms/{}", s.id),
                format!(
                    "{} {} SBOM with {} components",
                    s.format, s.spec_version, s.component_count
                ),
            );
            e.digest = Some(format!("sha256:{}", hex::encode(&s.content_sha256)));
            tag(e)
        };
        let att_cite = |a: &AttestationRecord| tag(attestation_evidence(a));
        let run_cite = |run: &store::Run| {
            tag(Evidence::new(
                EvidenceKind::Build,
                EvidenceId::Row(run.id),
                format!("/api/v1/runs/{}", run.id),
                format!(
                    "{} run of {} at {} ({})",
                    run.provider,
                    run.repository,
                    run.head_sha.as_deref().unwrap_or("unknown commit"),
                    run.conclusion.as_deref().unwrap_or("in progress")
                ),
            ))
        };

        // Rules, as the release's latest evaluations judged them.
        let mut rules: BTreeMap<String, Vec<RuleFact>> = BTreeMap::new();
        for e in evaluations.iter().filter(|e| e.artifact_id == r.id) {
            let mut eval_cite = Evidence::new(
                EvidenceKind::PolicyEvaluation,
                EvidenceId::Row(e.id),
                format!("/api/v1/artifacts/{}/policy/history", r.id),
                format!(
                    "evaluation {} by policy set {} v{}",
                    e.id, e.policy_set, e.version
                ),
            );
            eval_cite.set = Some(e.policy_set.clone());
            eval_cite.version = Some(e.version);
            eval_cite.evaluated_at = Some(e.evaluated_at);
            for res in &e.results {
                let mut cite = eval_cite.clone();
                cite.rule = Some(res.rule.clone());
                cite.outcome = Some(res.effective.to_string());
                let mut citations = vec![tag(cite)];
                for ev in &res.evidence {
                    let c = match ev.kind.as_str() {
                        "sbom" => sboms.iter().find(|s| s.id == ev.id).map(sbom_cite),
                        "attestation" => atts.iter().find(|a| a.id == ev.id).map(att_cite),
                        "ci-run" => runs.iter().find(|x| x.id == ev.id).map(run_cite),
                        _ => None,
                    };
                    citations.extend(c);
                }
                for w in &res.waivers {
                    let mut c = Evidence::new(
                        EvidenceKind::Waiver,
                        EvidenceId::Row(w.id),
                        format!("/api/v1/waivers?artifact={}", r.id),
                        w.justification.clone(),
                    );
                    c.approver = Some(w.approver.clone());
                    c.expires_at = Some(w.expires_at);
                    c.rule = Some(res.rule.clone());
                    citations.push(tag(c));
                }
                rules.entry(res.rule.clone()).or_default().push(RuleFact {
                    effective: res.effective.to_string(),
                    message: res.message.clone(),
                    citations,
                });
            }
        }

        // Evidence that must exist.
        let mut needs: BTreeMap<Need, NeedFact> = BTreeMap::new();
        needs.insert(
            Need::Sbom,
            match latest_sbom {
                Some(s) => met("an SBOM of the release", vec![sbom_cite(s)]),
                None => unmet("no SBOM uploaded for the release", Vec::new()),
            },
        );
        needs.insert(
            Need::SbomQuality,
            match latest_sbom.map(|s| (s, s.quality.as_ref())) {
                None => unmet("no SBOM uploaded for the release", Vec::new()),
                Some((_, None)) => unmet("the SBOM is not scored yet", Vec::new()),
                Some((s, Some(q))) => {
                    let mut e = sbom_cite(s);
                    e.href = format!("/api/v1/sboms/{}/quality", s.id);
                    e.summary = format!(
                        "quality scores: {}",
                        q.rows()
                            .iter()
                            .map(|(title, p)| format!("{title} {}", p.score))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    met("the SBOM is scored", vec![e])
                }
            },
        );
        let sigs: Vec<Evidence> = atts.iter().map(att_cite).collect();
        needs.insert(
            Need::Signature,
            if r.digest.is_none() {
                unmet(
                    "the release has no digest: nothing can be signed for it",
                    Vec::new(),
                )
            } else if sigs.is_empty() {
                unmet(
                    "no verified signature over the release's digest",
                    Vec::new(),
                )
            } else {
                met(&format!("{} verified signature(s)", sigs.len()), sigs)
            },
        );
        let provs: Vec<Evidence> = atts
            .iter()
            .filter(|a| a.provenance.is_some())
            .map(att_cite)
            .collect();
        needs.insert(
            Need::Provenance,
            if provs.is_empty() {
                unmet(
                    "no verified SLSA provenance for the release's digest",
                    Vec::new(),
                )
            } else {
                met(
                    &format!("{} verified provenance statement(s)", provs.len()),
                    provs,
                )
            },
        );
        let release_commits: BTreeSet<String> = atts
            .iter()
            .flat_map(|a| {
                [
                    a.identity.as_ref().and_then(|i| i.workflow_sha.clone()),
                    a.provenance.as_ref().and_then(|p| p.source_commit.clone()),
                ]
            })
            .flatten()
            .collect();
        let builds: Vec<Evidence> = runs
            .iter()
            .filter(|x| {
                x.head_sha
                    .as_ref()
                    .is_some_and(|s| release_commits.contains(s))
            })
            .map(run_cite)
            .collect();
        needs.insert(
            Need::Build,
            if builds.is_empty() {
                unmet(
                    "no CI build record of the release's commit (the commit comes from its verified signatures and provenance)",
                    Vec::new(),
                )
            } else {
                met(&format!("{} CI run(s) of the release's commit", builds.len()), builds)
            },
        );

        let open: Vec<&store::OpenFinding> =
            findings.iter().filter(|f| f.artifact_id == r.id).collect();
        let analysed = latest_sbom.is_some() && advisories && !pending.contains(&r.id);
        let analysis_cite = latest_sbom.map(|s| {
            let mut e = sbom_cite(s);
            e.href = format!("/api/v1/artifacts/{}/vulnerabilities", r.id);
            e.summary = format!(
                "components of SBOM {} matched against the imported advisories: {} open finding(s)",
                s.id,
                open.len()
            );
            e
        });
        let why_not = if latest_sbom.is_none() {
            "no SBOM: the release's components are unknown"
        } else if !advisories {
            "no advisories imported: nothing to match against"
        } else {
            "matching is pending (queued for evaluation)"
        };
        needs.insert(
            Need::VulnerabilityAnalysis,
            if analysed {
                met(
                    "components matched",
                    analysis_cite.clone().into_iter().collect(),
                )
            } else {
                unmet(why_not, Vec::new())
            },
        );
        let finding_cite = |f: &store::OpenFinding| {
            let mut e = Evidence::new(
                EvidenceKind::Finding,
                EvidenceId::Key(format!(
                    "{}/{}",
                    f.display_id,
                    if f.purl.is_empty() {
                        &f.package
                    } else {
                        &f.purl
                    }
                )),
                format!("/api/v1/artifacts/{}/vulnerabilities", r.id),
                format!(
                    "{} ({}{}) in {}",
                    f.display_id,
                    f.severity,
                    if f.kev { ", known exploited" } else { "" },
                    if f.purl.is_empty() {
                        &f.package
                    } else {
                        &f.purl
                    }
                ),
            );
            e.vulnerability = Some(f.display_id.clone());
            e.state = Some(f.state.clone());
            tag(e)
        };
        let untriaged: Vec<&&store::OpenFinding> =
            open.iter().filter(|f| f.state == "in_triage").collect();
        needs.insert(
            Need::Triage,
            if !analysed {
                unmet(why_not, Vec::new())
            } else if open.is_empty() {
                met(
                    "no open findings",
                    analysis_cite.clone().into_iter().collect(),
                )
            } else if untriaged.is_empty() {
                met(
                    &format!("all {} open finding(s) triaged", open.len()),
                    open.iter().take(50).map(|f| finding_cite(f)).collect(),
                )
            } else {
                unmet(
                    &format!(
                        "{} of {} open finding(s) not triaged",
                        untriaged.len(),
                        open.len()
                    ),
                    untriaged.iter().take(50).map(|f| finding_cite(f)).collect(),
                )
            },
        );
        let vex_cite = |f: &store::OpenFinding| {
            let mut e = Evidence::new(
                EvidenceKind::Vex,
                EvidenceId::Row(f.vex_id.unwrap_or_default()),
                format!("/api/v1/artifacts/{}/vex", r.id),
                format!(
                    "VEX statement on {}: {}",
                    f.display_id,
                    f.vex_state.as_deref().unwrap_or("")
                ),
            );
            e.vulnerability = Some(f.display_id.clone());
            e.state = f.vex_state.clone();
            tag(e)
        };
        let without_vex = open.iter().filter(|f| f.vex_id.is_none()).count();
        needs.insert(
            Need::Vex,
            if !analysed {
                unmet(why_not, Vec::new())
            } else if open.is_empty() {
                met(
                    "no open findings: nothing to state",
                    analysis_cite.clone().into_iter().collect(),
                )
            } else if without_vex == 0 {
                met(
                    &format!("a VEX statement for each of {} open finding(s)", open.len()),
                    open.iter().take(50).map(|f| vex_cite(f)).collect(),
                )
            } else {
                unmet(
                    &format!(
                        "{without_vex} of {} open finding(s) without a VEX statement",
                        open.len()
                    ),
                    open.iter()
                        .filter(|f| f.vex_id.is_some())
                        .take(50)
                        .map(|f| vex_cite(f))
                        .collect(),
                )
            },
        );
        let defs: Vec<Evidence> = ci
            .iter()
            .filter(|d| d.project_id == r.project_id)
            .map(|d| {
                Evidence::new(
                    EvidenceKind::CiDefinition,
                    EvidenceId::Row(d.id),
                    format!(
                        "/api/v1/ci-definitions?project={}",
                        crate::web::urlencode(&r.project)
                    ),
                    format!("{} {} ({} finding(s))", d.kind, d.file, d.finding_count),
                )
            })
            .collect();
        needs.insert(
            Need::CiDefinitions,
            if defs.is_empty() {
                unmet("no CI definition of the project uploaded", Vec::new())
            } else {
                met(&format!("{} CI definition(s) analysed", defs.len()), defs)
            },
        );
        needs.insert(
            Need::GoBuildInfo,
            match go.iter().find(|g| g.artifact_id == r.id) {
                Some(g) => met(
                    "Go build info read",
                    vec![tag(Evidence::new(
                        EvidenceKind::GoBuild,
                        EvidenceId::Row(g.id),
                        format!("/api/v1/artifacts/{}/go-build", r.id),
                        format!(
                            "Go build info ({}, {})",
                            g.source,
                            g.go_version.as_deref().unwrap_or("unknown Go")
                        ),
                    ))],
                ),
                None => unmet("no Go build info uploaded", Vec::new()),
            },
        );
        out.push(ReleaseFacts {
            label: rel.clone(),
            rules,
            needs,
        });
    }
    Ok(out)
}

fn met(detail: &str, citations: Vec<Evidence>) -> NeedFact {
    NeedFact {
        met: true,
        detail: detail.to_owned(),
        citations,
    }
}

fn unmet(detail: &str, citations: Vec<Evidence>) -> NeedFact {
    NeedFact {
        met: false,
        detail: detail.to_owned(),
        citations,
    }
}

fn cited(evaluations: &[store::Evaluation], kind: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = evaluations
        .iter()
        .flat_map(|e| &e.results)
        .flat_map(|r| &r.evidence)
        .filter(|e| e.kind == kind)
        .map(|e| e.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn attestation_evidence(a: &AttestationRecord) -> Evidence {
    let signer = a
        .identity
        .as_ref()
        .and_then(|i| i.san.clone().or_else(|| i.key_name.clone()));
    let mut e = Evidence::new(
        EvidenceKind::Attestation,
        EvidenceId::Row(a.id),
        format!("/api/v1/attestations/{}", a.id),
        match &a.predicate_type {
            Some(p) => format!("verified {} ({p})", a.kind),
            None => format!("verified {}", a.kind),
        },
    );
    e.signer = signer;
    e.issuer = a.identity.as_ref().and_then(|i| i.issuer.clone());
    e.rekor_log_index = a.rekor_log_index;
    if let Some(p) = &a.provenance {
        e.builder = p.builder_id.clone();
        e.slsa_level = Some(crate::policies::core::rules::slsa_level(&ProvenanceFacts {
            id: a.id,
            signer: a.identity.clone(),
            trusted_by: a.trusted_by.clone(),
            provenance: p.clone(),
        }));
    }
    e
}

/// The CISA attestation form filled from the product's SSDF report.
pub async fn cisa_attestation(
    pool: &PgPool,
    req: &ReportRequest,
    now: DateTime<Utc>,
) -> ApiResult<super::core::attestation::FilledForm> {
    let ssdf = report(pool, req, now).await?;
    Ok(super::core::attestation::fill(
        super::core::attestation::form(),
        &ssdf,
    ))
}

// --- signing ---------------------------------------------------------------------------

/// The instance's report key, made on first use.
pub async fn report_key(pool: &PgPool) -> ApiResult<ReportKey> {
    let der = match store::stored_report_key(pool).await? {
        Some(der) => der,
        None => store::report_key(pool, sign::generate()).await?,
    };
    ReportKey::from_pkcs8(&der).map_err(|e| {
        tracing::error!(error = %e, "the stored report signing key is unreadable");
        ApiError::internal()
    })
}

// --- control statements ------------------------------------------------------------------

/// A statement as submitted.
pub struct StatementInput<'a> {
    pub framework: &'a str,
    pub control: &'a str,
    pub project: Option<&'a str>,
    pub status: StatementStatus,
    pub statement: &'a str,
    pub expires: Option<DateTime<Utc>>,
}

pub async fn create_statement(
    pool: &PgPool,
    s: &StatementInput<'_>,
    caller: &Caller,
    now: DateTime<Utc>,
) -> ApiResult<StatementRow> {
    let fw = framework(s.framework)?;
    if !fw.controls.iter().any(|c| c.id == s.control) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-control",
            "Unknown control",
            format!("framework `{}` has no control `{}`", fw.id, s.control),
        )
        .with_pointer(Some("/control".into())));
    }
    if s.statement.chars().count() > 10_000 {
        return Err(
            ApiError::bad_request("`statement` is longer than 10,000 characters")
                .with_pointer(Some("/statement".into())),
        );
    }
    if s.statement.trim().is_empty() {
        return Err(ApiError::bad_request("`statement` must not be empty")
            .with_pointer(Some("/statement".into())));
    }
    if let Some(e) = s.expires.filter(|e| *e <= now) {
        return Err(ApiError::bad_request(format!(
            "`expires` ({}) is not in the future",
            e.to_rfc3339()
        ))
        .with_pointer(Some("/expires".into())));
    }
    let mut tx = pool.begin().await?;
    let project_id = match s.project {
        Some(p) => Some(project_id(&mut tx, p).await?),
        None => None,
    };
    let row = store::insert_statement(
        &mut tx,
        &NewStatement {
            framework: &fw.id,
            control: s.control,
            project_id,
            status: s.status.as_str(),
            statement: s.statement,
            author: &caller.name,
            created_by: caller.token_id,
            expires_at: s.expires,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn statement(pool: &PgPool, id: i64) -> ApiResult<StatementRow> {
    store::get_statement(pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("control statement {id} not found")))
}

pub async fn withdraw_statement(pool: &PgPool, id: i64) -> ApiResult<()> {
    if store::withdraw_statement(pool, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "control statement {id} not found"
        )))
    }
}

pub async fn list_statements(
    pool: &PgPool,
    framework_id: Option<&str>,
    project: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<StatementRow>> {
    if let Some(f) = framework_id {
        framework(f)?;
    }
    let mut conn = pool.acquire().await?;
    let pid = match project {
        Some(p) => Some(project_id(&mut conn, p).await?),
        None => None,
    };
    Ok(store::list_statements(&mut *conn, framework_id, pid, before, limit).await?)
}
