//! The CRA Art. 14 clock against the real server and database: the real Go
//! advisory for Wazuh (GO-2025-3459, alias CVE-2025-24016) read out of the
//! Go database export, the real CISA KEV catalog (which lists that CVE), and
//! an SBOM that ships the vulnerable module.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::html::Html;
use crate::support::{
    cyclonedx, expect_problem, fixture, spawn_app_with, urlencode, TestApp, ADMIN_TOKEN,
};

const WAZUH: &str = "pkg:golang/github.com/wazuh/wazuh@v4.9.0%2Bincompatible";
const PRODUCT: &str = "acme/product";
const OTHER: &str = "acme/other";

/// One record of the Go database's osv.dev export.
fn go_record(id: &str) -> Vec<u8> {
    use std::io::Read;
    let zip = fixture("osv/golang-vulndb__Go-all.zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut entry = archive.by_name(&format!("{id}.json")).unwrap();
    let mut out = Vec::new();
    entry.read_to_end(&mut out).unwrap();
    out
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::POST, path, ADMIN_TOKEN, Some(body)).await
}

async fn import(app: &TestApp, path: &str, body: Vec<u8>) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
}

async fn cases(app: &TestApp, project: &str) -> Vec<Value> {
    let page = app
        .get_json(&format!("/api/v1/cra/cases?project={}", urlencode(project)))
        .await;
    assert_eq!(page["next_cursor"], Value::Null);
    page["items"].as_array().unwrap().clone()
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .into()
}

