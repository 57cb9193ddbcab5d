//! The policy evaluation worker: claims queued artifacts with `FOR UPDATE
//! SKIP LOCKED`, evaluates them and stores the results and the dequeue in
//! ONE transaction (a worker that dies commits nothing; another evaluates
//! the artifact again). It also queues the artifacts of waivers that have
//! just expired. Failures are retried with exponential backoff.

use std::time::Duration;

use sqlx::PgPool;

use crate::store::policies as store;

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    pub workers: usize,
    /// Artifacts claimed per transaction.
    pub batch: i64,
    pub rego_limit: Duration,
    pub idle_poll: Duration,
    /// First retry delay (doubles per attempt).
    pub base_backoff_secs: f64,
}

impl WorkerOptions {
    pub fn from_config(config: &crate::config::Config) -> Self {
        WorkerOptions {
            workers: config.policy_workers,
            batch: 10,
            rego_limit: Duration::from_millis(config.rego_timeout_ms),
            idle_poll: Duration::from_millis(250),
            base_backoff_secs: 2.0,
        }
    }
}

pub use crate::workers::Workers;

pub fn spawn(pool: PgPool, options: WorkerOptions) -> Workers {
    let (count, idle) = (options.workers, options.idle_poll);
    crate::workers::spawn("policy", count, idle, move || {
        let (pool, options) = (pool.clone(), options.clone());
        async move { run_once(&pool, &options).await }
    })
}

/// Queues expired waivers' artifacts, then evaluates one batch. Returns how
/// many artifacts were evaluated.
pub async fn run_once(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut conn = pool.acquire().await?;
    let expired = store::enqueue_expired_waivers(&mut conn).await?;
    if expired > 0 {
        tracing::info!(artifacts = expired, "waivers expired: re-evaluating");
    }
    drop(conn);
    let mut tx = pool.begin().await?;
    let claimed = store::claim(&mut tx, options.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = claimed.iter().map(|c| c.0).collect();
    for (id, reason) in &claimed {
        if let Err(e) = super::evaluate_and_store(&mut tx, *id, reason, options.rego_limit).await {
            tx.rollback().await?;
            tracing::warn!(artifact = id, error = %e, "policy evaluation failed; will retry");
            store::retry_later(pool, &ids, &e.to_string(), options.base_backoff_secs).await?;
            return Err(e);
        }
    }
    store::dequeue(&mut tx, &ids).await?;
    tx.commit().await?;
    tracing::debug!(artifacts = ids.len(), "policy evaluations stored");
    Ok(ids.len())
}

/// Runs batches until the queue has nothing due (tests, benchmarks).
pub async fn drain(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut total = 0;
    loop {
        let n = run_once(pool, options).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}
