//! Use cases of signatures and attestations: upload (recognise, verify,
//! store every attempt in one transaction), trust management, and an
//! artifact's chain of custody.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::domain::{Label, ProjectName, Sha256Digest};
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::inventory::store::{self as inventory, ArtifactSummary, SbomBrief};
use crate::pagination::{Page, PageParams};

use super::core::{
    self as attest, coverage_note, statement, trust, Expect, Identity, Outcome, TrustSet,
    TrustedKey,
};
use super::store::{self, AttestationRecord, CiRunLink, NewAttestation};

/// Where an upload belongs: an artifact (project, name, version), and/or a
/// digest; or nothing, and the subjects link by digest.
pub struct Target {
    pub artifact: Option<(ProjectName, Label, Label)>,
    pub digest: Option<Sha256Digest>,
    pub expect: Expect,
}

/// The answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResult {
    /// Every document of the upload verified.
    pub verified: bool,
    /// Why not (the first failure; `line N:` for JSON lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signer (of the first document that has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Anything new was stored (false: every document was stored already,
    /// and the answer is the stored record; HTTP 200).
    pub stored: bool,
    /// What the upload means for the artifact it named: a verified document
    /// that does not cover the artifact's digest, attempts not stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The stored attempts, one per distinct document.
    pub attestations: Vec<AttestationRecord>,
}

/// The trust an upload is verified against: public-good + stored.
pub async fn trust_set(pool: &PgPool) -> ApiResult<TrustSet> {
    let rows = store::trust_documents(pool).await?;
    let mut set = TrustSet {
        roots: vec![trust::public_good()],
        keys: Vec::new(),
    };
    for row in rows {
        let built = match row.kind.as_str() {
            "sigstore-root" => trust::stored_root(
                row.id,
                &row.name,
                &row.document,
                trust::RootScope::configured(row.issuers.clone(), row.identities.clone()),
            )
            .map(|r| set.roots.push(r)),
            _ => trust::public_key(&row.document).map(|(der, algorithm)| {
                set.keys.push(TrustedKey {
                    id: row.id,
                    name: row.name.clone(),
                    der,
                    algorithm,
                    builder_id: row.builder_id.clone(),
                })
            }),
        };
        if let Err(e) = built {
            // Checked on the way in; a root that no longer parses is skipped, loudly.
            tracing::error!(trust_root = row.id, error = %e, "stored trust root is unusable");
        }
    }
    Ok(set)
}

