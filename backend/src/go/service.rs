//! Use cases of Go evidence: extract a spooled binary's build info and
//! function table, store them, cross-check them against the artifact's SBOM
//! and source commit; store go.mod and go.sum.

use std::io::{Read, Seek, SeekFrom};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::attestations::service as evidence;
use crate::domain::Sha256Digest;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::upload::Spooled;

use super::core::buildinfo::{self, BuildInfo, Detected};
use super::core::crosscheck::{self, CrossCheck};
use super::core::{gomod, symbols};
use super::store as gostore;

/// `go version -m` text larger than this is not believable.
const MAX_TEXT: u64 = 4 << 20;

/// What was read: the build info and whether it came from a binary.
pub struct Extracted {
    pub info: BuildInfo,
    pub binary: bool,
    /// A binary's function names (for reachability), or why they could not
    /// be read: the build info stands without them.
    pub symbols: Option<Result<symbols::Symbols, String>>,
}

/// Reads the build info from a spooled binary or `go version -m` text.
pub fn extract(spooled: &mut Spooled) -> ApiResult<Extracted> {
    let file = &mut spooled.file;
    let mut head = [0u8; 512];
    let n = {
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read(&mut head))
            .map_err(|e| {
                tracing::error!(error = %e, "reading the spooled upload failed");
                ApiError::internal()
            })?
    };
    if buildinfo::detect(&head[..n]) == Detected::Text {
        if spooled.len > MAX_TEXT {
            return Err(buildinfo::BuildInfoError::NotExecutable(format!(
                "the body is text longer than {MAX_TEXT} bytes: neither an executable nor `go version -m` output"
            ))
            .into());
        }
        let mut text = String::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut text))
            .map_err(|_| {
                ApiError::from(buildinfo::BuildInfoError::NotExecutable(
                    "the body is neither an executable nor UTF-8 `go version -m` output".into(),
                ))
            })?;
        return Ok(Extracted {
            info: buildinfo::parse_version_m(&text)?,
            binary: false,
            symbols: None,
        });
    }
    let info = buildinfo::from_executable(file, spooled.len)?;
    let symbols = symbols::from_executable(file, spooled.len).map_err(|e| e.to_string());
    if let Err(e) = &symbols {
        tracing::info!(error = %e, "the binary's function table was not read");
    }
    Ok(Extracted {
        info,
        binary: true,
        symbols: Some(symbols),
    })
}

/// Where Go evidence belongs.
pub use crate::inventory::service::ArtifactTarget as Target;

/// Build info as stored, with the cross-check.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoBuild {
    pub id: i64,
    pub artifact_id: i64,
    /// `binary` or `version-m`.
    pub source: String,
    /// `sha256:<hex>` of the uploaded binary (it links the artifact).
    pub digest: Option<String>,
    pub size: Option<i64>,
    #[serde(flatten)]
    pub build_info: BuildInfo,
    /// The artifact's SBOM and source commit against this build info.
    pub cross_check: CrossCheck,
    /// Function names read from the binary's function table (pclntab), which
    /// Go reachability compares with advisories' vulnerable symbols; null
    /// when none were read (`version-m` text, or see `symbols_error`).
    pub linked_functions: Option<i32>,
    /// Why the binary's function table could not be read.
    pub symbols_error: Option<String>,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

/// Extracts and stores a build's info; `false` with the stored record when
/// the artifact's latest build info is this one already (a re-upload).
pub async fn ingest_go_binary(
    pool: &PgPool,
    target: &Target,
    mut spooled: Spooled,
    caller: &Caller,
) -> ApiResult<(GoBuild, bool)> {
    if spooled.len == 0 {
        return Err(ApiError::bad_request(
            "the body is empty; send the Go binary or the text of `go version -m` as the body",
        ));
    }
    let (spooled_back, extracted) = tokio::task::spawn_blocking(move || {
        let r = extract(&mut spooled);
        (spooled, r)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "build-info task failed");
        ApiError::internal()
    })?;
    let extracted = extracted?;
    let computed = extracted
        .binary
        .then(|| format!("sha256:{}", hex::encode(spooled_back.sha256)));
    if let (Some(c), Some(given)) = (&computed, &target.digest) {
        if c != given.as_str() {
            return Err(ApiError::bad_request(format!(
                "the digest parameter {} does not match the uploaded binary's digest {c}",
                given.as_str()
            )));
        }
    }
    let digest = computed
        .clone()
        .or_else(|| target.digest.as_ref().map(|d| d.as_str().to_owned()));
    let size = spooled_back.len as i64;
    drop(spooled_back);

    let mut tx = pool.begin().await?;
    let artifact_id = target.artifact_id(&mut tx, digest.as_deref()).await?;
    let new = gostore::NewGoBuild {
        artifact_id,
        source: if extracted.binary {
            "binary"
        } else {
            "version-m"
        },
        binary_digest: computed.as_deref(),
        binary_size: extracted.binary.then_some(size),
        info: &extracted.info,
        symbols: extracted.symbols.as_ref(),
        uploaded_by: Some(caller.token_id),
    };
    if let Some(row) = gostore::latest_build_if_same(&mut tx, &new).await? {
        tx.rollback().await?;
        return Ok((with_cross_check(pool, row).await?, false));
    }
    let row = gostore::insert_build(&mut tx, &new).await?;
    if let Some(Ok(symbols)) = &extracted.symbols {
        gostore::insert_symbols(&mut tx, row.id, symbols).await?;
    }
    crate::queue::evaluate(&mut tx, &[artifact_id], "go build info").await?;
    tx.commit().await?;
    Ok((with_cross_check(pool, row).await?, true))
}

