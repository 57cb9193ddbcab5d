//! Shared application state handed to every handler.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::identity::SessionKeys;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub sessions: SessionKeys,
    /// Seals and opens webhook secrets.
    pub secret_key: crate::secrets::SecretKey,
    /// The time policies judge by (waiver expiry, freshness).
    pub clock: crate::clock::Clock,
}
