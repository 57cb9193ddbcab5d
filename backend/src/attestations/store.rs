//! Attestations (every verification attempt), their subjects, and the trust
//! roots added by admins.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use super::core::{Identity, Provenance};

/// A subject of an attestation and the artifacts it links to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubjectLink {
    pub name: Option<String>,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Artifacts with this digest.
    pub artifact_ids: Vec<i64>,
    /// No artifact has this digest yet: the link waits for one.
    pub pending: bool,
}

/// One stored verification attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AttestationRecord {
    pub id: i64,
    /// The artifact the upload named, if any.
    pub artifact_id: Option<i64>,
    /// `sigstore-bundle`, `cosign-bundle`, `dsse-envelope`, `detached-signature`.
    pub kind: String,
    pub media_type: Option<String>,
    /// Line of a JSON-lines upload.
    pub line: i32,
    /// Only a verified attestation is evidence.
    pub verified: bool,
    /// The check that failed: `signature`, `certificate`, `sct`,
    /// `inclusion-proof`, `checkpoint`, `signed-entry-timestamp`,
    /// `log-entry`, `integrated-time`, `transparency-log`, `timestamp`,
    /// `artifact-digest`, `identity`, `issuer`, `trust`, `statement`, `bundle`.
    pub failed_check: Option<String>,
    /// Why verification failed, exactly.
    pub reason: Option<String>,
    /// The signer: verified, or as the certificate claims when not verified.
    #[sqlx(json(nullable))]
    pub identity: Option<Identity>,
    /// The trusted root or key that verified it.
    pub trusted_by: Option<String>,
    pub rekor_log_index: Option<i64>,
    pub rekor_integrated_time: Option<DateTime<Utc>>,
    /// in-toto predicate type, e.g. `https://slsa.dev/provenance/v1`.
    pub predicate_type: Option<String>,
    /// SLSA provenance fields (v0.2 and v1).
    #[sqlx(json(nullable))]
    pub provenance: Option<Provenance>,
    #[sqlx(json)]
    pub subjects: Vec<SubjectLink>,
    /// Signer identity / issuer the upload required.
    pub expected_identity: Option<String>,
    pub expected_issuer: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

const RECORD: &str = "
    SELECT t.id, t.artifact_id, t.kind, t.media_type, t.line, t.verified, t.failed_check,
           t.reason, t.identity, t.trusted_by, t.rekor_log_index, t.rekor_integrated_time,
           t.predicate_type, t.provenance, t.expected_identity, t.expected_issuer, t.uploaded_at,
           (SELECT coalesce(json_agg(json_build_object(
                     'name', s.name, 'digest', s.digest,
                     'artifact_ids', coalesce((SELECT json_agg(a.id ORDER BY a.id)
                                                 FROM artifacts a WHERE a.digest = s.digest), '[]'::json),
                     'pending', NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.digest = s.digest))
                     ORDER BY s.ordinal), '[]'::json)
              FROM attestation_subjects s WHERE s.attestation_id = t.id) AS subjects
    FROM attestations t";

pub struct NewAttestation<'a> {
    pub artifact_id: Option<i64>,
    pub kind: &'a str,
    pub media_type: Option<&'a str>,
    pub line: i32,
    pub content_sha256: &'a [u8],
    pub document: &'a [u8],
    pub verified: bool,
    pub failed_check: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub identity: Option<serde_json::Value>,
    pub trusted_by: Option<&'a str>,
    pub rekor_log_index: Option<i64>,
    pub rekor_integrated_time: Option<DateTime<Utc>>,
    pub predicate_type: Option<&'a str>,
    pub provenance: Option<serde_json::Value>,
    pub expected_identity: Option<&'a str>,
    pub expected_issuer: Option<&'a str>,
    pub uploaded_by: i64,
    /// (name, digest) in order.
    pub subjects: Vec<(Option<String>, String)>,
}

