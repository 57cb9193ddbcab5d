//! Pure notification logic: no I/O.

pub mod event;
pub mod payload;
pub mod retry;
pub mod sign;
pub mod target;

pub use event::*;
