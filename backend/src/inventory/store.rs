//! Projects and artifacts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

/// A project with the size of its inventory.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ProjectSummary {
    pub id: i64,
    /// e.g. `acme/payments-api`.
    pub name: String,
    pub repository_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub artifact_count: i64,
    pub sbom_count: i64,
    /// Components in the latest SBOM of each artifact, added up.
    pub component_count: i64,
}

const PROJECT_SUMMARY: &str = "
    SELECT p.id, p.name, p.repository_url, p.created_at,
           (SELECT count(*) FROM artifacts a WHERE a.project_id = p.id) AS artifact_count,
           (SELECT count(*) FROM sboms s JOIN artifacts a ON a.id = s.artifact_id
             WHERE a.project_id = p.id) AS sbom_count,
           (SELECT coalesce(sum(l.component_count), 0)::bigint FROM artifacts a
              CROSS JOIN LATERAL (SELECT s.component_count FROM sboms s
                                   WHERE s.artifact_id = a.id ORDER BY s.id DESC LIMIT 1) l
             WHERE a.project_id = p.id) AS component_count
    FROM projects p";

/// Projects whose name contains `q`, by name, after the cursor name.
pub async fn list_projects(
    db: impl PgExecutor<'_>,
    q: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ProjectSummary>> {
    sqlx::query_as(&format!(
        "{PROJECT_SUMMARY}
         WHERE ($1::text IS NULL OR strpos(lower(p.name), lower($1)) > 0)
           AND ($2::text IS NULL OR p.name > $2)
         ORDER BY p.name LIMIT $3"
    ))
    .bind(q)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn get_project(
    db: impl PgExecutor<'_>,
    name: &str,
) -> sqlx::Result<Option<ProjectSummary>> {
    sqlx::query_as(&format!("{PROJECT_SUMMARY} WHERE p.name = $1"))
        .bind(name)
        .fetch_optional(db)
        .await
}

/// The latest SBOM of an artifact, in brief.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct SbomBrief {
    pub id: i64,
    pub format: String,
    pub spec_version: String,
    pub tool: Option<String>,
    pub component_count: i32,
    pub uploaded_at: DateTime<Utc>,
}

/// An artifact: a built thing of a project.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ArtifactSummary {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub version: String,
    /// `sha256:<hex>` when known.
    pub digest: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sbom_count: i64,
    #[sqlx(json(nullable))]
    pub latest_sbom: Option<SbomBrief>,
}

const ARTIFACT_SUMMARY: &str = "
    SELECT a.id, p.name AS project, a.name, a.version, a.digest, a.created_at,
           (SELECT count(*) FROM sboms s WHERE s.artifact_id = a.id) AS sbom_count,
           (SELECT json_build_object('id', s.id, 'format', s.format,
                     'spec_version', s.spec_version, 'tool', s.tool,
                     'component_count', s.component_count, 'uploaded_at', s.uploaded_at)
              FROM sboms s WHERE s.artifact_id = a.id ORDER BY s.id DESC LIMIT 1) AS latest_sbom
    FROM artifacts a JOIN projects p ON p.id = a.project_id";

/// Artifacts, newest first, optionally of one project and matching `q`
/// (in name or version).
pub async fn list_artifacts(
    db: impl PgExecutor<'_>,
    project: Option<&str>,
    q: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<ArtifactSummary>> {
    sqlx::query_as(&format!(
        "{ARTIFACT_SUMMARY}
         WHERE ($1::text IS NULL OR p.name = $1)
           AND ($2::text IS NULL OR strpos(lower(a.name || ' ' || a.version), lower($2)) > 0)
           AND ($3::bigint IS NULL OR a.id < $3)
         ORDER BY a.id DESC LIMIT $4"
    ))
    .bind(project)
    .bind(q)
    .bind(before_id)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn get_artifact(
    db: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<ArtifactSummary>> {
    sqlx::query_as(&format!("{ARTIFACT_SUMMARY} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// An artifact found by the names an upload targets it with.
#[derive(Debug, sqlx::FromRow)]
pub struct NamedArtifact {
    pub id: i64,
    pub digest: Option<String>,
}

/// The artifact `project`/`name`@`version`, if it exists.
pub async fn find_artifact(
    db: impl PgExecutor<'_>,
    project: &str,
    name: &str,
    version: &str,
) -> sqlx::Result<Option<NamedArtifact>> {
    sqlx::query_as(
        "SELECT a.id, a.digest FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE p.name = $1 AND a.name = $2 AND a.version = $3",
    )
    .bind(project)
    .bind(name)
    .bind(version)
    .fetch_optional(db)
    .await
}

/// Ids of a project's artifacts.
pub async fn project_artifacts(db: impl PgExecutor<'_>, project: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT a.id FROM artifacts a JOIN projects p ON p.id = a.project_id WHERE p.name = $1",
    )
    .bind(project)
    .fetch_all(db)
    .await
}

/// Finds or creates the project, then the artifact. An artifact whose
/// stored digest differs from `digest` is a conflict: `Err(stored)`.
pub async fn upsert_artifact(
    tx: &mut PgConnection,
    project: &str,
    name: &str,
    version: &str,
    digest: Option<&str>,
) -> sqlx::Result<Result<i64, String>> {
    let project_id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
    )
    .bind(project)
    .fetch_one(&mut *tx)
    .await?;
    // The no-op update locks the row, so concurrent uploads agree on its digest.
    let (id, stored): (i64, Option<String>) = sqlx::query_as(
        "INSERT INTO artifacts (project_id, name, version, digest) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, name, version) DO UPDATE SET name = EXCLUDED.name
         RETURNING id, digest",
    )
    .bind(project_id)
    .bind(name)
    .bind(version)
    .bind(digest)
    .fetch_one(&mut *tx)
    .await?;
    match (stored, digest) {
        (Some(s), Some(d)) if s != d => Ok(Err(s)),
        (None, Some(d)) => {
            sqlx::query("UPDATE artifacts SET digest = $2 WHERE id = $1")
                .bind(id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
            Ok(Ok(id))
        }
        _ => Ok(Ok(id)),
    }
}
