//! Portfolio search: "are we affected by X?"

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use super::sboms::nonempty;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::store::components::{self, ComponentHit, ComponentQuery, SearchCursor};

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ComponentSearch {
    /// Package URL prefix, e.g. `pkg:golang/golang.org/x/net` or
    /// `pkg:golang/golang.org/x/net@v0.7.0`.
    pub purl: Option<String>,
    /// Exact component name (when `purl` is not given).
    pub name: Option<String>,
    /// Exact version, with `name`.
    pub version: Option<String>,
}

/// Search components across the portfolio.
///
/// Give `purl` (a prefix) or `name` (and optionally `version`). Each
/// matching component comes with the artifacts and projects containing it.
#[utoipa::path(
    get, path = "/api/v1/components", tag = "components",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(ComponentSearch, PageParams),
    responses(
        (status = 200, body = Page<ComponentHit>),
        (status = 400, description = "Neither purl nor name given", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(search): ApiQuery<ComponentSearch>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ComponentHit>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(search_page(&state, &search, &page).await?))
}

pub async fn search_page(
    state: &AppState,
    search: &ComponentSearch,
    page: &PageParams,
) -> ApiResult<Page<ComponentHit>> {
    let query = match (nonempty(&search.purl), nonempty(&search.name)) {
        (Some(purl), _) if purl.len() < 5 || !purl.starts_with("pkg:") => {
            return Err(ApiError::bad_request(format!(
                "purl {purl:?} must be a package URL prefix starting with pkg:<type>"
            )))
        }
        (Some(purl), _) => ComponentQuery::PurlPrefix(purl),
        (None, Some(name)) => ComponentQuery::Name {
            name,
            version: nonempty(&search.version),
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "give purl (a package URL prefix) or name (and optionally version)",
            ))
        }
    };
    let limit = page.limit()?;
    let rows = components::search(&state.pool, query, page.after::<SearchCursor>()?, limit).await?;
    Ok(Page::from_rows(rows, limit, |c| {
        (c.purl.clone().unwrap_or_default(), c.id)
    }))
}
