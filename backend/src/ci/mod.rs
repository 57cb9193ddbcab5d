//! CI-definition hardening: GitHub Actions workflows, `.gitlab-ci.yml` and
//! Dockerfiles checked for supply-chain hardening, findings stored by
//! project.
//!
//! `core` is pure (no axum, no sqlx); `service` holds the use cases and
//! transactions; `store` is the only SQL; `api` and `web` are thin.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
