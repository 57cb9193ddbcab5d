//! Policy engine benchmark.
//!
//! `cargo bench -p cairn --bench policy`
//!
//! 1. In process (the server's own code, no database): evaluations per
//!    second of a 10-rule policy set — the seven built-in rules plus three
//!    Rego rules — on an artifact whose SBOM has 10,000 components
//!    (generated CycloneDX 1.5, fixed seed), exactly what the worker does
//!    per artifact: `EvalContext` (Rego input converted once), every rule,
//!    and the evidence digest. Sequential, then on every core; twice: the
//!    same artifact re-judged (its SBOM-only rules' outcomes are reused, as
//!    when a signature or a build record arrives after the SBOM), and a new
//!    SBOM every time (32 variants cycled: nothing can be reused). Then
//!    both again with the Rego rules in evaluation worker processes, as
//!    the server runs them.
//! 2. Against the real `cairn serve` binary on a fresh database (see
//!    benches/common): the same SBOM uploaded, the same set created and
//!    evaluated by the server's worker; `load_input` timed; 40 artifacts
//!    (each its own SBOM) re-judged by the server's worker after a set
//!    change; then `GET /api/v1/gate` and
//!    `POST /k8s/admission` (a Deployment with one digest-pinned image)
//!    under concurrent clients; latency percentiles per endpoint.
//!
//! Environment: `CAIRN_BENCH_DATABASE_URL` (admin URL, default local),
//! `CAIRN_BENCH_QUICK=1` for a short run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use cairn::attestations::core::{Identity, Provenance};
use cairn::policies::core::engine::{self, EvalContext, EvalLimits, PolicyDefinition};
use cairn::policies::core::input::{ProvenanceFacts, SbomFacts, SignatureFacts};
use cairn::policies::core::RuleInput;

mod common;
use common::{loadavg, BenchDb, Server};

const SEED: u64 = 0x5EED_0005;
const BENCH_LIMITS: EvalLimits = EvalLimits {
    rego: Duration::from_secs(2),
    evaluation: Duration::from_secs(60),
};
const COMPONENTS: usize = 10_000;
const DIGEST: &str = "sha256:5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

fn sbom(n: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let licences = [
        "MIT",
        "Apache-2.0",
        "BSD-3-Clause",
        "MIT OR Apache-2.0",
        "ISC",
        "MPL-2.0",
    ];
    let components: Vec<Value> = (0..n)
        .map(|i| {
            let ns = rng.random_range(0..500);
            json!({
                "type": "library", "bom-ref": format!("c{i}"),
                "name": format!("github.com/org{ns}/module{i}"),
                "version": format!("v1.{}.{}", rng.random_range(0..30), rng.random_range(0..10)),
                "purl": format!("pkg:golang/github.com/org{ns}/module{i}@v1.{}.0", rng.random_range(0..30)),
                "supplier": {"name": format!("org{ns}")},
                "licenses": [{"expression": licences[rng.random_range(0..licences.len())]}],
                "hashes": [{"alg": "SHA-256", "content": hex::encode(rng.random::<[u8; 32]>())}]
            })
        })
        .collect();
    let deps: Vec<Value> = (0..n)
        .map(|i| json!({"ref": format!("c{i}"), "dependsOn": if i + 1 < n { vec![format!("c{}", i + 1)] } else { vec![] }}))
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"timestamp": "2026-01-01T00:00:00Z", "authors": [{"name": "bench"}],
                     "tools": {"components": [{"type": "application", "name": "bench", "version": "1"}]},
                     "component": {"type": "application", "bom-ref": "root", "name": "app", "version": "1.0.0"}},
        "components": components,
        "dependencies": deps,
    }))
    .unwrap()
}

const REGO_LICENCES: &str = r#"package bench.licences
violations contains msg if {
    some c in input.sbom.components
    c.licenses == "AGPL-3.0-only"
    msg := sprintf("%s is AGPL", [c.name])
}"#;
const REGO_PURLS: &str = r#"package bench.purls
violations contains msg if {
    some c in input.sbom.components
    is_string(c.purl)
    startswith(c.purl, "pkg:golang/github.com/evil/")
    msg := sprintf("%s is from a denied namespace", [c.purl])
}"#;
const REGO_SIGNERS: &str = r#"package bench.signers
violations contains "no GitHub Actions signature" if {
    count([s | some s in input.signatures; s.identity.issuer == "https://token.actions.githubusercontent.com"]) == 0
}"#;

