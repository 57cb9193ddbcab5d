//! Go evidence: build info and function tables read from binaries (or
//! `go version -m` text), go.mod and go.sum, cross-checked against the
//! artifact's SBOM and source commit.
//!
//! `core` is pure (no axum, no sqlx); `service` holds the use cases and
//! transactions; `store` is the only SQL; `api` and `web` are thin.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
