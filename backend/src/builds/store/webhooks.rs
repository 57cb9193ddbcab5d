//! Webhook sources, the delivery queue, and the security audit.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use utoipa::ToSchema;

/// A source as stored, with its sealed secrets (never serialised).
#[derive(sqlx::FromRow)]
pub struct SourceSecrets {
    pub id: i64,
    pub secret_sealed: Option<Vec<u8>>,
    pub token_hash: Option<Vec<u8>>,
    pub signing_sealed: Option<Vec<u8>>,
}

/// A webhook source as shown to admins (never its secret).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SourceInfo {
    pub id: i64,
    /// `github` or `gitlab`.
    pub provider: String,
    pub name: String,
    /// Repositories it may feed (`owner/name`); null means all.
    pub repositories: Option<Vec<String>>,
    /// GitLab: deliveries must carry the signed form (webhook-signature).
    pub signed: bool,
    pub created_at: DateTime<Utc>,
}

const SOURCE_INFO: &str = "SELECT id, provider, name, repositories,
    signing_sealed IS NOT NULL AS signed, created_at FROM webhook_sources";

pub struct NewSource<'a> {
    pub provider: &'a str,
    pub name: &'a str,
    pub secret_sealed: Option<Vec<u8>>,
    pub token_hash: Option<Vec<u8>>,
    pub signing_sealed: Option<Vec<u8>>,
    pub repositories: Option<Vec<String>>,
}

/// Creates a source; None when one with this provider and name exists.
pub async fn create_source(
    db: impl PgExecutor<'_>,
    new: NewSource<'_>,
) -> sqlx::Result<Option<SourceInfo>> {
    sqlx::query_as(
        "INSERT INTO webhook_sources
            (provider, name, secret_sealed, token_hash, signing_sealed, repositories)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (provider, name) DO NOTHING
         RETURNING id, provider, name, repositories,
                   signing_sealed IS NOT NULL AS signed, created_at",
    )
    .bind(new.provider)
    .bind(new.name)
    .bind(new.secret_sealed)
    .bind(new.token_hash)
    .bind(new.signing_sealed)
    .bind(new.repositories)
    .fetch_optional(db)
    .await
}

pub async fn find_source(
    db: impl PgExecutor<'_>,
    provider: &str,
    name: &str,
) -> sqlx::Result<Option<SourceSecrets>> {
    sqlx::query_as(
        "SELECT id, secret_sealed, token_hash, signing_sealed FROM webhook_sources
         WHERE provider = $1 AND name = $2",
    )
    .bind(provider)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Sources by id, those after `after`; at most `limit`.
pub async fn list_sources(
    db: impl PgExecutor<'_>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<SourceInfo>> {
    sqlx::query_as(&format!("{SOURCE_INFO} WHERE id > $1 ORDER BY id LIMIT $2"))
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Deletes a source and its deliveries; its build records stay.
pub async fn delete_source(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM webhook_sources WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewDelivery<'a> {
    pub source_id: i64,
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub body: &'a [u8],
    /// SHA-256 of `body`.
    pub body_sha256: &'a [u8],
    /// When set, a body identical to one received from this source within
    /// this many seconds is a duplicate, whatever its delivery id (GitHub:
    /// its signature covers the body alone).
    pub body_replay_window_secs: Option<i64>,
    pub remote_addr: Option<String>,
    /// `queued`, or `dead` for a body that is not JSON.
    pub status: &'a str,
    pub error: Option<String>,
}

/// Stores a verified delivery; None when it is a duplicate: this delivery
/// id was already received from this source, or (with a replay window) the
/// same body was, within the window. Also when two copies race: the unique
/// constraint decides on ids, and copies of one body to one source take
/// turns on an advisory lock.
pub async fn insert_delivery(pool: &PgPool, d: NewDelivery<'_>) -> sqlx::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    if let Some(window) = d.body_replay_window_secs {
        let mut first = [0u8; 4];
        first.copy_from_slice(&d.body_sha256[..4]);
        let key = i32::from_be_bytes(first) ^ (d.source_id as i32);
        // Two int4 keys: apart from the one-bigint locks (sqlx's migrator).
        sqlx::query("SELECT pg_advisory_xact_lock(1130459503, $1)")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let seen: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                             WHERE source_id = $1 AND body_sha256 = $2
                               AND received_at > now() - make_interval(secs => $3))",
        )
        .bind(d.source_id)
        .bind(d.body_sha256)
        .bind(window as f64)
        .fetch_one(&mut *tx)
        .await?;
        if seen {
            return Ok(None);
        }
    }
    let id = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries
            (source_id, delivery_id, event, body, body_sha256, remote_addr, status, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (source_id, delivery_id) DO NOTHING
         RETURNING id",
    )
    .bind(d.source_id)
    .bind(d.delivery_id)
    .bind(d.event)
    .bind(d.body)
    .bind(d.body_sha256)
    .bind(d.remote_addr)
    .bind(d.status)
    .bind(d.error)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A delivery as listed to admins (the body only in detail).
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryInfo {
    pub id: i64,
    pub source_id: i64,
    pub provider: String,
    pub source: String,
    /// The provider's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, ...).
    pub delivery_id: String,
    pub event: String,
    /// `queued`, `done`, `ignored` (recorded, feeds no build record) or `dead`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub processed_count: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    pub remote_addr: Option<String>,
    pub size: i32,
}

const DELIVERY_INFO: &str = "SELECT d.id, d.source_id, s.provider, s.name AS source,
    d.delivery_id, d.event, d.status, d.attempts, d.next_attempt_at, d.last_error,
    d.processed_count, d.received_at, d.processed_at, d.remote_addr,
    octet_length(d.body) AS size
    FROM webhook_deliveries d JOIN webhook_sources s ON s.id = d.source_id";

