//! Compliance reports: NIST SP 800-53 Rev. 5, NIST SSDF 1.1 and the EU
//! Cyber Resilience Act, judged from the evidence Cairn holds, with the
//! evidence behind every status.
//!
//! `frameworks/*.json` are the frameworks and their mapping to Cairn's
//! evidence (data, reviewed like code; docs/compliance.md shows them).
//! `core/` is pure (no axum, no sqlx): the framework schema, how a control
//! is judged, the exports (JSON, CSV, OSCAL) and their signature.
//! `service` gathers the evidence as of a time, `store` is the only SQL,
//! `api` and `web` the thin handlers. This folder reads other capabilities'
//! rows (evaluations, SBOMs, attestations, findings) through its own store
//! and `attestations::store`; nothing imports it but the router.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
