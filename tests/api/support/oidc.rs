//! A test OIDC issuer: a P-256 key generated per test, its JWK Set, and
//! ID tokens signed with it from real claim shapes.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::KeyPair;
use serde_json::{json, Value};

use super::{TestApp, ADMIN_TOKEN};

pub const GITHUB: &str = "https://token.actions.githubusercontent.com";

pub struct TestIssuer {
    pub issuer: String,
    pub kid: String,
    pub jwks: Value,
    key: EncodingKey,
}

impl TestIssuer {
    pub fn new(issuer: &str, kid: &str) -> Self {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let public = pair.public_key().as_ref(); // 0x04 || x || y
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        TestIssuer {
            issuer: issuer.into(),
            kid: kid.into(),
            jwks: json!({"keys": [{
                "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                "x": b64(&public[1..33]), "y": b64(&public[33..65]),
            }]}),
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        }
    }

    /// An ID token with these claims (`iss` set to this issuer).
    pub fn sign(&self, claims: &Value) -> String {
        let mut claims = claims.clone();
        claims["iss"] = json!(self.issuer);
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    /// Configures this issuer's keys on the server (as admin).
    pub async fn register(&self, app: &TestApp) {
        let res = app
            .client
            .post(app.url("/api/v1/oidc/jwks"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"issuer": self.issuer, "jwks": self.jwks}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}

/// GitHub's documented example claims, valid now, for audience `aud`, with
/// a fresh `jti`.
pub fn github_claims(aud: &str) -> Value {
    let mut c: Value = serde_json::from_slice(&super::fixture(
        "oidc/github-docs__oidc-example-claims.json",
    ))
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    c["aud"] = json!(aud);
    c["iat"] = json!(now);
    c["nbf"] = json!(now - 5);
    c["exp"] = json!(now + 300);
    c["jti"] = json!(format!("jti-{}", rand_id()));
    c
}

pub fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed) + chrono::Utc::now().timestamp_micros() as u64
    )
}
