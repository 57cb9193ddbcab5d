//! Dependency-Track compatibility: the part of DT's REST API that CI
//! uploaders and gates use (DT's GitHub Action, Jenkins plugin,
//! dtrack-auditor, …), answered from Cairn's own evidence.
//!
//! `core/` is pure (no axum, no sqlx): how a DT project name and version
//! map onto a Cairn project, artifact and version, DT's UUIDs and lenient
//! booleans, and the DT JSON shapes (project, finding, policy violation)
//! built from Cairn's findings and policy results. `service` holds the use
//! cases (an upload goes through `sboms::service::ingest_sbom_with`, its token
//! recorded in the SBOM's transaction), `store` the only SQL, `api` the
//! thin handlers. Reads `findings` of the vulnerabilities capability and
//! the latest policy evaluations; writes `dtrack_projects` and
//! `dtrack_uploads` (migrations/0025_dtrack.sql).

pub mod api;
pub mod core;
pub mod service;
pub mod store;
