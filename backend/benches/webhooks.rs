//! Webhook ingestion benchmark against the real server.
//!
//! `cargo bench -p cairn --bench webhooks` starts the release `cairn serve`
//! binary (its own queue workers included) on a fresh database
//! `cairn_whbench_<pid>`, created on the server named by
//! `CAIRN_BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped at the end,
//! creates a GitHub webhook source and then
//!
//! 1. sends signed `workflow_job` deliveries (the octokit example, each with
//!    its own job id, over 100 runs) at a fixed rate (default 2,000/s for
//!    15 s), open loop: latency is measured from each delivery's scheduled
//!    send time, so a slow server cannot hide its queueing;
//! 2. sends as fast as 64 concurrent connections allow for 10 s (the
//!    accept ceiling);
//! 3. after each phase, waits until the queue is drained and reports how
//!    long processing lagged behind accepting.
//!
//! Environment: `CAIRN_BENCH_DATABASE_URL`; `CAIRN_BENCH_RATE` (deliveries
//! per second of phase 1); `CAIRN_BENCH_SECS` (length of phase 1);
//! `CAIRN_BENCH_QUICK=1` (a short run to check the bench itself);
//! `CAIRN_LOG` (server log filter, default `warn`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use cairn::builds::core::verify::github_signature;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

mod common;
use common::{BenchDb, Server};

const SECRET: &str = "bench webhook secret 0123456789";
const JOB: &[u8] = include_bytes!(
    "../../tests/fixtures/webhooks/github/octokit__workflow_job_completed.success.with-organization.payload.json"
);
const TARGET_RATE: f64 = 2_000.0;
const TARGET_P99_MS: f64 = 50.0;

