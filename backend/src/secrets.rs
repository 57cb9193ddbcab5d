//! Secrets at rest. Webhook secrets (GitHub's HMAC key, GitLab's signing
//! secret) and notification signing secrets must be known in clear to
//! verify or sign, so they are sealed with ChaCha20-Poly1305 under a server
//! key: `CAIRN_SECRET_KEY`, or else a key generated once and kept in the
//! `settings` table. Imports nothing of Cairn's but `db`.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// The key that seals webhook secrets. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretKey(ChaCha20Poly1305);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        SecretKey(ChaCha20Poly1305::new(Key::from_slice(bytes)))
    }

    /// Parses the base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|e| e.decode(s).ok())
            .ok_or("is not base64")?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("decodes to {} bytes, expected 32", b.len()))?;
        Ok(Self::from_bytes(&arr))
    }

    /// Seals `secret`, bound to `context` (e.g. `github/name`): nonce || ciphertext.
    pub fn seal(&self, context: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: context.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encryption does not fail for small inputs");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what `seal` produced with the same context; None when the key
    /// or the context is wrong or the data was altered.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

/// The server's key: `CAIRN_SECRET_KEY` when set, else the one kept in
/// the database (with a warning: secrets at rest are then only as safe as
/// the database itself).
pub async fn server_key(
    pool: &sqlx::PgPool,
    configured: Option<&str>,
) -> anyhow::Result<SecretKey> {
    if let Some(b64) = configured {
        return SecretKey::from_base64(b64).map_err(|e| anyhow::anyhow!("CAIRN_SECRET_KEY {e}"));
    }
    let bytes = crate::db::random_setting(pool, "webhook_secret_key").await?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the stored webhook secret key is not 32 bytes"))?;
    tracing::warn!(
        "CAIRN_SECRET_KEY is not set: webhook secrets are sealed with a key kept in the \
         database, so they are only as safe as the database; set CAIRN_SECRET_KEY \
         (openssl rand -base64 32) before creating webhook sources"
    );
    Ok(SecretKey::from_bytes(&arr))
}

/// A new random webhook secret (shown once to the admin).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let key = SecretKey::from_bytes(&[7; 32]);
        let sealed = key.seal("github/ci", b"It's a Secret to Everybody");
        assert_eq!(
            key.open("github/ci", &sealed).unwrap(),
            b"It's a Secret to Everybody"
        );
        assert!(key.open("github/other", &sealed).is_none());
        assert!(SecretKey::from_bytes(&[8; 32])
            .open("github/ci", &sealed)
            .is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open("github/ci", &tampered).is_none());
    }

    #[test]
    fn key_from_base64() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(SecretKey::from_base64(&b64).is_ok());
        assert!(SecretKey::from_base64("AAAA").unwrap_err().contains("32"));
        assert!(SecretKey::from_base64("not base64!").is_err());
    }
}
