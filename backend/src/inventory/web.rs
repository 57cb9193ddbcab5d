//! The inventory's pages: the projects, a project's artifacts, and an
//! artifact — its SBOM, quality, components, chain of custody, Go build
//! info and vulnerabilities (each read from its capability's service).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::pagination::{Page, PageParams};
use crate::sboms::service::{component_page, detail, ComponentFilter, SbomDetail};
use crate::sboms::store::SbomComponent;
use crate::state::AppState;
use crate::web::{filters, render, Session, WebResult};

use super::service::{
    artifact_page, find_artifact, find_project, project_page, ArtifactFilter, ProjectFilter,
};
use super::store::{ArtifactSummary, ProjectSummary};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(projects))
        .route("/ui/projects/{project}", get(project))
        .route("/ui/artifacts/{id}", get(artifact))
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage<'a> {
    user: Option<&'a str>,
    q: &'a str,
    page: Page<ProjectSummary>,
}

async fn projects(
    State(state): State<AppState>,
    Session(user): Session,
    ApiQuery(filter): ApiQuery<ProjectFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let page = project_page(&state.pool, &filter, &paging).await?;
    render(ProjectsPage {
        user: Some(&user.name),
        q: filter.q.as_deref().unwrap_or(""),
        page,
    })
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage<'a> {
    user: Option<&'a str>,
    project: ProjectSummary,
    q: &'a str,
    artifacts: Page<ArtifactSummary>,
}

async fn project(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(name): ApiPath<String>,
    ApiQuery(filter): ApiQuery<ArtifactFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let project = find_project(&state.pool, &name).await?;
    let filter = ArtifactFilter {
        project: Some(name),
        q: filter.q,
    };
    let artifacts = artifact_page(&state.pool, &filter, &paging).await?;
    render(ProjectPage {
        user: Some(&user.name),
        project,
        q: filter.q.as_deref().unwrap_or(""),
        artifacts,
    })
}

#[derive(Deserialize)]
struct ArtifactView {
    /// Which of the artifact's SBOMs to show (default: the latest).
    sbom: Option<i64>,
}

#[derive(Template)]
#[template(path = "artifact.html")]
struct ArtifactPage<'a> {
    user: Option<&'a str>,
    artifact: super::service::ArtifactDetail,
    sbom: Option<SbomDetail>,
    /// The shown SBOM's stored quality scores (None: not scored yet).
    quality: Option<crate::sboms::core::quality::QualitySummary>,
    q: &'a str,
    kind: &'a str,
    components: Option<Page<SbomComponent>>,
    evidence: crate::attestations::service::Evidence,
    /// The latest Go build info with its cross-check.
    go: Option<crate::go::service::GoBuild>,
    /// Known vulnerabilities, most severe first (all of them: the table
    /// is the artifact's to-do list).
    findings: Vec<crate::vulnerabilities::service::Finding>,
}

async fn artifact(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(view): ApiQuery<ArtifactView>,
    ApiQuery(filter): ApiQuery<ComponentFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let artifact = find_artifact(&state.pool, id).await?;
    let chosen = match view.sbom {
        Some(s) if artifact.sboms.iter().any(|x| x.id == s) => Some(s),
        Some(s) => {
            return Err(ApiError::not_found(format!("artifact {id} has no SBOM {s}")).into())
        }
        None => artifact.sboms.first().map(|s| s.id),
    };
    let (sbom, quality, components) = match chosen {
        Some(sid) => (
            Some(detail(&state.pool, sid).await?),
            crate::sboms::store::quality(&state.pool, sid)
                .await
                .map_err(ApiError::from)?,
            Some(component_page(&state.pool, sid, &filter, &paging).await?),
        ),
        None => (None, None, None),
    };
    render(ArtifactPage {
        user: Some(&user.name),
        artifact,
        sbom,
        quality,
        q: filter.q.as_deref().unwrap_or(""),
        kind: filter.kind.as_deref().unwrap_or(""),
        components,
        evidence: crate::attestations::service::evidence_for_artifact(&state.pool, id).await?,
        go: crate::go::service::latest_go_build(&state.pool, id).await?,
        findings: crate::vulnerabilities::service::ranked_findings(&state.pool, id)
            .await
            .map_err(ApiError::from)?,
    })
}
