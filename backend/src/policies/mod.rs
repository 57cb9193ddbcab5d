//! Policies: the engine that judges an artifact's evidence into a verdict,
//! and what is built on it (the deploy gate, Kubernetes admission, policy
//! sets, waivers, the evaluation queue).
//!
//! `core` is the engine, free of HTTP and SQL: `RuleInput`, the built-in
//! rules (one file each under `core/rules/`), Rego (bounded, in sandboxed
//! worker processes), SPDX expressions, the outcome memo, AdmissionReview
//! reading. `service` holds the use cases (evaluate and store, gate,
//! admission, dry-runs, set and waiver changes); `store` is the only SQL,
//! and `store::input` the one place other capabilities' evidence becomes a
//! `RuleInput`; `worker` drains the evaluation queue; `api` and `web` are
//! thin.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
pub mod worker;
