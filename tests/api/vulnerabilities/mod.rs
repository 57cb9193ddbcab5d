//! Vulnerabilities against the real server and database: the whole Go
//! vulnerability database imported as osv.dev exports it, the real CISA KEV
//! catalog, and SBOM components matched with Go's version rules.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{
    cyclonedx, expect_problem, fixture, spawn_app, worker_options, TestApp, ADMIN_TOKEN,
};

/// Every x/net advisory of the Go database whose range holds v0.6.0,
/// read off the database by hand (introduced 0, fixed above 0.6.0; the
/// pseudo-version fixes and GO-2022-1144's 0.4.0 are below it, and
/// GO-2026-4559 starts at 0.50.0).
const XNET_060: [&str; 17] = [
    "GO-2023-1571",
    "GO-2023-1988",
    "GO-2023-2102",
    "GO-2024-2687",
    "GO-2024-3333",
    "GO-2025-3503",
    "GO-2025-3595",
    "GO-2026-4440",
    "GO-2026-4441",
    "GO-2026-4918",
    "GO-2026-5025",
    "GO-2026-5026",
    "GO-2026-5027",
    "GO-2026-5028",
    "GO-2026-5029",
    "GO-2026-5030",
    "GO-2026-5942",
];

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    ct: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn import_go_database(app: &TestApp) -> Value {
    let res = post(
        app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/zip",
        fixture("osv/golang-vulndb__Go-all.zip"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn artifact_with(app: &TestApp, artifact: &str, purls: &[&str]) -> i64 {
    let res = app
        .upload(
            &format!("project=acme/svc&artifact={artifact}&version=1.0.0"),
            cyclonedx(purls),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap()
}

async fn findings(app: &TestApp, artifact: i64, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(&format!(
                "/api/v1/artifacts/{artifact}/vulnerabilities?limit=7{query}{cursor}"
            ))
            .await;
        assert_eq!(page["analysis"], "complete");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return items,
        }
    }
}

fn ids_for<'a>(items: &'a [Value], purl: &str) -> Vec<&'a str> {
    let mut ids: Vec<&str> = items
        .iter()
        .filter(|f| f["purl"] == purl)
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids
}

