//! Identity: roles, API tokens (random, shown once, stored as SHA-256),
//! and dashboard sessions (a signed JWT whose id is recorded server-side).
//!
//! `core` is pure of HTTP and SQL (roles, the `Caller`, token generation
//! and hashing, session keys); `store` is the only SQL; `api` is thin. The
//! Bearer extractor is `api::extract`'s, the session cookie `web`'s.

pub mod api;
pub mod core;
pub mod store;

pub use self::core::{glob_match, Caller, Role, SessionKeys};
