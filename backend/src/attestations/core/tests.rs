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
    let root = trust::stored_root(
        1,
        "custom",
        std::str::from_utf8(json).unwrap(),
        trust::RootScope::any(),
    )
    .unwrap();
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

/// One bundle-verify case of a sigstore-conformance mirror. Two layouts:
/// flat (`<case>__bundle.sigstore.json`, as in `sigstore/conformance`) and
/// upstream's own (`<case>/bundle.sigstore.json`, as in
/// `sigstore/conformance-upstream`). Either way `a.txt` sits in the mirror's
/// top directory and is the artifact of every case without its own.
struct ConformanceCase {
    name: String,
    dir: PathBuf,
    nested: bool,
}

impl ConformanceCase {
    fn path(&self, file: &str) -> PathBuf {
        if self.nested {
            self.dir.join(&self.name).join(file)
        } else {
            self.dir.join(format!("{}__{file}", self.name))
        }
    }

    fn read(&self, file: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(file)).ok()
    }

    fn must_fail(&self) -> bool {
        self.name.ends_with("_fail")
    }

    /// The trust upstream's harness would use: the case's trusted root
    /// (else the public-good root) and its `key.pub`, if any.
    fn trust(&self) -> TrustSet {
        let mut trust = match self.read("trusted_root.json") {
            Some(root) => with_root(&root),
            None => public_good_only(),
        };
        if let Some(pem) = self.read("key.pub") {
            let (der, algorithm) = trust::public_key(std::str::from_utf8(&pem).unwrap()).unwrap();
            trust.keys.push(TrustedKey {
                id: 1,
                name: "managed".into(),
                der,
                algorithm,
                builder_id: None,
            });
        }
        trust
    }

    /// As upstream: the case's `artifact`, else `a.txt` (also the subject
    /// of the DSSE cases without their own artifact).
    fn artifact_digest(&self) -> String {
        let artifact = self
            .read("artifact")
            .unwrap_or_else(|| std::fs::read(self.dir.join("a.txt")).unwrap());
        digest_of(&artifact)
    }

    fn piece(&self) -> Piece {
        one(&self.read("bundle.sigstore.json").unwrap())
    }

    /// The case verified the way upstream's harness does it.
    fn verify(&self, expect: &Expect) -> Outcome {
        verify(
            &self.piece(),
            &self.trust(),
            Some(&self.artifact_digest()),
            expect,
        )
    }
}

