//! Verifying a CI pipeline's OIDC ID token: its issuer's key, the algorithm
//! allow-list, the time claims against an injected `now`. Which publisher
//! the verified claims satisfy is `super::publisher`'s question.

use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::Refusal;

/// Longer is no ID token (GitHub's are about 1.2 KB, GitLab's 1.5 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: i64 = 60;
/// An issuer's key set holds at most this many keys.
pub const MAX_KEYS: usize = 32;
/// RSA keys shorter than this are refused.
const MIN_RSA_BITS: usize = 2048;

/// What an unverified token says about itself: only used to pick the
/// issuer's keys and publishers, and to label an audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct Unverified {
    pub issuer: String,
    pub subject: Option<String>,
}

/// Reads the issuer of a token without trusting anything in it.
pub fn peek(token: &str) -> Result<Unverified, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::new(
            "token",
            format!("the ID token is longer than {MAX_TOKEN_BYTES} bytes"),
        ));
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::new(
            "token",
            "not a JWT: expected three base64url parts separated by dots",
        ));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| Refusal::new("token", "the JWT payload is not base64url"))?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| Refusal::new("token", "the JWT payload is not a JSON object"))?;
    let issuer = match claims.get("iss") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(Refusal::new("iss", "the token names no issuer (`iss`)")),
    };
    let subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
    Ok(Unverified { issuer, subject })
}

/// A token whose signature, issuer and time claims verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub issuer: String,
    pub subject: Option<String>,
    /// `jti`: exchanged once.
    pub jti: String,
    /// `exp`, seconds since the epoch.
    pub expires: i64,
    /// `aud`, a string or an array of strings.
    pub audiences: Vec<String>,
    pub claims: Map<String, Value>,
}

/// The key of `jwks` that signed tokens with this header: the one with the
/// header's `kid`, or the only key when neither names one.
pub fn key_id(token: &str) -> Result<(Algorithm, Option<String>), Refusal> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| Refusal::new("token", "the JWT header is not valid"))?;
    match header.alg {
        Algorithm::RS256 | Algorithm::ES256 => Ok((header.alg, header.kid)),
        other => Err(Refusal::new(
            "alg",
            format!("algorithm {other:?} is not accepted (only RS256 and ES256)"),
        )),
    }
}

fn find_key<'a>(jwks: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
}

/// True when `jwks` holds the key the token names (so no fetch is needed).
pub fn has_key(jwks: &JwkSet, kid: Option<&str>) -> bool {
    find_key(jwks, kid).is_some()
}

