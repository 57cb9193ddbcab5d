//! The verifier against real documents: the sigstore-conformance
//! bundle-verify cases, sigstore-python / sigstore-js bundles, the legacy
//! cosign bundle, slsa-verifier samples, and tampered variants.

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn public_good_only() -> TrustSet {
    TrustSet {
        roots: vec![trust::public_good()],
        keys: vec![],
    }
}

fn with_root(json: &[u8]) -> TrustSet {
    let root = trust::stored_root(1, "custom", std::str::from_utf8(json).unwrap()).unwrap();
    TrustSet {
        roots: vec![root, trust::public_good()],
        keys: vec![],
    }
}

fn one(body: &[u8]) -> Piece {
    let mut pieces = read(body).unwrap();
    assert_eq!(pieces.len(), 1);
    pieces.remove(0)
}

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Every bundle-verify case of the sigstore-conformance suite shipped in
/// the fixtures: `_fail` cases are rejected, the others verify with the
/// beacon identity (or the managed key).
#[test]
fn conformance_suite() {
    let dir = fixtures().join("sigstore/conformance");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix("__bundle.sigstore.json")
                .map(str::to_owned)
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 16, "{cases:?}");
    let a_txt = std::fs::read(dir.join("a.txt")).unwrap();
    let mut passed = 0;
    for case in &cases {
        let file = |suffix: &str| dir.join(format!("{case}__{suffix}"));
        let bundle = std::fs::read(file("bundle.sigstore.json")).unwrap();
        let artifact = std::fs::read(file("artifact")).unwrap_or_else(|_| a_txt.clone());
        let mut trust = match std::fs::read(file("trusted_root.json")) {
            Ok(root) => with_root(&root),
            Err(_) => public_good_only(),
        };
        if let Ok(pem) = std::fs::read_to_string(file("key.pub")) {
            let (der, algorithm) = trust::public_key(&pem).unwrap();
            trust.keys.push(TrustedKey {
                id: 1,
                name: "managed".into(),
                der,
                algorithm,
            });
        }
        let piece = one(&bundle);
        // As upstream: the artifact file of the case, else a.txt (the DSSE
        // cases' subjects are a.txt too).
        let digest = Some(digest_of(&artifact));
        let out = verify(&piece, &trust, digest.as_deref(), &Expect::default());
        if case.ends_with("_fail") {
            assert!(!out.verified, "{case} was accepted");
            assert!(out.reason.is_some() && out.check.is_some(), "{case}");
            eprintln!(
                "{case}: rejected ({}): {}",
                out.check.unwrap(),
                out.reason.as_ref().unwrap()
            );
        } else {
            assert!(out.verified, "{case}: {:?} {:?}", out.check, out.reason);
            let id = out.identity.as_ref().unwrap();
            if case.starts_with("managed-key") {
                assert_eq!(id.kind, "public-key");
            } else {
                assert_eq!(id.san.as_deref(), Some(BEACON), "{case}");
                assert_eq!(id.issuer.as_deref(), Some(GITHUB_ISSUER), "{case}");
                if case.starts_with("happy-path-v0.3") {
                    assert_eq!(
                    id.workflow_repository.as_deref(),
                    Some("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon")
                );
                }
                // The same bundle fails an identity check for someone else.
                let expect = Expect {
                    identity: Some(
                        "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main"
                            .into(),
                    ),
                    issuer: None,
                };
                let other = verify(&piece, &trust, digest.as_deref(), &expect);
                assert_eq!(other.check, Some("identity"), "{case}: {:?}", other.reason);
            }
        }
        passed += 1;
    }
    eprintln!(
        "sigstore-conformance bundle-verify: {passed}/{} cases pass",
        cases.len()
    );
}

