//! Triage decisions and VEX documents, and the vulnerabilities rule they feed.

use super::*;

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
    let opts = app.worker_options();
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
