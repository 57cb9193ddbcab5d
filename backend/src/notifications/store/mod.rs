//! The only SQL of notifications: subscriptions and the delivery outbox.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

/// A subscription as stored (without its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub format: String,
    pub events: Vec<String>,
    pub min_severity: String,
    pub kev: bool,
    pub project: Option<String>,
    pub enabled: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, url, format, events, min_severity, kev, project, enabled,
        created_by, created_at, updated_at";

/// What a subscription is made of (for insert and update).
pub struct SubscriptionFields<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub format: &'a str,
    pub events: &'a [String],
    pub min_severity: &'a str,
    pub kev: bool,
    pub project: Option<&'a str>,
    pub enabled: bool,
}

/// The id the next subscription gets (its secret is sealed to it).
pub async fn next_id(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('notification_subscriptions', 'id'))")
        .fetch_one(conn)
        .await
}

/// Inserts with the given id; None when the name is taken.
pub async fn insert(
    conn: &mut PgConnection,
    id: i64,
    f: &SubscriptionFields<'_>,
    secret_sealed: &[u8],
    created_by: i64,
) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO notification_subscriptions
             (id, name, url, secret_sealed, format, events, min_severity, kev, project, enabled, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (name) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(f.name)
    .bind(f.url)
    .bind(secret_sealed)
    .bind(f.format)
    .bind(f.events)
    .bind(f.min_severity)
    .bind(f.kev)
    .bind(f.project)
    .bind(f.enabled)
    .bind(created_by)
    .fetch_optional(conn)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notification_subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Locks a subscription for an update.
pub async fn lock(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<SubscriptionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notification_subscriptions WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Up to `limit` subscriptions by name (then id) after the cursor's.
pub async fn list(
    db: impl PgExecutor<'_>,
    after: Option<(String, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<SubscriptionRow>> {
    let (name, id) = after.unzip();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notification_subscriptions
          WHERE $1::text IS NULL OR (name, id) > ($1, $2)
          ORDER BY name, id LIMIT $3"
    ))
    .bind(name)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The enabled subscriptions (what events are matched against).
pub async fn enabled(conn: &mut PgConnection) -> sqlx::Result<Vec<SubscriptionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notification_subscriptions WHERE enabled ORDER BY id"
    ))
    .fetch_all(conn)
    .await
}

pub async fn name_taken(conn: &mut PgConnection, name: &str, except: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM notification_subscriptions WHERE name = $1 AND id <> $2)",
    )
    .bind(name)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Replaces the fields (and the sealed secret when one is given).
pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    f: &SubscriptionFields<'_>,
    secret_sealed: Option<&[u8]>,
) -> sqlx::Result<SubscriptionRow> {
    sqlx::query_as(&format!(
        "UPDATE notification_subscriptions
            SET name = $2, url = $3, format = $4, events = $5, min_severity = $6, kev = $7,
                project = $8, enabled = $9, secret_sealed = coalesce($10, secret_sealed),
                updated_at = now()
          WHERE id = $1
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(f.name)
    .bind(f.url)
    .bind(f.format)
    .bind(f.events)
    .bind(f.min_severity)
    .bind(f.kev)
    .bind(f.project)
    .bind(f.enabled)
    .bind(secret_sealed)
    .fetch_one(conn)
    .await
}

/// Deletes a subscription and its deliveries.
pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM notification_subscriptions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

// --- deliveries ----------------------------------------------------------------

/// Deliveries to queue, column by column.
#[derive(Debug, Default)]
pub struct NewDeliveries {
    pub subscription_id: Vec<i64>,
    pub event: Vec<String>,
    pub event_id: Vec<String>,
    pub payload: Vec<serde_json::Value>,
}

impl NewDeliveries {
    pub fn len(&self) -> usize {
        self.subscription_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subscription_id.is_empty()
    }
}

/// Queues deliveries; returns their ids in order.
pub async fn enqueue(conn: &mut PgConnection, d: &NewDeliveries) -> sqlx::Result<Vec<i64>> {
    if d.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "INSERT INTO notification_deliveries (subscription_id, event, event_id, payload)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::jsonb[])
         RETURNING id",
    )
    .bind(&d.subscription_id)
    .bind(&d.event)
    .bind(&d.event_id)
    .bind(&d.payload)
    .fetch_all(conn)
    .await
}

/// A delivery as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub event: String,
    pub event_id: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
}