fn main() {
    // The client on one thread: the two cores are for the server and PostgreSQL.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the async runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run() -> Result<()> {
    let db = BenchDb::create("cairn_whbench").await?;
    let env = [(
        "CAIRN_SECRET_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )];
    let result = match Server::start(&db.url, &env) {
        Err(e) => Err(e),
        Ok(mut server) => {
            let r = match server.wait_ready().await {
                Ok(()) => bench(&server, db.options.clone()).await,
                Err(e) => Err(e),
            };
            let _ = server.stop();
            r
        }
    };
    db.drop_unless_kept().await?;
    result
}

/// The n-th delivery: the real example with its own job id and run.
struct Deliveries {
    /// The example, compact, with placeholder job and run ids.
    template: String,
    next: AtomicU64,
}

const JOB_ID: &str = "7777777777";
const RUN_ID: &str = "8888888888";

impl Deliveries {
    fn new() -> Result<Self> {
        let mut job: Value = serde_json::from_slice(JOB)?;
        job["workflow_job"]["id"] = JOB_ID.parse::<u64>()?.into();
        job["workflow_job"]["run_id"] = RUN_ID.parse::<u64>()?.into();
        Ok(Deliveries {
            template: serde_json::to_string(&job)?,
            next: AtomicU64::new(0),
        })
    }

    fn make(&self) -> (String, Vec<u8>, String) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let body = self
            .template
            .replacen(JOB_ID, &(1_000_000_000 + n).to_string(), 1)
            .replacen(RUN_ID, &(2_000_000_000 + n % 100).to_string(), 1)
            .into_bytes();
        let sig = github_signature(SECRET.as_bytes(), &body);
        (format!("bench-{n}"), body, sig)
    }
}

async fn send(client: &reqwest::Client, url: &str, d: &Deliveries) -> Result<()> {
    let (id, body, sig) = d.make();
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-event", "workflow_job")
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await?;
    ensure!(res.status() == 202, "delivery answered {}", res.status());
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn queued(db: &mut PgConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'queued'")
            .fetch_one(db)
            .await?,
    )
}

/// Seconds after `since` at which the queue was empty.
async fn drain_time(db: &mut PgConnection, since: Instant) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while queued(db).await? > 0 {
        ensure!(
            Instant::now() < deadline,
            "queue not drained within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(since.elapsed().as_secs_f64())
}

async fn bench(server: &Server, db_opts: PgConnectOptions) -> Result<()> {
    let quick = std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1");
    let rate = env_num("CAIRN_BENCH_RATE", TARGET_RATE);
    let secs = env_num("CAIRN_BENCH_SECS", if quick { 3.0 } else { 15.0 });
    let burst_secs = if quick { 2.0 } else { 10.0 };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let res = client
        .post(format!("{}/api/v1/webhook-sources", server.base))
        .bearer_auth(&server.token)
        .json(&serde_json::json!({"provider": "github", "name": "bench", "secret": SECRET}))
        .send()
        .await?;
    ensure!(res.status() == 201, "creating the source: {}", res.status());
    let url = format!("{}/webhooks/github/bench", server.base);
    let d = Arc::new(Deliveries::new()?);
    let mut db = PgConnection::connect_with(&db_opts).await?;
    println!(
        "payload: octokit workflow_job example, {} bytes compact, HMAC-SHA256 signed",
        d.template.len()
    );

    // Warm-up: connections, caches.
    for _ in 0..200 {
        send(&client, &url, &d).await?;
    }
    drain_time(&mut db, Instant::now()).await?;

    // Phase 1: fixed rate, open loop.
    let total = (rate * secs) as u64;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, d) = (client.clone(), url.clone(), d.clone());
        tasks.push(tokio::spawn(async move {
            send(&client, &url, &d).await?;
            anyhow::Ok(due.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    let sent_for = start.elapsed().as_secs_f64();
    let backlog = queued(&mut db).await?;
    let drained = drain_time(&mut db, start).await?;
    lat.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        *lat.last().unwrap(),
    );
    let accepted_rate = total as f64 / sent_for;
    println!("\n## Phase 1: {rate:.0} deliveries/s for {secs:.0} s (open loop)");
    println!(
        "accepted {total} in {sent_for:.2} s = {accepted_rate:.0}/s; latency p50 {p50:.1} ms, p90 {:.1} ms, p95 {:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
        percentile(&lat, 0.90),
        percentile(&lat, 0.95)
    );
    println!(
        "queue at end of sending: {backlog}; drained {:.2} s after the first delivery ({:.2} s after the last) → processed {:.0}/s",
        drained,
        drained - sent_for,
        total as f64 / drained
    );

    // Phase 2: as fast as 64 connections go.
    let before = d.next.load(Ordering::Relaxed);
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(burst_secs);
    let mut workers = Vec::new();
    for _ in 0..64 {
        let (client, url, d) = (client.clone(), url.clone(), d.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < stop {
                let t = Instant::now();
                send(&client, &url, &d).await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat2 = Vec::new();
    for w in workers {
        lat2.extend(w.await??);
    }
    let sent_for2 = start.elapsed().as_secs_f64();
    let n2 = d.next.load(Ordering::Relaxed) - before;
    let backlog2 = queued(&mut db).await?;
    let drained2 = drain_time(&mut db, start).await?;
    lat2.sort_by(f64::total_cmp);
    println!("\n## Phase 2: 64 concurrent connections for {burst_secs:.0} s (closed loop)");
    println!(
        "accepted {n2} in {sent_for2:.2} s = {:.0}/s; latency p50 {:.1} ms, p99 {:.1} ms",
        n2 as f64 / sent_for2,
        percentile(&lat2, 0.50),
        percentile(&lat2, 0.99)
    );
    println!(
        "queue at end of sending: {backlog2}; drained {:.2} s after the last delivery → processed {:.0}/s overall",
        drained2 - sent_for2,
        n2 as f64 / drained2
    );

    let (jobs, once): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM ci_jobs),
                (SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1)",
    )
    .fetch_one(&mut db)
    .await?;
    let all = d.next.load(Ordering::Relaxed) as i64;
    ensure!(
        jobs == all && once == all,
        "{all} sent, {jobs} jobs, {once} processed once"
    );
    println!("\nintegrity: {all} deliveries, {jobs} jobs, every delivery processed exactly once");
    println!(
        "verdict: accept {:.0}/s at p99 {p99:.1} ms — target ≥ {TARGET_RATE:.0}/s with p99 ≤ {TARGET_P99_MS:.0} ms: {}",
        accepted_rate,
        if accepted_rate >= TARGET_RATE * 0.98 && p99 <= TARGET_P99_MS { "met" } else { "NOT met" }
    );
    Ok(())
}
