//! End-to-end ingestion and portfolio-search benchmark of the real server.
//!
//! `cargo bench -p cairn --bench ingest` starts the release `cairn serve`
//! binary on a fresh database `cairn_bench_<pid>`, created on the server
//! named by `CAIRN_BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped at the end.
//! It then
//!
//! 1. uploads generated CycloneDX 1.5 SBOMs of 1,000, 10,000 and 100,000
//!    components: per size one "cold" upload (every component new to the
//!    database) and several "warm" ones (a new version of the artifact:
//!    90 % of the components already stored, 10 % new), timing each
//!    `POST /api/v1/sboms` until its 201 and reading the server's peak RSS
//!    (`VmHWM`) after each size;
//! 2. grows the portfolio with 10,000-component SBOMs of many projects,
//!    drawn from a skewed (power-law) component population, until it holds
//!    at least 1,000,000 SBOM-component links;
//! 3. times `GET /api/v1/components` for exact purls, package prefixes,
//!    popular components and name+version, sequentially over one keep-alive
//!    connection, once with the statistics the ingestion left and once
//!    after `ANALYZE`;
//! 4. profiles one 100,000-component upload in process with the server's
//!    own code (`sbom::Input::parse`, `upload::gzip`,
//!    `sboms::store::insert`, rolled back), timing each phase and counting
//!    live heap bytes with a counting allocator;
//! 5. prints a Markdown summary (pasted into docs/performance.md).
//!
//! Everything is generated from a fixed seed, so runs are comparable.
//!
//! Environment:
//! - `CAIRN_BENCH_DATABASE_URL`: admin URL of the PostgreSQL server to use.
//! - `CAIRN_BENCH_KEEP_DB=1`: keep the database afterwards (for `EXPLAIN`).
//! - `CAIRN_BENCH_QUICK=1`: a much smaller run, to check the bench itself.
//! - `CAIRN_LOG`: the server's log filter (default `warn`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

mod common;
#[path = "ingest/generate.rs"]
mod generate;
#[path = "ingest/memory.rs"]
mod memory;
use common::{loadavg, BenchDb, Server};
use generate::{component, Comp, Doc, Gen};
use memory::{heap, heap_peak, memory, reset_peak, Memory};

const SEED: u64 = 0xCA1B_2025;

/// Component keys: `key % PACKAGES` is the package, `key / PACKAGES` its
/// version. Keys below `POOL` form the shared population that portfolio
/// SBOMs draw from (low keys are popular); keys from `FRESH_BASE` on are
/// handed out once each (new versions never seen before).
const PACKAGES: u64 = 100_000;
const POOL: u64 = 300_000;
const FRESH_BASE: u64 = 1_000_000;
/// Share of a warm or portfolio upload's components that are new.
const NEW_SHARE: f64 = 0.10;

const MIB: f64 = 1024.0 * 1024.0;
const MB: f64 = 1_000_000.0;

// The targets and aims.
const TARGET_RATE: f64 = 20_000.0;
const AIM_RATE: f64 = 60_000.0;
const TARGET_RSS_MIB: f64 = 300.0;
const AIM_RSS_MIB: f64 = 150.0;
const TARGET_P95_MS: f64 = 20.0;
const AIM_P95_MS: f64 = 10.0;

struct Plan {
    /// (components, warm repetitions), ascending.
    sizes: Vec<(usize, usize)>,
    /// Grow the portfolio to at least this many sbom_components rows.
    target_links: i64,
    portfolio_sbom_size: usize,
    portfolio_projects: usize,
    search_warmup: usize,
    search_requests: usize,
}

impl Plan {
    fn from_env() -> Plan {
        if std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Plan {
                sizes: vec![(1_000, 3), (10_000, 2), (100_000, 1)],
                target_links: 300_000,
                portfolio_sbom_size: 10_000,
                portfolio_projects: 20,
                search_warmup: 10,
                search_requests: 100,
            }
        } else {
            Plan {
                sizes: vec![(1_000, 10), (10_000, 5), (100_000, 3)],
                target_links: 1_000_000,
                portfolio_sbom_size: 10_000,
                portfolio_projects: 20,
                search_warmup: 50,
                search_requests: 1_000,
            }
        }
    }
}

