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
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cairn API",
        description = "Software-supply-chain evidence: SBOM inventory and portfolio search. \
                       Errors are RFC 9457 problem documents (`application/problem+json`).",
        license(name = "Apache-2.0")
    ),
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
                // Every 401 carries the header, whoever documented it.
                if let Some(utoipa::openapi::RefOr::T(r)) = op.responses.responses.get_mut("401") {
                    r.headers
                        .entry("WWW-Authenticate".into())
                        .or_insert_with(www_authenticate);
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

/// Free text holds no NUL: PostgreSQL `text` cannot store it; the server
/// refuses it in parameters, and wherever a body's text reaches the
/// database (400). Every string
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
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if status == "401" {
        response = response.header("WWW-Authenticate", www_authenticate());
    }
    response.build()
}

fn www_authenticate() -> utoipa::openapi::Header {
    utoipa::openapi::HeaderBuilder::new()
        .schema(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .enum_values(Some(["Bearer"])),
        )
        .description(Some("`Bearer`: authenticate with an API token"))
        .build()
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
    spec_text(&openapi())
}

fn spec_text(doc: &utoipa::openapi::OpenApi) -> String {
    let mut s = doc
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}

/// Every API route, and the OpenAPI document built from the same list: a
/// path exists in exactly one place (its handler's `#[utoipa::path]`, named
/// once here). The shared problem answers and the bearer scheme are added
/// to the document last, over every operation.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    // Uploads that enforce their own limits while streaming (CAIRN_MAX_UPLOAD,
    // CAIRN_WEBHOOK_MAX_BODY, the attestation cap) have axum's default off.
    let unlimited = DefaultBodyLimit::disable;
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(sboms::upload).layer(unlimited()))
        .routes(routes!(sboms::get))
        .routes(routes!(sboms::document))
        .routes(routes!(sboms::components))
        .routes(routes!(inventory::list_projects))
        .routes(routes!(inventory::get_project))
        .routes(routes!(inventory::list_artifacts))
        .routes(routes!(inventory::get_artifact))
        .routes(routes!(attestations::upload, attestations::list).layer(unlimited()))
        .routes(routes!(attestations::get))
        .routes(routes!(
            attestations::add_trust_root,
            attestations::list_trust_roots
        ))
        .routes(routes!(attestations::artifact_evidence))
        .routes(routes!(attestations::by_digest))
        .routes(routes!(attestations::digest_evidence))
        .routes(routes!(components::search))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(webhooks::receive).layer(unlimited()))
        .routes(routes!(webhooks::create_source, webhooks::list_sources))
        .routes(routes!(webhooks::delete_source))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::get_delivery))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::audit_log))
        .routes(routes!(go::upload_binary).layer(unlimited()))
        .routes(routes!(go::artifact_go_build))
        .routes(routes!(go::upload_module_file).layer(unlimited()))
        .routes(routes!(ci::upload, ci::list).layer(unlimited()))
        .routes(routes!(policies::rules))
        .routes(routes!(policies::rego_input_schema))
        .routes(routes!(policies::create_set, policies::list_sets))
        .routes(routes!(
            policies::get_set,
            policies::update_set,
            policies::delete_set
        ))
        .routes(routes!(policies::versions))
        .routes(routes!(policies::dry_run))
        .routes(routes!(policies::artifact_policy))
        .routes(routes!(policies::history))
        .routes(routes!(policies::project_policy))
        .routes(routes!(policies::set_tags))
        .routes(routes!(policies::create_waiver, policies::list_waivers))
        .routes(routes!(policies::revoke_waiver))
        .routes(routes!(policies::compliance_overview))
        .routes(routes!(policies::gate))
        .routes(routes!(policies::dead_letters))
        .routes(routes!(policies::replay_dead_letter))
        .routes(routes!(policies::admission))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .split_for_parts();
    BearerAuth.modify(&mut doc);
    ProblemResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document (served at `/api/v1/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

pub fn router() -> Router<AppState> {
    let (router, doc) = routes();
    let spec = spec_text(&doc);
    router.route(
        "/api/v1/openapi.json",
        get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                spec.clone(),
            )
        }),
    )
}
