//! The evaluation queue: what waits to be (re-)evaluated, claiming it,
//! retries and dead letters.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::policies::core::engine::Scope;

/// `*` globs as LIKE patterns.
fn like_patterns(globs: &[String]) -> Vec<String> {
    globs
        .iter()
        .map(|g| {
            g.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
                .replace('*', "%")
        })
        .collect()
}

/// Queues the artifacts a set (now) applies to, and those it was evaluated on.
pub async fn enqueue_for_set(
    conn: &mut PgConnection,
    policy_set_id: i64,
    scope: &Scope,
    reason: &str,
) -> sqlx::Result<u64> {
    let all = scope.projects.is_empty() && scope.tags.is_empty();
    let r = sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason)
         SELECT a.id, $5 FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE $1
             OR p.name LIKE ANY($2)
             OR EXISTS (SELECT 1 FROM project_tags t WHERE t.project_id = p.id AND t.tag = ANY($3))
             OR EXISTS (SELECT 1 FROM policy_latest l WHERE l.artifact_id = a.id AND l.policy_set_id = $4)
         ON CONFLICT (artifact_id) DO UPDATE SET next_attempt_at = now(), reason = EXCLUDED.reason",
    )
    .bind(all)
    .bind(like_patterns(&scope.projects))
    .bind(&scope.tags)
    .bind(policy_set_id)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Claims due artifacts; the caller's transaction holds them.
pub async fn claim(conn: &mut PgConnection, batch: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT artifact_id, reason FROM policy_queue
          WHERE next_attempt_at <= now() AND dead_at IS NULL
          ORDER BY next_attempt_at, artifact_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// Locks this artifact's queue entry if it has one no one else holds.
pub async fn claim_one(conn: &mut PgConnection, artifact_id: i64) -> sqlx::Result<bool> {
    let row: Option<i64> = sqlx::query_scalar(
        "SELECT artifact_id FROM policy_queue WHERE artifact_id = $1 AND dead_at IS NULL
            FOR UPDATE SKIP LOCKED",
    )
    .bind(artifact_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

pub async fn dequeue(conn: &mut PgConnection, artifact_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM policy_queue WHERE artifact_id = ANY($1)")
        .bind(artifact_ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Dead-letters an evaluation that never completes: it stays queued (the
/// gate reports it) but is not claimed again until replayed.
pub async fn dead_letter(
    conn: &mut PgConnection,
    artifact_id: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason, attempts, dead_at, last_error)
         VALUES ($1, 'gate', 1, now(), $2)
         ON CONFLICT (artifact_id) DO UPDATE
            SET dead_at = now(), last_error = $2, attempts = policy_queue.attempts + 1",
    )
    .bind(artifact_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// A queued evaluation that was dead-lettered.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct DeadEvaluation {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
    /// What last queued it.
    pub reason: String,
    pub attempts: i32,
    pub dead_at: DateTime<Utc>,
    /// Why it was dead-lettered.
    pub error: Option<String>,
}

/// Dead-lettered evaluations, newest first, after the keyset cursor
/// `(dead_at, artifact_id)`.
pub async fn dead_evaluations(
    db: impl PgExecutor<'_>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<DeadEvaluation>> {
    sqlx::query_as(
        "SELECT q.artifact_id, p.name AS project, a.name AS artifact, a.version, q.reason,
                q.attempts, q.dead_at, q.last_error AS error
           FROM policy_queue q JOIN artifacts a ON a.id = q.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE q.dead_at IS NOT NULL
            AND ($1::timestamptz IS NULL OR (q.dead_at, q.artifact_id) < ($1, $2))
          ORDER BY q.dead_at DESC, q.artifact_id DESC LIMIT $3",
    )
    .bind(after.map(|a| a.0))
    .bind(after.map_or(0, |a| a.1))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Puts a dead-lettered evaluation back in the queue with fresh attempts.
/// False when the artifact has no dead-lettered evaluation.
pub async fn replay_dead(conn: &mut PgConnection, artifact_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE policy_queue SET dead_at = NULL, attempts = 0, last_error = NULL,
                next_attempt_at = now(), reason = 'replay'
          WHERE artifact_id = $1 AND dead_at IS NOT NULL",
    )
    .bind(artifact_id)
    .execute(&mut *conn)
    .await?;
    crate::queue::clear(&mut *conn, crate::queue::Queue::Policy, &[artifact_id]).await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: retried after `backoff_secs`.
pub async fn retry_later(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    error: &str,
    backoff_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE policy_queue SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3 * power(2, least(attempts, 10)))
          WHERE artifact_id = ANY($1)",
    )
    .bind(artifact_ids)
    .bind(error)
    .bind(backoff_secs)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn queued(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_queue WHERE artifact_id = $1)")
        .bind(artifact_id)
        .fetch_one(db)
        .await
}

/// Why this artifact's evaluation was dead-lettered, if it was.
pub async fn dead_reason(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT coalesce(last_error, 'dead-lettered') FROM policy_queue
          WHERE artifact_id = $1 AND dead_at IS NOT NULL",
    )
    .bind(artifact_id)
    .fetch_optional(db)
    .await
}

pub async fn queue_length(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM policy_queue")
        .fetch_one(db)
        .await
}

/// Queues the artifacts of waivers that expired, once.
pub async fn enqueue_expired_waivers(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "WITH expired AS (
            UPDATE waivers SET expiry_queued = true
             WHERE expires_at <= $1 AND NOT expiry_queued AND revoked_at IS NULL
         RETURNING artifact_id, project_id)
         INSERT INTO policy_queue (artifact_id, reason)
         SELECT a.id, 'waiver-expired' FROM artifacts a, expired e
          WHERE a.id = e.artifact_id OR a.project_id = e.project_id
         ON CONFLICT (artifact_id) DO UPDATE SET next_attempt_at = now(), reason = EXCLUDED.reason",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Queues the artifacts whose latest results no longer hold (their evidence
/// aged past a freshness rule's limit). An artifact already queued keeps its
/// place; its new results hold until a later time, or not at all.
pub async fn enqueue_aged(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason)
         SELECT DISTINCT artifact_id, 'evidence-aged' FROM policy_latest WHERE holds_until <= $1
         ON CONFLICT (artifact_id) DO NOTHING",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs_become_like_patterns_with_like_metacharacters_escaped() {
        let globs = ["web-*".to_owned(), "a_b%c\\d".to_owned(), "*".to_owned()];
        assert_eq!(
            super::like_patterns(&globs),
            ["web-%", "a\\_b\\%c\\\\d", "%"]
        );
    }
}
