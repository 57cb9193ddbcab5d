//! Waivers: stored, listed, revoked, and those in force for an artifact.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::policies::core::engine::{AppliedWaiver, Waiver};

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WaiverRecord {
    pub id: i64,
    pub policy_set: Option<String>,
    pub rule: String,
    pub violation: Option<String>,
    pub artifact_id: Option<i64>,
    pub project: Option<String>,
    pub justification: String,
    pub approver: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Not revoked and not expired.
    pub active: bool,
}

const WAIVER: &str = "SELECT w.id, s.name AS policy_set, w.rule, w.violation, w.artifact_id,
           p.name AS project, w.justification, w.approver, w.expires_at, w.created_at,
           w.revoked_at, (w.revoked_at IS NULL AND w.expires_at > $1) AS active
      FROM waivers w
      LEFT JOIN policy_sets s ON s.id = w.policy_set_id
      LEFT JOIN projects p ON p.id = w.project_id";

pub struct NewWaiver<'a> {
    pub policy_set_id: Option<i64>,
    pub rule: &'a str,
    pub violation: Option<&'a str>,
    pub artifact_id: Option<i64>,
    pub project_id: Option<i64>,
    pub justification: &'a str,
    pub approver: &'a str,
    pub expires_at: DateTime<Utc>,
    pub created_by: i64,
}

pub async fn insert_waiver(conn: &mut PgConnection, w: &NewWaiver<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO waivers (policy_set_id, rule, violation, artifact_id, project_id,
                              justification, approver, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(w.policy_set_id)
    .bind(w.rule)
    .bind(w.violation)
    .bind(w.artifact_id)
    .bind(w.project_id)
    .bind(w.justification)
    .bind(w.approver)
    .bind(w.expires_at)
    .bind(w.created_by)
    .fetch_one(conn)
    .await
}

/// The waiver `id`, `active` as of `now`.
pub async fn get_waiver(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<WaiverRecord>> {
    sqlx::query_as(&format!("{WAIVER} WHERE w.id = $2"))
        .bind(now)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Waivers newest first, `limit` of them from before id `before`, `active`
/// as of `now`.
pub async fn list_waivers(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    active_only: bool,
    artifact_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<WaiverRecord>> {
    sqlx::query_as(&format!(
        "{WAIVER} WHERE (NOT $2 OR (w.revoked_at IS NULL AND w.expires_at > $1))
           AND ($3::bigint IS NULL OR w.artifact_id = $3
                OR w.project_id = (SELECT project_id FROM artifacts WHERE id = $3))
           AND ($4::bigint IS NULL OR w.id < $4)
         ORDER BY w.id DESC LIMIT $5"
    ))
    .bind(now)
    .bind(active_only)
    .bind(artifact_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes; returns the artifacts to re-evaluate (None: no such live waiver).
pub async fn revoke_waiver(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Vec<i64>>> {
    let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "UPDATE waivers SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
         RETURNING artifact_id, project_id",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((artifact, project)) = row else {
        return Ok(None);
    };
    Ok(Some(waiver_artifacts(conn, artifact, project).await?))
}

pub async fn waiver_artifacts(
    conn: &mut PgConnection,
    artifact: Option<i64>,
    project: Option<i64>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM artifacts WHERE id = $1 OR project_id = $2")
        .bind(artifact)
        .bind(project)
        .fetch_all(conn)
        .await
}

/// Waivers in force now for an artifact (its own and its project's).
pub async fn waivers_for(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    project_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Waiver>> {
    let rows: Vec<InForceRow> = sqlx::query_as(
        "SELECT id, policy_set_id, rule, violation, justification, approver, expires_at
               FROM waivers
              WHERE (artifact_id = $1 OR project_id = $2) AND revoked_at IS NULL AND expires_at > $3
              ORDER BY id",
    )
    .bind(artifact_id)
    .bind(project_id)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A waiver in force, as the engine applies it.
#[derive(sqlx::FromRow)]
struct InForceRow {
    id: i64,
    policy_set_id: Option<i64>,
    rule: String,
    violation: Option<String>,
    justification: String,
    approver: String,
    expires_at: DateTime<Utc>,
}

impl From<InForceRow> for Waiver {
    fn from(r: InForceRow) -> Self {
        Waiver {
            policy_set_id: r.policy_set_id,
            rule: r.rule,
            applied: AppliedWaiver {
                id: r.id,
                violation: r.violation,
                justification: r.justification,
                approver: r.approver,
                expires_at: r.expires_at,
            },
        }
    }
}
