//! Signatures and attestations: recognise what was uploaded, verify it
//! offline against the configured trust, and say exactly why when it does
//! not verify. Free of HTTP and SQL.
//!
//! Accepted: Sigstore bundles v0.1–v0.3 (message signature or DSSE,
//! keyless or public key), cosign's legacy `sign-blob --bundle` file
//! (converted to a v0.1 bundle), bare DSSE envelopes and `.intoto.jsonl`
//! (one envelope or bundle per line), and a detached signature
//! `{"signature": "<base64>", "publicKey": "<PEM>"}` (cosign `sign-blob --key`).
//! Cryptography is `sigstore-verify` (sigstore-rust): certificate chain to a
//! trusted Fulcio CA at signing time, SCT, signature over the artifact digest
//! or DSSE PAE, Rekor entry consistency, SET and/or inclusion proof against
//! a signed checkpoint, RFC 3161 timestamps.

pub mod cosign;
pub mod statement;
pub mod trust;

#[cfg(test)]
mod tests;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigstore_verify::crypto::{parse_certificate_info, CertificateInfo};
use sigstore_verify::types::bundle::VerificationMaterialContent;
use sigstore_verify::types::{
    ArtifactDigest, Bundle, DerCertificate, DigestBytes, HashAlgorithm, Sha256Hash, SignatureBytes,
    SignatureContent,
};
use sigstore_verify::{
    CertificateError, Error as VerifyError, IdentityMatcher, PublicKeyVerificationPolicy,
    TransparencyLogError, VerificationPolicy,
};
use utoipa::ToSchema;

pub use statement::{Provenance, Statement, Subject};
pub use trust::{RootScope, SigstoreRoot, TrustSet, TrustedKey};

/// What kind of evidence a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SigstoreBundle,
    CosignBundle,
    Dsse,
    DetachedSignature,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SigstoreBundle => "sigstore-bundle",
            Kind::CosignBundle => "cosign-bundle",
            Kind::Dsse => "dsse-envelope",
            Kind::DetachedSignature => "detached-signature",
        }
    }
}

/// A bare DSSE envelope (several signatures allowed).
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: Option<String>,
    pub sig: String,
    /// slsa-github-generator v1 puts the Fulcio certificate (PEM) here.
    #[serde(default)]
    pub cert: Option<String>,
}

/// `cosign sign-blob --key` output plus (optionally) the key it names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detached {
    /// The base64 signature cosign prints.
    pub signature: String,
    /// PEM public key; when absent every trusted key is tried.
    #[serde(rename = "publicKey", default)]
    pub public_key: Option<String>,
}

#[derive(Debug)]
pub enum Evidence {
    Bundle(Box<Bundle>),
    Dsse(Envelope),
    Detached(Detached),
}

/// One uploaded document (a JSONL upload has one per line).
#[derive(Debug)]
pub struct Piece {
    pub kind: Kind,
    pub media_type: Option<String>,
    /// The document's own bytes (the line, for JSONL).
    pub raw: Vec<u8>,
    pub evidence: Evidence,
}

/// Why an upload is not evidence at all (a 4xx; nothing is stored).
#[derive(Debug, PartialEq)]
pub struct InputError {
    pub malformed: bool,
    pub detail: String,
}

fn malformed(detail: impl Into<String>) -> InputError {
    InputError {
        malformed: true,
        detail: detail.into(),
    }
}
fn invalid(detail: impl Into<String>) -> InputError {
    InputError {
        malformed: false,
        detail: detail.into(),
    }
}

/// The most signatures a DSSE envelope may carry (a real one has one or
/// two); each is checked against every trusted key.
pub const MAX_DSSE_SIGNATURES: usize = 16;

const BUNDLE_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// Splits and recognises an upload: one JSON document, or JSON lines.
pub fn read(body: &[u8]) -> Result<Vec<Piece>, InputError> {
    let text =
        std::str::from_utf8(body).map_err(|e| malformed(format!("the body is not UTF-8: {e}")))?;
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(vec![classify(v, text.trim().as_bytes().to_vec())?]),
        Err(whole) => {
            let lines: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .collect();
            if lines.len() < 2 {
                return Err(malformed(format!("the body is not JSON: {whole}")));
            }
            lines
                .into_iter()
                .map(|(n, line)| {
                    let v: Value = serde_json::from_str(line).map_err(|e| {
                        malformed(format!("line {}: not a JSON document: {e}", n + 1))
                    })?;
                    classify(v, line.trim().as_bytes().to_vec()).map_err(|e| InputError {
                        detail: format!("line {}: {}", n + 1, e.detail),
                        ..e
                    })
                })
                .collect()
        }
    }
}

