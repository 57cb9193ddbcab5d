//! The delivery queue and its workers: order, crashes, retries, poison deliveries, dead letters.

use super::*;

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
    eventually("the delivery is dead-lettered", || async {
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'",
        )
        .await
            > 0
    })
    .await;
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
