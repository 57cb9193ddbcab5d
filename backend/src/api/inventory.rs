//! Projects and artifacts.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiPath, ApiQuery};
use super::sboms::nonempty;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::store::inventory::{self, ArtifactSummary, ProjectSummary};
use crate::store::sboms::{self, SbomSummary};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// Case-insensitive text to find in the project name.
    pub q: Option<String>,
}

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
    Ok(Json(project_page(&state, &filter, &page).await?))
}

pub async fn project_page(
    state: &AppState,
    filter: &ProjectFilter,
    page: &PageParams,
) -> ApiResult<Page<ProjectSummary>> {
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let rows =
        inventory::list_projects(&state.pool, nonempty(&filter.q), after.as_deref(), limit).await?;
    Ok(Page::from_rows(rows, limit, |p| p.name.clone()))
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
    Ok(Json(find_project(&state, &name).await?))
}

pub async fn find_project(state: &AppState, name: &str) -> ApiResult<ProjectSummary> {
    inventory::get_project(&state.pool, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project {name:?}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtifactFilter {
    /// Only artifacts of this project.
    pub project: Option<String>,
    /// Case-insensitive text to find in the name or version.
    pub q: Option<String>,
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
    Ok(Json(artifact_page(&state, &filter, &page).await?))
}

pub async fn artifact_page(
    state: &AppState,
    filter: &ArtifactFilter,
    page: &PageParams,
) -> ApiResult<Page<ArtifactSummary>> {
    let limit = page.limit()?;
    let rows = inventory::list_artifacts(
        &state.pool,
        nonempty(&filter.project),
        nonempty(&filter.q),
        page.after()?,
        limit,
    )
    .await?;
    Ok(Page::from_rows(rows, limit, |a| a.id))
}

/// An artifact with all its SBOMs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactDetail {
    #[serde(flatten)]
    pub artifact: ArtifactSummary,
    /// Newest first.
    pub sboms: Vec<SbomSummary>,
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
    Ok(Json(find_artifact(&state, id).await?))
}

pub async fn find_artifact(state: &AppState, id: i64) -> ApiResult<ArtifactDetail> {
    let artifact = inventory::get_artifact(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {id}")))?;
    Ok(ArtifactDetail {
        artifact,
        sboms: sboms::list_for_artifact(&state.pool, id).await?,
    })
}
