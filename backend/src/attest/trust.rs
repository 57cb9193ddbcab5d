//! Trust: the Sigstore public-good trusted root shipped with Cairn, plus
//! trusted roots and public keys an admin added. Verification never uses
//! the network: everything needed is in this material.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};
use sigstore_verify::crypto::KeyAlgorithm;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::DerPublicKey;
use sigstore_verify::Verifier;

/// The Sigstore public-good `trusted_root.json` (from the TUF repository
/// at tuf-repo-cdn.sigstore.dev, as shipped by sigstore-python).
pub const PUBLIC_GOOD_ROOT: &str =
    include_str!("../../trust/sigstore-python__prod_trusted_root.json");
pub const PUBLIC_GOOD_NAME: &str = "sigstore-public-good";

/// A Sigstore trusted root ready to verify with.
pub struct SigstoreRoot {
    /// The stored trust root's id; `None` for the built-in public-good root.
    pub id: Option<i64>,
    pub name: String,
    pub verifier: Verifier,
}

/// A trusted public key (cosign `--key`, managed-key bundles, DSSE).
pub struct TrustedKey {
    pub id: i64,
    pub name: String,
    pub der: DerPublicKey,
    pub algorithm: KeyAlgorithm,
}

/// Everything an upload is verified against.
pub struct TrustSet {
    pub roots: Vec<Arc<SigstoreRoot>>,
    pub keys: Vec<TrustedKey>,
}

/// Parses and checks a `trusted_root.json`, ready to verify with.
pub fn sigstore_root(json: &str) -> Result<Verifier, String> {
    let root =
        TrustedRoot::from_json(json).map_err(|e| format!("not a Sigstore trusted root: {e}"))?;
    if root.certificate_authorities.is_empty() && root.tlogs.is_empty() {
        return Err("the trusted root lists no certificate authority and no log".into());
    }
    Verifier::new(&root).map_err(|e| format!("unusable trusted root: {e}"))
}

/// Parses a PEM `PUBLIC KEY`.
pub fn public_key(pem: &str) -> Result<(DerPublicKey, KeyAlgorithm), String> {
    let der = super::cosign::pem_body(pem, "PUBLIC KEY")
        .ok_or("not a PEM public key (expected a -----BEGIN PUBLIC KEY----- block)")?;
    let der = DerPublicKey::new(der);
    let algorithm =
        KeyAlgorithm::from_spki(&der).map_err(|e| format!("unsupported public key: {e}"))?;
    Ok((der, algorithm))
}

/// `sha256:<hex>` of the DER key: how keys are named in results.
pub fn key_fingerprint(der: &DerPublicKey) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(der.as_bytes())))
}

pub fn public_good() -> Arc<SigstoreRoot> {
    static ROOT: OnceLock<Arc<SigstoreRoot>> = OnceLock::new();
    ROOT.get_or_init(|| {
        Arc::new(SigstoreRoot {
            id: None,
            name: PUBLIC_GOOD_NAME.into(),
            verifier: sigstore_root(PUBLIC_GOOD_ROOT).expect("the shipped trusted root is valid"),
        })
    })
    .clone()
}

/// A stored Sigstore root, built once per distinct document (a verifier
/// parses every certificate and key of the root).
pub fn stored_root(id: i64, name: &str, json: &str) -> Result<Arc<SigstoreRoot>, String> {
    type Cache = Mutex<HashMap<(i64, [u8; 32]), Arc<SigstoreRoot>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (id, Sha256::digest(json.as_bytes()).into());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().expect("trust cache").get(&key) {
        return Ok(hit.clone());
    }
    let root = Arc::new(SigstoreRoot {
        id: Some(id),
        name: name.to_owned(),
        verifier: sigstore_root(json)?,
    });
    cache.lock().expect("trust cache").insert(key, root.clone());
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_root_and_keys() {
        assert_eq!(public_good().name, PUBLIC_GOOD_NAME);
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/sigstore/conformance/managed-key-happy-path__key.pub"
        ))
        .unwrap();
        let (der, alg) = public_key(&pem).unwrap();
        assert!(key_fingerprint(&der).starts_with("sha256:"));
        assert_eq!(alg, KeyAlgorithm::EcdsaP256);
        assert!(public_key("nope").is_err());
        assert!(sigstore_root("{}").is_err());
    }
}
