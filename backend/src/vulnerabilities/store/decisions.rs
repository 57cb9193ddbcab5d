//! Triage decisions (VEX statements, manual analysis): appended, never
//! edited; a newer one supersedes the one it replaces.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// A triage decision as stored.
#[derive(sqlx::FromRow, Clone)]
pub struct DecisionRow {
    pub id: i64,
    pub vulnerability_id: i64,
    pub package_key: String,
    pub purl: Option<String>,
    pub scope: String,
    pub artifact_id: Option<i64>,
    pub project_id: Option<i64>,
    pub project: Option<String>,
    pub state: String,
    pub justification: Option<String>,
    pub comment: Option<String>,
    pub source: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
}

const DECISION_COLUMNS: &str = "d.id, d.vulnerability_id, d.package_key, d.purl, d.scope,
    d.artifact_id, d.project_id, (SELECT name FROM projects WHERE id = d.project_id) AS project,
    d.state, d.justification, d.comment, d.source, d.author, d.created_at, d.expires_at,
    d.superseded_at";

pub struct NewDecision<'a> {
    pub vulnerability_id: i64,
    pub package_key: &'a str,
    pub purl: Option<&'a str>,
    pub scope: &'a str,
    pub artifact_id: Option<i64>,
    pub project_id: Option<i64>,
    pub state: &'a str,
    pub justification: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub source: &'a str,
    pub author: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a decision, superseding the current one for the same target.
pub async fn insert_decision(
    tx: &mut PgConnection,
    d: &NewDecision<'_>,
) -> sqlx::Result<DecisionRow> {
    sqlx::query(
        "UPDATE triage_decisions SET superseded_at = now()
          WHERE superseded_at IS NULL AND vulnerability_id = $1 AND package_key = $2
            AND purl IS NOT DISTINCT FROM $3 AND scope = $4
            AND artifact_id IS NOT DISTINCT FROM $5 AND project_id IS NOT DISTINCT FROM $6",
    )
    .bind(d.vulnerability_id)
    .bind(d.package_key)
    .bind(d.purl)
    .bind(d.scope)
    .bind(d.artifact_id)
    .bind(d.project_id)
    .execute(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO triage_decisions (vulnerability_id, package_key, purl, scope, artifact_id,
                                       project_id, state, justification, comment, source, author,
                                       expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(d.vulnerability_id)
    .bind(d.package_key)
    .bind(d.purl)
    .bind(d.scope)
    .bind(d.artifact_id)
    .bind(d.project_id)
    .bind(d.state)
    .bind(d.justification)
    .bind(d.comment)
    .bind(d.source)
    .bind(d.author)
    .bind(d.expires_at)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM triage_decisions d WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await
}

/// The current (not superseded) decisions about these vulnerabilities.
pub async fn current_decisions(
    db: impl PgExecutor<'_>,
    groups: &[i64],
) -> sqlx::Result<Vec<DecisionRow>> {
    sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM triage_decisions d
          WHERE d.vulnerability_id = ANY($1) AND d.superseded_at IS NULL"
    ))
    .bind(groups)
    .fetch_all(db)
    .await
}

/// Decisions about a vulnerability, newest first (the history), one page
/// of up to `limit + 1` after the decision id `before`.
pub async fn decision_history(
    db: impl PgExecutor<'_>,
    group: i64,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<DecisionRow>> {
    sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM triage_decisions d
          WHERE d.vulnerability_id = $1 AND ($2::bigint IS NULL OR d.id < $2)
          ORDER BY d.id DESC LIMIT $3"
    ))
    .bind(group)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}
