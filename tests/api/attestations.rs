//! Signatures, attestations and provenance through the real server: the
//! sigstore-conformance suite, real bundles from sigstore-python,
//! sigstore-js, cosign and slsa-github-generator, tampering, trust roots,
//! evidence and the dashboard's chain of custody.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::html::Html;
use crate::support::{expect_problem, fixture, spawn_app, urlencode, TestApp, ADMIN_TOKEN};

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const BCR_SIGNER: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl TestApp {
    async fn attest(&self, query: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/attestations?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn attest_ok(&self, query: &str, body: Vec<u8>) -> Value {
        let res = self.attest(query, body).await;
        assert_eq!(res.status(), 201, "POST /api/v1/attestations?{query}");
        res.json().await.unwrap()
    }

    async fn add_trust(&self, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.add_trust_with("", content_type, body).await
    }

    /// Adds trust with query parameters (`issuers=…`, `name=…`).
    async fn add_trust_with(
        &self,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/trust-roots?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn attestation_rows(&self) -> (i64, i64, i64) {
        let q = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.pool)
                .await
                .unwrap()
        };
        (
            q("SELECT count(*) FROM attestations").await,
            q("SELECT count(*) FROM attestation_subjects").await,
            q("SELECT count(*) FROM trust_roots").await,
        )
    }
}

/// The bundle-verify cases of a conformance mirror under tests/fixtures:
/// `(case, directory holding its files, nested)`. Flat mirrors name files
/// `<case>__bundle.sigstore.json`; upstream's layout is
/// `<case>/bundle.sigstore.json`. `a.txt` sits in the mirror's top directory.
fn conformance_cases(rel: &str) -> Vec<(String, bool)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel);
    let mut cases: Vec<(String, bool)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if e.path().join("bundle.sigstore.json").is_file() {
                Some((name, true))
            } else {
                name.strip_suffix("__bundle.sigstore.json")
                    .map(|case| (case.to_owned(), false))
            }
        })
        .collect();
    cases.sort();
    cases
}

/// A file of a conformance case, if it has one.
fn case_file(rel: &str, case: &str, nested: bool, file: &str) -> Option<Vec<u8>> {
    let name = if nested {
        format!("{case}/{file}")
    } else {
        format!("{case}__{file}")
    };
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(rel)
            .join(name),
    )
    .ok()
}

/// Uploads every case of a conformance mirror to one server that trusts
/// the public-good root plus every custom root and `key.pub` the mirror
/// ships: `_fail` cases are stored unverified (never counted as
/// signatures), the others verify with the beacon identity (or a managed
/// key), except `unsupported` `(case, failed_check)` ones, stored unverified
/// with that check. Returns how many cases behaved so.
async fn conformance_dir_through_the_api(
    rel: &str,
    expected_cases: usize,
    unsupported: &[(&str, &str)],
) -> usize {
    let app = spawn_app().await;
    let cases = conformance_cases(rel);
    assert_eq!(cases.len(), expected_cases, "{rel}: {cases:?}");
    for (case, nested) in &cases {
        if let Some(root) = case_file(rel, case, *nested, "trusted_root.json") {
            // The suite's private roots certify GitHub Actions identities: a
            // root vouches for that public-good issuer only when told to.
            let res = app
                .add_trust_with(
                    "issuers=https://token.actions.githubusercontent.com",
                    "application/json",
                    root,
                )
                .await;
            assert!(res.status() == 201 || res.status() == 200, "{case}");
        }
        if let Some(key) = case_file(rel, case, *nested, "key.pub") {
            let res = app.add_trust("application/x-pem-file", key).await;
            assert!(res.status() == 201 || res.status() == 200, "{case}");
        }
    }

    let a_txt = fixture(&format!("{rel}/a.txt"));
    let mut passed = 0;
    for (case, nested) in &cases {
        let bundle = case_file(rel, case, *nested, "bundle.sigstore.json").unwrap();
        // As upstream: the case's artifact, else a.txt (also the subject of
        // the DSSE cases without their own artifact).
        let artifact = case_file(rel, case, *nested, "artifact").unwrap_or_else(|| a_txt.clone());
        let query = format!(
            "project=conformance/suite&artifact={case}&version=1&digest={}",
            digest_of(&artifact)
        );
        let out = app.attest_ok(&query, bundle).await;
        let record = &out["attestations"][0];
        let limitation = unsupported.iter().find(|(c, _)| c == case);
        if case.ends_with("_fail") || limitation.is_some() {
            assert_eq!(out["verified"], false, "{case} was accepted: {out}");
            assert!(!out["reason"].as_str().unwrap().is_empty());
            assert_eq!(record["verified"], false);
            assert!(record["failed_check"].is_string());
            if let Some((_, check)) = limitation {
                assert_eq!(record["failed_check"], *check, "{case}: {out}");
            }
            // Stored, but never counted as a signature.
            assert_failed_only(&app, record).await;
        } else {
            assert_eq!(out["verified"], true, "{case}: {out}");
            assert!(out.get("reason").is_none());
            if case_file(rel, case, *nested, "key.pub").is_some() {
                assert_eq!(out["identity"]["kind"], "public-key", "{case}");
            } else {
                assert_eq!(out["identity"]["san"], BEACON, "{case}");
                assert_eq!(out["identity"]["issuer"], GITHUB_ISSUER, "{case}");
            }
        }
        passed += 1;
    }
    eprintln!(
        "{rel} bundle-verify via the API: {passed}/{} cases pass",
        cases.len()
    );
    passed
}

