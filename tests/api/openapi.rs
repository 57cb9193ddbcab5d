//! The served OpenAPI document is the committed one. Regenerate with:
//! `cargo run -p cairn -- openapi > openapi/openapi.json`

use crate::harness::spawn_app;

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
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let init = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"));
}
