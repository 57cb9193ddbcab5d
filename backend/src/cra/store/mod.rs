//! The only SQL of the CRA capability: products, cases, submissions, and
//! what draft reports read of findings, advisories and the KEV catalog.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

/// The project's id, by name.
pub async fn project_id(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM projects WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct ProductRow {
    pub product: bool,
    pub member_states: Vec<String>,
    pub support_period_end: Option<NaiveDate>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn product(db: impl PgExecutor<'_>, project_id: i64) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as(
        "SELECT product, member_states, support_period_end, updated_by, updated_at
           FROM cra_products WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(db)
    .await
}

pub async fn upsert_product(
    conn: &mut PgConnection,
    project_id: i64,
    product: bool,
    member_states: &[String],
    support_period_end: Option<NaiveDate>,
    by: &str,
) -> sqlx::Result<ProductRow> {
    sqlx::query_as(
        "INSERT INTO cra_products (project_id, product, member_states, support_period_end, updated_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id) DO UPDATE
            SET product = EXCLUDED.product, member_states = EXCLUDED.member_states,
                support_period_end = EXCLUDED.support_period_end,
                updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING product, member_states, support_period_end, updated_by, updated_at",
    )
    .bind(project_id)
    .bind(product)
    .bind(member_states)
    .bind(support_period_end)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Records when Cairn first saw each of these KEV entries (kept across
/// imports, which replace `kev_entries`).
pub async fn kev_seen(
    conn: &mut PgConnection,
    cve_ids: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO kev_first_seen (cve_id, first_seen)
         SELECT c, $2 FROM unnest($1::text[]) AS c ON CONFLICT (cve_id) DO NOTHING",
    )
    .bind(cve_ids)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens the missing cases of exploited vulnerabilities: one per CRA
/// product and vulnerability with an open finding (not triaged
/// `not_affected` or `false_positive`) whose id or alias is in the KEV
/// catalog. `aware_at` is the earliest, over those findings, of the later
/// of the finding's first sighting and the KEV entry's. Only `project_id`'s
/// product, or every product. Answers the cases opened now.
pub async fn sync_cases(
    conn: &mut PgConnection,
    project_id: Option<i64>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "INSERT INTO cra_cases (project_id, kind, vulnerability_id, display_id, aware_at, opened_by)
         SELECT a.project_id, 'exploited_vulnerability', f.vulnerability_id, min(f.display_id),
                min(greatest(f.first_seen, k.first_seen)), 'kev'
           FROM findings f
           JOIN artifacts a ON a.id = f.artifact_id
           JOIN cra_products cp ON cp.project_id = a.project_id AND cp.product
           CROSS JOIN LATERAL (
               SELECT min(s.first_seen) AS first_seen
                 FROM vulnerability_ids v
                 JOIN kev_entries ke ON ke.cve_id = v.id
                 JOIN kev_first_seen s ON s.cve_id = v.id
                WHERE v.vulnerability_id = f.vulnerability_id) k
          WHERE f.resolved_at IS NULL AND f.state NOT IN ('not_affected', 'false_positive')
            AND k.first_seen IS NOT NULL
            AND ($1::bigint IS NULL OR a.project_id = $1)
          GROUP BY a.project_id, f.vulnerability_id
          ORDER BY a.project_id, f.vulnerability_id
         ON CONFLICT (project_id, vulnerability_id) DO NOTHING
         RETURNING id",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await
}

/// Alias groups `from` were merged into `into` (an import found they share
/// an alias): their cases follow, one per project (should a project have
/// cases of two merged groups, the others keep their old group id and
/// display id: a case is a record of what was reported, never dropped).
pub async fn follow_merge(conn: &mut PgConnection, into: i64, from: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE cra_cases SET vulnerability_id = $1
          WHERE id IN (SELECT DISTINCT ON (c.project_id) c.id FROM cra_cases c
                        WHERE c.vulnerability_id = ANY($2)
                          AND NOT EXISTS (SELECT 1 FROM cra_cases d
                                           WHERE d.project_id = c.project_id
                                             AND d.vulnerability_id = $1)
                        ORDER BY c.project_id, c.id)",
    )
    .bind(into)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(())
}

/// The artifact's project when it is a CRA product (evaluations of other
/// projects' artifacts skip the case sync; the clock's tick covers the rest).
pub async fn product_of_artifact(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT a.project_id FROM artifacts a
           JOIN cra_products p ON p.project_id = a.project_id AND p.product
          WHERE a.id = $1",
    )
    .bind(artifact_id)
    .fetch_optional(db)
    .await
}

/// A case as stored, with its project's name.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct CaseRow {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub kind: String,
    pub vulnerability_id: Option<i64>,
    pub display_id: Option<String>,
    pub title: Option<String>,
    pub aware_at: DateTime<Utc>,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub corrective_description: Option<String>,
    pub corrective_available_at: Option<DateTime<Utc>>,
    pub corrective_recorded_by: Option<String>,
    pub corrective_recorded_at: Option<DateTime<Utc>>,
    pub announced_early_warning: Option<DateTime<Utc>>,
    pub announced_notification: Option<DateTime<Utc>>,
    pub announced_final_report: Option<DateTime<Utc>>,
}

const CASE_COLUMNS: &str = "c.id, c.project_id, p.name AS project, c.kind, c.vulnerability_id,
    c.display_id, c.title, c.aware_at, c.opened_by, c.opened_at, c.corrective_description,
    c.corrective_available_at, c.corrective_recorded_by, c.corrective_recorded_at,
    c.announced_early_warning, c.announced_notification, c.announced_final_report";

pub async fn case(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cra_cases c JOIN projects p ON p.id = c.project_id
          WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The case, locked for a change (submissions, corrective measure).
pub async fn lock_case(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cra_cases c JOIN projects p ON p.id = c.project_id
          WHERE c.id = $1 FOR UPDATE OF c"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A project's cases by id, after the cursor id: up to `limit` rows.
pub async fn cases_of_project(
    db: impl PgExecutor<'_>,
    project_id: i64,
    after: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<CaseRow>> {
    sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cra_cases c JOIN projects p ON p.id = c.project_id
          WHERE c.project_id = $1 AND ($2::bigint IS NULL OR c.id > $2)
          ORDER BY c.id LIMIT $3"
    ))
    .bind(project_id)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Cases without a final report, of one project or of every project (the
/// dashboard and the deadline announcements), up to `limit`.
pub async fn unclosed_cases(
    db: impl PgExecutor<'_>,
    project_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<CaseRow>> {
    sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cra_cases c JOIN projects p ON p.id = c.project_id
          WHERE ($1::bigint IS NULL OR c.project_id = $1)
            AND NOT EXISTS (SELECT 1 FROM cra_submissions s
                             WHERE s.case_id = c.id AND s.stage = 'final_report')
          ORDER BY c.aware_at, c.id LIMIT $2"
    ))
    .bind(project_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(sqlx::FromRow, Clone, Debug)]
pub struct SubmissionRow {
    pub case_id: i64,
    pub stage: String,
    pub submitted_at: DateTime<Utc>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

pub async fn submissions(
    db: impl PgExecutor<'_>,
    case_ids: &[i64],
) -> sqlx::Result<Vec<SubmissionRow>> {
    sqlx::query_as(
        "SELECT case_id, stage, submitted_at, reference, note, recorded_by, recorded_at
           FROM cra_submissions WHERE case_id = ANY($1)
          ORDER BY case_id, CASE stage WHEN 'early_warning' THEN 0
                                       WHEN 'notification' THEN 1 ELSE 2 END",
    )
    .bind(case_ids)
    .fetch_all(db)
    .await
}

pub struct NewSubmission<'a> {
    pub case_id: i64,
    pub stage: &'a str,
    pub submitted_at: DateTime<Utc>,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
    pub recorded_by: &'a str,
}

pub async fn insert_submission(conn: &mut PgConnection, s: &NewSubmission<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO cra_submissions (case_id, stage, submitted_at, reference, note, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.case_id)
    .bind(s.stage)
    .bind(s.submitted_at)
    .bind(s.reference)
    .bind(s.note)
    .bind(s.recorded_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_corrective_measure(
    conn: &mut PgConnection,
    case_id: i64,
    description: &str,
    available_at: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE cra_cases SET corrective_description = $2, corrective_available_at = $3,
                corrective_recorded_by = $4, corrective_recorded_at = now(),
                announced_final_report = NULL
          WHERE id = $1",
    )
    .bind(case_id)
    .bind(description)
    .bind(available_at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewCase<'a> {
    pub project_id: i64,
    pub kind: &'a str,
    pub vulnerability_id: Option<i64>,
    pub display_id: Option<&'a str>,
    pub title: Option<&'a str>,
    pub aware_at: DateTime<Utc>,
    pub opened_by: &'a str,
}

/// Opens a case by hand; None when the project has one for the
/// vulnerability already.
pub async fn insert_case(conn: &mut PgConnection, c: &NewCase<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO cra_cases (project_id, kind, vulnerability_id, display_id, title, aware_at, opened_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (project_id, vulnerability_id) DO NOTHING RETURNING id",
    )
    .bind(c.project_id)
    .bind(c.kind)
    .bind(c.vulnerability_id)
    .bind(c.display_id)
    .bind(c.title)
    .bind(c.aware_at)
    .bind(c.opened_by)
    .fetch_optional(conn)
    .await
}

/// The case of a project and vulnerability, if there is one.
pub async fn case_of(
    db: impl PgExecutor<'_>,
    project_id: i64,
    vulnerability_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM cra_cases WHERE project_id = $1 AND vulnerability_id = $2")
        .bind(project_id)
        .bind(vulnerability_id)
        .fetch_optional(db)
        .await
}

/// Marks a stage's approaching deadline as announced; false when it already
/// was (another sync got there first): the announcement is sent once.
pub async fn mark_announced(
    conn: &mut PgConnection,
    case_id: i64,
    stage: &str,
) -> sqlx::Result<bool> {
    let column = match stage {
        "early_warning" => "announced_early_warning",
        "notification" => "announced_notification",
        _ => "announced_final_report",
    };
    let done = sqlx::query(&format!(
        "UPDATE cra_cases SET {column} = now() WHERE id = $1 AND {column} IS NULL"
    ))
    .bind(case_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every id and alias of these vulnerabilities.
pub async fn group_ids(
    db: impl PgExecutor<'_>,
    groups: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT vulnerability_id, id FROM vulnerability_ids
          WHERE vulnerability_id = ANY($1) ORDER BY id",
    )
    .bind(groups)
    .fetch_all(db)
    .await
}

/// An open finding of the vulnerability in the project, with its artifact.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct AffectedRow {
    pub artifact_id: i64,
    pub artifact: String,
    pub version: String,
    pub digest: Option<String>,
    pub purl: String,
    pub component_version: String,
    pub fixed_versions: Vec<String>,
}

/// The project's artifacts whose latest SBOM carries a component the
/// vulnerability affects (as the evaluation worker last recorded it).
pub async fn affected(
    db: impl PgExecutor<'_>,
    project_id: i64,
    vulnerability_id: i64,
) -> sqlx::Result<Vec<AffectedRow>> {
    sqlx::query_as(
        "SELECT a.id AS artifact_id, a.name AS artifact, a.version, a.digest, f.purl,
                f.version AS component_version, f.fixed_versions
           FROM findings f JOIN artifacts a ON a.id = f.artifact_id
          WHERE a.project_id = $1 AND f.vulnerability_id = $2 AND f.resolved_at IS NULL
          ORDER BY a.name, a.version, a.id, f.purl",
    )
    .bind(project_id)
    .bind(vulnerability_id)
    .fetch_all(db)
    .await
}

/// An advisory of the vulnerability, for the report.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct AdvisoryRow {
    pub id: String,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: String,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
}

pub async fn advisories(db: impl PgExecutor<'_>, group: i64) -> sqlx::Result<Vec<AdvisoryRow>> {
    sqlx::query_as(
        "SELECT id, summary, details, severity, cvss_score, cvss_vector FROM advisories
          WHERE vulnerability_id = $1 AND withdrawn IS NULL ORDER BY id",
    )
    .bind(group)
    .fetch_all(db)
    .await
}

/// The KEV entries of the vulnerability's ids and aliases.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct KevRow {
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    pub date_added: NaiveDate,
    pub short_description: Option<String>,
    pub notes: Option<String>,
    pub known_ransomware_use: Option<String>,
    pub required_action: Option<String>,
    pub cwes: Vec<String>,
}

pub async fn kev_of(db: impl PgExecutor<'_>, group: i64) -> sqlx::Result<Vec<KevRow>> {
    sqlx::query_as(
        "SELECT k.cve_id, k.vendor_project, k.product, k.name, k.date_added, k.short_description,
                k.notes, k.known_ransomware_use, k.required_action, k.cwes
           FROM vulnerability_ids v JOIN kev_entries k ON k.cve_id = v.id
          WHERE v.vulnerability_id = $1 ORDER BY k.cve_id",
    )
    .bind(group)
    .fetch_all(db)
    .await
}
