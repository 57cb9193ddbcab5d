//! CI webhooks through the real server: real GitHub and GitLab payloads,
//! real HMAC signatures and tokens, the durable queue and its workers.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_fixtures_become_build_records() {
    let app = spawn_app().await;
    let src = create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    assert_eq!(src["secret"], GITHUB_SECRET);
    assert_eq!(src["webhook_path"], "/webhooks/github/gh");
    // The secret is shown once: listings never carry it.
    let listed = app.get_json("/api/v1/webhook-sources").await;
    assert!(!listed.to_string().contains(GITHUB_SECRET));
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_sealed FROM webhook_sources")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !sealed.windows(6).any(|w| w == b"Secret"),
        "stored in clear"
    );

    let names = fixture_names("github");
    assert_eq!(names.len(), 13);
    for (i, name) in names.iter().enumerate() {
        let res = send_github(
            &app.client,
            &app.base,
            "gh",
            GITHUB_SECRET,
            github_event_of(name),
            &format!("d-{i}"),
            webhook_fixture(&format!("github/{name}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{name}");
        let ack: Value = res.json().await.unwrap();
        assert_eq!(ack["status"], "queued");
    }
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;

    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1"
        )
        .await,
        13
    );
    // The workflow run, linked to a project named after its repository.
    let octo = runs(&app, "project=octo-org/octo-repo").await;
    assert_eq!(octo.len(), 1);
    let run = &octo[0];
    assert_eq!(run["provider"], "github");
    assert_eq!(run["provider_run_id"], 289782451);
    assert_eq!(
        run["commit_sha"],
        "3484a3fb816e0859fd6e1cea078d76385ff50625"
    );
    assert_eq!(run["status"], "completed");
    assert_eq!(run["conclusion"], "success");
    assert_eq!(run["ref"], "master");
    assert_eq!(run["event"], "repository_dispatch");
    assert_eq!(run["workflow_file"], ".github/workflows/test.yml");
    assert_eq!(run["actor"], "Codertocat");
    assert_eq!(run["project"], "octo-org/octo-repo");
    // The workflow jobs' run: three events of one job, hosted runner.
    let hello = runs(&app, "project=Codertocat/Hello-World").await;
    let run = run_by_id(&hello, 2202229078);
    assert_eq!(run["runner_kind"], "hosted");
    assert_eq!(run["job_count"], 1);
    let detail = app.get_json(&format!("/api/v1/runs/{}", run["id"])).await;
    let job = &detail["jobs"][0];
    assert_eq!(job["provider_job_id"], 289782451);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["conclusion"], "success");
    assert_eq!(job["runner_group"], "GitHub Actions");
    assert_eq!(job["runner_labels"], json!(["ubuntu-latest"]));
    assert_eq!(job["runner_kind"], "hosted");
    assert_eq!(job["runner_name"], "GitHub Actions 5");
    // Every delivery's raw payload is kept byte for byte.
    let page = app.get_json("/api/v1/webhook-deliveries?limit=500").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 13);
    for item in page["items"].as_array().unwrap() {
        let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM webhook_deliveries WHERE id = $1")
            .bind(item["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let i: usize = item["delivery_id"].as_str().unwrap()[2..].parse().unwrap();
        assert_eq!(body, webhook_fixture(&format!("github/{}", names[i])));
        assert_eq!(item["remote_addr"], "127.0.0.1");
    }
    let one = app
        .get_json(&format!(
            "/api/v1/webhook-deliveries/{}",
            page["items"][0]["id"]
        ))
        .await;
    assert!(one["payload"].is_object());
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_audit").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_fixtures_become_build_records() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM webhook_sources")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32, "only the token's SHA-256 is kept");
    for (i, name) in fixture_names("gitlab").iter().enumerate() {
        let res = send_gitlab(
            &app,
            "gl",
            GITLAB_TOKEN,
            gitlab_event_of(name),
            &format!("uuid-{i}"),
            webhook_fixture(&format!("gitlab/{name}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{name}");
    }
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done'"
        )
        .await,
        7
    );

    let test_runs = runs(&app, "project=gitlab-org/gitlab-test").await;
    let pipeline = run_by_id(&test_runs, 31);
    assert_eq!(pipeline["provider"], "gitlab");
    assert_eq!(
        pipeline["commit_sha"],
        "bcbb5ec396a2c0f828686f14fac9b80b780504f2"
    );
    assert_eq!(pipeline["status"], "completed");
    assert_eq!(pipeline["conclusion"], "success");
    assert_eq!(pipeline["runner_kind"], "hosted");
    assert_eq!(pipeline["event"], "merge_request_event");
    assert_eq!(pipeline["job_count"], 5);
    assert_eq!(pipeline["duration_secs"], 181);
    let detail = app
        .get_json(&format!("/api/v1/runs/{}", pipeline["id"]))
        .await;
    let prod = detail["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["provider_job_id"] == 380)
        .unwrap();
    assert_eq!(prod["environment"], "production");
    assert_eq!(prod["conclusion"], "skipped");
    // The Job Hook of a project runner: self-hosted.
    let job_run = run_by_id(&test_runs, 2366);
    assert_eq!(job_run["runner_kind"], "self-hosted");
    assert_eq!(
        job_run["commit_sha"],
        "2293ada6b400935a1378653304eaf6221e0fdb8f"
    );
    let self_hosted = runs(&app, "runner_kind=self-hosted").await;
    assert_eq!(self_hosted.len(), 1);
    assert_eq!(self_hosted[0]["provider_run_id"], 2366);
    // A job on a GitLab.com shared runner: hosted.
    let fake = runs(&app, "project=jsmithy2/release-tools-fake").await;
    assert_eq!(fake[0]["provider_run_id"], 743121198);
    assert_eq!(fake[0]["runner_kind"], "hosted");
    assert_eq!(runs(&app, "sha=95d49d1e").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_signed_form() {
    let app = spawn_app().await;
    let signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    create_source(&app, json!({"provider": "gitlab", "name": "signed", "secret": GITLAB_TOKEN, "signing_secret": signing})).await;
    let body = webhook_fixture("gitlab/go-gitlab__pipeline.json");
    let ts = chrono::Utc::now().timestamp().to_string();
    let send = |sig: String, ts: String, token: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/webhooks/gitlab/signed"))
            .header("x-gitlab-event", "Pipeline Hook")
            .header("webhook-id", "msg_2k2ZNoYpGLHdCbD")
            .header("webhook-timestamp", ts)
            .header("webhook-signature", sig)
            .body(body.clone());
        if let Some(t) = token {
            req = req.header("x-gitlab-token", t);
        }
        req.send()
    };
    // A token alone is not enough once signing is configured.
    let res = send_gitlab(
        &app,
        "signed",
        GITLAB_TOKEN,
        "Pipeline Hook",
        "u1",
        body.clone(),
    )
    .await;
    expect_problem(res, 401).await;
    let res = send(
        gitlab_signature(
            "whsec_other0000000000000000000000",
            "msg_2k2ZNoYpGLHdCbD",
            &ts,
            &body,
        ),
        ts.clone(),
        None,
    )
    .await
    .unwrap();
    expect_problem(res, 401).await;
    let old = (chrono::Utc::now().timestamp() - 3600).to_string();
    let res = send(
        gitlab_signature(signing, "msg_2k2ZNoYpGLHdCbD", &old, &body),
        old,
        None,
    )
    .await
    .unwrap();
    expect_problem(res, 401).await;
    let good = gitlab_signature(signing, "msg_2k2ZNoYpGLHdCbD", &ts, &body);
    let res = send(good.clone(), ts.clone(), Some("wrong token"))
        .await
        .unwrap();
    expect_problem(res, 401).await;
    let res = send(good.clone(), ts.clone(), Some(GITLAB_TOKEN))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // webhook-id identifies the delivery: a replay is a duplicate.
    let res = send(good, ts, None).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let reasons: Vec<String> = sqlx::query_scalar("SELECT reason FROM webhook_audit ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        reasons,
        [
            "missing webhook-id header",
            "signature does not match",
            "webhook-timestamp is more than 5 minutes away from now",
            "token does not match"
        ]
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        1
    );
}

/// GitHub's documented vector, through the server: the signature verifies,
/// and as "Hello, World!" is not JSON the delivery is a dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_documented_vector_through_the_server() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "vector", "secret": GITHUB_SECRET}),
    )
    .await;
    let res = app
        .client
        .post(app.url("/webhooks/github/vector"))
        .header("x-github-event", "ping")
        .header("x-github-delivery", "vector-1")
        .header(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )
        .body("Hello, World!")
        .send()
        .await
        .unwrap();
    let problem = expect_problem(res, 400).await;
    assert_eq!(problem["type"], "urn:cairn:problem:malformed-json");
    let dead = app.get_json("/api/v1/webhook-dead-letters").await;
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["delivery_id"], "vector-1");
    assert!(items[0]["last_error"]
        .as_str()
        .unwrap()
        .starts_with("malformed JSON"));
    let detail = app
        .get_json(&format!("/api/v1/webhook-deliveries/{}", items[0]["id"]))
        .await;
    assert_eq!(detail["payload"], "Hello, World!");
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_audit").await, 0);
    // One byte changed: refused.
    let res = app
        .client
        .post(app.url("/webhooks/github/vector"))
        .header(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )
        .body("Hello, World?")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_are_audited_and_store_nothing() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    let before = app.counts().await;
    let body = webhook_fixture("github/octokit__workflow_run_completed.payload.json");
    let post = |path: &str| {
        app.client
            .post(app.url(path))
            .header("x-github-event", "workflow_run")
            .header("x-github-delivery", "forged-1")
            .body(body.clone())
    };
    // Forged: signed with another secret.
    let forged = github_signature(b"not the secret", &body);
    let cases: Vec<(reqwest::RequestBuilder, &str)> = vec![
        (
            post("/webhooks/github/gh").header("x-hub-signature-256", forged.clone()),
            "signature does not match",
        ),
        (
            post("/webhooks/github/gh"),
            "missing X-Hub-Signature-256 header",
        ),
        (
            post("/webhooks/github/gh").header("x-hub-signature-256", "sha1=0123"),
            "malformed X-Hub-Signature-256 header",
        ),
        // Right signature of another body.
        (
            post("/webhooks/github/gh").header(
                "x-hub-signature-256",
                github_signature(GITHUB_SECRET.as_bytes(), b"{}"),
            ),
            "signature does not match",
        ),
        (
            post("/webhooks/github/nobody").header(
                "x-hub-signature-256",
                github_signature(GITHUB_SECRET.as_bytes(), &body),
            ),
            "unknown webhook source",
        ),
        // The GitHub source's name under the other provider is another source.
        (
            post("/webhooks/gitlab/gh").header("x-gitlab-token", GITLAB_TOKEN),
            "unknown webhook source",
        ),
        (
            post("/webhooks/gitlab/gl").header("x-gitlab-token", "wrong-token"),
            "token does not match",
        ),
        (post("/webhooks/gitlab/gl"), "missing X-Gitlab-Token header"),
    ];
    // The two "signature does not match" refusals (same source, address and
    // minute) are one audit row with a count.
    let mut expected: Vec<&str> = cases.iter().map(|c| c.1).collect();
    expected.remove(3);
    for (req, reason) in cases {
        let res = req.send().await.unwrap();
        let problem = expect_problem(res, 401).await;
        // The sender is not told why (the audit is).
        assert!(!problem["detail"].as_str().unwrap().contains(reason));
    }
    let audit = app.get_json("/api/v1/webhook-audit").await;
    // Rows are per minute: a test that straddles a minute boundary may see
    // one failure split over two rows, so compare first occurrences.
    let first_seen = |audit: &Value| {
        let mut seen: Vec<(String, String)> = Vec::new();
        for a in audit["items"].as_array().unwrap().iter().rev() {
            let key = (
                a["source_name"].to_string(),
                a["reason"].as_str().unwrap().to_owned(),
            );
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen.into_iter().map(|(_, r)| r).collect::<Vec<_>>()
    };
    assert_eq!(first_seen(&audit), expected);
    for a in audit["items"].as_array().unwrap() {
        assert_eq!(a["remote_addr"], "127.0.0.1");
    }
    let forged_count = |audit: &Value| -> i64 {
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["reason"] == "signature does not match")
            .map(|a| a["occurrences"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(forged_count(&audit), 2);
    // A flood of forged deliveries cannot fill the audit table.
    for _ in 0..30 {
        let res = post("/webhooks/github/gh")
            .header("x-hub-signature-256", forged.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let flooded = app.get_json("/api/v1/webhook-audit").await;
    assert_eq!(forged_count(&flooded), 32);
    assert!(
        flooded["items"].as_array().unwrap().len() <= expected.len() + 2,
        "at most one extra row per minute boundary: {flooded}"
    );
    assert_eq!(audit["items"][0]["source_name"], "gl");
    assert!(
        audit["items"][3]["source_id"].is_null(),
        "unknown source has no id"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 0);
    assert_eq!(app.counts().await, before);
    // No such provider: 404.
    expect_problem(post("/webhooks/bitbucket/gh").send().await.unwrap(), 404).await;
    // The audit is for admins.
    let viewer = app.token("viewer").await;
    expect_problem(
        app.get("/api/v1/webhook-audit", &viewer)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_and_racing_duplicates_store_one_delivery() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    let body = webhook_fixture("github/octokit__workflow_run_requested.payload.json");
    let first = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "workflow_run",
        "replayed",
        body.clone(),
    )
    .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let again = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "workflow_run",
        "replayed",
        body.clone(),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["status"], "duplicate");
    // Duplicates racing on two connections: one wins, one is a duplicate.
    // (Each round's body differs by trailing whitespace: the same body under
    // a new delivery id is a duplicate too, see webhook_replays.rs.)
    let (a, b) = (reqwest::Client::new(), reqwest::Client::new());
    for round in 0..20 {
        let id = format!("race-{round}");
        let mut body = body.clone();
        body.extend(std::iter::repeat_n(b' ', round + 1));
        let (ra, rb) = tokio::join!(
            send_github(
                &a,
                &app.base,
                "gh",
                GITHUB_SECRET,
                "workflow_run",
                &id,
                body.clone()
            ),
            send_github(
                &b,
                &app.base,
                "gh",
                GITHUB_SECRET,
                "workflow_run",
                &id,
                body.clone()
            ),
        );
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 202], "round {round}");
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        21
    );
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 1);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_events_converge() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    // Job before run, completed before requested/queued, one at a time.
    let order = [
        (
            "workflow_job",
            job_of_example_run(
                "octokit__workflow_job_completed.success.with-organization.payload.json",
            ),
        ),
        (
            "workflow_run",
            webhook_fixture("github/octokit__workflow_run_completed.payload.json"),
        ),
        (
            "workflow_job",
            job_of_example_run("octokit__workflow_job_queued.payload.json"),
        ),
        (
            "workflow_run",
            webhook_fixture("github/octokit__workflow_run_requested.payload.json"),
        ),
        (
            "workflow_job",
            job_of_example_run("octokit__workflow_job_in_progress.payload.json"),
        ),
    ];
    let workers = fast_workers(&app, None);
    for (i, (event, body)) in order.into_iter().enumerate() {
        let res = send_github(
            &app.client,
            &app.base,
            "gh",
            GITHUB_SECRET,
            event,
            &format!("ooo-{i}"),
            body,
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        drained(&app.pool).await;
    }
    workers.shutdown().await;
    let all = runs(&app, "").await;
    assert_eq!(all.len(), 1);
    let run = &all[0];
    assert_eq!(run["provider_run_id"], 289782451);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["conclusion"], "success");
    assert_eq!(run["workflow_file"], ".github/workflows/test.yml");
    assert_eq!(run["runner_kind"], "hosted");
    assert_eq!(run["completed_at"], "2020-10-05T16:33:49Z");
    let detail = app.get_json(&format!("/api/v1/runs/{}", run["id"])).await;
    let jobs = detail["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["status"], "completed");
    assert_eq!(jobs[0]["conclusion"], "success");
    assert_eq!(jobs[0]["completed_at"], "2021-08-05T10:38:16Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_worker_loses_nothing_and_events_are_processed_once() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    for (i, name) in fixture_names("gitlab").iter().enumerate() {
        let res = send_gitlab(
            &app,
            "gl",
            GITLAB_TOKEN,
            gitlab_event_of(name),
            &format!("c-{i}"),
            webhook_fixture(&format!("gitlab/{name}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    // Workers that die after processing, before committing, again and again
    // (allowed many claims here: this is about losing nothing).
    let crashing = workers_with(&app, Some(Arc::new(|_| Fault::Crash)), 100);
    let claimed = "SELECT count(*) FROM queue_claims WHERE queue = 'webhook'";
    eventually("every delivery claimed by a crashing batch", || async {
        count(&app, claimed).await == 7
    })
    .await;
    crashing.shutdown().await;
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_deliveries WHERE status = 'queued' AND processed_count = 0 AND attempts = 0").await, 7);
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM ci_jobs").await, 0);
    // "Restart": healthy workers process each delivery exactly once (each
    // alone, as a suspect), and forget the claims.
    let workers = workers_with(&app, None, 100);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1"
        )
        .await,
        7
    );
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 3);
    assert_eq!(count(&app, "SELECT count(*) FROM ci_jobs").await, 7);
    assert_eq!(count(&app, claimed).await, 0);
}

/// A delivery whose processing kills its worker every time (a poison pill)
/// is dead-lettered after `max_claims` claims with that reason; the
/// deliveries that shared its batch are processed; a replay gives it fresh
/// claims and healthy workers then process it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_delivery_is_dead_lettered_after_its_claims_and_the_rest_are_processed() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    let mut ids = Vec::new();
    for (i, name) in fixture_names("gitlab").iter().enumerate() {
        let res = send_gitlab(
            &app,
            "gl",
            GITLAB_TOKEN,
            gitlab_event_of(name),
            &format!("p-{i}"),
            webhook_fixture(&format!("gitlab/{name}")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let poison = ids[3];
    let workers = workers_with(
        &app,
        Some(Arc::new(move |id| {
            if id == poison {
                Fault::Crash
            } else {
                Fault::None
            }
        })),
        2,
    );
    drained(&app.pool).await;
    workers.shutdown().await;
    let dead = app.get_json("/api/v1/webhook-dead-letters").await;
    assert_eq!(dead["items"].as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead["items"][0]["id"], poison);
    assert_eq!(
        dead["items"][0]["last_error"],
        "processing never completed after 2 claims (the process or its worker died while processing it); dead-lettered so that it cannot take the service down again"
    );
    assert_eq!(dead["items"][0]["processed_count"], 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1"
        )
        .await,
        6
    );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/webhook-deliveries/{poison}/replay")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(count(&app, "SELECT count(*) FROM queue_claims").await, 0);
    let healthy = workers_with(&app, None, 2);
    drained(&app.pool).await;
    healthy.shutdown().await;
    let delivery = app
        .get_json(&format!("/api/v1/webhook-deliveries/{poison}"))
        .await;
    assert_eq!(delivery["status"], "done");
    assert_eq!(delivery["processed_count"], 1);
    assert_eq!(count(&app, "SELECT count(*) FROM ci_jobs").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_delivery_is_retried_dead_lettered_and_replayable() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "workflow_run",
        "flaky",
        webhook_fixture("github/octokit__workflow_run_completed.payload.json"),
    )
    .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let failing = fast_workers(
        &app,
        Some(Arc::new(|_| {
            Fault::Fail("injected: downstream unavailable".into())
        })),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        &app,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'",
    )
    .await
        == 0
    {
        assert!(Instant::now() < deadline, "not dead-lettered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    failing.shutdown().await;
    let dead = app.get_json("/api/v1/webhook-dead-letters").await;
    let letter = &dead["items"][0];
    assert_eq!(letter["id"], id);
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["processed_count"], 0);
    assert_eq!(letter["last_error"], "injected: downstream unavailable");
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 0);
    // Replay: queued again, then processed by healthy workers.
    let replay = |token: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/webhook-deliveries/{id}/replay")))
            .bearer_auth(token)
            .send()
    };
    let viewer = app.token("viewer").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/webhook-deliveries/{id}/replay")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    assert_eq!(
        replay(ADMIN_TOKEN).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    let delivery = app
        .get_json(&format!("/api/v1/webhook-deliveries/{id}"))
        .await;
    assert_eq!(delivery["status"], "done");
    assert_eq!(delivery["processed_count"], 1);
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 1);
    // Only dead letters can be replayed.
    expect_problem(replay(ADMIN_TOKEN).await.unwrap(), 409).await;
    let res = app
        .client
        .post(app.url("/api/v1/webhook-deliveries/999999/replay"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_feed_only_their_repositories() {
    let app = spawn_app().await;
    create_source(&app, json!({"provider": "github", "name": "octo", "secret": GITHUB_SECRET, "repositories": ["Octo-Org/octo-repo"]})).await;
    let run = send_github(
        &app.client,
        &app.base,
        "octo",
        GITHUB_SECRET,
        "workflow_run",
        "a",
        webhook_fixture("github/octokit__workflow_run_completed.payload.json"),
    )
    .await;
    assert_eq!(run.status(), StatusCode::ACCEPTED);
    let other = send_github(
        &app.client,
        &app.base,
        "octo",
        GITHUB_SECRET,
        "workflow_job",
        "b",
        webhook_fixture("github/octokit__workflow_job_queued.payload.json"),
    )
    .await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    let ignored = app
        .get_json("/api/v1/webhook-deliveries?status=ignored")
        .await;
    assert_eq!(ignored["items"].as_array().unwrap().len(), 1);
    assert_eq!(ignored["items"][0]["delivery_id"], "b");
    assert!(ignored["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("codertocat/hello-world"));
    let all = runs(&app, "").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["repository"], "octo-org/octo-repo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limit_and_source_validation() {
    let app = spawn_app_with(|k| (k == "CAIRN_WEBHOOK_MAX_BODY").then(|| "1K".to_string())).await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2048)).into_bytes();
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "ping",
        "big",
        big,
    )
    .await;
    expect_problem(res, 413).await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );

    let post = |body: Value, token: String| {
        app.client
            .post(app.url("/api/v1/webhook-sources"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let admin = ADMIN_TOKEN.to_string();
    let conflict = post(
        json!({"provider": "github", "name": "gh", "secret": "x"}),
        admin.clone(),
    )
    .await
    .unwrap();
    expect_problem(conflict, 409).await;
    for bad in [
        json!({"provider": "bitbucket", "name": "x", "secret": "s"}),
        json!({"provider": "github", "name": "a/b", "secret": "s"}),
        json!({"provider": "github", "name": "ok", "secret": ""}),
        json!({"provider": "github", "name": "ok", "secret": "s", "signing_secret": "whsec_x"}),
        json!({"provider": "github", "name": "ok", "secret": "s", "repositories": []}),
        json!({"provider": "github", "name": "ok", "secret": "s", "repositories": ["no-slash"]}),
        json!({"provider": "github", "name": "ok", "secret": "s", "colour": "blue"}),
    ] {
        let res = post(bad.clone(), admin.clone()).await.unwrap();
        let status = res.status().as_u16();
        assert!(status == 400 || status == 422, "{bad}: {status}");
        expect_problem(res, status).await;
    }
    let uploader = app.token("uploader").await;
    expect_problem(
        post(
            json!({"provider": "github", "name": "up", "secret": "s"}),
            uploader,
        )
        .await
        .unwrap(),
        403,
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_sources").await, 1);
    // Without a secret, Cairn generates one and shows it once.
    let generated = create_source(&app, json!({"provider": "gitlab", "name": "gen"})).await;
    assert!(generated["secret"].as_str().unwrap().starts_with("whsec_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_api_filters_pages_and_links_artifacts() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    // An artifact of the pipeline's project, versioned by its commit.
    let res = app
        .upload(
            "project=gitlab-org/gitlab-test&artifact=gitlab-test&version=bcbb5ec396a2",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for (i, name) in fixture_names("gitlab").iter().enumerate() {
        send_gitlab(
            &app,
            "gl",
            GITLAB_TOKEN,
            gitlab_event_of(name),
            &format!("f-{i}"),
            webhook_fixture(&format!("gitlab/{name}")),
        )
        .await;
    }
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;

    let first = app.get_json("/api/v1/runs?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!("/api/v1/runs?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    assert_eq!(runs(&app, "status=success").await.len(), 1);
    assert_eq!(runs(&app, "ref=master").await.len(), 1);
    assert_eq!(runs(&app, "ref=refs/heads/master").await.len(), 1);
    assert_eq!(runs(&app, "runner_kind=hosted").await.len(), 2);
    assert_eq!(
        runs(
            &app,
            "since=2016-08-12T15:00:00Z&until=2016-08-12T16:00:00Z"
        )
        .await
        .len(),
        1
    );
    assert_eq!(runs(&app, "project=nobody/nothing").await.len(), 0);

    let pipeline = run_by_id(
        &runs(&app, "sha=bcbb5ec396a2c0f828686f14fac9b80b780504f2").await,
        31,
    );
    let detail = app
        .get_json(&format!("/api/v1/runs/{}", pipeline["id"]))
        .await;
    assert_eq!(detail["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(detail["artifacts"][0]["version"], "bcbb5ec396a2");

    for bad in [
        "runner_kind=cloud",
        "sha=xyz",
        "since=yesterday",
        "limit=0",
        "cursor=%25%25",
    ] {
        let res = app
            .get(&format!("/api/v1/runs?{bad}"), ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        expect_problem(res, 400).await;
    }
    expect_problem(
        app.get("/api/v1/runs/424242", ADMIN_TOKEN)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    expect_problem(
        app.client
            .get(app.url("/api/v1/runs"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let viewer = app.token("viewer").await;
    assert_eq!(
        app.get("/api/v1/runs", &viewer)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_build_timeline_and_run() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "gl", "secret": GITLAB_TOKEN}),
    )
    .await;
    let res = app
        .upload(
            "project=gitlab-org/gitlab-test&artifact=gitlab-test&version=bcbb5ec396a2",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for (i, name) in ["go-gitlab__pipeline.json", "go-gitlab__build.json"]
        .iter()
        .enumerate()
    {
        send_gitlab(
            &app,
            "gl",
            GITLAB_TOKEN,
            gitlab_event_of(name),
            &format!("ui-{i}"),
            webhook_fixture(&format!("gitlab/{name}")),
        )
        .await;
    }
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;

    let login = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", ADMIN_TOKEN), ("next", "/ui")])
        .send()
        .await
        .unwrap();
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = |path: String| {
        app.client
            .get(app.url(&path))
            .header("cookie", session.clone())
            .send()
    };

    let project = page("/ui/projects/gitlab-org%2Fgitlab-test".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(project.contains("/ui/projects/gitlab-org%2Fgitlab-test/builds"));
    let res = page("/ui/projects/gitlab-org%2Fgitlab-test/builds".into())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("unsafe-inline"));
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("style=") && !html.contains("<script"),
        "no inline style or script"
    );
    assert!(
        html.contains("gitlab #31") && html.contains("gitlab #2366"),
        "{html}"
    );
    assert!(html.contains("self-hosted") && html.contains("3m 01s"));
    let hosted_only =
        page("/ui/projects/gitlab-org%2Fgitlab-test/builds?runner_kind=hosted".into())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(hosted_only.contains("gitlab #31") && !hosted_only.contains("gitlab #2366"));

    let id: i64 = sqlx::query_scalar("SELECT id FROM ci_runs WHERE provider_run_id = 31")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let run = page(format!("/ui/runs/{id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(run.contains("bcbb5ec396a2c0f828686f14fac9b80b780504f2"));
    assert!(run.contains("shared-runners-manager-1.gitlab.com") && run.contains("production"));
    assert!(
        run.contains("gitlab-test bcbb5ec396a2"),
        "the artifact it produced"
    );
    assert!(!run.contains("style=") && !run.contains("<script"));
    assert_eq!(page("/ui/runs/999999".into()).await.unwrap().status(), 404);
    // Signed out: sent to sign in.
    assert_eq!(
        app.client
            .get(app.url(&format!("/ui/runs/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
}

/// A delivery the database refuses (a NUL character, which PostgreSQL text
/// cannot hold) fails alone: its batch neighbours are processed once, and
/// it is retried, then dead-lettered with the database's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_delivery_is_isolated_from_its_batch() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    let mut poison: Value = serde_json::from_slice(&webhook_fixture(
        "github/octokit__workflow_run_requested.payload.json",
    ))
    .unwrap();
    poison["workflow_run"]["id"] = json!(1);
    poison["workflow_run"]["name"] = json!("build\u{0}");
    let deliveries = [
        (
            "workflow_job",
            webhook_fixture("github/octokit__workflow_job_queued.payload.json"),
        ),
        ("workflow_run", serde_json::to_vec(&poison).unwrap()),
        (
            "workflow_run",
            webhook_fixture("github/octokit__workflow_run_completed.payload.json"),
        ),
    ];
    for (i, (event, body)) in deliveries.into_iter().enumerate() {
        let res = send_github(
            &app.client,
            &app.base,
            "gh",
            GITHUB_SECRET,
            event,
            &format!("p-{i}"),
            body,
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    let dead = app.get_json("/api/v1/webhook-dead-letters").await;
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["delivery_id"], "p-1");
    assert_eq!(items[0]["attempts"], 3);
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("database:"),
        "{}",
        items[0]
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1"
        )
        .await,
        2
    );
    assert_eq!(count(&app, "SELECT count(*) FROM ci_runs").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_sources_and_dead_letters_in_the_dashboard() {
    let app = spawn_app().await;
    let sign_in = |token: String| {
        let app = &app;
        async move {
            let login = app
                .client
                .post(app.url("/ui/login"))
                .form(&[("token", token.as_str()), ("next", "/ui")])
                .send()
                .await
                .unwrap();
            login.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        }
    };
    let admin = sign_in(ADMIN_TOKEN.to_string()).await;
    let form = [
        ("provider", "github"),
        ("name", "from-ui"),
        ("secret", GITHUB_SECRET),
        ("signing_secret", ""),
        ("repositories", "octo-org/octo-repo\nacme/web"),
    ];
    let res = app
        .client
        .post(app.url("/ui/webhooks/sources"))
        .header("cookie", &admin)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    assert!(html.contains("/webhooks/github/from-ui") && html.contains("shown only now"));
    assert!(!html.contains("style=") && !html.contains("<script"));
    // The secret is shown once: the page itself no longer shows it.
    let page = app
        .client
        .get(app.url("/ui/webhooks"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("octo-org/octo-repo, acme/web") && !page.contains(GITHUB_SECRET));
    // Invalid: the form answers with the reason, nothing stored.
    let bad = [("provider", "github"), ("name", "bad name"), ("secret", "")];
    let res = app
        .client
        .post(app.url("/ui/webhooks/sources"))
        .header("cookie", &admin)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("may only contain"));
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_sources").await, 1);
    // A cross-site form is refused.
    let res = app
        .client
        .post(app.url("/ui/webhooks/sources"))
        .header("cookie", &admin)
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A dead letter (not JSON), then replayed from the page.
    let res = app
        .client
        .post(app.url("/webhooks/github/from-ui"))
        .header("x-github-delivery", "ui-dead")
        .header(
            "x-hub-signature-256",
            github_signature(GITHUB_SECRET.as_bytes(), b"not json"),
        )
        .body("not json")
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    send_github(
        &app.client,
        &app.base,
        "nobody",
        GITHUB_SECRET,
        "ping",
        "x",
        b"{}".to_vec(),
    )
    .await;
    let page = app
        .client
        .get(app.url("/ui/webhooks"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ui-dead") && page.contains("malformed JSON"));
    assert!(page.contains("unknown webhook source") && page.contains("127.0.0.1"));
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE delivery_id = 'ui-dead'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let res = app
        .client
        .post(app.url(&format!("/ui/webhooks/deliveries/{id}/replay")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'queued'"
        )
        .await,
        1
    );

    // Viewers may not.
    let viewer = sign_in(app.token("viewer").await).await;
    assert_eq!(
        app.client
            .get(app.url("/ui/webhooks"))
            .header("cookie", &viewer)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = app
        .client
        .post(app.url("/ui/webhooks/sources"))
        .header("cookie", &viewer)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
