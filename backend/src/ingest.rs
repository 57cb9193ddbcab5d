//! SBOM ingestion: identify, parse, compress and store one uploaded
//! document in a single transaction.

use std::sync::atomic::{AtomicI64, Ordering};

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::auth::Caller;
use crate::domain::{Label, ProjectName, Sha256Digest};
use crate::error::{ApiError, ApiResult};
use crate::sbom;
use crate::store::{self, sboms::SbomSummary};
use crate::upload::{self, Upload};

/// Uploads of at least this many components refresh planner statistics.
const LARGE_SBOM: usize = 10_000;

/// PostgreSQL plans portfolio searches from table statistics. Autovacuum
/// refreshes them eventually, but bulk uploads outrun it (and some servers
/// run without it), leaving searches planned for an empty table. Large
/// uploads refresh them in the background, at most once a minute.
fn refresh_statistics(pool: &PgPool) {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    if now - last < 60
        || LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Err(e) = store::sboms::analyze(&pool).await {
            tracing::warn!(error = %e, "refreshing planner statistics failed");
        }
    });
}

/// The artifact an upload belongs to (SBOMs, Go build info, go.mod files).
pub struct ArtifactTarget {
    pub project: ProjectName,
    pub artifact: Label,
    pub version: Label,
    pub digest: Option<Sha256Digest>,
}

impl ArtifactTarget {
    /// Validates the upload's query parameters; each error names the one at fault.
    pub fn parse(
        project: &str,
        artifact: &str,
        version: &str,
        digest: Option<&str>,
    ) -> ApiResult<Self> {
        Ok(ArtifactTarget {
            project: ProjectName::parse(project).map_err(ApiError::bad_request)?,
            artifact: Label::parse("artifact", artifact).map_err(ApiError::bad_request)?,
            version: Label::parse("version", version).map_err(ApiError::bad_request)?,
            digest: digest
                .map(Sha256Digest::parse)
                .transpose()
                .map_err(ApiError::bad_request)?,
        })
    }

    /// Finds or creates the artifact (and its project) inside `tx`.
    pub async fn artifact_id(
        &self,
        tx: &mut sqlx::PgConnection,
        digest: Option<&str>,
    ) -> ApiResult<i64> {
        artifact_id(tx, &self.project, &self.artifact, &self.version, digest).await
    }
}

/// The artifact's id, created with its project on first use; a digest that
/// contradicts the recorded one is a 409.
pub async fn artifact_id(
    tx: &mut sqlx::PgConnection,
    project: &ProjectName,
    artifact: &Label,
    version: &Label,
    digest: Option<&str>,
) -> ApiResult<i64> {
    store::inventory::upsert_artifact(
        tx,
        project.as_str(),
        artifact.as_str(),
        version.as_str(),
        digest,
    )
    .await?
    .map_err(|stored| {
        ApiError::conflict(format!(
            "artifact {} {} of project {} is recorded with digest {stored}, not {}",
            artifact.as_str(),
            version.as_str(),
            project.as_str(),
            digest.unwrap_or_default()
        ))
    })
}

pub enum Ingested {
    /// Stored now.
    Created(SbomSummary),
    /// The same document was already stored for this artifact.
    Existing(SbomSummary),
}

/// What another capability records about an SBOM upload, in the SBOM's
/// own transaction when it is stored now (for a document already stored,
/// in a transaction of its own): `dtrack` records its upload token there,
/// so an upload is never stored without it, nor it without the upload.
pub trait AfterIngest: Sync {
    /// Nothing to record: no transaction is opened for it.
    fn is_noop(&self) -> bool {
        false
    }

    fn stored(
        &self,
        tx: &mut sqlx::PgConnection,
        artifact_id: i64,
        sbom_id: i64,
    ) -> impl std::future::Future<Output = ApiResult<()>> + Send;
}

impl AfterIngest for () {
    fn is_noop(&self) -> bool {
        true
    }

    async fn stored(&self, _: &mut sqlx::PgConnection, _: i64, _: i64) -> ApiResult<()> {
        Ok(())
    }
}

pub async fn ingest_sbom(
    pool: &PgPool,
    target: &ArtifactTarget,
    upload: Upload,
    caller: &Caller,
) -> ApiResult<Ingested> {
    ingest_sbom_with(pool, target, upload, caller, &()).await
}

