//! Who is calling: API tokens (Bearer) and dashboard sessions (a signed JWT
//! in an HttpOnly cookie). Tokens are random, shown once, stored as SHA-256.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;

/// What a token may do. Ordered by privilege: each role can do everything
/// the roles before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Read, and upload evidence (for CI).
    Uploader,
    /// Also manage policy sets and waivers.
    Maintainer,
    /// Everything, including token management.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Uploader => "uploader",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "uploader" => Some(Role::Uploader),
            "maintainer" => Some(Role::Maintainer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Prefix that makes Cairn tokens recognisable to secret scanners.
pub const TOKEN_PREFIX: &str = "cairn_";

/// A new random token: 256 bits from the OS RNG.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Tokens are looked up by this hash, so the comparison happens inside a
/// unique index on a value an attacker cannot choose: no timing oracle on
/// the secret itself.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this action needs the {} role; token {:?} has {}",
                role.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }
}

/// API callers authenticate with `Authorization: Bearer <token>` only; the
/// session cookie is never accepted here, so cross-site requests cannot
/// ride on a dashboard session.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing Authorization: Bearer <token> header")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        store::tokens::authenticate(&state.pool, token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
    }
}

/// Claims of the dashboard session JWT.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Token id the session was opened with.
    pub sub: i64,
    pub iat: i64,
    pub exp: i64,
}

/// HS256 keys for dashboard sessions.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SessionKeys {
    pub fn new(secret: &[u8]) -> Self {
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(&self, token_id: i64, ttl_secs: u64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = SessionClaims {
            sub: token_id,
            iat: now,
            exp: now + ttl_secs as i64,
        };
        jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// The token id of a valid, unexpired session.
    pub fn verify(&self, jwt: &str) -> Option<i64> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        jsonwebtoken::decode::<SessionClaims>(jwt, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Admin > Role::Uploader && Role::Uploader > Role::Viewer);
        let viewer = Caller {
            token_id: 1,
            name: "v".into(),
            role: Role::Viewer,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert_eq!(viewer.require(Role::Uploader).unwrap_err().status(), 403);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() > 40);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn sessions_verify_and_reject_tampering() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef");
        let jwt = keys.issue(7, 60);
        assert_eq!(keys.verify(&jwt), Some(7));
        let other = SessionKeys::new(b"another key another key another k");
        assert_eq!(other.verify(&jwt), None);
        let mut forged = jwt.clone();
        forged.push('x');
        assert_eq!(keys.verify(&forged), None);
        let expired = {
            let claims = SessionClaims {
                sub: 7,
                iat: 0,
                exp: 1,
            };
            jsonwebtoken::encode(&Header::default(), &claims, &keys.encoding).unwrap()
        };
        assert_eq!(keys.verify(&expired), None);
    }
}
