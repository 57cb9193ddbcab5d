//! Vulnerability import and matching, in process with the server's own code
//! on a fresh database (`CAIRN_BENCH_DATABASE_URL`, default the local
//! server; dropped at the end unless `CAIRN_BENCH_KEEP_DB=1`).
//!
//! `cargo bench -p cairn --bench vulnerabilities` times:
//! 1. importing the whole Go vulnerability database (4,291 records, the
//!    osv.dev `all.zip` shape), then importing it again (all unchanged);
//! 2. importing 50,000 generated advisories (JSON array), in records/s, then
//!    150,000 more (200,000 synthetic in all);
//! 3. matching one 100,000-component SBOM against all of them
//!    (`artifact_findings`: candidates by index, then per-ecosystem range
//!    evaluation);
//! 4. a fleet of 10,000 artifacts × 100 components (1 M component links
//!    with the big SBOM's): an advisory for a component all of them ship is
//!    imported, and the time until "are we affected" lists all 10,000
//!    (matched live while they wait for evaluation); the evaluation worker
//!    then records every artifact's findings (two workers, evaluations/s);
//! 5. "are we affected by X?" (`vulnerability`) from the recorded findings,
//!    p50/p95 of 50 calls, for a vulnerability in 200 artifacts and for the
//!    one in all 10,000.
//!
//! `CAIRN_BENCH_QUICK=1` shrinks the generated parts to check the bench.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;

mod common;
use common::{loadavg, BenchDb};

