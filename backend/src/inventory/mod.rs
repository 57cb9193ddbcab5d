//! The inventory: projects and artifacts, and the artifact an upload
//! targets (`service::ArtifactTarget`: created with its project on first
//! use, its digest fixed once known).
//!
//! `service` holds the use cases; `store` is the only SQL; `api` is thin.

pub mod api;
pub mod service;
pub mod store;
pub mod web;