fn definition() -> PolicyDefinition {
    serde_json::from_value(json!({
        "name": "bench", "mode": "enforce",
        "rules": [
            {"rule": "sbom-present", "params": {"min_spec_version": "1.4", "min_completeness": 0.8}},
            {"rule": "signed", "params": {"identities": [{"issuer": "https://token.actions.githubusercontent.com", "san_regex": "https://github\\.com/acme/.*"}]}},
            {"rule": "provenance", "params": {"min_slsa_level": 2, "require_source_match": false}},
            {"rule": "ephemeral-runner", "params": {"require_build_record": false}},
            {"rule": "licenses", "params": {"deny": ["GPL-3.0-only", "AGPL-3.0-only", "SSPL-1.0"]}},
            {"rule": "components", "params": {"deny": ["pkg:golang/github.com/evil/*", "pkg:golang/github.com/org1/module1@<v1.0.0", "pkg:npm/event-stream@3.3.6"]}},
            {"rule": "evidence-fresh", "params": {"max_age_days": 30}},
            {"rego": REGO_LICENCES},
            {"rego": REGO_PURLS},
            {"rego": REGO_SIGNERS},
        ]
    }))
    .unwrap()
}

fn identity() -> Identity {
    Identity {
        kind: "certificate".into(),
        san: Some("https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1".into()),
        issuer: Some("https://token.actions.githubusercontent.com".into()),
        workflow_repository: Some("acme/app".into()),
        runner_environment: Some("github-hosted".into()),
        ..Identity::default()
    }
}

fn input(doc: &[u8]) -> RuleInput {
    let parsed_input = cairn::sboms::core::Input::new(doc).unwrap();
    let parsed = parsed_input.parse().unwrap();
    let mut i = RuleInput {
        sbom: Some(SbomFacts::from_parsed(1, &parsed, Utc::now())),
        now: Utc::now(),
        ..RuleInput::default()
    };
    i.project.name = "acme/app".into();
    i.signatures.push(SignatureFacts {
        id: 1,
        kind: "sigstore-bundle".into(),
        identity: Some(identity()),
        predicate_type: Some("https://slsa.dev/provenance/v1".into()),
        trusted_by: None,
        uploaded_at: Utc::now(),
        signed_at: None,
    });
    i.provenance.push(ProvenanceFacts {
        id: 1,
        signer: Some(identity()),
        trusted_by: None,
        provenance: Provenance {
            slsa_version: "https://slsa.dev/provenance/v1".into(),
            builder_id: Some("https://github.com/actions/runner/github-hosted".into()),
            source_repository: Some("https://github.com/acme/app".into()),
            ..Provenance::default()
        },
    });
    i
}

/// Variant `k`, made a new SBOM (a new id) as an upload would be.
fn new_sbom(variants: &mut [RuleInput], k: usize) -> &RuleInput {
    static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_000_000);
    let n = variants.len();
    let v = &mut variants[k % n];
    v.sbom.as_mut().expect("sbom").id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    v
}

/// One worker-style evaluation; returns whether it allowed.
fn evaluate_once(set: &engine::CompiledSet, input: &RuleInput) -> bool {
    let ctx = EvalContext::new(input, BENCH_LIMITS);
    let results = engine::evaluate(set, engine::Mode::Enforce, &ctx, Some(1), &[]);
    let _digest = engine::input_digest(input);
    assert!(
        results
            .iter()
            .all(|r| r.status != cairn::policies::core::Status::Error),
        "{results:?}"
    );
    !engine::denies(engine::Mode::Enforce, &results)
}