pub async fn upload(
    pool: &PgPool,
    target: &Target,
    document: &[u8],
    caller: &Caller,
) -> ApiResult<UploadResult> {
    let pieces = tokio::task::block_in_place(|| attest::read(document)).map_err(|e| {
        if e.malformed {
            ApiError::malformed_json(e.detail)
        } else {
            ApiError::invalid_attestation(e.detail)
        }
    })?;
    // The digest the artifact is verified as: given, or already recorded.
    let known = match (&target.digest, &target.artifact) {
        (Some(d), _) => Some(d.as_str().to_owned()),
        (None, Some((p, a, v))) => {
            (crate::inventory::store::find_artifact(pool, p.as_str(), a.as_str(), v.as_str())
                .await?)
                .and_then(|a| a.digest)
        }
        (None, None) => None,
    };
    let trust = trust_set(pool).await?;
    let outcomes: Vec<Outcome> = tokio::task::block_in_place(|| {
        pieces
            .iter()
            .map(|p| attest::verify(p, &trust, known.as_deref(), &target.expect))
            .collect()
    });

    let mut tx = pool.begin().await?;
    let artifact_id = match &target.artifact {
        Some((p, a, v)) => {
            // Without a given digest, a verified single subject names the artifact.
            let derived = known.clone().or_else(|| match outcomes.as_slice() {
                [o] if o.verified => match o.subjects.as_slice() {
                    [s] if s.digest.starts_with("sha256:") => Some(s.digest.clone()),
                    _ => None,
                },
                _ => None,
            });
            let id = crate::inventory::service::artifact_id(&mut tx, p, a, v, derived.as_deref())
                .await?;
            Some(id)
        }
        None => None,
    };
    // The digest the artifact now has: what the documents must cover.
    let artifact_digest = match artifact_id {
        Some(id) => store::digest_of(&mut *tx, id).await?,
        None => None,
    };
    let mut ids = Vec::with_capacity(pieces.len());
    let mut notes = Vec::new();
    let mut stored_new = false;
    let several = pieces.len() > 1;
    let at = |n: usize| {
        if several {
            format!("line {}: ", n + 1)
        } else {
            String::new()
        }
    };
    for (n, (piece, out)) in pieces.iter().zip(&outcomes).enumerate() {
        let content_sha256 = Sha256::digest(&piece.raw);
        if out.verified && artifact_id.is_some() {
            if let Some(note) = coverage_note(artifact_digest.as_deref(), &out.subjects) {
                notes.push(format!("{}{note}", at(n)));
            }
        }
        if !out.verified {
            if let Some(id) = store::same_failed_attempt(
                &mut *tx,
                &content_sha256,
                artifact_id,
                out.reason.as_deref(),
            )
            .await?
            {
                ids.push(id);
                continue;
            }
            if store::failed_attempts(&mut *tx, artifact_id).await? >= MAX_FAILED_ATTEMPTS {
                notes.push(format!(
                    "{}not stored: {MAX_FAILED_ATTEMPTS} unverified attempts are kept for this artifact already",
                    at(n)
                ));
                continue;
            }
        }
        let statement = out.statement.as_ref();
        let new = NewAttestation {
            artifact_id,
            kind: piece.kind.as_str(),
            media_type: piece.media_type.as_deref(),
            line: n as i32 + 1,
            content_sha256: &content_sha256,
            document: &piece.raw,
            verified: out.verified,
            failed_check: out.check,
            reason: out.reason.as_deref(),
            identity: out
                .identity
                .as_ref()
                .map(|i| serde_json::to_value(i).expect("identity serialises")),
            trusted_by: out.trusted_by.as_deref(),
            rekor_log_index: out.rekor.as_ref().map(|r| r.log_index),
            rekor_integrated_time: out.rekor.as_ref().and_then(|r| r.integrated_time),
            predicate_type: statement.map(|s| s.predicate_type.as_str()),
            provenance: statement
                .and_then(|s| s.provenance.as_ref())
                .map(|p| serde_json::to_value(p).expect("provenance serialises")),
            expected_identity: target.expect.identity.as_deref(),
            expected_issuer: target.expect.issuer.as_deref(),
            uploaded_by: caller.token_id,
            subjects: out
                .subjects
                .iter()
                .map(|s| (s.name.clone(), s.digest.clone()))
                .collect(),
        };
        match store::insert(&mut tx, &new).await? {
            store::Stored::New(id) => {
                stored_new = true;
                ids.push(id)
            }
            store::Stored::Existing(id) => ids.push(id),
        }
    }
    // Verified evidence: its artifacts are (re-)judged by the policy worker
    // (the named artifact too: it may be new, with a digest the stored
    // document covers).
    if outcomes.iter().any(|o| o.verified) {
        crate::queue::evaluate(&mut tx, artifact_id.as_slice(), "attestation").await?;
    }
    if stored_new && outcomes.iter().any(|o| o.verified) {
        let digests: Vec<String> = outcomes
            .iter()
            .filter(|o| o.verified)
            .flat_map(|o| o.subjects.iter().map(|s| s.digest.clone()))
            .collect();
        crate::queue::evaluate_digests(&mut tx, &digests, "attestation").await?;
    }
    tx.commit().await?;
    for (id, out) in ids.iter().zip(&outcomes) {
        tracing::info!(
            attestation = id,
            verified = out.verified,
            check = out.check.unwrap_or(""),
            "attestation stored"
        );
    }
    ids.dedup();
    let attestations = store::get_many(pool, &ids).await?;
    let reason = outcomes
        .iter()
        .enumerate()
        .find_map(|(n, o)| o.reason.as_ref().map(|r| format!("{}{r}", at(n))));
    Ok(UploadResult {
        verified: outcomes.iter().all(|o| o.verified),
        reason,
        identity: outcomes.iter().find_map(|o| o.identity.clone()),
        stored: stored_new,
        notes,
        attestations,
    })
}

/// Most unverified attempts kept per artifact (or for uploads naming no
/// artifact): enough to diagnose, too few to flood a listing.
pub const MAX_FAILED_ATTEMPTS: i64 = 100;

