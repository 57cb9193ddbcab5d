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

mod delivery;
mod subscriptions;

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
    app.evaluate_queued().await
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
