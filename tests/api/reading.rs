//! Listing, filtering and paginating the inventory; portfolio search.

use serde_json::Value;

use crate::support::{expect_problem, fixture, spawn_app, ADMIN_TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_artifacts_and_pagination() {
    let app = spawn_app().await;
    let doc = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json");
    for (p, v) in [
        ("acme/payments-api", "1.0"),
        ("acme/payments-api", "1.1"),
        ("acme/ledger", "3.0"),
        ("globex/web", "0.9"),
    ] {
        let res = app
            .upload(
                &format!("project={p}&artifact=svc&version={v}"),
                doc.clone(),
            )
            .await;
        assert_eq!(res.status(), 201);
    }

    // Two per page, in name order, following the cursor.
    let first = app.get_json("/api/v1/projects?limit=2").await;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme/ledger", "acme/payments-api"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!("/api/v1/projects?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["items"][0]["name"], "globex/web");
    assert!(second["next_cursor"].is_null());

    let filtered = app.get_json("/api/v1/projects?q=PAYMENTS").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let project = app.get_json("/api/v1/projects/acme%2Fpayments-api").await;
    assert_eq!(project["artifact_count"], 2);
    assert_eq!(project["sbom_count"], 2);
    assert_eq!(project["component_count"], 2 * 3);

    let res = app
        .get("/api/v1/projects/acme%2Fnope", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get("/api/v1/projects?limit=0", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .get("/api/v1/projects?cursor=garbage", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;

    let arts = app
        .get_json("/api/v1/artifacts?project=acme%2Fpayments-api")
        .await;
    let versions: Vec<&str> = arts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.1", "1.0"], "newest first");
    let id = arts["items"][0]["id"].as_i64().unwrap();
    assert_eq!(arts["items"][0]["latest_sbom"]["component_count"], 3);
    let one = app.get_json(&format!("/api/v1/artifacts/{id}")).await;
    assert_eq!(one["sboms"].as_array().unwrap().len(), 1);
    let res = app
        .get("/api/v1/artifacts/999999", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get("/api/v1/artifacts/abc", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sbom_components_filter_and_page() {
    let app = spawn_app().await;
    let res = app
        .upload(
            "project=acme/npm&artifact=app&version=1",
            fixture("sbom/trivy__npm-cyclonedx.json.golden"),
        )
        .await;
    let sbom: Value = res.json().await.unwrap();
    let id = sbom["id"].as_i64().unwrap();
    let all = app.all_components(id).await;
    assert_eq!(
        all.len() as i64,
        sbom["component_count"].as_i64().unwrap() + 1
    );

    let page = app
        .get_json(&format!("/api/v1/sboms/{id}/components?limit=3"))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert!(page["next_cursor"].is_string());

    let hits = app
        .get_json(&format!("/api/v1/sboms/{id}/components?q=JQUERY"))
        .await;
    let hits = hits["items"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|c| c["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("jquery")
        || c["purl"].as_str().unwrap_or("").contains("jquery")));
    let apps = app
        .get_json(&format!("/api/v1/sboms/{id}/components?type=application"))
        .await;
    assert!(apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["type"] == "application"));

    let detail = app.get_json(&format!("/api/v1/sboms/{id}")).await;
    assert_eq!(detail["ecosystems"][0]["key"], "npm");
    let res = app
        .get("/api/v1/sboms/424242", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolio_search_finds_every_artifact() {
    let app = spawn_app().await;
    let centos = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json");
    for (p, v) in [("acme/a", "1"), ("acme/b", "2")] {
        assert_eq!(
            app.upload(
                &format!("project={p}&artifact=img&version={v}"),
                centos.clone()
            )
            .await
            .status(),
            201
        );
    }
    assert_eq!(
        app.upload(
            "project=acme/c&artifact=go&version=1",
            fixture("sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdx.json")
        )
        .await
        .status(),
        201
    );

    let hits = app
        .get_json("/api/v1/components?purl=pkg:rpm/centos/bash")
        .await;
    let items = hits["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{hits}");
    assert_eq!(items[0]["name"], "bash");
    assert_eq!(items[0]["artifact_count"], 2);
    let projects: Vec<&str> = items[0]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["project"].as_str().unwrap())
        .collect();
    assert_eq!(projects, ["acme/b", "acme/a"]);

    // Prefix search spans many components and pages.
    let all = app
        .get_json("/api/v1/components?purl=pkg:rpm/centos/&limit=1")
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert!(all["next_cursor"].is_string());
    let rest = app
        .get_json(&format!(
            "/api/v1/components?purl=pkg:rpm/centos/&limit=500&cursor={}",
            all["next_cursor"].as_str().unwrap()
        ))
        .await;
    let total = 1 + rest["items"].as_array().unwrap().len();
    let distinct: i64 =
        sqlx::query_scalar("SELECT count(*) FROM components WHERE purl LIKE 'pkg:rpm/centos/%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(total as i64, distinct);

    // Name and version.
    let by_name = app
        .get_json("/api/v1/components?name=bash&version=4.2.46-31.el7")
        .await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1, "{by_name}");
    let none = app
        .get_json("/api/v1/components?name=bash&version=0.0.0")
        .await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let go = app.get_json("/api/v1/components?purl=pkg:golang/").await;
    assert!(go["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["artifacts"][0]["project"] == "acme/c"));

    let res = app
        .get("/api/v1/components", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .get("/api/v1/components?purl=bash", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
}
