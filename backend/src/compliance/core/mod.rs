//! The pure part of compliance reports: frameworks as data, how a control
//! is judged from a release's evidence, the exports and their signature.
//! Imports neither axum nor sqlx.

pub mod assess;
pub mod attestation;
pub mod framework;
pub mod report;
pub mod sign;
