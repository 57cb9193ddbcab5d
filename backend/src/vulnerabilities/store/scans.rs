//! Scanner reports (Grype, Trivy, OSV-Scanner) and their findings, as
//! uploaded for an artifact.

use sqlx::{PgConnection, PgExecutor};

pub struct NewScanReport<'a> {
    pub artifact_id: i64,
    pub scanner: &'a str,
    pub scanner_version: Option<&'a str>,
    pub target: Option<&'a str>,
    pub target_digest: Option<&'a str>,
    pub content_sha256: &'a [u8],
    pub finding_count: i32,
    pub uploaded_by: i64,
}

/// Stores a report; None when the artifact already has these exact bytes
/// from this scanner.
pub async fn insert_scan_report(
    tx: &mut PgConnection,
    r: &NewScanReport<'_>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO scan_reports (artifact_id, scanner, scanner_version, target, target_digest,
                                   content_sha256, finding_count, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (artifact_id, scanner, content_sha256) DO NOTHING RETURNING id",
    )
    .bind(r.artifact_id)
    .bind(r.scanner)
    .bind(r.scanner_version)
    .bind(r.target)
    .bind(r.target_digest)
    .bind(r.content_sha256)
    .bind(r.finding_count)
    .bind(r.uploaded_by)
    .fetch_optional(&mut *tx)
    .await
}

#[derive(Default)]
pub struct ScanFindingRows {
    pub ordinal: Vec<i32>,
    pub vulnerability: Vec<String>,
    pub aliases: Vec<String>,
    pub purl: Vec<Option<String>>,
    pub package_key: Vec<Option<String>>,
    pub package_type: Vec<String>,
    pub name: Vec<String>,
    pub version: Vec<String>,
    pub fixed_versions: Vec<String>,
    pub severity: Vec<Option<String>>,
    pub cvss_vector: Vec<Option<String>>,
}

pub async fn insert_scan_findings(
    tx: &mut PgConnection,
    report: i64,
    r: &ScanFindingRows,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO scan_findings (report_id, ordinal, vulnerability, aliases, purl, package_key,
                                    package_type, name, version, fixed_versions, severity, cvss_vector)
         SELECT $1, t.o, t.v, t.a::text[], t.p, t.k, t.ty, t.n, t.ver, t.f::text[], t.s, t.c
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
             AS t(o, v, a, p, k, ty, n, ver, f, s, c)",
    )
    .bind(report)
    .bind(&r.ordinal)
    .bind(&r.vulnerability)
    .bind(&r.aliases)
    .bind(&r.purl)
    .bind(&r.package_key)
    .bind(&r.package_type)
    .bind(&r.name)
    .bind(&r.version)
    .bind(&r.fixed_versions)
    .bind(&r.severity)
    .bind(&r.cvss_vector)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A finding of the artifact's latest report of each scanner, with the
/// vulnerability its id or an alias belongs to (when an advisory knows it).
#[derive(sqlx::FromRow)]
pub struct ScanFindingRow {
    pub scanner: String,
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub purl: Option<String>,
    pub package_key: Option<String>,
    pub package_type: String,
    pub name: String,
    pub version: String,
    pub fixed_versions: Vec<String>,
    pub severity: Option<String>,
    pub vulnerability_id: Option<i64>,
}

pub async fn latest_scan_findings(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Vec<ScanFindingRow>> {
    sqlx::query_as(
        "SELECT r.scanner, f.vulnerability, f.aliases, f.purl, f.package_key, f.package_type, f.name,
                f.version, f.fixed_versions, f.severity,
                (SELECT v.vulnerability_id FROM vulnerability_ids v
                  WHERE v.id = f.vulnerability OR v.id = ANY(f.aliases)
                  ORDER BY v.id = f.vulnerability DESC LIMIT 1) AS vulnerability_id
           FROM scan_reports r JOIN scan_findings f ON f.report_id = r.id
          WHERE r.artifact_id = $1
            AND r.id = (SELECT max(r2.id) FROM scan_reports r2
                         WHERE r2.artifact_id = r.artifact_id AND r2.scanner = r.scanner)
          ORDER BY r.scanner, f.ordinal",
    )
    .bind(artifact_id)
    .fetch_all(db)
    .await
}
