//! Database connection, migrations and start-up housekeeping.

use rand::RngCore;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

pub async fn connect(options: PgConnectOptions, max_connections: u32) -> sqlx::Result<PgPool> {
    // Cairn's queries are short and index-driven; JIT compilation (tens of
    // milliseconds per query when statistics are missing, e.g. right after a
    // bulk load) only ever makes them slower.
    let options = options.options([("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options)
        .await
}

/// 32 random bytes kept in `settings` under `key`: created by whichever
/// instance asks first, then the same for every instance sharing the
/// database (the session HMAC key, the fallback sealing key).
pub async fn random_setting(pool: &PgPool, key: &str) -> sqlx::Result<Vec<u8>> {
    let mut fresh = vec![0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(key)
        .bind(&fresh)
        .execute(pool)
        .await?;
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_one(pool)
        .await
}

/// The HMAC key for dashboard sessions, shared by every instance.
pub async fn session_secret(pool: &PgPool) -> sqlx::Result<Vec<u8>> {
    random_setting(pool, "session_key").await
}
