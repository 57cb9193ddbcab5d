//! The policy pages of the dashboard.

use super::*;
use crate::support::html::Html;

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
    let session = app.sign_in(ADMIN_TOKEN).await;

    // The matrix: one row per project, one column per rule, each cell
    // classed by its outcome; the trend chart above it.
    let html = app.page(&session, "/ui/policy-results").await;
    assert_eq!(html.count("svg.trend-chart polyline.trend-line[points]"), 1);
    let cell = |rule| html.cell("table.matrix", "acme/ui", rule).class;
    assert_eq!(cell("components"), "cell-fail");
    assert_eq!(cell("licenses"), "cell-waived");
    assert_eq!(cell("sbom-present"), "cell-pass");

    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}/policy"))
        .await;
    assert_eq!(html.text("dl.facts span.decision"), "deny");
    let rules = "section.policy-eval table";
    let components = html.row(rules, "components");
    assert_eq!(components[1].text, "fail");
    assert!(
        components[2]
            .text
            .contains("component pkg:alpine/busybox@1.35.0-r17"),
        "{components:?}"
    );
    assert!(html.row(rules, "sbom-present")[3].text.starts_with("SBOM "));
    let evidence = html.attrs(&format!("{rules} td a"), "href");
    assert!(
        evidence.iter().any(|a| a.starts_with("/api/v1/sboms/")),
        "evidence link: {evidence:?}"
    );
    let licences = html.row(rules, "licenses");
    assert_eq!(licences[1].text, "waived (rule said fail)");
    // The approver is the caller (the bootstrap token), not the request's text.
    let waiver_headers = html.texts("table#waivers thead th");
    let waiver = html.texts("table#waivers tbody tr td");
    let column = |name: &str| waiver_headers.iter().position(|h| h == name).unwrap() - 1;
    assert_eq!(waiver[column("Approver")], "bootstrap");
    assert_eq!(
        waiver[column("Justification")],
        "GPL base image accepted by legal"
    );
    assert!(!html.raw.contains("legal@acme"));
    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}"))
        .await;
    assert!(html
        .attrs("a", "href")
        .contains(&format!("/ui/artifacts/{artifact}/policy")));

    let html = app.page(&session, "/ui/policies").await;
    let set = html.row("table#sets", "ui-set");
    assert_eq!(
        (set[1].text.as_str(), set[2].text.as_str()),
        ("1", "enforce")
    );
    let shown: Vec<String> = html.texts("details summary span.mono");
    for id in [
        "sbom-present",
        "signed",
        "provenance",
        "ephemeral-runner",
        "licenses",
        "components",
        "evidence-fresh",
    ] {
        assert!(shown.iter().any(|s| s == id), "{id} not in {shown:?}");
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
    // The result, not the module echoed in the editor, names the violation.
    let html = Html::parse(res.text().await.unwrap());
    assert_eq!(html.text("[role=status] span.decision"), "deny");
    assert_eq!(html.texts("[role=status] li"), ["no busybox"]);
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
    let html = Html::parse(res.text().await.unwrap());
    assert!(html.text("p.error[role=alert]").contains("invalid Rego"));
    assert_eq!(html.count("[role=status]"), 0);
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
