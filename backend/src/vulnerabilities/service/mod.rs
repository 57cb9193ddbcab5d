//! Use cases: importing advisories and the KEV catalog (one transaction
//! each), and matching them against the portfolio's SBOM components.
//!
//! One file per use case; what callers use is re-exported here.

mod findings;
mod import;
mod index;
mod portfolio;
mod reachability;
mod scan;
mod triage;
mod vex;

pub use crate::vulnerabilities::core::triage::State;
pub use findings::*;
pub use import::*;
pub use portfolio::*;
pub use reachability::{Reachability, ReachabilityState};
pub use scan::*;
pub use triage::*;
pub use vex::*;
