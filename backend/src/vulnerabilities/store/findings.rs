//! Materialised findings (`findings`, `finding_history`): what the
//! evaluation worker last matched for each artifact, and every change.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

/// A stored finding's identity and when it was seen.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct Seen {
    pub vulnerability_id: i64,
    pub purl: String,
    pub package: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// As last seen.
    pub severity: String,
    pub kev: bool,
}

/// Every stored finding of the artifact, open or resolved.
pub async fn of_artifact(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<Vec<Seen>> {
    sqlx::query_as(
        "SELECT vulnerability_id, purl, package, first_seen, last_seen, resolved_at, severity, kev
           FROM findings WHERE artifact_id = $1",
    )
    .bind(artifact_id)
    .fetch_all(db)
    .await
}

/// What the worker writes for the findings it matched now (columns).
#[derive(Default)]
pub struct CurrentRows {
    pub vulnerability_id: Vec<i64>,
    pub purl: Vec<String>,
    pub package: Vec<String>,
    pub package_key: Vec<String>,
    pub version: Vec<String>,
    /// Postgres array literals (`{"v1.2.3"}`): UNNEST cannot take text[][].
    pub fixed_versions: Vec<String>,
    pub display_id: Vec<String>,
    pub severity: Vec<String>,
    pub severity_rank: Vec<i16>,
    pub kev: Vec<bool>,
    pub state: Vec<String>,
    /// JSON text, or NULL.
    pub reachability: Vec<Option<String>>,
}

/// Stores the current findings: new ones from `now`, known ones seen again
/// (and reopened if they were resolved).
pub async fn upsert(
    conn: &mut PgConnection,
    artifact_id: i64,
    r: &CurrentRows,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if r.vulnerability_id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO findings (artifact_id, vulnerability_id, purl, package, package_key,
                               version, fixed_versions, display_id, severity, severity_rank,
                               kev, state, reachability, first_seen, last_seen)
         SELECT $1, v, p, k, pk, ver, fixed::text[], d, s, r, kev, st, re::jsonb, $13, $13
           FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::smallint[], $11::bool[], $12::text[],
                       $14::text[])
                AS x(v, p, k, pk, ver, fixed, d, s, r, kev, st, re)
         ON CONFLICT (artifact_id, vulnerability_id, purl, package) DO UPDATE
            SET package_key = EXCLUDED.package_key, version = EXCLUDED.version,
                fixed_versions = EXCLUDED.fixed_versions, display_id = EXCLUDED.display_id,
                severity = EXCLUDED.severity, severity_rank = EXCLUDED.severity_rank,
                kev = EXCLUDED.kev, state = EXCLUDED.state,
                reachability = EXCLUDED.reachability, last_seen = EXCLUDED.last_seen, resolved_at = NULL",
    )
    .bind(artifact_id)
    .bind(&r.vulnerability_id)
    .bind(&r.purl)
    .bind(&r.package)
    .bind(&r.package_key)
    .bind(&r.version)
    .bind(&r.fixed_versions)
    .bind(&r.display_id)
    .bind(&r.severity)
    .bind(&r.severity_rank)
    .bind(&r.kev)
    .bind(&r.state)
    .bind(now)
    .bind(&r.reachability)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks findings matching no longer reports as resolved.
