//! Trusted publishing's SQL: publishers, issuers' key sets, used token ids,
//! the exchange audit.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgExecutor;
use utoipa::ToSchema;

use crate::identity::Role;

/// A trusted publisher.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Publisher {
    pub id: i64,
    #[schema(value_type = super::core::Provider)]
    pub provider: String,
    /// The ID tokens' `iss`.
    pub issuer: String,
    /// The `aud` the ID tokens must carry.
    pub audience: String,
    /// Claim constraints: exact values or `*` globs.
    #[schema(value_type = BTreeMap<String, String>)]
    pub claims: Json<BTreeMap<String, String>>,
    /// Projects the issued tokens may write to (exact names or globs).
    pub projects: Vec<String>,
    /// The issued tokens' role.
    #[schema(value_type = Role)]
    pub role: String,
    pub created_at: DateTime<Utc>,
}

const PUBLISHER: &str = "id, provider, issuer, audience, claims, projects, role, created_at";

pub struct NewPublisher<'a> {
    pub provider: &'a str,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub claims: &'a BTreeMap<String, String>,
    pub projects: &'a [String],
    pub role: Role,
    pub created_by: i64,
}

pub async fn insert_publisher(
    db: impl PgExecutor<'_>,
    new: &NewPublisher<'_>,
) -> sqlx::Result<Publisher> {
    sqlx::query_as(&format!(
        "INSERT INTO trusted_publishers (provider, issuer, audience, claims, projects, role, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {PUBLISHER}"
    ))
    .bind(new.provider)
    .bind(new.issuer)
    .bind(new.audience)
    .bind(Json(new.claims))
    .bind(new.projects)
    .bind(new.role.as_str())
    .bind(new.created_by)
    .fetch_one(db)
    .await
}

/// Active publishers after id `after`, by id.
pub async fn list_publishers(
    db: impl PgExecutor<'_>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<Publisher>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLISHER} FROM trusted_publishers
         WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn get_publisher(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Publisher>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLISHER} FROM trusted_publishers WHERE deleted_at IS NULL AND id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The active publishers of an issuer, by id (the first that fits wins).
pub async fn publishers_of(db: impl PgExecutor<'_>, issuer: &str) -> sqlx::Result<Vec<Publisher>> {
    sqlx::query_as(&format!(
        "SELECT {PUBLISHER} FROM trusted_publishers
         WHERE deleted_at IS NULL AND issuer = $1 ORDER BY id"
    ))
    .bind(issuer)
    .fetch_all(db)
    .await
}

/// True when some active publisher trusts `issuer` (only such issuers'
/// keys are ever fetched).
pub async fn issuer_is_trusted(db: impl PgExecutor<'_>, issuer: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM trusted_publishers WHERE deleted_at IS NULL AND issuer = $1)",
    )
    .bind(issuer)
    .fetch_one(db)
    .await
}

/// Deletes a publisher and revokes the tokens it issued (and their
/// dashboard sessions); false when there was no such publisher.
pub async fn delete_publisher(tx: &mut sqlx::PgConnection, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE trusted_publishers SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = now()
         WHERE revoked_at IS NULL
           AND token_id IN (SELECT id FROM api_tokens WHERE publisher_id = $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE publisher_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An issuer's stored key set.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct IssuerKeys {
    pub issuer: String,
    /// The JWK Set.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
    /// `api`, `file` (CAIRN_OIDC_JWKS_FILE) or `discovery`.
    pub source: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn jwks(db: impl PgExecutor<'_>, issuer: &str) -> sqlx::Result<Option<IssuerKeys>> {
    sqlx::query_as("SELECT issuer, jwks, source, updated_at FROM oidc_jwks WHERE issuer = $1")
        .bind(issuer)
        .fetch_optional(db)
        .await
}

/// Issuers' keys after issuer `after`, by issuer.
pub async fn list_jwks(
    db: impl PgExecutor<'_>,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<IssuerKeys>> {
    sqlx::query_as(
        "SELECT issuer, jwks, source, updated_at FROM oidc_jwks
         WHERE issuer > $1 ORDER BY issuer LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn put_jwks(
    db: impl PgExecutor<'_>,
    issuer: &str,
    jwks: &serde_json::Value,
    source: &str,
) -> sqlx::Result<IssuerKeys> {
    sqlx::query_as(
        "INSERT INTO oidc_jwks (issuer, jwks, source) VALUES ($1, $2, $3)
         ON CONFLICT (issuer) DO UPDATE SET jwks = EXCLUDED.jwks, source = EXCLUDED.source,
                                            updated_at = now()
         RETURNING issuer, jwks, source, updated_at",
    )
    .bind(issuer)
    .bind(jwks)
    .bind(source)
    .fetch_one(db)
    .await
}

/// Records an ID token as exchanged; false when it already was (a replay).
/// Forgets tokens that expired an hour ago (they cannot verify any more).
pub async fn use_token_id(
    tx: &mut sqlx::PgConnection,
    issuer: &str,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM oidc_used_tokens WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(
        "INSERT INTO oidc_used_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(issuer)
    .bind(jti)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One audited exchange.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Exchange {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The token's issuer (absent when no publisher trusts it: such text is
    /// the caller's own).
    pub issuer: Option<String>,
    /// The token's `sub`, for tokens of a trusted issuer.
    pub subject: Option<String>,
    /// `granted` or `refused`.
    pub outcome: String,
    /// The check that failed: a claim (`aud`, `repository`, …), `signature`,
    /// `kid`, `alg`, `token`.
    pub check_failed: Option<String>,
    pub reason: Option<String>,
    /// The publisher whose constraints the token met (granted exchanges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_id: Option<i64>,
    /// The token issued (granted exchanges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<i64>,
    /// The verified claims (granted exchanges and refusals after the
    /// signature verified).
    #[schema(value_type = Option<Object>)]
    pub claims: Option<serde_json::Value>,
    /// Refusals like this one within the same minute (the row shows the latest).
    pub occurrences: i32,
}

pub struct NewExchange<'a> {
    pub issuer: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub granted: bool,
    pub check_failed: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub publisher_id: Option<i64>,
    pub token_id: Option<i64>,
    pub claims: Option<&'a serde_json::Value>,
}

/// Records an exchange; a refusal like one already recorded this minute
/// (same issuer, same failed check) counts as another occurrence of it.
pub async fn audit(db: impl PgExecutor<'_>, e: &NewExchange<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oidc_exchanges
             (issuer, subject, outcome, check_failed, reason, publisher_id, token_id, claims)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (minute, (coalesce(issuer, '')), check_failed) WHERE outcome = 'refused'
         DO UPDATE SET occurrences = oidc_exchanges.occurrences + 1, at = now(),
                       subject = EXCLUDED.subject, reason = EXCLUDED.reason,
                       publisher_id = EXCLUDED.publisher_id, claims = EXCLUDED.claims",
    )
    .bind(e.issuer)
    .bind(e.subject)
    .bind(if e.granted { "granted" } else { "refused" })
    .bind(e.check_failed)
    .bind(e.reason)
    .bind(e.publisher_id)
    .bind(e.token_id)
    .bind(e.claims)
    .execute(db)
    .await?;
    Ok(())
}

/// Exchanges, newest first, before id `before`.
pub async fn list_exchanges(
    db: impl PgExecutor<'_>,
    before: i64,
    limit: i64,
) -> sqlx::Result<Vec<Exchange>> {
    sqlx::query_as(
        "SELECT id, at, issuer, subject, outcome, check_failed, reason, publisher_id, token_id,
                claims, occurrences
         FROM oidc_exchanges WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}