fn main() {
    // One thread: the client is sequential and should leave the two cores
    // to the server and PostgreSQL.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the async runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let started = Instant::now();
    let db = BenchDb::create("cairn_bench").await?;
    println!("bench database {} on {}", db.name, db.server);

    let result = match Server::start(&db.url, &[]) {
        Err(e) => Err(e),
        Ok(mut server) => {
            let result = match server.wait_ready().await {
                Err(e) => Err(e),
                Ok(()) => {
                    let ctx = Ctx {
                        base: server.base.clone(),
                        token: server.token.clone(),
                        pid: server.child.id(),
                        db_opts: db.options.clone(),
                        plan: Plan::from_env(),
                        started,
                        load_before: loadavg(),
                    };
                    // A panic in the bench still stops the server and
                    // drops the database.
                    match tokio::spawn(bench(ctx)).await {
                        Ok(r) => r,
                        Err(e) => Err(anyhow::anyhow!("the bench panicked: {e}")),
                    }
                }
            };
            match server.stop() {
                Ok(status) if status.success() => println!("server stopped on SIGTERM ({status})"),
                Ok(status) => println!("server exited with {status} after SIGTERM"),
                Err(e) => println!("stopping the server: {e:#}"),
            }
            result
        }
    };
    db.drop_unless_kept().await?;
    println!("total bench time {:.0} s", started.elapsed().as_secs_f64());
    result
}

// ---------------------------------------------------------------------------
// The benchmark

struct Ctx {
    base: String,
    token: String,
    pid: u32,
    db_opts: PgConnectOptions,
    plan: Plan,
    started: Instant,
    load_before: String,
}

struct Upload {
    secs: f64,
    bytes: usize,
}

struct SizeResult {
    components: usize,
    dependencies: usize,
    cold: Upload,
    warm: Vec<Upload>,
    memory: Memory,
}

struct Portfolio {
    uploads: Vec<Upload>,
    /// Mean seconds of the first and the last five portfolio uploads.
    first: f64,
    last: f64,
    links: i64,
    components: i64,
    sboms: i64,
    artifacts: i64,
    db_size: i64,
    memory: Memory,
}

struct SearchResult {
    label: &'static str,
    stats: String,
    latencies_ms: Vec<f64>,
    hits: usize,
    empty: usize,
    max_artifacts: i64,
    bytes: usize,
}

async fn upload(
    client: &reqwest::Client,
    ctx: &Ctx,
    project: &str,
    version: &str,
    doc: &Doc,
) -> Result<Upload> {
    let started = Instant::now();
    let res = client
        .post(format!("{}/api/v1/sboms", ctx.base))
        .query(&[
            ("project", project),
            ("artifact", "app"),
            ("version", version),
        ])
        .bearer_auth(&ctx.token)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/vnd.cyclonedx+json",
        )
        .body(doc.bytes.clone())
        .send()
        .await?;
    let status = res.status();
    let body = res.bytes().await?;
    let secs = started.elapsed().as_secs_f64();
    if status != 201 {
        bail!(
            "upload {project} {version}: {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&body)?;
    ensure!(
        summary["component_count"] == doc.components,
        "upload {project} {version}: stored {} components, sent {}",
        summary["component_count"],
        doc.components
    );
    Ok(Upload {
        secs,
        bytes: doc.bytes.len(),
    })
}

fn print_upload(what: &str, doc: &Doc, u: &Upload) {
    println!(
        "  {what:<28} {:>7} comps {:>8.2} MB {:>9.1} ms {:>9.0} comp/s {:>6.1} MB/s",
        doc.components,
        u.bytes as f64 / MB,
        u.secs * 1e3,
        doc.components as f64 / u.secs,
        u.bytes as f64 / MB / u.secs
    );
}

async fn count(db: &mut PgConnection, table: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await?)
}

