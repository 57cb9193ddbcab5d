//! Projects and artifacts.

use axum::extract::State;
use axum::Json;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

use super::service::{self, ArtifactDetail, ArtifactFilter, ProjectFilter};
use super::store::{ArtifactSummary, ProjectSummary};

/// List projects, by name.
#[utoipa::path(
    get, path = "/api/v1/projects", tag = "inventory",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(ProjectFilter, PageParams),
    responses((status = 200, body = Page<ProjectSummary>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ProjectFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ProjectSummary>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::project_page(&state.pool, &filter, &page).await?,
    ))
}

/// Get a project.
///
/// The name's `/` must be percent-encoded in the path: `acme%2Fpayments-api`.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}", tag = "inventory",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("project" = String, Path, description = "Project name, percent-encoded")),
    responses((status = 200, body = ProjectSummary), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<ProjectSummary>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::find_project(&state.pool, &name).await?))
}

/// List artifacts, newest first.
#[utoipa::path(
    get, path = "/api/v1/artifacts", tag = "inventory",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(ArtifactFilter, PageParams),
    responses((status = 200, body = Page<ArtifactSummary>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_artifacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ArtifactFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ArtifactSummary>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::artifact_page(&state.pool, &filter, &page).await?,
    ))
}

/// Get an artifact.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}", tag = "inventory",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id")),
    responses((status = 200, body = ArtifactDetail), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_artifact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ArtifactDetail>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::find_artifact(&state.pool, id).await?))
}