async fn queued(pg: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM policy_queue")
        .fetch_one(pg)
        .await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn load(
    client: &reqwest::Client,
    concurrency: usize,
    per_client: usize,
    make: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
    check: fn(&Value) -> bool,
) -> Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                let res = make(&client).send().await?;
                ensure!(res.status() == 200, "status {}", res.status());
                let v: Value = res.json().await?;
                out.push((t.elapsed(), check(&v)));
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        for (d, ok) in t.await?? {
            ensure!(ok, "unexpected answer");
            all.push(d);
        }
    }
    let wall = started.elapsed();
    all.sort();
    Ok((all, wall))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let quick = std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "policy bench: {COMPONENTS} components, {cores} cores, load {}",
        loadavg()
    );
    let doc = sbom(COMPONENTS);
    let input = Arc::new(input(&doc));
    let def = definition();
    let set = Arc::new(
        def.compile()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.pointer, e.detail))?,
    );
    ensure!(set.rules.len() == 10);

    // 1. In process.
    ensure!(evaluate_once(&set, &input), "the bench artifact must pass");
    let n = if quick { 20 } else { 300 };
    let t = Instant::now();
    for _ in 0..n {
        evaluate_once(&set, &input);
    }
    let seq = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let handles: Vec<_> = (0..cores)
        .map(|_| {
            let (set, input) = (set.clone(), input.clone());
            std::thread::spawn(move || {
                for _ in 0..n / cores {
                    evaluate_once(&set, &input);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let par = (n / cores * cores) as f64 / t.elapsed().as_secs_f64();
    // Cold: a new SBOM every time — a new SBOM id (no outcome can be
    // reused) and a component list among 32 variants cycled (more than the
    // converted-components cache holds), so everything is computed afresh.
    let variants: Vec<RuleInput> = (0..32)
        .map(|k| {
            let mut i = (*input).clone();
            let sbom = i.sbom.as_mut().expect("sbom");
            Arc::make_mut(&mut sbom.components)[1].version = Some(format!("v9.9.{k}"));
            i
        })
        .collect();
    let mut mine = variants.clone();
    let t = Instant::now();
    for k in 0..n {
        evaluate_once(&set, new_sbom(&mut mine, k));
    }
    let cold_seq = n as f64 / t.elapsed().as_secs_f64();
    let per_thread: Vec<Vec<RuleInput>> = (0..cores).map(|_| variants.clone()).collect();
    let t = Instant::now();
    let handles: Vec<_> = per_thread
        .into_iter()
        .enumerate()
        .map(|(c, mut mine)| {
            let set = set.clone();
            std::thread::spawn(move || {
                for k in 0..n / cores {
                    evaluate_once(&set, new_sbom(&mut mine, k * cores + c));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let cold_par = (n / cores * cores) as f64 / t.elapsed().as_secs_f64();
    // Where the time goes: built-ins alone, Rego input conversion.
    let builtin_only = {
        let mut d = def.clone();
        d.rules.retain(|r| r.rule.is_some());
        d.compile().map_err(|e| anyhow::anyhow!("{}", e.detail))?
    };
    // On a new SBOM each time: outcomes cannot be reused.
    let t = Instant::now();
    for k in 0..n {
        let ctx = EvalContext::new(new_sbom(&mut mine, k), BENCH_LIMITS);
        engine::evaluate(&builtin_only, engine::Mode::Enforce, &ctx, None, &[]);
    }
    let builtin_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let _ = engine::input_digest(&input);
    }
    let digest_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;

    let t = Instant::now();
    let mut rego_input = None;
    for _ in 0..n {
        rego_input = Some(cairn::policies::core::rego::input_value(&input).expect("input builds"));
    }
    let convert_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let t = Instant::now();
    for k in 0..n {
        let _ = cairn::policies::core::rego::input_value(&variants[k % variants.len()]);
    }
    let convert_cold_ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let rego_input = rego_input.expect("n > 0");
    let mut rego_ms = Vec::new();
    for module in [REGO_LICENCES, REGO_PURLS, REGO_SIGNERS] {
        let rule =
            cairn::policies::core::rego::RegoRule::compile(module).map_err(anyhow::Error::msg)?;
        let t = Instant::now();
        for _ in 0..n {
            rule.evaluate(&rego_input, Duration::from_secs(2));
        }
        rego_ms.push((
            rule.default_id(),
            t.elapsed().as_secs_f64() * 1000.0 / n as f64,
        ));
    }

    // 1b. The same set with its Rego rules in evaluation worker processes,
    // as the server runs them (the input sent to a worker once per
    // evaluation): re-judged, then a new SBOM every time.
    cairn::policies::core::sandbox::install(cairn::policies::core::sandbox::SandboxOptions {
        program: env!("CARGO_BIN_EXE_cairn").into(),
        memory_bytes: 256 << 20,
        workers: 2,
    });
    ensure!(evaluate_once(&set, &input), "the bench artifact must pass");
    let t = Instant::now();
    for _ in 0..n {
        evaluate_once(&set, &input);
    }
    let sandboxed_seq = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for k in 0..n {
        evaluate_once(&set, new_sbom(&mut mine, k));
    }
    let sandboxed_cold_seq = n as f64 / t.elapsed().as_secs_f64();

    // 2. The real server.
    let db = BenchDb::create("cairn_bench_policy").await?;
    let mut server = Server::start(&db.url, &[("CAIRN_POLICY_WORKERS", "1")])?;
    server.wait_ready().await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let res = client
        .post(format!(
            "{}/api/v1/sboms?project=acme/app&artifact=app&version=1.0.0&digest={DIGEST}",
            server.base
        ))
        .bearer_auth(&server.token)
        .body(doc.clone())
        .send()
        .await?;
    ensure!(res.status() == 201, "upload: {}", res.status());
    let artifact = res.json::<Value>().await?["artifact_id"]
        .as_i64()
        .context("artifact id")?;
    let mut server_def = serde_json::to_value(&def)?;
    // The server's artifact has no signature: judge what it has.
    server_def["rules"] = json!(def
        .rules
        .iter()
        .filter(|r| matches!(
            r.rule.as_deref(),
            Some("sbom-present" | "licenses" | "components")
        ) || r.rego.as_deref().is_some_and(|m| !m.contains("signers")))
        .collect::<Vec<_>>());
    let res = client
        .post(format!("{}/api/v1/policy-sets", server.base))
        .bearer_auth(&server.token)
        .json(&server_def)
        .send()
        .await?;
    ensure!(res.status() == 201, "policy set: {}", res.text().await?);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = client
            .get(format!(
                "{}/api/v1/artifacts/{artifact}/policy",
                server.base
            ))
            .bearer_auth(&server.token)
            .send()
            .await?
            .json()
            .await?;
        if v["decision"] == "allow" && v["queued"] == false {
            break;
        }
        ensure!(
            v["decision"] != "deny",
            "the bench artifact was denied: {v}"
        );
        ensure!(Instant::now() < deadline, "not evaluated within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // End to end: the server's worker re-judging a fleet after a policy
    // change (load the evidence from PostgreSQL, evaluate, store results).
    // Each artifact its own SBOM (the root component's version differs), so
    // no evaluation reuses another's converted components.
    let fleet = if quick { 4 } else { 40 };
    let text = String::from_utf8(doc.clone())?;
    for k in 1..fleet {
        let variant = text.replace("\"version\":\"1.0.0\"", &format!("\"version\":\"1.0.{k}\""));
        ensure!(variant != text, "the SBOM variant differs");
        let res = client
            .post(format!(
                "{}/api/v1/sboms?project=acme/app&artifact=app-{k}&version=1.0.0",
                server.base
            ))
            .bearer_auth(&server.token)
            .body(variant)
            .send()
            .await?;
        ensure!(res.status() == 201, "upload {k}: {}", res.status());
    }
    let mut pg = PgConnection::connect_with(&db.options).await?;
    while queued(&mut pg).await? > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Loading one artifact's evidence (the 10,000 components included).
    let t = Instant::now();
    let loads = if quick { 3 } else { 30 };
    for _ in 0..loads {
        let i = cairn::policies::store::load_input(&mut pg, artifact, Utc::now())
            .await?
            .context("artifact")?;
        ensure!(i.sbom.is_some_and(|s| s.components.len() > COMPONENTS));
    }
    let load_ms = t.elapsed().as_secs_f64() * 1000.0 / loads as f64;
    let set_id: i64 = sqlx::query_scalar("SELECT id FROM policy_sets")
        .fetch_one(&mut pg)
        .await?;
    server_def["description"] = json!("re-judge the fleet");
    let since: chrono::DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&mut pg)
        .await?;
    let t = Instant::now();
    let res = client
        .put(format!("{}/api/v1/policy-sets/{set_id}", server.base))
        .bearer_auth(&server.token)
        .json(&server_def)
        .send()
        .await?;
    ensure!(res.status() == 200, "policy set update: {}", res.status());
    while queued(&mut pg).await? > 0 {
        ensure!(
            t.elapsed() < Duration::from_secs(300),
            "fleet not judged in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // From the first evaluation's start to the last's: the worker's pace,
    // not how soon its idle poll (250 ms) noticed the queue.
    let (judged, span): (i64, f64) = sqlx::query_as(
        "SELECT count(*), extract(epoch FROM max(evaluated_at) - min(evaluated_at))::float8
           FROM policy_evaluations WHERE evaluated_at >= $1",
    )
    .bind(since)
    .fetch_one(&mut pg)
    .await?;
    ensure!(judged == fleet as i64, "{judged} of {fleet} re-judged");
    let worker_rate = (judged - 1) as f64 / span.max(1e-6);
    let base = server.base.clone();
    let per = if quick { 20 } else { 250 };
    let gate_url = format!("{base}/api/v1/gate?digest={DIGEST}");
    let token = server.token.clone();
    let gate: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> =
        Arc::new(move |c: &reqwest::Client| c.get(&gate_url).bearer_auth(&token));
    let review = serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "bench", "operation": "CREATE",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": format!("registry.example/acme/app@{DIGEST}")}]}}}}}
    }))?;
    let adm_url = format!("{base}/k8s/admission");
    let token = server.token.clone();
    let admit: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> =
        Arc::new(move |c: &reqwest::Client| {
            c.post(&adm_url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(review.clone())
        });
    // Warm-up.
    load(&client, 4, 10, gate.clone(), |v| v["decision"] == "allow").await?;
    load(&client, 4, 10, admit.clone(), |v| {
        v["response"]["allowed"] == true
    })
    .await?;
    let mut latency = Vec::new();
    for concurrency in [4usize, 16] {
        let (l, w) = load(&client, concurrency, per, gate.clone(), |v| {
            v["decision"] == "allow"
        })
        .await?;
        latency.push(("GET /api/v1/gate", concurrency, l, w));
        let (l, w) = load(&client, concurrency, per, admit.clone(), |v| {
            v["response"]["allowed"] == true
        })
        .await?;
        latency.push(("POST /k8s/admission", concurrency, l, w));
    }
    server.stop()?;
    db.drop_unless_kept().await?;

    println!();
    println!("### Policy evaluation ({COMPONENTS}-component SBOM, 10 rules: 7 built-in + 3 Rego)");
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| evaluations/s, 1 thread, same SBOM re-judged | {seq:.0} |");
    println!("| evaluations/s, {cores} threads, same SBOM re-judged | {par:.0} |");
    println!("| evaluations/s, 1 thread, a new SBOM every time | {cold_seq:.0} |");
    println!("| evaluations/s, {cores} threads, a new SBOM every time | {cold_par:.0} |");
    println!("| evaluations/s, 1 thread, Rego in worker processes, same SBOM re-judged | {sandboxed_seq:.0} |");
    println!("| evaluations/s, 1 thread, Rego in worker processes, a new SBOM every time | {sandboxed_cold_seq:.0} |");
    println!("| server worker (1 task), evaluations/s incl. loading from and storing to PostgreSQL, {fleet} artifacts (each its own SBOM) after a set change | {worker_rate:.0} |");
    println!(
        "| loading an artifact's evidence from PostgreSQL (`load_input`), ms | {load_ms:.2} |"
    );
    println!("| built-in rules only, ms per evaluation | {builtin_ms:.2} |");
    println!("| evidence digest, ms | {digest_ms:.2} |");
    println!("| Rego input conversion, new SBOM, ms | {convert_cold_ms:.2} |");
    println!("| Rego input conversion, SBOM seen before, ms | {convert_ms:.2} |");
    for (id, ms) in &rego_ms {
        println!("| Rego rule `{id}`, ms | {ms:.2} |");
    }
    println!();
    println!("### Gate and admission latency (real server, {per} requests per client)");
    println!();
    println!("| endpoint | concurrent clients | p50 ms | p90 ms | p99 ms | max ms | requests/s |");
    println!("|---|---|---|---|---|---|---|");
    for (name, concurrency, lat, wall) in &latency {
        println!(
            "| {name} | {concurrency} | {} | {} | {} | {} | {:.0} |",
            ms(percentile(lat, 0.5)),
            ms(percentile(lat, 0.9)),
            ms(percentile(lat, 0.99)),
            ms(*lat.last().unwrap()),
            lat.len() as f64 / wall.as_secs_f64()
        );
    }
    Ok(())
}