async fn bench(ctx: Ctx) -> Result<()> {
    let plan = &ctx.plan;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut db = PgConnection::connect_with(&ctx.db_opts).await?;
    let pg_version: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut db)
        .await?;
    let mut pg_settings = Vec::new();
    for setting in [
        "shared_buffers",
        "work_mem",
        "synchronous_commit",
        "max_wal_size",
        "autovacuum",
        "jit",
    ] {
        let v: String = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(&mut db)
            .await?;
        pg_settings.push(format!("{setting}={v}"));
    }
    let startup = memory(ctx.pid)?;
    println!(
        "server pid {} ready; VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        ctx.pid,
        startup.rss as f64 / MIB,
        startup.hwm as f64 / MIB
    );

    let mut gen = Gen {
        rng: StdRng::seed_from_u64(SEED),
        next_fresh: FRESH_BASE,
        docs: 0,
        stored: HashSet::new(),
    };

    // Warm-up: connections, prepared statements, first project rows.
    let keys = gen.fresh(100);
    let doc = gen.document("app", "warmup", &keys);
    upload(&client, &ctx, "bench/p0", "warmup", &doc).await?;
    gen.stored.extend(keys);

    // 1. Ingestion, sizes ascending so that VmHWM after the last is the peak.
    println!("\n## ingestion");
    let mut sizes = Vec::new();
    let mut largest_cold = Vec::new();
    for (k, &(size, reps)) in plan.sizes.iter().enumerate() {
        let project = format!("bench/p{}", k + 1);
        let label = format!("{}k", size / 1000);
        let cold_keys = gen.fresh(size);
        let version = format!("{label}-cold");
        let doc = gen.document("app", &version, &cold_keys);
        let cold = upload(&client, &ctx, &project, &version, &doc).await?;
        print_upload(&format!("{label} cold (all new)"), &doc, &cold);
        gen.stored.extend(cold_keys.iter().copied());
        let dependencies = doc.dependencies;
        drop(doc);
        let mut warm = Vec::new();
        for r in 1..=reps {
            let keys = gen.next_version(&cold_keys);
            let version = format!("{label}-warm-{r}");
            let doc = gen.document("app", &version, &keys);
            let u = upload(&client, &ctx, &project, &version, &doc).await?;
            print_upload(&format!("{label} warm #{r} (90% stored)"), &doc, &u);
            gen.stored.extend(keys);
            warm.push(u);
        }
        let memory = memory(ctx.pid)?;
        println!(
            "  after {label}: server VmRSS {:.1} MiB, VmHWM {:.1} MiB",
            memory.rss as f64 / MIB,
            memory.hwm as f64 / MIB
        );
        largest_cold = cold_keys;
        sizes.push(SizeResult {
            components: size,
            dependencies,
            cold,
            warm,
            memory,
        });
    }

    // 2. Portfolio growth.
    println!("\n## portfolio growth to {} links", plan.target_links);
    let mut links = count(&mut db, "sbom_components").await?;
    let mut uploads = Vec::new();
    let mut i = 0usize;
    while links < plan.target_links {
        i += 1;
        let project = format!("bench/p{}", 10 + i % plan.portfolio_projects);
        let version = format!("2.{i}.0");
        let keys = gen.portfolio(plan.portfolio_sbom_size);
        let doc = gen.document("app", &version, &keys);
        let u = upload(&client, &ctx, &project, &version, &doc).await?;
        if i % 10 == 1 {
            print_upload(&format!("{project} {version}"), &doc, &u);
        }
        gen.stored.extend(keys);
        links += doc.components as i64 + 1;
        uploads.push(u);
    }
    let links = count(&mut db, "sbom_components").await?;
    ensure!(
        links >= plan.target_links,
        "only {links} sbom_components rows"
    );
    let mean = |us: &[Upload]| us.iter().map(|u| u.secs).sum::<f64>() / us.len().max(1) as f64;
    let n = uploads.len();
    let portfolio = Portfolio {
        first: mean(&uploads[..n.min(5)]),
        last: mean(&uploads[n.saturating_sub(5)..]),
        uploads,
        links,
        components: count(&mut db, "components").await?,
        sboms: count(&mut db, "sboms").await?,
        artifacts: count(&mut db, "artifacts").await?,
        db_size: sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut db)
            .await?,
        memory: memory(ctx.pid)?,
    };
    println!(
        "  {} uploads; sbom_components {}, components {}, sboms {}, database {:.0} MiB",
        portfolio.uploads.len(),
        portfolio.links,
        portfolio.components,
        portfolio.sboms,
        portfolio.db_size as f64 / MIB
    );

    // 3. Search.
    println!("\n## search");
    let mut stored: Vec<u64> = gen.stored.iter().copied().collect();
    stored.sort_unstable();
    let total = plan.search_warmup + plan.search_requests;
    let mut pick = |n: usize, f: &dyn Fn(&Comp) -> Vec<(&'static str, String)>| {
        (0..n)
            .map(|_| f(&component(stored[gen.rng.random_range(0..stored.len())])))
            .collect::<Vec<_>>()
    };
    let exact = pick(total, &|c| vec![("purl", c.purl.clone())]);
    let prefix = pick(total, &|c| vec![("purl", c.package.clone())]);
    let by_name = pick(total, &|c| {
        vec![("name", c.name.clone()), ("version", c.version.clone())]
    });
    // The most popular keys of the shared population: in nearly every
    // portfolio SBOM.
    let popular: Vec<Vec<(&'static str, String)>> = (0..total)
        .map(|_| {
            let key = gen.rng.random_range(0..50u64);
            vec![("purl", component(key).purl)]
        })
        .collect();
    let classes = [
        ("exact purl (random component)", exact),
        ("package prefix, no version", prefix),
        ("popular component (exact purl)", popular),
        ("name + version", by_name),
    ];
    // First with the statistics the ingestion left (none at all when
    // autovacuum is off, as on many test servers; a production server
    // analyses these tables soon after bulk loads), then after ANALYZE.
    let analyzed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_user_tables
         WHERE relname IN ('components', 'sbom_components', 'sboms')
           AND coalesce(last_analyze, last_autoanalyze) IS NOT NULL",
    )
    .fetch_one(&mut db)
    .await?;
    let mut searches = Vec::new();
    for pass in 0..2 {
        let stats = if pass == 0 {
            format!("as ingested ({analyzed}/3 tables analysed)")
        } else {
            let t = Instant::now();
            sqlx::query("ANALYZE").execute(&mut db).await?;
            println!("  ANALYZE: {:.1} s", t.elapsed().as_secs_f64());
            "after ANALYZE".to_string()
        };
        println!("  statistics: {stats}");
        for (label, queries) in &classes {
            let r = search(&client, &ctx, label, &stats, queries).await?;
            let (p50, p95, p99, max) = percentiles(&r.latencies_ms);
            println!(
                "  {label:<32} p50 {p50:>6.2} ms  p95 {p95:>6.2} ms  p99 {p99:>6.2} ms  max {max:>7.2} ms  ({} hits, {} empty, max {} artifacts)",
                r.hits, r.empty, r.max_artifacts
            );
            searches.push(r);
        }
    }
    let final_memory = memory(ctx.pid)?;

    // 4. In-process phase profile of one large upload, cold and warm.
    println!("\n## phase profile");
    let mut profiles = Vec::new();
    let size = largest_cold.len();
    for variant in ["cold", "warm"] {
        let keys = if variant == "cold" {
            gen.fresh(size)
        } else {
            gen.next_version(&largest_cold)
        };
        let bytes = gen
            .document("app", &format!("profile-{variant}"), &keys)
            .bytes
            .to_vec();
        let rows = phase_profile(&ctx, bytes).await?;
        for r in &rows {
            println!(
                "  {variant} {:<44} {:>8.1} ms  held {:>6.1} MiB  peak {:>6.1} MiB",
                r.phase,
                r.ms,
                r.held as f64 / MIB,
                r.peak as f64 / MIB
            );
        }
        profiles.push((variant, rows));
    }

    summary(
        &ctx,
        &pg_version,
        &pg_settings,
        startup,
        &sizes,
        &portfolio,
        &searches,
        final_memory,
        &profiles,
    );
    Ok(())
}

