//! Vulnerabilities: OSV advisories imported offline, the CISA KEV catalog,
//! and exact per-ecosystem matching against the portfolio's SBOMs.
//!
//! `core/` is pure (no axum, no sqlx): version ordering per ecosystem,
//! purls, OSV records, ranges, severity, KEV, triage resolution, VEX read and
//! write, Grype/Trivy reports. `service` holds the use cases
//! and transactions, `store` the only SQL, `api` the thin handlers. This
//! folder imports the shared plumbing (`identity`, `error`, `pagination`,
//! `upload`, `state`, `inventory::service::ArtifactTarget`) and queues re-evaluation
//! through `queue::evaluate`. Imported by: the SBOM store (it keys
//! components with `core::purl`) and `policies::store::load_input` (the
//! findings in the rule input).

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
