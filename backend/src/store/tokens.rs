//! API tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use utoipa::ToSchema;

use crate::auth::{generate_token, hash_token, Caller, Role};

/// A token as listed to admins (never the secret).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    #[schema(value_type = Role)]
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token and returns its id and secret (shown once).
pub async fn create(
    db: impl PgExecutor<'_>,
    name: &str,
    role: Role,
) -> sqlx::Result<(i64, String)> {
    let token = generate_token();
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, role, token_hash) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(hash_token(&token))
    .fetch_one(db)
    .await?;
    Ok((id, token))
}

/// Makes sure an admin token with exactly this value exists and is active.
pub async fn ensure_bootstrap(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (name, role, token_hash) VALUES ('bootstrap', 'admin', $1)
         ON CONFLICT (token_hash) DO UPDATE SET role = 'admin', revoked_at = NULL",
    )
    .bind(hash_token(token))
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    role: String,
    stale: bool,
}

/// The caller a secret token belongs to, if it is known and not revoked.
pub async fn authenticate(pool: &PgPool, token: &str) -> sqlx::Result<Option<Caller>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, name, role,
                last_used_at IS NULL OR last_used_at < now() - interval '1 minute' AS stale
         FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        if r.stale {
            // Usage is recorded at minute granularity, off the request path.
            let pool = pool.clone();
            tokio::spawn(async move {
                let _ = sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1")
                    .bind(r.id)
                    .execute(&pool)
                    .await;
            });
        }
        to_caller(r.id, r.name, &r.role)
    }))
}

/// The caller behind a dashboard session, if its token is still active.
pub async fn active_by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Caller>> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT id, name, role FROM api_tokens WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name, role)| to_caller(id, name, &role)))
}

fn to_caller(token_id: i64, name: String, role: &str) -> Caller {
    Caller {
        token_id,
        name,
        // The CHECK constraint guarantees one of the three.
        role: Role::parse(role).unwrap_or(Role::Viewer),
    }
}

pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TokenInfo>> {
    sqlx::query_as(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id",
    )
    .fetch_all(db)
    .await
}

/// Revokes a token; false when there is no such token.
pub async fn revoke(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1")
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
