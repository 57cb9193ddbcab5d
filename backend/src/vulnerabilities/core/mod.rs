//! The pure core of vulnerability matching: no axum, no sqlx, no I/O.

pub mod csaf_advisory;
pub mod kev;
pub mod matching;
pub mod osv;
pub mod purl;
pub mod scan;
pub mod severity;
pub mod triage;
pub mod version;
pub mod vex;
