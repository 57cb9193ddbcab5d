//! Verification of webhook deliveries, all in constant time:
//! GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the raw body), GitLab's
//! `X-Gitlab-Token`, and GitLab's signed form (Standard Webhooks
//! `webhook-id` / `webhook-timestamp` / `webhook-signature: v1,<base64>`).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How far a signed GitLab delivery's timestamp may be from now.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery was refused (recorded in the security audit; never
/// contains secret material).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
    #[error("signature does not match")]
    BadSignature,
    #[error("token does not match")]
    BadToken,
    #[error("webhook-timestamp is more than 5 minutes away from now")]
    StaleTimestamp,
    #[error("webhook-signature has more than {MAX_SIGNATURES} entries")]
    TooManySignatures,
}

/// The most `webhook-signature` entries a signed delivery may carry (key
/// rotation needs two or three). Each is a comparison done before the
/// sender is authenticated.
pub const MAX_SIGNATURES: usize = 10;

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// `sha256=<hex>`: the `X-Hub-Signature-256` GitHub sends for `body`.
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks `X-Hub-Signature-256` against the raw body.
pub fn verify_github(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), VerifyError> {
    const H: &str = "X-Hub-Signature-256";
    let header = header.ok_or(VerifyError::MissingHeader(H))?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedHeader(H))?;
    let sig = hex::decode(hex_sig).map_err(|_| VerifyError::MalformedHeader(H))?;
    let mut m = mac(secret);
    m.update(body);
    m.verify_slice(&sig).map_err(|_| VerifyError::BadSignature)
}

/// What GitLab sources store of their token.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Checks `X-Gitlab-Token` against the stored SHA-256 of the token.
pub fn verify_gitlab_token(expected_hash: &[u8], header: Option<&str>) -> Result<(), VerifyError> {
    let token = header.ok_or(VerifyError::MissingHeader("X-Gitlab-Token"))?;
    let got = hash_token(token);
    if bool::from(got.as_slice().ct_eq(expected_hash)) {
        Ok(())
    } else {
        Err(VerifyError::BadToken)
    }
}