/// Early v0.1 bundles carry an inclusion proof without a checkpoint, which
/// cannot be checked; v0.1 is verified by its SET (required for v0.1), so
/// such a proof is set aside rather than trusted.
fn legacy_v01(mut v: Value) -> Value {
    if let Some(entries) = v
        .pointer_mut("/verificationMaterial/tlogEntries")
        .and_then(Value::as_array_mut)
    {
        for e in entries {
            let no_checkpoint = e
                .get("inclusionProof")
                .is_some_and(|p| p.get("checkpoint").is_none());
            if no_checkpoint {
                e.as_object_mut().map(|o| o.remove("inclusionProof"));
            }
        }
    }
    v
}

fn classify(v: Value, raw: Vec<u8>) -> Result<Piece, InputError> {
    if !v.is_object() {
        return Err(invalid("the document is not a JSON object"));
    }
    if let Some(mt) = v.get("mediaType").and_then(Value::as_str) {
        if !mt.starts_with("application/vnd.dev.sigstore.bundle") {
            return Err(invalid(format!(
                "mediaType {mt:?} is not a Sigstore bundle"
            )));
        }
        if !BUNDLE_MEDIA_TYPES.contains(&mt) {
            return Err(invalid(format!(
                "Sigstore bundle media type {mt:?} is not supported (v0.1, v0.2 and v0.3 are)"
            )));
        }
        let bundle = if mt == BUNDLE_MEDIA_TYPES[0] {
            Bundle::from_json(&legacy_v01(v.clone()).to_string())
        } else {
            Bundle::from_json(std::str::from_utf8(&raw).expect("checked UTF-8"))
        }
        .map_err(|e| invalid(format!("invalid Sigstore bundle: {e}")))?;
        return Ok(Piece {
            kind: Kind::SigstoreBundle,
            media_type: Some(mt.to_owned()),
            raw,
            evidence: Evidence::Bundle(Box::new(bundle)),
        });
    }
    if cosign::looks_like(&v) {
        let json = cosign::to_bundle_json(&v).map_err(invalid)?;
        let bundle =
            Bundle::from_json(&json).map_err(|e| invalid(format!("invalid cosign bundle: {e}")))?;
        return Ok(Piece {
            kind: Kind::CosignBundle,
            media_type: None,
            raw,
            evidence: Evidence::Bundle(Box::new(bundle)),
        });
    }
    if v.get("payloadType").is_some() && v.get("signatures").is_some() {
        let env: Envelope = serde_json::from_value(v)
            .map_err(|e| invalid(format!("invalid DSSE envelope: {e}")))?;
        if env.signatures.is_empty() {
            return Err(invalid("the DSSE envelope has no signature"));
        }
        // Verification tries every signature against every trusted key.
        if env.signatures.len() > MAX_DSSE_SIGNATURES {
            return Err(invalid(format!(
                "the DSSE envelope has {} signatures; at most {MAX_DSSE_SIGNATURES} are accepted",
                env.signatures.len()
            )));
        }
        return Ok(Piece {
            kind: Kind::Dsse,
            media_type: Some(env.payload_type.clone()),
            raw,
            evidence: Evidence::Dsse(env),
        });
    }
    if v.get("signature").is_some() {
        let d: Detached = serde_json::from_value(v)
            .map_err(|e| invalid(format!("invalid detached signature document: {e}")))?;
        return Ok(Piece {
            kind: Kind::DetachedSignature,
            media_type: None,
            raw,
            evidence: Evidence::Detached(d),
        });
    }
    Err(invalid(
        "not a Sigstore bundle, cosign bundle, DSSE envelope or detached signature \
         (expected mediaType, base64Signature+rekorBundle, payloadType+signatures, or signature)",
    ))
}