#[test]
fn specific_failure_reasons() {
    let dir = "sigstore/conformance";
    let a = read_fixture(&format!("{dir}/a.txt"));
    let expect = [
        ("set-invalid-signature_fail", "signed-entry-timestamp"),
        ("signature-mismatch_fail", "signature"),
        ("inclusion-proof-corrupted-hash_fail", "inclusion-proof"),
        ("wrong-hashedrekord-entry_fail", "log-entry"),
    ];
    for (case, check) in expect {
        let piece = one(&read_fixture(&format!(
            "{dir}/{case}__bundle.sigstore.json"
        )));
        let out = verify(
            &piece,
            &public_good_only(),
            Some(&digest_of(&a)),
            &Expect::default(),
        );
        assert_eq!(out.check, Some(check), "{case}: {:?}", out.reason);
    }
}

#[test]
fn sigstore_python_and_js_bundles() {
    let py = "sigstore/sigstore-python";
    let staging = read_fixture("sigstore/sigstore-python__staging_trusted_root.json");
    let trust = with_root(&staging);
    for (bundle, artifact) in [
        ("bundle.txt.sigstore", Some("bundle.txt")),
        ("bundle_v3.txt.sigstore", Some("bundle_v3.txt")),
        ("bundle_v3_alt.txt.sigstore", Some("bundle_v3_alt.txt")),
        (
            "bundle_v3_github.whl.sigstore",
            Some("bundle_v3_github.whl"),
        ),
        ("integration__Python-3.12.5.tgz.sigstore", None),
    ] {
        let piece = one(&read_fixture(&format!("{py}/{bundle}")));
        let digest = artifact.map(|a| digest_of(&read_fixture(&format!("{py}/{a}"))));
        let out = verify(&piece, &trust, digest.as_deref(), &Expect::default());
        assert!(out.verified, "{bundle}: {:?} {:?}", out.check, out.reason);
        assert!(out.identity.unwrap().san.is_some());
        assert!(out.rekor.unwrap().integrated_time.is_some());
    }
    let js = "sigstore/sigstore-js";
    let mut verified = 0;
    for entry in std::fs::read_dir(fixtures().join(js)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".sigstore") {
            continue;
        }
        let piece = one(&read_fixture(&format!("{js}/{name}")));
        let out = verify(&piece, &trust, None, &Expect::default());
        eprintln!(
            "sigstore-js {name}: verified={} {:?} {:?}",
            out.verified, out.check, out.reason
        );
        verified += out.verified as usize;
    }
    assert_eq!(verified, 9, "every sigstore-js bundle verifies");
}

#[test]
fn legacy_cosign_bundle() {
    let body =
        read_fixture("sigstore/cosign-legacy/sigstore-rs__src_cosign_bundle.rs__artifact.bundle");
    let artifact = read_fixture("sigstore/cosign-legacy/artifact.txt");
    let piece = one(&body);
    assert_eq!(piece.kind, Kind::CosignBundle);
    let out = verify(
        &piece,
        &public_good_only(),
        Some(&digest_of(&artifact)),
        &Expect::default(),
    );
    assert!(out.verified, "{:?} {:?}", out.check, out.reason);
    let id = out.identity.unwrap();
    assert_eq!(id.san.as_deref(), Some("daniel.bevenius@gmail.com"));
    assert_eq!(id.issuer.as_deref(), Some("https://github.com/login/oauth"));
    assert!(out.rekor.unwrap().log_index > 0);
    // Another artifact: rejected.
    let out = verify(
        &piece,
        &public_good_only(),
        Some(&digest_of(b"something else\n")),
        &Expect::default(),
    );
    assert!(!out.verified);
    assert_eq!(out.check, Some("artifact-digest"), "{:?}", out.reason);
}

