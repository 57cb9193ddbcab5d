//! The pure core of the reporting clock: no axum, no sqlx, no I/O.

pub mod clock;
pub mod member_states;
pub mod report;

pub use clock::*;
