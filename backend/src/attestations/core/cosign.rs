//! cosign's legacy `sign-blob --bundle` file, converted to the Sigstore
//! bundle v0.1 it is equivalent to, so that one verifier checks both.
//!
//! The legacy file is `{"base64Signature", "cert", "rekorBundle":
//! {"SignedEntryTimestamp", "Payload": {"body", "integratedTime",
//! "logIndex", "logID"}}}`; `cert` is a base64-encoded PEM certificate and
//! `body` the canonicalised Rekor entry (hashedrekord), whose SET covers
//! body, integrated time, log index and log id.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Legacy {
    #[serde(rename = "base64Signature")]
    signature: String,
    cert: String,
    #[serde(rename = "rekorBundle")]
    rekor: RekorBundle,
}

#[derive(Deserialize)]
struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// Is this JSON object a legacy cosign bundle?
pub fn looks_like(v: &Value) -> bool {
    v.get("base64Signature").is_some() && v.get("rekorBundle").is_some()
}

/// The equivalent v0.1 bundle JSON. `Err` says what is malformed.
pub fn to_bundle_json(v: &Value) -> Result<String, String> {
    let legacy: Legacy =
        serde_json::from_value(v.clone()).map_err(|e| format!("malformed cosign bundle: {e}"))?;
    let pem = B64
        .decode(legacy.cert.trim())
        .map_err(|e| format!("cosign bundle: cert is not base64: {e}"))?;
    let pem = String::from_utf8(pem).map_err(|_| "cosign bundle: cert is not a PEM certificate")?;
    let der = pem_body(&pem, "CERTIFICATE")
        .ok_or("cosign bundle: cert does not hold a PEM CERTIFICATE block")?;
    let log_id = hex::decode(&legacy.rekor.payload.log_id)
        .map_err(|_| "cosign bundle: rekorBundle.Payload.logID is not hex")?;
    let body = B64
        .decode(&legacy.rekor.payload.body)
        .map_err(|e| format!("cosign bundle: rekorBundle.Payload.body is not base64: {e}"))?;
    let entry: Value = serde_json::from_slice(&body)
        .map_err(|e| format!("cosign bundle: the Rekor entry body is not JSON: {e}"))?;
    let kind = entry.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = entry
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind != "hashedrekord" {
        return Err(format!(
            "cosign bundle: Rekor entry kind {kind:?} is not supported (only hashedrekord)"
        ));
    }
    // The messageDigest is the one the log entry records; the verifier
    // compares it with the artifact's digest.
    let hash = entry
        .pointer("/spec/data/hash/value")
        .and_then(Value::as_str)
        .and_then(|h| hex::decode(h).ok())
        .ok_or("cosign bundle: the Rekor entry has no sha256 hash")?;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [{"rawBytes": B64.encode(der)}]},
            "tlogEntries": [{
                "logIndex": legacy.rekor.payload.log_index.to_string(),
                "logId": {"keyId": B64.encode(log_id)},
                "kindVersion": {"kind": kind, "version": version},
                "integratedTime": legacy.rekor.payload.integrated_time.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": legacy.rekor.set},
                "canonicalizedBody": legacy.rekor.payload.body,
            }],
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(hash)},
            "signature": legacy.signature,
        },
    });
    Ok(bundle.to_string())
}

/// The DER bytes of the first PEM block with this label.
pub fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(b64).ok()
}