/// Verifies `token` as issued by `issuer`, signed by a key of `jwks`, valid
/// at `now` (seconds since the epoch).
pub fn verify(token: &str, issuer: &str, jwks: &JwkSet, now: i64) -> Result<Verified, Refusal> {
    let (alg, kid) = key_id(token)?;
    let jwk = find_key(jwks, kid.as_deref()).ok_or_else(|| {
        Refusal::new(
            "kid",
            match &kid {
                Some(kid) => format!("issuer {issuer} has no key {kid:?}"),
                None => format!("the token names no key (`kid`) and issuer {issuer} has several"),
            },
        )
    })?;
    check_key(jwk).map_err(|reason| Refusal::new("kid", reason))?;
    if let Some(key_alg) = jwk.common.key_algorithm {
        if format!("{key_alg:?}") != format!("{alg:?}") {
            return Err(Refusal::new(
                "alg",
                format!("the token is {alg:?} but its key is for {key_alg:?}"),
            ));
        }
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal::new("kid", "unusable key"))?;
    // Time claims are checked below against `now`; the audience against the
    // publishers. The issuer is checked by the library as well.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss"]);
    validation.set_issuer(&[issuer]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                Refusal::new("iss", format!("the token is not issued by {issuer}"))
            }
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                Refusal::new("alg", "the key does not fit the token's algorithm")
            }
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::new(
                "signature",
                format!("the signature does not verify with {issuer}'s key"),
            ),
            _ => Refusal::new("token", format!("the token cannot be read: {e}")),
        },
    )?;
    let claims = data.claims;
    let time = |name: &'static str| -> Result<Option<i64>, Refusal> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| Refusal::new(name, format!("`{name}` is not a number"))),
        }
    };
    let expires = time("exp")?.ok_or_else(|| Refusal::new("exp", "the token has no `exp`"))?;
    if expires + LEEWAY_SECS <= now {
        return Err(Refusal::new(
            "exp",
            format!("the token expired {} s ago", now - expires),
        ));
    }
    if let Some(nbf) = time("nbf")? {
        if nbf - LEEWAY_SECS > now {
            return Err(Refusal::new(
                "nbf",
                format!("the token is not valid for another {} s", nbf - now),
            ));
        }
    }
    match time("iat")? {
        None => return Err(Refusal::new("iat", "the token has no `iat`")),
        Some(iat) if iat - LEEWAY_SECS > now => {
            return Err(Refusal::new(
                "iat",
                format!("the token was issued {} s in the future", iat - now),
            ))
        }
        Some(_) => {}
    }
    let jti = match claims.get("jti") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => s.clone(),
        _ => {
            return Err(Refusal::new(
                "jti",
                "the token has no `jti` (needed to refuse replays)",
            ))
        }
    };
    let audiences = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return Err(Refusal::new("aud", "the token has no audience (`aud`)")),
    };
    Ok(Verified {
        issuer: issuer.to_owned(),
        subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
        jti,
        expires,
        audiences,
        claims,
    })
}

/// Only public signing keys of the accepted algorithms: RSA of at least
/// 2048 bits, EC on P-256. A symmetric (`oct`) key would let anyone who
/// read the key set sign tokens.
pub fn check_key(jwk: &Jwk) -> Result<(), String> {
    let kid = jwk.common.key_id.as_deref().unwrap_or("(no kid)");
    match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map_err(|_| format!("key {kid}: `n` is not base64url"))?;
            let bits = n
                .iter()
                .position(|b| *b != 0)
                .map_or(0, |i| (n.len() - i) * 8);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "key {kid}: an RSA key of {bits} bits is too short (at least {MIN_RSA_BITS})"
                ));
            }
            Ok(())
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Ok(()),
        AlgorithmParameters::EllipticCurve(ec) => Err(format!(
            "key {kid}: curve {:?} is not accepted (only P-256, for ES256)",
            ec.curve
        )),
        _ => Err(format!(
            "key {kid}: only RSA (RS256) and EC P-256 (ES256) public keys are accepted"
        )),
    }
}

