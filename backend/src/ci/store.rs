//! CI definitions and their hardening findings, by project.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use super::core::{CiDefinitionFacts, Finding, Kind};

pub struct NewCiDefinition<'a> {
    pub project: &'a str,
    pub kind: &'a str,
    pub file: &'a str,
    pub content: &'a str,
    pub content_sha256: &'a [u8],
    pub findings: &'a [Finding],
    pub uploaded_by: Option<i64>,
}

/// A stored CI definition with its findings (default parameters).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CiDefinition {
    pub id: i64,
    pub project: String,
    /// `github-workflow`, `gitlab-ci` or `dockerfile`.
    pub kind: String,
    pub file: String,
    #[schema(value_type = Vec<Finding>)]
    pub findings: Json<Vec<Finding>>,
    pub uploaded_at: DateTime<Utc>,
}

/// Stores a definition unless the file's latest definition has the same
/// kind and bytes; returns the record and whether it is new. The project
/// row stays locked until the transaction ends, so identical uploads racing
/// store one record.
pub async fn insert_ci_definition(
    tx: &mut PgConnection,
    new: &NewCiDefinition<'_>,
) -> sqlx::Result<(CiDefinition, bool)> {
    let project_id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
    )
    .bind(new.project)
    .fetch_one(&mut *tx)
    .await?;
    let same: Option<CiDefinition> = sqlx::query_as(
        "SELECT id, $5::text AS project, kind, file, findings, uploaded_at
           FROM (SELECT * FROM ci_definitions WHERE project_id = $1 AND file = $2
                  ORDER BY id DESC LIMIT 1) d
          WHERE kind = $3 AND content_sha256 = $4",
    )
    .bind(project_id)
    .bind(new.file)
    .bind(new.kind)
    .bind(new.content_sha256)
    .bind(new.project)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(same) = same {
        return Ok((same, false));
    }
    sqlx::query_as(
        "INSERT INTO ci_definitions (project_id, kind, file, content, content_sha256, findings,
                                     finding_count, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, $9::text AS project, kind, file, findings, uploaded_at",
    )
    .bind(project_id)
    .bind(new.kind)
    .bind(new.file)
    .bind(new.content)
    .bind(new.content_sha256)
    .bind(Json(new.findings))
    .bind(new.findings.len() as i32)
    .bind(new.uploaded_by)
    .bind(new.project)
    .fetch_one(&mut *tx)
    .await
    .map(|d| (d, true))
}

/// The latest definition of each file of a project, by file name, the
/// files after `after`; at most `limit`.
pub async fn latest_ci_definitions(
    db: impl PgExecutor<'_>,
    project_id: i64,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<CiDefinition>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (d.file) d.id, p.name AS project, d.kind, d.file, d.findings, d.uploaded_at
         FROM ci_definitions d JOIN projects p ON p.id = d.project_id
         WHERE d.project_id = $1 AND ($2::text IS NULL OR d.file > $2)
         ORDER BY d.file, d.id DESC LIMIT $3",
    )
    .bind(project_id)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The latest definition of each file, with its text, for rules that
/// re-check them.
#[derive(sqlx::FromRow)]
struct StoredText {
    id: i64,
    kind: String,
    file: String,
    content: String,
}

/// The project's CI definitions (latest of each file) for policy rules;
/// `None` when the project has none.
pub async fn ci_facts(
    conn: &mut PgConnection,
    project_id: i64,
) -> sqlx::Result<Option<Vec<CiDefinitionFacts>>> {
    let rows: Vec<StoredText> = sqlx::query_as(
        "SELECT DISTINCT ON (file) id, kind, file, content FROM ci_definitions
         WHERE project_id = $1 ORDER BY file, id DESC",
    )
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .filter_map(|r| {
                Some(CiDefinitionFacts {
                    id: r.id,
                    kind: Kind::parse(&r.kind)?,
                    file: r.file,
                    content: r.content,
                })
            })
            .collect(),
    ))
}
