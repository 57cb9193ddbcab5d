//! A poison pill cannot keep the real `cairn` process down. A test build
//! aborts while evaluating the artifact named by
//! `CAIRN_TEST_ABORT_EVALUATING` (as a stack overflow would); the process
//! is started again after each death, and the third start stays up with
//! the evaluation dead-lettered, visible in the API and the gate's answer.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::free_port;
use crate::support::process::{database_url, start_cairn_with, wait_ready, TOKEN};
use crate::support::{eventually, fixture, fresh_database};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_twice_by_one_evaluation_stays_up_the_third_time() {
    let options = fresh_database().await;
    let url = database_url(&options);
    let client = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // First, store the artifact with no worker running.
    let setup = start_cairn_with(&url, port, &[("CAIRN_POLICY_WORKERS", "0")]);
    wait_ready(&client, &base).await;
    let digest = format!("sha256:{}", "ab".repeat(32));
    let res = client
        .post(format!(
            "{base}/api/v1/sboms?project=acme/pill&artifact=app&version=1&digest={digest}"
        ))
        .bearer_auth(TOKEN)
        .body(fixture("sbom/guac__alpine-cyclonedx.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let res = client
        .post(format!("{base}/api/v1/policy-sets"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "base", "mode": "enforce", "rules": [{"rule": "sbom-present"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(setup.stop().code(), Some(0));

    let id = artifact.to_string();
    let env = [("CAIRN_TEST_ABORT_EVALUATING", id.as_str())];
    for death in 1..=2 {
        let mut cairn = start_cairn_with(&url, port, &env);
        let status = cairn
            .wait_exit(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("start {death}: the poison did not kill the process"));
        assert!(!status.success(), "start {death}: {status}");
    }
    // Third start: the evaluation is dead-lettered at its claim; the
    // process serves.
    let cairn = std::sync::Mutex::new(start_cairn_with(&url, port, &env));
    wait_ready(&client, &base).await;
    let dead_letters = || async {
        let page: Value = client
            .get(format!("{base}/api/v1/policy-dead-letters"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().clone()
    };
    eventually("the poison is dead-lettered", || async {
        let alive = cairn.lock().unwrap().running();
        assert!(alive, "the third start died too");
        !dead_letters().await.is_empty()
    })
    .await;
    let mut cairn = cairn.into_inner().unwrap();
    let dead = dead_letters().await[0].clone();
    assert_eq!(dead["artifact_id"], artifact);
    assert!(dead["error"]
        .as_str()
        .unwrap()
        .starts_with("processing never completed after 2 claims"));
    assert_eq!(gate(&client, &base, &digest).await["decision"], "deny");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(cairn.running());
    assert_eq!(cairn.stop().code(), Some(0));

    // Restarted without the poison and replayed, it is evaluated.
    let cairn = start_cairn_with(&url, port, &[]);
    wait_ready(&client, &base).await;
    let res = client
        .post(format!(
            "{base}/api/v1/policy-dead-letters/{artifact}/replay"
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    crate::support::eventually("the replayed evaluation allows", || async {
        gate(&client, &base, &digest).await["decision"] == "allow"
    })
    .await;
    assert_eq!(cairn.stop().code(), Some(0));
}

async fn gate(client: &reqwest::Client, base: &str, digest: &str) -> Value {
    client
        .get(format!("{base}/api/v1/gate?digest={digest}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