/// Stores one attempt and its subjects (two statements).
pub async fn insert(tx: &mut PgConnection, n: &NewAttestation<'_>) -> sqlx::Result<Stored> {
    let san = n
        .identity
        .as_ref()
        .and_then(|i| i.get("san"))
        .and_then(|v| v.as_str());
    let issuer = n
        .identity
        .as_ref()
        .and_then(|i| i.get("issuer"))
        .and_then(|v| v.as_str());
    let prov = |k: &str| {
        n.provenance
            .as_ref()
            .and_then(|p| p.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    // A verified document is stored once: a concurrent identical upload
    // inserts nothing here and the caller finds the stored row.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO attestations (artifact_id, kind, media_type, line, content_sha256, document,
             verified, failed_check, reason, signer_san, signer_issuer, identity, trusted_by,
             rekor_log_index, rekor_integrated_time, predicate_type, provenance, builder_id,
             source_repository, source_commit, expected_identity, expected_issuer, uploaded_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)
         ON CONFLICT (content_sha256) WHERE verified DO NOTHING
         RETURNING id",
    )
    .bind(n.artifact_id)
    .bind(n.kind)
    .bind(n.media_type)
    .bind(n.line)
    .bind(n.content_sha256)
    .bind(n.document)
    .bind(n.verified)
    .bind(n.failed_check)
    .bind(n.reason)
    .bind(san)
    .bind(issuer)
    .bind(&n.identity)
    .bind(n.trusted_by)
    .bind(n.rekor_log_index)
    .bind(n.rekor_integrated_time)
    .bind(n.predicate_type)
    .bind(&n.provenance)
    .bind(prov("builder_id"))
    .bind(prov("source_repository"))
    .bind(prov("source_commit"))
    .bind(n.expected_identity)
    .bind(n.expected_issuer)
    .bind(n.uploaded_by)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(Stored::Existing(
            verified_by_content(&mut *tx, n.content_sha256)
                .await?
                .expect("the conflicting row exists"),
        ));
    };
    let (names, digests): (Vec<Option<String>>, Vec<String>) = n.subjects.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO attestation_subjects (attestation_id, ordinal, name, digest)
         SELECT $1, s.ord::int - 1, s.name, s.digest
           FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(name, digest, ord)",
    )
    .bind(id)
    .bind(&names)
    .bind(&digests)
    .execute(&mut *tx)
    .await?;
    Ok(Stored::New(id))
}

/// Where a document ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// The same document was stored already (this id).
    Existing(i64),
}

/// The verified attestation with exactly these bytes, if any.
pub async fn verified_by_content(
    db: impl PgExecutor<'_>,
    content_sha256: &[u8],
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM attestations WHERE verified AND content_sha256 = $1")
        .bind(content_sha256)
        .fetch_optional(db)
        .await
}

/// An unverified attempt with these bytes that failed the same way for the
/// same artifact, if any: trying again changes nothing.
pub async fn same_failed_attempt(
    db: impl PgExecutor<'_>,
    content_sha256: &[u8],
    artifact_id: Option<i64>,
    reason: Option<&str>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM attestations
          WHERE NOT verified AND content_sha256 = $1
            AND artifact_id IS NOT DISTINCT FROM $2 AND reason IS NOT DISTINCT FROM $3
          LIMIT 1",
    )
    .bind(content_sha256)
    .bind(artifact_id)
    .bind(reason)
    .fetch_optional(db)
    .await
}

/// How many unverified attempts are kept for this artifact (or, without
/// one, for uploads that named no artifact).
pub async fn failed_attempts(
    db: impl PgExecutor<'_>,
    artifact_id: Option<i64>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM attestations
          WHERE NOT verified AND artifact_id IS NOT DISTINCT FROM $1",
    )
    .bind(artifact_id)
    .fetch_one(db)
    .await
}