#[test]
fn tampered_legacy_cosign_bundle() {
    let body =
        read_fixture("sigstore/cosign-legacy/sigstore-rs__src_cosign_bundle.rs__artifact.bundle");
    let digest = digest_of(&read_fixture("sigstore/cosign-legacy/artifact.txt"));
    let good: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let run = |v: &serde_json::Value| {
        verify(
            &one(v.to_string().as_bytes()),
            &public_good_only(),
            Some(&digest),
            &Expect::default(),
        )
    };
    let mut t = good.clone();
    flip_b64(&mut t, "/rekorBundle/SignedEntryTimestamp", 12);
    assert_eq!(run(&t).check, Some("signed-entry-timestamp"));
    let mut t = good.clone();
    t["rekorBundle"]["Payload"]["logIndex"] =
        (t["rekorBundle"]["Payload"]["logIndex"].as_i64().unwrap() + 1).into();
    assert_eq!(run(&t).check, Some("signed-entry-timestamp"));
    let mut t = good.clone();
    t["rekorBundle"]["Payload"]["integratedTime"] = (t["rekorBundle"]["Payload"]["integratedTime"]
        .as_i64()
        .unwrap()
        + 60)
        .into();
    assert_eq!(run(&t).check, Some("signed-entry-timestamp"));
    let mut t = good.clone();
    flip_b64(&mut t, "/base64Signature", 30);
    let out = run(&t);
    assert!(!out.verified);
    assert!(
        matches!(out.check, Some("signature") | Some("log-entry")),
        "{:?}",
        out.reason
    );
}

const BCR_SIGNER: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";

#[test]
fn slsa_verifier_samples() {
    let trust = public_good_only();
    let module = read_fixture("slsa/slsa-verifier__bcr__MODULE.bazel");
    let expect = Expect {
        identity: Some(BCR_SIGNER.into()),
        issuer: Some(GITHUB_ISSUER.into()),
    };
    let piece = one(&read_fixture(
        "slsa/slsa-verifier__bcr__MODULE.bazel.intoto.jsonl",
    ));
    let out = verify(&piece, &trust, Some(&digest_of(&module)), &expect);
    assert!(out.verified, "{:?} {:?}", out.check, out.reason);
    let prov = out.statement.unwrap().provenance.unwrap();
    assert_eq!(prov.slsa_version, statement::SLSA_V1);
    assert_eq!(prov.builder_id.as_deref(), Some(BCR_SIGNER));
    assert_eq!(
        prov.source_commit.as_deref(),
        Some("8f70009fde0c94ade6ce2a054b94718c819126ec")
    );
    assert_eq!(
        prov.source_repository.as_deref(),
        Some("https://github.com/aspect-build/rules_lint")
    );
    assert_eq!(
        prov.invocation_id.as_deref(),
        Some("https://github.com/aspect-build/rules_lint/actions/runs/14095611671/attempts/1")
    );

    // The wrong-signer variant: a valid signature by someone else.
    let wrong = one(&read_fixture(
        "slsa/slsa-verifier__bcr__MODULE-wrong-signer.bazel.intoto.jsonl",
    ));
    let module = read_fixture("slsa/slsa-verifier__bcr__MODULE-wrong-signer.bazel");
    let out = verify(&wrong, &trust, Some(&digest_of(&module)), &expect);
    assert!(!out.verified);
    assert_eq!(out.check, Some("identity"), "{:?}", out.reason);
    assert!(out.reason.unwrap().contains("identity mismatch"));

    for f in [
        "slsa/slsa-verifier__gha_go_v2.1.0__binary-linux-amd64-push-v14.2.intoto.jsonl",
        "slsa/slsa-verifier__gha_go_v2.1.0__binary-linux-amd64-workflow_dispatch.intoto.jsonl",
        "slsa/slsa-verifier__gha_container-based_v2.1.0__workflow_dispatch.intoto.build.slsa",
    ] {
        let out = verify(&one(&read_fixture(f)), &trust, None, &Expect::default());
        assert!(out.verified, "{f}: {:?} {:?}", out.check, out.reason);
        let st = out.statement.unwrap();
        let prov = st.provenance.unwrap();
        assert!(
            prov.builder_id.unwrap().contains("slsa-github-generator"),
            "{f}"
        );
        assert!(prov.source_commit.is_some(), "{f}");
        assert!(out.identity.unwrap().workflow_sha.is_some());
    }

    // slsa-github-generator v1: a bare DSSE envelope with a Fulcio
    // certificate and no log entry cannot be verified offline.
    let f = "slsa/slsa-verifier__gha_go_v1.10.0__binary-linux-amd64-workflow_dispatch.intoto.jsonl";
    let piece = one(&read_fixture(f));
    assert_eq!(piece.kind, Kind::Dsse);
    let out = verify(&piece, &trust, None, &Expect::default());
    assert!(!out.verified);
    assert_eq!(out.check, Some("transparency-log"));
    assert!(out.identity.unwrap().san.is_some());
    let prov = out.statement.unwrap().provenance.unwrap();
    assert_eq!(prov.slsa_version, statement::SLSA_V02);
    assert_eq!(
        prov.source_commit.as_deref(),
        Some("d37a7f740ee7404914456f24dcd90e865a0509e8")
    );
}