pub async fn resolve(
    conn: &mut PgConnection,
    artifact_id: i64,
    keys: &[(i64, String, String)],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let (v, p, k): (Vec<i64>, Vec<String>, Vec<String>) = split3(keys);
    sqlx::query(
        "UPDATE findings f SET resolved_at = $5
           FROM UNNEST($2::bigint[], $3::text[], $4::text[]) AS x(v, p, k)
          WHERE f.artifact_id = $1 AND f.vulnerability_id = x.v AND f.purl = x.p
            AND f.package = x.k AND f.resolved_at IS NULL",
    )
    .bind(artifact_id)
    .bind(&v)
    .bind(&p)
    .bind(&k)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

fn split3(keys: &[(i64, String, String)]) -> (Vec<i64>, Vec<String>, Vec<String>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (v, p, k) in keys {
        out.0.push(*v);
        out.1.push(p.clone());
        out.2.push(k.clone());
    }
    out
}

/// One change of a finding, for the history.
pub struct Change {
    pub vulnerability_id: i64,
    pub purl: String,
    pub package: String,
    /// `appeared`, `resolved` or `reappeared`.
    pub change: &'static str,
    pub severity: String,
    pub kev: bool,
}

pub async fn record_changes(
    conn: &mut PgConnection,
    artifact_id: i64,
    changes: &[Change],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&Change) -> String| changes.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO finding_history (artifact_id, vulnerability_id, purl, package, change,
                                      severity, kev, at)
         SELECT $1, *, $8 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[],
                                      $6::text[], $7::bool[])",
    )
    .bind(artifact_id)
    .bind(
        changes
            .iter()
            .map(|c| c.vulnerability_id)
            .collect::<Vec<_>>(),
    )
    .bind(col(|c| c.purl.clone()))
    .bind(col(|c| c.package.clone()))
    .bind(col(|c| c.change.to_string()))
    .bind(col(|c| c.severity.clone()))
    .bind(changes.iter().map(|c| c.kev).collect::<Vec<_>>())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A change as the history lists it.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct HistoryRow {
    pub id: i64,
    pub vulnerability_id: i64,
    pub display_id: Option<String>,
    pub purl: String,
    pub package: String,
    pub change: String,
    pub severity: String,
    pub kev: bool,
    pub at: DateTime<Utc>,
}

/// The artifact's changes, newest first, after the cursor's id.
pub async fn history(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "SELECT h.id, h.vulnerability_id, f.display_id, h.purl, h.package, h.change, h.severity,
                h.kev, h.at
           FROM finding_history h
           LEFT JOIN findings f ON f.artifact_id = h.artifact_id
                AND f.vulnerability_id = h.vulnerability_id AND f.purl = h.purl
                AND f.package = h.package
          WHERE h.artifact_id = $1 AND ($2::bigint IS NULL OR h.id < $2)
          ORDER BY h.id DESC LIMIT $3",
    )
    .bind(artifact_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Filters of the portfolio list.
#[derive(Default)]
pub struct PortfolioFilter<'a> {
    pub min_rank: Option<i16>,
    pub kev: Option<bool>,
    pub project: Option<&'a str>,
    /// Count only findings not triaged away (`not_affected`,
    /// `false_positive`, `fixed`).
    pub open_only: bool,
}

/// One vulnerability of the portfolio with how much of it is affected.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct PortfolioRow {
    pub vulnerability_id: i64,
    pub display_id: String,
    pub severity: String,
    pub severity_rank: i16,
    pub kev: bool,
    pub findings: i64,
    pub artifacts: i64,
    pub projects: i64,
    /// Findings still to decide or affected (not triaged away).
    pub open: i64,
    pub first_seen: DateTime<Utc>,
}

const TRIAGED_AWAY: &str = "('not_affected', 'false_positive', 'fixed')";

