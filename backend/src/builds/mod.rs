//! Builds: CI webhooks received and verified (GitHub, GitLab), stored
//! durably, normalised by the queue worker into build records (runs, jobs,
//! the artifacts they built).
//!
//! `core` is pure (no axum, no sqlx): providers, delivery verification,
//! payload normalisation; `service` holds the use cases; `store` is the
//! only SQL (`runs`, `webhooks`); `worker` drains the delivery queue; `api`
//! and `web` are thin. Secrets are sealed by `crate::secrets`.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
pub mod worker;
