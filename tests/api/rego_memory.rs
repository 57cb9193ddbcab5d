//! Custom Rego rules cannot exhaust the server's memory. Modules built to
//! allocate without bound (a string doubled by `concat`, `sprintf` with a
//! huge width, a set comprehension multiplying) run in the real `cairn`
//! process's memory-limited evaluation workers: each is an `error` naming
//! the limit it hit, a legitimate rule evaluated alongside still gives its
//! verdict, and the server's peak resident size stays below 600 MiB.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::process::{database_url, start_cairn_with, wait_ready, TOKEN};
use crate::support::{fixture, free_port, fresh_database};

/// A string of 16 bytes doubled 30 times: 16 GiB if nothing stops it.
fn doubling() -> String {
    let mut m = String::from("package bomb.concat\ns0 := \"0123456789abcdef\"\n");
    for i in 1..=30 {
        m.push_str(&format!("s{i} := concat(\"\", [s{p}, s{p}])\n", p = i - 1));
    }
    m.push_str("violations contains \"big\" if { count(s30) > 0 }\n");
    m
}

const WIDE: &str = r#"package bomb.sprintf
a := sprintf("%0300000000d", [1])
b := sprintf("%0300000000d", [2])
violations contains "wide" if { count(a) + count(b) > 0 }"#;

/// Every pair of 4,000 strings of 100 bytes: 16 million strings.
const PRODUCT: &str = r#"package bomb.product
base := concat("", ["0123456789", "0123456789", "0123456789", "0123456789", "0123456789", "0123456789", "0123456789", "0123456789", "0123456789", "0123456789"])
xs := {concat("", [base, format_int(i, 10)]) | some i, _ in split(concat("", [base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base, base]), "")}
pairs := {concat("", [a, b]) | some a in xs; some b in xs}
violations contains "many" if { count(pairs) > 0 }"#;

const LEGIT: &str = r#"package legit
violations contains sprintf("%s is denied", [c.name]) if {
    some c in input.sbom.components
    c.name == "musl"
}"#;

/// Peak resident size of a process, from /proc (kB → MiB).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    kb / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_modules_hit_the_worker_limit_not_the_server() {
    let options = fresh_database().await;
    let url = database_url(&options);
    let client = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // A generous time limit: the modules have every chance to allocate.
    let mut cairn = start_cairn_with(&url, port, &[("CAIRN_REGO_TIMEOUT_MS", "5000")]);
    wait_ready(&client, &base).await;
    let res = client
        .post(format!(
            "{base}/api/v1/sboms?project=acme/bombs&artifact=app&version=1&digest=sha256:{}",
            "cd".repeat(32)
        ))
        .bearer_auth(TOKEN)
        .body(fixture("sbom/guac__alpine-cyclonedx.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"].clone();

    let rules = json!([
        {"rego": doubling()},
        {"rego": WIDE},
        {"rego": PRODUCT},
        {"rego": LEGIT},
    ]);
    // Twice: a worker that died is replaced, and the verdicts repeat.
    for round in 1..=2 {
        let res = client
            .post(format!("{base}/api/v1/policy-dry-run"))
            .bearer_auth(TOKEN)
            .json(&json!({"artifact_id": artifact, "rules": rules}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "round {round}");
        let body: Value = res.json().await.unwrap();
        let results = body["results"].as_array().unwrap();
        let by_id = |id: &str| {
            results
                .iter()
                .find(|r| r["rule"] == id)
                .unwrap_or_else(|| panic!("{id} in {body}"))
        };
        for bomb in ["rego:bomb.concat", "rego:bomb.sprintf", "rego:bomb.product"] {
            let r = by_id(bomb);
            assert_eq!(r["status"], "error", "round {round}, {bomb}: {r}");
            let message = r["message"].as_str().unwrap();
            assert!(
                message.contains("256 MiB memory limit") || message.contains("evaluation limit"),
                "round {round}, {bomb}: {message}"
            );
        }
        // The doubling reaches the memory limit long before the time limit.
        assert!(
            by_id("rego:bomb.concat")["message"]
                .as_str()
                .unwrap()
                .contains("256 MiB memory limit"),
            "{body}"
        );
        let legit = by_id("rego:legit");
        assert_eq!(legit["status"], "fail", "round {round}: {legit}");
        assert_eq!(legit["violations"][0]["message"], "musl is denied");
        assert_eq!(body["decision"], "deny");
    }

    assert!(cairn.running(), "the server survived");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let peak = peak_rss_mib(cairn.pid());
    eprintln!("server peak RSS: {peak} MiB");
    assert!(peak < 600, "the server's peak RSS was {peak} MiB");
    assert_eq!(cairn.stop().code(), Some(0));
}

/// The `rego-worker` children of a process.
fn workers_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...: the ppid follows the closing paren.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            ppid == Some(pid) && cmdline.windows(11).any(|w| w == b"rego-worker")
        })
        .collect()
}

/// A worker that dies while idle (killed from outside) is replaced: the
/// next rule is evaluated, not reported as an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_idle_is_replaced_without_an_error() {
    let options = fresh_database().await;
    let url = database_url(&options);
    let client = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let cairn = start_cairn_with(&url, port, &[]);
    wait_ready(&client, &base).await;
    let res = client
        .post(format!(
            "{base}/api/v1/sboms?project=acme/idle&artifact=app&version=1&digest=sha256:{}",
            "ef".repeat(32)
        ))
        .bearer_auth(TOKEN)
        .body(fixture("sbom/guac__alpine-cyclonedx.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"].clone();
    // Each call a new module: outcomes are remembered per module and SBOM,
    // and the second call must reach a worker.
    let (client, base, artifact) = (&client, &base, &artifact);
    let dry_run = |module: String| async move {
        let body: Value = client
            .post(format!("{base}/api/v1/policy-dry-run"))
            .bearer_auth(TOKEN)
            .json(&json!({"artifact_id": artifact, "rules": [{"rego": module}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["results"][0].clone()
    };
    assert_eq!(dry_run(LEGIT.to_string()).await["status"], "fail");
    let workers = workers_of(cairn.pid());
    assert!(!workers.is_empty(), "the server started a rego-worker");
    for w in &workers {
        // SAFETY: kill(2) on a pid this test just read as the server's child.
        unsafe { libc::kill(*w as i32, libc::SIGKILL) };
    }
    crate::support::eventually("the killed workers are gone", || async {
        workers.iter().all(|w| {
            !std::path::Path::new(&format!("/proc/{w}/cmdline")).exists()
                || std::fs::read_to_string(format!("/proc/{w}/stat"))
                    .is_ok_and(|s| s.contains(") Z "))
        })
    })
    .await;
    let result = dry_run(LEGIT.replace("denied", "refused")).await;
    assert_eq!(result["status"], "fail", "{result}");
    assert_eq!(result["violations"][0]["message"], "musl is refused");
    assert_eq!(cairn.stop().code(), Some(0));
}