/// The portfolio's vulnerabilities with open findings, most severe first;
/// keyset on (rank descending, vulnerability id).
pub async fn portfolio(
    db: impl PgExecutor<'_>,
    f: &PortfolioFilter<'_>,
    after: Option<(i16, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<PortfolioRow>> {
    sqlx::query_as(&format!(
        "SELECT f.vulnerability_id, min(f.display_id) AS display_id,
                (array_agg(f.severity ORDER BY f.severity_rank DESC))[1] AS severity,
                max(f.severity_rank) AS severity_rank, bool_or(f.kev) AS kev,
                count(*) AS findings, count(DISTINCT f.artifact_id) AS artifacts,
                count(DISTINCT a.project_id) AS projects,
                count(*) FILTER (WHERE f.state NOT IN {TRIAGED_AWAY}) AS open,
                min(f.first_seen) AS first_seen
           FROM findings f JOIN artifacts a ON a.id = f.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE f.resolved_at IS NULL
            AND ($1::smallint IS NULL OR f.severity_rank >= $1)
            AND ($2::bool IS NULL OR f.kev = $2)
            AND ($3::text IS NULL OR p.name = $3)
            AND (NOT $4 OR f.state NOT IN {TRIAGED_AWAY})
          GROUP BY f.vulnerability_id
         HAVING ($5::smallint IS NULL OR (max(f.severity_rank), -f.vulnerability_id) < ($5, -$6::bigint))
          ORDER BY max(f.severity_rank) DESC, f.vulnerability_id
          LIMIT $7"
    ))
    .bind(f.min_rank)
    .bind(f.kev)
    .bind(f.project)
    .bind(f.open_only)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Distinct totals of open findings (not triaged away).
#[derive(sqlx::FromRow)]
pub struct Totals {
    pub vulnerabilities: i64,
    pub kev_vulnerabilities: i64,
    pub findings: i64,
}

pub async fn totals(db: impl PgExecutor<'_>, project: Option<&str>) -> sqlx::Result<Totals> {
    sqlx::query_as(&format!(
        "SELECT count(DISTINCT f.vulnerability_id) AS vulnerabilities,
                count(DISTINCT f.vulnerability_id) FILTER (WHERE f.kev) AS kev_vulnerabilities,
                count(*) AS findings
           FROM findings f JOIN artifacts a ON a.id = f.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE f.resolved_at IS NULL AND f.state NOT IN {TRIAGED_AWAY}
            AND ($1::text IS NULL OR p.name = $1)"
    ))
    .bind(project)
    .fetch_one(db)
    .await
}

/// Open findings per severity (distinct vulnerabilities and findings).
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct SeverityCount {
    pub severity: String,
    pub vulnerabilities: i64,
    pub findings: i64,
    pub kev_vulnerabilities: i64,
    pub artifacts: i64,
}

pub async fn counts(
    db: impl PgExecutor<'_>,
    project: Option<&str>,
) -> sqlx::Result<Vec<SeverityCount>> {
    sqlx::query_as(&format!(
        "SELECT f.severity, count(DISTINCT f.vulnerability_id) AS vulnerabilities,
                count(*) AS findings,
                count(DISTINCT f.vulnerability_id) FILTER (WHERE f.kev) AS kev_vulnerabilities,
                count(DISTINCT f.artifact_id) AS artifacts
           FROM findings f JOIN artifacts a ON a.id = f.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE f.resolved_at IS NULL AND f.state NOT IN {TRIAGED_AWAY}
            AND ($1::text IS NULL OR p.name = $1)
          GROUP BY f.severity"
    ))
    .bind(project)
    .fetch_all(db)
    .await
}

/// Net finding changes per day and severity since `from` (the trend is
/// their running sum on top of what was open before `from`).
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct DayChange {
    pub day: NaiveDate,
    pub severity: String,
    pub delta: i64,
}

pub async fn daily_changes(
    db: impl PgExecutor<'_>,
    project: Option<&str>,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<DayChange>> {
    sqlx::query_as(
        "SELECT CASE WHEN h.at < $2 THEN ($2 AT TIME ZONE 'UTC')::date - 1
                     ELSE (h.at AT TIME ZONE 'UTC')::date END AS day,
                h.severity,
                sum(CASE WHEN h.change = 'resolved' THEN -1 ELSE 1 END)::bigint AS delta
           FROM finding_history h JOIN artifacts a ON a.id = h.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE ($1::text IS NULL OR p.name = $1)
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(project)
    .bind(from)
    .fetch_all(db)
    .await
}

/// One open finding of a vulnerability, with its artifact.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct AffectedRow {
    pub artifact_id: i64,
    pub project_id: i64,
    pub project: String,
    pub artifact: String,
    pub artifact_version: String,
    pub purl: String,
    pub package: String,
    pub package_key: String,
    pub version: String,
    pub fixed_versions: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// As `findings.reachability` holds it (the service reads it).
    pub reachability: Option<Json<serde_json::Value>>,
}

pub async fn open_of_vulnerability(
    db: impl PgExecutor<'_>,
    vulnerability_id: i64,
) -> sqlx::Result<Vec<AffectedRow>> {
    sqlx::query_as(
        "SELECT f.artifact_id, p.id AS project_id, p.name AS project, a.name AS artifact,
                a.version AS artifact_version, f.purl, f.package, f.package_key, f.version,
                f.fixed_versions, f.first_seen, f.last_seen, f.reachability
           FROM findings f JOIN artifacts a ON a.id = f.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE f.vulnerability_id = $1 AND f.resolved_at IS NULL
          ORDER BY p.name, a.name, a.version, f.purl",
    )
    .bind(vulnerability_id)
    .fetch_all(db)
    .await
}

/// Whether any artifact waits for (re-)evaluation: the materialised rows
/// may then be behind the evidence.
pub async fn any_pending(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_queue WHERE dead_at IS NULL)")
        .fetch_one(db)
        .await
}
