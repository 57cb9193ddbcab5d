//! Dependency-Track compatibility against the real server: uploads as DT's
//! GitHub Action sends them (JSON and multipart), the token, the project
//! lookup and `lastBomImport`, findings and violations in DT's shape, the
//! name mapping, and every refusal next to the legitimate request.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{cyclonedx, expect_problem, spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN};

fn b64(doc: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(doc)
}

async fn put_bom(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/bom"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The token of a successful upload.
async fn token_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 36, "{token}");
    token
}

async fn processing(app: &TestApp, path: &str) -> bool {
    let res = app.get(path, ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json::<Value>().await.unwrap()["processing"]
        .as_bool()
        .unwrap()
}

async fn drain(app: &TestApp) {
    app.evaluate_queued().await;
}

async fn lookup(app: &TestApp, name: &str, version: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/project/lookup"))
        .query(&[("name", name), ("version", version)])
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
}

/// A multipart body exactly as DT's GitHub Action (v1, `multipart/form-data`
/// through `form-data`) and `curl -F` send it: text fields, then the BOM as
/// a file part.
fn multipart(fields: &[(&str, &str)], bom: &[u8]) -> (String, Vec<u8>) {
    let boundary = "--------------------------515890814546601021194782";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"bom\"; filename=\"bom.json\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bom);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(app: &TestApp, token: &str, ct: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/bom"))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A critical OSV record for golang.org/x/net below 0.7.0 (synthetic id;
/// the CVSS vector scores 9.8).
fn critical_advisory() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "GO-2099-0001", "aliases": ["CVE-2099-0001"], "modified": "2099-01-01T00:00:00Z",
        "summary": "Remote code execution in x/net (test record)",
        "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.7.0"}]}]}],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    }))
    .unwrap()
}

