//! Use cases of Go and CI-hardening evidence: spool an uploaded binary to
//! disk while hashing it, extract its build info, store it, cross-check it
//! against the artifact's SBOM and source commit; check CI definitions.

use std::io::{Read, Seek, SeekFrom};

use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::cidef::{self, Finding, HardeningParams, Kind};
use crate::domain::{ProjectName, Sha256Digest};
use crate::error::{ApiError, ApiResult};
use crate::evidence;
use crate::goevidence::buildinfo::{self, BuildInfo, Detected};
use crate::goevidence::crosscheck::{self, CrossCheck};
use crate::goevidence::gomod;
use crate::goevidence::symbols;
use crate::store::{self, goci};

/// `go version -m` text larger than this is not believable.
const MAX_TEXT: u64 = 4 << 20;

/// A body spooled to an anonymous temporary file (deleted on drop).
pub struct Spooled {
    pub file: std::fs::File,
    pub len: u64,
    pub sha256: [u8; 32],
}

/// Streams the body to a temporary file, hashing it, within `max` bytes.
/// Only identity encoding: a binary is sent as-is.
pub async fn spool(headers: &HeaderMap, body: Body, max: usize) -> ApiResult<Spooled> {
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        if !enc
            .to_str()
            .is_ok_and(|v| v.eq_ignore_ascii_case("identity"))
        {
            return Err(ApiError::unsupported_media(
                "send the binary uncompressed (no Content-Encoding)",
            ));
        }
    }
    let too_large = || {
        ApiError::too_large(format!(
            "the body exceeds the upload limit of {max} bytes (CAIRN_MAX_UPLOAD)"
        ))
    };
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max as u64)
    {
        return Err(too_large());
    }
    let file = tempfile::tempfile().map_err(|e| {
        tracing::error!(error = %e, "cannot create a temporary file");
        ApiError::internal()
    })?;
    let mut out = tokio::fs::File::from_std(file.try_clone().map_err(|e| {
        tracing::error!(error = %e, "cannot clone a temporary file handle");
        ApiError::internal()
    })?);
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let mut stream = body.into_data_stream();
    let write_failed = |e: std::io::Error| {
        tracing::error!(error = %e, "writing the spooled upload failed");
        ApiError::internal()
    };
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the body failed: {e}")))?;
        len += chunk.len() as u64;
        if len > max as u64 {
            return Err(too_large());
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(write_failed)?;
    }
    out.flush().await.map_err(write_failed)?;
    drop(out);
    if len == 0 {
        return Err(ApiError::bad_request(
            "the body is empty; send the Go binary or the text of `go version -m` as the body",
        ));
    }
    Ok(Spooled {
        file,
        len,
        sha256: hasher.finalize().into(),
    })
}

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
pub use crate::ingest::ArtifactTarget as Target;

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
    let new = goci::NewGoBuild {
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
    if let Some(row) = goci::latest_build_if_same(&mut tx, &new).await? {
        tx.rollback().await?;
        return Ok((with_cross_check(pool, row).await?, false));
    }
    let row = goci::insert_build(&mut tx, &new).await?;
    if let Some(Ok(symbols)) = &extracted.symbols {
        goci::insert_symbols(&mut tx, row.id, symbols).await?;
    }
    store::policies::enqueue(&mut tx, &[artifact_id], "go build info").await?;
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
    let sbom = goci::sbom_go_components(&mut conn, artifact_id).await?;
    drop(conn);
    let ev = evidence::evidence_for_artifact(pool, artifact_id).await?;
    let mut commits: Vec<String> = ev.sources.iter().map(|s| s.commit.clone()).collect();
    commits.sort();
    commits.dedup();
    Ok(crosscheck::check(info, sbom.as_deref(), &commits))
}

async fn with_cross_check(pool: &PgPool, row: goci::GoBuildRow) -> ApiResult<GoBuild> {
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
    match goci::latest_build(pool, artifact_id).await? {
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
    let same = goci::latest_module_file_if_same(&mut tx, artifact_id, kind, &sha).await?;
    let created = same.is_none();
    let (id, uploaded_at) = match same {
        Some(stored) => {
            tx.rollback().await?;
            stored
        }
        None => {
            let new = goci::insert_module_file(
                &mut tx,
                artifact_id,
                kind,
                &sha,
                &parsed,
                Some(caller.token_id),
            )
            .await?;
            store::policies::enqueue(&mut tx, &[artifact_id], kind).await?;
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
    let m = goci::latest_module_file(pool, artifact_id, "go.mod").await?;
    let s = goci::latest_module_file(pool, artifact_id, "go.sum").await?;
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

/// Checks and stores one CI definition (default rule parameters).
pub async fn ingest_ci_definition(
    pool: &PgPool,
    project: &ProjectName,
    kind: Option<Kind>,
    file: Option<&str>,
    body: &[u8],
    caller: &Caller,
) -> ApiResult<(store::goci::CiDefinition, bool)> {
    if body.len() > cidef::MAX_DEFINITION {
        return Err(ApiError::too_large(format!(
            "a CI definition may be at most {} bytes",
            cidef::MAX_DEFINITION
        )));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_definition("the CI definition is not UTF-8 text"))?;
    let kind = match kind {
        Some(k) => k,
        None => {
            cidef::detect(file, text).map_err(|e| ApiError::invalid_definition(e.to_string()))?
        }
    };
    let file = file.unwrap_or(kind.default_file());
    let findings: Vec<Finding> =
        tokio::task::block_in_place(|| cidef::check(kind, file, text, &HardeningParams::default()))
            .map_err(|e| ApiError::invalid_definition(format!("{file}: {e}")))?;
    let sha = Sha256::digest(body);
    let mut tx = pool.begin().await?;
    let (stored, created) = goci::insert_ci_definition(
        &mut tx,
        &goci::NewCiDefinition {
            project: project.as_str(),
            kind: kind.as_str(),
            file,
            content: text,
            content_sha256: &sha,
            findings: &findings,
            uploaded_by: Some(caller.token_id),
        },
    )
    .await?;
    if created {
        // Every artifact of the project is judged on its CI definitions.
        let artifacts = goci::project_artifacts(&mut *tx, project.as_str()).await?;
        store::policies::enqueue(&mut tx, &artifacts, "ci definition").await?;
    }
    tx.commit().await?;
    Ok((stored, created))
}
