//! Subscriptions: validation, private targets, who may manage them.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn notifications_subscriptions_crud_and_validation() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let created = create_ok(&app, json!({"name": "ops", "url": rx.url})).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ntfsec_"), "{created}");
    assert_eq!(created["format"], "generic");
    assert_eq!(
        created["events"],
        json!(["finding.appeared", "gate.denied"])
    );
    assert_eq!(created["min_severity"], "high");
    assert_eq!(created["kev"], true);
    assert_eq!(created["enabled"], true);
    assert_eq!(created["project"], Value::Null);
    let id = created["id"].as_i64().unwrap();

    // Never shown again.
    let list = app
        .get("/api/v1/notifications/subscriptions", ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("\"ops\"") && !list.contains(&secret),
        "{list}"
    );
    let one = app
        .get_json(&format!("/api/v1/notifications/subscriptions/{id}"))
        .await;
    assert!(one.get("secret").is_none(), "{one}");
    assert_eq!(one["url"], rx.url);

    // A given secret is not echoed.
    let given = create_ok(
        &app,
        json!({"name": "slack", "url": rx.url, "format": "slack", "secret": SECRET,
               "events": ["gate.denied"], "project": "acme/svc", "min_severity": "critical"}),
    )
    .await;
    assert!(given.get("secret").is_none(), "{given}");
    assert_eq!(given["project"], "acme/svc");

    // Listed a page at a time, by name: "ops", then "slack".
    let first = app
        .get_json("/api/v1/notifications/subscriptions?limit=1")
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["items"][0]["name"], "ops");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get_json(&format!(
            "/api/v1/notifications/subscriptions?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(second["items"][0]["name"], "slack", "{second}");
    assert_eq!(second["next_cursor"], Value::Null);
    let res = app
        .get("/api/v1/notifications/subscriptions?limit=0", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;

    // Partial updates; null clears the project.
    let patch = |id: i64, body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/notifications/subscriptions/{id}")))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
    };
    let gid = given["id"].as_i64().unwrap();
    let res = patch(
        gid,
        json!({"project": null, "kev": false, "enabled": false}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (
            &changed["project"],
            &changed["kev"],
            &changed["enabled"],
            &changed["format"],
            &changed["min_severity"]
        ),
        (
            &Value::Null,
            &json!(false),
            &json!(false),
            &json!("slack"),
            &json!("critical")
        )
    );
    let res = patch(gid, json!({"name": "ops"})).await.unwrap();
    expect_problem(res, 409).await;
    let res = patch(999_999, json!({"kev": true})).await.unwrap();
    expect_problem(res, 404).await;

    // Refusals store nothing.
    let before = subscriptions_stored(&app).await;
    assert_eq!(before, 2);
    for (body, status, pointer) in [
        (json!({"name": "x", "url": "ftp://127.0.0.1/"}), 422, "/url"),
        (json!({"name": "x", "url": "not a url"}), 422, "/url"),
        (
            json!({"name": "x", "url": "http://u:p@127.0.0.1/"}),
            422,
            "/url",
        ),
        (
            json!({"name": "x", "url": rx.url, "events": ["test"]}),
            422,
            "/events/0",
        ),
        (
            json!({"name": "x", "url": rx.url, "events": []}),
            422,
            "/events",
        ),
        (json!({"name": "  ", "url": rx.url}), 422, "/name"),
        (
            json!({"name": "x", "url": rx.url, "secret": "short"}),
            422,
            "/secret",
        ),
        (
            json!({"name": "x", "url": rx.url, "project": ""}),
            422,
            "/project",
        ),
    ] {
        let problem = expect_problem(create(&app, body.clone()).await, status).await;
        assert_eq!(problem["pointer"], pointer, "{body}: {problem}");
        assert_eq!(problem["type"], "urn:cairn:problem:invalid-subscription");
    }
    for body in [
        json!({"name": "x", "url": rx.url, "colour": "red"}),
        json!({"name": "x", "url": rx.url, "format": "teams"}),
        json!({"name": "x"}),
    ] {
        let problem = expect_problem(create(&app, body).await, 422).await;
        assert_eq!(problem["type"], "urn:cairn:problem:invalid-request");
    }
    expect_problem(
        create(&app, json!({"name": "ops", "url": rx.url})).await,
        409,
    )
    .await;
    assert_eq!(subscriptions_stored(&app).await, before);

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/notifications/subscriptions/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .get(
            &format!("/api/v1/notifications/subscriptions/{id}"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    assert_eq!(rx.count(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_refuse_private_targets_unless_allowed() {
    let app = spawn_app().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
    ] {
        let problem =
            expect_problem(create(&app, json!({"name": "x", "url": url})).await, 422).await;
        assert_eq!(
            problem["type"], "urn:cairn:problem:notification-target-refused",
            "{url}: {problem}"
        );
        assert_eq!(problem["pointer"], "/url");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("CAIRN_NOTIFY_ALLOW_PRIVATE"), "{detail}");
    }
    assert_eq!(subscriptions_stored(&app).await, 0);

    // Allowed by the operator, the same loopback receiver works.
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let s = create_ok(
        &app,
        json!({"name": "local", "url": rx.url, "secret": SECRET}),
    )
    .await;
    let res = app
        .client
        .post(app.url(&format!(
            "/api/v1/notifications/subscriptions/{}/test",
            s["id"]
        )))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // A worker that does not allow private targets refuses to send, even
    // for a subscription stored while they were allowed.
    let strict = cairn::notifications::worker::WorkerOptions {
        allow_private: false,
        ..notify_options(1)
    };
    cairn::notifications::worker::drain(&app.pool, &strict)
        .await
        .unwrap();
    assert_eq!(rx.count(), 0);
    let dead = deliveries(&app, "state=dead").await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["last_error"].as_str().unwrap().contains("loopback"),
        "{dead:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_need_the_maintainer_role() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let viewer = app.token("viewer").await;
    let uploader = app.token("uploader").await;
    let maintainer = app.token("maintainer").await;
    for token in [&viewer, &uploader] {
        for path in [
            "/api/v1/notifications/subscriptions",
            "/api/v1/notifications/deliveries",
        ] {
            let res = app.get(path, token).send().await.unwrap();
            expect_problem(res, 403).await;
        }
        let res = app
            .client
            .post(app.url("/api/v1/notifications/subscriptions"))
            .bearer_auth(token)
            .json(&json!({"name": "nope", "url": rx.url}))
            .send()
            .await
            .unwrap();
        expect_problem(res, 403).await;
    }
    let res = app
        .client
        .get(app.url("/api/v1/notifications/subscriptions"))
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
    assert_eq!(subscriptions_stored(&app).await, 0);
    let res = app
        .client
        .post(app.url("/api/v1/notifications/subscriptions"))
        .bearer_auth(&maintainer)
        .json(&json!({"name": "mine", "url": rx.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .get("/api/v1/notifications/subscriptions", &maintainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