async fn import_advisory(app: &TestApp, doc: Vec<u8>) {
    let res = app
        .client
        .post(app.url("/api/v1/advisories"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_put_bom_as_the_github_action_sends_it() {
    let app = spawn_app().await;
    assert_eq!(
        lookup(&app, "Example Project", "master").await.status(),
        404
    );
    // DependencyTrack/gh-upload-sbom (index.js): PUT, JSON, tags as
    // objects, `isLatestProjectVersion` as the string it read from inputs.
    let sbom = cyclonedx(&["pkg:golang/golang.org/x/net@v0.6.0"]);
    let body = json!({
        "projectName": "Example Project", "projectVersion": "master", "autoCreate": true,
        "bom": b64(&sbom), "projectTags": [{"name": "ci"}, {"name": "go"}],
        "isLatestProjectVersion": "true"
    });
    let token = token_of(put_bom(&app, ADMIN_TOKEN, body.clone()).await).await;
    // Queued for evaluation until the worker ran: both token endpoints.
    assert!(processing(&app, &format!("/api/v1/event/token/{token}")).await);
    assert!(processing(&app, &format!("/api/v1/bom/token/{token}")).await);
    drain(&app).await;
    assert!(!processing(&app, &format!("/api/v1/event/token/{token}")).await);
    assert!(!processing(&app, &format!("/api/v1/bom/token/{token}")).await);

    let res = lookup(&app, "Example Project", "master").await;
    assert_eq!(res.status(), 200);
    let project: Value = res.json().await.unwrap();
    let uuid = project["uuid"].as_str().unwrap().to_owned();
    assert_eq!(project["name"], "Example Project");
    assert_eq!(project["version"], "master");
    assert_eq!(project["isLatest"], true);
    assert_eq!(project["tags"], json!([{"name": "ci"}, {"name": "go"}]));
    assert_eq!(project["lastBomImportFormat"], "CycloneDX 1.5");
    // Mapped: project "Example-Project", artifact "Example Project".
    assert_eq!(
        project["cairn"],
        json!({"artifact_id": project["cairn"]["artifact_id"], "project": "Example-Project",
               "artifact": "Example Project", "version": "master"})
    );
    let first = project["lastBomImport"].as_i64().unwrap();
    assert!(first > 1_700_000_000_000, "epoch milliseconds: {first}");
    let by_uuid = app.get_json(&format!("/api/v1/project/{uuid}")).await;
    assert_eq!(by_uuid["uuid"], uuid.as_str());
    assert_eq!(by_uuid["lastBomImport"], first);
    let artifacts = app
        .get_json("/api/v1/artifacts?project=Example-Project")
        .await;
    assert_eq!(artifacts["items"].as_array().unwrap().len(), 1);

    // The identical document again: stored once, but a new token and a
    // later import time (dtrack-auditor checks that it changed).
    let again = token_of(put_bom(&app, ADMIN_TOKEN, body).await).await;
    assert_ne!(again, token);
    let second = app.get_json(&format!("/api/v1/project/{uuid}")).await["lastBomImport"]
        .as_i64()
        .unwrap();
    assert!(second > first, "{second} > {first}");
    let sboms: i64 = sqlx::query_scalar("SELECT count(*) FROM sboms")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sboms, 1);
    // By UUID, as the Action does with autoCreate false.
    let other = cyclonedx(&["pkg:golang/golang.org/x/net@v0.7.0"]);
    let res = put_bom(
        &app,
        ADMIN_TOKEN,
        json!({"project": uuid, "bom": b64(&other)}),
    )
    .await;
    token_of(res).await;
    let third = app.get_json(&format!("/api/v1/project/{uuid}")).await["lastBomImport"]
        .as_i64()
        .unwrap();
    assert!(third > second);
    // An unknown token is not processing (as in DT).
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert!(!processing(&app, &format!("/api/v1/event/token/{unknown}")).await);
    let res = app
        .get("/api/v1/event/token/not-a-uuid", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("uuid"), "{p}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_multipart_upload_as_the_github_action_sends_it() {
    let app = spawn_app().await;
    let uploader = app.token("uploader").await;
    let sbom = cyclonedx(&["pkg:npm/left-pad@1.3.0"]);
    let (ct, body) = multipart(
        &[
            ("autoCreate", "true"),
            ("projectName", "acme/web"),
            ("projectVersion", "2.1.0"),
        ],
        &sbom,
    );
    let token = token_of(post_form(&app, &uploader, &ct, body).await).await;
    drain(&app).await;
    assert!(!processing(&app, &format!("/api/v1/bom/token/{token}")).await);
    let project: Value = lookup(&app, "acme/web", "2.1.0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(project["cairn"]["project"], "acme/web");
    assert_eq!(project["cairn"]["artifact"], "acme/web");
    // Stored byte for byte.
    let sbom_id: i64 = sqlx::query_scalar("SELECT sbom_id FROM dtrack_uploads")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let doc = app
        .get(&format!("/api/v1/sboms/{sbom_id}/document"), ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&doc[..], &sbom[..]);

    // A gzip-compressed bom part is read too, with tags and a parent.
    let gz = crate::support::gzip(&cyclonedx(&["pkg:npm/left-pad@1.3.1"]));
    let (ct, body) = multipart(
        &[
            ("autoCreate", "true"),
            ("projectName", "web ui"),
            ("projectVersion", "2.2.0"),
            ("parentName", "acme"),
            ("parentVersion", "1"),
            ("projectTags", "frontend, ci"),
            ("isLatest", "true"),
        ],
        &gz,
    );
    token_of(post_form(&app, &uploader, &ct, body).await).await;
    let p: Value = lookup(&app, "web ui", "2.2.0").await.json().await.unwrap();
    assert_eq!(
        (
            p["cairn"]["project"].as_str(),
            p["cairn"]["artifact"].as_str()
        ),
        (Some("acme"), Some("web ui"))
    );
    assert_eq!(p["parent"], json!({"name": "acme"}));
    assert_eq!(p["tags"], json!([{"name": "frontend"}, {"name": "ci"}]));

    // Refusals, each naming what is wrong.
    let (ct, body) = multipart(
        &[
            ("autoCreate", "yes"),
            ("projectName", "a"),
            ("projectVersion", "1"),
        ],
        &sbom,
    );
    let p = expect_problem(post_form(&app, &uploader, &ct, body).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("autoCreate"), "{p}");
    let (ct, body) = multipart(
        &[
            ("projectName", "a"),
            ("projectName", "b"),
            ("projectVersion", "1"),
        ],
        &sbom,
    );
    let p = expect_problem(post_form(&app, &uploader, &ct, body).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("twice"), "{p}");
    let (ct, body) = multipart(&[("autoCreate", "true"), ("projectName", "a")], &sbom);
    let p = expect_problem(post_form(&app, &uploader, &ct, body).await, 400).await;
    assert!(
        p["detail"].as_str().unwrap().contains("projectVersion"),
        "{p}"
    );
    let p = expect_problem(
        post_form(&app, &uploader, "application/json", b"{}".to_vec()).await,
        415,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("multipart"), "{p}");
    let (ct, body) = multipart(
        &[
            ("autoCreate", "true"),
            ("projectName", "a"),
            ("projectVersion", "1"),
        ],
        br#"{"not": "a bom"}"#,
    );
    expect_problem(post_form(&app, &uploader, &ct, body).await, 422).await;
    // A viewer may not upload.
    let viewer = app.token("viewer").await;
    let (ct, body) = multipart(
        &[
            ("autoCreate", "true"),
            ("projectName", "a"),
            ("projectVersion", "1"),
        ],
        &sbom,
    );
    expect_problem(post_form(&app, &viewer, &ct, body).await, 403).await;
    assert_eq!(lookup(&app, "a", "1").await.status(), 404, "nothing stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_refusals_name_the_field_and_store_nothing() {
    let app = spawn_app_with(|k| (k == "CAIRN_MAX_UPLOAD").then(|| "4096".into())).await;
    let sbom = cyclonedx(&["pkg:npm/left-pad@1.3.0"]);
    let ok = json!({"projectName": "svc", "projectVersion": "1.0", "autoCreate": true, "bom": b64(&sbom)});
    let before = app.counts().await;
    let refuse = |patch: Value, status: u16, names: &'static str| {
        let app = &app;
        let mut body = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        async move {
            let p = expect_problem(put_bom(app, ADMIN_TOKEN, body).await, status).await;
            assert!(
                p["detail"].as_str().unwrap().contains(names),
                "{names}: {p}"
            );
        }
    };
    // autoCreate false (or absent) and no such project: 404, as in DT.
    refuse(json!({"autoCreate": false}), 404, "autoCreate=true").await;
    refuse(json!({"autoCreate": null}), 404, "autoCreate=true").await;
    refuse(json!({"autoCreate": "maybe"}), 400, "autoCreate").await;
    refuse(json!({"autoCreate": 1}), 400, "autoCreate").await;
    refuse(json!({"projectName": "a//b"}), 400, "projectName").await;
    refuse(json!({"projectName": " svc"}), 400, "projectName").await;
    refuse(json!({"projectName": 7}), 400, "projectName").await;
    refuse(json!({"projectName": null}), 400, "projectName").await;
    refuse(json!({"projectVersion": "1.0\n"}), 400, "projectVersion").await;
    refuse(json!({"parentName": ".."}), 400, "parentName").await;
    refuse(json!({"projectTags": [{"name": ""}]}), 400, "projectTags").await;
    refuse(json!({"projectTags": "ci"}), 400, "projectTags").await;
    refuse(json!({"project": "nope"}), 400, "project").await;
    refuse(
        json!({"project": "00000000-0000-4000-8000-000000000000"}),
        404,
        "project",
    )
    .await;
    refuse(
        json!({"parentUUID": "00000000-0000-4000-8000-000000000000"}),
        404,
        "parentUUID",
    )
    .await;
    refuse(json!({"bom": null}), 400, "bom").await;
    refuse(json!({"bom": "!!!"}), 400, "base64").await;
    refuse(json!({"bom": b64(&[b' '; 5000])}), 413, "CAIRN_MAX_UPLOAD").await;
    refuse(json!({"bom": "A".repeat(100_000)}), 413, "CAIRN_MAX_UPLOAD").await;
    refuse(json!({"bom": b64(b"{\"not\": \"a bom\"}")}), 422, "").await;
    // Not JSON, or not as JSON.
    let res = app
        .client
        .put(app.url("/api/v1/bom"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .client
        .put(app.url("/api/v1/bom"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body(serde_json::to_vec(&ok).unwrap())
        .send()
        .await
        .unwrap();
    expect_problem(res, 415).await;
    let viewer = app.token("viewer").await;
    expect_problem(put_bom(&app, &viewer, ok.clone()).await, 403).await;
    let res = app
        .client
        .put(app.url("/api/v1/bom"))
        .json(&ok)
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
    assert_eq!(app.counts().await, before, "nothing stored");
    let uploads: i64 = sqlx::query_scalar("SELECT count(*) FROM dtrack_uploads")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(uploads, 0);

    // The legitimate request goes through, also gzip-compressed in `bom`,
    // and then autoCreate false finds the project.
    token_of(put_bom(&app, ADMIN_TOKEN, ok.clone()).await).await;
    let mut gz = ok.clone();
    gz["bom"] = json!(b64(&crate::support::gzip(&cyclonedx(&[
        "pkg:npm/left-pad@1.3.1"
    ]))));
    gz["autoCreate"] = json!(false);
    token_of(put_bom(&app, ADMIN_TOKEN, gz).await).await;
    // A body gzip-encoded as a whole is read too.
    let mut third = ok.clone();
    third["bom"] = json!(b64(&cyclonedx(&["pkg:npm/left-pad@1.3.2"])));
    let res = app
        .client
        .put(app.url("/api/v1/bom"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(crate::support::gzip(&serde_json::to_vec(&third).unwrap()))
        .send()
        .await
        .unwrap();
    token_of(res).await;
    // Names with spaces map; the same DT name under another parent is a 409.
    let child = json!({"projectName": "pay api", "projectVersion": "1", "autoCreate": true,
                       "parentName": "Acme Platform", "bom": b64(&sbom)});
    token_of(put_bom(&app, ADMIN_TOKEN, child.clone()).await).await;
    let p: Value = lookup(&app, "pay api", "1").await.json().await.unwrap();
    assert_eq!(p["cairn"]["project"], "Acme-Platform");
    let mut moved = child.clone();
    moved["parentName"] = json!("Other");
    refuse_conflict(&app, moved).await;
    // The parent by UUID: that project's Cairn project.
    let mut by_parent_uuid = child;
    by_parent_uuid["projectName"] = json!("pay worker");
    by_parent_uuid.as_object_mut().unwrap().remove("parentName");
    by_parent_uuid["parentUUID"] = p["uuid"].clone();
    token_of(put_bom(&app, ADMIN_TOKEN, by_parent_uuid).await).await;
    let w: Value = lookup(&app, "pay worker", "1").await.json().await.unwrap();
    assert_eq!(w["cairn"]["project"], "Acme-Platform");
}

async fn refuse_conflict(app: &TestApp, body: Value) {
    let p = expect_problem(put_bom(app, ADMIN_TOKEN, body).await, 409).await;
    assert!(
        p["detail"].as_str().unwrap().contains("Acme-Platform"),
        "{p}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_findings_carry_severity_and_triage() {
    let app = spawn_app().await;
    import_advisory(&app, critical_advisory()).await;
    let vulnerable = cyclonedx(&[
        "pkg:golang/golang.org/x/net@v0.6.0",
        "pkg:npm/left-pad@1.3.0",
    ]);
    let body = json!({"projectName": "svc", "projectVersion": "1.0", "autoCreate": true, "bom": b64(&vulnerable)});
    token_of(put_bom(&app, ADMIN_TOKEN, body).await).await;
    drain(&app).await;
    let uuid = lookup(&app, "svc", "1.0")
        .await
        .json::<Value>()
        .await
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = app.token("viewer").await;
    let res = app
        .get(&format!("/api/v1/finding/project/{uuid}"), &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let findings: Vec<Value> = res.json().await.unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["vulnerability"]["vulnId"], "GO-2099-0001");
    assert_eq!(f["vulnerability"]["source"], "OSV");
    assert_eq!(f["vulnerability"]["severity"], "CRITICAL");
    assert_eq!(
        f["vulnerability"]["aliases"],
        json!([{"cveId": "CVE-2099-0001"}])
    );
    assert_eq!(f["component"]["name"], "net");
    assert_eq!(f["component"]["version"], "v0.6.0");
    assert_eq!(f["component"]["purl"], "pkg:golang/golang.org/x/net@v0.6.0");
    assert_eq!(f["component"]["project"], uuid.as_str());
    assert_eq!(
        f["analysis"],
        json!({"state": "NOT_SET", "isSuppressed": false})
    );
    assert_eq!(f["attribution"]["analyzerIdentity"], "INTERNAL_ANALYZER");
    assert!(
        f["attribution"]["attributedOn"].as_i64().is_some(),
        "recorded by the worker"
    );
    assert!(f["matrix"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{uuid}:")));

    // Triage: not_affected is DT's suppressed, left out unless asked for.
    let maintainer = app.token("maintainer").await;
    let res = app
        .client
        .post(app.url("/api/v1/triage"))
        .bearer_auth(&maintainer)
        .json(
            &json!({"vulnerability": "GO-2099-0001", "purl": "pkg:golang/golang.org/x/net@v0.6.0",
                      "scope": "portfolio", "state": "not_affected",
                      "justification": "vulnerable_code_not_in_execute_path"}),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let path = format!("/api/v1/finding/project/{uuid}");
    assert_eq!(app.get_json(&path).await, json!([]));
    let all = app.get_json(&format!("{path}?suppressed=true")).await;
    assert_eq!(
        all[0]["analysis"],
        json!({"state": "NOT_AFFECTED", "isSuppressed": true})
    );
    let res = app
        .get(&format!("{path}?suppressed=maybe"), ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    // Unknown and malformed project UUIDs.
    let res = app
        .get(
            "/api/v1/finding/project/00000000-0000-4000-8000-000000000000",
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get("/api/v1/project/zzz", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_violations_are_the_failing_rules() {
    let app = spawn_app().await;
    let sbom = cyclonedx(&["pkg:npm/left-pad@1.3.0"]);
    let body = json!({"projectName": "svc", "projectVersion": "1.0", "autoCreate": true, "bom": b64(&sbom)});
    token_of(put_bom(&app, ADMIN_TOKEN, body.clone()).await).await;
    drain(&app).await;
    let uuid = lookup(&app, "svc", "1.0")
        .await
        .json::<Value>()
        .await
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/violation/project/{uuid}");
    // No policy set: nothing fails.
    assert_eq!(app.get_json(&path).await, json!([]));
    // A set whose rules pass: still nothing.
    let set = |rules: Value, name: &str| {
        let app = &app;
        let body = json!({"name": name, "mode": "enforce", "rules": rules});
        async move {
            let res = app
                .client
                .post(app.url("/api/v1/policy-sets"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        }
    };
    set(json!([{"rule": "sbom-present"}]), "passing").await;
    drain(&app).await;
    assert_eq!(app.get_json(&path).await, json!([]));
    // An unsigned artifact fails `signed`: one violation.
    set(json!([{"rule": "signed"}]), "production").await;
    drain(&app).await;
    let v = app.get_json(&path).await;
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["type"], "OPERATIONAL");
    assert_eq!(v[0]["policyCondition"]["subject"], "signed");
    assert_eq!(v[0]["policyCondition"]["policy"]["name"], "production");
    assert_eq!(v[0]["policyCondition"]["policy"]["violationState"], "FAIL");
    assert_eq!(v[0]["project"]["uuid"], uuid.as_str());
    assert_eq!(v[0]["component"]["name"], "svc");
    assert!(v[0]["text"].as_str().unwrap().starts_with("signed: "));
    assert!(v[0]["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn dt_version_answers_without_a_token() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/version"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["version"], "4.12.0");
    assert_eq!(v["application"], "Cairn");
    assert_eq!(v["cairnVersion"], env!("CARGO_PKG_VERSION"));
}

/// DT clients send their key as `X-Api-Key` (dtrack-auditor, the GitHub
/// Action, the Jenkins plugin).
// needs X-Api-Key (lead)
#[tokio::test(flavor = "multi_thread")]
async fn dt_x_api_key_authenticates_like_bearer() {
    let app = spawn_app().await;
    let uploader = app.token("uploader").await;
    let sbom = cyclonedx(&["pkg:npm/left-pad@1.3.0"]);
    let res = app
        .client
        .put(app.url("/api/v1/bom"))
        .header("X-Api-Key", &uploader)
        .json(&json!({"projectName": "svc", "projectVersion": "1", "autoCreate": true, "bom": b64(&sbom)}))
        .send()
        .await
        .unwrap();
    token_of(res).await;
    let res = app
        .client
        .get(app.url("/api/v1/project/lookup?name=svc&version=1"))
        .header("X-Api-Key", &uploader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/api/v1/project/lookup?name=svc&version=1"))
        .header("X-Api-Key", "cairn_not-a-token")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
}
