//! `GET /api/v1/sboms/{id}/quality` on real uploads: the scores and field
//! figures of `python3 tests/tools/sbom_quality_expected.py <fixture>` (an
//! independent reading of the JSON), the stored summary the dashboard and
//! `sbom-present`'s `min_quality` read, the start-up backfill, 404 and 401.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::html::Html;
use crate::support::{expect_problem, fixture, gzip, spawn_app, TestApp, ADMIN_TOKEN};

async fn upload(app: &TestApp, artifact: &str, body: Vec<u8>) -> Value {
    let res = app
        .upload(
            &format!("project=acme/quality&artifact={artifact}&version=1.0.0"),
            body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

fn field<'a>(report: &'a Value, profile: &str, id: &str) -> &'a Value {
    report["profiles"][profile]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == id)
        .unwrap_or_else(|| panic!("{profile} has no field {id}"))
}

async fn stored_quality(app: &TestApp, id: i64) -> Option<Value> {
    sqlx::query_scalar("SELECT quality FROM sboms WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn quality_of_uploaded_sboms() {
    let app = spawn_app().await;
    let viewer = app.token("viewer").await;

    // cyclonedx-gomod: 27 components and the module itself.
    let kawipiko = upload(
        &app,
        "kawipiko",
        fixture("sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdx.json"),
    )
    .await;
    let id = kawipiko["id"].as_i64().unwrap();
    let res = app
        .get(&format!("/api/v1/sboms/{id}/quality"), &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["sbom_id"], id);
    let scores: Vec<f64> = ["ntia", "cisa-2025", "bsi-tr-03183-2"]
        .iter()
        .map(|p| report["profiles"][p]["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [87.5, 68.7, 30.8]);
    let supplier = field(&report, "ntia", "supplier");
    assert_eq!(supplier["scope"], "component");
    assert_eq!(
        (supplier["covered"].as_u64(), supplier["total"].as_u64()),
        (Some(0), Some(28))
    );
    assert_eq!(supplier["missing_count"], 28);
    assert_eq!(supplier["missing"].as_array().unwrap().len(), 28);
    assert!(supplier["missing"][1]
        .as_str()
        .unwrap()
        .starts_with("pkg:golang/"));
    let hash = field(&report, "cisa-2025", "hash");
    assert_eq!(
        (hash["covered"].as_u64(), hash["missing_count"].as_u64()),
        (Some(27), Some(1))
    );
    let timestamp = field(&report, "ntia", "timestamp");
    assert_eq!(timestamp["scope"], "document");
    assert_eq!(timestamp["covered"], 1);

    // The BSI-minded document, sent gzip-compressed (stored as received).
    let bsi_doc = fixture("sbom-quality/bsi-tr-03183-2.cdx.json");
    let res = app
        .client
        .post(app.url("/api/v1/sboms?project=acme/quality&artifact=bsi&version=1.0.0"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-encoding", "gzip")
        .body(gzip(&bsi_doc))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let bsi: Value = res.json().await.unwrap();
    let bsi_id = bsi["id"].as_i64().unwrap();
    let report = app
        .get_json(&format!("/api/v1/sboms/{bsi_id}/quality"))
        .await;
    let scores: Vec<f64> = ["ntia", "cisa-2025", "bsi-tr-03183-2"]
        .iter()
        .map(|p| report["profiles"][p]["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [96.9, 96.2, 80.8]);
    assert_eq!(
        field(&report, "bsi-tr-03183-2", "executable")["missing"],
        json!(["data.bin@2.0.0", "lib-b"])
    );
    assert_eq!(
        field(&report, "cisa-2025", "generation-context")["covered"],
        1
    );

    // Stored at ingestion: the summary rules and the dashboard read.
    let stored = stored_quality(&app, id).await.expect("scored at upload");
    assert_eq!(stored["ntia"]["score"], 87.5);
    assert_eq!(
        stored["ntia"]["weakest"][0],
        json!({"field": "supplier", "coverage": 0.0})
    );

    // sbom-present with a minimum per profile, against the stored scores.
    let artifact = kawipiko["artifact_id"].as_i64().unwrap();
    let dry = |rules: Value| {
        let req = app
            .client
            .post(app.url("/api/v1/policy-dry-run"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"artifact_id": artifact, "rules": rules}));
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let out = dry(json!([{"rule": "sbom-present", "params": {"min_quality": {"ntia": 85}}}])).await;
    assert_eq!(out["results"][0]["status"], "pass", "{out}");
    let out = dry(json!([{"rule": "sbom-present",
                          "params": {"min_quality": {"ntia": 85, "bsi-tr-03183-2": 50}}}]))
    .await;
    let r = &out["results"][0];
    assert_eq!(r["status"], "fail", "{out}");
    let message = r["violations"][0]["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("the SBOM's bsi-tr-03183-2 quality score is 30.8, below the required 50"),
        "{message}"
    );

    // The dashboard's artifact page shows the three scores.
    let cookie = app.sign_in(ADMIN_TOKEN).await;
    let page = |artifact: i64| {
        let req = app
            .client
            .get(app.url(&format!("/ui/artifacts/{artifact}")))
            .header("cookie", cookie.clone());
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            Html::parse(res.text().await.unwrap())
        }
    };
    let scores = |html: &Html| html.texts("table.quality tbody td:nth-child(2)");
    let html = page(artifact).await;
    assert_eq!(
        html.texts("table.quality tbody td:first-child"),
        [
            "NTIA minimum elements (2021)",
            "CISA minimum elements (2025)",
            "BSI TR-03183-2 v2 required fields"
        ]
    );
    assert_eq!(scores(&html), ["87.5", "68.7", "30.8"]);
    assert!(html
        .texts("table.quality tbody td:nth-child(3)")
        .contains(&"supplier (0% covered)".to_owned()));
    assert_eq!(
        html.attrs("table.quality caption a", "href"),
        [format!("/api/v1/sboms/{id}/quality")]
    );

    // An SBOM stored before scores existed: not scored, until the backfill.
    sqlx::query("UPDATE sboms SET quality = NULL WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(page(artifact)
        .await
        .text("table.quality tbody td")
        .starts_with("Not scored yet"));
    let out = dry(json!([{"rule": "sbom-present", "params": {"min_quality": {"ntia": 10}}}])).await;
    assert_eq!(out["results"][0]["status"], "error", "{out}");
    let scored = cairn::sboms::service::backfill_quality(&app.pool)
        .await
        .unwrap();
    assert_eq!(scored, 1);
    assert_eq!(stored_quality(&app, id).await, Some(stored));
    assert_eq!(scores(&page(artifact).await)[0], "87.5");
}

#[tokio::test(flavor = "multi_thread")]
async fn quality_not_found_and_unauthenticated() {
    let app = spawn_app().await;
    let viewer = app.token("viewer").await;
    let res = app
        .get("/api/v1/sboms/987654/quality", &viewer)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(res, 404).await;
    assert_eq!(problem["detail"], "there is no SBOM 987654");
    // The same wording as the SBOM itself.
    let res = app
        .get("/api/v1/sboms/987654", &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_problem(res, 404).await["detail"], problem["detail"]);

    let sbom = upload(
        &app,
        "centos",
        fixture("sbom/trivy__fixtures_sbom_centos-7-spdx.json"),
    )
    .await;
    let path = format!("/api/v1/sboms/{}/quality", sbom["id"]);
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    expect_problem(res, 401).await;
    let res = app.get(&path, "not-a-token-at-all").send().await.unwrap();
    expect_problem(res, 401).await;
    let report = app.get_json(&path).await;
    assert_eq!(report["profiles"]["ntia"]["score"], 71.9);
    assert_eq!(report["profiles"]["cisa-2025"]["score"], 55.8);
    assert_eq!(report["profiles"]["bsi-tr-03183-2"]["score"], 40.4);
}
