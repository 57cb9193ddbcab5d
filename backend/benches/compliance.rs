//! Compliance report benchmark.
//!
//! `cargo bench -p cairn --bench compliance`
//!
//! Against the real `cairn serve` binary on a fresh database (see
//! benches/common): one project with 1,000 releases (each its own
//! 30-component CycloneDX SBOM and digest), a policy set with
//! `sbom-present`, `signed` and `vulnerabilities` evaluated by the server's
//! worker; then the time of `GET /api/v1/reports/{framework}` for the
//! project (JSON and OSCAL), one release, the portfolio, and the CISA
//! attestation form — median and worst of 5 requests each, with the body
//! size. The target: a 1,000-release project's report in under 2 s.
//!
//! Environment: `CAIRN_BENCH_DATABASE_URL` (admin URL, default local),
//! `CAIRN_BENCH_QUICK=1` for 100 releases.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

mod common;
use common::{loadavg, BenchDb, Server};

fn sbom(i: usize) -> Vec<u8> {
    let components: Vec<Value> = (0..30)
        .map(|c| {
            json!({"type": "library", "bom-ref": format!("c{c}"), "name": format!("github.com/org/m{c}"),
                   "version": format!("v1.{}.0", (i + c) % 7),
                   "purl": format!("pkg:golang/github.com/org/m{c}@v1.{}.0", (i + c) % 7),
                   "supplier": {"name": "org"}, "licenses": [{"expression": "MIT"}],
                   "hashes": [{"alg": "SHA-256", "content": hex::encode(Sha256::digest(format!("{i}/{c}")))}]})
        })
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"timestamp": "2026-12-01T00:00:00Z", "tools": [{"name": "bench"}],
                     "component": {"type": "application", "bom-ref": "root", "name": "app", "version": format!("1.0.{i}")}},
        "components": components,
    }))
    .unwrap()
}

async fn time(
    client: &reqwest::Client,
    s: &Server,
    path: &str,
) -> Result<(Duration, Duration, usize)> {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let res = client
            .get(format!("{}{path}", s.base))
            .bearer_auth(&s.token)
            .send()
            .await?;
        ensure!(res.status() == 200, "{path}: {}", res.status());
        size = res.bytes().await?.len();
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[2], times[4], size))
}

#[tokio::main]
async fn main() -> Result<()> {
    let quick = std::env::var("CAIRN_BENCH_QUICK").is_ok();
    let n = if quick { 100 } else { 1_000 };
    let db = BenchDb::create("cairn_bench_compliance").await?;
    println!(
        "compliance benchmark: {n} releases, PostgreSQL {}, load {}",
        db.server,
        loadavg()
    );
    let mut server = Server::start(&db.url, &[])?;
    server.wait_ready().await?;
    let client = reqwest::Client::new();

    let t = Instant::now();
    for i in 0..n {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(i.to_string())));
        let res = client
            .post(format!(
                "{}/api/v1/sboms?project=bench/app&artifact=app&version=1.0.{i}&digest={digest}",
                server.base
            ))
            .bearer_auth(&server.token)
            .body(sbom(i))
            .send()
            .await?;
        ensure!(res.status() == 201, "upload {i}: {}", res.status());
    }
    println!("  {n} SBOMs uploaded in {:.1} s", t.elapsed().as_secs_f64());
    let res = client
        .post(format!("{}/api/v1/policy-sets", server.base))
        .bearer_auth(&server.token)
        .json(&json!({"name": "release", "mode": "enforce", "rules": [
            {"rule": "sbom-present"}, {"rule": "signed"}, {"rule": "vulnerabilities"}]}))
        .send()
        .await?;
    ensure!(res.status() == 201, "policy set: {}", res.status());
    let mut conn = PgConnection::connect_with(&db.options).await?;
    let t = Instant::now();
    loop {
        let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM policy_queue")
            .fetch_one(&mut conn)
            .await?;
        if queued == 0 {
            break;
        }
        ensure!(
            t.elapsed() < Duration::from_secs(600),
            "evaluations did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let evaluations: i64 = sqlx::query_scalar("SELECT count(*) FROM policy_evaluations")
        .fetch_one(&mut conn)
        .await?;
    println!(
        "  {evaluations} evaluations by the server's worker in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    println!("  request                                                           median    worst     body");
    for path in [
        "/api/v1/reports/nist-800-53r5?project=bench/app".to_string(),
        "/api/v1/reports/nist-800-53r5?project=bench/app&format=oscal".into(),
        "/api/v1/reports/nist-ssdf-1.1?project=bench/app&format=csv".into(),
        "/api/v1/reports/eu-cra?project=bench/app&format=html".into(),
        "/api/v1/reports/eu-cra?project=bench/app&version=1.0.7".into(),
        "/api/v1/reports/eu-cra".into(),
        "/api/v1/attestation-forms/cisa?project=bench/app".into(),
    ] {
        let (median, worst, size) = time(&client, &server, &path).await?;
        println!(
            "  {path:<66} {:>6.0} ms {:>6.0} ms {:>7} KiB",
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            size / 1024
        );
    }
    server.stop()?;
    drop(conn);
    db.drop_unless_kept().await?;
    Ok(())
}