fn quick() -> bool {
    std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn sbom(components: &[String]) -> Vec<u8> {
    let comps: Vec<serde_json::Value> = components
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (name, version) = p.rsplit_once('@').unwrap();
            json!({"type": "library", "bom-ref": format!("c{i}"), "name": name, "version": version, "purl": p})
        })
        .collect();
    serde_json::to_vec(
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}),
    )
    .unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let db = BenchDb::create("cairn_bench_vulns").await?;
    let pool = cairn::db::connect(db.options.clone(), 4).await?;
    cairn::db::MIGRATOR.run(&pool).await?;
    let (token_id, _) =
        cairn::identity::store::create(&pool, "bench", cairn::identity::Role::Admin).await?;
    let caller = cairn::identity::Caller {
        token_id,
        name: "bench".into(),
        role: cairn::identity::Role::Admin,
        projects: None,
    };
    let (synthetic, more, components, artifacts) = if quick() {
        (2_000, 2_000, 10_000, 200)
    } else {
        (50_000, 150_000, 100_000, 10_000)
    };
    let mut out = String::new();
    out.push_str(&format!(
        "load before: {}\n\n| step | figure |\n|---|---|\n",
        loadavg()
    ));

    use cairn::vulnerabilities::service::{self, Source};
    let zip = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/osv/golang-vulndb__Go-all.zip"
    ))?;
    let t = Instant::now();
    let r = service::import(
        &pool,
        Source::Zip(Box::new(std::io::Cursor::new(zip.clone()))),
        |_| {},
    )
    .await?;
    let e = t.elapsed();
    out.push_str(&format!(
        "| Go database import ({} records, zip) | {:.2} s, {:.0} records/s |\n",
        r.records,
        e.as_secs_f64(),
        r.records as f64 / e.as_secs_f64()
    ));
    let t = Instant::now();
    let r = service::import(
        &pool,
        Source::Zip(Box::new(std::io::Cursor::new(zip))),
        |_| {},
    )
    .await?;
    out.push_str(&format!(
        "| the same again ({} unchanged) | {:.2} s |\n",
        r.unchanged,
        t.elapsed().as_secs_f64()
    ));

    // Synthetic advisories: package example.com/pN, two ranges each, an alias.
    let generated = |from: usize, to: usize| -> Vec<serde_json::Value> {
        (from..to)
        .map(|i| json!({"id": format!("SYN-{i}"), "aliases": [format!("CVE-2099-{:06}", i)],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Go", "name": format!("example.com/p{}", i % 20_000)},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": format!("1.{}.0", i % 7)},
                                                          {"introduced": "2.0.0"}, {"fixed": "2.3.1"}]}]}]}))
        .collect()
    };
    let body = serde_json::to_vec(&generated(0, synthetic))?;
    let t = Instant::now();
    let r = service::import(&pool, Source::Json(body.into()), |_| {}).await?;
    let e = t.elapsed();
    out.push_str(&format!(
        "| {} generated advisories (JSON array) | {:.2} s, {:.0} records/s |\n",
        r.imported,
        e.as_secs_f64(),
        r.imported as f64 / e.as_secs_f64()
    ));
    let body = serde_json::to_vec(&generated(synthetic, synthetic + more))?;
    let t = Instant::now();
    let r = service::import(&pool, Source::Json(body.into()), |_| {}).await?;
    let e = t.elapsed();
    out.push_str(&format!(
        "| {} more (to {} synthetic) | {:.2} s, {:.0} records/s |\n",
        r.imported,
        synthetic + more,
        e.as_secs_f64(),
        r.imported as f64 / e.as_secs_f64()
    ));
    let synthetic = synthetic + more;

    // One large SBOM: synthetic modules (a fifth of them advised) and real
    // ones at vulnerable versions.
    let mut purls: Vec<String> = (0..components - 3)
        .map(|i| {
            format!(
                "pkg:golang/example.com/p{}@v1.{}.{}",
                i * 5 % 100_000,
                i % 9,
                i % 3
            )
        })
        .collect();
    purls.extend([
        "pkg:golang/golang.org/x/net@v0.6.0".into(),
        "pkg:golang/stdlib@go1.13.4".into(),
        "pkg:golang/golang.org/x/text@v0.3.6".into(),
    ]);
    let target = cairn::inventory::service::ArtifactTarget::parse("bench/big", "big", "1", None)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let up = cairn::upload::Upload {
        document: sbom(&purls).into(),
        gzip: None,
    };
    cairn::sboms::service::ingest_sbom(&pool, &target, up, &caller)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let big: i64 = sqlx::query_scalar("SELECT id FROM artifacts WHERE name = 'big'")
        .fetch_one(&pool)
        .await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..5 {
        let mut conn = pool.acquire().await?;
        let t = Instant::now();
        n = service::artifact_findings(&mut conn, big).await?.len();
        times.push(t.elapsed());
    }
    // The first match reads and prepares the advisory entries (as the
    // first one after every import does); the others find them in memory.
    let cold = times[0];
    times.sort();
    out.push_str(&format!("| matching a {components}-component SBOM against {} advisories ({n} findings) | first (index cold) {:.0} ms, median of 5 {:.0} ms |\n",
        4291 + synthetic, cold.as_secs_f64() * 1000.0, pct(&times, 0.5).as_secs_f64() * 1000.0));

    // A fleet: every artifact ships example.com/shared, x/net in 200 of
    // them, 98 more modules from a pool of 20,000.
    let t = Instant::now();
    for a in 0..artifacts {
        let target = cairn::inventory::service::ArtifactTarget::parse(
            "bench/fleet",
            &format!("svc{a}"),
            "1",
            None,
        )
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut p: Vec<String> = (0..98)
            .map(|i| {
                format!(
                    "pkg:golang/example.com/q{}@v1.0.{}",
                    (a * 7 + i * 211) % 20_000,
                    i % 3
                )
            })
            .collect();
        p.push("pkg:golang/example.com/shared@v1.4.0".into());
        if a % (artifacts / 200) == 0 {
            p.push("pkg:golang/golang.org/x/net@v0.6.0".into());
        } else {
            p.push(format!("pkg:golang/example.com/own{a}@v0.1.0"));
        }
        let up = cairn::upload::Upload {
            document: sbom(&p).into(),
            gzip: None,
        };
        cairn::sboms::service::ingest_sbom(&pool, &target, up, &caller)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let links: i64 = sqlx::query_scalar("SELECT count(*) FROM sbom_components")
        .fetch_one(&pool)
        .await?;
    out.push_str(&format!(
        "| ingesting {artifacts} SBOMs of 100 components ({links} component links in all) | {:.1} s |\n",
        t.elapsed().as_secs_f64()
    ));
    let options = cairn::policies::worker::WorkerOptions {
        workers: 1,
        batch: 50,
        limits: cairn::policies::core::engine::EvalLimits {
            rego: Duration::from_millis(250),
            evaluation: Duration::from_secs(10),
        },
        idle_poll: Duration::from_millis(50),
        base_backoff_secs: 1.0,
        max_claims: 2,
        fault: None,
        clock: Default::default(),
    };
    let drain = || async {
        let (a, b) = tokio::join!(
            cairn::policies::worker::drain(&pool, &options),
            cairn::policies::worker::drain(&pool, &options)
        );
        anyhow::Ok(a? + b?)
    };
    // Statistics as autovacuum would have them after such a burst: with
    // those of the single big SBOM, the planner scans every link.
    sqlx::query("ANALYZE").execute(&pool).await?;
    drain().await?;
    sqlx::query("ANALYZE").execute(&pool).await?;

    // The advisory arrives: how long until every artifact is listed?
    let shared = json!({"id": "BENCH-SHARED-1", "aliases": ["CVE-2099-999999"],
        "affected": [{"package": {"ecosystem": "Go", "name": "example.com/shared"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.5.0"}]}]}]});
    let t = Instant::now();
    service::import(
        &pool,
        Source::Json(serde_json::to_vec(&shared)?.into()),
        |_| {},
    )
    .await?;
    let imported = t.elapsed();
    let mut conn = pool.acquire().await?;
    let shared_group = service::vulnerability_group(&mut conn, "CVE-2099-999999")
        .await?
        .context("the shared advisory was imported")?;
    drop(conn);
    let view = service::vulnerability(&pool, shared_group).await?;
    let listed = t.elapsed();
    anyhow::ensure!(view.pending, "the fleet waits for re-evaluation");
    out.push_str(&format!(
        "| advisory for a component in {} artifacts: import, then all listed (matched live) | import {:.0} ms, all {} listed {:.2} s after the import began |\n",
        artifacts, imported.as_secs_f64() * 1000.0, view.findings.len(), listed.as_secs_f64()
    ));
    let t = Instant::now();
    let evaluated = drain().await?;
    let e = t.elapsed();
    out.push_str(&format!(
        "| the worker records the fleet's findings ({evaluated} evaluations, 2 workers) | {:.1} s, {:.0} evaluations/s |\n",
        e.as_secs_f64(), evaluated as f64 / e.as_secs_f64()
    ));
    sqlx::query("ANALYZE").execute(&pool).await?;

    let mut conn = pool.acquire().await?;
    let group = service::vulnerability_group(&mut conn, "CVE-2022-41723")
        .await?
        .context("GO-2023-1571 imported")?;
    drop(conn);
    for (name, group) in [("CVE-2022-41723", group), ("CVE-2099-999999", shared_group)] {
        let mut times = Vec::new();
        let mut affected = 0;
        for _ in 0..50 {
            let t = Instant::now();
            let view = service::vulnerability(&pool, group).await?;
            anyhow::ensure!(!view.pending, "answered from the recorded findings");
            affected = view.findings.len();
            times.push(t.elapsed());
        }
        times.sort();
        out.push_str(&format!("| \"are we affected by {name}?\" ({affected} affected artifacts × components, recorded) | p50 {:.1} ms, p95 {:.1} ms |\n",
            pct(&times, 0.5).as_secs_f64() * 1000.0, pct(&times, 0.95).as_secs_f64() * 1000.0));
    }
    out.push_str(&format!("\nload after: {}\n", loadavg()));
    println!("{out}");
    pool.close().await;
    db.drop_unless_kept().await
}
