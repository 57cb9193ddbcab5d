//! Replayed and unauthenticated webhook deliveries (evidence integrity,
//! classes 9 and 11): replays inside a signature's reach store nothing, the
//! audit of refusals cannot be grown with random source names, and a
//! delivery that cannot verify is refused before its body is read.

use std::time::Duration;

use cairn::builds::core::verify::gitlab_signature;
use futures_util::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::webhooks::{
    create_source, drained, fast_workers, send_github, webhook_fixture, GITHUB_SECRET,
};
use crate::support::{spawn_app, TestApp};

const GITLAB_TOKEN: &str = "gitlab-replay-token-0123456789";
const SIGNING: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// A signed GitLab delivery with the given ids (None: header not sent).
struct Signed<'a> {
    webhook_id: &'a str,
    timestamp: String,
    uuid: Option<&'a str>,
    idempotency_key: Option<&'a str>,
}

async fn send_signed(app: &TestApp, d: &Signed<'_>, body: &[u8]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/webhooks/gitlab/signed"))
        .header("content-type", "application/json")
        .header("x-gitlab-event", "Pipeline Hook")
        .header("webhook-id", d.webhook_id)
        .header("webhook-timestamp", &d.timestamp)
        .header(
            "webhook-signature",
            gitlab_signature(SIGNING, d.webhook_id, &d.timestamp, body),
        )
        .body(body.to_vec());
    if let Some(u) = d.uuid {
        req = req.header("x-gitlab-event-uuid", u);
    }
    if let Some(k) = d.idempotency_key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn status_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_gitlab_delivery_replayed_with_new_ids_is_a_duplicate() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "signed", "secret": GITLAB_TOKEN, "signing_secret": SIGNING}),
    )
    .await;
    let body = webhook_fixture("gitlab/go-gitlab__pipeline.json");
    let ts = chrono::Utc::now().timestamp().to_string();
    let original = Signed {
        webhook_id: "msg_2k2ZNoYpGLHdCbD",
        timestamp: ts.clone(),
        uuid: Some("uuid-1"),
        idempotency_key: Some("idem-1"),
    };
    let (status, ack) = status_of(send_signed(&app, &original, &body).await).await;
    assert_eq!((status, ack["status"].as_str()), (202, Some("queued")));

    // The attack: the captured delivery again, inside the 5-minute window,
    // with the unsigned ids changed, dropped, or both.
    for (uuid, key) in [
        (Some("uuid-2"), Some("idem-1")),
        (Some("uuid-1"), Some("idem-2")),
        (None, Some("idem-3")),
        (Some("uuid-4"), None),
        (Some("uuid-5"), Some("idem-5")),
        (None, None),
    ] {
        let replay = Signed {
            webhook_id: original.webhook_id,
            timestamp: ts.clone(),
            uuid,
            idempotency_key: key,
        };
        let (status, ack) = status_of(send_signed(&app, &replay, &body).await).await;
        assert_eq!(
            (status, ack),
            (200, json!({"status": "duplicate"})),
            "replay with {uuid:?} {key:?}"
        );
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        1
    );
    let stored: String = sqlx::query_scalar("SELECT delivery_id FROM webhook_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        stored, "msg_2k2ZNoYpGLHdCbD",
        "the signed id is the delivery id"
    );

    // The legitimate path: GitLab sends the same event again as a new
    // message (re-signed under a new webhook-id): stored.
    let resent = Signed {
        webhook_id: "msg_2k2ZNoYpGLHdCbE",
        timestamp: chrono::Utc::now().timestamp().to_string(),
        uuid: Some("uuid-1"),
        idempotency_key: Some("idem-1"),
    };
    let (status, ack) = status_of(send_signed(&app, &resent, &body).await).await;
    assert_eq!((status, ack["status"].as_str()), (202, Some("queued")));
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        2
    );
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'done' AND processed_count = 1"
        )
        .await,
        2
    );
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_audit").await, 0);
}

