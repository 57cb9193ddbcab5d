//! SQL access, one module per aggregate. Functions take an executor so a
//! caller can compose them inside one transaction.

pub mod attestations;
pub mod builds;
pub mod components;
pub mod goci;
pub mod inventory;
pub mod policies;
pub mod sboms;
pub mod tokens;
pub mod webhooks;
