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
    modifiers(&BearerAuth, &ProblemResponses),
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

/// An opaque binary request body (`type: string, format: binary`).
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Documents, on every operation, the problem answers the shared layers
/// give whatever the handler does: 401 (with `WWW-Authenticate: Bearer`)
/// and 403 where a token is required, 400 where parameters are parsed, 404
/// where a path names a resource, and 400/413/415/422 where a body is read.
/// Statuses a handler documents itself are kept as written.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                no_nul(schema);
            }
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let upload = op.request_body.is_some();
                for p in op.parameters.iter_mut().flatten() {
                    if let Some(schema) = domain_schema(&p.name, upload) {
                        p.schema = Some(schema.into());
                    }
                    if let Some(schema) = p.schema.as_mut() {
                        no_nul(schema);
                    }
                }
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |status: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem(status, why).into());
                };
                if secured {
                    add("401", "No valid token (or session) was given");
                    add("403", "The token's role may not do this");
                }
                if !params.is_empty() {
                    add("400", "A parameter is malformed");
                }
                if in_path {
                    add("404", "Nothing exists at this path");
                }
                if op.request_body.is_some() {
                    add("400", "The request is malformed");
                    add("413", "The body is larger than allowed");
                    add(
                        "415",
                        "The body's content type is not one this operation reads",
                    );
                    add("422", "The body is well formed but cannot be processed");
                }
            }
        }
    }
}

/// Parameters that name the same thing everywhere, with the schema of the
/// parser that reads them: a digest wherever it appears, and the artifact an
/// upload targets (`project`, `artifact`, `version`; list filters of the same
/// names are free text).
fn domain_schema(name: &str, upload: bool) -> Option<utoipa::openapi::Object> {
    match (name, upload) {
        ("digest", _) => Some(crate::domain::digest_schema()),
        ("project", true) => Some(crate::domain::project_schema()),
        ("artifact" | "version", true) => Some(crate::domain::label_schema()),
        _ => None,
    }
}

/// Free text holds no NUL: PostgreSQL `text` cannot store it, and the
/// server refuses it in parameters and JSON bodies (400). Every string
/// schema without a pattern, format or enum says so.
fn no_nul(schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
    use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            let string = match &o.schema_type {
                SchemaType::Type(Type::String) => true,
                SchemaType::Array(types) => types.contains(&Type::String),
                _ => false,
            };
            if string && o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none() {
                o.pattern = Some("^[^\\u0000]*$".into());
            }
            o.properties.values_mut().for_each(no_nul);
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                no_nul(items);
            }
        }
        Schema::OneOf(c) => c.items.iter_mut().for_each(no_nul),
        Schema::AllOf(c) => c.items.iter_mut().for_each(no_nul),
        Schema::AnyOf(c) => c.items.iter_mut().for_each(no_nul),
        _ => {}
    }
}

/// A problem+json response (401 also names its `WWW-Authenticate` header).
fn problem(status: &str, description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if status == "401" {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .enum_values(Some(["Bearer"])),
                )
                .description(Some("`Bearer`: authenticate with an API token"))
                .build(),
        );
    }
    response.build()
}

/// 201 for a record stored now, 200 for an identical re-upload.
pub(crate) fn created_or_ok(created: bool) -> axum::http::StatusCode {
    if created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
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
