//! The served OpenAPI document is the committed one. Regenerate with:
//! `cargo run -p cairn -- openapi > openapi/openapi.json`

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_spec_matches_committed_spec() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let served = served.text().await.unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .expect("openapi/openapi.json is committed");
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `cargo run -p cairn -- openapi > openapi/openapi.json`"
    );
    let spec: serde_json::Value = serde_json::from_str(&served).unwrap();
    for path in [
        "/api/v1/sboms",
        "/api/v1/components",
        "/api/v1/sboms/{id}/document",
        "/readyz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} documented");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(spec["components"]["schemas"].get("Problem").is_some());

    // The interactive docs are served from the binary.
    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = crate::support::html::Html::parse(docs.text().await.unwrap());
    assert_eq!(html.count("div#swagger-ui"), 1, "{}", html.raw);
    let init = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"));
}

/// Every operation documents the answers of the shared layers: a token
/// where one is needed (401 with its header, 403), parameters (400), a
/// resource path (404), a body (413, 415, 422), all problem+json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_the_shared_problem_answers() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            let has = |status: &str| responses.get(status).is_some();
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured {
                assert!(has("401") && has("403"), "{method} {path}");
                assert_eq!(
                    responses["401"]["headers"]["WWW-Authenticate"]["schema"]["enum"][0], "Bearer",
                    "{method} {path}"
                );
            }
            if path.contains('{') {
                assert!(has("404"), "{method} {path}");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{method} {path} {status}");
                }
            }
            for (status, r) in responses.as_object().unwrap() {
                if status.starts_with('4') {
                    assert!(
                        r["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} operations");
}

/// NUL cannot be stored in PostgreSQL text: it is a 400 naming it, in a
/// query, a path or a JSON body, never a 500; the same request without it
/// succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_are_a_clear_400() {
    let app = spawn_app().await;
    let res = app
        .get("/api/v1/projects?q=a%00b", crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let problem = crate::support::expect_problem(res, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("NUL"),
        "{problem}"
    );
    let res = app
        .get("/api/v1/projects?q=ab", crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .get("/api/v1/projects/a%00b", crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    crate::support::expect_problem(res, 400).await;

    let create = |description: &str| {
        app.client
            .post(app.url("/api/v1/policy-sets"))
            .bearer_auth(crate::support::ADMIN_TOKEN)
            .json(&serde_json::json!({
                "name": format!("nul-{}", description.len()),
                "mode": "warn",
                "description": description,
                "rules": [{"rule": "sbom-present"}]
            }))
            .send()
    };
    let problem = crate::support::expect_problem(create("a\u{0}b").await.unwrap(), 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("NUL"),
        "{problem}"
    );
    assert_eq!(create("a b c").await.unwrap().status(), 201);
}
