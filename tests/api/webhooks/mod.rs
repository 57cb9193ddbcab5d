//! CI webhooks through the real server: real GitHub and GitLab payloads,
//! real HMAC signatures and tokens, the durable queue and its workers.

use std::sync::Arc;

use cairn::builds::core::verify::{github_signature, gitlab_signature};
use cairn::builds::worker::Fault;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::webhooks::{
    create_source, drained, fast_workers, fixture_names, github_event_of, send_github,
    webhook_fixture, workers_with, GITHUB_SECRET,
};

use crate::support::{
    eventually, expect_problem, fixture, spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN,
};

mod processing;
mod receiving;
mod runs;

const GITLAB_TOKEN: &str = "gitlab-secret-token-0123456789";

fn gitlab_event_of(file: &str) -> &'static str {
    match file {
        "go-gitlab__build.json" | "go-gitlab__job.json" => "Job Hook",
        "go-gitlab__deployment.json" => "Deployment Hook",
        "go-gitlab__pipeline.json" => "Pipeline Hook",
        "go-gitlab__push.json" => "Push Hook",
        "go-gitlab__release.json" => "Release Hook",
        "go-gitlab__tag_push.json" => "Tag Push Hook",
        _ => panic!("no event for {file}"),
    }
}

async fn send_gitlab(
    app: &TestApp,
    source: &str,
    token: &str,
    event: &str,
    uuid: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/webhooks/gitlab/{source}")))
        .header("content-type", "application/json")
        .header("x-gitlab-event", event)
        .header("x-gitlab-event-uuid", uuid)
        .header("x-gitlab-token", token)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

async fn runs(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_json(&format!("/api/v1/runs?{query}")).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn run_by_id(runs: &[Value], provider_run_id: i64) -> Value {
    runs.iter()
        .find(|r| r["provider_run_id"] == provider_run_id)
        .unwrap_or_else(|| panic!("no run {provider_run_id} in {runs:?}"))
        .clone()
}

/// The octokit job examples belong to another run and repository: point them
/// at the example workflow run so that the events are about one run.
fn job_of_example_run(file: &str) -> Vec<u8> {
    let mut job: Value =
        serde_json::from_slice(&webhook_fixture(&format!("github/{file}"))).unwrap();
    let run: Value = serde_json::from_slice(&webhook_fixture(
        "github/octokit__workflow_run_completed.payload.json",
    ))
    .unwrap();
    job["workflow_job"]["run_id"] = run["workflow_run"]["id"].clone();
    job["repository"] = run["repository"].clone();
    serde_json::to_vec(&job).unwrap()
}
