//! Tokens and roles on the API.

use serde_json::Value;

use crate::support::{expect_problem, fixture, spawn_app, ADMIN_TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_roles() {
    let app = spawn_app().await;
    let q = "/api/v1/sboms?project=acme/auth&artifact=a&version=1";
    let doc = fixture("sbom/guac__distroless-cyclonedx.json");

    // No token, malformed header, unknown token: 401 with a Bearer challenge.
    let res = app
        .client
        .post(app.url(q))
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    expect_problem(res, 401).await;
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
    let res = app
        .get("/api/v1/projects", "cairn_not_a_real_token")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;

    let viewer = app.token("viewer").await;
    let uploader = app.token("uploader").await;

    // A viewer reads but cannot upload or manage tokens.
    let res = app
        .client
        .post(app.url(q))
        .bearer_auth(&viewer)
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("uploader"), "{p}");
    assert_eq!(
        app.get("/api/v1/projects", &viewer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = app.get("/api/v1/tokens", &viewer).send().await.unwrap();
    expect_problem(res, 403).await;

    // An uploader uploads, but cannot create tokens.
    let res = app
        .client
        .post(app.url(q))
        .bearer_auth(&uploader)
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&uploader)
        .json(&serde_json::json!({"name": "x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;

    // Tokens are stored hashed: the secret appears nowhere in the database.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored
        .iter()
        .all(|h| h.len() == 32 && h.as_slice() != viewer.as_bytes()));

    // The admin lists tokens (never their secrets) and revokes one.
    let list: Value = app.get_json("/api/v1/tokens").await;
    assert!(!list.to_string().contains(&viewer));
    let viewer_id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "viewer")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{viewer_id}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app.get("/api/v1/projects", &viewer).send().await.unwrap();
    expect_problem(res, 401).await;

    // Bad token requests are clear.
    let res = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"name": "x", "role": "root"}))
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 422).await;
    assert!(p["detail"].as_str().unwrap().contains("role"), "{p}");
}
