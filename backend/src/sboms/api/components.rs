//! Portfolio search: "are we affected by X?"

use axum::extract::State;
use axum::Json;

use crate::api::extract::ApiQuery;
use crate::error::{ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

use crate::sboms::service::{self, ComponentSearch};
use crate::sboms::store::components::ComponentHit;

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
    Ok(Json(
        service::search_page(&state.pool, &search, &page).await?,
    ))
}
