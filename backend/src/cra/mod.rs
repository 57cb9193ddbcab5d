//! The EU Cyber Resilience Act's Art. 14 reporting clock: projects marked
//! as CRA products, and a case for each actively exploited vulnerability of
//! one of them (its id or an alias in the imported CISA KEV catalog, or
//! marked so by a maintainer) or severe incident (opened by hand), with the
//! deadlines of the early warning, the notification and the final report,
//! the submissions recorded against them, and draft reports per stage.
//!
//! `core/` is pure (no axum, no sqlx): member states, the clock (deadlines,
//! status, the order of stages, what is overdue or approaching) and the
//! draft reports. `service` holds the use cases and their transactions
//! (the case sync hooked into the KEV import, the evaluation that records
//! findings, and `PUT …/cra`), `store` the only SQL, `api` the thin
//! handlers, `web` the dashboard page. Reads `findings`, `kev_entries` and
//! `vulnerability_ids` of the vulnerabilities capability; queues
//! `cra.*` notifications through `notifications::service`.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
