//! Dashboard page for Go evidence: an artifact's Go build info with the
//! SBOM / commit cross-check.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::api::extract::ApiPath;
use crate::error::ApiError;
use crate::inventory::store::{self as inventory, ArtifactSummary};
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

use super::service::{self, GoBuild};

pub fn router() -> Router<AppState> {
    Router::new().route("/ui/artifacts/{id}/go", get(go_build))
}

#[derive(Template)]
#[template(path = "go_build.html")]
struct GoBuildPage<'a> {
    user: Option<&'a str>,
    artifact: ArtifactSummary,
    go: Option<GoBuild>,
}

async fn go_build(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
) -> WebResult<Response> {
    let artifact = inventory::get_artifact(&state.pool, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {id}")))?;
    render(GoBuildPage {
        user: Some(&user.name),
        artifact,
        go: service::latest_go_build(&state.pool, id).await?,
    })
}