// --- tampering -------------------------------------------------------------

fn happy_v3() -> (serde_json::Value, String) {
    let body = read_fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json");
    let a = read_fixture("sigstore/conformance/a.txt");
    (serde_json::from_slice(&body).unwrap(), digest_of(&a))
}

fn flip_b64(v: &mut serde_json::Value, pointer: &str, at: usize) {
    let s = v.pointer(pointer).unwrap().as_str().unwrap();
    let mut bytes = B64.decode(s).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    *v.pointer_mut(pointer).unwrap() = serde_json::Value::String(B64.encode(bytes));
}

fn verify_value(v: &serde_json::Value, digest: &str) -> Outcome {
    let piece = one(v.to_string().as_bytes());
    verify(
        &piece,
        &public_good_only(),
        Some(digest),
        &Expect::default(),
    )
}

#[test]
fn tampering_is_rejected_with_a_precise_reason() {
    let (v, digest) = happy_v3();
    assert!(verify_value(&v, &digest).verified);

    // A flipped artifact byte.
    let mut a = read_fixture("sigstore/conformance/a.txt");
    a[0] ^= 1;
    let out = verify_value(&v, &digest_of(&a));
    assert_eq!(out.check, Some("artifact-digest"), "{:?}", out.reason);

    // A flipped signature byte.
    let mut t = v.clone();
    flip_b64(&mut t, "/messageSignature/signature", 40);
    let out = verify_value(&t, &digest);
    assert!(!out.verified);
    assert!(
        matches!(out.check, Some("signature") | Some("log-entry")),
        "{:?} {:?}",
        out.check,
        out.reason
    );

    // A flipped byte of the SET.
    let mut t = v.clone();
    flip_b64(
        &mut t,
        "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
        20,
    );
    let out = verify_value(&t, &digest);
    assert_eq!(
        out.check,
        Some("signed-entry-timestamp"),
        "{:?}",
        out.reason
    );

    // A flipped inclusion-proof hash.
    let mut t = v.clone();
    flip_b64(
        &mut t,
        "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
        5,
    );
    let out = verify_value(&t, &digest);
    assert_eq!(out.check, Some("inclusion-proof"), "{:?}", out.reason);

    // Another log index.
    let mut t = v.clone();
    let idx: u64 = t["verificationMaterial"]["tlogEntries"][0]["logIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    t["verificationMaterial"]["tlogEntries"][0]["logIndex"] = (idx + 1).to_string().into();
    let out = verify_value(&t, &digest);
    assert!(!out.verified);
    assert!(
        matches!(
            out.check,
            Some("signed-entry-timestamp") | Some("inclusion-proof") | Some("log-entry")
        ),
        "{:?} {:?}",
        out.check,
        out.reason
    );

    // A flipped byte in the certificate's signed part (its serial area).
    let mut t = v.clone();
    flip_b64(&mut t, "/verificationMaterial/certificate/rawBytes", 20);
    let out = verify_value(&t, &digest);
    assert!(!out.verified);
    assert!(
        matches!(out.check, Some("certificate") | Some("sct")),
        "{:?} {:?}",
        out.check,
        out.reason
    );
}

#[test]
fn swapped_subject_digest_is_rejected() {
    let body =
        read_fixture("sigstore/conformance/happy-path-intoto-in-dsse-v3__bundle.sigstore.json");
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let piece = one(&body);
    let out = verify(&piece, &public_good_only(), None, &Expect::default());
    assert!(out.verified, "{:?}", out.reason);
    let payload = B64
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let forged = "f".repeat(64);
    st["subject"][0]["digest"]["sha256"] = forged.clone().into();
    v["dsseEnvelope"]["payload"] = B64.encode(st.to_string()).into();
    let out = verify_value(&v, &format!("sha256:{forged}"));
    assert!(!out.verified);
    assert!(
        matches!(out.check, Some("signature") | Some("log-entry")),
        "{:?} {:?}",
        out.check,
        out.reason
    );
}

#[test]
fn detached_signature_and_bare_dsse_with_keys() {
    let keypair = sigstore_verify::crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let der = keypair.public_key_der().unwrap();
    let pem = der.to_pem();
    let artifact = b"hello cairn\n";
    let sig = keypair.sign(artifact).unwrap();
    let (der2, algorithm) = trust::public_key(&pem).unwrap();
    let trust = TrustSet {
        roots: vec![Arc::new(SigstoreRoot {
            id: None,
            name: "x".into(),
            verifier: trust::sigstore_root(trust::PUBLIC_GOOD_ROOT).unwrap(),
        })],
        keys: vec![TrustedKey {
            id: 7,
            name: "release key".into(),
            der: der2,
            algorithm,
        }],
    };
    let doc = serde_json::json!({"signature": B64.encode(sig.as_bytes()), "publicKey": pem});
    let piece = one(doc.to_string().as_bytes());
    assert_eq!(piece.kind, Kind::DetachedSignature);
    let out = verify(
        &piece,
        &trust,
        Some(&digest_of(artifact)),
        &Expect::default(),
    );
    assert!(out.verified, "{:?}", out.reason);
    assert_eq!(
        out.identity.unwrap().key_name.as_deref(),
        Some("release key")
    );
    let out = verify(
        &piece,
        &trust,
        Some(&digest_of(b"other")),
        &Expect::default(),
    );
    assert_eq!(out.check, Some("signature"));
    let untrusted = TrustSet {
        roots: vec![],
        keys: vec![],
    };
    let out = verify(
        &piece,
        &untrusted,
        Some(&digest_of(artifact)),
        &Expect::default(),
    );
    assert_eq!(out.check, Some("trust"));

    // A DSSE envelope signed with the key.
    let statement = serde_json::json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://example.com/p",
        "subject": [{"name": "a", "digest": {"sha256": hex::encode(Sha256::digest(artifact))}}], "predicate": {}});
    let payload = statement.to_string();
    let pae = sigstore_verify::types::pae("application/vnd.in-toto+json", payload.as_bytes());
    let env = serde_json::json!({"payloadType": "application/vnd.in-toto+json", "payload": B64.encode(&payload),
        "signatures": [{"keyid": "", "sig": B64.encode(keypair.sign(&pae).unwrap().as_bytes())}]});
    let out = verify(
        &one(env.to_string().as_bytes()),
        &trust,
        None,
        &Expect::default(),
    );
    assert!(out.verified, "{:?}", out.reason);
    assert_eq!(
        out.statement.unwrap().predicate_type,
        "https://example.com/p"
    );
    // Two envelopes, one per line.
    let jsonl = format!("{env}\n{env}\n");
    assert_eq!(read(jsonl.as_bytes()).unwrap().len(), 2);
}

#[test]
fn not_evidence() {
    assert!(read(b"nope").unwrap_err().malformed);
    assert!(!read(b"[1]").unwrap_err().malformed);
    assert!(
        read(br#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.9"}"#)
            .unwrap_err()
            .detail
            .contains("not supported")
    );
    assert!(read(br#"{"hello":1}"#)
        .unwrap_err()
        .detail
        .contains("not a Sigstore bundle"));
}
