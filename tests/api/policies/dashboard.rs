//! The policy pages of the dashboard.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_pages() {
    let app = spawn_app().await;
    let artifact = app.alpine("acme/ui", &fake_digest(6)).await;
    app.create_set(json!({"name": "ui-set", "mode": "enforce", "rules": [
        {"rule": "sbom-present"},
        {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36"]}},
        {"rule": "licenses", "params": {"deny": ["GPL-2.0-only"]}}]}))
        .await;
    let res = app
        .send_json(reqwest::Method::POST, "/api/v1/waivers", &json!({
            "rule": "licenses", "project": "acme/ui", "justification": "GPL base image accepted by legal",
            "approver": "legal@acme", "expires_at": (Utc::now() + chrono::Duration::days(7)).to_rfc3339()}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.drain().await;
    let session = sign_in(&app).await;

    let html = app.page(&session, "/ui/policy-results").await;
    assert!(html.contains("<svg class=\"trend-chart\""), "{html}");
    assert!(
        html.contains("<polyline class=\"trend-line\" points=\""),
        "{html}"
    );
    assert!(html.contains("acme/ui"));
    assert!(
        html.contains("class=\"cell-fail\""),
        "components fails: {html}"
    );
    assert!(
        html.contains("class=\"cell-waived\""),
        "licenses is waived: {html}"
    );
    assert!(
        html.contains("class=\"cell-pass\""),
        "sbom-present passes: {html}"
    );

    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}/policy"))
        .await;
    assert!(html.contains("decision-deny"));
    assert!(
        html.contains("component pkg:alpine/busybox@1.35.0-r17"),
        "{html}"
    );
    assert!(html.contains("GPL base image accepted by legal"));
    assert!(
        html.contains("<td>bootstrap</td>"),
        "the caller approved: {html}"
    );
    assert!(!html.contains("legal@acme"));
    assert!(html.contains("/api/v1/sboms/"), "evidence link");
    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}"))
        .await;
    assert!(html.contains(&format!("/ui/artifacts/{artifact}/policy")));

    let html = app.page(&session, "/ui/policies").await;
    assert!(html.contains("ui-set"));
    for id in [
        "sbom-present",
        "signed",
        "provenance",
        "ephemeral-runner",
        "licenses",
        "components",
        "evidence-fresh",
    ] {
        assert!(
            html.contains(&format!("<span class=\"mono\">{id}</span>")),
            "{id}"
        );
    }

    // The Rego editor's dry-run.
    let module = "package ui\nviolations contains m if { some c in input.sbom.components; c.name == \"busybox\"; m := \"no busybox\" }";
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .form(&[
            ("artifact_id", artifact.to_string().as_str()),
            ("module", module),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("no busybox"), "{html}");
    assert!(html.contains("decision-deny"));
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .form(&[
            ("artifact_id", artifact.to_string().as_str()),
            ("module", "package ui\nviolations contains m if {"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("invalid Rego"));
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("artifact_id", "1"), ("module", module)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
