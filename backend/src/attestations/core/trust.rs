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
    include_str!("../../../trust/sigstore-python__prod_trusted_root.json");
pub const PUBLIC_GOOD_NAME: &str = "sigstore-public-good";

/// A Sigstore trusted root ready to verify with.
pub struct SigstoreRoot {
    /// The stored trust root's id; `None` for the built-in public-good root.
    pub id: Option<i64>,
    pub name: String,
    pub verifier: Verifier,
    /// Whose certificates it may vouch for.
    pub scope: RootScope,
}

/// The OIDC issuers whose identities the public-good Sigstore certifies
/// for CI and people. A private root that issues certificates naming one
/// of them could impersonate any GitHub workflow or Google account, so it
/// vouches for them only when configured to.
pub const PUBLIC_GOOD_ISSUERS: &[&str] = &[
    "https://token.actions.githubusercontent.com",
    "https://gitlab.com",
    "https://accounts.google.com",
    "https://github.com/login/oauth",
    "https://login.microsoftonline.com",
    "https://oauth2.sigstore.dev/auth",
    "https://agent.buildkite.com",
    "https://token.actions.githubusercontent.com/",
];

/// What a trust root may vouch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootScope {
    /// OIDC issuers it may vouch for; `None`: any issuer but
    /// [`PUBLIC_GOOD_ISSUERS`].
    pub issuers: Option<Vec<String>>,
    /// Certificate SAN globs (`*` any run of characters); `None`: any.
    pub identities: Option<Vec<String>>,
    /// The public-good root itself: any issuer, any identity.
    pub any: bool,
}

impl RootScope {
    /// The public-good root's scope.
    pub fn any() -> Self {
        RootScope {
            issuers: None,
            identities: None,
            any: true,
        }
    }

    /// A stored root's scope as configured (absent lists: the defaults).
    pub fn configured(issuers: Option<Vec<String>>, identities: Option<Vec<String>>) -> Self {
        RootScope {
            issuers,
            identities,
            any: false,
        }
    }

    /// Why `root` may not vouch for this certificate; `None` when it may.
    pub fn refuses(&self, root: &str, issuer: Option<&str>, san: Option<&str>) -> Option<String> {
        if self.any {
            return None;
        }
        let issuer = issuer.unwrap_or("");
        let allowed = match &self.issuers {
            Some(list) => list.iter().any(|i| i == issuer),
            None => !PUBLIC_GOOD_ISSUERS.contains(&issuer),
        };
        if !allowed {
            return Some(match &self.issuers {
                Some(list) => format!(
                    "trust root `{root}` may vouch only for issuers {}, not {issuer}",
                    list.join(", ")
                ),
                None => format!(
                    "trust root `{root}` may not vouch for the public-good issuer {issuer} (add the root with issuers={issuer} to allow it)"
                ),
            });
        }
        let san = san.unwrap_or("");
        match &self.identities {
            Some(globs) if !globs.iter().any(|g| crate::domain::glob_match(g, san)) => {
                Some(format!(
                    "trust root `{root}` may not vouch for identity {san} (allowed: {})",
                    globs.join(", ")
                ))
            }
            _ => None,
        }
    }
}

/// A trusted public key (cosign `--key`, managed-key bundles, DSSE).
pub struct TrustedKey {
    pub id: i64,
    pub name: String,
    pub der: DerPublicKey,
    pub algorithm: KeyAlgorithm,
    /// The SLSA builder whose key this is, if it is configured as one: only
    /// then does provenance it signs earn that builder identity.
    pub builder_id: Option<String>,
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
            scope: RootScope::any(),
        })
    })
    .clone()
}

/// A stored Sigstore root, built once per distinct document (a verifier
/// parses every certificate and key of the root).
pub fn stored_root(
    id: i64,
    name: &str,
    json: &str,
    scope: RootScope,
) -> Result<Arc<SigstoreRoot>, String> {
    type Cache = Mutex<HashMap<(i64, [u8; 32]), Arc<SigstoreRoot>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (id, Sha256::digest(json.as_bytes()).into());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().expect("trust cache").get(&key) {
        if hit.scope == scope {
            return Ok(hit.clone());
        }
    }
    let root = Arc::new(SigstoreRoot {
        id: Some(id),
        name: name.to_owned(),
        verifier: sigstore_root(json)?,
        scope,
    });
    cache.lock().expect("trust cache").insert(key, root.clone());
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_scopes() {
        let gh = Some("https://token.actions.githubusercontent.com");
        let san = Some("https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1");
        assert_eq!(RootScope::any().refuses("pg", gh, san), None);
        // Default: any issuer but the public-good ones.
        let default = RootScope::configured(None, None);
        assert!(default
            .refuses("corp", gh, san)
            .unwrap()
            .contains("may not vouch for the public-good issuer"));
        assert_eq!(
            default.refuses("corp", Some("https://idp.corp.example"), san),
            None
        );
        // Configured issuers: those only; identities: globs.
        let corp = RootScope::configured(
            Some(vec!["https://token.actions.githubusercontent.com".into()]),
            Some(vec!["https://github.com/acme/*".into()]),
        );
        assert_eq!(corp.refuses("corp", gh, san), None);
        assert!(corp
            .refuses("corp", Some("https://accounts.google.com"), san)
            .is_some());
        let other = Some("https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main");
        assert!(corp
            .refuses("corp", gh, other)
            .unwrap()
            .contains("may not vouch for identity"));
    }

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
