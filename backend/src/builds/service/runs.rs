//! Use cases of build records: runs filtered and paged, one run with its
//! jobs and the artifacts it built.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageParams};

use crate::builds::store::runs::{self as builds, JobInfo, LinkedArtifact, RunFilter, RunSummary};

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

/// A page of runs, newest first.
pub async fn run_page(
    pool: &PgPool,
    filter: &RunFilter,
    page: &PageParams,
) -> ApiResult<Page<RunSummary>> {
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = builds::list_runs(pool, filter, before, limit).await?;
    Ok(Page::from_rows(rows, limit, |r| r.id))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    pub jobs: Vec<JobInfo>,
    /// Artifacts of the run's project whose version is the run's commit.
    pub artifacts: Vec<LinkedArtifact>,
}

/// A run with its jobs and linked artifacts.
pub async fn run_detail(pool: &PgPool, id: i64) -> ApiResult<RunDetail> {
    let run = builds::get_run(pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no run {id}")))?;
    let jobs = builds::jobs_of_run(pool, id).await?;
    let artifacts = builds::artifacts_of_run(pool, id).await?;
    Ok(RunDetail {
        run,
        jobs,
        artifacts,
    })
}