/// The cross-check of a stored build against the artifact's latest SBOM
/// and the source commits of its provenance and CI runs.
pub async fn cross_check(
    pool: &PgPool,
    artifact_id: i64,
    info: &BuildInfo,
) -> ApiResult<CrossCheck> {
    let mut conn = pool.acquire().await?;
    let sbom = gostore::sbom_go_components(&mut conn, artifact_id).await?;
    drop(conn);
    let ev = evidence::evidence_for_artifact(pool, artifact_id).await?;
    let mut commits: Vec<String> = ev.sources.iter().map(|s| s.commit.clone()).collect();
    commits.sort();
    commits.dedup();
    Ok(crosscheck::check(info, sbom.as_deref(), &commits))
}

async fn with_cross_check(pool: &PgPool, row: gostore::GoBuildRow) -> ApiResult<GoBuild> {
    let cc = cross_check(pool, row.artifact_id, &row.build_info.0).await?;
    Ok(GoBuild {
        id: row.id,
        artifact_id: row.artifact_id,
        source: row.source,
        digest: row.binary_digest,
        size: row.binary_size,
        build_info: row.build_info.0,
        cross_check: cc,
        linked_functions: row.symbols_count,
        symbols_error: row.symbols_error,
        uploaded_at: row.uploaded_at,
    })
}

/// The artifact's latest build info, `None` when it has none.
pub async fn latest_go_build(pool: &PgPool, artifact_id: i64) -> ApiResult<Option<GoBuild>> {
    match gostore::latest_build(pool, artifact_id).await? {
        Some(row) => Ok(Some(with_cross_check(pool, row).await?)),
        None => Ok(None),
    }
}

/// A stored go.mod or go.sum.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoModuleFile {
    pub id: i64,
    pub artifact_id: i64,
    /// `go.mod` or `go.sum`.
    pub kind: String,
    /// The parsed file: a `GoMod`, or a list of `SumEntry`.
    pub parsed: serde_json::Value,
    /// go.mod requirements the artifact's go.sum does not pin (when both are stored).
    pub unsummed: Vec<String>,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

pub async fn ingest_module_file(
    pool: &PgPool,
    target: &Target,
    kind: &str,
    text: &[u8],
    caller: &Caller,
) -> ApiResult<(GoModuleFile, bool)> {
    let text = std::str::from_utf8(text)
        .map_err(|_| ApiError::invalid_definition(format!("the {kind} file is not UTF-8 text")))?;
    let parsed = match kind {
        "go.mod" => serde_json::to_value(
            gomod::parse_go_mod(text)
                .map_err(|e| ApiError::invalid_definition(format!("go.mod {e}")))?,
        ),
        "go.sum" => serde_json::to_value(
            gomod::parse_go_sum(text)
                .map_err(|e| ApiError::invalid_definition(format!("go.sum {e}")))?,
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "kind must be `go.mod` or `go.sum`, not {other:?}"
            )))
        }
    }
    .map_err(|_| ApiError::internal())?;
    let sha = Sha256::digest(text.as_bytes());
    let mut tx = pool.begin().await?;
    let artifact_id = target
        .artifact_id(&mut tx, target.digest.as_ref().map(Sha256Digest::as_str))
        .await?;
    let same = gostore::latest_module_file_if_same(&mut tx, artifact_id, kind, &sha).await?;
    let created = same.is_none();
    let (id, uploaded_at) = match same {
        Some(stored) => {
            tx.rollback().await?;
            stored
        }
        None => {
            let new = gostore::insert_module_file(
                &mut tx,
                artifact_id,
                kind,
                &sha,
                &parsed,
                Some(caller.token_id),
            )
            .await?;
            crate::queue::evaluate(&mut tx, &[artifact_id], kind).await?;
            tx.commit().await?;
            new
        }
    };
    let unsummed = module_coverage(pool, artifact_id).await?;
    let file = GoModuleFile {
        id,
        artifact_id,
        kind: kind.to_owned(),
        parsed,
        unsummed,
        uploaded_at,
    };
    Ok((file, created))
}

/// Requirements of the artifact's go.mod that its go.sum does not pin.
pub async fn module_coverage(pool: &PgPool, artifact_id: i64) -> ApiResult<Vec<String>> {
    let m = gostore::latest_module_file(pool, artifact_id, "go.mod").await?;
    let s = gostore::latest_module_file(pool, artifact_id, "go.sum").await?;
    let (Some((_, m)), Some((_, s))) = (m, s) else {
        return Ok(Vec::new());
    };
    let (Ok(m), Ok(s)) = (
        serde_json::from_value::<gomod::GoMod>(m),
        serde_json::from_value::<Vec<gomod::SumEntry>>(s),
    ) else {
        return Ok(Vec::new());
    };
    Ok(gomod::unsummed(&m, &s)
        .into_iter()
        .map(|r| format!("{} {}", r.path, r.version))
        .collect())
}