/// The HMAC key of a signing secret: `whsec_<base64>` decodes to its
/// bytes; any other secret is used as it is.
fn signing_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,<base64>`: the `webhook-signature` of a signed delivery.
pub fn gitlab_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut m = mac(&signing_key(secret));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
    )
}

/// Checks the signed form: any of the space-separated `v1,<sig>` entries
/// must match, and the timestamp must be recent (`now` in Unix seconds).
pub fn verify_gitlab_signed(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    check_signed_headers(id, timestamp, signature, now)?;
    // Present: checked above.
    let (id, ts, sigs) = (
        id.unwrap_or_default(),
        timestamp.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    // One MAC over the body, whatever the number of entries.
    let mut m = mac(&signing_key(secret));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(ts.trim().as_bytes());
    m.update(b".");
    m.update(body);
    let expected = m.finalize().into_bytes();
    let matches = sigs
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .any(|sig| bool::from(sig.as_slice().ct_eq(expected.as_slice())));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// The part of GitHub's verification that needs no body: the
/// `X-Hub-Signature-256` header is there and well-formed. Done before the
/// body is read, so a delivery that cannot verify is refused unread.
pub fn check_github_header(header: Option<&str>) -> Result<(), VerifyError> {
    const H: &str = "X-Hub-Signature-256";
    let header = header.ok_or(VerifyError::MissingHeader(H))?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedHeader(H))?;
    hex::decode(hex_sig).map_err(|_| VerifyError::MalformedHeader(H))?;
    Ok(())
}

/// The part of the signed form's verification that needs no body: the
/// three headers are there, the timestamp is recent, the signature entries
/// are not too many and at least one is `v1`. Done before the body is read;
/// [`verify_gitlab_signed`] (with the same `now`) does the rest.
pub fn check_signed_headers(
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: i64,
) -> Result<(), VerifyError> {
    id.ok_or(VerifyError::MissingHeader("webhook-id"))?;
    let ts = timestamp.ok_or(VerifyError::MissingHeader("webhook-timestamp"))?;
    let sigs = signature.ok_or(VerifyError::MissingHeader("webhook-signature"))?;
    let when: i64 = ts
        .trim()
        .parse()
        .map_err(|_| VerifyError::MalformedHeader("webhook-timestamp"))?;
    if (now - when).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(VerifyError::StaleTimestamp);
    }
    if sigs.split_whitespace().nth(MAX_SIGNATURES).is_some() {
        return Err(VerifyError::TooManySignatures);
    }
    if !sigs.split_whitespace().any(|e| e.starts_with("v1,")) {
        return Err(VerifyError::MalformedHeader("webhook-signature"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector (validating-webhook-deliveries).
    #[test]
    fn github_documented_vector() {
        let secret = b"It's a Secret to Everybody";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(github_signature(secret, b"Hello, World!"), expected);
        assert_eq!(
            verify_github(secret, b"Hello, World!", Some(expected)),
            Ok(())
        );
        assert_eq!(
            verify_github(secret, b"Hello, World?", Some(expected)),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify_github(b"another secret", b"Hello, World!", Some(expected)),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify_github(secret, b"Hello, World!", None),
            Err(VerifyError::MissingHeader("X-Hub-Signature-256"))
        );
        assert_eq!(
            verify_github(secret, b"Hello, World!", Some(&expected[7..])),
            Err(VerifyError::MalformedHeader("X-Hub-Signature-256"))
        );
        assert_eq!(
            verify_github(secret, b"Hello, World!", Some("sha256=zz")),
            Err(VerifyError::MalformedHeader("X-Hub-Signature-256"))
        );
    }

    #[test]
    fn gitlab_token() {
        let stored = hash_token("glpat-like-token");
        assert_eq!(
            verify_gitlab_token(&stored, Some("glpat-like-token")),
            Ok(())
        );
        assert_eq!(
            verify_gitlab_token(&stored, Some("glpat-like-tokem")),
            Err(VerifyError::BadToken)
        );
        assert!(verify_gitlab_token(&stored, None).is_err());
    }

    #[test]
    fn gitlab_signed_form() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"object_kind":"pipeline"}"#;
        let sig = gitlab_signature(secret, "msg_1", "1700000000", body);
        let ok = verify_gitlab_signed(
            secret,
            Some("msg_1"),
            Some("1700000000"),
            Some(&format!("v1,bm90IGl0 {sig}")),
            body,
            1700000100,
        );
        assert_eq!(ok, Ok(()));
        let stale = verify_gitlab_signed(
            secret,
            Some("msg_1"),
            Some("1700000000"),
            Some(&sig),
            body,
            1700001000,
        );
        assert_eq!(stale, Err(VerifyError::StaleTimestamp));
        let other_id = verify_gitlab_signed(
            secret,
            Some("msg_2"),
            Some("1700000000"),
            Some(&sig),
            body,
            1700000000,
        );
        assert_eq!(other_id, Err(VerifyError::BadSignature));
    }

    #[test]
    fn signature_entries_are_capped() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"object_kind":"pipeline"}"#;
        let sig = gitlab_signature(secret, "msg_1", "1700000000", body);
        let verify = |header: &str| {
            verify_gitlab_signed(
                secret,
                Some("msg_1"),
                Some("1700000000"),
                Some(header),
                body,
                1700000000,
            )
        };
        let wrong = |n: usize| vec!["v1,bm90IGl0"; n].join(" ");
        // The 10th of 10 is the right one.
        let ten = format!("{} {sig}", wrong(MAX_SIGNATURES - 1));
        assert_eq!(verify(&ten), Ok(()));
        assert_eq!(
            verify(&wrong(MAX_SIGNATURES)),
            Err(VerifyError::BadSignature)
        );
        // 11 entries are refused, even with the right one among them.
        let eleven = format!("{ten} v1,bm90IGl0");
        let refused = verify(&eleven);
        assert_eq!(refused, Err(VerifyError::TooManySignatures));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "webhook-signature has more than 10 entries"
        );
        // A header of 100 000 entries once meant 100 000 MACs over the body.
        assert_eq!(verify(&wrong(100_000)), Err(VerifyError::TooManySignatures));
        // A signature of the wrong length does not match.
        assert_eq!(
            verify(&sig[..sig.len() - 4]),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn header_checks_agree_with_full_verification() {
        // Whatever the header checks refuse, full verification refuses for
        // the same reason: refusing before the body changes no answer.
        for h in [
            None,
            Some("sha1=0123"),
            Some("sha256=zz"),
            Some("757107ea0eb2509fc211221cce984b8a"),
        ] {
            let early = check_github_header(h).unwrap_err();
            assert_eq!(verify_github(b"k", b"body", h).unwrap_err(), early);
        }
        assert_eq!(check_github_header(Some("sha256=00ff")), Ok(()));

        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"object_kind":"pipeline"}"#;
        let sig = gitlab_signature(secret, "msg_1", "1700000000", body);
        let many = ["v1,bm90IGl0"; MAX_SIGNATURES + 1].join(" ");
        let cases: [(Option<&str>, Option<&str>, Option<&str>); 7] = [
            (None, Some("1700000000"), Some(&sig)),
            (Some("msg_1"), None, Some(&sig)),
            (Some("msg_1"), Some("1700000000"), None),
            (Some("msg_1"), Some("yesterday"), Some(&sig)),
            (Some("msg_1"), Some("1699000000"), Some(&sig)),
            (Some("msg_1"), Some("1700000000"), Some(&many)),
            (Some("msg_1"), Some("1700000000"), Some("v2,abc")),
        ];
        for (id, ts, sigs) in cases {
            let early = check_signed_headers(id, ts, sigs, 1700000000).unwrap_err();
            let full = verify_gitlab_signed(secret, id, ts, sigs, body, 1700000000).unwrap_err();
            assert_eq!(early, full, "{id:?} {ts:?} {sigs:?}");
        }
        assert_eq!(
            check_signed_headers(Some("msg_1"), Some("1700000000"), Some(&sig), 1700000000),
            Ok(())
        );
        // A wrong signature of the right form passes the header check: only
        // the MAC over the body can refuse it.
        assert_eq!(
            check_signed_headers(
                Some("msg_1"),
                Some("1700000000"),
                Some("v1,bm90IGl0"),
                1700000000
            ),
            Ok(())
        );
    }
}