async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT count(*) FROM webhook_deliveries",
        "SELECT coalesce(sum(processed_count), 0) FROM webhook_deliveries",
        "SELECT count(*) FROM ci_runs",
        "SELECT count(*) FROM ci_jobs",
        "SELECT coalesce(max(extract(epoch FROM updated_at) * 1000000)::bigint, 0) FROM ci_runs",
        "SELECT coalesce(max(extract(epoch FROM updated_at) * 1000000)::bigint, 0) FROM ci_jobs",
    ] {
        out.push(count(app, sql).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_body_under_a_new_delivery_id_changes_nothing() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh-org", "secret": GITHUB_SECRET}),
    )
    .await;
    let body = webhook_fixture(
        "github/octokit__workflow_job_completed.success.with-organization.payload.json",
    );
    let send = |source: &'static str, id: &'static str, body: Vec<u8>| {
        send_github(
            &app.client,
            &app.base,
            source,
            GITHUB_SECRET,
            "workflow_job",
            id,
            body,
        )
    };
    let (status, _) = status_of(send("gh", "delivery-1", body.clone()).await).await;
    assert_eq!(status, 202);
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    let before = snapshot(&app).await;
    assert_eq!(
        before[..4],
        [1, 1, 1, 1],
        "one delivery, processed once: {before:?}"
    );

    // The attack: the captured body (its signature is valid) under new
    // X-GitHub-Delivery ids, one after another and racing.
    for id in ["delivery-2", "delivery-3"] {
        let (status, ack) = status_of(send("gh", id, body.clone()).await).await;
        assert_eq!((status, ack), (200, json!({"status": "duplicate"})), "{id}");
    }
    let (a, b) = tokio::join!(
        send("gh", "delivery-4", body.clone()),
        send("gh", "delivery-5", body.clone())
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    // Not processed again: nothing stored, nothing queued, no run or job
    // touched (a duplicate is refused before anything is written).
    drained(&app.pool).await;
    assert_eq!(snapshot(&app).await, before);

    // Legitimate: a body differing by one byte is another delivery, and two
    // different bodies racing under new ids are both stored.
    let mut changed = body.clone();
    changed.push(b'\n');
    let (status, _) = status_of(send("gh", "delivery-6", changed.clone()).await).await;
    assert_eq!(status, 202);
    let mut one = body.clone();
    one.push(b' ');
    let mut two = body.clone();
    two.extend(b"  ");
    let (a, b) = tokio::join!(send("gh", "delivery-7", one), send("gh", "delivery-8", two));
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    // Two copies of a new body racing under two new ids: one is stored.
    let mut three = body.clone();
    three.extend(b"   ");
    let (a, b) = tokio::join!(
        send("gh", "delivery-11", three.clone()),
        send("gh", "delivery-12", three)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 202]);
    // The same body to another source (an organisation hook beside a
    // repository hook) is that source's delivery.
    let (status, _) = status_of(send("gh-org", "delivery-1", body.clone()).await).await;
    assert_eq!(status, 202);
    // The same changed body again: a duplicate.
    let (status, _) = status_of(send("gh", "delivery-9", changed).await).await;
    assert_eq!(status, 200);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        6
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE processed_count = 1"
        )
        .await,
        6
    );
    // One run, one job: the events are the same job.
    assert_eq!(count(&app, "SELECT count(*) FROM ci_jobs").await, 1);

    // Outside the window the body is no longer remembered (here: the first
    // delivery made 25 hours old).
    sqlx::query(
        "UPDATE webhook_deliveries SET received_at = now() - interval '25 hours'
         WHERE delivery_id = 'delivery-1' AND source_id = (SELECT id FROM webhook_sources WHERE name = 'gh')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (status, _) = status_of(send("gh", "delivery-10", body).await).await;
    assert_eq!(status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_with_random_source_names_share_one_audit_row() {
    let app = spawn_app().await;
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    const N: usize = 10_000;
    // The attack: 10,000 refusals from one address, each to a new random
    // source name.
    let statuses: Vec<u16> = stream::iter(0..N)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url(&format!(
                "/webhooks/github/no-such-source-{i}-{:x}",
                i * 7919
            ));
            async move {
                client
                    .post(url)
                    .header("x-github-event", "ping")
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 401));
    let (rows, total): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(occurrences)::bigint FROM webhook_audit")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // One row per minute: a run that straddles a minute boundary has two.
    assert!(rows <= 2, "{rows} audit rows for one sender");
    assert_eq!(total, N as i64);
    let rows: Vec<(String, String, String, i32)> = sqlx::query_as(
        "SELECT source_name, last_source_name, reason, occurrences FROM webhook_audit ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!rows.is_empty() && rows.len() <= 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.2 == "unknown webhook source"));
    assert_eq!(rows.iter().map(|r| r.3 as usize).sum::<usize>(), N);
    assert!(rows[0].0.starts_with("no-such-source-"));
    assert!(rows.iter().all(|r| r.1.starts_with("no-such-source-")));
    let audit = app.get_json("/api/v1/webhook-audit").await;
    let first = &audit["items"][0];
    assert_eq!(first["remote_addr"], "127.0.0.1");
    assert!(first["last_source_name"]
        .as_str()
        .unwrap()
        .starts_with("no-such-source-"));

    // Forged signatures to the real source with random other names mixed
    // in: one row per reason, not per name.
    let forged = cairn::builds::core::verify::github_signature(b"not the secret", b"{}");
    for i in 0..50 {
        let name = if i % 2 == 0 {
            "gh".to_owned()
        } else {
            format!("nope-{i}")
        };
        let res = app
            .client
            .post(app.url(&format!("/webhooks/github/{name}")))
            .header("x-hub-signature-256", &forged)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let reasons: Vec<(String, i64)> = sqlx::query_as(
        "SELECT reason, sum(occurrences)::bigint FROM webhook_audit GROUP BY reason ORDER BY reason",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [
            ("signature does not match".to_owned(), 25),
            ("unknown webhook source".to_owned(), N as i64 + 25)
        ]
    );
    assert!(count(&app, "SELECT count(*) FROM webhook_audit").await <= 4);

    // Legitimate deliveries still go through.
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "ping",
        "ok-1",
        b"{\"zen\": \"Keep it logically awesome.\"}".to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

/// Sends the headers and a first 64 KiB of a body declared (Content-Length)
/// at 30 MiB — over the 25 MiB limit — and never the rest; returns the
/// status line the server answers with.
async fn answer_without_the_body(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> String {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        30 * 1024 * 1024
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; 64 * 1024]).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // The server answers without waiting for the other 30 MiB; 10 s is a
    // bound for a broken build (it would wait for ever), not a timing test.
    while !got.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no answer to {path} without its body"))
            .unwrap();
        assert!(n > 0, "connection closed without an answer ({path})");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    text.lines().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_that_cannot_verify_are_refused_before_the_body_is_read() {
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
    create_source(
        &app,
        json!({"provider": "gitlab", "name": "signed", "secret": GITLAB_TOKEN, "signing_secret": SIGNING}),
    )
    .await;
    let now = chrono::Utc::now().timestamp().to_string();
    let stale = (chrono::Utc::now().timestamp() - 3600).to_string();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/webhooks/github/no-such-source",
            vec![],
            "unknown webhook source",
        ),
        (
            "/webhooks/gitlab/no-such-source",
            vec![("x-gitlab-token", GITLAB_TOKEN)],
            "unknown webhook source",
        ),
        (
            "/webhooks/github/gh",
            vec![],
            "missing X-Hub-Signature-256 header",
        ),
        (
            "/webhooks/github/gh",
            vec![("x-hub-signature-256", "sha1=00")],
            "malformed X-Hub-Signature-256 header",
        ),
        (
            "/webhooks/gitlab/gl",
            vec![("x-gitlab-token", "wrong")],
            "token does not match",
        ),
        (
            "/webhooks/gitlab/gl",
            vec![],
            "missing X-Gitlab-Token header",
        ),
        (
            "/webhooks/gitlab/signed",
            vec![("x-gitlab-token", GITLAB_TOKEN)],
            "missing webhook-id header",
        ),
        (
            "/webhooks/gitlab/signed",
            vec![
                ("webhook-id", "m1"),
                ("webhook-timestamp", stale.as_str()),
                ("webhook-signature", "v1,AAAA"),
            ],
            "webhook-timestamp is more than 5 minutes away from now",
        ),
        (
            "/webhooks/gitlab/signed",
            vec![
                ("webhook-id", "m1"),
                ("webhook-timestamp", now.as_str()),
                ("webhook-signature", "v1,AAAA"),
                ("x-gitlab-token", "wrong"),
            ],
            "token does not match",
        ),
    ];
    for (path, headers, reason) in &cases {
        let status = answer_without_the_body(&app, path, headers).await;
        assert!(
            status.starts_with("HTTP/1.1 401"),
            "{path} {reason}: {status}"
        );
        let audited: i64 =
            sqlx::query_scalar("SELECT count(*) FROM webhook_audit WHERE reason = $1")
                .bind(reason)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert!(audited >= 1, "{path}: {reason} audited");
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );

    // Legitimate: headers that could verify mean the body is read, and its
    // limit applies (413, declared over the limit: not read either).
    let status = answer_without_the_body(
        &app,
        "/webhooks/github/gh",
        &[("x-hub-signature-256", "sha256=00ff")],
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let status = answer_without_the_body(
        &app,
        "/webhooks/gitlab/gl",
        &[("x-gitlab-token", GITLAB_TOKEN)],
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    // And a real delivery of each kind is accepted.
    let body = webhook_fixture("gitlab/go-gitlab__pipeline.json");
    let res = app
        .client
        .post(app.url("/webhooks/gitlab/gl"))
        .header("x-gitlab-event", "Pipeline Hook")
        .header("x-gitlab-token", GITLAB_TOKEN)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let signed = Signed {
        webhook_id: "msg_ok",
        timestamp: chrono::Utc::now().timestamp().to_string(),
        uuid: None,
        idempotency_key: None,
    };
    assert_eq!(send_signed(&app, &signed, &body).await.status(), 202);
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "ping",
        "ok",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}
