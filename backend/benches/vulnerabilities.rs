//! Vulnerability import and matching, in process with the server's own code
//! on a fresh database (`CAIRN_BENCH_DATABASE_URL`, default the local
//! server; dropped at the end unless `CAIRN_BENCH_KEEP_DB=1`).
//!
//! `cargo bench -p cairn --bench vulnerabilities` times:
//! 1. importing the whole Go vulnerability database (4,291 records, the
//!    osv.dev `all.zip` shape), then importing it again (all unchanged);
//! 2. importing 50,000 generated advisories (JSON array), in records/s;
//! 3. matching one 100,000-component SBOM against all of them
//!    (`artifact_findings`: candidates by index, then per-ecosystem range
//!    evaluation);
//! 4. "are we affected by X?" (`vulnerability`) for an advisory affecting
//!    a component present in 200 artifacts, p50/p95 of 50 calls.
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
        cairn::store::tokens::create(&pool, "bench", cairn::auth::Role::Admin).await?;
    let caller = cairn::auth::Caller {
        token_id,
        name: "bench".into(),
        role: cairn::auth::Role::Admin,
    };
    let (synthetic, components, artifacts) = if quick() {
        (2_000, 10_000, 20)
    } else {
        (50_000, 100_000, 200)
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
    let records: Vec<serde_json::Value> = (0..synthetic)
        .map(|i| json!({"id": format!("SYN-{i}"), "aliases": [format!("CVE-2099-{:05}", i)],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Go", "name": format!("example.com/p{}", i % 20_000)},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": format!("1.{}.0", i % 7)},
                                                          {"introduced": "2.0.0"}, {"fixed": "2.3.1"}]}]}]}))
        .collect();
    let body = serde_json::to_vec(&records)?;
    let t = Instant::now();
    let r = service::import(&pool, Source::Json(body.into()), |_| {}).await?;
    let e = t.elapsed();
    out.push_str(&format!(
        "| {} generated advisories (JSON array) | {:.2} s, {:.0} records/s |\n",
        r.imported,
        e.as_secs_f64(),
        r.imported as f64 / e.as_secs_f64()
    ));

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
    let target = cairn::ingest::ArtifactTarget::parse("bench/big", "big", "1", None)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let up = cairn::upload::Upload {
        document: sbom(&purls).into(),
        gzip: None,
    };
    cairn::ingest::ingest_sbom(&pool, &target, up, &caller)
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
    times.sort();
    out.push_str(&format!("| matching a {components}-component SBOM against {} advisories ({n} findings) | median {:.0} ms |\n",
        4291 + synthetic, pct(&times, 0.5).as_secs_f64() * 1000.0));

    // Many artifacts sharing a component: "are we affected by X?".
    for a in 0..artifacts {
        let target =
            cairn::ingest::ArtifactTarget::parse("bench/fleet", &format!("svc{a}"), "1", None)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut p: Vec<String> = (0..50)
            .map(|i| format!("pkg:golang/example.com/q{a}x{i}@v1.0.0"))
            .collect();
        p.push("pkg:golang/golang.org/x/net@v0.6.0".into());
        let up = cairn::upload::Upload {
            document: sbom(&p).into(),
            gzip: None,
        };
        cairn::ingest::ingest_sbom(&pool, &target, up, &caller)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    let mut conn = pool.acquire().await?;
    let group = service::vulnerability_group(&mut conn, "CVE-2022-41723")
        .await?
        .context("GO-2023-1571 imported")?;
    drop(conn);
    let mut times = Vec::new();
    let mut affected = 0;
    for _ in 0..50 {
        let t = Instant::now();
        affected = service::vulnerability(&pool, group).await?.findings.len();
        times.push(t.elapsed());
    }
    times.sort();
    out.push_str(&format!("| \"are we affected by CVE-2022-41723?\" ({affected} affected artifacts × components) | p50 {:.1} ms, p95 {:.1} ms |\n",
        pct(&times, 0.5).as_secs_f64() * 1000.0, pct(&times, 0.95).as_secs_f64() * 1000.0));
    out.push_str(&format!("\nload after: {}\n", loadavg()));
    println!("{out}");
    pool.close().await;
    db.drop_unless_kept().await
}