/// Adds a Sigstore trusted root (JSON) or a PEM public key.
pub async fn add_trust(
    pool: &PgPool,
    pem: bool,
    name: Option<&str>,
    scope: &store::TrustScope,
    body: &[u8],
    caller: &Caller,
) -> ApiResult<(store::TrustRootSummary, bool)> {
    if pem && (scope.issuers.is_some() || scope.identities.is_some()) {
        return Err(ApiError::bad_request(
            "issuers and identities scope a Sigstore trusted root; a public key vouches for no certificate identity",
        ));
    }
    if !pem && scope.builder_id.is_some() {
        return Err(ApiError::bad_request(
            "builder binds a public key to an SLSA builder; a Sigstore root's builders are the certificate identities it vouches for",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_trust_root("the body is not UTF-8 text"))?;
    let (kind, fingerprint, default_name) = if pem {
        let (der, _) = trust::public_key(text).map_err(ApiError::invalid_trust_root)?;
        let fp = trust::key_fingerprint(&der);
        (
            "public-key",
            Sha256::digest(der.as_bytes()).to_vec(),
            format!("key {}", &fp[7..19]),
        )
    } else {
        tokio::task::block_in_place(|| trust::sigstore_root(text))
            .map_err(ApiError::invalid_trust_root)?;
        let fp = Sha256::digest(text.as_bytes()).to_vec();
        let name = format!("trusted root {}", &hex::encode(&fp)[..12]);
        ("sigstore-root", fp, name)
    };
    let name = match name {
        Some(n) => Label::parse("name", n)
            .map_err(ApiError::bad_request)?
            .as_str()
            .to_owned(),
        None => default_name,
    };
    let mut tx = pool.begin().await?;
    let out = store::insert_trust_root(
        &mut tx,
        kind,
        &name,
        text,
        &fingerprint,
        scope,
        caller.token_id,
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

pub fn builtin_root() -> store::TrustRootSummary {
    store::TrustRootSummary {
        id: None,
        kind: "sigstore-root".into(),
        name: trust::PUBLIC_GOOD_NAME.into(),
        fingerprint: hex::encode(Sha256::digest(trust::PUBLIC_GOOD_ROOT.as_bytes())),
        builtin: true,
        created_at: None,
        issuers: None,
        identities: None,
        builder_id: None,
    }
}

/// A page of trust: the built-in root opens the first page, then the added
/// roots and keys by id.
pub async fn trust_root_page(
    pool: &PgPool,
    page: &PageParams,
) -> ApiResult<Page<store::TrustRootSummary>> {
    let limit = page.limit()?;
    let after: Option<i64> = page.after()?;
    let mut rows = Vec::new();
    if after.is_none() {
        rows.push(builtin_root());
    }
    // One row more than the page holds tells whether there is a next page.
    let room = limit + 1 - rows.len() as i64;
    rows.extend(store::list_trust_roots(pool, after.unwrap_or(0), room).await?);
    Ok(Page::from_rows(rows, limit, |r| r.id.unwrap_or(0)))
}

// --- chain of custody --------------------------------------------------------

/// The source the artifact was built from, as verified evidence says.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SourceLink {
    pub repository: Option<String>,
    pub commit: String,
    pub git_ref: Option<String>,
    /// `provenance` or `signing-certificate`.
    pub from: String,
}

/// An artifact's evidence: source commit → CI run → artifact digest →
/// SBOMs → signatures (with identity) → provenance (with builder).
#[derive(Debug, Serialize, ToSchema)]
pub struct Evidence {
    /// `sha256:<hex>` when known.
    pub digest: Option<String>,
    /// The artifact(s): one for `/artifacts/{id}`, every artifact with the
    /// digest for `/by-digest`.
    pub artifacts: Vec<ArtifactSummary>,
    /// Source commits named by verified provenance or signer certificates.
    pub sources: Vec<SourceLink>,
    /// CI runs (from webhook records) of those commits or runs.
    pub ci_runs: Vec<CiRunLink>,
    pub sboms: Vec<SbomBrief>,
    /// Verified signatures (message signatures, cosign, detached, and
    /// non-provenance attestations), with their signer.
    pub signatures: Vec<AttestationRecord>,
    /// Verified SLSA provenance, with builder and source.
    pub provenance: Vec<AttestationRecord>,
    /// Attempts that did not verify, with the failed check and the reason.
    /// Never counted as signatures.
    pub failed: Vec<AttestationRecord>,
    pub signature_count: usize,
    pub provenance_count: usize,
    pub failed_count: usize,
}

pub async fn evidence_for_artifact(pool: &PgPool, id: i64) -> ApiResult<Evidence> {
    let artifact = inventory::get_artifact(pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {id}")))?;
    let digest = artifact.digest.clone();
    build(pool, digest, vec![artifact]).await
}

pub async fn artifacts_by_digest(
    pool: &PgPool,
    digest: &Sha256Digest,
) -> ApiResult<Vec<ArtifactSummary>> {
    let ids = store::artifacts_with_digest(pool, digest.as_str()).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(a) = inventory::get_artifact(pool, id).await? {
            out.push(a);
        }
    }
    Ok(out)
}

pub async fn evidence_for_digest(pool: &PgPool, digest: &Sha256Digest) -> ApiResult<Evidence> {
    let artifacts = artifacts_by_digest(pool, digest).await?;
    if artifacts.is_empty() && !store::digest_known(pool, digest.as_str()).await? {
        return Err(ApiError::not_found(format!(
            "no artifact and no attestation has digest {digest}"
        )));
    }
    build(pool, Some(digest.as_str().to_owned()), artifacts).await
}

async fn build(
    pool: &PgPool,
    digest: Option<String>,
    artifacts: Vec<ArtifactSummary>,
) -> ApiResult<Evidence> {
    let ids: Vec<i64> = artifacts.iter().map(|a| a.id).collect();
    // Verified evidence counts for the digest it covers, nothing else.
    let verified = match &digest {
        Some(d) => store::verified_for_digest(pool, d).await?,
        None => Vec::new(),
    };
    let failed = store::failed_for_artifacts(pool, &ids, digest.as_deref()).await?;
    let mut sboms = Vec::new();
    for id in &ids {
        for s in crate::sboms::store::list_for_artifact(pool, *id).await? {
            sboms.push(SbomBrief {
                id: s.id,
                format: s.format,
                spec_version: s.spec_version,
                tool: s.tool,
                component_count: s.component_count,
                uploaded_at: s.uploaded_at,
            });
        }
    }
    let (provenance, signatures): (Vec<_>, Vec<_>) =
        verified.into_iter().partition(|r| r.provenance.is_some());

    let mut sources = Vec::new();
    let mut commits = BTreeSet::new();
    let mut run_ids = BTreeSet::new();
    for r in &provenance {
        let p = r.provenance.as_ref().expect("partitioned on provenance");
        if let Some(c) = &p.source_commit {
            push_source(
                &mut sources,
                p.source_repository.clone(),
                c,
                p.source_ref.clone(),
                "provenance",
            );
            commits.insert(c.clone());
        }
        if let Some(run) = p
            .invocation_id
            .as_deref()
            .and_then(statement::github_run_id)
        {
            run_ids.insert(run);
        }
    }
    for r in provenance.iter().chain(&signatures) {
        if let Some(i) = &r.identity {
            if let Some(c) = &i.workflow_sha {
                push_source(
                    &mut sources,
                    i.workflow_repository.clone(),
                    c,
                    i.workflow_ref.clone(),
                    "signing-certificate",
                );
                commits.insert(c.clone());
            }
            if let Some(run) = i.run_url.as_deref().and_then(statement::github_run_id) {
                run_ids.insert(run);
            }
        }
    }
    let mut conn = pool.acquire().await?;
    let ci_runs = store::ci_runs(
        &mut conn,
        &commits.into_iter().collect::<Vec<_>>(),
        &run_ids.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    Ok(Evidence {
        digest,
        artifacts,
        sources,
        ci_runs,
        sboms,
        signature_count: signatures.len(),
        provenance_count: provenance.len(),
        failed_count: failed.len(),
        signatures,
        provenance,
        failed,
    })
}

fn push_source(
    sources: &mut Vec<SourceLink>,
    repository: Option<String>,
    commit: &str,
    git_ref: Option<String>,
    from: &str,
) {
    if !sources.iter().any(|s| s.commit == commit) {
        sources.push(SourceLink {
            repository,
            commit: commit.to_owned(),
            git_ref,
            from: from.to_owned(),
        });
    }
}
