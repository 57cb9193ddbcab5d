//! The REST API under `/api/v1`, its OpenAPI description and docs UI.

pub mod components;
pub mod extract;
pub mod health;
pub mod inventory;
pub mod sboms;
pub mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
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
        tokens::create, tokens::list, tokens::revoke,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "sboms", description = "Upload and read SBOMs"),
        (name = "inventory", description = "Projects and artifacts"),
        (name = "components", description = "Portfolio component search"),
        (name = "tokens", description = "API tokens (admin)"),
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
        .route("/api/v1/components", get(components::search))
        .route("/api/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
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
