//! The delivery queue worker. Each batch is claimed with `FOR UPDATE SKIP
//! LOCKED`, processed and marked done in ONE transaction: a worker that dies
//! mid-batch commits nothing, its locks are released, and another worker
//! (of this or another Cairn instance) processes the same deliveries once.
//! A delivery whose processing fails is retried with exponential backoff,
//! then dead-lettered with its error; one whose processing never completes
//! (it kills its worker or the process) is dead-lettered after
//! `max_claims` claims (`crate::queue`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Acquire, PgConnection, PgPool};

use super::core::normalize::{merge_jobs, normalize, JobRecord, Normalized, RunRecord};
use super::core::Provider;
use super::store::runs as builds;
use super::store::webhooks::{self as store, Claimed};
use crate::queue::{self, Queue};

/// What a test's fault hook makes a worker do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Process normally.
    None,
    /// Fail processing with this error (counts as an attempt).
    Fail(String),
    /// Die after processing the batch, before its commit (as a killed
    /// process would).
    Crash,
}

/// Called with each claimed delivery's id; for fault-injection tests.
pub type FaultHook = Arc<dyn Fn(i64) -> Fault + Send + Sync>;

#[derive(Clone)]
pub struct WorkerOptions {
    /// Concurrent worker tasks.
    pub workers: usize,
    /// Deliveries claimed per transaction.
    pub batch: i64,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: i32,
    /// Claims without completion (the process died) before a delivery is
    /// dead-lettered.
    pub max_claims: i32,
    /// Backoff after the first failure; doubles with each further one.
    pub base_backoff: Duration,
    /// Sleep when the queue is empty.
    pub idle_poll: Duration,
    pub fault: Option<FaultHook>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            workers: 2,
            batch: 25,
            max_attempts: 8,
            max_claims: 2,
            base_backoff: Duration::from_secs(2),
            idle_poll: Duration::from_millis(100),
            fault: None,
        }
    }
}

impl WorkerOptions {
    pub fn from_config(config: &crate::config::Config) -> Self {
        WorkerOptions {
            workers: config.webhook_workers,
            max_attempts: config.webhook_max_attempts,
            max_claims: config.queue_max_claims,
            ..Self::default()
        }
    }

    /// Wait before the next attempt after `attempts` failures (capped at 1 h).
    pub fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.clamp(1, 20) as u32 - 1);
        self.base_backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(3600))
    }
}

pub use crate::workers::Workers;

/// Starts `options.workers` tasks processing the queue.
pub fn spawn(pool: PgPool, options: WorkerOptions) -> Workers {
    let (count, idle) = (options.workers.max(1), options.idle_poll);
    crate::workers::spawn("webhook", count, idle, move || {
        let (pool, options) = (pool.clone(), options.clone());
        async move { run_batch(&pool, &options).await }
    })
}

/// Claims and processes one batch; returns how many deliveries it claimed.
///
/// The batch first runs without savepoints (fast path). Should a statement
/// fail, the whole transaction is rolled back and a batch is run again with
/// one savepoint per delivery, so the failing delivery is isolated and
/// recorded while the others are processed.
pub async fn run_batch(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut recorded = Vec::new();
    let result = async {
        match batch(pool, options, false, &mut recorded).await? {
            Some(n) => Ok(n),
            None => {
                // Rolled back to be rerun carefully: not a death.
                queue::clear(pool, Queue::Webhook, &recorded).await?;
                Ok(batch(pool, options, true, &mut recorded)
                    .await?
                    .unwrap_or(0))
            }
        }
    }
    .await;
    if result.is_err() {
        // A failed batch is not a death either (a panic never gets here).
        let _ = queue::clear(pool, Queue::Webhook, &recorded).await;
    }
    result
}

