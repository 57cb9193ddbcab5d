//! Receiving deliveries: real GitHub and GitLab payloads become build records; refused, replayed and oversized deliveries store nothing.

use super::*;

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
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
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
