//! Attestation upload handling: `attestations::core::read` (one JSON document or JSON
//! lines; Sigstore bundle v0.1–v0.3, legacy cosign bundle, DSSE envelope,
//! detached signature), then for each piece what the upload does with it:
//! the in-toto statement parsing of DSSE payloads (`attestations::core::statement::parse`)
//! and the offline verification (`attestations::core::verify`) against the built-in
//! Sigstore public-good root and one trusted key, which parses the
//! certificates, statements and log entries of the piece. The raw input is
//! also parsed as a bare in-toto statement.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use cairn::attestations::core::{self as attest, Evidence, Expect, TrustSet, TrustedKey};
use libfuzzer_sys::fuzz_target;

/// The sigstore-conformance managed key
/// (tests/fixtures/sigstore/conformance/managed-key-happy-path__key.pub), so
/// that the public-key paths are exercised too.
const KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh
fwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==
-----END PUBLIC KEY-----";

fn trust() -> &'static TrustSet {
    static TRUST: OnceLock<TrustSet> = OnceLock::new();
    TRUST.get_or_init(|| {
        let keys = match attest::trust::public_key(KEY_PEM) {
            Ok((der, algorithm)) => vec![TrustedKey {
                id: 1,
                name: "fuzz".into(),
                der,
                algorithm,
                builder_id: Some("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0".into()),
            }],
            Err(_) => Vec::new(),
        };
        TrustSet {
            roots: vec![attest::trust::public_good()],
            keys,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    // A bare statement (what a DSSE payload decodes to).
    let _ = attest::statement::parse(data);

    let Ok(pieces) = attest::read(data) else {
        return;
    };
    for piece in &pieces {
        let _ = piece.kind.as_str();
        if let Evidence::Dsse(env) = &piece.evidence {
            if let Ok(payload) =
                base64::engine::general_purpose::STANDARD.decode(env.payload.as_bytes())
            {
                let _ = attest::statement::parse(&payload);
            }
        }
        let outcome = attest::verify(piece, trust(), None, &Expect::default());
        // Fuzzed input never carries a valid signature by a trusted signer.
        let _ = (outcome.verified, outcome.check, outcome.subjects.len());
    }
});
