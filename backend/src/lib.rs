//! Cairn: a self-hosted software-supply-chain evidence service.
//!
//! One folder per capability (`identity`, `builds`, `attestations`, `go`,
//! `ci`, `vulnerabilities`, `compliance`, …), each with its pure `core`,
//! its `service` (use cases, transactions), its `store` (the only SQL) and
//! thin `api`/`web` handlers; `app` (router, middleware) and `api` (the one
//! route table, extractors) on top, shared plumbing (`config`, `db`,
//! `secrets`, `upload`, `pagination`, `error`, `workers`, `queue`) below.
//! `error::ApiError` is the one error type of the HTTP layer, mapped to
//! problem+json in one place. docs/architecture.md has the map.

pub mod api;
pub mod app;
pub mod attestations;
pub mod bounded;
pub mod builds;
pub mod ci;
pub mod client;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod cra;
pub mod db;
pub mod domain;
pub mod dtrack;
pub mod error;
pub mod go;
pub mod identity;
pub mod inventory;
pub mod memlimit;
pub mod notifications;
pub mod outbound;
pub mod pagination;
pub mod policies;
pub mod publishing;
pub mod queue;
pub mod sboms;
pub mod secrets;
pub mod state;
pub mod upload;
pub mod vulnerabilities;
pub mod web;
pub mod workers;

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::identity::SessionKeys;
use crate::state::AppState;

/// Prepares a database for serving: migrations, the bootstrap token, the
/// session key. Safe to run from several instances at once.
pub async fn prepare(pool: PgPool, config: Config) -> anyhow::Result<AppState> {
    db::MIGRATOR.run(&pool).await?;
    policies::core::sandbox::install(config.sandbox_options()?);
    if let Some(token) = &config.bootstrap_token {
        identity::store::ensure_bootstrap(&pool, token).await?;
    }
    // Components stored before package keys existed are keyed in the
    // background; their artifacts' analysis says `pending` meanwhile.
    let backfill = pool.clone();
    tokio::spawn(async move {
        match vulnerabilities::service::backfill_package_keys(&backfill).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(components = n, "package keys filled in"),
            Err(e) => tracing::warn!(error = %e, "filling in package keys failed"),
        }
    });
    // SBOMs stored before quality scores existed are scored in the
    // background (migrations/0022_sbom_quality.sql).
    let backfill = pool.clone();
    tokio::spawn(async move {
        match sboms::service::backfill_quality(&backfill).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sboms = n, "SBOM quality scores filled in"),
            Err(e) => tracing::warn!(error = %e, "scoring stored SBOMs' quality failed"),
        }
    });
    if let Some(path) = &config.oidc_jwks_file {
        let n = publishing::service::load_jwks_file(&pool, path).await?;
        tracing::info!(issuers = n, "issuer keys loaded from CAIRN_OIDC_JWKS_FILE");
    }
    let secret = db::session_secret(&pool).await?;
    let secret_key = secrets::server_key(&pool, config.secret_key.as_deref()).await?;
    Ok(AppState {
        pool,
        config: Arc::new(config),
        sessions: SessionKeys::new(&secret),
        secret_key,
        clock: crate::clock::Clock::default(),
    })
}

#[cfg(test)]
mod tests {
    /// docs/architecture.md names every top-level module (its layout table).
    #[test]
    fn the_architecture_doc_names_every_module() {
        let root = env!("CARGO_MANIFEST_DIR");
        let doc = std::fs::read_to_string(format!("{root}/../docs/architecture.md")).unwrap();
        let lib = include_str!("lib.rs");
        let modules: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
            .collect();
        assert!(modules.len() > 20, "{modules:?}");
        for m in modules {
            assert!(
                doc.contains(&format!("`backend/src/{m}.rs`"))
                    || doc.contains(&format!("`backend/src/{m}/`")),
                "docs/architecture.md does not name backend/src/{m}"
            );
        }
    }
}
