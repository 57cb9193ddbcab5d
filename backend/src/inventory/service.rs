//! Use cases of the inventory: projects and artifacts listed and found,
//! and the artifact an upload targets (created with its project on first
//! use).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::domain::{Label, ProjectName, Sha256Digest};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{nonempty, Page, PageParams};
use crate::sboms::store::{self as sboms, SbomSummary};

use super::store::{self as inventory, ArtifactSummary, ProjectSummary};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// Case-insensitive text to find in the project name.
    pub q: Option<String>,
}

/// A page of projects, by name.
pub async fn project_page(
    pool: &PgPool,
    filter: &ProjectFilter,
    page: &PageParams,
) -> ApiResult<Page<ProjectSummary>> {
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let rows = inventory::list_projects(pool, nonempty(&filter.q), after.as_deref(), limit).await?;
    Ok(Page::from_rows(rows, limit, |p| p.name.clone()))
}

/// The project `name`, or a 404.
pub async fn find_project(pool: &PgPool, name: &str) -> ApiResult<ProjectSummary> {
    inventory::get_project(pool, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project {name:?}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtifactFilter {
    /// Only artifacts of this project.
    pub project: Option<String>,
    /// Case-insensitive text to find in the name or version.
    pub q: Option<String>,
}

/// A page of artifacts, newest first.
pub async fn artifact_page(
    pool: &PgPool,
    filter: &ArtifactFilter,
    page: &PageParams,
) -> ApiResult<Page<ArtifactSummary>> {
    let limit = page.limit()?;
    let rows = inventory::list_artifacts(
        pool,
        nonempty(&filter.project),
        nonempty(&filter.q),
        page.after()?,
        limit,
    )
    .await?;
    Ok(Page::from_rows(rows, limit, |a| a.id))
}

/// An artifact with all its SBOMs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactDetail {
    #[serde(flatten)]
    pub artifact: ArtifactSummary,
    /// Newest first.
    pub sboms: Vec<SbomSummary>,
}

/// The artifact `id` with its SBOMs, or a 404.
pub async fn find_artifact(pool: &PgPool, id: i64) -> ApiResult<ArtifactDetail> {
    let artifact = inventory::get_artifact(pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {id}")))?;
    Ok(ArtifactDetail {
        artifact,
        sboms: sboms::list_for_artifact(pool, id).await?,
    })
}

/// The artifact an upload belongs to (SBOMs, Go build info, go.mod files).
pub struct ArtifactTarget {
    pub project: ProjectName,
    pub artifact: Label,
    pub version: Label,
    pub digest: Option<Sha256Digest>,
}

impl ArtifactTarget {
    /// Validates the upload's query parameters; each error names the one at fault.
    pub fn parse(
        project: &str,
        artifact: &str,
        version: &str,
        digest: Option<&str>,
    ) -> ApiResult<Self> {
        Ok(ArtifactTarget {
            project: ProjectName::parse(project).map_err(ApiError::bad_request)?,
            artifact: Label::parse("artifact", artifact).map_err(ApiError::bad_request)?,
            version: Label::parse("version", version).map_err(ApiError::bad_request)?,
            digest: digest
                .map(Sha256Digest::parse)
                .transpose()
                .map_err(ApiError::bad_request)?,
        })
    }

    /// Finds or creates the artifact (and its project) inside `tx`.
    pub async fn artifact_id(
        &self,
        tx: &mut sqlx::PgConnection,
        digest: Option<&str>,
    ) -> ApiResult<i64> {
        artifact_id(tx, &self.project, &self.artifact, &self.version, digest).await
    }
}

/// The artifact's id, created with its project on first use; a digest that
/// contradicts the recorded one is a 409.
pub async fn artifact_id(
    tx: &mut sqlx::PgConnection,
    project: &ProjectName,
    artifact: &Label,
    version: &Label,
    digest: Option<&str>,
) -> ApiResult<i64> {
    inventory::upsert_artifact(
        tx,
        project.as_str(),
        artifact.as_str(),
        version.as_str(),
        digest,
    )
    .await?
    .map_err(|stored| {
        ApiError::conflict(format!(
            "artifact {} {} of project {} is recorded with digest {stored}, not {}",
            artifact.as_str(),
            version.as_str(),
            project.as_str(),
            digest.unwrap_or_default()
        ))
    })
}
