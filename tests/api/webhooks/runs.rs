//! Build records through the runs API and the dashboard, and source administration.

use super::*;
use crate::support::html::Html;

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

    let session = app.sign_in(ADMIN_TOKEN).await;
    let page = |path: String| {
        app.client
            .get(app.url(&path))
            .header("cookie", session.clone())
            .send()
    };

    let project = Html::parse(
        page("/ui/projects/gitlab-org%2Fgitlab-test".into())
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(project
        .attrs("a", "href")
        .contains(&"/ui/projects/gitlab-org%2Fgitlab-test/builds".to_owned()));
    let res = page("/ui/projects/gitlab-org%2Fgitlab-test/builds".into())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("unsafe-inline"));
    let html = Html::parse(res.text().await.unwrap());
    html.assert_csp_clean("the builds page");
    let runs = html.texts("table#runs tbody th");
    assert!(
        runs.contains(&"gitlab #31".to_owned()) && runs.contains(&"gitlab #2366".to_owned()),
        "{runs:?}"
    );
    assert!(html
        .texts("table#runs tbody td:nth-child(6)")
        .contains(&"self-hosted".to_owned()));
    assert!(html
        .texts("table#runs tbody td:nth-child(8)")
        .contains(&"3m 01s".to_owned()));
    let hosted_only = Html::parse(
        page("/ui/projects/gitlab-org%2Fgitlab-test/builds?runner_kind=hosted".into())
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let runs = hosted_only.texts("table#runs tbody th");
    assert!(runs.contains(&"gitlab #31".to_owned()) && !runs.contains(&"gitlab #2366".to_owned()));

    let id: i64 = sqlx::query_scalar("SELECT id FROM ci_runs WHERE provider_run_id = 31")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let run = Html::parse(
        page(format!("/ui/runs/{id}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        run.fact("Commit"),
        "bcbb5ec396a2c0f828686f14fac9b80b780504f2"
    );
    let jobs = run.text("table#jobs tbody");
    assert!(jobs.contains("shared-runners-manager-1.gitlab.com") && jobs.contains("production"));
    assert!(
        run.text("ul#artifacts li")
            .starts_with("gitlab-test bcbb5ec396a2"),
        "the artifact it produced"
    );
    run.assert_csp_clean("the run page");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_sources_and_dead_letters_in_the_dashboard() {
    let app = spawn_app().await;
    let admin = app.sign_in(ADMIN_TOKEN).await;
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
    let html = Html::parse(res.text().await.unwrap());
    assert_eq!(html.fact("Payload URL (path)"), "/webhooks/github/from-ui");
    assert_eq!(html.fact("Secret"), GITHUB_SECRET, "shown once");
    assert!(html.text("section.card p").contains("shown only now"));
    html.assert_csp_clean("the webhooks page");
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
    let page = Html::parse(page);
    assert_eq!(
        page.cell("table#sources", "from-ui", "Feeds").text,
        "octo-org/octo-repo, acme/web"
    );
    assert!(!page.raw.contains(GITHUB_SECRET));
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
    let page = Html::parse(page);
    assert!(page
        .cell("table#dead", "ui-dead", "Error")
        .text
        .contains("malformed JSON"));
    let audit = page.texts("table#audit tbody tr");
    assert!(
        audit
            .iter()
            .any(|r| r.contains("127.0.0.1") && r.contains("unknown webhook source")),
        "{audit:?}"
    );
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
    let viewer = app.sign_in(&app.token("viewer").await).await;
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