/// Deliveries newest first, below `before_id`.
pub async fn list_deliveries(
    db: impl PgExecutor<'_>,
    subscription: Option<i64>,
    state: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(
        "SELECT id, subscription_id, event, event_id, state, attempts, next_attempt_at, last_error,
                last_status, created_at, delivered_at, payload
           FROM notification_deliveries
          WHERE ($1::bigint IS NULL OR subscription_id = $1)
            AND ($2::text IS NULL OR state = $2)
            AND ($3::bigint IS NULL OR id < $3)
          ORDER BY id DESC LIMIT $4",
    )
    .bind(subscription)
    .bind(state)
    .bind(before_id)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

/// Puts a dead letter back in the queue with fresh attempts; returns the
/// state it had (None: no such delivery).
pub async fn requeue_dead(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<String>> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM notification_deliveries WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    if state.as_deref() == Some("dead") {
        sqlx::query(
            "UPDATE notification_deliveries
                SET state = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL
              WHERE id = $1",
        )
        .bind(id)
        .execute(conn)
        .await?;
    }
    Ok(state)
}

/// A delivery a worker has leased.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Leased {
    pub id: i64,
    pub subscription_id: i64,
    pub event: String,
    pub payload: serde_json::Value,
    /// Attempts including this one (also the lease's token).
    pub attempts: i32,
    pub url: String,
    pub secret_sealed: Vec<u8>,
}

/// Leases up to `limit` due deliveries of enabled subscriptions for
/// `lease_secs` (one short transaction: locks are not held while sending).
/// A lease that runs out (its worker died) makes the delivery due again.
pub async fn lease(
    conn: &mut PgConnection,
    limit: i64,
    lease_secs: f64,
) -> sqlx::Result<Vec<Leased>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT d.id FROM notification_deliveries d
               JOIN notification_subscriptions s ON s.id = d.subscription_id
              WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                AND (d.leased_until IS NULL OR d.leased_until < now())
                AND s.enabled
              ORDER BY d.next_attempt_at, d.id
              LIMIT $1
              FOR UPDATE OF d SKIP LOCKED)
         UPDATE notification_deliveries d
            SET attempts = d.attempts + 1,
                leased_until = now() + make_interval(secs => $2)
           FROM due, notification_subscriptions s
          WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.subscription_id, d.event, d.payload, d.attempts, s.url, s.secret_sealed",
    )
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(conn)
    .await
}

/// Records a successful attempt (if the lease is still this worker's).
pub async fn delivered(
    db: impl PgExecutor<'_>,
    id: i64,
    attempts: i32,
    status: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE notification_deliveries
            SET state = 'delivered', delivered_at = now(), last_status = $3, last_error = NULL,
                leased_until = NULL
          WHERE id = $1 AND attempts = $2 AND state = 'pending'",
    )
    .bind(id)
    .bind(attempts)
    .bind(status)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: due again after `retry_secs`, or dead (None).
pub async fn failed(
    db: impl PgExecutor<'_>,
    id: i64,
    attempts: i32,
    status: Option<i32>,
    error: &str,
    retry_secs: Option<f64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE notification_deliveries
            SET state = CASE WHEN $5::float8 IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => coalesce($5, 0)),
                last_status = $3, last_error = $4, leased_until = NULL
          WHERE id = $1 AND attempts = $2 AND state = 'pending'",
    )
    .bind(id)
    .bind(attempts)
    .bind(status)
    .bind(error)
    .bind(retry_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// The sealed secret of a subscription.
pub async fn secret_of(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT secret_sealed FROM notification_subscriptions WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}