/// Who signed, as the certificate (or the trusted key) says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    /// `certificate` (keyless, Fulcio) or `public-key`.
    pub kind: String,
    /// Certificate subject alternative name (email or URI).
    pub san: Option<String>,
    /// OIDC issuer (Fulcio extension).
    pub issuer: Option<String>,
    /// For key signatures: the trusted key's name and SHA-256 fingerprint.
    pub key_name: Option<String>,
    pub key_fingerprint: Option<String>,
    /// For key signatures: the SLSA builder the key is configured for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_builder: Option<String>,
    /// Fulcio CI extensions (GitHub: the workflow run that signed).
    pub workflow_repository: Option<String>,
    pub workflow_ref: Option<String>,
    pub workflow_sha: Option<String>,
    pub workflow_trigger: Option<String>,
    pub workflow_path: Option<String>,
    pub runner_environment: Option<String>,
    pub run_url: Option<String>,
    pub certificate_not_before: Option<DateTime<Utc>>,
    pub certificate_not_after: Option<DateTime<Utc>>,
}

fn ts(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

fn cert_identity(info: &CertificateInfo) -> Identity {
    let c = &info.ci_claims;
    let old = &c.deprecated_github;
    Identity {
        kind: "certificate".into(),
        san: info.identity.as_ref().map(|s| s.as_str().to_owned()),
        issuer: info.issuer.clone(),
        workflow_repository: c
            .source_repository_uri
            .clone()
            .or_else(|| old.workflow_repository.clone()),
        workflow_ref: c
            .source_repository_ref
            .clone()
            .or_else(|| old.workflow_ref.clone()),
        workflow_sha: c
            .source_repository_digest
            .clone()
            .or_else(|| old.workflow_sha.clone()),
        workflow_trigger: c
            .build_trigger
            .clone()
            .or_else(|| old.workflow_trigger.clone()),
        workflow_path: c.build_config_uri.clone(),
        runner_environment: c.runner_environment.clone(),
        run_url: c.run_invocation_uri.clone(),
        certificate_not_before: ts(info.not_before.as_second()),
        certificate_not_after: ts(info.not_after.as_second()),
        ..Identity::default()
    }
}

fn key_identity(key: &TrustedKey) -> Identity {
    Identity {
        kind: "public-key".into(),
        key_name: Some(key.name.clone()),
        key_fingerprint: Some(trust::key_fingerprint(&key.der)),
        key_builder: key.builder_id.clone(),
        ..Identity::default()
    }
}

/// The transparency-log entry of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RekorEntry {
    pub log_index: i64,
    /// When the log integrated the entry (authenticated by the SET when the
    /// attestation is verified).
    pub integrated_time: Option<DateTime<Utc>>,
    /// `hashedrekord`, `dsse`, `intoto`.
    pub kind: String,
}

/// What the signer requires (e.g. the workflow identity of the real signer).
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub identity: Option<String>,
    pub issuer: Option<String>,
}

/// The result of verifying one piece.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verified: bool,
    /// The check that failed (`signature`, `certificate`, `sct`,
    /// `inclusion-proof`, `signed-entry-timestamp`, `log-entry`,
    /// `artifact-digest`, `identity`, `issuer`, `trust`, ...).
    pub check: Option<&'static str>,
    pub reason: Option<String>,
    /// Known signer: verified, or claimed by the certificate when not.
    pub identity: Option<Identity>,
    pub rekor: Option<RekorEntry>,
    /// The trust root or key that verified it.
    pub trusted_by: Option<String>,
    pub statement: Option<Statement>,
    /// What the signature covers: the statement's subjects, or the signed
    /// artifact digest.
    pub subjects: Vec<Subject>,
}

impl Outcome {
    fn failed(mut self, check: &'static str, reason: impl Into<String>) -> Self {
        self.verified = false;
        self.check = Some(check);
        self.reason = Some(reason.into());
        self
    }
}

fn check_of(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::IdentityMismatch { .. } => "identity",
        VerifyError::IssuerMismatch { .. } => "issuer",
        VerifyError::SignatureInvalid(_) => "signature",
        // The log entry records another artifact than the bundle's.
        VerifyError::ArtifactMismatch(m) if m.contains("entry") => "log-entry",
        VerifyError::ArtifactMismatch(_) => "artifact-digest",
        VerifyError::Certificate(CertificateError::Sct(_)) => "sct",
        VerifyError::Certificate(_) | VerifyError::TrustedCertificate(_) => "certificate",
        VerifyError::TransparencyLog(t) => match t {
            TransparencyLogError::InclusionProof(_) => "inclusion-proof",
            TransparencyLogError::Checkpoint(_) => "checkpoint",
            TransparencyLogError::InclusionPromise(_) => "signed-entry-timestamp",
            TransparencyLogError::IntegratedTime(_) => "integrated-time",
            TransparencyLogError::UnknownLog { .. } => "transparency-log",
            _ => "log-entry",
        },
        VerifyError::Timestamp(_) => "timestamp",
        VerifyError::Bundle(b) => {
            let m = b.to_string();
            if m.contains("checkpoint") {
                "checkpoint"
            } else if m.contains("inclusion proof") {
                "inclusion-proof"
            } else {
                "bundle"
            }
        }
        _ => "bundle",
    }
}