struct PhaseRow {
    phase: &'static str,
    ms: f64,
    /// Live heap bytes after the phase, counted from before the body arrived.
    held: usize,
    /// Highest live heap bytes during the phase, counted the same way.
    peak: usize,
}

/// What the server does with one upload, in process and in sequence:
/// hash, parse, compress, store (in a transaction that is rolled back).
async fn phase_profile(ctx: &Ctx, bytes: Vec<u8>) -> Result<Vec<PhaseRow>> {
    let mut conn = PgConnection::connect_with(&ctx.db_opts).await?;
    let artifact_id: i64 = sqlx::query_scalar("SELECT min(id) FROM artifacts")
        .fetch_one(&mut conn)
        .await?;
    let token_id: i64 = sqlx::query_scalar("SELECT min(id) FROM api_tokens")
        .fetch_one(&mut conn)
        .await?;
    let base = heap() - bytes.len();
    let mut rows = Vec::new();
    let mut row = |phase, started: Instant| {
        rows.push(PhaseRow {
            phase,
            ms: started.elapsed().as_secs_f64() * 1e3,
            held: heap().saturating_sub(base),
            peak: heap_peak().saturating_sub(base),
        });
        reset_peak();
    };
    reset_peak();
    let doc = Bytes::from(bytes);
    row("body buffer (the document)", Instant::now());

    let t = Instant::now();
    let sha = Sha256::digest(&doc).to_vec();
    row("SHA-256", t);

    let t = Instant::now();
    let input = cairn::sboms::core::Input::new(&doc)?;
    let parsed = input.parse()?;
    row("parse (sbom::Input::parse)", t);

    let t = Instant::now();
    let gzip = cairn::upload::gzip(&doc);
    row("gzip (upload::gzip)", t);

    let t = Instant::now();
    let quality = cairn::sboms::core::quality::score(&parsed).summary();
    row("quality scores (sbom::quality::score)", t);

    let mut tx = conn.begin().await?;
    reset_peak();
    let t = Instant::now();
    let new = cairn::sboms::store::NewSbom {
        artifact_id,
        content_sha256: &sha,
        parsed: &parsed,
        document_size: doc.len() as i64,
        gzip: &gzip,
        uploaded_by: token_id,
        quality: &quality,
    };
    let id = cairn::sboms::store::insert(&mut tx, &new).await?;
    ensure!(id.is_some(), "the profile's SBOM was already stored");
    row("sboms::store::insert (SQL, rolled back)", t);
    tx.rollback().await?;

    drop(parsed);
    drop(input);
    drop(gzip);
    drop(doc);
    row("after the request: all dropped", Instant::now());
    conn.shrink_buffers();
    row("after PgConnection::shrink_buffers()", Instant::now());
    conn.close().await?;
    Ok(rows)
}

