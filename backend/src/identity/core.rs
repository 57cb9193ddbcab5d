//! Who is calling: API tokens (Bearer) and dashboard sessions (a signed JWT
//! in an HttpOnly cookie, whose id is recorded server-side so that sign-out
//! and token revocation end it). Tokens are random, shown once, stored as
//! SHA-256.

use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

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
    /// The projects the token may write to (exact names or `*` globs), for
    /// tokens minted by a trusted publisher; `None`: every project.
    pub projects: Option<Vec<String>>,
}

impl Caller {
    /// The caller has `role`. A project-scoped token passes only for
    /// reading: any write must name its project ([`Caller::require_for`]),
    /// so an endpoint that forgets to fails closed.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        self.require_role(role)?;
        match &self.projects {
            Some(projects) if role > Role::Viewer => Err(ApiError::forbidden(format!(
                "token {:?} may only write to the projects {}; this action is not tied to one of them",
                self.name,
                projects.join(", ")
            ))),
            _ => Ok(()),
        }
    }

    /// The caller has `role` and may act on `project`.
    pub fn require_for(&self, role: Role, project: &str) -> ApiResult<()> {
        self.require_role(role)?;
        match &self.projects {
            Some(projects) if !projects.iter().any(|p| glob_match(p, project)) => {
                Err(ApiError::forbidden(format!(
                    "token {:?} may only write to the projects {}, not {project:?}",
                    self.name,
                    projects.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// The caller has `role`, whatever its project scope: only for a
    /// handler that learns the project later (from the body) and then calls
    /// [`Caller::require_for`] before writing.
    pub fn require_role(&self, role: Role) -> ApiResult<()> {
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

/// `pattern` matches `value` exactly, `*` standing for any run of
/// characters (`/` included): `acme/*`, `*-api`, `refs/tags/v*`.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == value;
    };
    let Some(mut tail) = value.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or_default();
    for part in parts {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

/// Claims of the dashboard session JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Token id the session was opened with.
    pub sub: i64,
    /// The session's id, recorded server-side (table `sessions`): the cookie
    /// is honoured only while that record is neither expired nor revoked.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// A new random session id: 128 bits from the OS RNG.
pub fn generate_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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

    /// A signed session for `token_id` with a fresh id (`jti`), and its
    /// claims: the caller records the session before handing out the JWT.
    pub fn issue(&self, token_id: i64, ttl_secs: u64) -> (String, SessionClaims) {
        let now = chrono::Utc::now().timestamp();
        let claims = SessionClaims {
            sub: token_id,
            jti: generate_session_id(),
            iat: now,
            exp: now + ttl_secs as i64,
        };
        let jwt = jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail");
        (jwt, claims)
    }

    /// The claims of a well-signed, unexpired session JWT. Whether the
    /// session is still open is for the `sessions` table to say
    /// (`identity::store::session_caller`).
    pub fn verify(&self, jwt: &str) -> Option<SessionClaims> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        jsonwebtoken::decode::<SessionClaims>(jwt, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
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
            projects: None,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert_eq!(viewer.require(Role::Uploader).unwrap_err().status(), 403);
    }

    #[test]
    fn scoped_tokens_write_only_to_their_projects() {
        let ci = Caller {
            token_id: 2,
            name: "oidc".into(),
            role: Role::Uploader,
            projects: Some(vec!["acme/payments-api".into(), "tools/*".into()]),
        };
        assert!(ci.require(Role::Viewer).is_ok());
        assert!(ci.require_for(Role::Uploader, "acme/payments-api").is_ok());
        assert!(ci.require_for(Role::Uploader, "tools/lint").is_ok());
        // Writes not tied to a project, another project, a higher role: no.
        assert_eq!(ci.require(Role::Uploader).unwrap_err().status(), 403);
        assert_eq!(
            ci.require_for(Role::Uploader, "acme/other")
                .unwrap_err()
                .status(),
            403
        );
        assert_eq!(
            ci.require_for(Role::Maintainer, "tools/lint")
                .unwrap_err()
                .status(),
            403
        );
        let admin = Caller {
            projects: None,
            role: Role::Admin,
            ..ci
        };
        assert!(
            admin.require(Role::Admin).is_ok() && admin.require_for(Role::Uploader, "x").is_ok()
        );
    }

    #[test]
    fn globs_match_whole_values() {
        for (p, v) in [
            ("acme/api", "acme/api"),
            ("acme/*", "acme/api"),
            ("acme/*", "acme/a/b"),
            ("*-api", "payments-api"),
            ("refs/tags/v*", "refs/tags/v1.2.3"),
            ("a*b*c", "a-b-c"),
            ("*", ""),
            ("a*a", "aa"),
        ] {
            assert!(glob_match(p, v), "{p} {v}");
        }
        for (p, v) in [
            ("acme/api", "acme/api2"),
            ("acme/*", "acme"),
            ("acme/*", "other/acme/x"),
            ("*-api", "payments-api-2"),
            ("a*a", "a"),
            ("a*b*c", "a-c-b"),
        ] {
            assert!(!glob_match(p, v), "{p} {v}");
        }
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
        let (jwt, issued) = keys.issue(7, 60);
        let claims = keys.verify(&jwt).unwrap();
        assert_eq!((claims.sub, &claims.jti), (7, &issued.jti));
        // Every session has its own id.
        assert_ne!(keys.issue(7, 60).1.jti, issued.jti);
        assert!(issued.jti.len() >= 22);
        let other = SessionKeys::new(b"another key another key another k");
        assert!(other.verify(&jwt).is_none());
        let mut forged = jwt.clone();
        forged.push('x');
        assert!(keys.verify(&forged).is_none());
        let expired = {
            let claims = SessionClaims {
                sub: 7,
                jti: "x".into(),
                iat: 0,
                exp: 1,
            };
            jsonwebtoken::encode(&Header::default(), &claims, &keys.encoding).unwrap()
        };
        assert!(keys.verify(&expired).is_none());
        // A session signed before sessions had ids (no jti) is no session.
        let legacy = jsonwebtoken::encode(
            &Header::default(),
            &serde_json::json!({"sub": 7, "iat": 0, "exp": 4102444800i64}),
            &keys.encoding,
        )
        .unwrap();
        assert!(keys.verify(&legacy).is_none());
    }
}
