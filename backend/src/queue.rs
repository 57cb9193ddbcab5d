//! The queues' shared plumbing: asking for an artifact's (re-)evaluation
//! ([`evaluate`]), and the claim bookkeeping shared by the queues (webhook
//! deliveries, policy evaluations) that keeps one poison pill from keeping
//! the service down.
//!
//! A worker claims items with `FOR UPDATE SKIP LOCKED` inside the
//! transaction that processes them, so a process that dies commits nothing
//! and leaves no trace in the queue itself. That is exactly-once, but it
//! also means an item that kills the process (a stack overflow aborts it;
//! no handler runs) is claimed again after every restart. So each claim is
//! also recorded in `queue_claims` on a connection of its own, committed
//! before processing starts, and removed in the transaction that completes
//! the item. At the next claim:
//! - a recorded claim means processing never completed: the item is a
//!   suspect and is processed alone (an innocent item that shared a batch
//!   with a poison pill completes on its own);
//! - `max_claims` recorded claims mean it never completes: it is
//!   dead-lettered with that reason, visible in the API and replayable.
//!
//! A worker that merely fails (an SQL error, a rolled-back batch) clears
//! the claims it recorded: only a death counts.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Policy,
    Webhook,
}

impl Queue {
    fn as_str(self) -> &'static str {
        match self {
            Queue::Policy => "policy",
            Queue::Webhook => "webhook",
        }
    }
}

/// The reason a dead-lettered item carries.
pub fn dead_reason(claims: i32) -> String {
    format!(
        "processing never completed after {claims} claims (the process or its worker died while processing it); dead-lettered so that it cannot take the service down again"
    )
}

/// What to do with the items just claimed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Triage {
    /// Process these now (fresh items, or a single suspect alone).
    pub process: Vec<i64>,
    /// Dead-letter these, with how many claims they had.
    pub dead: Vec<(i64, i32)>,
}

/// Splits claimed items (in claim order) by their recorded claims. Items
/// neither processed nor dead-lettered are left in the queue for the next
/// batch.
pub fn triage(claimed: &[i64], prior: &HashMap<i64, i32>, max_claims: i32) -> Triage {
    let mut t = Triage::default();
    let mut suspect = None;
    for &id in claimed {
        match prior.get(&id).copied().unwrap_or(0) {
            0 => t.process.push(id),
            n if n >= max_claims => t.dead.push((id, n)),
            _ => {
                suspect.get_or_insert(id);
            }
        }
    }
    if let Some(id) = suspect {
        t.process = vec![id];
    }
    t
}

/// The recorded claims of these items (in the caller's transaction).
pub async fn prior(
    conn: &mut PgConnection,
    queue: Queue,
    ids: &[i64],
) -> sqlx::Result<HashMap<i64, i32>> {
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT item_id, claims FROM queue_claims WHERE queue = $1 AND item_id = ANY($2)",
    )
    .bind(queue.as_str())
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Records a claim of each item, committed at once on a connection of its
/// own (the caller's transaction may never commit).
pub async fn record(pool: &PgPool, queue: Queue, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO queue_claims (queue, item_id, claims)
         SELECT $1, id, 1 FROM unnest($2::bigint[]) AS id
         ON CONFLICT (queue, item_id)
         DO UPDATE SET claims = queue_claims.claims + 1, last_claimed_at = now()",
    )
    .bind(queue.as_str())
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the claims of these items: in the transaction that completes
/// them, or after a failure that was not a death.
pub async fn clear(db: impl sqlx::PgExecutor<'_>, queue: Queue, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM queue_claims WHERE queue = $1 AND item_id = ANY($2)")
        .bind(queue.as_str())
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}

// Asking for (re-)evaluation: evidence capabilities queue the artifacts
// their new evidence concerns here, in the transaction storing it, without
// depending on the policy engine (its worker drains `policy_queue`).

/// Queues artifacts for evaluation (idempotent: one row per artifact).
/// Call it inside the transaction that stores the evidence.
pub async fn evaluate(
    conn: &mut PgConnection,
    artifact_ids: &[i64],
    reason: &str,
) -> sqlx::Result<()> {
    if artifact_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason)
         SELECT DISTINCT unnest($1::bigint[]), $2
         ON CONFLICT (artifact_id) DO UPDATE
            SET next_attempt_at = least(policy_queue.next_attempt_at, now()),
                reason = EXCLUDED.reason",
    )
    .bind(artifact_ids)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues every artifact with this digest (attestations link by digest).
pub async fn evaluate_digests(
    conn: &mut PgConnection,
    digests: &[String],
    reason: &str,
) -> sqlx::Result<()> {
    if digests.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM artifacts WHERE digest = ANY($1)")
        .bind(digests)
        .fetch_all(&mut *conn)
        .await?;
    evaluate(conn, &ids, reason).await
}

/// Queues the artifacts CI runs are evidence for: those with a verified
/// attestation naming one of their commits or GitHub run ids (the links
/// `load_input` follows). One statement for a whole webhook batch; uses the
/// partial indexes of migration 0006.
pub async fn evaluate_for_runs(
    conn: &mut PgConnection,
    head_shas: &[String],
    github_run_ids: &[i64],
) -> sqlx::Result<()> {
    if head_shas.is_empty() && github_run_ids.is_empty() {
        return Ok(());
    }
    let runs: Vec<String> = github_run_ids.iter().map(i64::to_string).collect();
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH hit AS (
            SELECT id, artifact_id FROM attestations
             WHERE verified AND source_commit = ANY($1)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND identity IS NOT NULL AND identity ->> 'workflow_sha' = ANY($1)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND identity IS NOT NULL
               AND split_part(split_part(identity ->> 'run_url', '/actions/runs/', 2), '/', 1)
                   = ANY($2)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND provenance IS NOT NULL
               AND split_part(split_part(provenance ->> 'invocation_id', '/actions/runs/', 2), '/', 1)
                   = ANY($2))
         SELECT artifact_id FROM hit WHERE artifact_id IS NOT NULL
         UNION
         SELECT a.id FROM hit JOIN attestation_subjects s ON s.attestation_id = hit.id
                              JOIN artifacts a ON a.digest = s.digest",
    )
    .bind(head_shas)
    .bind(&runs)
    .fetch_all(&mut *conn)
    .await?;
    evaluate(conn, &ids, "build").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_items_are_processed_together_and_a_suspect_alone() {
        let prior = HashMap::from([(2, 1), (3, 1), (4, 2), (5, 7)]);
        assert_eq!(
            triage(&[1, 6], &prior, 2),
            Triage {
                process: vec![1, 6],
                dead: vec![]
            }
        );
        // A suspect goes alone; the fresh items wait for the next batch.
        assert_eq!(
            triage(&[1, 3, 2, 6], &prior, 2),
            Triage {
                process: vec![3],
                dead: vec![]
            }
        );
        // At the bound (and past it, if the bound was lowered) it is dead.
        assert_eq!(
            triage(&[4, 5, 1], &prior, 2),
            Triage {
                process: vec![1],
                dead: vec![(4, 2), (5, 7)]
            }
        );
        // Just below the bound it is still tried, alone.
        assert_eq!(
            triage(&[4], &prior, 3),
            Triage {
                process: vec![4],
                dead: vec![]
            }
        );
    }
}
