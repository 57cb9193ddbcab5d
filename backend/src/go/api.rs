//! Go evidence: build info from binaries (or `go version -m` text), go.mod
//! and go.sum.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::state::AppState;
use crate::upload;

use super::core::gomod::MAX_MODULE_FILE;
use super::service::{self, GoBuild, GoModuleFile, Target};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoBinaryParams {
    /// Project name; created on first use.
    pub project: String,
    /// Artifact name; created on first use.
    pub artifact: String,
    /// Artifact version.
    pub version: String,
    /// Expected digest `sha256:<64 hex>`: for a binary it must match the
    /// computed one; for `go version -m` text it links the artifact.
    pub digest: Option<String>,
}

/// Upload a Go binary (or the text of `go version -m BINARY`).
///
/// Cairn streams the binary to a temporary file while computing its SHA-256
/// (which becomes the artifact's digest), reads the embedded build info
/// (Go 1.18+, ELF, Mach-O or PE) and discards the binary. The answer holds
/// the Go version, main module, build settings and every module, and the
/// cross-check against the artifact's SBOM and source commit.
#[utoipa::path(
    post, path = "/api/v1/go-binaries", tag = "go",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(GoBinaryParams),
    request_body(content = crate::api::contract::Binary, description = "The Go binary, or `go version -m` output", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Build info extracted and stored", body = GoBuild),
        (status = 200, description = "The artifact's latest build info is this one already: nothing new stored", body = GoBuild),
        (status = 400, description = "Bad parameters, empty body, or digest mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The artifact is recorded with another digest", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Compressed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a Go binary, truncated, pre-1.18 Go, or malformed build info", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload_binary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<GoBinaryParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<GoBuild>)> {
    caller.require_for(Role::Uploader, &params.project)?;
    let target = Target::parse(
        &params.project,
        &params.artifact,
        &params.version,
        params.digest.as_deref(),
    )?;
    let spooled = crate::upload::spool(&headers, body, state.config.max_upload).await?;
    let (build, created) =
        service::ingest_go_binary(&state.pool, &target, spooled, &caller).await?;
    Ok((crate::api::created_or_ok(created), Json(build)))
}

/// The artifact's latest Go build info with its cross-check.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/go-build", tag = "go",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id")),
    responses(
        (status = 200, body = GoBuild),
        (status = 404, description = "No such artifact, or no build info", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn artifact_go_build(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<GoBuild>> {
    caller.require(Role::Viewer)?;
    if crate::inventory::store::get_artifact(&state.pool, id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("there is no artifact {id}")));
    }
    service::latest_go_build(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("artifact {id} has no Go build info")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoModuleParams {
    pub project: String,
    pub artifact: String,
    pub version: String,
    /// `go.mod` or `go.sum`.
    #[param(pattern = "^go\\.(mod|sum)$")]
    pub kind: String,
}

/// Upload the go.mod or go.sum of the module an artifact was built from.
#[utoipa::path(
    post, path = "/api/v1/go-modules", tag = "go",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(GoModuleParams),
    request_body(content = String, description = "go.mod or go.sum", content_type = "text/plain"),
    responses(
        (status = 201, body = GoModuleFile),
        (status = 200, description = "The artifact's latest file of this kind has these bytes already: nothing new stored", body = GoModuleFile),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid go.mod / go.sum", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload_module_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<GoModuleParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<GoModuleFile>)> {
    caller.require_for(Role::Uploader, &params.project)?;
    let target = Target::parse(&params.project, &params.artifact, &params.version, None)?;
    if !matches!(params.kind.as_str(), "go.mod" | "go.sum") {
        return Err(ApiError::bad_request(format!(
            "kind must be `go.mod` or `go.sum`, not {:?}",
            params.kind
        )));
    }
    let up =
        upload::read_body(&headers, body, state.config.max_upload.min(MAX_MODULE_FILE)).await?;
    let (f, created) =
        service::ingest_module_file(&state.pool, &target, &params.kind, &up.document, &caller)
            .await?;
    Ok((crate::api::created_or_ok(created), Json(f)))
}
