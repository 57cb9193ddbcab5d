//! Build records: CI runs with their jobs and linked artifacts.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiPath, ApiQuery};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::store::builds::{self, JobInfo, LinkedArtifact, RunFilter, RunSummary};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Project name, or repository path (`owner/name`).
    pub project: Option<String>,
    /// Status (`queued`, `in_progress`, `completed`) or conclusion (`success`, `failure`, ...).
    pub status: Option<String>,
    /// Branch or tag (`main` or `refs/heads/main`).
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    pub git_ref: Option<String>,
    /// Commit SHA or a prefix of at least 7 hex digits.
    pub sha: Option<String>,
    /// `hosted` or `self-hosted`.
    pub runner_kind: Option<String>,
    /// Runs started at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Runs started before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.is_empty())
}

impl RunQuery {
    pub fn into_filter(self) -> ApiResult<RunFilter> {
        let sha = nonempty(self.sha);
        if let Some(s) = &sha {
            if s.len() < 7 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ApiError::bad_request(format!(
                    "sha {s:?} must be 7 to 64 hex digits"
                )));
            }
        }
        let runner_kind = nonempty(self.runner_kind);
        if let Some(k) = &runner_kind {
            if k != "hosted" && k != "self-hosted" {
                return Err(ApiError::bad_request(format!(
                    "runner_kind {k:?} must be hosted or self-hosted"
                )));
            }
        }
        if let (Some(a), Some(b)) = (self.since, self.until) {
            if a > b {
                return Err(ApiError::bad_request("since is after until"));
            }
        }
        Ok(RunFilter {
            project: nonempty(self.project),
            status: nonempty(self.status),
            git_ref: nonempty(self.git_ref),
            sha,
            runner_kind,
            since: self.since,
            until: self.until,
        })
    }
}

pub async fn run_page(
    state: &AppState,
    filter: &RunFilter,
    page: &PageParams,
) -> ApiResult<Page<RunSummary>> {
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = builds::list_runs(&state.pool, filter, before, limit).await?;
    Ok(Page::from_rows(rows, limit, |r| r.id))
}

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
    Ok(Json(run_page(&state, &filter, &page).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    pub jobs: Vec<JobInfo>,
    /// Artifacts of the run's project whose version is the run's commit.
    pub artifacts: Vec<LinkedArtifact>,
}

pub async fn run_detail(state: &AppState, id: i64) -> ApiResult<RunDetail> {
    let run = builds::get_run(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no run {id}")))?;
    let jobs = builds::jobs_of_run(&state.pool, id).await?;
    let artifacts = builds::artifacts_of_run(&state.pool, id).await?;
    Ok(RunDetail {
        run,
        jobs,
        artifacts,
    })
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
    Ok(Json(run_detail(&state, id).await?))
}