async fn events(app: &TestApp, event: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT payload FROM notification_deliveries WHERE event = $1 ORDER BY id")
        .bind(event)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The Wazuh advisory, an SBOM shipping it in a CRA product and in another
/// project, findings recorded by the evaluation worker, a subscription to
/// the CRA events.
async fn setup() -> TestApp {
    let app = spawn_app_with(|k| (k == "CAIRN_NOTIFY_ALLOW_PRIVATE").then(|| "true".into())).await;
    import(&app, "/api/v1/advisories", go_record("GO-2025-3459")).await;
    for project in [PRODUCT, OTHER] {
        let res = app
            .upload(
                &format!("project={project}&artifact=api&version=1.0.0"),
                cyclonedx(&[WAZUH, "pkg:golang/golang.org/x/text@v0.14.0"]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    app.evaluate_queued().await;
    let res = post(
        &app,
        "/api/v1/notifications/subscriptions",
        json!({"name": "cra", "url": "http://127.0.0.1:9/hook",
               "events": ["cra.case_opened", "cra.deadline_approaching"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kev_listed_finding_of_a_cra_product_opens_a_case_with_its_clock() {
    let app = setup().await;
    let viewer = app.token("viewer").await;
    let path = format!("/api/v1/projects/{}/cra", urlencode(PRODUCT));

    // Marking the product: maintainers only, EU members only, known projects only.
    let body =
        json!({"product": true, "member_states": ["fr", "DE"], "support_period_end": "2031-12-31"});
    let res = send(
        &app,
        reqwest::Method::PUT,
        &path,
        &viewer,
        Some(body.clone()),
    )
    .await;
    expect_problem(res, 403).await;
    let res = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/projects/acme%2Fnope/cra",
        ADMIN_TOKEN,
        Some(body.clone()),
    )
    .await;
    expect_problem(res, 404).await;
    let res = send(
        &app,
        reqwest::Method::PUT,
        &path,
        ADMIN_TOKEN,
        Some(json!({"product": true, "member_states": ["DE", "GB"]})),
    )
    .await;
    let p = expect_problem(res, 422).await;
    assert_eq!(p["pointer"], "/member_states/1");
    let res = send(&app, reqwest::Method::PUT, &path, ADMIN_TOKEN, Some(body)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let product: Value = res.json().await.unwrap();
    assert_eq!(product["member_states"], json!(["DE", "FR"]));
    let got = app.get_json(&path).await;
    assert_eq!(got["product"], true);
    assert_eq!(got["support_period_end"], "2031-12-31");
    let other = app
        .get_json(&format!("/api/v1/projects/{}/cra", urlencode(OTHER)))
        .await;
    assert_eq!(other["product"], false);

    // Not in KEV yet: no case.
    assert!(cases(&app, PRODUCT).await.is_empty());

    let before = Utc::now();
    import(
        &app,
        "/api/v1/advisories/kev",
        fixture("kev/cisagov-kev-data__known_exploited_vulnerabilities.json"),
    )
    .await;
    let after = Utc::now();
    // The import opened the case, before anyone looked.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cra_cases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let opened = events(&app, "cra.case_opened").await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["data"]["vulnerability"], "GO-2025-3459");

    let items = cases(&app, PRODUCT).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let c = &items[0];
    assert_eq!(c["project"], PRODUCT);
    assert_eq!(c["vulnerability"], "GO-2025-3459");
    assert_eq!(c["aliases"], json!(["CVE-2025-24016"]));
    assert_eq!(c["kind"], "exploited_vulnerability");
    assert_eq!(c["status"], "open");
    assert_eq!(c["opened_by"], "kev");
    assert_eq!(c["overdue"], json!([]));
    assert_eq!(c["submissions"], json!([]));
    assert_eq!(c["corrective_measure"], Value::Null);
    // aware_at: the finding was recorded before the catalog arrived, so
    // it is when Cairn first saw the KEV entry.
    let aware = time(&c["aware_at"]);
    assert!(
        before <= aware && aware <= after,
        "{aware} not in {before}..{after}"
    );
    let (kev_seen, first_seen): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT k.first_seen, f.first_seen FROM kev_first_seen k, findings f
          WHERE k.cve_id = 'CVE-2025-24016' AND f.display_id = 'GO-2025-3459'
          ORDER BY f.first_seen LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(first_seen < kev_seen);
    assert_eq!(aware, kev_seen);
    let d = &c["deadlines"];
    assert_eq!(time(&d["early_warning"]), aware + Duration::hours(24));
    assert_eq!(time(&d["notification"]), aware + Duration::hours(72));
    assert_eq!(d["final_report"], Value::Null);
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        app.get_json(&format!("/api/v1/cra/cases/{id}")).await["aware_at"],
        c["aware_at"]
    );

    // The other project ships the same module but is no CRA product.
    assert!(cases(&app, OTHER).await.is_empty());
    let res = app
        .get("/api/v1/cra/cases?project=acme%2Fnope", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;

    // Stable: syncing again (PUT, KEV re-import, re-evaluation) changes nothing.
    let res = send(
        &app,
        reqwest::Method::PUT,
        &path,
        ADMIN_TOKEN,
        Some(json!({"product": true, "member_states": ["DE", "FR"]})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    import(
        &app,
        "/api/v1/advisories/kev",
        fixture("kev/cisagov-kev-data__known_exploited_vulnerabilities.json"),
    )
    .await;
    app.evaluate_queued().await;
    let again = cases(&app, PRODUCT).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["aware_at"], c["aware_at"]);
    assert_eq!(
        events(&app, "cra.case_opened").await.len(),
        1,
        "opened once"
    );

    // Marking it exploited by hand as well: the case exists.
    let res = post(
        &app,
        "/api/v1/cra/cases",
        json!({"project": PRODUCT, "vulnerability": "CVE-2025-24016", "kind": "exploited_vulnerability"}),
    )
    .await;
    expect_problem(res, 409).await;

    // Submissions, in order.
    let sub = format!("/api/v1/cra/cases/{id}/submissions");
    let res = post(&app, &sub, json!({"stage": "notification"})).await;
    let p = expect_problem(res, 409).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("early warning comes first"),
        "{p}"
    );
    let res = send(
        &app,
        reqwest::Method::POST,
        &sub,
        &viewer,
        Some(json!({"stage": "early_warning"})),
    )
    .await;
    expect_problem(res, 403).await;
    let res = post(
        &app,
        &sub,
        json!({"stage": "early_warning", "reference": "ENISA-SRP-1", "note": "sent by the PSIRT"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["status"], "early_warning_sent");
    assert_eq!(c["submissions"][0]["reference"], "ENISA-SRP-1");
    assert_eq!(c["submissions"][0]["on_time"], true);
    let res = post(&app, &sub, json!({"stage": "early_warning"})).await;
    expect_problem(res, 409).await;
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let res = post(
        &app,
        &sub,
        json!({"stage": "notification", "submitted_at": future}),
    )
    .await;
    expect_problem(res, 422).await;
    let res = post(&app, &sub, json!({"stage": "notification"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "notified");
    let res = post(&app, &sub, json!({"stage": "final_report"})).await;
    let p = expect_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("corrective"), "{p}");

    // The corrective measure starts the final report's clock.
    let available = aware;
    let res = post(
        &app,
        &format!("/api/v1/cra/cases/{id}/corrective-measure"),
        json!({"description": "Release 1.0.1 ships wazuh 4.9.1", "available_at": available.to_rfc3339()}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c: Value = res.json().await.unwrap();
    assert_eq!(
        time(&c["deadlines"]["final_report"]),
        time(&c["corrective_measure"]["available_at"]) + Duration::days(14)
    );

    // Draft reports, filled from the evidence.
    let report = app
        .get_json(&format!("/api/v1/cra/cases/{id}/report?stage=notification"))
        .await;
    assert_eq!(report["article"], "Art. 14(2)(b)");
    assert_eq!(report["product"]["name"], PRODUCT);
    assert_eq!(report["product"]["member_states"], json!(["DE", "FR"]));
    let versions = report["product"]["affected_versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(
        (
            versions[0]["artifact"].as_str(),
            versions[0]["version"].as_str()
        ),
        (Some("api"), Some("1.0.0"))
    );
    assert_eq!(versions[0]["components"][0]["purl"], WAZUH);
    assert_eq!(
        versions[0]["components"][0]["fixed_versions"],
        json!(["4.9.1+incompatible"])
    );
    assert_eq!(report["vulnerability"]["id"], "GO-2025-3459");
    assert_eq!(report["vulnerability"]["severity"], "unknown");
    assert_eq!(report["exploit"]["source"], "cisa-kev");
    assert_eq!(report["exploit"]["kev"]["cve_id"], "CVE-2025-24016");
    assert!(report["exploit"]["nature"]
        .as_str()
        .unwrap()
        .contains("deserialization of untrusted data"));
    assert_eq!(
        report["corrective_measures"]["description"],
        "Release 1.0.1 ships wazuh 4.9.1"
    );
    assert!(report["user_measures"][0]
        .as_str()
        .unwrap()
        .contains("to 4.9.1+incompatible or later"));
    assert_eq!(report["to_complete"], json!(["sensitivity"]));
    let early = app
        .get_json(&format!(
            "/api/v1/cra/cases/{id}/report?stage=early_warning"
        ))
        .await;
    assert!(early.get("exploit").is_none(), "{early}");
    let res = app
        .get(
            &format!("/api/v1/cra/cases/{id}/report?stage=final_report&format=html"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = Html::parse(res.text().await.unwrap());
    assert_eq!(html.text("h1"), "Final report — draft");
    assert!(html
        .text("p.muted")
        .starts_with("EU Cyber Resilience Act, Art. 14(2)(c)."));
    assert_eq!(
        html.attrs("link[rel=stylesheet]", "href"),
        ["/static/cairn.css"]
    );
    html.assert_csp_clean("the final report draft");
    let res = app
        .get(
            &format!("/api/v1/cra/cases/{id}/report?stage=interim"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;

    let res = post(
        &app,
        &sub,
        json!({"stage": "final_report", "reference": "ENISA-SRP-3"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["status"], "closed");
    assert_eq!(c["submissions"].as_array().unwrap().len(), 3);
    let res = post(
        &app,
        &format!("/api/v1/cra/cases/{id}/corrective-measure"),
        json!({"description": "another"}),
    )
    .await;
    expect_problem(res, 409).await;
    let res = app
        .get("/api/v1/cra/cases/999999", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn severe_incidents_overdue_first_and_announced_once() {
    let app = setup().await;
    let path = format!("/api/v1/projects/{}/cra", urlencode(PRODUCT));
    let res = send(
        &app,
        reqwest::Method::PUT,
        &path,
        ADMIN_TOKEN,
        Some(json!({"product": true, "member_states": ["IT"]})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Not a product: no case by hand either.
    let res = post(
        &app,
        "/api/v1/cra/cases",
        json!({"project": OTHER, "kind": "severe_incident", "title": "x"}),
    )
    .await;
    expect_problem(res, 422).await;
    let res = post(
        &app,
        "/api/v1/cra/cases",
        json!({"project": PRODUCT, "kind": "severe_incident"}),
    )
    .await;
    let p = expect_problem(res, 422).await;
    assert_eq!(p["pointer"], "/title");

    // Became aware 30 hours ago: the early warning is overdue.
    let aware = Utc::now() - Duration::hours(30);
    let res = post(
        &app,
        "/api/v1/cra/cases",
        json!({"project": PRODUCT, "kind": "severe_incident", "title": "Build server compromised",
               "aware_at": aware.to_rfc3339()}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["vulnerability"], Value::Null);
    assert_eq!(c["overdue"], json!(["early_warning"]));
    assert_eq!(c["deadlines"]["final_report"], Value::Null);
    let id = c["id"].as_i64().unwrap();
    // A second, fresh one: nothing due soon.
    let res = post(
        &app,
        "/api/v1/cra/cases",
        json!({"project": PRODUCT, "kind": "severe_incident", "title": "Signing key leaked"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Listing syncs: the overdue early warning is announced, once.
    assert_eq!(cases(&app, PRODUCT).await.len(), 2);
    assert_eq!(cases(&app, PRODUCT).await.len(), 2);
    let due = events(&app, "cra.deadline_approaching").await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["data"]["case_id"], id);
    assert_eq!(due[0]["data"]["stage"], "early_warning");
    assert!(due[0]["data"]["countdown"]
        .as_str()
        .unwrap()
        .starts_with("overdue by 6 h"));
    assert_eq!(events(&app, "cra.case_opened").await.len(), 2);

    // The dashboard: overdue cases first and highlighted.
    let cookie = app.sign_in(ADMIN_TOKEN).await;
    let res = app
        .client
        .get(app.url("/ui/cra"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = Html::parse(res.text().await.unwrap());
    let subjects = html.texts("table#cra-cases tbody td:nth-child(3)");
    let first = subjects
        .iter()
        .position(|s| s.starts_with("Build server compromised"));
    let second = subjects
        .iter()
        .position(|s| s.starts_with("Signing key leaked"));
    assert!(
        first.unwrap() < second.unwrap(),
        "overdue first: {subjects:?}"
    );
    assert_eq!(
        html.attrs("table#cra-cases tbody tr", "class")[0],
        "cra-overdue"
    );
    assert!(
        html.texts("table#cra-cases td.cra-stage")
            .iter()
            .any(|s| s.contains("h left")),
        "{}",
        html.raw
    );
    let res = app
        .client
        .get(app.url(&format!("/ui/cra/cases/{id}/report?stage=early_warning")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = Html::parse(res.text().await.unwrap());
    assert_eq!(html.text("h1"), "Early warning — draft");
    assert!(html.text("p#incident").contains("Build server compromised"));
    assert!(html
        .text("p.muted")
        .starts_with("EU Cyber Resilience Act, Art. 14(4)(a)."));
    assert_eq!(html.count("p#suspected-malicious"), 1);

    // The incident's final report counts from the notification.
    let sub = format!("/api/v1/cra/cases/{id}/submissions");
    for stage in ["early_warning", "notification"] {
        let res = post(&app, &sub, json!({"stage": stage})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let c = app.get_json(&format!("/api/v1/cra/cases/{id}")).await;
    assert_eq!(
        c["submissions"][0]["on_time"], false,
        "the early warning came late"
    );
    let notified = time(&c["submissions"][1]["submitted_at"]);
    let final_due = time(&c["deadlines"]["final_report"]);
    assert!(
        final_due > notified + Duration::days(27) && final_due <= notified + Duration::days(31)
    );
}
