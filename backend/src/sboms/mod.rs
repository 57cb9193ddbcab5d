//! SBOMs: CycloneDX (JSON, XML) and SPDX documents, bare or in in-toto
//! envelopes, identified, normalised, scored for quality and stored with
//! their components; the portfolio-wide component search.
//!
//! `core` is pure (no axum, no sqlx): detection, parsing, normalisation,
//! quality profiles; `service` holds the use cases (ingestion in one
//! transaction); `store` is the only SQL; `api` is thin.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
