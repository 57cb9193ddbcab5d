//! Dashboard pages for Go and CI-hardening evidence: an artifact's Go build
//! info with the SBOM / commit cross-check, and a project's CI-hardening
//! findings with file, line and how to fix each.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::api::extract::ApiPath;
use crate::api::inventory::find_project;
use crate::error::ApiError;
use crate::go_ci::{self, GoBuild};
use crate::state::AppState;
use crate::store::goci::{self, CiDefinition};
use crate::store::inventory::{self, ArtifactSummary, ProjectSummary};
use crate::web::{Session, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/artifacts/{id}/go", get(go_build))
        .route("/ui/projects/{project}/ci", get(ci_hardening))
}

type WebResult<T> = Result<T, WebError>;

fn render(t: impl Template) -> WebResult<Response> {
    Ok(Html(t.render()?).into_response())
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
        go: go_ci::latest_go_build(&state.pool, id).await?,
    })
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
    let project = find_project(&state, &name).await?;
    let definitions = goci::latest_ci_definitions(&state.pool, project.id)
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