/// Every case of a conformance mirror, sorted by name.
fn conformance_cases(rel: &str) -> Vec<ConformanceCase> {
    let dir = fixtures().join(rel);
    let mut cases: Vec<ConformanceCase> = std::fs::read_dir(&dir)
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
        .map(|(name, nested)| ConformanceCase {
            name,
            dir: dir.clone(),
            nested,
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// A happy case Cairn cannot verify for a documented limitation (not a
/// bug): the check it must fail with, and why.
struct Unsupported {
    case: &'static str,
    check: &'static str,
    reason: &'static str,
}

/// Runs every case of a conformance mirror: `_fail` cases must be rejected
/// (with a check and a reason), the others verified with the beacon
/// identity (or the managed key), except the `unsupported` ones, which
/// must be rejected with their documented check. Returns how many passed.
fn check_conformance_dir(rel: &str, expected_cases: usize, unsupported: &[Unsupported]) -> usize {
    let cases = conformance_cases(rel);
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cases.len(), expected_cases, "{rel}: {names:?}");
    for u in unsupported {
        assert!(names.contains(&u.case), "{rel}: no case {}", u.case);
    }
    let mut passed = 0;
    for case in &cases {
        let name = &case.name;
        let out = case.verify(&Expect::default());
        if case.must_fail() {
            assert!(!out.verified, "{rel}/{name} was accepted");
            assert!(out.reason.is_some() && out.check.is_some(), "{name}");
            eprintln!(
                "{rel}/{name}: rejected ({}): {}",
                out.check.unwrap(),
                out.reason.as_ref().unwrap()
            );
        } else if let Some(u) = unsupported.iter().find(|u| u.case == name) {
            assert!(
                !out.verified,
                "{rel}/{name} now verifies: drop it from the unsupported list ({})",
                u.reason
            );
            assert_eq!(out.check, Some(u.check), "{name}: {:?}", out.reason);
            eprintln!(
                "{rel}/{name}: expected-unsupported ({}): {} -- {}",
                u.check,
                u.reason,
                out.reason.as_deref().unwrap_or("")
            );
        } else {
            assert!(
                out.verified,
                "{rel}/{name}: {:?} {:?}",
                out.check, out.reason
            );
            let id = out.identity.as_ref().unwrap();
            if case.read("key.pub").is_some() {
                assert_eq!(id.kind, "public-key", "{name}");
            } else {
                assert_eq!(id.san.as_deref(), Some(BEACON), "{name}");
                assert_eq!(id.issuer.as_deref(), Some(GITHUB_ISSUER), "{name}");
                if name.starts_with("happy-path-v0.3") {
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
                let other = case.verify(&expect);
                assert_eq!(other.check, Some("identity"), "{name}: {:?}", other.reason);
            }
            eprintln!("{rel}/{name}: verified");
        }
        passed += 1;
    }
    eprintln!("{rel} bundle-verify: {passed}/{} cases pass", cases.len());
    passed
}

/// Every bundle-verify case of the sigstore-conformance suite shipped in
/// the fixtures: `_fail` cases are rejected, the others verify with the
/// beacon identity (or the managed key).
#[test]
fn conformance_suite() {
    assert_eq!(check_conformance_dir("sigstore/conformance", 16, &[]), 16);
}

/// The upstream bundle-verify cases assembled offline in
/// `sigstore/conformance-upstream` (see its SOURCES.md), run the same way.
#[test]
fn conformance_upstream_suite() {
    let passed = check_conformance_dir(
        "sigstore/conformance-upstream",
        UPSTREAM_CASES,
        UPSTREAM_UNSUPPORTED,
    );
    assert_eq!(passed, UPSTREAM_CASES);
}

const UPSTREAM_CASES: usize = 9;
const UPSTREAM_UNSUPPORTED: &[Unsupported] = &[Unsupported {
    case: "dsse-with-hashedrekord-happy-path",
    check: "bundle",
    reason: "sigstore-verify 0.15 does not accept a DSSE envelope logged as a Rekor v1 \
             hashedrekord/0.0.1 entry (hashedrekord-over-DSSE is supported for Rekor v2 \
             hashedrekord/0.0.2 entries only)",
}];

/// Why each assembled upstream `_fail` case is rejected. The two
/// hashedrekord-over-DSSE mismatch cases are rejected only because that
/// combination is unsupported on Rekor v1 (see UPSTREAM_UNSUPPORTED), not
/// by the consistency check they target.
#[test]
fn upstream_failure_reasons() {
    let expect = [
        ("cve-2022-36056-swapped-tlog-entry_fail", "log-entry"),
        ("dsse-statement-missing-type_fail", "statement"),
        ("dsse-statement-unknown-type_fail", "statement"),
        ("dsse-with-hashedrekord-invalid-sig_fail", "signature"),
        ("dsse-with-hashedrekord-mismatch-envelope_fail", "bundle"),
        ("dsse-with-hashedrekord-mismatch-sig_fail", "bundle"),
        (
            "rekor2-multiple-timestamps-one-outside-cert-validity_fail",
            "timestamp",
        ),
    ];
    let cases = conformance_cases("sigstore/conformance-upstream");
    let failing: Vec<&str> = cases
        .iter()
        .filter(|c| c.must_fail())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failing,
        expect.map(|(c, _)| c),
        "every _fail case is listed"
    );
    for (name, check) in expect {
        let case = cases.iter().find(|c| c.name == name).unwrap();
        let out = case.verify(&Expect::default());
        assert!(!out.verified, "{name}");
        assert_eq!(out.check, Some(check), "{name}: {:?}", out.reason);
    }
    // Against its own root alone (no public-good root to report instead),
    // the two-timestamp case fails for the reason it targets.
    let case = cases
        .iter()
        .find(|c| c.name == "rekor2-multiple-timestamps-one-outside-cert-validity_fail")
        .unwrap();
    let root = case.read("trusted_root.json").unwrap();
    let own = TrustSet {
        roots: vec![trust::stored_root(
            1,
            "own",
            std::str::from_utf8(&root).unwrap(),
            trust::RootScope::any(),
        )
        .unwrap()],
        keys: vec![],
    };
    let out = verify(
        &case.piece(),
        &own,
        Some(&case.artifact_digest()),
        &Expect::default(),
    );
    // (With the public-good root trusted too, the reason reported is that
    // root's: its TSA does not know the timestamps, because a chain error
    // counts as "not this root" in `summarise`.)
    assert!(!out.verified);
    assert_eq!(out.check, Some("certificate"), "{:?}", out.reason);
    assert!(
        out.reason.as_deref().unwrap().contains("CertExpired"),
        "{:?}",
        out.reason
    );
    // An unknown statement _type is refused as such, whatever the log says.
    let unknown = cases
        .iter()
        .find(|c| c.name == "dsse-statement-unknown-type_fail")
        .unwrap()
        .verify(&Expect::default());
    assert!(
        unknown.reason.as_deref().unwrap().contains("Statement/v2"),
        "{:?}",
        unknown.reason
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
            scope: trust::RootScope::any(),
        })],
        keys: vec![TrustedKey {
            id: 7,
            name: "release key".into(),
            der: der2,
            algorithm,
            builder_id: None,
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
