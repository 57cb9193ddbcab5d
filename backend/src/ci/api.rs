//! CI definitions (GitHub Actions workflows, .gitlab-ci.yml, Dockerfiles)
//! and their hardening findings.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::ApiQuery;
use crate::domain::ProjectName;
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::upload;

use super::core::{Kind, MAX_DEFINITION};
use super::service;
use super::store::CiDefinition;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CiUploadParams {
    /// Project name; created on first use.
    pub project: String,
    /// `github-workflow`, `gitlab-ci` or `dockerfile`; detected when absent.
    #[param(pattern = "^(github-workflow|gitlab-ci|dockerfile)$")]
    pub kind: Option<String>,
    /// Path of the file in the repository, e.g. `.github/workflows/release.yml`.
    pub file: Option<String>,
}

/// Upload a CI definition and get its hardening findings.
///
/// Each finding names its `rule` (`workflow-hardening` or
/// `base-image-pinned`), `check`, `file`, `line`, job and step, and a
/// concrete `fix`. Findings use the rules' default parameters; the policy
/// rules re-check the stored definition with a policy's own parameters.
#[utoipa::path(
    post, path = "/api/v1/ci-definitions", tag = "ci",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(CiUploadParams),
    request_body(content = String, description = "Workflow YAML, .gitlab-ci.yml or Dockerfile", content_type = "text/plain"),
    responses(
        (status = 201, body = CiDefinition),
        (status = 200, description = "The file's latest definition has these bytes already: nothing new stored", body = CiDefinition),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown kind, invalid YAML, no jobs, no FROM", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CiUploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<CiDefinition>)> {
    caller.require_for(Role::Uploader, &params.project)?;
    let project = ProjectName::parse(&params.project).map_err(ApiError::bad_request)?;
    let kind = params
        .kind
        .as_deref()
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "kind must be github-workflow, gitlab-ci or dockerfile, not {k:?}"
                ))
            })
        })
        .transpose()?;
    if let Some(f) = &params.file {
        if f.is_empty() || f.len() > 512 || f.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "file must be a path of 1 to 512 printable characters",
            ));
        }
    }
    let up = upload::read_body(&headers, body, MAX_DEFINITION).await?;
    let (stored, created) = service::ingest_ci_definition(
        &state.pool,
        &project,
        kind,
        params.file.as_deref(),
        &up.document,
        &caller,
    )
    .await?;
    Ok((crate::api::created_or_ok(created), Json(stored)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CiListParams {
    pub project: String,
}

/// The latest definition of each file of a project, with findings, by file.
#[utoipa::path(
    get, path = "/api/v1/ci-definitions", tag = "ci",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(CiListParams, PageParams),
    responses(
        (status = 200, body = Page<CiDefinition>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CiListParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<CiDefinition>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::definition_page(&state.pool, &params.project, &page).await?,
    ))
}
