//! Signatures, attestations and SLSA provenance: recognised, verified
//! offline against the trusted roots, stored, and linked to the artifact
//! whose digest they cover.
//!
//! `core` is pure (no axum, no sqlx); `service` holds the use cases and
//! transactions; `store` is the only SQL; `api` is thin.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
