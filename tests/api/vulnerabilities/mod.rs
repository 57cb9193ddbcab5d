//! Vulnerabilities against the real server and database: the whole Go
//! vulnerability database imported as osv.dev exports it, the real CISA KEV
//! catalog, and SBOM components matched with Go's version rules.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{cyclonedx, expect_problem, fixture, spawn_app, TestApp, ADMIN_TOKEN};

mod advisories;
mod findings;
mod triage;

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