/// None: a statement failed on the fast path (nothing was committed).
/// `recorded`: the deliveries whose claim this batch recorded.
async fn batch(
    pool: &PgPool,
    options: &WorkerOptions,
    careful: bool,
    recorded: &mut Vec<i64>,
) -> sqlx::Result<Option<usize>> {
    let mut tx = pool.begin().await?;
    let claimed = store::claim(&mut tx, options.batch).await?;
    let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    let prior = queue::prior(&mut tx, Queue::Webhook, &ids).await?;
    let triage = queue::triage(&ids, &prior, options.max_claims);
    for &(id, claims) in &triage.dead {
        tracing::error!(delivery = id, claims, "webhook delivery dead-lettered");
        store::fail(&mut tx, id, &queue::dead_reason(claims), true, 0.0).await?;
    }
    let dead: Vec<i64> = triage.dead.iter().map(|d| d.0).collect();
    queue::clear(&mut *tx, Queue::Webhook, &dead).await?;
    // Deliveries neither processed nor dead stay queued for the next batch.
    let claimed: Vec<Claimed> = claimed
        .into_iter()
        .filter(|d| triage.process.contains(&d.id))
        .collect();
    queue::record(pool, Queue::Webhook, &triage.process).await?;
    *recorded = triage.process;
    let count = claimed.len() + dead.len();
    // Runs are locked in one global order (by provider and run id) by every
    // worker, so concurrent batches wait for each other but never deadlock.
    let mut prepared: Vec<(Claimed, Result<Prepared, Failure>)> = claimed
        .into_iter()
        .map(|d| {
            let p = prepare(&d);
            (d, p)
        })
        .collect();
    prepared.sort_by_key(|(d, p)| (p.as_ref().ok().and_then(Prepared::lock_key), d.id));
    let mut crash = false;
    let mut finished: Vec<(i64, &'static str, Option<String>)> = Vec::with_capacity(count);
    let mut projects = ProjectCache::default();
    let mut touched = TouchedRuns::default();
    // Fast path: consecutive job events of one run (adjacent after the
    // sort) are written together, one statement for all their jobs.
    let mut group: Option<JobGroup> = None;
    for (d, prep) in prepared {
        let fault = options
            .fault
            .as_ref()
            .map_or(Fault::None, |hook| hook(d.id));
        crash |= fault == Fault::Crash;
        let prep = match (careful, &fault, prep) {
            (false, Fault::None | Fault::Crash, Ok(p)) => match p.into_job(&d) {
                Ok(job) => {
                    let same = group.as_ref().is_some_and(|g| g.accepts(&job));
                    if !same {
                        if let Some(g) = group.take() {
                            if !flush(&mut tx, g, &mut projects, &mut finished, &mut touched).await
                            {
                                tx.rollback().await?;
                                return Ok(None);
                            }
                        }
                    }
                    group.get_or_insert_with(|| JobGroup::new(&job)).push(job);
                    continue;
                }
                Err(p) => Ok(*p),
            },
            (_, _, prep) => prep,
        };
        if let Some(g) = group.take() {
            if !flush(&mut tx, g, &mut projects, &mut finished, &mut touched).await {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        let outcome = match (fault, prep) {
            (Fault::Fail(e), _) => Err(Failure::Retry(e)),
            (_, Err(e)) => Err(e),
            (_, Ok(p)) if careful => {
                let mut sp = (&mut *tx).begin().await?;
                let outcome = apply(&mut sp, &d, p, &mut projects, &mut touched).await;
                if outcome.is_ok() {
                    sp.commit().await?;
                } else {
                    sp.rollback().await?;
                    projects.clear();
                }
                outcome
            }
            (_, Ok(p)) => match apply(&mut tx, &d, p, &mut projects, &mut touched).await {
                Err(Failure::Retry(e) | Failure::Transient(e)) => {
                    tracing::debug!(delivery = d.id, error = %e, "fast path failed; retrying the batch with savepoints");
                    tx.rollback().await?;
                    return Ok(None);
                }
                other => other,
            },
        };
        match outcome {
            Ok(Outcome::Done) => finished.push((d.id, "done", None)),
            Ok(Outcome::Ignored(why)) => finished.push((d.id, "ignored", Some(why))),
            Err(failure) => {
                let attempts = d.attempts + 1;
                let (error, permanent, wait) = match failure {
                    Failure::Retry(e) => (e, false, options.backoff(attempts).as_secs_f64()),
                    // Lost a lock race: try again at once.
                    Failure::Transient(e) => (e, false, 0.0),
                    Failure::Permanent(e) => (e, true, 0.0),
                };
                let dead = permanent || attempts >= options.max_attempts;
                tracing::warn!(delivery = d.id, attempts, dead, error = %error, "webhook delivery failed");
                store::fail(&mut tx, d.id, &error, dead, wait).await?;
            }
        }
    }
    if let Some(g) = group.take() {
        if !flush(&mut tx, g, &mut projects, &mut finished, &mut touched).await {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    touched.reevaluate(&mut tx).await?;
    store::finish_all(&mut tx, &finished).await?;
    queue::clear(&mut *tx, Queue::Webhook, recorded).await?;
    if crash {
        // The transaction is dropped uncommitted: PostgreSQL rolls it back.
        panic!("injected webhook worker crash before commit");
    }
    tx.commit().await?;
    Ok(Some(count))
}

/// A job event ready to be written with others of its run.
struct JobEvent {
    delivery: i64,
    provider: Provider,
    source_id: i64,
    run: RunRecord,
    job: JobRecord,
}

/// Job events of one run, from one source.
struct JobGroup {
    key: (Provider, i64, i64, i32),
    provider: Provider,
    source_id: i64,
    run: RunRecord,
    jobs: Vec<JobRecord>,
    deliveries: Vec<i64>,
}

impl JobGroup {
    fn new(e: &JobEvent) -> Self {
        JobGroup {
            key: Self::key_of(e),
            provider: e.provider,
            source_id: e.source_id,
            run: e.run.clone(),
            jobs: Vec::new(),
            deliveries: Vec::new(),
        }
    }

    fn key_of(e: &JobEvent) -> (Provider, i64, i64, i32) {
        (
            e.provider,
            e.source_id,
            e.run.provider_run_id,
            e.run.run_attempt,
        )
    }

    fn accepts(&self, e: &JobEvent) -> bool {
        self.key == Self::key_of(e) && self.run.repository == e.run.repository
    }

    fn push(&mut self, e: JobEvent) {
        self.jobs.push(e.job);
        self.deliveries.push(e.delivery);
    }
}

/// Writes a group of job events; false when a statement failed (the
/// transaction is then aborted and the batch must be rerun carefully).
async fn flush(
    db: &mut PgConnection,
    g: JobGroup,
    projects: &mut ProjectCache,
    finished: &mut Vec<(i64, &'static str, Option<String>)>,
    touched: &mut TouchedRuns,
) -> bool {
    touched.add(g.provider.as_str(), &g.run);
    let result = async {
        let project = project_of(db, &g.run, projects).await?;
        let run_id =
            builds::run_for_job(db, g.provider.as_str(), g.source_id, project, &g.run).await?;
        builds::upsert_jobs(db, run_id, &merge_jobs(g.jobs)).await
    }
    .await;
    match result {
        Ok(()) => {
            finished.extend(g.deliveries.into_iter().map(|id| (id, "done", None)));
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "fast path failed; retrying the batch with savepoints");
            false
        }
    }
}

/// The runs a batch wrote. A build record is evidence: the artifacts the
/// runs are linked to are queued for re-evaluation with one statement per
/// batch, in its transaction (a rolled-back batch queues nothing).
#[derive(Default)]
struct TouchedRuns {
    commits: BTreeSet<String>,
    github_runs: BTreeSet<i64>,
}

impl TouchedRuns {
    fn add(&mut self, provider: &str, run: &RunRecord) {
        self.commits.extend(run.head_sha.clone());
        // Attestations name GitHub runs by URL; a GitLab pipeline links by commit.
        if provider == "github" {
            self.github_runs.insert(run.provider_run_id);
        }
    }

    async fn reevaluate(self, db: &mut PgConnection) -> sqlx::Result<()> {
        let commits: Vec<String> = self.commits.into_iter().collect();
        let runs: Vec<i64> = self.github_runs.into_iter().collect();
        crate::queue::evaluate_for_runs(db, &commits, &runs).await
    }
}

/// Project ids by repository, within one batch.
#[derive(Default)]
struct ProjectCache(HashMap<(String, Option<String>), Option<i64>>);

impl ProjectCache {
    fn clear(&mut self) {
        self.0.clear();
    }
}

enum Outcome {
    Done,
    Ignored(String),
}

enum Failure {
    /// Might succeed later (database trouble): retried with backoff.
    Retry(String),
    /// A deadlock or serialization failure: retried without waiting.
    Transient(String),
    /// Will never succeed (the payload lacks what identifies it).
    Permanent(String),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        let transient = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "40P01" || c == "40001");
        let msg = format!("database: {e}");
        if transient {
            Failure::Transient(msg)
        } else {
            Failure::Retry(msg)
        }
    }
}

/// A delivery parsed and normalised, before any SQL.
struct Prepared {
    provider: Provider,
    normalized: Normalized,
}

impl Prepared {
    /// The run this delivery will lock, if any.
    fn lock_key(&self) -> Option<(&'static str, i64, i32)> {
        match &self.normalized {
            Normalized::Run { run, .. } | Normalized::Job { run, .. } => {
                Some((self.provider.as_str(), run.provider_run_id, run.run_attempt))
            }
            Normalized::Recorded { .. } => None,
        }
    }
}

impl Prepared {
    /// A job event the source may feed, for grouped writing; anything else
    /// is handed back.
    fn into_job(self, d: &Claimed) -> Result<JobEvent, Box<Prepared>> {
        if out_of_scope(d, &self.normalized).is_some() {
            return Err(Box::new(self));
        }
        match self.normalized {
            Normalized::Job { run, job } => Ok(JobEvent {
                delivery: d.id,
                provider: self.provider,
                source_id: d.source_id,
                run,
                job: *job,
            }),
            normalized => Err(Box::new(Prepared {
                provider: self.provider,
                normalized,
            })),
        }
    }
}

/// Why a source may not feed this event's repository, if it may not.
fn out_of_scope(d: &Claimed, normalized: &Normalized) -> Option<String> {
    let (allowed, repo) = (d.repositories.as_ref()?, normalized.repository()?);
    let repo = repo.to_ascii_lowercase();
    (!allowed.contains(&repo)).then(|| format!("repository {repo} is not one this source may feed"))
}

fn prepare(d: &Claimed) -> Result<Prepared, Failure> {
    let provider = Provider::parse(&d.provider)
        .ok_or_else(|| Failure::Permanent(format!("unknown provider {}", d.provider)))?;
    let payload: serde_json::Value = serde_json::from_slice(&d.body)
        .map_err(|e| Failure::Permanent(format!("malformed JSON: {e}")))?;
    let normalized = normalize(provider, &d.event, &payload)
        .map_err(|e| Failure::Permanent(format!("{} {} payload: {e}", d.provider, d.event)))?;
    Ok(Prepared {
        provider,
        normalized,
    })
}

async fn apply(
    db: &mut PgConnection,
    d: &Claimed,
    p: Prepared,
    projects: &mut ProjectCache,
    touched: &mut TouchedRuns,
) -> Result<Outcome, Failure> {
    let Prepared {
        provider,
        normalized,
    } = p;
    if let Some(why) = out_of_scope(d, &normalized) {
        return Ok(Outcome::Ignored(why));
    }
    let p = provider.as_str();
    match normalized {
        Normalized::Recorded { .. } => {}
        Normalized::Run { run, jobs } => {
            let project = project_of(db, &run, projects).await?;
            let run_id = builds::upsert_run(db, p, d.source_id, project, &run).await?;
            builds::upsert_jobs(db, run_id, &jobs).await?;
            touched.add(p, &run);
        }
        Normalized::Job { run, job } => {
            let project = project_of(db, &run, projects).await?;
            let run_id = builds::run_for_job(db, p, d.source_id, project, &run).await?;
            builds::upsert_jobs(db, run_id, &[*job]).await?;
            touched.add(p, &run);
        }
    }
    Ok(Outcome::Done)
}

async fn project_of(
    db: &mut PgConnection,
    run: &RunRecord,
    cache: &mut ProjectCache,
) -> sqlx::Result<Option<i64>> {
    let key = (run.repository.clone(), run.repository_url.clone());
    if let Some(id) = cache.0.get(&key) {
        return Ok(*id);
    }
    let id =
        builds::project_for_repository(db, &run.repository, run.repository_url.as_deref()).await?;
    cache.0.insert(key, id);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let o = WorkerOptions::default();
        assert_eq!(o.backoff(1), Duration::from_secs(2));
        assert_eq!(o.backoff(3), Duration::from_secs(8));
        assert_eq!(o.backoff(40), Duration::from_secs(3600));
    }
}