/// [`ingest_sbom`], with `after` run in the same transaction.
pub async fn ingest_sbom_with(
    pool: &PgPool,
    target: &ArtifactTarget,
    upload: Upload,
    caller: &Caller,
    after: &impl AfterIngest,
) -> ApiResult<Ingested> {
    let doc = upload.document;
    let content_sha256 = tokio::task::block_in_place(|| Sha256::digest(&doc).to_vec());
    if let Some(existing) = find_existing(pool, target, &content_sha256).await? {
        // Same document again: still, a digest given now must agree.
        if target.digest.is_some() || !after.is_noop() {
            let mut tx = pool.begin().await?;
            if let Some(digest) = &target.digest {
                target.artifact_id(&mut tx, Some(digest.as_str())).await?;
            }
            after
                .stored(&mut tx, existing.artifact_id, existing.id)
                .await?;
            tx.commit().await?;
        }
        return Ok(Ingested::Existing(existing));
    }

    // Compression runs on a blocking thread while this one parses.
    let compress = upload.gzip.clone().map_or_else(
        || {
            let doc = doc.clone();
            Some(tokio::task::spawn_blocking(move || upload::gzip(&doc)))
        },
        |_| None,
    );
    let input = tokio::task::block_in_place(|| sbom::Input::new(&doc))?;
    let parsed = tokio::task::block_in_place(|| input.parse())?;
    // Stored with the SBOM: rules and the dashboard read the scores without
    // the document (see migrations/0022_sbom_quality.sql).
    let quality = sbom::quality::score(&parsed).summary();
    let gzip = match (compress, &upload.gzip) {
        (Some(task), _) => task.await.map_err(|e| {
            tracing::error!(error = %e, "compression task failed");
            ApiError::internal()
        })?,
        (None, Some(received)) => received.to_vec(),
        (None, None) => unreachable!("either received gzip or compressing"),
    };

    // An in-toto statement naming exactly one sha256 subject identifies the artifact.
    let envelope_digest = parsed
        .envelope
        .as_ref()
        .and_then(|e| match e.subjects.as_slice() {
            [(_, Some(hex))] => Sha256Digest::parse(&format!("sha256:{hex}")).ok(),
            _ => None,
        });
    let digest = target.digest.as_ref().or(envelope_digest.as_ref());

    let mut tx = pool.begin().await?;
    let artifact_id = target
        .artifact_id(&mut tx, digest.map(Sha256Digest::as_str))
        .await?;
    let new = store::sboms::NewSbom {
        artifact_id,
        content_sha256: &content_sha256,
        parsed: &parsed,
        document_size: doc.len() as i64,
        gzip: &gzip,
        uploaded_by: caller.token_id,
        quality: &quality,
    };
    let Some(id) = store::sboms::insert(&mut tx, &new).await? else {
        // A concurrent upload of the same document committed first.
        tx.rollback().await?;
        let existing = find_existing(pool, target, &content_sha256)
            .await?
            .ok_or_else(ApiError::internal)?;
        if !after.is_noop() {
            let mut tx = pool.begin().await?;
            after
                .stored(&mut tx, existing.artifact_id, existing.id)
                .await?;
            tx.commit().await?;
        }
        return Ok(Ingested::Existing(existing));
    };
    // New evidence: the artifact is (re-)judged by the policy worker.
    store::policies::enqueue(&mut tx, &[artifact_id], "sbom").await?;
    after.stored(&mut tx, artifact_id, id).await?;
    tx.commit().await?;
    if parsed.nodes.len() >= LARGE_SBOM {
        refresh_statistics(pool);
    }
    tracing::info!(
        sbom = id,
        project = target.project.as_str(),
        components = parsed.component_count(),
        "SBOM stored"
    );
    store::sboms::get(pool, id)
        .await?
        .map(Ingested::Created)
        .ok_or_else(ApiError::internal)
}

async fn find_existing(
    pool: &PgPool,
    target: &ArtifactTarget,
    content_sha256: &[u8],
) -> ApiResult<Option<SbomSummary>> {
    Ok(store::sboms::find_by_content(
        pool,
        target.project.as_str(),
        target.artifact.as_str(),
        target.version.as_str(),
        content_sha256,
    )
    .await?)
}

/// Scores the SBOMs stored before quality scores existed, one at a time
/// from their stored documents (so memory stays that of one document), and
/// queues their artifacts' policy evaluation; returns how many it scored.
/// Run in the background at start; several instances may run it at once
/// (the same document gives the same scores, the update is idempotent).
/// A document that no longer parses is skipped with a warning.
pub async fn backfill_quality(pool: &PgPool) -> sqlx::Result<u64> {
    let (mut after, mut scored) = (0i64, 0u64);
    while let Some((id, artifact_id, size)) = store::sboms::next_unscored(pool, after).await? {
        after = id;
        let Some(gzip) = store::sboms::document_gzip(pool, id).await? else {
            continue;
        };
        let score = tokio::task::spawn_blocking(move || {
            let doc = upload::gunzip(&gzip, size.max(0) as usize).map_err(|e| e.to_string())?;
            sbom::quality::score_document(&doc)
                .map(|r| r.summary())
                .map_err(|e| e.to_string())
        })
        .await;
        let summary = match score {
            Ok(Ok(summary)) => summary,
            Ok(Err(e)) => {
                tracing::warn!(sbom = id, error = %e, "scoring a stored SBOM's quality failed");
                continue;
            }
            Err(e) => {
                tracing::warn!(sbom = id, error = %e, "scoring task failed");
                continue;
            }
        };
        let mut tx = pool.begin().await?;
        if store::sboms::set_quality(&mut *tx, id, &summary).await? {
            store::policies::enqueue(&mut tx, &[artifact_id], "sbom").await?;
            scored += 1;
        }
        tx.commit().await?;
    }
    Ok(scored)
}
