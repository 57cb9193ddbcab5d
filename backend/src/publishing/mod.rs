//! Trusted publishing: CI pipelines without stored secrets. A maintainer
//! trusts a pipeline (a GitHub Actions or GitLab CI issuer, an audience,
//! claim constraints, projects, a role); the pipeline exchanges its OIDC ID
//! token for a Cairn token that expires within 15 minutes and writes only
//! to those projects. See docs/ci-integration.md.
//!
//! `core/` is pure (claim constraints and matching, token verification with
//! an injected time); `service/` the use cases (the exchange in one
//! transaction, keys configured offline or fetched from the issuer's
//! discovery document); `store/` its only SQL; `api/` thin handlers; `web.rs`
//! the dashboard page `/ui/publishers`. It
//! may import `auth`, `domain`, `error`, `config`, `pagination`, `outbound`,
//! `identity::store`, and (its handlers and page) `api::extract` and `web`.

pub mod api;
pub mod core;
pub mod service;
pub mod store;
pub mod web;
