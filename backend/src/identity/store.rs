//! API tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use utoipa::ToSchema;

use crate::identity::core::{generate_token, hash_token, Caller, Role};

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
    /// Tokens minted by a trusted publisher expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// The projects the token may write to; absent: every project.
    pub projects: Option<Vec<String>>,
    /// The trusted publisher whose exchange minted the token (absent for
    /// tokens an admin created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_id: Option<i64>,
}

/// Still usable: neither revoked nor expired (SQL over `api_tokens`).
const ACTIVE: &str = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";

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

/// What `ensure_bootstrap` did with `CAIRN_BOOTSTRAP_TOKEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// No admin token existed: the bootstrap token was created.
    Created,
    /// The token exists and is active: nothing to do.
    Present,
    /// The token was revoked: it stays revoked (never brought back).
    Revoked,
    /// Another active admin token exists: the value was not added.
    Ignored,
}

/// Applies `CAIRN_BOOTSTRAP_TOKEN` at start: the admin token with this value
/// is created only when no active admin token exists. A revoked token is
/// never revoked back to life, and an existing one is left as it is, so a
/// restart with the variable still set undoes no revocation. Instances
/// starting together serialise on an advisory lock.
pub async fn ensure_bootstrap(pool: &PgPool, token: &str) -> sqlx::Result<Bootstrap> {
    let hash = hash_token(token);
    let mut tx = pool.begin().await?;
    // Two int4 keys: a lock space apart from the one-bigint locks (sqlx's
    // migrator uses those).
    sqlx::query("SELECT pg_advisory_xact_lock(1130459502, 1)")
        .execute(&mut *tx)
        .await?;
    let existing: Option<bool> =
        sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
    let outcome = match existing {
        Some(true) => Bootstrap::Revoked,
        Some(false) => Bootstrap::Present,
        None => {
            let admins: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL)",
            )
            .fetch_one(&mut *tx)
            .await?;
            if admins {
                Bootstrap::Ignored
            } else {
                sqlx::query(
                    "INSERT INTO api_tokens (name, role, token_hash) VALUES ('bootstrap', 'admin', $1)
                     ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
                Bootstrap::Created
            }
        }
    };
    tx.commit().await?;
    match outcome {
        Bootstrap::Created => tracing::info!("CAIRN_BOOTSTRAP_TOKEN: admin token created"),
        Bootstrap::Present => {}
        Bootstrap::Revoked => tracing::warn!(
            "CAIRN_BOOTSTRAP_TOKEN is set but ignored: that token was revoked and stays revoked \
             (unset the variable; `cairn token create --role admin` mints a new admin token)"
        ),
        Bootstrap::Ignored => tracing::warn!(
            "CAIRN_BOOTSTRAP_TOKEN is set but ignored: an admin token already exists \
             (the bootstrap token is only created on a database without one; unset the variable)"
        ),
    }
    Ok(outcome)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    role: String,
    projects: Option<Vec<String>>,
    stale: bool,
}

/// A token minted by a trusted publisher's exchange.
pub struct NewScopedToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub projects: &'a [String],
    pub expires_at: DateTime<Utc>,
    pub publisher_id: i64,
    pub claims: &'a serde_json::Value,
}

/// Creates a short-lived, project-scoped token; its id and secret.
pub async fn create_scoped(
    db: impl PgExecutor<'_>,
    new: &NewScopedToken<'_>,
) -> sqlx::Result<(i64, String)> {
    let token = generate_token();
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, role, token_hash, expires_at, projects, publisher_id, claims)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(hash_token(&token))
    .bind(new.expires_at)
    .bind(new.projects)
    .bind(new.publisher_id)
    .bind(new.claims)
    .fetch_one(db)
    .await?;
    Ok((id, token))
}

/// The caller a secret token belongs to, if it is known and not revoked.
pub async fn authenticate(pool: &PgPool, token: &str) -> sqlx::Result<Option<Caller>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT id, name, role, projects,
                last_used_at IS NULL OR last_used_at < now() - interval '1 minute' AS stale
         FROM api_tokens WHERE token_hash = $1 AND {ACTIVE}"
    ))
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
        to_caller(r.id, r.name, &r.role, r.projects)
    }))
}

/// The caller behind token `id`, if the token is still active. This does
/// not consult the `sessions` table: dashboard sessions use
/// [`session_caller`].
pub async fn active_by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Caller>> {
    let row: Option<(i64, String, String, Option<Vec<String>>)> = sqlx::query_as(&format!(
        "SELECT id, name, role, projects FROM api_tokens WHERE id = $1 AND {ACTIVE}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name, role, projects)| to_caller(id, name, &role, projects)))
}

/// Records a new dashboard session (its JWT's `jti`), and forgets the
/// sessions that expired more than a day ago.
pub async fn open_session(
    pool: &PgPool,
    jti: &str,
    token_id: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (jti, token_id, expires_at) VALUES ($1, $2, to_timestamp($3))",
    )
    .bind(jti)
    .bind(token_id)
    .bind(expires_at as f64)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(())
}

/// The caller behind a dashboard session: the session is recorded, not
/// expired, not revoked (signed out), and its token is not revoked.
pub async fn session_caller(
    db: impl PgExecutor<'_>,
    jti: &str,
    token_id: i64,
) -> sqlx::Result<Option<Caller>> {
    let row: Option<(i64, String, String, Option<Vec<String>>)> = sqlx::query_as(
        "SELECT t.id, t.name, t.role, t.projects FROM sessions s JOIN api_tokens t ON t.id = s.token_id
         WHERE s.jti = $1 AND s.token_id = $2 AND s.revoked_at IS NULL
           AND s.expires_at > now() AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > now())",
    )
    .bind(jti)
    .bind(token_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name, role, projects)| to_caller(id, name, &role, projects)))
}

/// Ends a dashboard session (sign-out); false when there was none open.
pub async fn revoke_session(db: impl PgExecutor<'_>, jti: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE sessions SET revoked_at = now() WHERE jti = $1 AND revoked_at IS NULL")
            .bind(jti)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

fn to_caller(token_id: i64, name: String, role: &str, projects: Option<Vec<String>>) -> Caller {
    Caller {
        token_id,
        name,
        projects,
        // The CHECK constraint guarantees one of the three.
        role: Role::parse(role).unwrap_or(Role::Viewer),
    }
}

/// Tokens after id `after`, by id.
pub async fn list(db: impl PgExecutor<'_>, after: i64, limit: i64) -> sqlx::Result<Vec<TokenInfo>> {
    sqlx::query_as(
        "SELECT id, name, role, created_at, last_used_at, revoked_at, expires_at, projects, publisher_id
         FROM api_tokens WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes a token and ends its dashboard sessions; false when there is no
/// such token.
pub async fn revoke(pool: &PgPool, id: i64) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}