/// Row counts of `tables`, to show a refused request stored nothing.
async fn rows(app: &TestApp, tables: &[&str]) -> Vec<i64> {
    let mut out = Vec::new();
    for t in tables {
        let q = format!("SELECT count(*) FROM {t}");
        out.push(sqlx::query_scalar(&q).fetch_one(&app.pool).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_go_database_matches_go_modules_exactly() {
    let app = spawn_app().await;
    let report = import_go_database(&app).await;
    assert_eq!(report["records"], 4291, "{report}");
    assert_eq!(report["imported"], 4291, "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["withdrawn"], 17, "{report}");

    let xnet = "pkg:golang/golang.org/x/net@v0.6.0";
    let wazuh = "pkg:golang/github.com/wazuh/wazuh@v4.9.0%2Bincompatible";
    let stdlib = "pkg:golang/stdlib@go1.13.4";
    // Trivy lowercases purl names; the Go database writes Nginx-UI.
    let nginx_ui = "pkg:golang/github.com/0xjacky/nginx-ui@v1.9.9";
    let clean = "pkg:golang/github.com/example/nothing-known@v1.0.0";
    let a = artifact_with(&app, "api", &[xnet, wazuh, stdlib, nginx_ui, clean]).await;
    let b = artifact_with(&app, "worker", &["pkg:golang/golang.org/x/net@v0.99.0"]).await;

    let items = findings(&app, a, "").await;
    assert_eq!(
        ids_for(&items, xnet),
        XNET_060,
        "every x/net advisory holding v0.6.0, no other"
    );
    assert!(ids_for(&items, clean).is_empty());
    assert!(
        !ids_for(&items, nginx_ui).is_empty(),
        "the lowercased module path matches"
    );
    let one = items.iter().find(|f| f["id"] == "GO-2023-1571").unwrap();
    assert_eq!(
        one["aliases"],
        json!(["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"])
    );
    assert_eq!(one["fixed_versions"], json!(["0.7.0"]));
    assert_eq!(one["version"], "v0.6.0");
    assert_eq!(one["severity"], "unknown", "the Go database scores nothing");
    assert_eq!(one["kev"], false);
    assert_eq!(one["state"], "in_triage");
    assert_eq!(one["justification"], Value::Null);
    assert_eq!(one["sources"], json!(["osv"]));

    // KEV: the real catalog lists CVE-2025-24016 (wazuh) and CVE-2020-0601
    // (Windows CryptoAPI, GO-2022-0535 for the Go standard library).
    let res = post(
        &app,
        "/api/v1/advisories/kev",
        ADMIN_TOKEN,
        "application/json",
        fixture("kev/cisagov-kev-data__known_exploited_vulnerabilities.json"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let kev: Value = res.json().await.unwrap();
    assert_eq!(
        (kev["entries"].as_u64(), kev["added"].as_i64()),
        (Some(1404), Some(1404))
    );
    let items = findings(&app, a, "&kev=true").await;
    let kev_ids: Vec<(&str, &str)> = items
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["purl"].as_str().unwrap()))
        .collect();
    assert_eq!(kev_ids, [("GO-2022-0535", stdlib), ("GO-2025-3459", wazuh)]);
    let w = &items[1];
    assert_eq!(w["fixed_versions"], json!(["4.9.1+incompatible"]));
    assert_eq!(w["kev_date_added"], "2025-06-10");
    assert_eq!(
        findings(&app, b, "").await.len(),
        0,
        "x/net v0.99.0 is past every fix"
    );

    // Filters: fix available, severity.
    let all = findings(&app, a, "").await;
    let fixed = findings(&app, a, "&fix_available=true").await;
    assert!(
        fixed.len() <= all.len()
            && fixed
                .iter()
                .all(|f| !f["fixed_versions"].as_array().unwrap().is_empty())
    );
    assert!(
        findings(&app, a, "&min_severity=low").await.is_empty(),
        "nothing scored yet"
    );

    // GHSA's copy of GO-2023-1571 joins the same vulnerability by alias and
    // brings a rating; the finding stays one item.
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        fixture("osv/github-advisory-database__GHSA-vvpx-j8f3-3w6h.json"),
    )
    .await;
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (r["imported"].as_u64(), r["records"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let items = findings(&app, a, "").await;
    assert_eq!(
        ids_for(&items, xnet),
        XNET_060,
        "one item per vulnerability × component"
    );
    let one = items.iter().find(|f| f["id"] == "GO-2023-1571").unwrap();
    assert_eq!(one["severity"], "low");
    assert_eq!(
        one["advisories"],
        json!(["GHSA-vvpx-j8f3-3w6h", "GO-2023-1571"])
    );

    // "Are we affected by X?" by any alias.
    for alias in [
        "CVE-2022-41723",
        "GHSA-vvpx-j8f3-3w6h",
        "GO-2023-1571",
        "cve-2022-41723",
    ] {
        let v = app
            .get_json(&format!("/api/v1/vulnerabilities/{alias}"))
            .await;
        assert_eq!(v["id"], "GO-2023-1571", "{alias}");
        // x/net v0.6.0 and the Go 1.13.4 standard library, of artifact `api`
        // only (`worker`'s x/net v0.99.0 is fixed).
        let affected: Vec<(i64, &str, &str, &str, &str)> = v["affected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["artifact_id"].as_i64().unwrap(),
                    x["project"].as_str().unwrap(),
                    x["version"].as_str().unwrap(),
                    x["purl"].as_str().unwrap(),
                    x["state"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            affected,
            [
                (a, "acme/svc", "1.0.0", xnet, "in_triage"),
                (a, "acme/svc", "1.0.0", stdlib, "in_triage")
            ],
            "{v}"
        );
        assert_eq!(
            v["aliases"],
            json!(["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"])
        );
        assert_eq!(
            v["advisories"],
            json!(["GHSA-vvpx-j8f3-3w6h", "GO-2023-1571"])
        );
    }
    let v = app.get_json("/api/v1/vulnerabilities/GO-2020-0001").await;
    assert_eq!(v["affected"], json!([]), "known, affecting nothing here");
    let res = app
        .get("/api/v1/vulnerabilities/CVE-1999-0001", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;

    // Re-importing the same database writes nothing.
    let again = import_go_database(&app).await;
    assert_eq!(
        (again["imported"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4291)),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_and_withdrawn_records_replace_what_was_stored() {
    let app = spawn_app().await;
    let record = |fixed: &str, withdrawn: bool| {
        let mut r = json!({
            "id": "PYSEC-2099-1", "aliases": ["CVE-2099-1"], "modified": "2099-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Django_Thing"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
        });
        if withdrawn {
            r["withdrawn"] = json!("2099-02-01T00:00:00Z");
        }
        serde_json::to_vec(&r).unwrap()
    };
    let import = |body: Vec<u8>| {
        let app = &app;
        async move {
            let res = post(
                app,
                "/api/v1/advisories",
                ADMIN_TOKEN,
                "application/json",
                body,
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    // PEP 503 names and PEP 440 order: 2.0rc1 < 2.0.
    let a = artifact_with(&app, "py", &["pkg:pypi/django-thing@2.0rc1"]).await;
    assert_eq!(import(record("2.0", false)).await["imported"], 1);
    let items = findings(&app, a, "").await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["id"].as_str(), items[0]["severity"].as_str()),
        (Some("PYSEC-2099-1"), Some("critical"))
    );
    assert_eq!(items[0]["cvss_score"], 9.8);
    assert_eq!(findings(&app, a, "&min_severity=critical").await.len(), 1);
    assert_eq!(findings(&app, a, "&severity=high").await.len(), 0);
    // Changed: fixed earlier, so 2.0rc1 is no longer affected.
    let r = import(record("2.0b1", false)).await;
    assert_eq!(
        (r["imported"].as_u64(), r["unchanged"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(findings(&app, a, "").await.is_empty());
    assert_eq!(import(record("2.0", false)).await["imported"], 1);
    assert_eq!(findings(&app, a, "").await.len(), 1);
    // Withdrawn: stops matching, still known.
    let r = import(record("2.0", true)).await;
    assert_eq!(r["withdrawn"], 1);
    assert!(findings(&app, a, "").await.is_empty());
    assert_eq!(
        app.get_json("/api/v1/vulnerabilities/CVE-2099-1").await["affected"],
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_feeds_are_refused_or_reported_and_lose_nothing() {
    let app = spawn_app().await;
    let good = json!({"id": "GO-2099-0001", "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]});
    let broken = json!({"id": "GO-2099-0002", "affected": [{"package": {"ecosystem": "Go", "name": "m"},
        "ranges": [{"type": "SEMVER", "events": [{"fixed": 12}]}]}]});
    let nul = json!({"id": "GO-2099-0003", "summary": "a\u{0}b"});
    let body = serde_json::to_vec(&json!([good, broken, {"no": "id"}, nul])).unwrap();
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (
            r["records"].as_u64(),
            r["imported"].as_u64(),
            r["error_count"].as_u64()
        ),
        (Some(4), Some(1), Some(3)),
        "{r}"
    );
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors[0]["id"], "GO-2099-0002");
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("is not a string"),
        "{r}"
    );
    assert_eq!(errors[1]["id"], Value::Null);
    assert!(errors[2]["reason"].as_str().unwrap().contains("NUL"), "{r}");
    let a = artifact_with(&app, "m", &["pkg:golang/example.com/m@v1.1.9"]).await;
    assert_eq!(
        ids_for(
            &findings(&app, a, "").await,
            "pkg:golang/example.com/m@v1.1.9"
        ),
        ["GO-2099-0001"]
    );

    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM advisories")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = count().await;
    for (ct, body, status) in [
        ("application/json", b"not json".to_vec(), 422),
        ("application/json", b"42".to_vec(), 422),
        ("application/zip", b"PK\x03\x04 not really".to_vec(), 422),
        ("image/png", b"{}".to_vec(), 415),
    ] {
        let res = post(&app, "/api/v1/advisories", ADMIN_TOKEN, ct, body).await;
        let p = expect_problem(res, status).await;
        assert!(!p["detail"].as_str().unwrap().is_empty());
    }
    let res = post(
        &app,
        "/api/v1/advisories/kev",
        ADMIN_TOKEN,
        "application/json",
        br#"{"vulnerabilities":[{"cveID":"nope","dateAdded":"2024-01-01"}]}"#.to_vec(),
    )
    .await;
    let p = expect_problem(res, 422).await;
    assert!(
        p["detail"].as_str().unwrap().contains("not a CVE id"),
        "{p}"
    );
    assert_eq!(count().await, before, "nothing stored by refused feeds");

    // Least privilege: uploaders and viewers cannot import; viewers read.
    let uploader = app.token("uploader").await;
    let res = post(
        &app,
        "/api/v1/advisories",
        &uploader,
        "application/json",
        serde_json::to_vec(&good).unwrap(),
    )
    .await;
    expect_problem(res, 403).await;
    let maintainer = app.token("maintainer").await;
    let res = post(
        &app,
        "/api/v1/advisories",
        &maintainer,
        "application/json",
        serde_json::to_vec(&good).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let viewer = app.token("viewer").await;
    let res = app
        .get(&format!("/api/v1/artifacts/{a}/vulnerabilities"), &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get("/api/v1/artifacts/999999/vulnerabilities", &viewer)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn triage_decisions_hold_by_scope_and_keep_their_history() {
    let app = spawn_app().await;
    let record = json!({"id": "GO-2099-0077", "aliases": ["CVE-2099-0077"], "affected": [
        {"package": {"ecosystem": "Go", "name": "example.com/m"},
         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]});
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        serde_json::to_vec(&record).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let upload = |project: &str, artifact: &str, purl: &str| {
        let (app, query, body) = (
            &app,
            format!("project={project}&artifact={artifact}&version=1"),
            cyclonedx(&[purl]),
        );
        async move {
            let res = app.upload(&query, body).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<Value>().await.unwrap()["artifact_id"]
                .as_i64()
                .unwrap()
        }
    };
    let (m11, m10) = (
        "pkg:golang/example.com/m@v1.1.0",
        "pkg:golang/example.com/m@v1.0.0",
    );
    let a1 = upload("p1", "a1", m11).await;
    let a2 = upload("p1", "a2", m10).await;
    let a3 = upload("p2", "a3", m11).await;
    let maintainer = app.token("maintainer").await;
    let decide = |body: Value| {
        let (app, token) = (&app, maintainer.clone());
        async move {
            app.client
                .post(app.url("/api/v1/triage"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let states = || async {
        let mut out = Vec::new();
        for a in [a1, a2, a3] {
            let items = findings(&app, a, "").await;
            assert_eq!(items.len(), 1);
            out.push((
                items[0]["state"].as_str().unwrap().to_string(),
                items[0]["justification"].clone(),
            ));
        }
        out
    };
    let s = |x: &str| x.to_string();
    assert_eq!(states().await, vec![(s("in_triage"), Value::Null); 3]);

    // One decision for the whole portfolio (DT #1495).
    let res = decide(json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio",
        "state": "not_affected", "justification": "vulnerable_code_not_present", "comment": "we never call it"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let d: Value = res.json().await.unwrap();
    assert_eq!(
        (
            d["vulnerability"].as_str(),
            d["package"].as_str(),
            d["purl"].clone()
        ),
        (Some("GO-2099-0077"), Some("Go:example.com/m"), Value::Null)
    );
    let na = (s("not_affected"), json!("vulnerable_code_not_present"));
    assert_eq!(
        states().await,
        vec![na.clone(); 3],
        "every version, every product"
    );
    // A project's decision beats the portfolio's; an artifact's beats both.
    let res = decide(json!({"vulnerability": "GO-2099-0077", "purl": m10, "scope": "project", "project": "p1", "state": "affected"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        states().await,
        vec![
            (s("affected"), Value::Null),
            (s("affected"), Value::Null),
            na.clone()
        ]
    );
    let res = decide(json!({"vulnerability": "go-2099-0077", "purl": m11, "this_version_only": true, "scope": "artifact", "artifact_id": a1, "state": "fixed"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        states().await,
        vec![
            (s("fixed"), Value::Null),
            (s("affected"), Value::Null),
            na.clone()
        ]
    );
    assert_eq!(findings(&app, a3, "&state=not_affected").await.len(), 1);
    assert!(findings(&app, a3, "&state=in_triage").await.is_empty());
    let v = app.get_json("/api/v1/vulnerabilities/CVE-2099-0077").await;
    let by_artifact: Vec<(i64, &str)> = v["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["artifact_id"].as_i64().unwrap(),
                x["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_artifact,
        [(a1, "fixed"), (a2, "affected"), (a3, "not_affected")]
    );

    // A new portfolio decision supersedes the old one; the history keeps both.
    let res = decide(json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio", "state": "under_investigation"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(states().await[2], (s("under_investigation"), Value::Null));
    let history = app
        .get_json("/api/v1/vulnerabilities/CVE-2099-0077/triage?limit=3")
        .await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["state"], "under_investigation");
    assert!(history["next_cursor"].is_string());
    let rest = app
        .get_json(&format!(
            "/api/v1/vulnerabilities/CVE-2099-0077/triage?cursor={}",
            history["next_cursor"].as_str().unwrap()
        ))
        .await;
    let first = &rest["items"][0];
    assert_eq!(
        (first["state"].as_str(), first["comment"].as_str()),
        (Some("not_affected"), Some("we never call it"))
    );
    assert!(first["superseded_at"].is_string(), "{first}");
    assert_eq!(first["author"], "maintainer for tests");

    // Verdicts that do not hold together, unknown targets, and roles.
    for (body, status) in [
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio", "state": "not_affected"}),
            422,
        ),
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio", "state": "not_affected", "justification": "trust me"}),
            422,
        ),
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "artifact", "state": "affected"}),
            422,
        ),
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "project", "project": "nope", "state": "affected"}),
            404,
        ),
        (
            json!({"vulnerability": "CVE-1900-0001", "purl": m11, "scope": "portfolio", "state": "affected"}),
            404,
        ),
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": "pkg:oci/x@sha256%3Aab", "scope": "portfolio", "state": "affected"}),
            422,
        ),
        (
            json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio", "state": "affected", "expires_at": "2000-01-01T00:00:00Z"}),
            422,
        ),
    ] {
        let res = decide(body.clone()).await;
        let p = expect_problem(res, status).await;
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{body}");
    }
    assert_eq!(
        states().await[2],
        (s("under_investigation"), Value::Null),
        "refused decisions change nothing"
    );
    let viewer = app.token("viewer").await;
    let res = app.client.post(app.url("/api/v1/triage")).bearer_auth(&viewer)
        .json(&json!({"vulnerability": "CVE-2099-0077", "purl": m11, "scope": "portfolio", "state": "affected"}))
        .send().await.unwrap();
    expect_problem(res, 403).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vulnerabilities_rule_gates_until_triaged() {
    let app = spawn_app().await;
    let opts = cairn::policies::worker::WorkerOptions {
        workers: 1,
        batch: 10,
        limits: cairn::policies::core::engine::EvalLimits {
            rego: std::time::Duration::from_millis(250),
            evaluation: std::time::Duration::from_secs(10),
        },
        idle_poll: std::time::Duration::from_millis(50),
        base_backoff_secs: 1.0,
        max_claims: 2,
        fault: None,
    };
    let drain = || cairn::policies::worker::drain(&app.pool, &opts);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let purl = "pkg:golang/example.com/q@v1.4.0";
    let res = app
        .upload(
            &format!("project=acme/q&artifact=q&version=1&digest={digest}"),
            cyclonedx(&[purl]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(
        &app,
        "/api/v1/policy-sets",
        ADMIN_TOKEN,
        "application/json",
        serde_json::to_vec(&json!({
        "name": "vulns", "mode": "enforce",
        "rules": [{"rule": "vulnerabilities", "params": {"max_severity": "high"}}]}))
        .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    drain().await.unwrap();
    let gate = || async { app.get_json(&format!("/api/v1/gate?digest={digest}")).await };
    assert_eq!(gate().await["decision"], "allow", "no advisories yet");

    // A critical advisory arrives: the artifact is re-judged and denied.
    let record = json!({"id": "GO-2099-0100", "aliases": ["CVE-2099-0100"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Go", "name": "example.com/q"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.5.0"}]}]}]});
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        serde_json::to_vec(&record).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        drain().await.unwrap() >= 1,
        "the import queued the artifact"
    );
    let g = gate().await;
    assert_eq!(g["decision"], "deny", "{g}");
    assert_eq!(g["reasons"][0]["rule"], "vulnerabilities");
    let reason = g["reasons"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("GO-2099-0100 (CVE-2099-0100) in pkg:golang/example.com/q@v1.4.0 is critical (above high); fixed in 1.5.0"), "{reason}");

    // Triaged not_affected everywhere: re-judged and allowed.
    let res = app.client.post(app.url("/api/v1/triage")).bearer_auth(ADMIN_TOKEN)
        .json(&json!({"vulnerability": "CVE-2099-0100", "purl": purl, "scope": "portfolio",
                      "state": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}))
        .send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        drain().await.unwrap() >= 1,
        "the decision queued the artifact"
    );
    assert_eq!(gate().await["decision"], "allow");
}

#[tokio::test(flavor = "multi_thread")]
async fn vex_documents_decide_findings_and_unmatched_statements_are_named() {
    let app = spawn_app().await;
    let record = json!({"id": "GO-2099-0200", "aliases": ["CVE-2099-0200", "GHSA-2099-0200-xxxx"], "affected": [
        {"package": {"ecosystem": "Go", "name": "example.com/v"},
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
    let digest = format!("sha256:{}", "cd".repeat(32));
    let purl = "pkg:golang/example.com/v@v1.0.0";
    let res = app
        .upload(
            &format!("project=acme/v&artifact=v&version=1&digest={digest}"),
            cyclonedx(&[purl, "pkg:golang/example.com/other@v1.0.0"]),
        )
        .await;
    let a = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let maintainer = app.token("maintainer").await;
    let vex = |body: Vec<u8>| {
        let (app, token) = (&app, maintainer.clone());
        async move { post(app, "/api/v1/vex", &token, "application/json", body).await }
    };

    // OpenVEX about the artifact by digest, naming the subcomponent; and a
    // statement about a CVE no advisory knows.
    let openvex = json!({
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://acme.example/vex/1",
    "author": "acme security", "timestamp": "2026-11-30T10:00:00Z", "version": 1,
    "statements": [
        {"vulnerability": {"name": "CVE-2099-0200"}, "products": [{"@id": digest, "subcomponents": [{"@id": purl}]}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
        {"vulnerability": {"name": "CVE-2099-9999"}, "products": [{"@id": digest}], "status": "affected",
         "action_statement": "upgrade"}
    ]});
    let res = vex(serde_json::to_vec(&openvex).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        (
            r["format"].as_str(),
            r["statements"].as_u64(),
            r["applied"].as_u64(),
            r["unmatched"].as_u64()
        ),
        (Some("openvex"), Some(2), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["unmatched_statements"][0]["pointer"], "/statements/1");
    assert_eq!(
        r["unmatched_statements"][0]["vulnerability"],
        "CVE-2099-9999"
    );
    assert!(
        r["unmatched_statements"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no imported advisory"),
        "{r}"
    );
    let items = findings(&app, a, "").await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0]["state"].as_str(),
            items[0]["justification"].as_str()
        ),
        (
            Some("not_affected"),
            Some("vulnerable_code_not_in_execute_path")
        )
    );
    let history = app
        .get_json("/api/v1/vulnerabilities/CVE-2099-0200/triage")
        .await;
    assert_eq!(history["items"][0]["source"], "openvex");
    assert_eq!(history["items"][0]["author"], "maintainer for tests");

    // Real documents about products this portfolio does not hold: every
    // statement is reported unmatched, nothing is decided.
    for name in [
        "vexctl__examples_openvex_demo.vex.json",
        "cyclonedx-bom-examples__CISA-Use-Cases_Case-1_vex-not_affected.json",
        "csaf__2022-evd-uc-01-na-001.json",
    ] {
        let res = vex(fixture(&format!("vex/{name}"))).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let r: Value = res.json().await.unwrap();
        assert!(r["statements"].as_u64().unwrap() > 0, "{name}: {r}");
        assert_eq!(
            (r["applied"].as_u64(), r["unmatched"].as_u64()),
            (Some(0), r["statements"].as_u64()),
            "{name}: {r}"
        );
    }
    const VEX_TABLES: [&str; 2] = ["triage_decisions", "policy_queue"];
    let before = rows(&app, &VEX_TABLES).await;
    for (body, status) in [
        (b"not json".to_vec(), 422),
        (b"[]".to_vec(), 422),
        (
            fixture("vex/cyclonedx-bom-examples__CISA-Use-Cases_Case-7_bom-1.json"),
            422,
        ),
    ] {
        expect_problem(vex(body).await, status).await;
    }
    let viewer = app.token("viewer").await;
    expect_problem(
        post(
            &app,
            "/api/v1/vex",
            &viewer,
            "application/json",
            serde_json::to_vec(&openvex).unwrap(),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(
        rows(&app, &VEX_TABLES).await,
        before,
        "refused VEX stores nothing"
    );

    // Export in the three formats; each names the finding with its state and
    // reads back as the same statement.
    let dir = std::env::var_os("CAIRN_VEX_EXPORT_DIR");
    for (format, check) in [
        ("openvex", "/statements/0/status"),
        ("cyclonedx", "/vulnerabilities/0/analysis/state"),
        ("csaf", "/document/category"),
    ] {
        let doc = app
            .get_json(&format!("/api/v1/artifacts/{a}/vex?format={format}"))
            .await;
        let expected = match format {
            "csaf" => "csaf_vex",
            _ => "not_affected",
        };
        assert_eq!(
            doc.pointer(check).and_then(Value::as_str),
            Some(expected),
            "{format}: {doc}"
        );
        let back =
            cairn::vulnerabilities::core::vex::parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
        let st = back
            .statements
            .iter()
            .find(|s| {
                s.vulnerability.contains("2099-0200")
                    || s.aliases.iter().any(|x| x.contains("2099-0200"))
            })
            .unwrap();
        assert_eq!(
            st.status,
            cairn::vulnerabilities::core::vex::VexStatus::NotAffected,
            "{format}"
        );
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(
                std::path::Path::new(dir).join(format!("{format}.json")),
                serde_json::to_vec_pretty(&doc).unwrap(),
            )
            .unwrap();
        }
    }
    let res = app
        .get("/api/v1/artifacts/999999/vex", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get(
            &format!("/api/v1/artifacts/{a}/vex?format=spdx"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;

    // Our own OpenVEX export, re-imported, matches the artifact by digest.
    let own = app.get_json(&format!("/api/v1/artifacts/{a}/vex")).await;
    let r: Value = vex(serde_json::to_vec(&own).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["applied"].as_u64(), r["unmatched"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
}

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
    let drain = || async {
        cairn::policies::worker::drain(&app.pool, &worker_options())
            .await
            .unwrap()
    };
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
    cairn::policies::worker::drain(&app.pool, &worker_options())
        .await
        .unwrap();
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
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let row = |html: &str, table: &str| -> String {
        let start = html
            .find(&format!("<table id=\"{table}\""))
            .unwrap_or_else(|| panic!("no table {table}"));
        let body = &html[start..];
        let end = body.find("</table>").unwrap();
        body[..end].to_string()
    };

    // The artifact page lists the finding.
    let (status, html) = page(admin.clone(), format!("/ui/artifacts/{id}")).await;
    assert_eq!(status, 200);
    let findings = row(&html, "findings");
    assert!(
        findings.contains("href=\"/ui/vulnerabilities/GO-2099-0300\""),
        "{findings}"
    );
    assert!(findings.contains("CVE-2099-0300") && findings.contains("critical"));
    assert!(findings.contains("pkg:golang/example.com/t@v1.9.0") && findings.contains("2.0.0"));
    assert!(findings.contains("in_triage"));

    // The overview: counts, the trend and the list.
    let (status, html) = page(admin.clone(), "/ui/vulnerabilities".into()).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg class=\"trend-chart\""));
    let list = row(&html, "vulnerabilities");
    assert!(
        list.contains("GO-2099-0300") && list.contains("critical") && list.contains("1 of 1"),
        "{list}"
    );
    let (_, filtered) = page(admin.clone(), "/ui/vulnerabilities?kev=true".into()).await;
    assert!(
        !filtered.contains("<table id=\"vulnerabilities\""),
        "not in KEV"
    );
    let (status, _) = page(
        admin.clone(),
        "/ui/vulnerabilities?min_severity=urgent".into(),
    )
    .await;
    assert_eq!(status, 400);

    // "Are we affected?" by an alias, and the triage form.
    let (status, html) = page(admin.clone(), "/ui/vulnerabilities/cve-2099-0300".into()).await;
    assert_eq!(status, 200);
    let affected = row(&html, "affected");
    assert!(affected.contains(&format!("/ui/artifacts/{id}")) && affected.contains("acme/svc"));
    assert!(html.contains("action=\"/ui/vulnerabilities/GO-2099-0300/triage\""));
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
    assert!(!html.contains("triage-form"), "viewers get no form");
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
    assert!(row(&html, "findings").contains("not_affected"));
}

/// A CSAF 2.0 security advisory modelled on a vendor's npm advisory: one
/// vulnerability names products with purls (lodash 4.17.20 affected,
/// 4.17.21 fixed), another a product without one.
fn csaf_advisory(tracking_id: &str) -> Value {
    json!({"document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
      "title": "lodash advisory", "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://psirt.example.com"},
      "tracking": {"id": tracking_id, "status": "final", "version": "1",
        "initial_release_date": "2021-02-15T08:00:00+01:00", "current_release_date": "2021-03-01T10:30:00.000Z",
        "revision_history": [{"number": "1", "date": "2021-02-15T08:00:00+01:00", "summary": "initial"}]}},
     "product_tree": {"branches": [{"category": "vendor", "name": "Example Company", "branches": [
       {"category": "product_name", "name": "lodash", "branches": [
         {"category": "product_version", "name": "4.17.20", "product": {"name": "lodash 4.17.20", "product_id": "CSAFPID-1",
           "product_identification_helper": {"purl": "pkg:npm/lodash@4.17.20"}}},
         {"category": "product_version", "name": "4.17.21", "product": {"name": "lodash 4.17.21", "product_id": "CSAFPID-2",
           "product_identification_helper": {"purl": "pkg:npm/lodash@4.17.21"}}}]},
       {"category": "product_name", "name": "Appliance", "product": {"name": "Example Appliance 2", "product_id": "CSAFPID-3"}}]}]},
     "vulnerabilities": [
       {"cve": "CVE-2021-23337", "title": "Command injection in lodash",
        "ids": [{"system_name": "GitHub", "text": "GHSA-35jh-r3h4-6jhm"}],
        "notes": [{"category": "description", "text": "Lodash before 4.17.21: command injection via template."}],
        "product_status": {"known_affected": ["CSAFPID-1"], "fixed": ["CSAFPID-2"]},
        "scores": [{"products": ["CSAFPID-1"], "cvss_v3": {"version": "3.1", "baseScore": 7.2,
          "baseSeverity": "HIGH", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}}]},
       {"cve": "CVE-2099-7777", "product_status": {"known_affected": ["CSAFPID-3"]}}]})
}

#[tokio::test(flavor = "multi_thread")]
async fn csaf_advisories_are_a_second_advisory_source() {
    let app = spawn_app().await;
    let old = artifact_with(&app, "web-old", &["pkg:npm/lodash@4.17.20"]).await;
    let new = artifact_with(&app, "web-new", &["pkg:npm/lodash@4.17.21"]).await;
    let import = |ct: &'static str, body: Vec<u8>| {
        let app = &app;
        async move {
            let res = post(app, "/api/v1/advisories", ADMIN_TOKEN, ct, body).await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let doc = serde_json::to_vec(&csaf_advisory("EXCO-SA-2021-0007")).unwrap();
    let (status, r) = import("application/json", doc.clone()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["error_count"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    // The vulnerability without a matchable product is named, not dropped.
    assert_eq!(r["errors"][0]["id"], "CVE-2099-7777", "{r}");
    assert!(
        r["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("CSAF: "),
        "{r}"
    );
    let source: String = sqlx::query_scalar("SELECT source FROM advisories")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(source, "csaf");

    let f = findings(&app, old, "").await;
    assert_eq!(f.len(), 1, "{f:?}");
    let mut ids: Vec<&str> = f[0]["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    ids.push(f[0]["id"].as_str().unwrap());
    ids.sort();
    // Several vulnerabilities in one document: "<tracking id>/<CVE>".
    assert_eq!(
        ids,
        [
            "CVE-2021-23337",
            "EXCO-SA-2021-0007/CVE-2021-23337",
            "GHSA-35jh-r3h4-6jhm"
        ]
    );
    assert_eq!(f[0]["severity"], "high");
    assert_eq!(f[0]["fixed_versions"], json!(["4.17.21"]));
    assert!(
        findings(&app, new, "").await.is_empty(),
        "the fixed version is not affected"
    );
    // Any alias finds it.
    let v = app
        .get_json("/api/v1/vulnerabilities/GHSA-35jh-r3h4-6jhm")
        .await;
    let affected: Vec<i64> = v["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["artifact_id"].as_i64().unwrap())
        .collect();
    assert_eq!(affected, [old]);

    // The same document again costs nothing; a provider's zip of
    // documents is read entry by entry.
    let (_, r) = import("application/json", doc.clone()).await;
    assert_eq!(
        (r["imported"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in [
        ("2021/exco-sa-2021-0007.json", doc.clone()),
        (
            "2021/exco-sa-2021-0008.json",
            serde_json::to_vec(&csaf_advisory("EXCO-SA-2021-0008")).unwrap(),
        ),
        (
            "2021/broken.json",
            b"{\"document\": {\"csaf_version\": \"2.0\"}}".to_vec(),
        ),
    ] {
        zip.start_file::<_, ()>(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &body).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let (status, r) = import("application/zip", bytes).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["records"].as_u64(),
            r["imported"].as_u64(),
            r["unchanged"].as_u64(),
            r["error_count"].as_u64()
        ),
        (Some(5), Some(1), Some(1), Some(3)),
        "{r}"
    );
    let broken = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"] == "2021/broken.json")
        .unwrap();
    assert!(
        broken["reason"].as_str().unwrap().contains("tracking/id"),
        "{r}"
    );

    // A CSAF document that is not 2.x is refused whole: nothing stored.
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM advisories")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = count().await;
    let mut v1 = csaf_advisory("EXCO-SA-2021-0009");
    v1["document"]["csaf_version"] = json!("1.2");
    let (status, r) = import("application/json", serde_json::to_vec(&v1).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert!(
        r["detail"].as_str().unwrap().contains("CSAF version"),
        "{r}"
    );
    assert_eq!(count().await, before);
}

/// Distro databases name source packages: Alpine's secdb says `openssl`,
/// the image ships `libcrypto1.1` and `libssl1.1` built from it (Syft's
/// `upstream=` qualifier, GUAC's real Alpine SBOM). Both are found, for the
/// release the purl's `distro=` names only; Trivy's `SrcName`/`SrcVersion`
/// properties are kept the same way.
#[tokio::test(flavor = "multi_thread")]
async fn distro_packages_match_by_source_package_and_release() {
    let app = spawn_app().await;
    let advisory = |id: &str, release: &str| {
        json!({"id": id, "affected": [{"package": {"ecosystem": format!("Alpine:{release}"), "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1s-r0"}]}]}]})
    };
    let body = serde_json::to_vec(&json!([
        advisory("ALPINE-CVE-2099-3602", "v3.16"),
        advisory("ALPINE-CVE-2099-3786", "v3.17"),
    ]))
    .unwrap();
    let res = post(
        &app,
        "/api/v1/advisories",
        ADMIN_TOKEN,
        "application/json",
        body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .upload(
            "project=acme/base&artifact=alpine&version=3.16.2",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let alpine = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let items = findings(&app, alpine, "").await;
    let mut got: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["purl"].as_str().unwrap(),
                f["version"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "ALPINE-CVE-2099-3602",
                "pkg:alpine/libcrypto1.1@1.1.1q-r0?arch=x86_64&upstream=openssl&distro=alpine-3.16.2",
                "1.1.1q-r0"
            ),
            (
                "ALPINE-CVE-2099-3602",
                "pkg:alpine/libssl1.1@1.1.1q-r0?arch=x86_64&upstream=openssl&distro=alpine-3.16.2",
                "1.1.1q-r0"
            ),
        ],
        "the v3.17 advisory is another release"
    );
    assert_eq!(items[0]["fixed_versions"], json!(["1.1.1s-r0"]));
    // "Are we affected" walks source packages too.
    let v = app
        .get_json("/api/v1/vulnerabilities/ALPINE-CVE-2099-3602")
        .await;
    assert_eq!(v["affected"].as_array().unwrap().len(), 2, "{v}");

    // Trivy states the source in properties (RPM: epoch, version, release).
    let res = app
        .upload(
            "project=acme/base&artifact=centos&version=7",
            fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let row: (String, Option<String>) = sqlx::query_as(
        "SELECT source_key, source_version FROM components
          WHERE purl LIKE 'pkg:rpm/centos/openssl-libs@%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        ("Red Hat:openssl".into(), Some("1:1.0.2k-16.el7".into()))
    );
    let own: String = sqlx::query_scalar(
        "SELECT source_key FROM components WHERE purl LIKE 'pkg:rpm/centos/bash@%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(own, "", "bash is its own source");
}

/// An advisory that joins two alias groups which both already have
/// findings (even for the same package) merges them: one finding per
/// package stays, from its first sighting, and triage follows the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_alias_groups_keeps_their_findings_and_triage() {
    let app = spawn_app().await;
    let import = |record: Value| {
        let app = &app;
        async move {
            let res = post(
                app,
                "/api/v1/advisories",
                ADMIN_TOKEN,
                "application/json",
                serde_json::to_vec(&record).unwrap(),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK, "{record}");
        }
    };
    let mut go =
        serde_json::from_slice::<Value>(&fixture("osv/golang-vulndb__GO-2023-1571.json")).unwrap();
    go["aliases"] = json!([]);
    import(go).await;
    import(json!({
        "id": "TEST-2099-0001", "modified": "2026-01-01T00:00:00Z", "summary": "a second advisory",
        "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.7.0"}]}]}]
    }))
    .await;
    let purl = "pkg:golang/golang.org/x/net@v0.5.0";
    let artifact = artifact_with(&app, "merge", &[purl]).await;
    cairn::policies::worker::drain(&app.pool, &worker_options())
        .await
        .unwrap();
    let open = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM findings WHERE artifact_id = $1 AND resolved_at IS NULL",
            )
            .bind(artifact)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(open(&app).await, 2, "one finding per advisory group");
    let first_seen: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT min(first_seen) FROM findings WHERE artifact_id = $1")
            .bind(artifact)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/triage"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"vulnerability": "TEST-2099-0001", "purl": purl, "scope": "portfolio", "state": "affected"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // TEST-2099-0002 names both: one vulnerability now.
    import(json!({
        "id": "TEST-2099-0002", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["GO-2023-1571", "TEST-2099-0001"], "affected": []
    }))
    .await;
    let groups: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT vulnerability_id) FROM vulnerability_ids
          WHERE id IN ('GO-2023-1571', 'TEST-2099-0001', 'TEST-2099-0002')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(groups, 1);
    assert_eq!(open(&app).await, 1, "one finding for the package");
    let kept: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT first_seen FROM findings WHERE artifact_id = $1")
            .bind(artifact)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(kept, first_seen, "seen since the first sighting");
    let v = app.get_json("/api/v1/vulnerabilities/TEST-2099-0002").await;
    assert!(v.to_string().contains("merge"), "{v}");
    let triage = app
        .get_json("/api/v1/vulnerabilities/GO-2023-1571/triage")
        .await;
    assert_eq!(triage["items"][0]["state"], "affected", "{triage}");
    // Evaluating again keeps one finding, still open.
    cairn::policies::worker::drain(&app.pool, &worker_options())
        .await
        .unwrap();
    let items = findings(&app, artifact, "").await;
    assert!(!items.is_empty());
    assert_eq!(open(&app).await, 1);
}
