//! Compliance reports against real evidence: a release signed with a real
//! cosign bundle (public-good Sigstore) and described by a real SBOM,
//! judged by a policy set; reports in every format, their signature, and
//! control statements.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{expect_problem, fixture, spawn_app, TestApp, ADMIN_TOKEN};

const PROJECT: &str = "acme/blob";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl TestApp {
    async fn post_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn report(&self, query: &str) -> reqwest::Response {
        self.get(&format!("/api/v1/reports/{query}"), ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
    }

    async fn report_json(&self, query: &str) -> Value {
        let res = self.report(query).await;
        assert_eq!(res.status(), StatusCode::OK, "{query}");
        res.json().await.unwrap()
    }
}

fn control<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn cited<'a>(c: &'a Value, kind: &str) -> Vec<&'a Value> {
    c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// A release with a verified signature (cosign sign-blob, Rekor-logged), an
/// SBOM and a policy set's evaluation of `signed` and `sbom-present`.
async fn signed_release(app: &TestApp) -> (String, Vec<u8>) {
    let blob = fixture("sigstore/cosign-legacy/artifact.txt");
    let digest = digest_of(&blob);
    let q = format!("project={PROJECT}&artifact=blob&version=1&digest={digest}");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/attestations?{q}")))
        .bearer_auth(ADMIN_TOKEN)
        .body(fixture(
            "sigstore/cosign-legacy/sigstore-rs__src_cosign_bundle.rs__artifact.bundle",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let sbom = fixture("sbom/guac__alpine-cyclonedx.json");
    assert_eq!(
        app.upload(&q, sbom.clone()).await.status(),
        StatusCode::CREATED
    );
    let res = app
        .post_json(
            "/api/v1/policy-sets",
            ADMIN_TOKEN,
            &json!({"name": "release", "mode": "enforce", "rules": [
                {"rule": "sbom-present"}, {"rule": "signed"}
            ]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.evaluate_queued().await;
    (digest, sbom)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frameworks_are_listed_with_their_mapping() {
    let app = spawn_app().await;
    let list = app.get_json("/api/v1/frameworks").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["nist-800-53r5", "nist-ssdf-1.1", "eu-cra"]);
    assert!(list["items"][0]["title"]
        .as_str()
        .unwrap()
        .contains("800-53"));
    let nist = app.get_json("/api/v1/frameworks/nist-800-53r5").await;
    let si7 = nist["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "si-7")
        .unwrap();
    assert_eq!(
        si7["title"],
        "Software, Firmware, and Information Integrity"
    );
    let res = app
        .get("/api/v1/frameworks/iso-27001", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 404).await;
    assert!(p["detail"].as_str().unwrap().contains("iso-27001"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_cite_the_evidence_behind_each_status_in_every_format() {
    let app = spawn_app().await;
    let (digest, sbom) = signed_release(&app).await;

    let r = app
        .report_json(&format!("nist-800-53r5?project={PROJECT}"))
        .await;
    assert_eq!(r["framework"], "nist-800-53r5");
    assert_eq!(r["scope"]["project"], PROJECT);
    assert_eq!(r["scope"]["releases"], json!(["blob@1"]));
    assert!(r["generated_at"].as_str().is_some());

    // CM-14 Signed Components: the `signed` rule passed and the signature
    // is cited with its signer and Rekor log index.
    let cm14 = control(&r, "cm-14");
    assert_eq!(cm14["status"], "satisfied", "{cm14:#}");
    let att = cited(cm14, "attestation");
    assert_eq!(att[0]["signer"], "daniel.bevenius@gmail.com");
    assert!(att[0]["rekor_log_index"].as_i64().unwrap() > 0);
    assert!(att[0]["href"]
        .as_str()
        .unwrap()
        .starts_with("/api/v1/attestations/"));
    let eval = cited(cm14, "policy-evaluation");
    assert_eq!(eval[0]["set"], "release");
    assert_eq!(eval[0]["version"], 1);
    assert!(eval[0]["evaluated_at"].as_str().is_some());

    // CM-8 System Component Inventory: the SBOM, by the digest of the
    // document uploaded.
    let cm8 = control(&r, "cm-8");
    assert_eq!(cm8["status"], "satisfied", "{cm8:#}");
    let s = cited(cm8, "sbom");
    assert_eq!(s[0]["digest"], digest_of(&sbom));
    let href = s[0]["href"].as_str().unwrap();
    let opened = app.get_json(href).await;
    assert_eq!(opened["id"], s[0]["id"], "the href opens the cited SBOM");

    // SI-7 also needs provenance, which no set evaluates: partial, and said.
    let si7 = control(&r, "si-7");
    assert_eq!(si7["status"], "partial", "{si7:#}");
    assert!(si7["summary"]
        .as_str()
        .unwrap()
        .contains("no policy set evaluates rule `provenance`"));
    // SR-3 is organisational: manual until someone states it.
    assert_eq!(control(&r, "sr-3")["status"], "manual");
    // Never satisfied without a citation.
    for c in r["controls"].as_array().unwrap() {
        if c["status"] == "satisfied" {
            assert!(!c["evidence"].as_array().unwrap().is_empty(), "{c:#}");
        }
    }

    // A release (one version) and the portfolio.
    let rel = app
        .report_json(&format!("nist-ssdf-1.1?project={PROJECT}&version=1"))
        .await;
    assert_eq!(rel["scope"]["kind"], "release");
    assert_eq!(control(&rel, "ps.2.1")["id"], "ps.2.1");
    let all = app.report_json("eu-cra").await;
    assert_eq!(all["scope"]["kind"], "portfolio");
    assert_eq!(all["scope"]["releases"], json!(["acme/blob/blob@1"]));
    // Annex I Part II (1) cites the SBOM's quality scores.
    let sbom_quality = cited(control(&all, "annex-i.2.1"), "sbom")
        .into_iter()
        .find(|e| e["href"].as_str().unwrap().ends_with("/quality"))
        .expect("the quality scores are cited");
    assert!(
        sbom_quality["summary"].as_str().unwrap().contains("NTIA"),
        "{sbom_quality}"
    );
    assert_eq!(
        app.get_json(sbom_quality["href"].as_str().unwrap()).await["sbom_id"],
        sbom_quality["id"]
    );
    // As of before anything was evaluated: nothing to cite.
    let before = app
        .report_json(&format!(
            "nist-800-53r5?project={PROJECT}&at=2020-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(before["scope"]["releases"], json!([]));
    assert_eq!(control(&before, "cm-14")["status"], "not_satisfied");

    // Every format is signed: the JWS verifies with the published key
    // (checked with jsonwebtoken, not Cairn's code) and names the body's
    // digest, which Content-Digest also carries.
    let jwk = app.get_json("/api/v1/reports/signing-key").await;
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    for (format, media) in [
        ("json", "application/json"),
        ("csv", "text/csv"),
        ("oscal", "application/json"),
        ("html", "text/html"),
    ] {
        let res = app
            .report(&format!("nist-800-53r5?project={PROJECT}&format={format}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{format}");
        let h = res.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(media),
            "{format}"
        );
        let jws = h["cairn-report-signature"].to_str().unwrap().to_owned();
        let content_digest = h["content-digest"].to_str().unwrap().to_owned();
        let body = res.bytes().await.unwrap();
        let claims = jsonwebtoken::decode::<Value>(&jws, &key, &validation)
            .unwrap_or_else(|e| panic!("{format}: {e}"))
            .claims;
        assert_eq!(claims["digest"], digest_of(&body), "{format}");
        assert_eq!(
            content_digest,
            format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body))
            )
        );
        // Altered by one byte, the body no longer has the signed digest.
        let mut altered = body.to_vec();
        altered[0] ^= 1;
        assert_ne!(claims["digest"], digest_of(&altered));
        let text = String::from_utf8(body.to_vec()).unwrap();
        match format {
            "csv" => {
                assert!(text.starts_with("framework,control,title,status,"));
                assert!(text
                    .lines()
                    .any(|l| l.starts_with("nist-800-53r5,cm-14,") && l.contains(",satisfied,")));
            }
            "html" => {
                assert!(text.contains("<table class=\"controls\">"));
                assert!(text.contains("daniel.bevenius@gmail.com"));
                assert!(!text.contains("<script"), "no script: the CSP stays strict");
            }
            "oscal" => {
                let doc: Value = serde_json::from_str(&text).unwrap();
                let ar = &doc["assessment-results"];
                assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
                let result = &ar["results"][0];
                let finding = result["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["target"]["target-id"] == "cm-14_obj")
                    .unwrap();
                assert_eq!(finding["target"]["status"]["state"], "satisfied");
                let si7 = result["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["target"]["target-id"] == "si-7_obj")
                    .unwrap();
                assert_eq!(si7["target"]["status"]["state"], "not-satisfied");
                let with_links = result["observations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|o| o["relevant-evidence"].is_array())
                    .count();
                assert!(with_links > 0);
            }
            _ => {}
        }
    }
    // compliance-trestle reads the OSCAL exports in CI (.ci/oscal-trestle).
    if let Ok(dir) = std::env::var("CAIRN_OSCAL_EXPORT_DIR") {
        for fw in ["nist-800-53r5", "nist-ssdf-1.1", "eu-cra"] {
            let res = app
                .report(&format!("{fw}?project={PROJECT}&format=oscal"))
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            std::fs::write(format!("{dir}/{fw}.json"), res.bytes().await.unwrap()).unwrap();
        }
    }
    let _ = digest;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_refuse_what_they_cannot_answer() {
    let app = spawn_app().await;
    for (query, status, says) in [
        (
            "iso-27001?project=x",
            404,
            "there is no framework `iso-27001`",
        ),
        (
            "eu-cra?project=nobody/here",
            404,
            "there is no project `nobody/here`",
        ),
        ("eu-cra?version=1", 400, "`version` needs `project`"),
        ("eu-cra?at=2999-01-01T00:00:00Z", 400, "in the future"),
        ("eu-cra?format=pdf", 400, ""),
    ] {
        let p = expect_problem(app.report(query).await, status).await;
        assert!(p["detail"].as_str().unwrap().contains(says), "{query}: {p}");
    }
    // An unknown version of a known project.
    signed_release(&app).await;
    let p = expect_problem(
        app.report(&format!("eu-cra?project={PROJECT}&version=9"))
            .await,
        404,
    )
    .await;
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("no artifact with version `9`"));
    // Without a token: 401; the signing key is public.
    let res = app
        .client
        .get(app.url("/api/v1/reports/eu-cra"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url("/api/v1/reports/signing-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_statements_settle_organisational_controls_until_they_expire() {
    let app = spawn_app().await;
    signed_release(&app).await;
    // Another project, to see organisation-wide statements reach it.
    let q = "project=acme/other&artifact=svc&version=2";
    let res = app
        .upload(q, fixture("sbom/guac__alpine-cyclonedx.json"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let maintainer = app.token("maintainer").await;
    let viewer = app.token("viewer").await;
    let body = json!({
        "framework": "nist-800-53r5", "control": "sr-3", "project": PROJECT,
        "status": "satisfied", "statement": "Supplier reviews: see procurement record PR-12",
        "expires": "2099-01-01T00:00:00Z"
    });
    // A viewer may not state; a maintainer may.
    let res = app
        .post_json("/api/v1/control-statements", &viewer, &body)
        .await;
    expect_problem(res, 403).await;
    let res = app
        .post_json("/api/v1/control-statements", &maintainer, &body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let st: Value = res.json().await.unwrap();
    assert_eq!(st["project"], PROJECT);
    assert_eq!(st["status"], "satisfied");

    let r = app
        .report_json(&format!("nist-800-53r5?project={PROJECT}"))
        .await;
    let sr3 = control(&r, "sr-3");
    assert_eq!(sr3["status"], "satisfied", "{sr3:#}");
    let cite = cited(sr3, "control-statement");
    assert_eq!(cite[0]["id"], st["id"]);
    assert_eq!(
        cite[0]["summary"],
        "Supplier reviews: see procurement record PR-12"
    );
    assert_eq!(
        app.get_json(cite[0]["href"].as_str().unwrap()).await["id"],
        st["id"]
    );
    // Only that project's reports.
    let other = app.report_json("nist-800-53r5?project=acme/other").await;
    assert_eq!(control(&other, "sr-3")["status"], "manual");

    // Organisation-wide: every project's report.
    let org = json!({
        "framework": "nist-800-53r5", "control": "sr-5", "project": null,
        "status": "partial", "statement": "Acquisition strategy covers two of three suppliers",
        "expires": "2099-12-31"
    });
    let res = app
        .post_json("/api/v1/control-statements", &maintainer, &org)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let org_st = res.json::<Value>().await.unwrap();
    assert_eq!(
        org_st["expires"], "2100-01-01T00:00:00Z",
        "a date is valid through that day"
    );
    let org_id = org_st["id"].clone();
    for p in [PROJECT, "acme/other"] {
        let r = app.report_json(&format!("nist-800-53r5?project={p}")).await;
        assert_eq!(control(&r, "sr-5")["status"], "partial", "{p}");
    }
    let list = app
        .get_json("/api/v1/control-statements?framework=nist-800-53r5&limit=1")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], org_id, "newest first");
    let next = list["next_cursor"].as_str().unwrap();
    let page2 = app
        .get_json(&format!(
            "/api/v1/control-statements?framework=nist-800-53r5&limit=1&cursor={next}"
        ))
        .await;
    assert_eq!(page2["items"][0]["id"], st["id"]);

    // Expired: back to manual, and the report says so. (Expiry is data:
    // the statement is moved into the past rather than waiting.)
    sqlx::query("UPDATE control_statements SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1")
        .bind(st["id"].as_i64().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .report_json(&format!("nist-800-53r5?project={PROJECT}"))
        .await;
    let sr3 = control(&r, "sr-3");
    assert_eq!(sr3["status"], "manual");
    assert!(
        sr3["summary"].as_str().unwrap().contains("expired"),
        "{sr3:#}"
    );

    // Withdrawn: it stops counting.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/control-statements/{org_id}")))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let r = app
        .report_json(&format!("nist-800-53r5?project={PROJECT}"))
        .await;
    assert_eq!(control(&r, "sr-5")["status"], "manual");

    // Bad statements: precise refusals, nothing stored.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM control_statements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for (patch, status, says) in [
        (json!({"control": "zz-99"}), 422, "has no control `zz-99`"),
        (
            json!({"framework": "iso-27001"}),
            404,
            "there is no framework `iso-27001`",
        ),
        (
            json!({"project": "nobody/here"}),
            404,
            "there is no project `nobody/here`",
        ),
        (json!({"statement": "  "}), 400, "must not be empty"),
        (
            json!({"expires": "2001-01-01T00:00:00Z"}),
            400,
            "not in the future",
        ),
        (json!({"status": "manual"}), 422, ""),
        (
            json!({"expires": "next tuesday"}),
            400,
            "RFC 3339 time or a date",
        ),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let res = app
            .post_json("/api/v1/control-statements", &maintainer, &b)
            .await;
        let p = expect_problem(res, status).await;
        assert!(p["detail"].as_str().unwrap().contains(says), "{patch}: {p}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM control_statements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cisa_attestation_form_is_filled_from_the_ssdf_report() {
    let app = spawn_app().await;
    signed_release(&app).await;
    let res = app
        .get(
            &format!("/api/v1/attestation-forms/cisa?project={PROJECT}"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("cairn-report-signature"));
    let form: Value = res.json().await.unwrap();
    assert_eq!(form["form"], "cisa-ssdf-attestation");
    assert_eq!(form["report"]["project"], PROJECT);
    let ssdf = app
        .report_json(&format!("nist-ssdf-1.1?project={PROJECT}"))
        .await;
    let statements = form["statements"].as_array().unwrap();
    for id in ["1", "2", "3", "4"] {
        let s = statements.iter().find(|s| s["id"] == id).unwrap();
        // Each task shows the SSDF report's status for it.
        for t in s["tasks"].as_array().unwrap() {
            let c = control(&ssdf, t["id"].as_str().unwrap());
            assert_eq!(t["status"], c["status"], "{id}: {}", t["id"]);
        }
    }
    // Statement 3 (provenance data) relates PS.3.2, whose SBOM evidence
    // this release has: the SBOM is cited.
    let s3 = statements.iter().find(|s| s["id"] == "3").unwrap();
    assert!(cited(s3, "sbom")
        .iter()
        .any(|e| e["href"].as_str().unwrap().starts_with("/api/v1/sboms/")));
    // Organisational tasks are not evidenced: the form is not ready.
    assert_eq!(form["ready"], false);
    let html = app
        .get(
            &format!("/api/v1/attestation-forms/cisa?project={PROJECT}&format=html"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = crate::support::html::Html::parse(html);
    assert!(html
        .texts("table caption")
        .contains(&"Section III — attestations".to_owned()));
    let res = app
        .get(
            "/api/v1/attestation-forms/cisa?project=nobody/here",
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_frameworks_gaps_first_and_the_trend() {
    let app = spawn_app().await;
    signed_release(&app).await;
    let session = app.sign_in(ADMIN_TOKEN).await;
    let portfolio = app.page(&session, "/ui/compliance").await;
    let links = portfolio.attrs("li a", "href");
    for id in ["nist-800-53r5", "nist-ssdf-1.1", "eu-cra"] {
        let link = format!("/ui/compliance/{id}?project=acme%2Fblob");
        assert!(links.contains(&link), "{link} not in {links:?}");
    }
    let points = portfolio.attrs("polyline.trend-line.fw-1", "points");
    assert!(
        points[0].starts_with("580.0,"),
        "today's point is drawn: {points:?}"
    );
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM compliance_snapshots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(snapshots, 3, "one per framework and day");
    app.page(&session, "/ui/compliance").await;
    let again: i64 = sqlx::query_scalar("SELECT count(*) FROM compliance_snapshots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(again, 3, "the same day is replaced, not added");

    let view = app
        .page(
            &session,
            &format!("/ui/compliance/nist-800-53r5?project={PROJECT}"),
        )
        .await;
    // Gaps first: a not-satisfied control's row comes before CM-14's (satisfied).
    let rows = view.attrs("tr[id^=control-]", "class");
    let ids = view.attrs("tr[id^=control-]", "id");
    let gap = rows
        .iter()
        .position(|c| c == "status-not_satisfied")
        .expect("a gap");
    let held = ids
        .iter()
        .position(|i| i == "control-cm-14")
        .expect("cm-14");
    assert!(gap < held, "{ids:?}");
    assert_eq!(rows[held], "status-satisfied");
    assert!(
        view.text("tr#control-cm-14")
            .contains("signer daniel.bevenius@gmail.com"),
        "the signer is one click away"
    );
    assert!(view
        .attrs("p.noprint a", "href")
        .iter()
        .any(|h| h.ends_with("format=oscal")));
    let res = app
        .client
        .get(app.url("/ui/compliance/iso-27001"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
