//! Use cases of SBOMs: ingestion (identify, parse, compress and store one
//! uploaded document in a single transaction), an SBOM's breakdowns,
//! components and quality, and the portfolio-wide component search.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::domain::Sha256Digest;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::inventory::service::ArtifactTarget;
use crate::pagination::{nonempty, Page, PageParams};
use crate::upload::{self, Upload};

use super::core::quality::{self, QualityReport};
use super::core::{self as sbom};
use super::store::components::{self, ComponentHit, ComponentQuery, SearchCursor};
use super::store::{self as sboms, SbomComponent, SbomSummary, Tally};

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
        if let Err(e) = sboms::analyze(&pool).await {
            tracing::warn!(error = %e, "refreshing planner statistics failed");
        }
    });
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
    let quality = quality::score(&parsed).summary();
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
    let new = sboms::NewSbom {
        artifact_id,
        content_sha256: &content_sha256,
        parsed: &parsed,
        document_size: doc.len() as i64,
        gzip: &gzip,
        uploaded_by: caller.token_id,
        quality: &quality,
    };
    let Some(id) = sboms::insert(&mut tx, &new).await? else {
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
    crate::queue::evaluate(&mut tx, &[artifact_id], "sbom").await?;
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
    sboms::get(pool, id)
        .await?
        .map(Ingested::Created)
        .ok_or_else(ApiError::internal)
}

async fn find_existing(
    pool: &PgPool,
    target: &ArtifactTarget,
    content_sha256: &[u8],
) -> ApiResult<Option<SbomSummary>> {
    Ok(sboms::find_by_content(
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
    while let Some((id, artifact_id, size)) = sboms::next_unscored(pool, after).await? {
        after = id;
        let Some(gzip) = sboms::document_gzip(pool, id).await? else {
            continue;
        };
        let score = tokio::task::spawn_blocking(move || {
            let doc = upload::gunzip(&gzip, size.max(0) as usize).map_err(|e| e.to_string())?;
            quality::score_document(&doc)
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
        if sboms::set_quality(&mut *tx, id, &summary).await? {
            crate::queue::evaluate(&mut tx, &[artifact_id], "sbom").await?;
            scored += 1;
        }
        tx.commit().await?;
    }
    Ok(scored)
}

/// An SBOM with its breakdowns.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomDetail {
    #[serde(flatten)]
    pub sbom: SbomSummary,
    /// Components by ecosystem (purl type).
    pub ecosystems: Vec<Tally>,
    /// Components by licence expression.
    pub licenses: Vec<Tally>,
}

/// The SBOM `id` with its breakdowns, or a 404.
pub async fn detail(pool: &PgPool, id: i64) -> ApiResult<SbomDetail> {
    let sbom = sboms::get(pool, id).await?.ok_or_else(|| no_sbom(id))?;
    Ok(SbomDetail {
        sbom,
        ecosystems: sboms::ecosystems(pool, id).await?,
        licenses: sboms::licenses(pool, id).await?,
    })
}

pub fn no_sbom(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no SBOM {id}"))
}

/// An SBOM scored against the quality profiles.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomQuality {
    pub sbom_id: i64,
    /// `ntia`, `cisa-2025` and `bsi-tr-03183-2`: score (0-100, one
    /// decimal, weighted coverage) and each field's coverage.
    pub profiles: QualityReport,
}

/// The SBOM `id` scored again from its stored original document.
pub async fn quality(pool: &PgPool, id: i64) -> ApiResult<SbomQuality> {
    let sbom = sboms::get(pool, id).await?.ok_or_else(|| no_sbom(id))?;
    let stored = sboms::document_gzip(pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    // The stored document is at most its recorded size (itself within
    // CAIRN_MAX_UPLOAD when it was accepted), and it parsed then.
    let size = sbom.document_size.max(0) as usize;
    let profiles = tokio::task::block_in_place(|| {
        let doc = upload::gunzip(&stored, size)?;
        quality::score_document(&doc).map_err(|e| {
            tracing::error!(sbom = id, error = %e, "a stored SBOM no longer parses");
            ApiError::internal()
        })
    })?;
    Ok(SbomQuality {
        sbom_id: id,
        profiles,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComponentFilter {
    /// Case-insensitive text to find in the name or purl.
    pub q: Option<String>,
    /// Component type (`library`, `application`, `operating-system`, ...).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

/// A page of the SBOM's components, in document order.
pub async fn component_page(
    pool: &PgPool,
    id: i64,
    filter: &ComponentFilter,
    page: &PageParams,
) -> ApiResult<Page<SbomComponent>> {
    if sboms::get(pool, id).await?.is_none() {
        return Err(no_sbom(id));
    }
    let limit = page.limit()?;
    let rows = sboms::list_components(
        pool,
        id,
        nonempty(&filter.q),
        nonempty(&filter.kind),
        page.after()?,
        limit,
    )
    .await?;
    Ok(Page::from_rows(rows, limit, |c| c.ordinal))
}

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ComponentSearch {
    /// Package URL prefix, e.g. `pkg:golang/golang.org/x/net` or
    /// `pkg:golang/golang.org/x/net@v0.7.0`.
    pub purl: Option<String>,
    /// Exact component name (when `purl` is not given).
    pub name: Option<String>,
    /// Exact version, with `name`.
    pub version: Option<String>,
}

/// A page of the portfolio's components matching `search`.
pub async fn search_page(
    pool: &PgPool,
    search: &ComponentSearch,
    page: &PageParams,
) -> ApiResult<Page<ComponentHit>> {
    let query = match (nonempty(&search.purl), nonempty(&search.name)) {
        (Some(purl), _) if purl.len() < 5 || !purl.starts_with("pkg:") => {
            return Err(ApiError::bad_request(format!(
                "purl {purl:?} must be a package URL prefix starting with pkg:<type>"
            )))
        }
        (Some(purl), _) => ComponentQuery::PurlPrefix(purl),
        (None, Some(name)) => ComponentQuery::Name {
            name,
            version: nonempty(&search.version),
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "give purl (a package URL prefix) or name (and optionally version)",
            ))
        }
    };
    let limit = page.limit()?;
    let rows = components::search(pool, query, page.after::<SearchCursor>()?, limit).await?;
    Ok(Page::from_rows(rows, limit, |c| {
        (c.purl.clone().unwrap_or_default(), c.id)
    }))
}
