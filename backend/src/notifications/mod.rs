//! Outgoing notifications: subscriptions that send new affecting findings
//! (KEV, or severity at or above a threshold) and gate decisions that flip
//! to deny as signed webhooks, generic JSON or Slack-compatible, delivered
//! from a PostgreSQL outbox with retries and dead letters.
//!
//! `core/` is pure (no axum, no sqlx): events, which subscriptions an event
//! matches, payloads, the signature, the retry schedule and the SSRF guard.
//! `service` holds the use cases (subscriptions, enqueueing in the caller's
//! transaction), `store` the only SQL, `worker` the delivery worker and
//! `api` the thin handlers. Hooked into `policies::evaluate_and_store`
//! (findings that appear, verdicts that flip to deny).

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod worker;
