//! Signature verification throughput, one core.
//!
//! `cargo bench -p cairn --bench verify` verifies real keyless Sigstore
//! bundles (sigstore-conformance happy paths and slsa-github-generator
//! provenance) against the shipped public-good trusted root, with the same
//! code the upload runs (`attestations::core::read` + `attestations::core::verify`: parse, chain to
//! Fulcio, SCT, signature, Rekor entry, SET and inclusion proof against the
//! signed checkpoint), on one thread, and prints verifications per second as
//! a Markdown table (pasted into docs/performance.md, "Verification").
//! `CAIRN_BENCH_QUICK=1` runs a short check of the bench itself.

use std::time::{Duration, Instant};

use cairn::attestations::core::{self as attest, trust, Expect, TrustSet};
use sha2::{Digest, Sha256};

fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    let quick = std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1");
    let window = if quick {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(5)
    };
    let trust = TrustSet {
        roots: vec![trust::public_good()],
        keys: vec![],
    };
    let a_txt = fixture("sigstore/conformance/a.txt");
    let a_digest = format!("sha256:{}", hex::encode(Sha256::digest(&a_txt)));
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        (
            "v0.3 message signature (hashedrekord)",
            fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json"),
            Some(a_digest.clone()),
        ),
        (
            "v0.1 message signature",
            fixture("sigstore/conformance/happy-path-v0.1__bundle.sigstore.json"),
            Some(a_digest.clone()),
        ),
        (
            "v0.3 DSSE in-toto",
            fixture("sigstore/conformance/happy-path-intoto-in-dsse-v3__bundle.sigstore.json"),
            None,
        ),
        (
            "SLSA v0.2 provenance, slsa-github-generator (24 KB)",
            fixture(
                "slsa/slsa-verifier__gha_go_v2.1.0__binary-linux-amd64-push-v14.2.intoto.jsonl",
            ),
            None,
        ),
    ];
    println!("| Bundle | Verifications/s (1 core) | µs each |");
    println!("|---|---:|---:|");
    for (name, body, digest) in &cases {
        // Sanity: it verifies.
        let piece = &attest::read(body).expect("parses")[0];
        let out = attest::verify(piece, &trust, digest.as_deref(), &Expect::default());
        assert!(out.verified, "{name}: {:?}", out.reason);
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < window {
            for _ in 0..50 {
                let pieces = attest::read(std::hint::black_box(body)).expect("parses");
                let out = attest::verify(&pieces[0], &trust, digest.as_deref(), &Expect::default());
                assert!(out.verified);
                n += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "| {name} | {:.0} | {:.0} |",
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}
