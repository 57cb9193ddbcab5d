//! The Dependency-Track compatibility's only SQL: `dtrack_projects` (a
//! stable UUID per artifact a DT client addressed) and `dtrack_uploads`
//! (upload tokens). Parameterised statements only.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// A DT project as stored, with its Cairn artifact and latest SBOM.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub uuid: String,
    pub artifact_id: i64,
    pub dt_name: String,
    pub dt_version: String,
    pub parent_name: Option<String>,
    pub tags: Vec<String>,
    pub is_latest: bool,
    /// The later of the last DT upload and the latest SBOM stored by any
    /// route.
    pub last_bom_import: Option<DateTime<Utc>>,
    pub project: String,
    pub artifact: String,
    pub version: String,
    pub format: Option<String>,
    pub spec_version: Option<String>,
}

const PROJECT: &str =
    "SELECT d.uuid::text AS uuid, d.artifact_id, d.dt_name, d.dt_version, d.parent_name,
            d.tags, d.is_latest,
            GREATEST(d.last_bom_import, s.uploaded_at) AS last_bom_import,
            p.name AS project, a.name AS artifact, a.version,
            s.format, s.spec_version
       FROM dtrack_projects d
       JOIN artifacts a ON a.id = d.artifact_id
       JOIN projects p ON p.id = a.project_id
       LEFT JOIN LATERAL (SELECT format, spec_version, uploaded_at FROM sboms
                           WHERE artifact_id = d.artifact_id ORDER BY id DESC LIMIT 1) s ON true";

pub async fn by_uuid(db: impl PgExecutor<'_>, uuid: &str) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(&format!("{PROJECT} WHERE d.uuid = $1::uuid"))
        .bind(uuid)
        .fetch_optional(db)
        .await
}

pub async fn by_name(
    db: impl PgExecutor<'_>,
    name: &str,
    version: &str,
) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(&format!(
        "{PROJECT} WHERE d.dt_name = $1 AND d.dt_version = $2"
    ))
    .bind(name)
    .bind(version)
    .fetch_optional(db)
    .await
}

/// Gives an artifact its DT UUID if it has none (an artifact uploaded
/// through `/api/v1/sboms` that a DT client looks up); idempotent.
pub async fn register(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    name: &str,
    version: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dtrack_projects (artifact_id, dt_name, dt_version) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(artifact_id)
    .bind(name)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

/// What an upload records about its DT project.
pub struct Upload<'a> {
    pub artifact_id: i64,
    pub sbom_id: i64,
    pub dt_name: &'a str,
    pub dt_version: &'a str,
    pub parent: Option<&'a str>,
    /// Replaces the stored tags when given.
    pub tags: Option<&'a [String]>,
    pub is_latest: Option<bool>,
    pub uploaded_by: i64,
}

/// Records an upload in the SBOM's transaction: the DT project (created on
/// first upload, its import time moved strictly forward), and a new token.
/// Another artifact holding the same DT name and version is a unique
/// violation (`dtrack_projects_dt_name_dt_version_key`).
pub async fn record_upload(tx: &mut PgConnection, u: &Upload<'_>) -> sqlx::Result<String> {
    sqlx::query(
        "INSERT INTO dtrack_projects (artifact_id, dt_name, dt_version, parent_name, tags, is_latest, last_bom_import)
         VALUES ($1, $2, $3, $4::text, COALESCE($5::text[], '{}'), COALESCE($6::boolean, false), clock_timestamp())
         ON CONFLICT (artifact_id) DO UPDATE
            SET parent_name = COALESCE(dtrack_projects.parent_name, EXCLUDED.parent_name),
                tags = COALESCE($5::text[], dtrack_projects.tags),
                is_latest = COALESCE($6::boolean, dtrack_projects.is_latest),
                last_bom_import = GREATEST(clock_timestamp(),
                                           dtrack_projects.last_bom_import + interval '1 millisecond')",
    )
    .bind(u.artifact_id)
    .bind(u.dt_name)
    .bind(u.dt_version)
    .bind(u.parent)
    .bind(u.tags)
    .bind(u.is_latest)
    .execute(&mut *tx)
    .await?;
    if u.is_latest == Some(true) {
        // As in DT: one latest version per name.
        sqlx::query(
            "UPDATE dtrack_projects SET is_latest = false
              WHERE dt_name = (SELECT dt_name FROM dtrack_projects WHERE artifact_id = $1)
                AND artifact_id <> $1 AND is_latest",
        )
        .bind(u.artifact_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query_scalar(
        "INSERT INTO dtrack_uploads (artifact_id, sbom_id, uploaded_by) VALUES ($1, $2, $3)
         RETURNING token::text",
    )
    .bind(u.artifact_id)
    .bind(u.sbom_id)
    .bind(u.uploaded_by)
    .fetch_one(&mut *tx)
    .await
}

/// The artifact an upload token belongs to.
pub async fn upload_artifact(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT artifact_id FROM dtrack_uploads WHERE token = $1::uuid")
        .bind(token)
        .fetch_optional(db)
        .await
}

/// The artifact's policy evaluation (which also records its findings) is
/// queued and not dead-lettered.
pub async fn evaluation_queued(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM policy_queue WHERE artifact_id = $1 AND dead_at IS NULL)",
    )
    .bind(artifact_id)
    .fetch_one(db)
    .await
}
