//! CI webhook helpers: the real fixtures, signed GitHub deliveries,
//! webhook sources and fast delivery workers.

use std::time::Duration;

use cairn::builds::core::verify::github_signature;
use cairn::builds::worker::{self, WorkerOptions, Workers};
use reqwest::StatusCode;
use serde_json::Value;

use super::{eventually, fixture, TestApp, ADMIN_TOKEN};

pub const GITHUB_SECRET: &str = "It's a Secret to Everybody";

/// The `X-GitHub-Event` of each octokit example, from its file name.
pub fn github_event_of(file: &str) -> &'static str {
    let f = file.trim_start_matches("octokit__");
    for (prefix, event) in [
        ("workflow_run", "workflow_run"),
        ("workflow_job", "workflow_job"),
        ("registry_package", "registry_package"),
        ("package", "package"),
        ("ping", "ping"),
        ("push", "push"),
        ("release", "release"),
    ] {
        if f.starts_with(prefix) {
            return event;
        }
    }
    panic!("no event for {file}")
}

pub fn fixture_names(dir: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/webhooks")
        .join(dir);
    let mut names: Vec<String> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

pub fn webhook_fixture(path: &str) -> Vec<u8> {
    fixture(&format!("webhooks/{path}"))
}

pub async fn create_source(app: &TestApp, body: Value) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/webhook-sources"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "creating {body}");
    res.json().await.unwrap()
}

pub async fn send_github(
    client: &reqwest::Client,
    base: &str,
    source: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client
        .post(format!("{base}/webhooks/github/{source}"))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            github_signature(secret.as_bytes(), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

pub fn fast_workers(app: &TestApp, fault: Option<worker::FaultHook>) -> Workers {
    workers_with(app, fault, WorkerOptions::default().max_claims)
}

pub fn workers_with(app: &TestApp, fault: Option<worker::FaultHook>, max_claims: i32) -> Workers {
    worker::spawn(
        app.pool.clone(),
        WorkerOptions {
            workers: 2,
            idle_poll: Duration::from_millis(20),
            base_backoff: Duration::from_millis(20),
            max_attempts: 3,
            max_claims,
            fault,
            ..WorkerOptions::default()
        },
    )
}

/// Waits until no delivery is waiting to be processed.
pub async fn drained(pool: &sqlx::PgPool) {
    eventually("no delivery queued", || async {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'queued'")
                .fetch_one(pool)
                .await
                .unwrap();
        n == 0
    })
    .await
}
