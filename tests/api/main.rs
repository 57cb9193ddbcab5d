//! Integration tests: the real HTTP server, a real PostgreSQL, real documents.

mod harness;

mod auth;
mod browser;
mod dashboard;
mod embedded;
mod openapi;
mod reading;
mod sbom_bad_input;
mod sbom_upload;
