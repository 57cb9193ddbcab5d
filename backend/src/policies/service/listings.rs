//! The policy listings, each a keyset page: live sets by name, a set's
//! versions, an artifact's evaluations, a project's latest results.

use sqlx::PgPool;

use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageParams};
use crate::policies::store::{self, EvaluationRecord, PolicySet, PolicyVersion};

/// Live sets by name.
pub async fn set_page(pool: &PgPool, page: &PageParams) -> ApiResult<Page<PolicySet>> {
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let rows = store::set_page(pool, after.as_deref(), limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |s| s.name.clone()))
}

/// Every version of set `id` (also of a deleted one), newest first.
pub async fn version_page(
    pool: &PgPool,
    id: i64,
    page: &PageParams,
) -> ApiResult<Page<PolicyVersion>> {
    let limit = page.limit()?;
    let before: Option<i32> = page.after()?;
    if !store::set_exists(pool, id).await? {
        return Err(ApiError::not_found(format!("there is no policy set {id}")));
    }
    let rows = store::versions(pool, id, before, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |v| v.version))
}

/// Every evaluation of artifact `id`, newest first. `before` (an
/// evaluation id) is the older way to page and still works when no cursor
/// is given.
pub async fn history_page(
    pool: &PgPool,
    id: i64,
    before: Option<i64>,
    page: &PageParams,
) -> ApiResult<Page<EvaluationRecord>> {
    let limit = page.limit()?;
    let before = page.after::<i64>()?.or(before);
    if !store::artifact_exists(pool, id).await? {
        return Err(ApiError::not_found(format!("there is no artifact {id}")));
    }
    let rows = store::history(pool, id, before, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |e| e.id))
}

/// The latest result of each live set for every artifact of `project`, by
/// artifact and set name.
pub async fn project_page(
    pool: &PgPool,
    project: &str,
    page: &PageParams,
) -> ApiResult<Page<EvaluationRecord>> {
    let limit = page.limit()?;
    let after: Option<(i64, String)> = page.after()?;
    let pid = store::project_id(pool, project)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project {project:?}")))?;
    let rows = store::project_latest(pool, pid, after, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |e| {
        (e.artifact_id, e.policy_set.clone())
    }))
}