/// Deliveries, newest first, optionally of one status and source.
pub async fn list_deliveries(
    db: impl PgExecutor<'_>,
    status: Option<&str>,
    source_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryInfo>> {
    sqlx::query_as(&format!(
        "{DELIVERY_INFO}
         WHERE ($1::text IS NULL OR d.status = $1)
           AND ($2::bigint IS NULL OR d.source_id = $2)
           AND ($3::bigint IS NULL OR d.id < $3)
         ORDER BY d.id DESC LIMIT $4"
    ))
    .bind(status)
    .bind(source_id)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn get_delivery(
    db: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<(DeliveryInfo, Vec<u8>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        info: DeliveryInfo,
        body: Vec<u8>,
    }
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT x.*, d2.body FROM ({DELIVERY_INFO} WHERE d.id = $1) x
         JOIN webhook_deliveries d2 ON d2.id = x.id"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.info, r.body)))
}

/// Puts a dead delivery back in the queue with fresh attempts. Returns
/// the status it had, or None when there is no such delivery.
pub async fn requeue_dead(db: &mut PgConnection, id: i64) -> sqlx::Result<Option<String>> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM webhook_deliveries WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    if status.as_deref() == Some("dead") {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'queued', attempts = 0,
                    next_attempt_at = now(), last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *db)
        .await?;
        crate::queue::clear(&mut *db, crate::queue::Queue::Webhook, &[id]).await?;
    }
    Ok(status)
}

/// A delivery claimed by a worker: locked until its transaction ends.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub source_id: i64,
    pub provider: String,
    pub repositories: Option<Vec<String>>,
    pub event: String,
    pub body: Vec<u8>,
    pub attempts: i32,
}

/// Locks up to `limit` due deliveries that no other worker holds.
pub async fn claim(db: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT id FROM webhook_deliveries
             WHERE status = 'queued' AND next_attempt_at <= now()
             ORDER BY next_attempt_at, id
             LIMIT $1
             FOR UPDATE SKIP LOCKED)
         SELECT d.id, d.source_id, s.provider, s.repositories, d.event, d.body, d.attempts
         FROM due JOIN webhook_deliveries d ON d.id = due.id
         JOIN webhook_sources s ON s.id = d.source_id
         ORDER BY d.id",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks claimed deliveries processed, in one statement: (id, `done` or
/// `ignored`, why ignored).
pub async fn finish_all(
    db: &mut PgConnection,
    finished: &[(i64, &str, Option<String>)],
) -> sqlx::Result<()> {
    if finished.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = finished.iter().map(|f| f.0).collect();
    let statuses: Vec<&str> = finished.iter().map(|f| f.1).collect();
    let notes: Vec<Option<String>> = finished.iter().map(|f| f.2.clone()).collect();
    sqlx::query(
        "UPDATE webhook_deliveries d SET status = f.status, last_error = f.note,
                processed_at = now(), processed_count = d.processed_count + 1
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS f(id, status, note)
         WHERE d.id = f.id",
    )
    .bind(ids)
    .bind(statuses)
    .bind(notes)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after `backoff_secs`, or dead when
/// this was the last allowed attempt.
pub async fn fail(
    db: &mut PgConnection,
    id: i64,
    error: &str,
    dead: bool,
    backoff_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3 THEN 'dead' ELSE 'queued' END,
                next_attempt_at = now() + make_interval(secs => $4)
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(dead)
    .bind(backoff_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Deliveries still waiting (due now or later).
pub async fn queue_depth(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'queued'")
        .fetch_one(db)
        .await
}

/// Refused deliveries: one row per provider, reason and remote address in
/// each minute, whatever the source names in the URLs, with a count.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub provider: String,
    /// The first source name of the row's minute, from the URL (which may not exist).
    pub source_name: String,
    /// The latest source name (the same unless refusals named several).
    pub last_source_name: String,
    /// The id of `source_name`, when it exists.
    pub source_id: Option<i64>,
    /// The sender's address (IPv6: its /64 network).
    pub remote_addr: Option<String>,
    pub reason: String,
    /// First time this failure was seen in its minute.
    pub created_at: DateTime<Utc>,
    /// Refusals of this provider, reason and address within the minute.
    pub occurrences: i32,
    pub last_seen: DateTime<Utc>,
}

/// Records a refusal. Unauthenticated senders choose the source name, so it
/// is not part of the key: refusals of one provider, reason and address in
/// one minute are one row, however many names they try.
pub async fn audit(
    db: impl PgExecutor<'_>,
    provider: &str,
    source_name: &str,
    source_id: Option<i64>,
    remote_addr: Option<&str>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhook_audit
            (provider, source_name, last_source_name, source_id, remote_addr, reason)
         VALUES ($1, $2, $2, $3, $4, $5)
         ON CONFLICT (provider, coalesce(remote_addr, ''), reason, minute)
         DO UPDATE SET occurrences = least(webhook_audit.occurrences, 2147483646) + 1,
                       last_seen = now(), last_source_name = excluded.last_source_name",
    )
    .bind(provider)
    .bind(source_name)
    .bind(source_id)
    .bind(remote_addr)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn list_audit(
    db: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "SELECT id, provider, source_name, last_source_name, source_id, remote_addr, reason,
                created_at, occurrences, last_seen
         FROM webhook_audit WHERE ($1::bigint IS NULL OR id < $1)
         ORDER BY id DESC LIMIT $2",
    )
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}