/// Parses and checks a JWK Set as configured for an issuer.
pub fn parse_jwks(value: &Value) -> Result<JwkSet, String> {
    let jwks: JwkSet = serde_json::from_value(value.clone())
        .map_err(|e| format!("not a JWK Set ({{\"keys\": [...]}}): {e}"))?;
    if jwks.keys.is_empty() {
        return Err("the key set has no keys".into());
    }
    if jwks.keys.len() > MAX_KEYS {
        return Err(format!("more than {MAX_KEYS} keys"));
    }
    for jwk in &jwks.keys {
        check_key(jwk)?;
    }
    Ok(jwks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    /// A P-256 test key pair: the signing key and its JWK Set.
    fn test_key(kid: &str) -> (EncodingKey, Value) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        use ring::signature::KeyPair;
        let public = pair.public_key().as_ref(); // 0x04 || x || y
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": b64(&public[1..33]), "y": b64(&public[33..65]),
        }]});
        (EncodingKey::from_ec_der(pkcs8.as_ref()), jwks)
    }

    fn sign(key: &EncodingKey, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    const ISS: &str = "https://token.actions.githubusercontent.com";
    const NOW: i64 = 1_632_493_600;

    fn claims() -> Value {
        let mut c: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/oidc/github-docs__oidc-example-claims.json"
        ))
        .unwrap();
        c["aud"] = json!("cairn");
        c
    }

    #[test]
    fn a_well_signed_token_verifies() {
        let (key, jwks) = test_key("k1");
        let jwks = parse_jwks(&jwks).unwrap();
        let token = sign(&key, "k1", &claims());
        assert_eq!(peek(&token).unwrap().issuer, ISS);
        let v = verify(&token, ISS, &jwks, NOW).unwrap();
        assert_eq!(v.jti, "example-id");
        assert_eq!(v.audiences, ["cairn"]);
        assert_eq!(v.claims["repository"], "octo-org/octo-repo");
        assert_eq!(
            v.subject.as_deref(),
            Some("repo:octo-org/octo-repo:environment:prod")
        );
    }

    #[test]
    fn each_failing_check_is_named() {
        let (key, jwks) = test_key("k1");
        let jwks = parse_jwks(&jwks).unwrap();
        let (other, _) = test_key("k1");
        let check = |token: &str, now: i64| verify(token, ISS, &jwks, now).unwrap_err().check;
        // Signed by another key under the same kid.
        assert_eq!(check(&sign(&other, "k1", &claims()), NOW), "signature");
        assert_eq!(check(&sign(&key, "k2", &claims()), NOW), "kid");
        let mut c = claims();
        c["iss"] = json!("https://evil.example");
        assert_eq!(check(&sign(&key, "k1", &c), NOW), "iss");
        assert_eq!(
            check(&sign(&key, "k1", &claims()), 1_632_493_867 + 61),
            "exp"
        );
        // Within the leeway an expired token still passes.
        assert!(verify(&sign(&key, "k1", &claims()), ISS, &jwks, 1_632_493_867 + 59).is_ok());
        assert_eq!(
            check(&sign(&key, "k1", &claims()), 1_632_492_967 - 61),
            "nbf"
        );
        let mut c = claims();
        c["iat"] = json!(NOW + 3600);
        c["nbf"] = json!(NOW);
        assert_eq!(check(&sign(&key, "k1", &c), NOW), "iat");
        let mut c = claims();
        c.as_object_mut().unwrap().remove("jti");
        assert_eq!(check(&sign(&key, "k1", &c), NOW), "jti");
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(&sign(&key, "k1", &c), NOW), "exp");
        // Tampered payload: the signature no longer covers it.
        let token = sign(&key, "k1", &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut c = claims();
        c["repository"] = json!("evil/repo");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string()),
            parts[2]
        );
        assert_eq!(check(&forged, NOW), "signature");
    }

    #[test]
    fn none_and_hmac_algorithms_are_refused() {
        let (_, jwks) = test_key("k1");
        let jwks = parse_jwks(&jwks).unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let body = b64(&claims().to_string());
        let none = format!("{}.{body}.", b64(r#"{"alg":"none","kid":"k1"}"#));
        // `none` is not even a header jsonwebtoken reads; either way: refused.
        assert!(matches!(
            verify(&none, ISS, &jwks, NOW).unwrap_err().check.as_str(),
            "alg" | "token"
        ));
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hs = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(b"x")).unwrap();
        assert_eq!(verify(&hs, ISS, &jwks, NOW).unwrap_err().check, "alg");
    }

    #[test]
    fn key_sets_hold_only_public_signing_keys() {
        assert!(parse_jwks(&json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})).is_err());
        assert!(parse_jwks(&json!({"keys": []})).is_err());
        assert!(parse_jwks(&json!({"nokeys": 1})).is_err());
        let short = json!({"keys": [{"kty": "RSA", "n": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff; 128]), "e": "AQAB"}]});
        assert!(parse_jwks(&short).unwrap_err().contains("1024 bits"));
        let long = json!({"keys": [{"kty": "RSA", "n": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff; 256]), "e": "AQAB"}]});
        assert!(parse_jwks(&long).is_ok());
        assert!(peek("a.b").is_err() && peek(&"x".repeat(MAX_TOKEN_BYTES + 1)).is_err());
    }
}
