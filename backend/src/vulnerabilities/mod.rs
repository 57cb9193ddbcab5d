//! Vulnerabilities: OSV advisories imported offline, the CISA KEV catalog,
//! and exact per-ecosystem matching against the portfolio's SBOMs.
//!
//! `core/` is pure (no axum, no sqlx): version ordering per ecosystem,
//! purls, OSV records, ranges, severity, KEV. `service` holds the use cases
//! and transactions, `store` the only SQL, `api` the thin handlers. This
//! folder imports the shared plumbing (`auth`, `error`, `pagination`,
//! `upload`, `state`) and `store::inventory`; no other capability imports
//! it except the SBOM store, which keys components with `core::purl`.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
