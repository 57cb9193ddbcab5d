//! Deliveries: what is sent when, signed, retried, dead-lettered, leased, and to which addresses.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn notifications_a_new_finding_is_delivered_once_and_signed() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let s = create_ok(
        &app,
        json!({"name": "sec", "url": rx.url, "secret": SECRET, "events": ["finding.appeared"]}),
    )
    .await;
    let artifact = upload(
        &app,
        "project=acme/svc&artifact=api&version=1.0.0",
        &[
            "pkg:golang/example.com/crit@v1.0.0",
            "pkg:golang/example.com/med@v1.0.0",
        ],
    )
    .await;
    assert!(evaluate(&app).await >= 1);
    assert_eq!(deliver(&app).await, 0, "no advisories, nothing to say");

    import(
        &app,
        json!([
            advisory("GO-2099-0300", "example.com/crit", "1.2.0", CRITICAL),
            advisory("GO-2099-0301", "example.com/med", "1.2.0", MEDIUM),
        ]),
    )
    .await;
    assert!(evaluate(&app).await >= 1, "the import queued the artifact");
    assert_eq!(
        deliver(&app).await,
        1,
        "the critical one, not the medium one"
    );
    let got = rx.take();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert!(signature_valid(r, SECRET), "the HMAC verifies");
    assert!(!signature_valid(r, "another-secret-entirely"));
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("x-cairn-event"), "finding.appeared");
    let body = r.json();
    assert_eq!(body["event"], "finding.appeared");
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    assert!(body["occurred_at"].as_str().is_some());
    let d = &body["data"];
    assert_eq!(
        (
            &d["artifact_id"],
            &d["project"],
            &d["artifact"],
            &d["version"],
            &d["vulnerability"],
            &d["severity"],
            &d["kev"],
            &d["purl"],
            &d["fixed_versions"],
            &d["state"]
        ),
        (
            &json!(artifact),
            &json!("acme/svc"),
            &json!("api"),
            &json!("1.0.0"),
            &json!("GO-2099-0300"),
            &json!("critical"),
            &json!(false),
            &json!("pkg:golang/example.com/crit@v1.0.0"),
            &json!(["1.2.0"]),
            &json!("in_triage")
        ),
        "{body}"
    );
    assert_eq!(d["aliases"], json!(["CVE-2099-0300"]));

    // The delivery is recorded, its id in the header.
    let listed = deliveries(&app, &format!("subscription={}", s["id"])).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "delivered");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_status"], 200);
    assert_eq!(listed[0]["event_id"], body["id"]);
    assert_eq!(r.header("x-cairn-delivery"), listed[0]["id"].to_string());

    // Evaluated again (another upload of the same artifact): nothing new.
    upload(
        &app,
        "project=acme/svc&artifact=api&version=1.0.0",
        &[
            "pkg:golang/example.com/crit@v1.0.0",
            "pkg:golang/example.com/med@v1.0.0",
            "pkg:golang/example.com/other@v1.0.0",
        ],
    )
    .await;
    assert!(evaluate(&app).await >= 1);
    assert_eq!(deliver(&app).await, 0);
    assert_eq!(rx.count(), 0);

    // A finding triaged away before it appears is not sent.
    import(
        &app,
        json!(advisory(
            "GO-2099-0302",
            "example.com/late",
            "1.2.0",
            CRITICAL
        )),
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/triage"))
        .bearer_auth(ADMIN_TOKEN)
        .json(
            &json!({"vulnerability": "GO-2099-0302", "purl": "pkg:golang/example.com/late@v1.0.0",
                      "scope": "portfolio", "state": "false_positive"}),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    upload(
        &app,
        "project=acme/svc&artifact=late&version=1.0.0",
        &["pkg:golang/example.com/late@v1.0.0"],
    )
    .await;
    assert!(evaluate(&app).await >= 1);
    assert_eq!(deliver(&app).await, 0, "triaged away: not sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_slack_format_and_test_events() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let s = create_ok(
        &app,
        json!({"name": "slack", "url": rx.url, "format": "slack", "secret": SECRET,
               "min_severity": "low"}),
    )
    .await;
    let id = s["id"].as_i64().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/notifications/subscriptions/{id}/test")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    assert_eq!(deliver(&app).await, 1);
    let got = rx.take();
    assert_eq!(got[0].header("x-cairn-event"), "test");
    assert_eq!(
        got[0].header("x-cairn-delivery"),
        queued["delivery_id"].to_string()
    );
    assert!(signature_valid(&got[0], SECRET));
    let body = got[0].json();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Test notification for subscription slack"),
        "{body}"
    );
    assert!(body["blocks"].as_array().is_some_and(|b| !b.is_empty()));

    // A finding, Slack-shaped.
    upload(
        &app,
        "project=acme/svc&artifact=api&version=1.0.0",
        &["pkg:golang/example.com/s@v1.0.0"],
    )
    .await;
    import(
        &app,
        json!(advisory("GO-2099-0400", "example.com/s", "1.1.0", CRITICAL)),
    )
    .await;
    evaluate(&app).await;
    assert_eq!(deliver(&app).await, 1);
    let body = rx.take()[0].json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "New critical vulnerability GO-2099-0400 (CVE-2099-0400) in acme/svc api 1.0.0"
        ),
        "{text}"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    assert!(blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["text"] == "*Fixed in*\n1.1.0"));
    assert!(
        body.get("event").is_none(),
        "Slack's shape, not the envelope"
    );

    // A disabled subscription is not tested (409) and not sent to.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/notifications/subscriptions/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/notifications/subscriptions/{id}/test")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 409).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_a_gate_flip_to_deny_is_sent_once() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    create_ok(
        &app,
        json!({"name": "gate", "url": rx.url, "secret": SECRET, "events": ["gate.denied"]}),
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/policy-sets"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "prod", "mode": "enforce",
            "rules": [{"rule": "vulnerabilities", "params": {"max_severity": "high"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let digest = format!("sha256:{}", "cd".repeat(32));
    let purl = "pkg:golang/example.com/g@v1.0.0";
    let artifact = upload(
        &app,
        &format!("project=acme/g&artifact=g&version=1&digest={digest}"),
        &[purl],
    )
    .await;
    evaluate(&app).await;
    assert_eq!(deliver(&app).await, 0, "allowed: nothing to say");

    import(
        &app,
        json!(advisory("GO-2099-0500", "example.com/g", "1.1.0", CRITICAL)),
    )
    .await;
    assert!(evaluate(&app).await >= 1);
    let gate = app.get_json(&format!("/api/v1/gate?digest={digest}")).await;
    assert_eq!(gate["decision"], "deny", "{gate}");
    assert_eq!(deliver(&app).await, 1);
    let got = rx.take();
    assert!(signature_valid(&got[0], SECRET));
    assert_eq!(got[0].header("x-cairn-event"), "gate.denied");
    let body = got[0].json();
    let d = &body["data"];
    assert_eq!(body["event"], "gate.denied");
    assert_eq!(
        (
            &d["artifact_id"],
            &d["project"],
            &d["policy_set"],
            &d["previous"],
            &d["digest"]
        ),
        (
            &json!(artifact),
            &json!("acme/g"),
            &json!("prod"),
            &json!("allow"),
            &json!(digest)
        ),
        "{body}"
    );
    assert_eq!(d["failing_rules"][0]["rule"], "vulnerabilities");
    assert!(d["failing_rules"][0]["message"]
        .as_str()
        .unwrap()
        .contains("GO-2099-0500"));

    // Re-evaluated while still denied (a second critical advisory): not again.
    import(
        &app,
        json!(advisory("GO-2099-0501", "example.com/g", "1.1.0", CRITICAL)),
    )
    .await;
    assert!(evaluate(&app).await >= 1);
    let gate = app.get_json(&format!("/api/v1/gate?digest={digest}")).await;
    assert_eq!(gate["decision"], "deny");
    assert_eq!(deliver(&app).await, 0);
    assert_eq!(rx.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_failures_are_retried_then_dead_lettered_and_retry_requeues() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    rx.answer(500);
    let s = create_ok(
        &app,
        json!({"name": "flaky", "url": rx.url, "secret": SECRET}),
    )
    .await;
    let test = || async {
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
        res.json::<Value>().await.unwrap()["delivery_id"]
            .as_i64()
            .unwrap()
    };
    let id = test().await;
    // Three attempts, then a dead letter (the backoff is zero here).
    assert_eq!(deliver(&app).await, 3);
    let got = rx.take();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(
            r.header("x-cairn-delivery"),
            id.to_string(),
            "one id for every attempt"
        );
        assert!(signature_valid(r, SECRET));
    }
    let dead = deliveries(&app, "state=dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            &dead[0]["id"],
            &dead[0]["attempts"],
            &dead[0]["last_status"],
            &dead[0]["last_error"]
        ),
        (
            &json!(id),
            &json!(3),
            &json!(500),
            &json!("HTTP 500 Internal Server Error")
        )
    );
    assert_eq!(deliver(&app).await, 0, "a dead letter is not sent again");

    // Retry: pending again with fresh attempts; delivered once the receiver is well.
    let retry = |id: i64| {
        app.client
            .post(app.url(&format!("/api/v1/notifications/deliveries/{id}/retry")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    let res = retry(id).await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let pending = deliveries(&app, "state=pending").await;
    assert_eq!((pending.len(), &pending[0]["attempts"]), (1, &json!(0)));
    rx.answer(204);
    assert_eq!(deliver(&app).await, 1);
    assert_eq!(rx.take().len(), 1);
    let done = deliveries(&app, "state=delivered").await;
    assert_eq!(
        (
            &done[0]["id"],
            &done[0]["last_status"],
            done[0]["last_error"].is_null()
        ),
        (&json!(id), &json!(204), true)
    );
    expect_problem(retry(id).await.unwrap(), 409).await;
    expect_problem(retry(999_999).await.unwrap(), 404).await;

    // Redirects are not followed: a failure.
    let second = test().await;
    rx.answer(302);
    cairn::notifications::worker::drain(&app.pool, &notify_options(1))
        .await
        .unwrap();
    let dead = deliveries(&app, "state=dead").await;
    assert_eq!(dead[0]["id"], second);
    assert!(dead[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("redirects are not followed"));

    // Paged, newest first.
    let page = app
        .get_json("/api/v1/notifications/deliveries?limit=1")
        .await;
    assert_eq!(page["items"][0]["id"], second);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app
        .get_json(&format!(
            "/api/v1/notifications/deliveries?limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(next["items"][0]["id"], id);
    assert!(next["next_cursor"].is_null());
    let res = app
        .get("/api/v1/notifications/deliveries?state=lost", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .get("/api/v1/notifications/deliveries?limit=501", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
}

/// A worker that leased a delivery and died: nothing is sent while its
/// lease holds; once it runs out another worker sends it (attempt 2), and
/// the dead worker's late outcome no longer counts.
#[tokio::test(flavor = "multi_thread")]
async fn notifications_a_lease_that_runs_out_is_sent_again() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let s = create_ok(
        &app,
        json!({"name": "lease", "url": rx.url, "secret": SECRET}),
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
    let mut conn = app.pool.acquire().await.unwrap();
    let leased = cairn::notifications::store::lease(&mut conn, 10, 600.0)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(deliver(&app).await, 0, "leased by the dead worker");
    // The lease runs out (moved to the past rather than waited for).
    sqlx::query("UPDATE notification_deliveries SET leased_until = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(deliver(&app).await, 1);
    assert_eq!(rx.take().len(), 1);
    // The dead worker's outcome arrives late: ignored.
    cairn::notifications::store::failed(
        &app.pool,
        leased[0].id,
        leased[0].attempts,
        Some(500),
        "late",
        None,
    )
    .await
    .unwrap();
    let d = deliveries(&app, "").await;
    assert_eq!(
        (&d[0]["state"], &d[0]["attempts"], &d[0]["last_status"]),
        (&json!("delivered"), &json!(2), &json!(200))
    );
}

/// Notifications are queued in the evaluation's transaction: an evaluation
/// that rolls back leaves nothing to send; the one that commits does.
#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_queued_in_the_evaluations_transaction() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    create_ok(
        &app,
        json!({"name": "tx", "url": rx.url, "secret": SECRET, "min_severity": "low"}),
    )
    .await;
    let artifact = upload(
        &app,
        "project=acme/tx&artifact=t&version=1",
        &["pkg:golang/example.com/t@v1.0.0"],
    )
    .await;
    import(
        &app,
        json!(advisory("GO-2099-0600", "example.com/t", "1.1.0", CRITICAL)),
    )
    .await;
    let count = "SELECT count(*) FROM notification_deliveries";
    let mut tx = app.pool.begin().await.unwrap();
    cairn::policies::service::evaluate_and_store(
        &mut tx,
        artifact,
        "test",
        worker_options().limits,
        app.clock.now(),
    )
    .await
    .unwrap()
    .unwrap();
    let inside: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(inside, 1);
    tx.rollback().await.unwrap();
    let after: i64 = sqlx::query_scalar(count)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(after, 0, "rolled back with the evaluation");
    assert_eq!(deliver(&app).await, 0);

    assert!(evaluate(&app).await >= 1);
    assert_eq!(deliver(&app).await, 1);
    let got = rx.take();
    assert_eq!(got[0].json()["data"]["vulnerability"], "GO-2099-0600");
}

/// A host name is resolved before each attempt, the addresses vetted, and
/// the connection made to them with the name kept for the request.
#[tokio::test(flavor = "multi_thread")]
async fn notifications_to_a_host_name_go_to_its_vetted_addresses() {
    let app = app_allowing_private().await;
    let rx = receiver().await;
    let url = rx.url.replace("127.0.0.1", "localhost");
    let s = create_ok(&app, json!({"name": "named", "url": url, "secret": SECRET})).await;
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
    assert_eq!(deliver(&app).await, 1);
    let got = rx.take();
    assert_eq!(got.len(), 1);
    assert!(got[0].header("host").starts_with("localhost:"));
    assert!(signature_valid(&got[0], SECRET));
}
