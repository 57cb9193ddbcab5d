//! The policy evaluation worker: claims queued artifacts with `FOR UPDATE
//! SKIP LOCKED`, evaluates them and stores the results and the dequeue in
//! ONE transaction (a worker that dies commits nothing; another evaluates
//! the artifact again). It also queues the artifacts of waivers that have
//! just expired. Failures are retried with exponential backoff; an
//! evaluation that never completes (it kills its worker) is dead-lettered
//! after `max_claims` claims (`crate::queue`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::clock::Clock;
use crate::policies::core::engine::EvalLimits;
use crate::policies::store;
use crate::queue::{self, Queue};

/// Called with each artifact id before it is evaluated; for fault-injection
/// tests (a hook that panics is a worker dying mid-evaluation).
pub type FaultHook = Arc<dyn Fn(i64) + Send + Sync>;

#[derive(Clone)]
pub struct WorkerOptions {
    pub workers: usize,
    /// Artifacts claimed per transaction.
    pub batch: i64,
    pub limits: EvalLimits,
    pub idle_poll: Duration,
    /// First retry delay (doubles per attempt).
    pub base_backoff_secs: f64,
    /// Claims without completion before an evaluation is dead-lettered.
    pub max_claims: i32,
    pub fault: Option<FaultHook>,
    /// The time evaluations judge by (waiver expiry, freshness).
    pub clock: Clock,
}

impl WorkerOptions {
    pub fn from_config(config: &crate::config::Config) -> Self {
        WorkerOptions {
            workers: config.policy_workers,
            batch: 10,
            limits: config.eval_limits(),
            idle_poll: Duration::from_millis(250),
            base_backoff_secs: 2.0,
            max_claims: config.queue_max_claims,
            fault: None,
            clock: Clock::default(),
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
/// many artifacts were claimed (evaluated or dead-lettered).
pub async fn run_once(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut conn = pool.acquire().await?;
    let now = options.clock.now();
    let expired = store::enqueue_expired_waivers(&mut conn, now).await?;
    if expired > 0 {
        tracing::info!(artifacts = expired, "waivers expired: re-evaluating");
    }
    let aged = store::enqueue_aged(&mut conn, now).await?;
    if aged > 0 {
        tracing::info!(
            artifacts = aged,
            "evidence aged past a freshness rule: re-evaluating"
        );
    }
    drop(conn);
    let mut tx = pool.begin().await?;
    let claimed = store::claim(&mut tx, options.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = claimed.iter().map(|c| c.0).collect();
    let prior = queue::prior(&mut tx, Queue::Policy, &ids).await?;
    let triage = queue::triage(&ids, &prior, options.max_claims);
    for &(id, claims) in &triage.dead {
        tracing::error!(artifact = id, claims, "policy evaluation dead-lettered");
        store::dead_letter(&mut tx, id, &queue::dead_reason(claims)).await?;
    }
    let dead: Vec<i64> = triage.dead.iter().map(|d| d.0).collect();
    queue::clear(&mut *tx, Queue::Policy, &dead).await?;
    let process = triage.process;
    queue::record(pool, Queue::Policy, &process).await?;
    match evaluate_all(&mut tx, &claimed, &process, options).await {
        Ok(()) => {
            store::dequeue(&mut tx, &process).await?;
            queue::clear(&mut *tx, Queue::Policy, &process).await?;
            tx.commit().await?;
            tracing::debug!(artifacts = process.len(), "policy evaluations stored");
            Ok(process.len() + dead.len())
        }
        Err(e) => {
            tx.rollback().await?;
            tracing::warn!(error = %e, "policy evaluation failed; will retry");
            store::retry_later(pool, &process, &e.to_string(), options.base_backoff_secs).await?;
            // A failure, not a death: the claims do not count.
            queue::clear(pool, Queue::Policy, &process).await?;
            Err(e)
        }
    }
}

async fn evaluate_all(
    tx: &mut sqlx::PgConnection,
    claimed: &[(i64, String)],
    process: &[i64],
    options: &WorkerOptions,
) -> sqlx::Result<()> {
    for (id, reason) in claimed.iter().filter(|c| process.contains(&c.0)) {
        if let Some(hook) = &options.fault {
            hook(*id);
        }
        let now = options.clock.now();
        super::service::evaluate_and_store(tx, *id, reason, options.limits, now).await?;
    }
    Ok(())
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
