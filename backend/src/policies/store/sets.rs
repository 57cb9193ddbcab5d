//! Policy sets and their versions.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::policies::core::engine::PolicyDefinition;

/// A set's current version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicySet {
    pub id: i64,
    pub name: String,
    pub version: i32,
    /// SHA-256 of this version's definition.
    pub digest: String,
    pub definition: PolicyDefinition,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SetRow {
    id: i64,
    name: String,
    version: i32,
    digest: String,
    #[sqlx(json)]
    definition: PolicyDefinition,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SetRow> for PolicySet {
    fn from(r: SetRow) -> Self {
        PolicySet {
            id: r.id,
            name: r.name,
            version: r.version,
            digest: r.digest,
            definition: r.definition,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const SET: &str = "SELECT s.id, s.name, v.version, v.digest, v.definition, s.created_at, s.updated_at
                     FROM policy_sets s
                     JOIN policy_set_versions v ON v.policy_set_id = s.id AND v.version = s.current_version";

/// Creates a set at version 1; `None` if the name is taken.
pub async fn insert_set(
    conn: &mut PgConnection,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO policy_sets (name, current_version) VALUES ($1, 1)
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(&def.name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    insert_version(conn, id, 1, def, created_by).await?;
    Ok(Some(id))
}

async fn insert_version(
    conn: &mut PgConnection,
    id: i64,
    version: i32,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO policy_set_versions (policy_set_id, version, definition, digest, created_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(sqlx::types::Json(def))
    .bind(def.digest())
    .bind(created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the (live) set for a change.
pub async fn lock_set(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<(i32, String)>> {
    sqlx::query_as(
        "SELECT s.current_version, v.digest FROM policy_sets s
           JOIN policy_set_versions v ON v.policy_set_id = s.id AND v.version = s.current_version
          WHERE s.id = $1 AND s.deleted_at IS NULL FOR UPDATE OF s",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Adds a version and makes it current.
pub async fn new_version(
    conn: &mut PgConnection,
    id: i64,
    version: i32,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<()> {
    insert_version(conn, id, version, def, created_by).await?;
    sqlx::query(
        "UPDATE policy_sets SET current_version = $2, name = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .bind(&def.name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn name_taken(db: impl PgExecutor<'_>, name: &str, except: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_sets WHERE name = $1 AND id <> $2)")
        .bind(name)
        .bind(except)
        .fetch_one(db)
        .await
}

pub async fn set_id_by_name(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM policy_sets WHERE name = $1 AND deleted_at IS NULL")
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn delete_set(conn: &mut PgConnection, id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE policy_sets SET deleted_at = now(), name = name || '~deleted-' || id
          WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM policy_latest WHERE policy_set_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get_set(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<PolicySet>> {
    let row: Option<SetRow> =
        sqlx::query_as(&format!("{SET} WHERE s.id = $1 AND s.deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Into::into))
}

/// Live sets, by name.
pub async fn list_sets(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PolicySet>> {
    let rows: Vec<SetRow> =
        sqlx::query_as(&format!("{SET} WHERE s.deleted_at IS NULL ORDER BY s.name"))
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Live sets by name, those after `after`; at most `limit`.
pub async fn set_page(
    db: impl PgExecutor<'_>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<PolicySet>> {
    let rows: Vec<SetRow> = sqlx::query_as(&format!(
        "{SET} WHERE s.deleted_at IS NULL AND ($1::text IS NULL OR s.name > $1)
          ORDER BY s.name LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The set exists, live or deleted (its versions stay).
pub async fn set_exists(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_sets WHERE id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// One version of a set.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PolicyVersion {
    pub version: i32,
    pub digest: String,
    #[sqlx(json)]
    pub definition: PolicyDefinition,
    pub created_at: DateTime<Utc>,
}

/// A set's versions older than `before`, newest first; at most `limit`.
pub async fn versions(
    db: impl PgExecutor<'_>,
    id: i64,
    before: Option<i32>,
    limit: i64,
) -> sqlx::Result<Vec<PolicyVersion>> {
    sqlx::query_as(
        "SELECT version, digest, definition, created_at FROM policy_set_versions
          WHERE policy_set_id = $1 AND ($2::int IS NULL OR version < $2)
          ORDER BY version DESC LIMIT $3",
    )
    .bind(id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}
