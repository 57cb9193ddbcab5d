//! Build records: CI runs with their jobs and linked artifacts.

use axum::extract::State;
use axum::Json;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

use crate::builds::service::runs::{self as service, RunDetail, RunQuery};
use crate::builds::store::runs::RunSummary;

/// List CI runs, newest first.
#[utoipa::path(
    get, path = "/api/v1/runs", tag = "builds",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(RunQuery, PageParams),
    responses((status = 200, body = Page<RunSummary>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RunQuery>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<RunSummary>>> {
    caller.require(Role::Viewer)?;
    let filter = query.into_filter()?;
    Ok(Json(service::run_page(&state.pool, &filter, &page).await?))
}

/// Get a run with its jobs and the artifacts it produced.
#[utoipa::path(
    get, path = "/api/v1/runs/{id}", tag = "builds",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Run id (Cairn's, not the provider's)")),
    responses((status = 200, body = RunDetail), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDetail>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::run_detail(&state.pool, id).await?))
}