async fn search(
    client: &reqwest::Client,
    ctx: &Ctx,
    label: &'static str,
    stats: &str,
    queries: &[Vec<(&'static str, String)>],
) -> Result<SearchResult> {
    let mut r = SearchResult {
        label,
        stats: stats.to_string(),
        latencies_ms: Vec::new(),
        hits: 0,
        empty: 0,
        max_artifacts: 0,
        bytes: 0,
    };
    let url = format!("{}/api/v1/components", ctx.base);
    for (i, query) in queries.iter().enumerate() {
        let started = Instant::now();
        let res = client
            .get(&url)
            .query(query)
            .bearer_auth(&ctx.token)
            .send()
            .await?;
        let status = res.status();
        let body = res.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        ensure!(
            status == 200,
            "search {query:?}: {status}: {}",
            String::from_utf8_lossy(&body)
        );
        if i < ctx.plan.search_warmup {
            continue;
        }
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        let items = page["items"].as_array().context("no items")?;
        r.latencies_ms.push(ms);
        r.hits += items.len();
        r.empty += usize::from(items.is_empty());
        r.bytes += body.len();
        for item in items {
            r.max_artifacts = r
                .max_artifacts
                .max(item["artifact_count"].as_i64().unwrap_or(0));
        }
    }
    Ok(r)
}

/// Nearest-rank p50, p95, p99 and max.
fn percentiles(samples: &[f64]) -> (f64, f64, f64, f64) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| s[((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    (at(0.50), at(0.95), at(0.99), s[s.len() - 1])
}

fn median(samples: &[f64]) -> f64 {
    percentiles(samples).0
}

fn largest_size(sizes: &[SizeResult]) -> usize {
    sizes.iter().map(|s| s.components).max().unwrap_or(0)
}

fn verdict(ok_target: bool, ok_aim: bool) -> &'static str {
    match (ok_target, ok_aim) {
        (_, true) => "meets target and aim",
        (true, false) => "meets target, misses aim",
        (false, _) => "MISSES target",
    }
}

fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn summary(
    ctx: &Ctx,
    pg_version: &str,
    pg_settings: &[String],
    startup: Memory,
    sizes: &[SizeResult],
    portfolio: &Portfolio,
    searches: &[SearchResult],
    final_memory: Memory,
    profiles: &[(&str, Vec<PhaseRow>)],
) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);

    let mut o = String::new();
    let _ = writeln!(o, "\n# Cairn benchmark summary\n");
    let _ = writeln!(
        o,
        "Machine: {nproc} CPUs ({cpu}), {mem_total:.1} GiB RAM; client, server and PostgreSQL on the same host, over loopback."
    );
    let _ = writeln!(o, "PostgreSQL: {pg_version}");
    let _ = writeln!(o, "PostgreSQL settings: {}", pg_settings.join(", "));
    let _ = writeln!(
        o,
        "Server: `cairn serve` release build, CAIRN_LOG=warn, default pool; documents are compact CycloneDX 1.5 JSON, sent uncompressed."
    );
    let _ = writeln!(
        o,
        "Bench: `cargo bench -p cairn --bench ingest` (seed {SEED:#x}), {:.0} s in all; load average {} at the start, {} at the end.\n",
        ctx.started.elapsed().as_secs_f64(),
        ctx.load_before,
        loadavg()
    );

    let _ = writeln!(
        o,
        "## Ingestion: POST /api/v1/sboms until 201 (parse, store, commit)\n"
    );
    let _ = writeln!(
        o,
        "Cold: every component new to the database. Warm: a new version of the same artifact, 90 % of components already stored, 10 % new.\n"
    );
    let _ = writeln!(
        o,
        "| Components | Edges | Document | Upload | n | min | median | comp/s (median) | MB/s (median) | Target ≥ 20k comp/s (aim ≥ 60k) |"
    );
    let _ = writeln!(o, "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|");
    for s in sizes {
        for (what, ups) in [
            ("cold", std::slice::from_ref(&s.cold)),
            ("warm", s.warm.as_slice()),
        ] {
            if ups.is_empty() {
                continue;
            }
            let secs: Vec<f64> = ups.iter().map(|u| u.secs).collect();
            let (min, med) = (
                secs.iter().copied().fold(f64::INFINITY, f64::min),
                median(&secs),
            );
            let bytes = ups.iter().map(|u| u.bytes).sum::<usize>() as f64 / ups.len() as f64;
            let rate = s.components as f64 / med;
            let mut v = verdict(rate >= TARGET_RATE, rate >= AIM_RATE).to_string();
            let limit = match s.components {
                10_000 => Some(0.5),
                100_000 => Some(5.0),
                _ => None,
            };
            if let Some(limit) = limit {
                let _ = write!(
                    v,
                    " (≤ {limit} s: {})",
                    if med <= limit { "yes" } else { "NO" }
                );
            }
            let _ = writeln!(
                o,
                "| {} | {} | {:.2} MB | {what} | {} | {:.0} ms | {:.0} ms | {} | {:.1} | {v} |",
                thousands(s.components as i64),
                thousands(s.dependencies as i64),
                bytes / MB,
                ups.len(),
                min * 1e3,
                med * 1e3,
                thousands(rate as i64),
                bytes / MB / med,
            );
        }
    }
    let p = portfolio;
    let secs: Vec<f64> = p.uploads.iter().map(|u| u.secs).collect();
    let med = median(&secs);
    let _ = writeln!(
        o,
        "\nPortfolio growth ({} uploads of {} components, ~90 % already stored): median {:.0} ms = {} comp/s; mean of the first 5 {:.0} ms, of the last 5 {:.0} ms.\n",
        p.uploads.len(),
        thousands(ctx.plan.portfolio_sbom_size as i64),
        med * 1e3,
        thousands((ctx.plan.portfolio_sbom_size as f64 / med) as i64),
        p.first * 1e3,
        p.last * 1e3
    );

    let _ = writeln!(
        o,
        "## Server memory (cairn process only, /proc/<pid>/status)\n"
    );
    let _ = writeln!(
        o,
        "| After | VmRSS | VmHWM (peak so far) | Target ≤ 300 MiB (aim ≤ 150) |"
    );
    let _ = writeln!(o, "|---|---:|---:|---|");
    let mib = |b: u64| b as f64 / MIB;
    let _ = writeln!(
        o,
        "| startup (baseline) | {:.1} MiB | {:.1} MiB | |",
        mib(startup.rss),
        mib(startup.hwm)
    );
    for s in sizes {
        let peak = mib(s.memory.hwm);
        let v = if s.components == 100_000 {
            verdict(peak <= TARGET_RSS_MIB, peak <= AIM_RSS_MIB)
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "| {}-component uploads | {:.1} MiB | {:.1} MiB | {v} |",
            thousands(s.components as i64),
            mib(s.memory.rss),
            peak
        );
    }
    let _ = writeln!(
        o,
        "| portfolio growth | {:.1} MiB | {:.1} MiB | |",
        mib(p.memory.rss),
        mib(p.memory.hwm)
    );
    let _ = writeln!(
        o,
        "| search | {:.1} MiB | {:.1} MiB | |",
        mib(final_memory.rss),
        mib(final_memory.hwm)
    );
    if let Some(s) = sizes.iter().find(|s| s.components == 100_000) {
        let _ = writeln!(
            o,
            "\nPeak RSS at 100k components: **{:.1} MiB** (target ≤ 300 MiB, aim ≤ 150 MiB).",
            mib(s.memory.hwm)
        );
    }

    let _ = writeln!(
        o,
        "\n## Search: GET /api/v1/components (default page of 50)\n"
    );
    let _ = writeln!(
        o,
        "Portfolio: {} sbom_components rows, {} distinct components, {} SBOMs, {} artifacts; database {:.0} MiB. Sequential requests over one keep-alive connection after {} warm-up requests per class; client-measured.\n",
        thousands(p.links),
        thousands(p.components),
        thousands(p.sboms),
        thousands(p.artifacts),
        p.db_size as f64 / MIB,
        ctx.plan.search_warmup
    );
    let _ = writeln!(
        o,
        "| Query | Statistics | n | p50 | p95 | p99 | max | hits/request | max artifact_count | KB/response | Target p95 ≤ 20 ms (aim ≤ 10) |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in searches {
        let (p50, p95, p99, max) = percentiles(&r.latencies_ms);
        let n = r.latencies_ms.len();
        let _ = writeln!(
            o,
            "| {} | {} | {n} | {p50:.2} ms | {p95:.2} ms | {p99:.2} ms | {max:.1} ms | {:.1} | {} | {:.1} | {} |",
            r.label,
            r.stats,
            r.hits as f64 / n as f64,
            r.max_artifacts,
            r.bytes as f64 / n as f64 / 1024.0,
            verdict(p95 <= TARGET_P95_MS, p95 <= AIM_P95_MS)
        );
    }
    if searches.iter().any(|r| r.empty > 0) {
        let _ = writeln!(
            o,
            "\nEmpty results: {}",
            searches
                .iter()
                .map(|r| format!("{} {}", r.label, r.empty))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let [(v1, cold), (v2, warm)] = profiles {
        let _ = writeln!(
            o,
            "\n## Where one {}-component upload goes (in process, the server's code, sequential)\n",
            thousands(largest_size(sizes) as i64)
        );
        let _ = writeln!(
            o,
            "Heap = live bytes in Rust allocations (counting allocator), from before the body arrived; the server's RSS adds allocator overhead and memory kept from earlier requests. The server runs gzip on another thread, in parallel with parsing.\n"
        );
        let _ = writeln!(
            o,
            "| Phase | {v1}: time | heap held | heap peak | {v2}: time | heap held | heap peak |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for (a, b) in cold.iter().zip(warm) {
            let _ = writeln!(
                o,
                "| {} | {:.0} ms | {:.1} MiB | {:.1} MiB | {:.0} ms | {:.1} MiB | {:.1} MiB |",
                a.phase,
                a.ms,
                a.held as f64 / MIB,
                a.peak as f64 / MIB,
                b.ms,
                b.held as f64 / MIB,
                b.peak as f64 / MIB
            );
        }
    }
    let _ = writeln!(
        o,
        "\nIssue targets: ingestion ≥ 20,000 components/s end to end (10k ≤ 0.5 s, 100k ≤ 5 s), peak RSS ≤ 300 MiB at 100k, search p95 ≤ 20 ms; aims ≥ 60,000 comp/s, ≤ 150 MiB, p95 ≤ 10 ms."
    );
    println!("{o}");
}