/// Errors that only say "this root is not the one": reported only when no
/// root got further.
fn foreign(e: &VerifyError) -> bool {
    matches!(
        e,
        VerifyError::Certificate(
            CertificateError::ChainInvalid(_) | CertificateError::NoValidAuthority { .. }
        ) | VerifyError::TransparencyLog(TransparencyLogError::UnknownLog { .. })
    )
}

/// One reason out of the errors of every root tried.
fn summarise(errors: Vec<(String, VerifyError)>) -> (&'static str, String) {
    let relevant: Vec<&(String, VerifyError)> = {
        let near: Vec<_> = errors.iter().filter(|(_, e)| !foreign(e)).collect();
        if near.is_empty() {
            errors.iter().collect()
        } else {
            near
        }
    };
    let check = check_of(&relevant[0].1);
    let mut texts: Vec<String> = relevant.iter().map(|(_, e)| e.to_string()).collect();
    texts.dedup();
    if texts.len() == 1 {
        (check, texts.remove(0))
    } else {
        let joined = relevant
            .iter()
            .map(|(root, e)| format!("[{root}] {e}"))
            .collect::<Vec<_>>()
            .join("; ");
        (check, joined)
    }
}

fn sha256_hex(d: &str) -> Option<Sha256Hash> {
    Sha256Hash::from_hex(d.strip_prefix("sha256:").unwrap_or(d)).ok()
}

/// `sha256:<hex>` or `sha512:<hex>` (npm provenance subjects are sha512).
fn artifact_digest(d: &str) -> Option<ArtifactDigest> {
    let (alg, hex) = d.split_once(':')?;
    let alg = match alg {
        "sha256" => HashAlgorithm::Sha2256,
        "sha512" => HashAlgorithm::Sha2512,
        _ => return None,
    };
    ArtifactDigest::new(alg, DigestBytes::new(hex::decode(hex).ok()?)).ok()
}

/// Verifies one piece. `digest` is the artifact's `sha256:<hex>` when the
/// upload named (or Cairn knows) it.
pub fn verify(piece: &Piece, trust: &TrustSet, digest: Option<&str>, expect: &Expect) -> Outcome {
    let base = Outcome {
        verified: false,
        check: None,
        reason: None,
        identity: None,
        rekor: None,
        trusted_by: None,
        statement: None,
        subjects: Vec::new(),
    };
    match &piece.evidence {
        Evidence::Bundle(b) => verify_bundle(b, trust, digest, expect, base),
        Evidence::Dsse(env) => verify_dsse(env, trust, digest, expect, base),
        Evidence::Detached(d) => verify_detached(d, trust, digest, expect, base),
    }
}

fn statement_from_payload(payload_type: &str, payload: &[u8]) -> Result<Statement, String> {
    if payload_type != "application/vnd.in-toto+json" {
        return Err(format!(
            "DSSE payload type {payload_type:?} is not an in-toto statement (application/vnd.in-toto+json)"
        ));
    }
    statement::parse(payload)
}

