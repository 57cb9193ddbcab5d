//! The only SQL of compliance reports: the releases in scope, their
//! evaluations and evidence as of a time, control statements, the report
//! signing key.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::policies::core::engine::RuleResult;

#[derive(Debug, Clone, FromRow)]
pub struct Release {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub name: String,
    pub version: String,
    pub digest: Option<String>,
}

/// The artifacts in scope that existed at `at`: a project's (one version of
/// it, or all), or every project's. At most `limit` rows.
pub async fn releases(
    db: impl PgExecutor<'_>,
    project_id: Option<i64>,
    version: Option<&str>,
    at: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Release>> {
    sqlx::query_as(
        "SELECT a.id, a.project_id, p.name AS project, a.name, a.version, a.digest
           FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE ($1::bigint IS NULL OR a.project_id = $1)
            AND ($2::text IS NULL OR a.version = $2)
            AND a.created_at <= $3
          ORDER BY p.name, a.name, a.version, a.id
          LIMIT $4",
    )
    .bind(project_id)
    .bind(version)
    .bind(at)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct Evaluation {
    pub id: i64,
    pub artifact_id: i64,
    pub policy_set: String,
    pub version: i32,
    pub evaluated_at: DateTime<Utc>,
    #[sqlx(json)]
    pub results: Vec<RuleResult>,
}

/// Each live set's latest evaluation of these artifacts made at or before `at`.
pub async fn evaluations(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<Evaluation>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (e.artifact_id, e.policy_set_id)
                e.id, e.artifact_id, s.name AS policy_set, e.version, e.evaluated_at, e.results
           FROM policy_evaluations e JOIN policy_sets s ON s.id = e.policy_set_id
          WHERE e.artifact_id = ANY($1) AND e.evaluated_at <= $2 AND s.deleted_at IS NULL
          ORDER BY e.artifact_id, e.policy_set_id, e.id DESC",
    )
    .bind(artifact_ids)
    .bind(at)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct Sbom {
    pub id: i64,
    pub artifact_id: i64,
    pub content_sha256: Vec<u8>,
    pub format: String,
    pub spec_version: String,
    pub component_count: i32,
    pub uploaded_at: DateTime<Utc>,
    /// The scores stored at ingestion (NULL until the backfill reaches an
    /// older SBOM).
    pub quality: Option<sqlx::types::Json<crate::sboms::core::quality::QualitySummary>>,
}

/// Each artifact's latest SBOM uploaded at or before `at`, and any other
/// SBOMs cited by id.
pub async fn sboms(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    cited: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<Sbom>> {
    sqlx::query_as(
        "(SELECT DISTINCT ON (artifact_id) id, artifact_id, content_sha256, format, spec_version,
                 component_count, uploaded_at, quality
            FROM sboms WHERE artifact_id = ANY($1) AND uploaded_at <= $3
           ORDER BY artifact_id, uploaded_at DESC, id DESC)
         UNION
         SELECT id, artifact_id, content_sha256, format, spec_version, component_count, uploaded_at,
                quality
           FROM sboms WHERE id = ANY($2)",
    )
    .bind(artifact_ids)
    .bind(cited)
    .bind(at)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct Run {
    pub id: i64,
    pub provider: String,
    pub repository: String,
    pub head_sha: Option<String>,
    pub conclusion: Option<String>,
    pub url: Option<String>,
}

/// CI runs of these commits (or cited by id) recorded at or before `at`.
pub async fn runs(
    db: impl PgExecutor<'_>,
    commits: &[String],
    cited: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<Run>> {
    sqlx::query_as(
        "SELECT id, provider, repository, head_sha, conclusion, url FROM ci_runs
          WHERE (head_sha = ANY($1) OR id = ANY($2)) AND created_at <= $3
          ORDER BY id LIMIT 500",
    )
    .bind(commits)
    .bind(cited)
    .bind(at)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct OpenFinding {
    pub artifact_id: i64,
    pub display_id: String,
    pub purl: String,
    pub package: String,
    pub severity: String,
    pub kev: bool,
    pub state: String,
    /// A current VEX decision (imported from OpenVEX, CycloneDX or CSAF)
    /// covers it: its id.
    pub vex_id: Option<i64>,
    pub vex_state: Option<String>,
}

/// The open findings of these artifacts first seen at or before `at`, with
/// the VEX decision that covers each, if any.
pub async fn findings(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<OpenFinding>> {
    sqlx::query_as(
        "SELECT f.artifact_id, f.display_id, f.purl, f.package, f.severity, f.kev, f.state,
                v.id AS vex_id, v.state AS vex_state
           FROM findings f
           JOIN artifacts a ON a.id = f.artifact_id
           LEFT JOIN LATERAL (
                SELECT d.id, d.state FROM triage_decisions d
                 WHERE d.vulnerability_id = f.vulnerability_id AND d.package_key = f.package_key
                   AND d.superseded_at IS NULL AND d.source <> 'manual' AND d.created_at <= $2
                   AND (d.purl IS NULL OR d.purl = f.purl)
                   AND (d.scope = 'portfolio' OR d.artifact_id = f.artifact_id
                        OR d.project_id = a.project_id)
                 ORDER BY d.id DESC LIMIT 1) v ON true
          WHERE f.artifact_id = ANY($1) AND f.resolved_at IS NULL AND f.first_seen <= $2
          ORDER BY f.artifact_id, f.severity_rank DESC, f.display_id, f.purl",
    )
    .bind(artifact_ids)
    .bind(at)
    .fetch_all(db)
    .await
}

/// Whether any advisory was imported at or before `at` (matching against
/// nothing is no analysis).
pub async fn advisories_known(db: impl PgExecutor<'_>, at: DateTime<Utc>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM advisories WHERE imported_at <= $1)")
        .bind(at)
        .fetch_one(db)
        .await
}

/// Artifacts still waiting for (re-)evaluation and matching.
pub async fn pending(db: impl PgExecutor<'_>, artifact_ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT artifact_id FROM policy_queue WHERE artifact_id = ANY($1)")
        .bind(artifact_ids)
        .fetch_all(db)
        .await
}

#[derive(Debug, Clone, FromRow)]
pub struct CiDefinition {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub file: String,
    pub finding_count: i32,
}

/// The latest upload of each CI definition file of these projects.
pub async fn ci_definitions(
    db: impl PgExecutor<'_>,
    project_ids: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<CiDefinition>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (project_id, kind, file) id, project_id, kind, file, finding_count
           FROM ci_definitions WHERE project_id = ANY($1) AND uploaded_at <= $2
          ORDER BY project_id, kind, file, id DESC",
    )
    .bind(project_ids)
    .bind(at)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct GoBuild {
    pub id: i64,
    pub artifact_id: i64,
    pub source: String,
    pub go_version: Option<String>,
}

/// Each artifact's latest Go build info.
pub async fn go_builds(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<GoBuild>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (artifact_id) id, artifact_id, source, go_version
           FROM go_builds WHERE artifact_id = ANY($1) AND uploaded_at <= $2
          ORDER BY artifact_id, id DESC",
    )
    .bind(artifact_ids)
    .bind(at)
    .fetch_all(db)
    .await
}

// --- control statements -------------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct StatementRow {
    pub id: i64,
    pub framework: String,
    pub control: String,
    pub project: Option<String>,
    pub status: String,
    pub statement: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

const STATEMENT: &str = "SELECT s.id, s.framework, s.control, p.name AS project, s.status,
        s.statement, s.author, s.created_at, s.expires_at, s.withdrawn_at
   FROM control_statements s LEFT JOIN projects p ON p.id = s.project_id";

pub struct NewStatement<'a> {
    pub framework: &'a str,
    pub control: &'a str,
    pub project_id: Option<i64>,
    pub status: &'a str,
    pub statement: &'a str,
    pub author: &'a str,
    pub created_by: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert_statement(
    conn: &mut PgConnection,
    s: &NewStatement<'_>,
) -> sqlx::Result<StatementRow> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO control_statements
           (framework, control, project_id, status, statement, author, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(s.framework)
    .bind(s.control)
    .bind(s.project_id)
    .bind(s.status)
    .bind(s.statement)
    .bind(s.author)
    .bind(s.created_by)
    .bind(s.expires_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(get_statement(&mut *conn, id).await?.expect("just inserted"))
}

pub async fn get_statement(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<StatementRow>> {
    sqlx::query_as(&format!("{STATEMENT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Withdraws a statement; false when there is none (or it was withdrawn).
pub async fn withdraw_statement(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let n = sqlx::query(
        "UPDATE control_statements SET withdrawn_at = now() WHERE id = $1 AND withdrawn_at IS NULL",
    )
    .bind(id)
    .execute(db)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Statements, newest first, keyset-paged on id; filtered by framework and
/// project (`Some(None)`: organisation-wide only).
pub async fn list_statements(
    db: impl PgExecutor<'_>,
    framework: Option<&str>,
    project_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<StatementRow>> {
    sqlx::query_as(&format!(
        "{STATEMENT} WHERE s.withdrawn_at IS NULL
            AND ($1::text IS NULL OR s.framework = $1)
            AND ($2::bigint IS NULL OR s.project_id = $2)
            AND ($3::bigint IS NULL OR s.id < $3)
          ORDER BY s.id DESC LIMIT $4"
    ))
    .bind(framework)
    .bind(project_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The statements that count for a framework in these projects at `at`:
/// per (control, project) the newest made by then and not withdrawn by
/// then (expired ones included: the report says they expired).
pub async fn statements_at(
    conn: &mut PgConnection,
    framework: &str,
    project_ids: &[i64],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<(Option<i64>, StatementRow)>> {
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT DISTINCT ON (control, project_id) project_id, id FROM control_statements
          WHERE framework = $1 AND (project_id IS NULL OR project_id = ANY($2))
            AND created_at <= $3 AND (withdrawn_at IS NULL OR withdrawn_at > $3)
          ORDER BY control, project_id, created_at DESC, id DESC",
    )
    .bind(framework)
    .bind(project_ids)
    .bind(at)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let full: Vec<StatementRow> = sqlx::query_as(&format!("{STATEMENT} WHERE s.id = ANY($1)"))
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(p, id)| full.iter().find(|s| s.id == id).map(|s| (p, s.clone())))
        .collect())
}

// --- the report key ------------------------------------------------------------------

/// The stored report signing key, if one was made.
pub async fn stored_report_key(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = 'report_signing_key'")
        .fetch_optional(db)
        .await
}

/// The instance's report signing key (PKCS#8), made once and kept in the
/// database so every instance sharing it signs with the same key.
pub async fn report_key(db: &sqlx::PgPool, fresh: Vec<u8>) -> sqlx::Result<Vec<u8>> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('report_signing_key', $1) ON CONFLICT DO NOTHING",
    )
    .bind(&fresh)
    .execute(db)
    .await?;
    sqlx::query_scalar("SELECT value FROM settings WHERE key = 'report_signing_key'")
        .fetch_one(db)
        .await
}

/// Project names, for the dashboard's picker.
pub async fn project_names(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM projects ORDER BY name LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await
}

// --- the dashboard's trend ---------------------------------------------------------------

#[derive(Debug, Clone, FromRow)]
pub struct Snapshot {
    pub day: chrono::NaiveDate,
    pub framework: String,
    pub percent_satisfied: f64,
}

/// Records a framework's portfolio summary for `at`'s day (a later one the
/// same day replaces it).
pub async fn record_snapshot(
    db: impl PgExecutor<'_>,
    framework: &str,
    s: &super::core::report::Summary,
    releases: usize,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compliance_snapshots
           (day, framework, percent_satisfied, satisfied, not_satisfied, partial, manual, releases, taken_at)
         VALUES (($9::timestamptz AT TIME ZONE 'UTC')::date, $1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (framework, day) DO UPDATE SET
           percent_satisfied = EXCLUDED.percent_satisfied, satisfied = EXCLUDED.satisfied,
           not_satisfied = EXCLUDED.not_satisfied, partial = EXCLUDED.partial,
           manual = EXCLUDED.manual, releases = EXCLUDED.releases, taken_at = EXCLUDED.taken_at
         WHERE compliance_snapshots.taken_at <= EXCLUDED.taken_at",
    )
    .bind(framework)
    .bind(s.percent_satisfied)
    .bind(s.satisfied as i32)
    .bind(s.not_satisfied as i32)
    .bind(s.partial as i32)
    .bind(s.manual as i32)
    .bind(releases as i32)
    .bind(at)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// The snapshots of the last `days` days up to `at`, oldest first.
pub async fn snapshots(
    db: impl PgExecutor<'_>,
    days: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<Snapshot>> {
    sqlx::query_as(
        "SELECT day, framework, percent_satisfied FROM compliance_snapshots
          WHERE day > ($2::timestamptz AT TIME ZONE 'UTC')::date - $1
            AND day <= ($2::timestamptz AT TIME ZONE 'UTC')::date
          ORDER BY day, framework",
    )
    .bind(days)
    .bind(at)
    .fetch_all(db)
    .await
}
