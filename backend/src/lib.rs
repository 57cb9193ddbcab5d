//! Cairn: a self-hosted software-supply-chain evidence service.
//!
//! Layers, outermost first: `app` (router, middleware) → `api` and `web`
//! (thin handlers) → `ingest` (use cases) → `sbom` (format parsing, no I/O)
//! and `store` (SQL). `error::ApiError` is the one error type of the HTTP
//! layer, mapped to problem+json in one place.

pub mod api;
pub mod app;
pub mod attest;
pub mod auth;
pub mod bounded;
pub mod cidef;
pub mod compliance;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod evidence;
pub mod go_ci;
pub mod goevidence;
pub mod ingest;
pub mod memlimit;
pub mod pagination;
pub mod policy;
pub mod queue;
pub mod sbom;
pub mod state;
pub mod store;
pub mod upload;
pub mod web;
pub mod web_builds;
pub mod web_goci;
pub mod web_policy;
pub mod webhooks;
pub mod workers;

use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::SessionKeys;
use crate::config::Config;
use crate::state::AppState;

/// Prepares a database for serving: migrations, the bootstrap token, the
/// session key. Safe to run from several instances at once.
pub async fn prepare(pool: PgPool, config: Config) -> anyhow::Result<AppState> {
    db::MIGRATOR.run(&pool).await?;
    policy::sandbox::install(config.sandbox_options()?);
    if let Some(token) = &config.bootstrap_token {
        store::tokens::ensure_bootstrap(&pool, token).await?;
    }
    let secret = db::session_secret(&pool).await?;
    let secret_key = webhooks::secrets::server_key(&pool, &config).await?;
    Ok(AppState {
        pool,
        config: Arc::new(config),
        sessions: SessionKeys::new(&secret),
        secret_key,
    })
}
