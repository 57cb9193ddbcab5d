//! Claim bookkeeping shared by the queues (webhook deliveries, policy
//! evaluations): what keeps one poison pill from keeping the service down.
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
