//! Integration tests: the real HTTP server, a real PostgreSQL, real documents.

mod support;

mod attestations;
mod auth;
mod browser;
mod ci_yaml;
mod client;
mod compliance;
mod cra;
mod dashboard;
mod dtrack;
mod embedded;
mod evidence_integrity;
mod go_ci;
mod notifications;
mod openapi;
mod poison_process;
mod policies;
mod publishing;
mod reading;
mod rego_memory;
mod roles;
mod sbom_bad_input;
mod sbom_quality;
mod sbom_upload;
mod sessions;
mod vulnerabilities;
mod webhook_replays;
mod webhooks;
mod webhooks_processes;