/// The verified evidence for a digest: every verified attestation one of
/// whose subjects (or signed digest) is exactly `digest`. Nothing else
/// counts for an artifact — not the artifact an upload named, not an
/// unverified attempt — and nothing is left out (no limit: unverified
/// attempts cannot crowd out verified ones).
pub async fn verified_for_digest(
    db: impl PgExecutor<'_>,
    digest: &str,
) -> sqlx::Result<Vec<AttestationRecord>> {
    sqlx::query_as(&format!(
        "{RECORD}
         WHERE t.verified AND EXISTS (SELECT 1 FROM attestation_subjects s
                                       WHERE s.attestation_id = t.id AND s.digest = $1)
         ORDER BY t.id"
    ))
    .bind(digest)
    .fetch_all(db)
    .await
}

/// `verified_for_digest` for many digests in one read (each record lists
/// its subjects: the caller assigns it to the digests it covers).
pub async fn verified_for_digests(
    db: impl PgExecutor<'_>,
    digests: &[String],
) -> sqlx::Result<Vec<AttestationRecord>> {
    sqlx::query_as(&format!(
        "{RECORD}
         WHERE t.verified AND EXISTS (SELECT 1 FROM attestation_subjects s
                                       WHERE s.attestation_id = t.id AND s.digest = ANY($1))
         ORDER BY t.id"
    ))
    .bind(digests)
    .fetch_all(db)
    .await
}

