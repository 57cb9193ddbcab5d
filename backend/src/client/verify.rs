//! `cairn verify --bundle B --artifact FILE`: the server's offline
//! verification (`crate::attestations::core`) on local files, against the same
//! shipped Sigstore public-good root plus any roots and keys given.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::output::{EXIT_OK, EXIT_REFUSED};
use super::{done, ClientError, VerifyArgs};
use crate::attestations::core::{
    self as attest, trust, Expect, RootScope, SigstoreRoot, TrustSet, TrustedKey,
};

pub async fn verify(args: VerifyArgs) -> i32 {
    // CPU-bound and synchronous: no need for the runtime's threads.
    done(tokio::task::block_in_place(|| run(&args)), "verify")
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path)
        .map_err(|e| ClientError::new(format!("cannot read {}: {e}", path.display())))
}

fn trust_set(args: &VerifyArgs) -> Result<TrustSet, ClientError> {
    let mut set = TrustSet {
        roots: vec![trust::public_good()],
        keys: Vec::new(),
    };
    for p in &args.trusted_roots {
        let json = String::from_utf8(read(p)?)
            .map_err(|_| ClientError::new(format!("{} is not UTF-8", p.display())))?;
        let verifier = trust::sigstore_root(&json)
            .map_err(|e| ClientError::new(format!("{}: {e}", p.display())))?;
        set.roots.push(std::sync::Arc::new(SigstoreRoot {
            id: None,
            name: p.display().to_string(),
            verifier,
            // Given on the command line for this check: trusted as given.
            scope: RootScope::any(),
        }));
    }
    for (n, p) in args.keys.iter().enumerate() {
        let pem = String::from_utf8(read(p)?)
            .map_err(|_| ClientError::new(format!("{} is not UTF-8", p.display())))?;
        let (der, algorithm) = trust::public_key(&pem)
            .map_err(|e| ClientError::new(format!("{}: {e}", p.display())))?;
        set.keys.push(TrustedKey {
            id: n as i64 + 1,
            name: p.display().to_string(),
            der,
            algorithm,
            builder_id: None,
        });
    }
    Ok(set)
}

fn run(args: &VerifyArgs) -> Result<i32, ClientError> {
    let bundle = read(&args.bundle)?;
    let pieces = attest::read(&bundle)
        .map_err(|e| ClientError::new(format!("{}: {}", args.bundle.display(), e.detail)))?;
    let mut f = std::fs::File::open(&args.artifact)
        .map_err(|e| ClientError::new(format!("cannot read {}: {e}", args.artifact.display())))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher)
        .map_err(|e| ClientError::new(format!("cannot read {}: {e}", args.artifact.display())))?;
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    let trust = trust_set(args)?;
    let expect = Expect {
        identity: args.identity.clone(),
        issuer: args.issuer.clone(),
    };
    println!("artifact {} {digest}", args.artifact.display());
    let mut all = true;
    for (n, piece) in pieces.iter().enumerate() {
        let at = if pieces.len() > 1 {
            format!("line {}: ", n + 1)
        } else {
            String::new()
        };
        let out = attest::verify(piece, &trust, Some(&digest), &expect);
        // Verified, but for another artifact: not evidence for this one.
        let not_covering = out
            .verified
            .then(|| crate::attestations::core::coverage_note(Some(&digest), &out.subjects))
            .flatten();
        if !out.verified || not_covering.is_some() {
            all = false;
            let why = not_covering
                .or_else(|| {
                    out.reason
                        .as_ref()
                        .map(|r| format!("{}: {r}", out.check.unwrap_or("verification")))
                })
                .unwrap_or_else(|| "did not verify".into());
            println!("✗ {at}{} NOT verified: {why}", piece.kind.as_str());
            continue;
        }
        println!(
            "✓ {at}{} verified by {}",
            piece.kind.as_str(),
            out.trusted_by.as_deref().unwrap_or("?")
        );
        if let Some(id) = &out.identity {
            let who = id.san.as_deref().or(id.key_name.as_deref()).unwrap_or("?");
            match &id.issuer {
                Some(iss) => println!("  signer: {who} (issuer {iss})"),
                None => println!("  signer: {who}"),
            }
        }
        if let Some(r) = &out.rekor {
            match r.integrated_time {
                Some(t) => println!(
                    "  rekor:  {} entry, log index {}, integrated {t}",
                    r.kind, r.log_index
                ),
                None => println!("  rekor:  {} entry, log index {}", r.kind, r.log_index),
            }
        }
        if let Some(st) = &out.statement {
            println!("  statement: {}", st.predicate_type);
        }
        let covers: Vec<&str> = out.subjects.iter().map(|s| s.digest.as_str()).collect();
        println!("  covers: {}", covers.join(", "));
    }
    Ok(if all { EXIT_OK } else { EXIT_REFUSED })
}
