//! Shared application state handed to every handler.

use std::sync::Arc;

use sqlx::PgPool;

use crate::identity::SessionKeys;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub sessions: SessionKeys,
    /// Seals and opens webhook secrets.
    pub secret_key: crate::secrets::SecretKey,
}
