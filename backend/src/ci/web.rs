//! Dashboard page for CI-hardening evidence: a project's findings with
//! file, line and how to fix each.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::api::extract::ApiPath;
use crate::error::ApiError;
use crate::inventory::service::find_project;
use crate::inventory::store::ProjectSummary;
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

use super::store::{self as cistore, CiDefinition};

pub fn router() -> Router<AppState> {
    Router::new().route("/ui/projects/{project}/ci", get(ci_hardening))
}

#[derive(Template)]
#[template(path = "ci_hardening.html")]
struct CiPage<'a> {
    user: Option<&'a str>,
    project: ProjectSummary,
    definitions: Vec<CiDefinition>,
    finding_count: usize,
}

async fn ci_hardening(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(name): ApiPath<String>,
) -> WebResult<Response> {
    let project = find_project(&state.pool, &name).await?;
    // Every file: a project has a handful of CI definitions.
    let definitions = cistore::latest_ci_definitions(&state.pool, project.id, None, i64::MAX)
        .await
        .map_err(ApiError::from)?;
    let finding_count = definitions.iter().map(|d| d.findings.0.len()).sum();
    render(CiPage {
        user: Some(&user.name),
        project,
        definitions,
        finding_count,
    })
}