fn verify_bundle(
    bundle: &Bundle,
    trust: &TrustSet,
    digest: Option<&str>,
    expect: &Expect,
    mut out: Outcome,
) -> Outcome {
    out.rekor = bundle
        .verification_material
        .tlog_entries
        .first()
        .map(|e| RekorEntry {
            log_index: e.log_index.get() as i64,
            integrated_time: e.integrated_time.and_then(|t| ts(t.as_second())),
            kind: e.kind_version.kind().to_owned(),
        });
    let cert = bundle.signing_certificate();
    if let Some(cert) = cert {
        match parse_certificate_info(cert) {
            Ok(info) => out.identity = Some(cert_identity(&info)),
            Err(e) => {
                return out.failed("certificate", format!("malformed certificate: {e}"));
            }
        }
    }
    // What is signed, and which digest the artifact is verified as.
    let artifact: Option<String> = match &bundle.content {
        SignatureContent::DsseEnvelope(env) => {
            match statement_from_payload(&env.payload_type, env.payload.as_bytes()) {
                Ok(st) => {
                    out.subjects = st.subjects.clone();
                    let first = ["sha256:", "sha512:"].iter().find_map(|alg| {
                        st.subjects
                            .iter()
                            .find(|s| s.digest.starts_with(alg))
                            .map(|s| s.digest.clone())
                    });
                    out.statement = Some(st);
                    digest.map(str::to_owned).or(first)
                }
                Err(e) => return out.failed("statement", e),
            }
        }
        SignatureContent::MessageSignature(m) => {
            let signed = m
                .message_digest
                .as_ref()
                .filter(|d| d.algorithm == HashAlgorithm::Sha2256)
                .map(|d| format!("sha256:{}", hex::encode(d.digest.as_bytes())));
            let covered = digest.map(str::to_owned).or(signed);
            if let Some(d) = &covered {
                out.subjects = vec![Subject {
                    name: None,
                    digest: d.clone(),
                }];
            }
            covered
        }
        _ => {
            return out.failed(
                "bundle",
                "the bundle holds neither a message signature nor a DSSE envelope",
            )
        }
    };
    let Some(artifact) = artifact.as_deref().and_then(artifact_digest) else {
        return out.failed(
            "artifact-digest",
            "the artifact's digest is unknown: pass digest=sha256:<hex>",
        );
    };
    if let Some(d) = digest {
        if let Some(st) = &out.statement {
            if !st.subjects.iter().any(|s| s.digest == d) {
                // The library says the same; this names the digests.
                let names: Vec<String> = st.subjects.iter().map(|s| s.digest.clone()).collect();
                return out.failed(
                    "artifact-digest",
                    format!(
                        "artifact mismatch: the artifact digest {d} is not a subject of the attestation (subjects: {})",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    let mut errors = Vec::new();
    match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(hint) => {
            out.identity = None;
            if trust.keys.is_empty() {
                return out.failed(
                    "trust",
                    format!(
                        "the bundle is signed with a public key (hint {:?}) and no trusted public key is configured (POST /api/v1/trust-roots)",
                        hint.hint
                    ),
                );
            }
            if expect.identity.is_some() || expect.issuer.is_some() {
                return out.failed(
                    "identity",
                    "a signer identity was required but the bundle is signed with a public key, not a certificate",
                );
            }
            for key in &trust.keys {
                let policy = PublicKeyVerificationPolicy::new(key.der.clone());
                for root in &trust.roots {
                    match root.verifier.verify(artifact.clone(), bundle, &policy) {
                        Ok(r) => {
                            out.verified = true;
                            out.identity = Some(key_identity(key));
                            out.trusted_by = Some(format!("key {} + {}", key.name, root.name));
                            if let (Some(rk), Some(t)) = (&mut out.rekor, r.integrated_time()) {
                                rk.integrated_time = ts(t.as_second());
                            }
                            return out;
                        }
                        Err(e) => errors.push((format!("key {}, {}", key.name, root.name), e)),
                    }
                }
            }
        }
        _ => {
            let mut policy = VerificationPolicy::any_identity();
            if let Some(id) = &expect.identity {
                policy = policy.require_identity(IdentityMatcher::Exact(id.clone()));
            }
            if let Some(iss) = &expect.issuer {
                policy = policy.require_issuer(iss.clone());
            }
            let mut out_of_scope = None;
            for root in &trust.roots {
                match root.verifier.verify(artifact.clone(), bundle, &policy) {
                    Ok(r) => {
                        let identity = r.certificate().map(cert_identity);
                        let (issuer, san) = identity
                            .as_ref()
                            .map_or((None, None), |i| (i.issuer.as_deref(), i.san.as_deref()));
                        // A root vouches only for the identities it is scoped to.
                        if let Some(why) = root.scope.refuses(&root.name, issuer, san) {
                            out_of_scope.get_or_insert(why);
                            continue;
                        }
                        out.verified = true;
                        out.trusted_by = Some(root.name.clone());
                        out.identity = identity;
                        if let (Some(rk), Some(t)) = (&mut out.rekor, r.integrated_time()) {
                            rk.integrated_time = ts(t.as_second());
                        }
                        return out;
                    }
                    Err(e) => errors.push((root.name.clone(), e)),
                }
            }
            if let Some(why) = out_of_scope {
                return out.failed("trust-scope", why);
            }
        }
    }
    if errors.is_empty() {
        return out.failed("trust", "no trusted root is configured");
    }
    let (check, reason) = summarise(errors);
    out.failed(check, reason)
}

fn verify_dsse(
    env: &Envelope,
    trust: &TrustSet,
    digest: Option<&str>,
    expect: &Expect,
    mut out: Outcome,
) -> Outcome {
    let payload = match B64.decode(&env.payload) {
        Ok(p) => p,
        Err(e) => return out.failed("statement", format!("the DSSE payload is not base64: {e}")),
    };
    match statement_from_payload(&env.payload_type, &payload) {
        Ok(st) => {
            out.subjects = st.subjects.clone();
            out.statement = Some(st);
        }
        Err(e) => return out.failed("statement", e),
    }
    // A claimed keyless signer, shown even though it cannot be verified.
    out.identity = env
        .signatures
        .iter()
        .filter_map(|s| s.cert.as_deref())
        .filter_map(|pem| cosign::pem_body(pem, "CERTIFICATE"))
        .find_map(|der| parse_certificate_info(&DerCertificate::new(der)).ok())
        .map(|info| cert_identity(&info));
    if let (Some(d), Some(st)) = (digest, &out.statement) {
        if !st.subjects.iter().any(|s| s.digest == d) {
            return out.failed(
                "artifact-digest",
                format!("artifact mismatch: the artifact digest {d} is not a subject of the attestation"),
            );
        }
    }
    let pae = sigstore_verify::types::pae(&env.payload_type, &payload);
    let mut tried = 0;
    for sig in &env.signatures {
        let Ok(bytes) = B64.decode(&sig.sig) else {
            return out.failed("signature", "a DSSE signature is not base64");
        };
        let bytes = SignatureBytes::new(bytes);
        for key in &trust.keys {
            tried += 1;
            let scheme = key.algorithm.default_signing_scheme();
            if sigstore_verify::crypto::verify_signature(&key.der, &pae, &bytes, scheme).is_ok() {
                if expect.identity.is_some() || expect.issuer.is_some() {
                    return out.failed(
                        "identity",
                        "a signer identity was required but the envelope is signed with a public key, not a certificate",
                    );
                }
                out.verified = true;
                out.identity = Some(key_identity(key));
                out.trusted_by = Some(format!("key {}", key.name));
                return out;
            }
        }
    }
    if out.identity.is_some() {
        return out.failed(
            "transparency-log",
            "the DSSE envelope is signed with a short-lived Fulcio certificate but carries no transparency-log entry, \
             so its signing time (and thus the certificate) cannot be verified offline; upload the Sigstore bundle instead",
        );
    }
    if tried == 0 {
        return out.failed(
            "trust",
            "the DSSE envelope is signed with a key and no trusted public key is configured (POST /api/v1/trust-roots)",
        );
    }
    out.failed(
        "signature",
        "invalid signature: no trusted public key verifies the DSSE signature over the PAE",
    )
}

fn verify_detached(
    d: &Detached,
    trust: &TrustSet,
    digest: Option<&str>,
    expect: &Expect,
    mut out: Outcome,
) -> Outcome {
    let Some(digest) = digest else {
        return out.failed(
            "artifact-digest",
            "a detached signature needs the artifact's digest: pass digest=sha256:<hex>",
        );
    };
    let hash = sha256_hex(digest).expect("digest validated by the caller");
    out.subjects = vec![Subject {
        name: None,
        digest: digest.to_owned(),
    }];
    let Ok(sig) = B64.decode(d.signature.trim()) else {
        return out.failed("signature", "the signature is not base64");
    };
    let sig = SignatureBytes::new(sig);
    let wanted = match &d.public_key {
        Some(pem) => match trust::public_key(pem) {
            Ok((der, _)) => Some(der),
            Err(e) => return out.failed("trust", format!("publicKey: {e}")),
        },
        None => None,
    };
    let candidates: Vec<&TrustedKey> = trust
        .keys
        .iter()
        .filter(|k| {
            wanted
                .as_ref()
                .is_none_or(|w| w.as_bytes() == k.der.as_bytes())
        })
        .collect();
    if candidates.is_empty() {
        return out.failed(
            "trust",
            match &wanted {
                Some(w) => format!(
                    "the public key {} is not a trusted key (an admin adds it with POST /api/v1/trust-roots)",
                    trust::key_fingerprint(w)
                ),
                None => "no trusted public key is configured (POST /api/v1/trust-roots)".into(),
            },
        );
    }
    if expect.identity.is_some() || expect.issuer.is_some() {
        return out.failed(
            "identity",
            "a signer identity was required but a detached signature is made with a public key, not a certificate",
        );
    }
    for key in candidates {
        let scheme = key.algorithm.default_signing_scheme();
        if !scheme.supports_prehashed() {
            continue;
        }
        if sigstore_verify::crypto::verify_signature_prehashed(
            &key.der,
            hash.as_bytes(),
            &sig,
            scheme,
        )
        .is_ok()
        {
            out.verified = true;
            out.identity = Some(key_identity(key));
            out.trusted_by = Some(format!("key {}", key.name));
            return out;
        }
    }
    out.failed(
        "signature",
        format!("invalid signature: no trusted public key verifies the signature over {digest}"),
    )
}

/// What a verified document means for the artifact it was sent for, when
/// it does not count for it: it counts only for its own subjects (also
/// `cairn verify`'s check on a developer's machine).
pub fn coverage_note(artifact_digest: Option<&str>, subjects: &[Subject]) -> Option<String> {
    let covered: Vec<&str> = subjects.iter().map(|s| s.digest.as_str()).collect();
    match artifact_digest {
        Some(d) if covered.contains(&d) => None,
        Some(d) => Some(format!(
            "verified, but it does not cover the artifact's digest {d} (it covers {}): it is not evidence for this artifact",
            if covered.is_empty() { "no digest".to_owned() } else { covered.join(", ") }
        )),
        None => Some(
            "verified, but the artifact has no digest yet: the document counts for it only once the artifact's digest is one of its subjects"
                .into(),
        ),
    }
}

#[cfg(test)]
mod signature_cap_tests {
    use sha2::{Digest, Sha256};

    use super::*;

    /// An envelope of `n` signatures, the last one valid, and the key.
    fn envelope(n: usize) -> (String, TrustSet) {
        let keypair = sigstore_verify::crypto::KeyPair::generate_ecdsa_p256().unwrap();
        let (der, algorithm) =
            trust::public_key(&keypair.public_key_der().unwrap().to_pem()).unwrap();
        let statement = serde_json::json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://example.com/p",
            "subject": [{"name": "a", "digest": {"sha256": hex::encode(Sha256::digest(b"a"))}}], "predicate": {}});
        let payload = statement.to_string();
        let pae = sigstore_verify::types::pae("application/vnd.in-toto+json", payload.as_bytes());
        let good = B64.encode(keypair.sign(&pae).unwrap().as_bytes());
        let mut sigs = vec![serde_json::json!({"sig": B64.encode(b"not it")}); n - 1];
        sigs.push(serde_json::json!({"sig": good}));
        let env = serde_json::json!({"payloadType": "application/vnd.in-toto+json",
            "payload": B64.encode(&payload), "signatures": sigs});
        let trust = TrustSet {
            roots: vec![],
            keys: vec![TrustedKey {
                id: 1,
                name: "k".into(),
                der,
                algorithm,
                builder_id: None,
            }],
        };
        (env.to_string(), trust)
    }

    #[test]
    fn dsse_signatures_are_capped() {
        let (env, trust) = envelope(MAX_DSSE_SIGNATURES);
        let pieces = read(env.as_bytes()).unwrap();
        let out = verify(&pieces[0], &trust, None, &Expect::default());
        assert!(out.verified, "{:?}", out.reason);
        let (env, _) = envelope(MAX_DSSE_SIGNATURES + 1);
        let e = read(env.as_bytes()).unwrap_err();
        assert!(!e.malformed);
        assert_eq!(
            e.detail,
            "the DSSE envelope has 17 signatures; at most 16 are accepted"
        );
        // 10 000 signatures, each once verified with every trusted key.
        let (env, _) = envelope(10_000);
        assert!(read(env.as_bytes())
            .unwrap_err()
            .detail
            .contains("at most 16"));
    }
}
