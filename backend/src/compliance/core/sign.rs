//! Signed exports: every report answer carries its content digest and a
//! JWS (EdDSA, Ed25519) by the instance's report key over that digest, so
//! an auditor can check a downloaded report was not altered. The public key
//! is published as a JWK (`GET /api/v1/reports/signing-key`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The instance's report signing key (PKCS#8). `Debug` never shows it.
pub struct ReportKey {
    pair: Ed25519KeyPair,
    kid: String,
}

impl std::fmt::Debug for ReportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportKey({})", self.kid)
    }
}

/// A fresh PKCS#8 Ed25519 key.
pub fn generate() -> Vec<u8> {
    Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .expect("the system random source works")
        .as_ref()
        .to_vec()
}

/// The public key as a JWK.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: &'static str,
    /// `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

impl ReportKey {
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|e| e.to_string())?;
        let kid = hex::encode(&Sha256::digest(pair.public_key().as_ref())[..8]);
        Ok(ReportKey { pair, kid })
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
            kid: self.kid.clone(),
            alg: "EdDSA",
            use_: "sig",
        }
    }

    /// A compact JWS whose payload names the body's digest, its media type
    /// and what the report is.
    pub fn sign(
        &self,
        body: &[u8],
        media_type: &str,
        about: serde_json::Value,
        iat: i64,
    ) -> Signed {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(body)));
        let header = json!({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"});
        let claims = json!({
            "digest": digest,
            "media_type": media_type,
            "report": about,
            "iat": iat,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.pair.sign(signing_input.as_bytes());
        Signed {
            content_digest: format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
            ),
            digest,
            jws: format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
        }
    }
}

/// What goes into an export's headers.
pub struct Signed {
    /// RFC 9530 `Content-Digest` value.
    pub content_digest: String,
    /// `sha256:<hex>` (the JWS payload's `digest`).
    pub digest: String,
    pub jws: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_published_key_and_covers_the_digest() {
        let key = ReportKey::from_pkcs8(&generate()).unwrap();
        let s = key.sign(
            b"{\"a\":1}",
            "application/json",
            json!({"framework": "eu-cra"}),
            0,
        );
        let parts: Vec<&str> = s.jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let x = URL_SAFE_NO_PAD.decode(key.jwk().x).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x);
        let input = format!("{}.{}", parts[0], parts[1]);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public.verify(input.as_bytes(), &sig).expect("verifies");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["digest"], s.digest);
        assert_eq!(
            s.digest,
            format!("sha256:{}", hex::encode(Sha256::digest(b"{\"a\":1}")))
        );
        // Another body does not carry this signature's digest.
        let other = key.sign(b"{\"a\":2}", "application/json", json!({}), 0);
        assert_ne!(other.digest, s.digest);
        assert!(ReportKey::from_pkcs8(b"not a key").is_err());
    }
}