/// Unverified attempts about these artifacts, newest first: uploaded for
/// one of them, or naming `digest` and uploaded for an artifact of the same
/// project. Shown, never counted; an uploader in another project cannot
/// attach attempts to these artifacts by naming their digest.
pub async fn failed_for_artifacts(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    digest: Option<&str>,
) -> sqlx::Result<Vec<AttestationRecord>> {
    sqlx::query_as(&format!(
        "{RECORD}
         WHERE NOT t.verified
           AND (t.artifact_id = ANY($1)
                OR ($2::text IS NOT NULL
                    AND EXISTS (SELECT 1 FROM attestation_subjects s
                                 WHERE s.attestation_id = t.id AND s.digest = $2)
                    AND t.artifact_id IN (
                        SELECT o.id FROM artifacts o
                         WHERE o.project_id IN (SELECT a.project_id FROM artifacts a
                                                 WHERE a.id = ANY($1)))))
         ORDER BY t.id DESC"
    ))
    .bind(artifact_ids)
    .bind(digest)
    .fetch_all(db)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<AttestationRecord>> {
    sqlx::query_as(&format!("{RECORD} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn get_many(
    db: impl PgExecutor<'_>,
    ids: &[i64],
) -> sqlx::Result<Vec<AttestationRecord>> {
    sqlx::query_as(&format!("{RECORD} WHERE t.id = ANY($1) ORDER BY t.id"))
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Attestations, newest first, optionally only verified/failed ones or
/// only those with a pending subject.
pub async fn list(
    db: impl PgExecutor<'_>,
    verified: Option<bool>,
    pending: Option<bool>,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AttestationRecord>> {
    sqlx::query_as(&format!(
        "{RECORD}
         WHERE ($1::boolean IS NULL OR t.verified = $1)
           AND ($2::boolean IS NULL OR $2 = EXISTS (
                 SELECT 1 FROM attestation_subjects s WHERE s.attestation_id = t.id
                    AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.digest = s.digest)))
           AND ($3::bigint IS NULL OR t.id < $3)
         ORDER BY t.id DESC LIMIT $4"
    ))
    .bind(verified)
    .bind(pending)
    .bind(before_id)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

/// An artifact's digest.
pub async fn digest_of(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT digest FROM artifacts WHERE id = $1")
        .bind(artifact_id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// The artifacts recorded with this digest.
pub async fn artifacts_with_digest(
    db: impl PgExecutor<'_>,
    digest: &str,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM artifacts WHERE digest = $1 ORDER BY id")
        .bind(digest)
        .fetch_all(db)
        .await
}

/// Is any attestation about this digest?
pub async fn digest_known(db: impl PgExecutor<'_>, digest: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attestation_subjects WHERE digest = $1)")
        .bind(digest)
        .fetch_one(db)
        .await
}

// --- trust roots -------------------------------------------------------------

/// A trust root or key an admin added.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct TrustRootSummary {
    /// Absent for the built-in Sigstore public-good root.
    pub id: Option<i64>,
    /// `sigstore-root` or `public-key`.
    pub kind: String,
    pub name: String,
    /// Hex SHA-256 of the document (roots) or of the DER key (keys).
    pub fingerprint: String,
    pub builtin: bool,
    pub created_at: Option<DateTime<Utc>>,
    /// The OIDC issuers a Sigstore root may vouch for; null: any but the
    /// public-good instance's (for the public-good root itself: any).
    pub issuers: Option<Vec<String>>,
    /// Certificate SAN globs a Sigstore root may vouch for; null: any.
    pub identities: Option<Vec<String>>,
    /// For a public key: the SLSA builder whose key it is.
    pub builder_id: Option<String>,
}

#[derive(sqlx::FromRow)]
pub struct TrustRootRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub document: String,
    pub issuers: Option<Vec<String>>,
    pub identities: Option<Vec<String>>,
    pub builder_id: Option<String>,
}

/// What a trust root may vouch for, as configured when it is added.
#[derive(Debug, Clone, Default)]
pub struct TrustScope {
    pub issuers: Option<Vec<String>>,
    pub identities: Option<Vec<String>>,
    pub builder_id: Option<String>,
}

/// Inserts unless the same fingerprint exists; `(summary, created)`.
pub async fn insert_trust_root(
    tx: &mut PgConnection,
    kind: &str,
    name: &str,
    document: &str,
    fingerprint: &[u8],
    scope: &TrustScope,
    created_by: i64,
) -> sqlx::Result<(TrustRootSummary, bool)> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO trust_roots (kind, name, document, fingerprint, issuers, identities,
                                  builder_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(name)
    .bind(document)
    .bind(fingerprint)
    .bind(&scope.issuers)
    .bind(&scope.identities)
    .bind(&scope.builder_id)
    .bind(created_by)
    .fetch_optional(&mut *tx)
    .await?;
    let summary = sqlx::query_as(
        "SELECT id, kind, name, encode(fingerprint, 'hex') AS fingerprint, false AS builtin,
                created_at, issuers, identities, builder_id
           FROM trust_roots WHERE fingerprint = $1",
    )
    .bind(fingerprint)
    .fetch_one(&mut *tx)
    .await?;
    Ok((summary, inserted.is_some()))
}

/// Added roots and keys by id, those after `after`; at most `limit`.
pub async fn list_trust_roots(
    db: impl PgExecutor<'_>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<TrustRootSummary>> {
    sqlx::query_as(
        "SELECT id, kind, name, encode(fingerprint, 'hex') AS fingerprint, false AS builtin,
                created_at, issuers, identities, builder_id
           FROM trust_roots WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn trust_documents(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TrustRootRow>> {
    sqlx::query_as(
        "SELECT id, kind, name, document, issuers, identities, builder_id
           FROM trust_roots ORDER BY id",
    )
    .fetch_all(db)
    .await
}

/// CI runs (from webhook records) that built this commit or are this run.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CiRunLink {
    pub id: i64,
    pub provider: String,
    pub provider_run_id: i64,
    pub run_attempt: i32,
    pub repository: String,
    pub workflow_name: Option<String>,
    pub event: Option<String>,
    pub head_sha: Option<String>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub url: Option<String>,
}

/// CI runs with one of these commits or run ids. Empty when the CI-run
/// table (webhooks, migration 0002) is not there.
pub async fn ci_runs(
    tx: &mut PgConnection,
    commits: &[String],
    run_ids: &[i64],
) -> sqlx::Result<Vec<CiRunLink>> {
    let present: bool = sqlx::query_scalar("SELECT to_regclass('ci_runs') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await?;
    if !present || (commits.is_empty() && run_ids.is_empty()) {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT id, provider, provider_run_id, run_attempt, repository, workflow_name, event,
                head_sha, status, conclusion, url
           FROM ci_runs
          WHERE head_sha = ANY($1) OR provider_run_id = ANY($2)
          ORDER BY id DESC LIMIT 50",
    )
    .bind(commits)
    .bind(run_ids)
    .fetch_all(&mut *tx)
    .await
}
