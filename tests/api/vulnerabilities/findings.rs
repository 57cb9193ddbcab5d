//! Findings over time: scanner reports merged with matches, history, portfolio, trend, and the dashboard pages.

use super::*;
use crate::support::html::{Cell, Html};

#[tokio::test(flavor = "multi_thread")]
async fn scanner_reports_merge_with_cairns_own_matches() {
    let app = spawn_app().await;
    import_go_database(&app).await;
    let text = "pkg:golang/golang.org/x/text@v0.3.6";
    let a = artifact_with(&app, "gomod", &[text]).await;
    let ours = findings(&app, a, "").await;
    assert_eq!(
        ids_for(&ours, text),
        ["GO-2021-0113", "GO-2022-1059", "GO-2026-5970"]
    );

    // Trivy's report of the same module tree (integration/testdata of trivy).
    let upload = |query: &str, body: Vec<u8>| {
        let (app, url) = (&app, format!("/api/v1/scan-reports?{query}"));
        async move { post(app, &url, ADMIN_TOKEN, "application/json", body).await }
    };
    let query = "project=acme/svc&artifact=gomod&version=1.0.0";
    let res = upload(query, fixture("scan/trivy__gomod.json.golden")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (
            r["artifact_id"].as_i64(),
            r["scanner"].as_str(),
            r["findings"].as_u64(),
            r["with_purl"].as_u64()
        ),
        (Some(a), Some("trivy"), Some(5), Some(5)),
        "{r}"
    );
    assert!(
        r["known"].as_u64().unwrap() >= 2,
        "CVE-2021-38561 and CVE-2022-23628 are Go database aliases: {r}"
    );
    let again = upload(query, fixture("scan/trivy__gomod.json.golden")).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the same report again stores nothing"
    );

    let items = findings(&app, a, "").await;
    // Trivy's CVE-2021-38561 on x/text is Cairn's GO-2021-0113: one finding, two sources.
    let on_text: Vec<(&str, Value)> = items
        .iter()
        .filter(|f| f["purl"] == text)
        .map(|f| (f["id"].as_str().unwrap(), f["sources"].clone()))
        .collect();
    assert_eq!(
        on_text,
        [
            ("GO-2021-0113", json!(["osv", "trivy"])),
            ("GO-2022-1059", json!(["osv"])),
            ("GO-2026-5970", json!(["osv"]))
        ],
        "{items:?}"
    );
    // What only Trivy reports: named by the Go database where an alias joins it.
    let opa = items
        .iter()
        .find(|f| f["purl"] == "pkg:golang/github.com/open-policy-agent/opa@v0.35.0")
        .unwrap();
    assert_eq!(
        (opa["id"].as_str(), opa["sources"].clone()),
        (Some("GO-2022-0316"), json!(["trivy"]))
    );
    assert_eq!(opa["fixed_versions"], json!(["0.37.0"]));
    let gms = items.iter().find(|f| f["id"] == "GMS-2022-20").unwrap();
    assert_eq!(gms["sources"], json!(["trivy"]));
    assert_eq!(
        findings(&app, a, "&source=trivy").await.len(),
        items.len() - 2,
        "Trivy missed two"
    );
    assert_eq!(findings(&app, a, "&source=osv").await.len(), 3);

    // Grype: a package without a purl is kept by type, name and version;
    // the report's scanned digest must agree with the one given.
    let grype = fixture("scan/grype__TestJsonImgsPresenter.golden.json");
    let scanned = "sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5";
    const SCAN_TABLES: [&str; 5] = [
        "projects",
        "artifacts",
        "scan_reports",
        "scan_findings",
        "policy_queue",
    ];
    let before = rows(&app, &SCAN_TABLES).await;
    let res = upload(
        &format!(
            "project=acme/img&artifact=img&version=1&digest=sha256:{}",
            "0".repeat(64)
        ),
        grype.clone(),
    )
    .await;
    let p = expect_problem(res, 422).await;
    assert!(p["detail"].as_str().unwrap().contains(scanned), "{p}");
    assert_eq!(rows(&app, &SCAN_TABLES).await, before, "nothing stored");
    let res = upload(
        &format!("project=acme/img&artifact=img&version=1&digest={scanned}"),
        grype,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let img = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let items = findings(&app, img, "").await;
    let rpm = items.iter().find(|f| f["id"] == "CVE-1999-0001").unwrap();
    assert_eq!(
        rpm["package"],
        json!({"type": "rpm", "name": "package-1", "version": "1.1.1"})
    );
    assert_eq!(
        (rpm["severity"].as_str(), rpm["sources"].clone()),
        (Some("low"), json!(["grype"]))
    );

    let before = rows(&app, &SCAN_TABLES).await;
    for body in [b"{}".to_vec(), b"not json".to_vec()] {
        expect_problem(upload(query, body).await, 422).await;
    }
    let viewer = app.token("viewer").await;
    expect_problem(
        post(
            &app,
            &format!("/api/v1/scan-reports?{query}"),
            &viewer,
            "application/json",
            fixture("scan/trivy__gomod.json.golden"),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(
        rows(&app, &SCAN_TABLES).await,
        before,
        "refused reports store nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_are_recorded_with_history_portfolio_and_trend() {
    let app = spawn_app().await;
    let drain = || async { app.evaluate_queued().await };
    let record = |withdrawn: bool| {
        let mut r = json!({"id": "GO-2099-0200", "aliases": ["CVE-2099-0200"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected": [{"package": {"ecosystem": "Go", "name": "example.com/r"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.5.0"}]}]}]});
        if withdrawn {
            r["withdrawn"] = json!("2026-11-30T00:00:00Z");
        }
        serde_json::to_vec(&r).unwrap()
    };
    let import = |body: Vec<u8>| async {
        let res = post(
            &app,
            "/api/v1/advisories",
            ADMIN_TOKEN,
            "application/json",
            body,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    };
    import(record(false)).await;
    let old = artifact_with(&app, "r-old", &["pkg:golang/example.com/r@v1.4.0"]).await;
    let new = artifact_with(&app, "r-new", &["pkg:golang/example.com/r@v1.6.0"]).await;

    // Before the worker ran: matched live, not yet recorded.
    let live = app.get_json("/api/v1/vulnerabilities/CVE-2099-0200").await;
    assert_eq!(live["affected"].as_array().unwrap().len(), 1, "{live}");
    assert!(live["affected"][0]["first_seen"].is_null());
    let items = findings(&app, old, "").await;
    assert!(items[0]["first_seen"].is_null());
    let empty = app.get_json("/api/v1/vulnerabilities").await;
    assert_eq!(empty["items"], json!([]), "nothing recorded yet");

    assert!(drain().await >= 2, "both uploads were queued");
    let items = findings(&app, old, "").await;
    assert_eq!(items.len(), 1);
    let first_seen = items[0]["first_seen"].as_str().unwrap().to_string();
    assert!(!items[0]["last_seen"].is_null());
    assert!(findings(&app, new, "").await.is_empty());

    // The recorded answer equals the live one, with first_seen.
    let recorded = app.get_json("/api/v1/vulnerabilities/GO-2099-0200").await;
    let a = &recorded["affected"][0];
    assert_eq!(
        (
            &a["artifact_id"],
            &a["purl"],
            &a["component_version"],
            &a["fixed_versions"],
            &a["state"]
        ),
        (
            &json!(old),
            &json!("pkg:golang/example.com/r@v1.4.0"),
            &json!("v1.4.0"),
            &json!(["1.5.0"]),
            &json!("in_triage")
        ),
        "{recorded}"
    );
    assert_eq!(a["first_seen"], json!(first_seen));

    // The portfolio list and the overview.
    let list = app.get_json("/api/v1/vulnerabilities").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let v = &list["items"][0];
    assert_eq!(
        (
            &v["id"],
            &v["severity"],
            &v["kev"],
            &v["findings"],
            &v["artifacts"],
            &v["projects"]
        ),
        (
            &json!("GO-2099-0200"),
            &json!("high"),
            &json!(false),
            &json!(1),
            &json!(1),
            &json!(1)
        )
    );
    assert_eq!(v["aliases"], json!(["CVE-2099-0200"]));
    let none = app
        .get_json("/api/v1/vulnerabilities?min_severity=critical")
        .await;
    assert_eq!(none["items"], json!([]));
    let overview = app
        .get_json("/api/v1/overview/vulnerabilities?days=7")
        .await;
    assert_eq!(overview["findings"], 1, "{overview}");
    let high = overview["by_severity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["severity"] == "high")
        .unwrap();
    assert_eq!(
        (&high["vulnerabilities"], &high["findings"]),
        (&json!(1), &json!(1))
    );
    let trend = overview["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7);
    assert_eq!(trend[6]["high"], 1, "today: one open high finding");
    expect_problem(
        app.get("/api/v1/overview/vulnerabilities?days=0", ADMIN_TOKEN)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;

    // Triaged away: out of the default list and the counts, the trend keeps it.
    let res = app
        .client
        .post(app.url("/api/v1/triage"))
        .bearer_auth(ADMIN_TOKEN)
        .json(
            &json!({"vulnerability": "GO-2099-0200", "purl": "pkg:golang/example.com/r@v1.4.0",
                      "scope": "portfolio", "state": "false_positive"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    drain().await;
    assert_eq!(
        app.get_json("/api/v1/vulnerabilities").await["items"],
        json!([])
    );
    let all = app
        .get_json("/api/v1/vulnerabilities?include_triaged=true")
        .await;
    assert_eq!(all["items"][0]["untriaged_or_affected"], 0, "{all}");
    let overview = app.get_json("/api/v1/overview/vulnerabilities").await;
    assert_eq!(overview["findings"], 0);
    assert_eq!(overview["trend"][29]["high"], 1);

    // Withdrawn: resolved; published again: it reappears, first_seen kept.
    import(record(true)).await;
    drain().await;
    assert!(findings(&app, old, "").await.is_empty());
    let gone = app.get_json("/api/v1/vulnerabilities/CVE-2099-0200").await;
    assert_eq!(gone["affected"], json!([]));
    let overview = app.get_json("/api/v1/overview/vulnerabilities").await;
    assert_eq!(overview["trend"][29]["high"], 0, "resolved today");
    import(record(false)).await;
    drain().await;
    let back = findings(&app, old, "").await;
    assert_eq!(back[0]["first_seen"], json!(first_seen));
    let history = app
        .get_json(&format!(
            "/api/v1/artifacts/{old}/vulnerabilities/history?limit=2"
        ))
        .await;
    let changes: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["reappeared", "resolved"], "{history}");
    assert_eq!(history["items"][0]["vulnerability"], "GO-2099-0200");
    let cursor = history["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(&format!(
            "/api/v1/artifacts/{old}/vulnerabilities/history?cursor={cursor}"
        ))
        .await;
    assert_eq!(rest["items"][0]["change"], "appeared");
    assert!(rest["next_cursor"].is_null());
    expect_problem(
        app.get(
            "/api/v1/artifacts/999999/vulnerabilities/history",
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap(),
        404,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_vulnerability_pages_and_triage_form() {
    let app = spawn_app().await;
    let record = json!({"id": "GO-2099-0300", "aliases": ["CVE-2099-0300"],
        "summary": "Header smuggling in example.com/t",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Go", "name": "example.com/t"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]});
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        serde_json::to_vec(&record).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = artifact_with(&app, "t", &["pkg:golang/example.com/t@v1.9.0"]).await;
    app.evaluate_queued().await;
    let admin = app.sign_in(ADMIN_TOKEN).await;
    let page = |session: String, path: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url(&path))
                .header("cookie", session)
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                Html::parse(res.text().await.unwrap()),
            )
        }
    };
    let texts = |cells: Vec<Cell>| cells.into_iter().map(|c| c.text).collect::<Vec<_>>();

    // The artifact page lists the finding.
    let (status, html) = page(admin.clone(), format!("/ui/artifacts/{id}")).await;
    assert_eq!(status, 200);
    let finding = texts(html.row("table#findings", "GO-2099-0300"));
    assert_eq!(
        finding[..5],
        [
            "GO-2099-0300 CVE-2099-0300",
            "critical",
            "pkg:golang/example.com/t@v1.9.0",
            "2.0.0",
            "in_triage"
        ]
    );
    assert_eq!(
        html.attrs("table#findings tbody th a", "href"),
        ["/ui/vulnerabilities/GO-2099-0300"]
    );

    // The overview: counts, the trend and the list.
    let (status, html) = page(admin.clone(), "/ui/vulnerabilities".into()).await;
    assert_eq!(status, 200);
    assert_eq!(html.count("svg.trend-chart"), 1);
    let table = "table#vulnerabilities";
    assert_eq!(
        html.cell(table, "GO-2099-0300", "Severity").text,
        "critical"
    );
    assert_eq!(
        html.cell(table, "GO-2099-0300", "To triage or affected")
            .text,
        "1 of 1"
    );
    let (_, filtered) = page(admin.clone(), "/ui/vulnerabilities?kev=true".into()).await;
    assert_eq!(filtered.count(table), 0, "not in KEV");
    let (status, _) = page(
        admin.clone(),
        "/ui/vulnerabilities?min_severity=urgent".into(),
    )
    .await;
    assert_eq!(status, 400);

    // "Are we affected?" by an alias, and the triage form.
    let (status, html) = page(admin.clone(), "/ui/vulnerabilities/cve-2099-0300".into()).await;
    assert_eq!(status, 200);
    let affected = texts(html.row("table#affected", "acme/svc"));
    assert_eq!(affected[2], "pkg:golang/example.com/t@v1.9.0");
    assert!(html
        .attrs("table#affected td a", "href")
        .contains(&format!("/ui/artifacts/{id}")));
    assert_eq!(
        html.attrs("form.triage-form", "action"),
        ["/ui/vulnerabilities/GO-2099-0300/triage"]
    );
    let (status, _) = page(admin.clone(), "/ui/vulnerabilities/CVE-1999-0001".into()).await;
    assert_eq!(status, 404);

    let form = [
        ("purl", "pkg:golang/example.com/t@v1.9.0"),
        ("scope", "portfolio"),
        ("project", ""),
        ("artifact_id", ""),
        ("state", "not_affected"),
        ("justification", "vulnerable_code_not_in_execute_path"),
        ("comment", "not called"),
    ];
    let own = app.base.clone();
    let submit = |session: String, origin: String, form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/ui/vulnerabilities/GO-2099-0300/triage"))
                .header("cookie", session)
                .header("origin", origin)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Cross-site and viewer submissions are refused; a bad state is a 422; nothing stored.
    assert_eq!(
        submit(admin.clone(), "https://evil.example".into(), form.to_vec()).await,
        403
    );
    let viewer = app.sign_in(&app.token("viewer").await).await;
    let (_, html) = page(viewer.clone(), "/ui/vulnerabilities/GO-2099-0300".into()).await;
    assert_eq!(html.count("form.triage-form"), 0, "viewers get no form");
    assert_eq!(submit(viewer, own.clone(), form.to_vec()).await, 403);
    let mut bad = form.to_vec();
    bad[4] = ("state", "ignored");
    assert_eq!(submit(admin.clone(), own.clone(), bad).await, 422);
    let mut no_reason = form.to_vec();
    no_reason[5] = ("justification", "");
    assert_eq!(submit(admin.clone(), own.clone(), no_reason).await, 422);
    let history = app
        .get_json("/api/v1/vulnerabilities/GO-2099-0300/triage")
        .await;
    assert_eq!(history["items"], json!([]));

    assert_eq!(submit(admin.clone(), own.clone(), form.to_vec()).await, 303);
    let history = app
        .get_json("/api/v1/vulnerabilities/GO-2099-0300/triage")
        .await;
    assert_eq!(history["items"][0]["state"], "not_affected", "{history}");
    assert_eq!(history["items"][0]["comment"], "not called");
    let (_, html) = page(admin, format!("/ui/artifacts/{id}")).await;
    assert!(html
        .cell("table#findings", "GO-2099-0300", "State")
        .text
        .starts_with("not_affected"));
}
