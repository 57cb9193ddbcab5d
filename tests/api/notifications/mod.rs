//! Outgoing notifications against the real server and database, delivered
//! to a receiver on 127.0.0.1 (the app's config allows private targets;
//! one app keeps the default and refuses them). Deliveries are sent by
//! draining the worker, so nothing waits on a clock.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{
    cyclonedx, expect_problem, spawn_app, spawn_app_with, worker_options, TestApp, ADMIN_TOKEN,
};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SECRET: &str = "a-receiver-secret-of-some-length";

/// An app whose notifications may go to 127.0.0.1.
async fn app_allowing_private() -> TestApp {
    spawn_app_with(|k| match k {
        "CAIRN_NOTIFY_ALLOW_PRIVATE" => Some("true".into()),
        "CAIRN_SECRET_KEY" => Some(KEY.into()),
        _ => None,
    })
    .await
}

fn notify_options(max_attempts: i32) -> cairn::notifications::worker::WorkerOptions {
    cairn::notifications::worker::WorkerOptions {
        workers: 1,
        batch: 10,
        max_attempts,
        // Retries are due at once: a drain makes every attempt.
        base_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        timeout: Duration::from_secs(10),
        allow_private: true,
        idle_poll: Duration::from_millis(50),
        key: cairn::secrets::SecretKey::from_base64(KEY).unwrap(),
    }
}

async fn deliver(app: &TestApp) -> usize {
    cairn::notifications::worker::drain(&app.pool, &notify_options(3))
        .await
        .unwrap()
}

async fn evaluate(app: &TestApp) -> usize {
    cairn::policies::worker::drain(&app.pool, &worker_options())
        .await
        .unwrap()
}

/// What the receiver was sent.
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

/// A webhook receiver on 127.0.0.1 answering the status it is told.
async fn receiver() -> Receiver {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(200));
    let (g, s) = (got.clone(), status.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (g, s) = (g.clone(), s.clone());
            async move {
                g.lock().unwrap().push(Received {
                    headers,
                    body: body.to_vec(),
                });
                axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        status,
    }
}

/// Checks `X-Cairn-Signature` as a receiver would: HMAC-SHA256 of "t.body".
fn signature_valid(r: &Received, secret: &str) -> bool {
    let header = r.header("x-cairn-signature");
    let (t, v1) = header.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/notifications/subscriptions"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn create_ok(app: &TestApp, body: Value) -> Value {
    let res = create(app, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn subscriptions_stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM notification_subscriptions")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app
        .get_json(&format!("/api/v1/notifications/deliveries?{query}"))
        .await;
    page["items"].as_array().unwrap().clone()
}

/// An OSV advisory for a Go module below `fixed`, with a CVSS vector.
fn advisory(id: &str, module: &str, fixed: &str, vector: &str) -> Value {
    json!({"id": id, "aliases": [id.replace("GO-", "CVE-")],
        "summary": format!("{module} is broken"),
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{"package": {"ecosystem": "Go", "name": module},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
}

const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const MEDIUM: &str = "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:L/I:L/A:N";

async fn import(app: &TestApp, records: Value) {
    let res = app
        .client
        .post(app.url("/api/v1/advisories"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&records)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn upload(app: &TestApp, query: &str, purls: &[&str]) -> i64 {
    let res = app.upload(query, cyclonedx(purls)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap()
}

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
