//! Sessions and bootstrap (evidence integrity, class 11): sign-out revokes a
//! session server-side, HTTPS deployments get HSTS and `Secure` cookies, a
//! revoked bootstrap token stays revoked across restarts, and a waiver's
//! approver is the authenticated caller.

use cairn::config::Config;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::{fixture, fresh_database, spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN};

/// Signs in with `token`; returns the `cairn_session=…` pair and the whole
/// `Set-Cookie` value.
async fn sign_in_with(app: &TestApp, token: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in");
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    (set.split(';').next().unwrap().to_owned(), set)
}

/// GET /ui with a cookie: 200, or the sign-in redirect.
async fn ui_status(app: &TestApp, cookie: &str) -> (u16, Option<String>) {
    let res = app
        .client
        .get(app.url("/ui"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (res.status().as_u16(), location)
}

const SIGN_IN: (u16, Option<&str>) = (303, Some("/ui/login?next=%2Fui"));

fn is_sign_in(got: &(u16, Option<String>)) -> bool {
    (got.0, got.1.as_deref()) == SIGN_IN
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_revokes_the_session_server_side() {
    let app = spawn_app().await;
    let (session, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    let (other, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(ui_status(&app, &session).await.0, 200);

    // The attack: keep a copy of the cookie, sign out, use the copy.
    let copied = session.clone();
    let out = app
        .client
        .post(app.url("/ui/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let got = ui_status(&app, &copied).await;
    assert!(is_sign_in(&got), "the copied cookie still works: {got:?}");
    assert_ne!(session, other, "each sign-in is its own session");
    for path in ["/ui/components", "/ui/webhooks", "/ui/policies"] {
        let res = app
            .client
            .get(app.url(path))
            .header("cookie", &copied)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/ui/login?next="));
    }
    let (open, revoked): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE revoked_at IS NULL),
                count(*) FILTER (WHERE revoked_at IS NOT NULL) FROM sessions",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((open, revoked), (1, 1), "recorded server-side");

    // The legitimate paths: the other session is untouched, and signing in
    // again gives a working session.
    assert_eq!(ui_status(&app, &other).await.0, 200);
    let (fresh, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(ui_status(&app, &fresh).await.0, 200);
    // Signing out twice, or without a session, is harmless.
    for cookie in [copied.as_str(), "cairn_session=garbage", ""] {
        let res = app
            .client
            .post(app.url("/ui/logout"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(ui_status(&app, &fresh).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_ends_its_sessions_and_forged_sessions_are_refused() {
    let app = spawn_app().await;
    let viewer = app.token("viewer").await;
    let (session, _) = sign_in_with(&app, &viewer).await;
    assert_eq!(ui_status(&app, &session).await.0, 200);
    let tokens = app.get_json("/api/v1/tokens").await;
    let id = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "viewer")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(is_sign_in(&ui_status(&app, &session).await));
    // Its sessions are revoked too, not only refused through the token.
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE token_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(open, 0);

    // A well-signed cookie whose session was never recorded (or was
    // forgotten) is no session: the server-side record decides.
    let (admin, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(ui_status(&app, &admin).await.0, 200);
    sqlx::query("DELETE FROM sessions")
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(is_sign_in(&ui_status(&app, &admin).await));
    // An expired record likewise.
    let (admin, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(is_sign_in(&ui_status(&app, &admin).await));
    let (admin, _) = sign_in_with(&app, ADMIN_TOKEN).await;
    assert_eq!(ui_status(&app, &admin).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployments_send_hsts_and_secure_cookies() {
    let https = spawn_app_with(|k| (k == "CAIRN_COOKIE_SECURE").then(|| "true".to_string())).await;
    let plain = spawn_app().await;
    let hsts = |res: &reqwest::Response| {
        res.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for path in [
        "/healthz",
        "/ui/login",
        "/ui",
        "/api/v1/projects",
        "/api/docs/",
        "/no-such-page",
    ] {
        let res = https.client.get(https.url(path)).send().await.unwrap();
        assert_eq!(
            hsts(&res).as_deref(),
            Some("max-age=31536000"),
            "HTTPS deployment, {path}"
        );
        let res = plain.client.get(plain.url(path)).send().await.unwrap();
        assert_eq!(hsts(&res), None, "plain HTTP deployment, {path}");
    }

    let (session, set) = sign_in_with(&https, ADMIN_TOKEN).await;
    assert!(set.contains("; Secure"), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    assert_eq!(ui_status(&https, &session).await.0, 200);
    let out = https
        .client
        .post(https.url("/ui/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("; Secure"),
        "{cleared}"
    );

    let (_, set) = sign_in_with(&plain, ADMIN_TOKEN).await;
    assert!(!set.contains("Secure"), "{set}");
}

/// One start of Cairn on `pool`, as `cairn serve` does it (`cairn::prepare`
/// then the router), with this `CAIRN_BOOTSTRAP_TOKEN`.
async fn start(pool: &PgPool, bootstrap: Option<&str>) -> TestApp {
    let bootstrap = bootstrap.map(str::to_owned);
    let config = Config::from_lookup(|k| {
        (k == "CAIRN_BOOTSTRAP_TOKEN")
            .then(|| bootstrap.clone())
            .flatten()
    })
    .unwrap();
    crate::support::serve(pool, config).await
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/tokens", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_bootstrap_token_stays_revoked_across_restarts() {
    const BOOT: &str = "cairn_bootstrap_restart_0123456789abcdef";
    const OTHER: &str = "cairn_another_bootstrap_value_0123456789";

    // Legitimate: a fresh database gets the bootstrap token.
    let pool = cairn::db::connect(fresh_database().await, 4).await.unwrap();
    let first = start(&pool, Some(BOOT)).await;
    assert_eq!(status_with(&first, BOOT).await, 200);
    // Restarting with the variable still set changes nothing.
    let again = start(&pool, Some(BOOT)).await;
    assert_eq!(status_with(&again, BOOT).await, 200);
    let tokens: Value = again
        .get("/api/v1/tokens", BOOT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["items"].as_array().unwrap().len(), 1);
    let boot_id = tokens["items"][0]["id"].as_i64().unwrap();

    // The admin suspects the bootstrap token leaked and revokes it (with the
    // token itself: there is no other admin).
    let res = again
        .client
        .delete(again.url(&format!("/api/v1/tokens/{boot_id}")))
        .bearer_auth(BOOT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_with(&again, BOOT).await, 401);

    // The attack: restart with CAIRN_BOOTSTRAP_TOKEN still set. It used to
    // un-revoke the token; it stays revoked.
    let restarted = start(&pool, Some(BOOT)).await;
    assert_eq!(status_with(&restarted, BOOT).await, 401);
    let restarted = start(&pool, Some(BOOT)).await;
    assert_eq!(status_with(&restarted, BOOT).await, 401);
    let revoked: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1")
            .bind(boot_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(revoked.is_some());

    // With another admin token in the database, a bootstrap value is not
    // added either: the bootstrap token is only for a database without one.
    let (_, admin) = cairn::identity::store::create(&pool, "ops", cairn::identity::Role::Admin)
        .await
        .unwrap();
    let restarted = start(&pool, Some(OTHER)).await;
    assert_eq!(status_with(&restarted, OTHER).await, 401);
    assert_eq!(status_with(&restarted, &admin).await, 200);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 2, "nothing was added");
    // Without the variable, starting works as ever.
    let restarted = start(&pool, None).await;
    assert_eq!(status_with(&restarted, &admin).await, 200);

    // Legitimate again: another fresh database, the bootstrap token works,
    // and prepare run by two instances at once creates it once.
    let pool = cairn::db::connect(fresh_database().await, 8).await.unwrap();
    cairn::db::MIGRATOR.run(&pool).await.unwrap();
    let (a, b) = tokio::join!(start(&pool, Some(BOOT)), start(&pool, Some(BOOT)));
    assert_eq!(status_with(&a, BOOT).await, 200);
    assert_eq!(status_with(&b, BOOT).await, 200);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiver_approver_is_the_authenticated_caller() {
    let app = spawn_app().await;
    let res = app
        .upload(
            "project=acme/waive&artifact=api&version=1",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let maintainer = app.token("maintainer").await;
    let expires = (Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let post = |body: Value| {
        app.client
            .post(app.url("/api/v1/waivers"))
            .bearer_auth(&maintainer)
            .json(&body)
            .send()
    };

    // The attack: name someone else as the approver.
    let res = post(json!({"rule": "components", "artifact_id": artifact,
        "justification": "the CISO said so", "approver": "ciso@acme", "expires_at": expires}))
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["approver"], "maintainer for tests");
    let stored: (String, i64) =
        sqlx::query_as("SELECT approver, created_by FROM waivers WHERE id = $1")
            .bind(created["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let maintainer_id: i64 =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'maintainer for tests'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("maintainer for tests".to_owned(), maintainer_id));
    let listed = app.get_json("/api/v1/waivers").await["items"].clone();
    assert_eq!(listed[0]["approver"], "maintainer for tests");
    assert!(!listed.to_string().contains("ciso@acme"));

    // The legitimate path: no approver field at all (it is optional now).
    let res = post(json!({"rule": "licenses", "artifact_id": artifact,
        "justification": "accepted by legal", "expires_at": expires}))
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["approver"],
        "maintainer for tests"
    );
    // And an admin's waiver is the admin's.
    let res = app
        .client
        .post(app.url("/api/v1/waivers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"rule": "sbom-present", "project": "acme/waive",
            "justification": "x", "approver": "maintainer for tests", "expires_at": expires}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["approver"], "bootstrap");
    // A viewer still cannot create one.
    let viewer = app.token("viewer").await;
    let res = app
        .client
        .post(app.url("/api/v1/waivers"))
        .bearer_auth(&viewer)
        .json(&json!({"rule": "licenses", "artifact_id": artifact,
            "justification": "x", "expires_at": expires}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
