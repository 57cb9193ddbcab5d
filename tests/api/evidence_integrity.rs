//! Evidence integrity through the real server: evidence counts only for the
//! digest it covers, one document counts once, and junk cannot crowd out
//! good evidence. Each attack is refused and the legitimate path shown to
//! work, with a real slsa-github-generator-style bundle (the Bazel Central
//! Registry's, signed by publish-to-bcr through the public-good Sigstore).

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{fixture, spawn_app, TestApp, ADMIN_TOKEN};

const MODULE: &str = "slsa/slsa-verifier__bcr__MODULE.bazel";
const BUNDLE: &str = "slsa/slsa-verifier__bcr__MODULE.bazel.intoto.jsonl";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn other_digest(n: u8) -> String {
    format!("sha256:{}", hex::encode([n; 32]))
}

impl TestApp {
    async fn post_attestation(&self, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let res = self
            .client
            .post(self.url(&format!("/api/v1/attestations?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .body(body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }

    async fn set(&self, rules: Value) {
        let res = self
            .client
            .post(self.url("/api/v1/policy-sets"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"name": "release", "mode": "enforce", "rules": rules}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    async fn decision(&self, digest: &str) -> Value {
        self.get_json(&format!("/api/v1/gate?digest={digest}"))
            .await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

/// The bundle's line, `n` times, as one JSON-lines upload.
fn copies(n: usize) -> Vec<u8> {
    let line = String::from_utf8(fixture(BUNDLE)).unwrap();
    let line = line.trim_end();
    vec![line; n].join("\n").into_bytes()
}

/// Class 1: a real, verified bundle whose subject is another file does not
/// make the gate allow a digest nobody signed, however the artifact got
/// that digest; an artifact without a digest never passes `signed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_counts_only_for_the_digest_it_covers() {
    let app = spawn_app().await;
    app.set(json!([{"rule": "signed"}])).await;
    let signed = digest_of(&fixture(MODULE));
    // Two documents in one upload: no single subject names the artifact,
    // which keeps no digest.
    let (status, out) = app
        .post_attestation("project=acme/forge&artifact=app&version=1", copies(2))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["verified"], true, "{out}");
    assert!(
        out["notes"][0]
            .as_str()
            .unwrap()
            .contains("the artifact has no digest yet"),
        "{out}"
    );
    // The uploader then gives the artifact a digest of its choice.
    let forged = other_digest(0xf0);
    let res = app
        .upload(
            &format!("project=acme/forge&artifact=app&version=1&digest={forged}"),
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let gate = app.decision(&forged).await;
    assert_eq!(gate["decision"], "deny", "{gate}");
    assert_eq!(gate["reasons"][0]["rule"], "signed", "{gate}");
    let artifact = gate["artifacts"][0]["id"].as_i64().unwrap();
    let ev = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/evidence"))
        .await;
    assert_eq!(
        (
            ev["signature_count"].as_i64(),
            ev["provenance_count"].as_i64()
        ),
        (Some(0), Some(0)),
        "{ev}"
    );
    // Sent again for that artifact, the answer says it does not cover it.
    let (status, out) = app
        .post_attestation("project=acme/forge&artifact=app&version=1", copies(1))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["verified"], false, "{out}");
    let reason = out["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("the artifact digest {forged} is not a subject"))
            && reason.contains(&signed),
        "{reason}"
    );
    assert_eq!(app.decision(&forged).await["decision"], "deny");
    // The legitimate path: the artifact whose digest the bundle covers.
    let (status, _) = app
        .post_attestation(
            &format!("project=acme/forge&artifact=MODULE.bazel&version=1&digest={signed}"),
            copies(1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the same document, stored once");
    assert_eq!(app.decision(&signed).await["decision"], "allow");
}

/// Class 3: the same bundle sent twice, or N copies in one JSON-lines file,
/// is one signature: stored once (200 with the stored record) and `min: 2`
/// is not met by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_document_counts_once() {
    let app = spawn_app().await;
    let signed = digest_of(&fixture(MODULE));
    let query = format!("project=acme/once&artifact=MODULE.bazel&version=1&digest={signed}");
    let (status, first) = app.post_attestation(&query, copies(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["stored"], true);
    let id = first["attestations"][0]["id"].clone();
    let (status, again) = app.post_attestation(&query, copies(1)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["stored"], false);
    assert_eq!(again["attestations"][0]["id"], id);
    let (status, many) = app.post_attestation(&query, copies(5)).await;
    assert_eq!(status, StatusCode::OK, "{many}");
    assert_eq!(many["attestations"].as_array().unwrap().len(), 1, "{many}");
    assert_eq!(
        app.count("SELECT count(*) FROM attestations WHERE verified")
            .await,
        1
    );
    app.set(json!([{"rule": "signed", "params": {"min": 2}}]))
        .await;
    let gate = app.decision(&signed).await;
    assert_eq!(gate["decision"], "deny", "{gate}");
    assert!(
        gate["reasons"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("2 verified signature(s) required, 1 found"),
        "{gate}"
    );
    // The legitimate path: one signature meets `min: 1`.
    let res = app
        .client
        .put(app.url("/api/v1/policy-sets/1"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "release", "mode": "enforce", "rules": [{"rule": "signed"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.decision(&signed).await["decision"], "allow");
}

/// A DSSE envelope naming `digest` with a signature that cannot verify.
fn junk(digest: &str, n: usize) -> String {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "MODULE.bazel", "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": format!("junk-{n}")}}
    });
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
    json!({"payloadType": "application/vnd.in-toto+json", "payload": payload,
           "signatures": [{"keyid": "", "sig": "MEUCIQDjunkjunkjunk"}]})
    .to_string()
}

/// Class 4: 501 junk envelopes naming a public digest, from another
/// project, neither crowd out the correctly signed artifact's evidence nor
/// appear in its evidence; unverified attempts are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_cannot_crowd_out_good_evidence() {
    let app = spawn_app().await;
    app.set(json!([{"rule": "signed"}, {"rule": "provenance", "params": {"require_source_match": false}}]))
        .await;
    let signed = digest_of(&fixture(MODULE));
    let (status, _) = app
        .post_attestation(
            &format!("project=bcr/rules_lint&artifact=MODULE.bazel&version=1&digest={signed}"),
            copies(1),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let lines: Vec<String> = (0..501).map(|n| junk(&signed, n)).collect();
    let (status, out) = app
        .post_attestation(
            "project=evil/crowd&artifact=junk&version=1",
            lines.join("\n").into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["verified"], false);
    assert!(
        out["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("not stored: 100 unverified attempts")),
        "{out}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM attestations WHERE NOT verified")
            .await,
        100
    );
    let gate = app.decision(&signed).await;
    assert_eq!(gate["decision"], "allow", "{gate}");
    let artifact = gate["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["project"] == "bcr/rules_lint")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let ev = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/evidence"))
        .await;
    assert_eq!(ev["provenance_count"], 1, "{ev}");
    assert_eq!(
        ev["failed_count"], 0,
        "another project's junk is not shown here"
    );
}

/// A DSSE envelope over `statement`, signed with `key` (DSSE v1 PAE).
fn key_signed_dsse(key: &sigstore_verify::crypto::KeyPair, statement: &Value) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = statement.to_string();
    let kind = "application/vnd.in-toto+json";
    let pae = format!("DSSEv1 {} {kind} {} {body}", kind.len(), body.len());
    let sig = b64.encode(key.sign(pae.as_bytes()).unwrap().as_bytes());
    json!({"payloadType": kind, "payload": b64.encode(&body),
           "signatures": [{"keyid": "", "sig": sig}]})
    .to_string()
    .into_bytes()
}

/// Class 2: provenance does not vouch for itself. Real provenance signed by
/// slsa-github-generator reaches SLSA build level 3; a statement that only
/// claims the generator as its builder, signed by a trusted key, does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provenance_earns_its_builder_and_level_from_its_signer() {
    let app = spawn_app().await;
    app.set(
        json!([{"rule": "provenance", "params": {"min_slsa_level": 3, "require_source_match": false,
        "builder_ids": ["https://github.com/slsa-framework/slsa-github-generator/*"]}}]),
    )
    .await;
    // The legitimate path: the generator's own provenance (slsa-verifier's fixture).
    let (status, out) = app
        .post_attestation(
            "",
            fixture("slsa/slsa-verifier__gha_go_v2.1.0__binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(out["verified"], true, "{out}");
    let real = out["attestations"][0]["subjects"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .upload(
            &format!("project=slsa/example&artifact=binary&version=1&digest={real}"),
            fixture("sbom/syft__TestCycloneDxImageEncoder.golden.cdx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let gate = app.decision(&real).await;
    assert_eq!(gate["decision"], "allow", "{gate}");

    // Forged: a trusted key signs a statement claiming the generator.
    let key = sigstore_verify::crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/trust-roots?name=ci%20key"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/x-pem-file")
        .body(key.public_key_der().unwrap().to_pem())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0";
    let forged = other_digest(0xf2);
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "binary", "digest": {"sha256": forged.trim_start_matches("sha256:")}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"}},
                "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/tags/v1", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}]
            },
            "runDetails": {"builder": {"id": generator}}
        }
    });
    let (status, out) = app
        .post_attestation(
            &format!("project=acme/forged&artifact=binary&version=1&digest={forged}"),
            key_signed_dsse(&key, &statement),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["verified"], true, "the key is trusted: {out}");
    let gate = app.decision(&forged).await;
    assert_eq!(gate["decision"], "deny", "{gate}");
    let reasons = gate["reasons"].to_string();
    assert!(
        reasons.contains(&format!("builder `{generator}` is self-declared")),
        "{reasons}"
    );
}

/// Class 7: a private root does not vouch for public-good identities unless
/// scoped to them, nor for identities outside its scope; the answer names
/// the root; a policy may require the public-good root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_root_vouches_only_within_its_scope() {
    let staging = fixture("sigstore/sigstore-python__staging_trusted_root.json");
    let bundle = fixture("sigstore/sigstore-python/bundle.txt.sigstore");
    let digest = digest_of(&fixture("sigstore/sigstore-python/bundle.txt"));
    let add = |app: &TestApp, query: &'static str| {
        let req = app
            .client
            .post(app.url(&format!("/api/v1/trust-roots?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(staging.clone());
        async move { req.send().await.unwrap() }
    };
    // Unscoped: the root may not vouch for GitHub's OAuth issuer.
    let app = spawn_app().await;
    assert_eq!(
        add(&app, "name=staging").await.status(),
        StatusCode::CREATED
    );
    let query = format!("project=acme/staging&artifact=bundle.txt&version=1&digest={digest}");
    let (_, out) = app.post_attestation(&query, bundle.clone()).await;
    assert_eq!(out["verified"], false, "{out}");
    assert_eq!(out["attestations"][0]["failed_check"], "trust-scope");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("trust root `staging` may not vouch for the public-good issuer https://github.com/login/oauth"),
        "{out}"
    );
    // Scoped to the issuer but to other identities: refused too.
    let app = spawn_app().await;
    let res = add(
        &app,
        "name=staging&issuers=https://github.com/login/oauth&identities=*@example.com",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, out) = app.post_attestation(&query, bundle.clone()).await;
    assert_eq!(out["verified"], false, "{out}");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("may not vouch for identity"),
        "{out}"
    );
    // The legitimate path: scoped to that issuer, it verifies, and says which root did.
    let app = spawn_app().await;
    let res = add(&app, "name=staging&issuers=https://github.com/login/oauth").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, out) = app.post_attestation(&query, bundle.clone()).await;
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(out["attestations"][0]["trusted_by"], "staging");
    // A policy written for the public-good root is not met by it.
    app.set(json!([{"rule": "signed", "params": {"identities": [{"trust_root": "sigstore-public-good"}]}}]))
        .await;
    assert_eq!(app.decision(&digest).await["decision"], "deny");
    // Scope parameters belong to Sigstore roots, `builder` to keys.
    let res = app
        .client
        .post(app.url("/api/v1/trust-roots?builder=https://example.com/b"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(fixture(
            "sigstore/sigstore-python__staging_trusted_root.json",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