/// Every case of the sigstore-conformance bundle-verify suite, uploaded to
/// one server that trusts the public-good root plus every custom root the
/// suite ships and the managed key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_through_the_api() {
    let passed = conformance_dir_through_the_api("sigstore/conformance", 16, &[]).await;
    assert_eq!(passed, 16);
}

/// The upstream bundle-verify cases assembled offline in
/// `sigstore/conformance-upstream` (see its SOURCES.md), the same way. The
/// Rekor v1 hashedrekord-over-DSSE happy path is a known limitation of
/// sigstore-verify (docs/attestations.md), stored unverified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_upstream_suite_through_the_api() {
    let passed = conformance_dir_through_the_api(
        "sigstore/conformance-upstream",
        9,
        &[("dsse-with-hashedrekord-happy-path", "bundle")],
    )
    .await;
    assert_eq!(passed, 9);
}

/// Real bundles from other clients, the legacy cosign bundle, and
/// slsa-github-generator provenance, with evidence and pending links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_bundles_provenance_and_evidence() {
    let app = spawn_app().await;

    // cosign sign-blob --bundle (legacy format, converted to v0.1).
    let artifact = fixture("sigstore/cosign-legacy/artifact.txt");
    let out = app
        .attest_ok(
            &format!(
                "project=acme/blob&artifact=blob&version=1&digest={}",
                digest_of(&artifact)
            ),
            fixture("sigstore/cosign-legacy/sigstore-rs__src_cosign_bundle.rs__artifact.bundle"),
        )
        .await;
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(out["identity"]["san"], "daniel.bevenius@gmail.com");
    assert_eq!(out["identity"]["issuer"], "https://github.com/login/oauth");
    let rec = &out["attestations"][0];
    assert_eq!(rec["kind"], "cosign-bundle");
    assert!(rec["rekor_log_index"].as_i64().unwrap() > 0);
    assert!(rec["rekor_integrated_time"]
        .as_str()
        .unwrap()
        .starts_with("2022-11-25"));

    // sigstore-python (GitHub-signed wheel), by its digest.
    let whl = fixture("sigstore/sigstore-python/bundle_v3_github.whl");
    let out = app
        .attest_ok(
            &format!(
                "project=acme/py&artifact=wheel&version=1&digest={}",
                digest_of(&whl)
            ),
            fixture("sigstore/sigstore-python/bundle_v3_github.whl.sigstore"),
        )
        .await;
    assert_eq!(out["verified"], true, "{out}");
    assert!(out["identity"]["workflow_repository"]
        .as_str()
        .unwrap()
        .starts_with("https://github.com/"));
    assert!(out["identity"]["workflow_trigger"].is_string());
    assert!(out["identity"]["workflow_sha"].is_string());

    // sigstore-js npm provenance (sha512 subject), by subject only.
    let out = app
        .attest_ok(
            "",
            fixture("sigstore/sigstore-js/bundleV03-intoto.sigstore"),
        )
        .await;
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(out["attestations"][0]["subjects"][0]["pending"], true);

    // slsa-github-generator v1 provenance for the bcr module, requiring the
    // real signer's workflow identity.
    let module = fixture("slsa/slsa-verifier__bcr__MODULE.bazel");
    let query = format!(
        "project=aspect/rules_lint&artifact=MODULE.bazel&version=1.3.1&digest={}&identity={}&issuer={}",
        digest_of(&module),
        urlencode(BCR_SIGNER),
        urlencode(GITHUB_ISSUER)
    );
    let out = app
        .attest_ok(
            &query,
            fixture("slsa/slsa-verifier__bcr__MODULE.bazel.intoto.jsonl"),
        )
        .await;
    assert_eq!(out["verified"], true, "{out}");
    let rec = &out["attestations"][0];
    let artifact_id = rec["artifact_id"].as_i64().unwrap();
    assert_eq!(rec["predicate_type"], "https://slsa.dev/provenance/v1");
    assert_eq!(rec["provenance"]["builder_id"], BCR_SIGNER);
    assert_eq!(
        rec["provenance"]["source_commit"],
        "8f70009fde0c94ade6ce2a054b94718c819126ec"
    );
    assert_eq!(
        rec["provenance"]["invocation_id"],
        "https://github.com/aspect-build/rules_lint/actions/runs/14095611671/attempts/1"
    );
    assert_eq!(rec["subjects"][0]["pending"], false);
    assert_eq!(rec["subjects"][0]["artifact_ids"], json!([artifact_id]));

    // The wrong-signer variant fails the identity check for the real signer.
    let wrong_module = fixture("slsa/slsa-verifier__bcr__MODULE-wrong-signer.bazel");
    let query = format!(
        "project=aspect/rules_lint&artifact=MODULE.bazel&version=wrong&digest={}&identity={}&issuer={}",
        digest_of(&wrong_module),
        urlencode(BCR_SIGNER),
        urlencode(GITHUB_ISSUER)
    );
    let out = app
        .attest_ok(
            &query,
            fixture("slsa/slsa-verifier__bcr__MODULE-wrong-signer.bazel.intoto.jsonl"),
        )
        .await;
    assert_eq!(out["verified"], false);
    assert_eq!(out["attestations"][0]["failed_check"], "identity");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("identity mismatch"),
        "{out}"
    );
    assert!(out["reason"].as_str().unwrap().contains(BCR_SIGNER));

    // Evidence: chain of custody of the module.
    let ev = app
        .get_json(&format!("/api/v1/artifacts/{artifact_id}/evidence"))
        .await;
    assert_eq!(ev["provenance_count"], 1, "{ev}");
    assert_eq!(ev["signature_count"], 0, "{ev}");
    // The malicious copy names the same digest: shown, as failed, with why.
    assert_eq!(ev["failed_count"], 1, "{ev}");
    assert_eq!(ev["failed"][0]["failed_check"], "identity");
    assert_eq!(ev["digest"], digest_of(&module));
    assert_eq!(
        ev["sources"][0]["commit"],
        "8f70009fde0c94ade6ce2a054b94718c819126ec"
    );
    assert_eq!(
        ev["sources"][0]["repository"],
        "https://github.com/aspect-build/rules_lint"
    );
    assert_eq!(ev["ci_runs"], json!([]));
    // A CI run record (from webhooks) of that run links into the chain.
    sqlx::query(
        "INSERT INTO ci_runs (provider, provider_run_id, repository, workflow_name, head_sha, conclusion)
         VALUES ('github', 14095611671, 'aspect-build/rules_lint', 'Release',
                 '8f70009fde0c94ade6ce2a054b94718c819126ec', 'success')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let ev = app
        .get_json(&format!("/api/v1/artifacts/{artifact_id}/evidence"))
        .await;
    assert_eq!(ev["ci_runs"][0]["provider_run_id"], 14095611671i64);
    assert_eq!(ev["ci_runs"][0]["workflow_name"], "Release");
    let by = app
        .get_json(&format!(
            "/api/v1/artifacts/by-digest/{}",
            digest_of(&module)
        ))
        .await;
    assert_eq!(by[0]["id"], artifact_id);
    let ev2 = app
        .get_json(&format!(
            "/api/v1/artifacts/by-digest/{}/evidence",
            digest_of(&module)
        ))
        .await;
    assert_eq!(ev2["provenance"][0]["id"], ev["provenance"][0]["id"]);

    // Provenance by subject digest only: a pending link, then resolved
    // when an artifact with that digest appears.
    let gha = fixture(
        "slsa/slsa-verifier__gha_go_v2.1.0__binary-linux-amd64-workflow_dispatch.intoto.jsonl",
    );
    let out = app.attest_ok("", gha).await;
    assert_eq!(out["verified"], true, "{out}");
    let rec = &out["attestations"][0];
    assert_eq!(rec["artifact_id"], Value::Null);
    assert_eq!(rec["subjects"][0]["pending"], true);
    let subject = rec["subjects"][0]["digest"].as_str().unwrap().to_owned();
    assert_eq!(
        rec["provenance"]["builder_id"],
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0"
    );
    let pending = app.get_json("/api/v1/attestations?pending=true").await;
    assert!(pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == rec["id"]));
    // Found by digest before any artifact has it.
    let ev = app
        .get_json(&format!("/api/v1/artifacts/by-digest/{subject}/evidence"))
        .await;
    assert_eq!(ev["provenance_count"], 1);
    assert_eq!(ev["artifacts"], json!([]));
    let res = app
        .get(
            &format!("/api/v1/artifacts/by-digest/{subject}"),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    // The artifact appears (with an SBOM upload); the link resolves.
    let sbom = fixture("sbom/syft__TestCycloneDxImageEncoder.golden.cdx.json");
    let res = app
        .upload(
            &format!("project=slsa/example&artifact=binary&version=1&digest={subject}"),
            sbom,
        )
        .await;
    assert_eq!(res.status(), 201);
    let again = app
        .get_json(&format!("/api/v1/attestations/{}", rec["id"]))
        .await;
    assert_eq!(again["subjects"][0]["pending"], false);
    let ev = app
        .get_json(&format!("/api/v1/artifacts/by-digest/{subject}/evidence"))
        .await;
    assert_eq!(ev["provenance_count"], 1);
    assert_eq!(ev["sboms"].as_array().unwrap().len(), 1);

    // slsa-github-generator v1 bare DSSE: stored, not verified, and why.
    let out = app
        .attest_ok("", fixture("slsa/slsa-verifier__gha_go_v1.10.0__binary-linux-amd64-workflow_dispatch.intoto.jsonl"))
        .await;
    assert_eq!(out["verified"], false);
    assert_eq!(out["attestations"][0]["failed_check"], "transparency-log");
    assert!(out["identity"]["san"].is_string());

    // The dashboard draws the chain.
    let session = app.sign_in(ADMIN_TOKEN).await;
    let html = app
        .client
        .get(app.url(&format!("/ui/artifacts/{artifact_id}")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = Html::parse(html);
    html.assert_csp_clean("the artifact page");
    // Each step of the chain, with its state (ok or missing).
    let steps: Vec<(String, String)> = html
        .attrs("ol.chain li.step", "class")
        .into_iter()
        .zip(html.texts("ol.chain li.step"))
        .collect();
    let step = |title: &str| {
        steps
            .iter()
            .find(|(_, text)| text.starts_with(title))
            .unwrap_or_else(|| panic!("no step {title}: {steps:?}"))
            .clone()
    };
    let (class, source) = step("Source commit");
    assert_eq!(class, "step ok");
    assert!(
        source.contains("8f70009fde0c94ade6ce2a054b94718c819126ec"),
        "{source}"
    );
    assert_eq!(step("Provenance").0, "step ok");
    assert!(html
        .texts("table#verified tbody td:nth-child(4)")
        .iter()
        .any(|w| w.contains("publish-to-bcr")));
    let wrong_id = app.get_json("/api/v1/artifacts?q=wrong").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let html = app
        .client
        .get(app.url(&format!("/ui/artifacts/{wrong_id}")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = Html::parse(html);
    assert!(html
        .text("table#failed caption")
        .starts_with("Failed verification ("));
    assert!(html
        .text("table#failed tbody")
        .contains("identity mismatch"));
}

fn flip_b64(v: &mut Value, pointer: &str, at: usize) {
    let s = v.pointer(pointer).unwrap().as_str().unwrap();
    let mut bytes = B64.decode(s).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    *v.pointer_mut(pointer).unwrap() = Value::String(B64.encode(bytes));
}

/// Tampered uploads are stored as failed attempts with a precise reason and
/// never count as signatures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bundles_are_rejected_with_a_precise_reason() {
    let app = spawn_app().await;
    let body = fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json");
    let good: Value = serde_json::from_slice(&body).unwrap();
    let a = fixture("sigstore/conformance/a.txt");
    let q = |v: &str, d: &str| format!("project=acme/tamper&artifact=a.txt&version={v}&digest={d}");

    let out = app
        .attest_ok(&q("good", &digest_of(&a)), body.clone())
        .await;
    assert_eq!(out["verified"], true, "{out}");

    let mut flipped = a.clone();
    flipped[3] ^= 1;
    let out = app
        .attest_ok(&q("artifact", &digest_of(&flipped)), body.clone())
        .await;
    assert_eq!(
        out["attestations"][0]["failed_check"], "artifact-digest",
        "{out}"
    );

    type Tamper = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tamper, Vec<&str>)> = vec![
        (
            "signature",
            Box::new(|v| flip_b64(v, "/messageSignature/signature", 40)),
            vec!["signature", "log-entry"],
        ),
        (
            "set",
            Box::new(|v| {
                flip_b64(
                    v,
                    "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
                    20,
                )
            }),
            vec!["signed-entry-timestamp"],
        ),
        (
            "proof",
            Box::new(|v| {
                flip_b64(
                    v,
                    "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
                    5,
                )
            }),
            vec!["inclusion-proof"],
        ),
        (
            "index",
            Box::new(|v| {
                let e = &mut v["verificationMaterial"]["tlogEntries"][0];
                let n: u64 = e["logIndex"].as_str().unwrap().parse().unwrap();
                e["logIndex"] = (n + 1).to_string().into();
            }),
            vec!["signed-entry-timestamp", "inclusion-proof", "log-entry"],
        ),
        (
            "certificate",
            Box::new(|v| flip_b64(v, "/verificationMaterial/certificate/rawBytes", 20)),
            vec!["certificate", "sct"],
        ),
    ];
    for (name, tamper, checks) in cases {
        let mut t = good.clone();
        tamper(&mut t);
        let out = app
            .attest_ok(&q(name, &digest_of(&a)), t.to_string().into_bytes())
            .await;
        let rec = &out["attestations"][0];
        assert_eq!(out["verified"], false, "{name}");
        let check = rec["failed_check"].as_str().unwrap();
        assert!(
            checks.contains(&check),
            "{name}: {check}: {}",
            out["reason"]
        );
        assert!(out["reason"].as_str().unwrap().len() > 10);
    }

    // A swapped subject digest in a DSSE attestation.
    let dsse = fixture("sigstore/conformance/happy-path-intoto-in-dsse-v3__bundle.sigstore.json");
    let mut v: Value = serde_json::from_slice(&dsse).unwrap();
    let mut st: Value = serde_json::from_slice(
        &B64.decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let forged = format!("sha256:{}", "e".repeat(64));
    st["subject"][0]["digest"]["sha256"] = "e".repeat(64).into();
    v["dsseEnvelope"]["payload"] = B64.encode(st.to_string()).into();
    let out = app
        .attest_ok(&q("subject", &forged), v.to_string().into_bytes())
        .await;
    assert_eq!(out["verified"], false);
    let check = out["attestations"][0]["failed_check"].as_str().unwrap();
    assert!(
        ["signature", "log-entry"].contains(&check),
        "{check}: {}",
        out["reason"]
    );

    // None of it is a signature.
    let good_id = app.get_json("/api/v1/artifacts?q=good").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get_json(&format!("/api/v1/artifacts/{good_id}/evidence"))
            .await["signature_count"],
        1
    );
    let failed = app
        .get_json("/api/v1/attestations?verified=false&limit=500")
        .await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 7);
    for item in failed["items"].as_array().unwrap() {
        assert_failed_only(&app, item).await;
    }
}

/// The attempt is in its artifact's evidence as failed, never as a
/// signature or provenance.
async fn assert_failed_only(app: &TestApp, record: &Value) {
    let ev = app
        .get_json(&format!(
            "/api/v1/artifacts/{}/evidence",
            record["artifact_id"]
        ))
        .await;
    let ids = |k: &str| -> Vec<Value> {
        ev[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    assert!(ids("failed").contains(&record["id"]), "{ev}");
    assert!(!ids("signatures").contains(&record["id"]));
    assert!(!ids("provenance").contains(&record["id"]));
    assert_eq!(
        ev["signature_count"].as_u64().unwrap() as usize,
        ids("signatures").len()
    );
}

/// Trust roots and keys; detached signatures (cosign sign-blob --key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_roots_keys_and_detached_signatures() {
    let app = spawn_app().await;
    let list = app.get_json("/api/v1/trust-roots").await["items"].clone();
    assert_eq!(list[0]["name"], "sigstore-public-good");
    assert_eq!(list[0]["builtin"], true);

    // Managed-key bundle before its key is trusted: stored, not verified.
    let bundle = fixture("sigstore/conformance/managed-key-happy-path__bundle.sigstore.json");
    let a = fixture("sigstore/conformance/a.txt");
    let query = format!(
        "project=acme/keys&artifact=a&version=1&digest={}",
        digest_of(&a)
    );
    let out = app.attest_ok(&query, bundle.clone()).await;
    assert_eq!(out["verified"], false);
    assert_eq!(out["attestations"][0]["failed_check"], "trust");

    let pem = fixture("sigstore/conformance/managed-key-happy-path__key.pub");
    let res = app.add_trust("application/x-pem-file", pem.clone()).await;
    assert_eq!(res.status(), 201);
    let key: Value = res.json().await.unwrap();
    assert_eq!(key["kind"], "public-key");
    assert_eq!(
        app.add_trust("application/x-pem-file", pem).await.status(),
        200
    );
    let out = app.attest_ok(&query, bundle).await;
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(out["identity"]["kind"], "public-key");
    assert_eq!(out["identity"]["key_name"], key["name"]);

    // A detached signature made with a trusted key.
    let keypair = sigstore_verify::crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let pub_pem = keypair.public_key_der().unwrap().to_pem();
    let blob = b"release tarball\n";
    let sig = B64.encode(keypair.sign(blob).unwrap().as_bytes());
    let doc = json!({"signature": sig, "publicKey": pub_pem})
        .to_string()
        .into_bytes();
    let query = format!(
        "project=acme/keys&artifact=tarball&version=1&digest={}",
        digest_of(blob)
    );
    let out = app.attest_ok(&query, doc.clone()).await;
    assert_eq!(out["verified"], false, "an untrusted key proves nothing");
    assert_eq!(out["attestations"][0]["failed_check"], "trust");
    let res = app
        .client
        .post(app.url("/api/v1/trust-roots?name=release%20key"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/x-pem-file")
        .body(pub_pem.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let out = app.attest_ok(&query, doc.clone()).await;
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(out["identity"]["key_name"], "release key");
    let other = format!(
        "project=acme/keys&artifact=tarball&version=2&digest={}",
        digest_of(b"other")
    );
    let out = app.attest_ok(&other, doc).await;
    assert_eq!(out["attestations"][0]["failed_check"], "signature");

    // A Sigstore root (staging) lets staging bundles verify.
    // (Its certificates name GitHub's OAuth issuer, which only the
    // public-good root vouches for unless the root is scoped to it.)
    let staging = fixture("sigstore/sigstore-python__staging_trusted_root.json");
    let res = app
        .add_trust_with(
            "issuers=https://github.com/login/oauth",
            "application/json",
            staging,
        )
        .await;
    assert_eq!(res.status(), 201);
    let root: Value = res.json().await.unwrap();
    assert_eq!(root["issuers"], json!(["https://github.com/login/oauth"]));
    // One at a time: the built-in root opens the first page.
    let list = app.all_pages("/api/v1/trust-roots", 1).await;
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["builtin"], true);
    let ids: Vec<i64> = list[1..]
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let txt = fixture("sigstore/sigstore-python/bundle.txt");
    let out = app
        .attest_ok(
            &format!("digest={}", digest_of(&txt)),
            fixture("sigstore/sigstore-python/bundle.txt.sigstore"),
        )
        .await;
    assert_eq!(out["verified"], true, "{out}");
}

/// Bad input: a precise 4xx and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_stores_nothing() {
    let app = spawn_app().await;
    let before = (app.counts().await, app.attestation_rows().await);
    let bundle = fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json");

    let p = expect_problem(app.attest("", b"{not json".to_vec()).await, 400).await;
    assert_eq!(p["type"], "urn:cairn:problem:malformed-json");
    let p = expect_problem(app.attest("", br#"{"hello": 1}"#.to_vec()).await, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-attestation");
    let p = expect_problem(
        app.attest(
            "",
            br#"{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.9"}"#.to_vec(),
        )
        .await,
        422,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("not supported"));
    let p = expect_problem(app.attest("", b"nope\n{\"a\":1}\n".to_vec()).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("line 1"), "{p}");
    expect_problem(app.attest("project=acme/x", bundle.clone()).await, 400).await;
    expect_problem(app.attest("digest=sha256:abc", bundle.clone()).await, 400).await;
    expect_problem(app.attest("", Vec::new()).await, 400).await;

    // Roles.
    let viewer = app.token("viewer").await;
    let res = app
        .client
        .post(app.url("/api/v1/attestations"))
        .bearer_auth(&viewer)
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    let res = app
        .client
        .post(app.url("/api/v1/attestations"))
        .body(bundle.clone())
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;
    let uploader = app.token("uploader").await;
    let res = app
        .client
        .post(app.url("/api/v1/trust-roots"))
        .bearer_auth(&uploader)
        .header("content-type", "application/json")
        .body(fixture(
            "sigstore/sigstore-python__staging_trusted_root.json",
        ))
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;

    // Unusable trust.
    expect_problem(app.add_trust("application/json", b"{}".to_vec()).await, 422).await;
    expect_problem(
        app.add_trust(
            "application/x-pem-file",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".to_vec(),
        )
        .await,
        422,
    )
    .await;
    expect_problem(app.add_trust("text/plain", b"x".to_vec()).await, 415).await;

    // Unknown things.
    let res = app
        .get("/api/v1/attestations/999", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get("/api/v1/artifacts/999/evidence", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    let res = app
        .get(
            "/api/v1/artifacts/by-digest/sha256:xyz/evidence",
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .get(
            &format!(
                "/api/v1/artifacts/by-digest/sha256:{}/evidence",
                "0".repeat(64)
            ),
            ADMIN_TOKEN,
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    assert_eq!((app.counts().await, app.attestation_rows().await), before);

    // A digest that contradicts the recorded one: 409, nothing stored.
    let a = fixture("sigstore/conformance/a.txt");
    let ok = app
        .attest_ok(
            &format!(
                "project=acme/x&artifact=a&version=1&digest={}",
                digest_of(&a)
            ),
            bundle.clone(),
        )
        .await;
    assert_eq!(ok["verified"], true);
    let mid = (app.counts().await, app.attestation_rows().await);
    let res = app
        .attest(
            &format!(
                "project=acme/x&artifact=a&version=1&digest=sha256:{}",
                "1".repeat(64)
            ),
            bundle,
        )
        .await;
    expect_problem(res, 409).await;
    assert_eq!((app.counts().await, app.attestation_rows().await), mid);
    assert_ne!(before, mid);
}
