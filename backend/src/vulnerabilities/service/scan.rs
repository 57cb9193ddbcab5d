//! Scanner reports (Grype, Trivy) stored as an artifact's findings.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::vulnerabilities::store;

use super::*;

/// What a scanner report upload stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanIngested {
    pub artifact_id: i64,
    /// The stored report; null when this artifact already had it.
    pub report_id: Option<i64>,
    /// `grype` or `trivy`.
    pub scanner: String,
    pub scanner_version: Option<String>,
    /// What the scanner scanned, as it says.
    pub target: Option<String>,
    /// The digest the report says it scanned, when it says.
    pub target_digest: Option<String>,
    /// Findings in the report.
    pub findings: usize,
    /// Of them, with a purl (the rest are kept by type, name and version).
    pub with_purl: usize,
    /// Of them, naming a vulnerability an imported advisory knows.
    pub known: usize,
    /// False when this artifact already had this exact report.
    pub created: bool,
}

/// Stores a Grype or Trivy report as the artifact's findings of that
/// scanner (one transaction; the artifact is created like an SBOM upload's).
pub async fn ingest_scan(
    pool: &PgPool,
    target: &crate::inventory::service::ArtifactTarget,
    document: &[u8],
    uploaded_by: i64,
) -> crate::error::ApiResult<ScanIngested> {
    use crate::error::ApiError;
    use crate::vulnerabilities::core::scan::{self, Scanner};
    let report = tokio::task::block_in_place(|| scan::parse(document)).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-scan-report",
            "Not a Grype or Trivy JSON report",
            e,
        )
    })?;
    if let (Some(given), Some(scanned)) = (&target.digest, &report.target_digest) {
        if given.as_str() != scanned {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-scan-report",
                "Not a Grype or Trivy JSON report",
                format!(
                    "the report scanned {scanned}, not the digest given ({})",
                    given.as_str()
                ),
            ));
        }
    }
    let scanner = match report.scanner {
        Scanner::Grype => "grype",
        Scanner::Trivy => "trivy",
    };
    let sha = Sha256::digest(document).to_vec();
    let mut tx = pool.begin().await?;
    let artifact_id = target
        .artifact_id(&mut tx, target.digest.as_ref().map(|d| d.as_str()))
        .await?;
    let mut rows = store::ScanFindingRows::default();
    for (i, f) in report.findings.iter().enumerate() {
        rows.ordinal.push(i as i32);
        rows.vulnerability.push(f.vulnerability.clone());
        rows.aliases.push(pg_array(&f.aliases));
        rows.purl.push(f.purl.clone());
        rows.package_key.push(
            f.purl
                .as_deref()
                .and_then(crate::vulnerabilities::core::purl::package_key),
        );
        rows.package_type.push(f.package_type.clone());
        rows.name.push(f.name.clone());
        rows.version.push(f.version.clone());
        rows.fixed_versions.push(pg_array(&f.fixed_versions));
        rows.severity.push(f.severity.clone());
        rows.cvss_vector.push(f.cvss_vector.clone());
    }
    let report_id = store::insert_scan_report(
        &mut tx,
        &store::NewScanReport {
            artifact_id,
            scanner,
            scanner_version: report.scanner_version.as_deref(),
            target: report.target.as_deref(),
            target_digest: report.target_digest.as_deref(),
            content_sha256: &sha,
            finding_count: report.findings.len() as i32,
            uploaded_by,
        },
    )
    .await?;
    if let Some(id) = report_id {
        store::insert_scan_findings(&mut tx, id, &rows).await?;
        crate::queue::evaluate(&mut tx, &[artifact_id], "scan report").await?;
    }
    let named: Vec<String> = report
        .findings
        .iter()
        .flat_map(|f| std::iter::once(&f.vulnerability).chain(&f.aliases).cloned())
        .collect();
    let known_ids: std::collections::HashSet<String> = store::groups_of(&mut tx, &named)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let known = report
        .findings
        .iter()
        .filter(|f| {
            std::iter::once(&f.vulnerability)
                .chain(&f.aliases)
                .any(|i| known_ids.contains(i))
        })
        .count();
    tx.commit().await?;
    Ok(ScanIngested {
        artifact_id,
        report_id,
        scanner: scanner.into(),
        scanner_version: report.scanner_version,
        target: report.target,
        target_digest: report.target_digest,
        findings: report.findings.len(),
        with_purl: report.findings.iter().filter(|f| f.purl.is_some()).count(),
        known,
        created: report_id.is_some(),
    })
}
