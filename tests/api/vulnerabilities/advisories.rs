//! Advisory imports (the Go database as OSV, CSAF, distro records) and what they match.

use super::*;

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
    app.evaluate_queued().await;
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
    app.evaluate_queued().await;
    let items = findings(&app, artifact, "").await;
    assert!(!items.is_empty());
    assert_eq!(open(&app).await, 1);
}
