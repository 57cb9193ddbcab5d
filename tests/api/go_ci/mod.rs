//! Go and CI-hardening evidence: real Go binaries built here with the
//! machine's Go toolchain (Debian `golang-go`), their build info through the
//! API, bad binaries, go.mod / go.sum, workflows, .gitlab-ci.yml and
//! Dockerfiles with their findings.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::go::{build, git, go_cmd, go_tool, hello_source, run};
use crate::support::{expect_problem, fixture, scratch_dir, spawn_app, TestApp, ADMIN_TOKEN};

mod ci;
mod go;

async fn post(app: &TestApp, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_release(app: &TestApp, q: &str, name: &str) -> reqwest::Response {
    let path = format!("{q}&file=.github/workflows/release.yml");
    post(app, &path, fixture(&format!("ci/{name}"))).await
}

/// A re-upload of what is already the latest: 200, the stored record.
async fn unchanged(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status.as_u16(), 200, "{body}");
    body
}

async fn queued(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM policy_queue")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status.as_u16(), 201, "{body}");
    body
}

/// Rows of every table Go/CI evidence could touch.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "projects",
        "artifacts",
        "go_builds",
        "go_module_files",
        "ci_definitions",
    ] {
        out.push(
            sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                .fetch_one(&app.pool)
                .await
                .unwrap(),
        );
    }
    out
}

const Q: &str = "/api/v1/go-binaries?project=acme/hello&artifact=hello";

fn findings(body: &Value) -> Vec<(String, u64, String)> {
    body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(!f["message"].as_str().unwrap().is_empty());
            assert!(!f["fix"].as_str().unwrap().is_empty());
            (
                f["check"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
