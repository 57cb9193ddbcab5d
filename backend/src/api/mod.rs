//! The REST API under `/api/v1`, its OpenAPI description and docs UI.

pub mod attestations;
pub mod ci;
pub mod components;
pub mod extract;
pub mod go;
pub mod health;
pub mod inventory;
pub mod policies;
pub mod runs;
pub mod sboms;
pub mod tokens;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cairn API",
        description = "Software-supply-chain evidence: SBOM inventory and portfolio search. \
                       Errors are RFC 9457 problem documents (`application/problem+json`).",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz,
        sboms::upload, sboms::get, sboms::document, sboms::components,
        inventory::list_projects, inventory::get_project,
        inventory::list_artifacts, inventory::get_artifact,
        components::search,
        attestations::upload, attestations::list, attestations::get,
        attestations::add_trust_root, attestations::list_trust_roots,
        attestations::artifact_evidence, attestations::by_digest, attestations::digest_evidence,
        tokens::create, tokens::list, tokens::revoke,
        webhooks::receive, webhooks::create_source, webhooks::list_sources,
        webhooks::delete_source, webhooks::list_deliveries, webhooks::get_delivery,
        webhooks::dead_letters, webhooks::replay, webhooks::audit_log,
        runs::list, runs::get,
        policies::rules, policies::rego_input_schema,
        policies::create_set, policies::list_sets, policies::get_set, policies::versions,
        policies::update_set, policies::delete_set, policies::dry_run,
        policies::artifact_policy, policies::history, policies::project_policy, policies::set_tags,
        policies::create_waiver, policies::list_waivers, policies::revoke_waiver,
        policies::compliance_overview, policies::gate, policies::admission,
        policies::dead_letters, policies::replay_dead_letter,
        go::upload_binary, go::artifact_go_build, go::upload_module_file,
        ci::upload, ci::list,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "sboms", description = "Upload and read SBOMs"),
        (name = "inventory", description = "Projects and artifacts"),
        (name = "components", description = "Portfolio component search"),
        (name = "attestations", description = "Signatures, attestations and SLSA provenance: upload, verify, trust, evidence"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "webhooks", description = "CI webhook receiving, sources, deliveries and audit"),
        (name = "builds", description = "CI build records: runs and jobs"),
        (name = "go", description = "Go evidence: build info from binaries, go.mod and go.sum"),
        (name = "ci", description = "CI definitions (workflows, .gitlab-ci.yml, Dockerfiles) and their hardening findings"),
        (name = "policies", description = "Policy engine: rule catalogue, policy sets, waivers, results, dry-runs, the deploy gate and Kubernetes admission"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`cairn token create`, or POST /api/v1/tokens) with role viewer, uploader or admin",
                    ))
                    .build(),
            ),
        );
    }
}

/// The spec as committed in `openapi/openapi.json`.
/// 201 for a record stored now, 200 for an identical re-upload.
pub(crate) fn created_or_ok(created: bool) -> axum::http::StatusCode {
    if created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    }
}

pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}

pub fn router() -> Router<AppState> {
    let spec = openapi_json();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/v1/sboms",
            // The upload enforces CAIRN_MAX_UPLOAD itself, streaming.
            post(sboms::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/sboms/{id}", get(sboms::get))
        .route("/api/v1/sboms/{id}/document", get(sboms::document))
        .route("/api/v1/sboms/{id}/components", get(sboms::components))
        .route("/api/v1/projects", get(inventory::list_projects))
        .route("/api/v1/projects/{project}", get(inventory::get_project))
        .route("/api/v1/artifacts", get(inventory::list_artifacts))
        .route("/api/v1/artifacts/{id}", get(inventory::get_artifact))
        .route(
            "/api/v1/attestations",
            // The upload enforces its own limit, streaming.
            post(attestations::upload)
                .get(attestations::list)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/attestations/{id}", get(attestations::get))
        .route(
            "/api/v1/trust-roots",
            post(attestations::add_trust_root).get(attestations::list_trust_roots),
        )
        .route(
            "/api/v1/artifacts/{id}/evidence",
            get(attestations::artifact_evidence),
        )
        .route(
            "/api/v1/artifacts/by-digest/{digest}",
            get(attestations::by_digest),
        )
        .route(
            "/api/v1/artifacts/by-digest/{digest}/evidence",
            get(attestations::digest_evidence),
        )
        .route("/api/v1/components", get(components::search))
        .route("/api/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route(
            "/webhooks/{provider}/{source}",
            // The handler enforces CAIRN_WEBHOOK_MAX_BODY itself.
            post(webhooks::receive).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/webhook-sources",
            post(webhooks::create_source).get(webhooks::list_sources),
        )
        .route(
            "/api/v1/webhook-sources/{id}",
            delete(webhooks::delete_source),
        )
        .route("/api/v1/webhook-deliveries", get(webhooks::list_deliveries))
        .route(
            "/api/v1/webhook-deliveries/{id}",
            get(webhooks::get_delivery),
        )
        .route(
            "/api/v1/webhook-deliveries/{id}/replay",
            post(webhooks::replay),
        )
        .route("/api/v1/webhook-dead-letters", get(webhooks::dead_letters))
        .route("/api/v1/webhook-audit", get(webhooks::audit_log))
        .route(
            "/api/v1/go-binaries",
            // The upload streams to a temporary file within CAIRN_MAX_UPLOAD.
            post(go::upload_binary).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/artifacts/{id}/go-build",
            get(go::artifact_go_build),
        )
        .route(
            "/api/v1/go-modules",
            post(go::upload_module_file).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/ci-definitions",
            post(ci::upload)
                .get(ci::list)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/policy-rules", get(policies::rules))
        .route(
            "/api/v1/policy-rules/rego-input",
            get(policies::rego_input_schema),
        )
        .route(
            "/api/v1/policy-sets",
            post(policies::create_set).get(policies::list_sets),
        )
        .route(
            "/api/v1/policy-sets/{id}",
            get(policies::get_set)
                .put(policies::update_set)
                .delete(policies::delete_set),
        )
        .route("/api/v1/policy-sets/{id}/versions", get(policies::versions))
        .route("/api/v1/policy-dry-run", post(policies::dry_run))
        .route(
            "/api/v1/artifacts/{id}/policy",
            get(policies::artifact_policy),
        )
        .route(
            "/api/v1/artifacts/{id}/policy/history",
            get(policies::history),
        )
        .route(
            "/api/v1/projects/{project}/policy",
            get(policies::project_policy),
        )
        .route("/api/v1/projects/{project}/tags", put(policies::set_tags))
        .route(
            "/api/v1/waivers",
            post(policies::create_waiver).get(policies::list_waivers),
        )
        .route("/api/v1/waivers/{id}", delete(policies::revoke_waiver))
        .route("/api/v1/compliance", get(policies::compliance_overview))
        .route("/api/v1/gate", get(policies::gate))
        .route("/api/v1/policy-dead-letters", get(policies::dead_letters))
        .route(
            "/api/v1/policy-dead-letters/{artifact_id}/replay",
            post(policies::replay_dead_letter),
        )
        .route("/k8s/admission", post(policies::admission))
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{id}", get(runs::get))
        .route(
            "/api/v1/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    spec.clone(),
                )
            }),
        )
}
