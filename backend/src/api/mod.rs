//! The REST API under `/api/v1`, its OpenAPI description and docs UI.

pub mod contract;
pub mod extract;
pub mod health;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::attestations::api as attestations;
use crate::builds::api::{runs, webhooks};
use crate::ci::api as ci;
use crate::compliance::api as compliance;
use crate::cra::api as cra;
use crate::dtrack::api as dtrack;
use crate::go::api as go;
use crate::identity::api as tokens;
use crate::inventory::api as inventory;
use crate::notifications::api as notifications;
use crate::policies::api as policies;
use crate::publishing::api as publishing;
use crate::sboms::api::{self as sboms, components};
use crate::state::AppState;
use crate::vulnerabilities::api as vulnerabilities;

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
        (name = "vulnerabilities", description = "Advisories (OSV, offline), the CISA KEV catalog, and the portfolio's vulnerabilities"),
        (name = "notifications", description = "Outgoing notifications: subscriptions (signed webhooks, generic or Slack), deliveries, retries and dead letters"),
        (name = "compliance", description = "Compliance reports (NIST SP 800-53, SSDF, EU CRA) from evidence: frameworks, signed reports in JSON, CSV, OSCAL and HTML, control statements"),
        (name = "cra", description = "EU Cyber Resilience Act Art. 14: CRA products, reporting cases of actively exploited vulnerabilities and severe incidents, their deadlines, submissions and draft reports"),
        (name = "publishing", description = "Trusted publishing: CI pipelines exchange their OIDC ID tokens (GitHub Actions, GitLab CI) for short-lived, project-scoped Cairn tokens"),
        (name = "dependency-track", description = "Dependency-Track compatibility: the BOM upload, token, version, project, finding and violation endpoints DT's uploaders and gates call, in DT's field names (docs/ci-integration.md)"),
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
        .routes(routes!(sboms::quality))
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
        .routes(routes!(policies::policy_results_overview))
        .routes(routes!(policies::gate))
        .routes(routes!(policies::dead_letters))
        .routes(routes!(policies::replay_dead_letter))
        .routes(routes!(policies::admission))
        .routes(routes!(vulnerabilities::import_advisories).layer(unlimited()))
        .routes(routes!(vulnerabilities::import_kev).layer(unlimited()))
        .routes(routes!(vulnerabilities::artifact_vulnerabilities))
        .routes(routes!(vulnerabilities::get_vulnerability))
        .routes(routes!(vulnerabilities::list_vulnerabilities))
        .routes(routes!(vulnerabilities::vulnerabilities_overview))
        .routes(routes!(vulnerabilities::finding_history))
        .routes(routes!(vulnerabilities::triage_history))
        .routes(routes!(vulnerabilities::record_triage))
        .routes(routes!(vulnerabilities::import_vex).layer(unlimited()))
        .routes(routes!(vulnerabilities::export_vex))
        .routes(routes!(vulnerabilities::upload_scan_report).layer(unlimited()))
        .routes(routes!(
            notifications::create_subscription,
            notifications::list_subscriptions
        ))
        .routes(routes!(
            notifications::get_subscription,
            notifications::update_subscription,
            notifications::delete_subscription
        ))
        .routes(routes!(notifications::test_subscription))
        .routes(routes!(notifications::list_deliveries))
        .routes(routes!(notifications::retry_delivery))
        .routes(routes!(compliance::list_frameworks))
        .routes(routes!(compliance::get_framework))
        .routes(routes!(compliance::signing_key))
        .routes(routes!(compliance::report))
        .routes(routes!(compliance::cisa_attestation))
        .routes(routes!(
            compliance::create_statement,
            compliance::list_statements
        ))
        .routes(routes!(
            compliance::get_statement,
            compliance::withdraw_statement
        ))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .routes(routes!(cra::get_product, cra::put_product))
        .routes(routes!(cra::open_case, cra::list_cases))
        .routes(routes!(cra::get_case))
        .routes(routes!(cra::record_submission))
        .routes(routes!(cra::record_corrective_measure))
        .routes(routes!(cra::case_report))
        .routes(routes!(
            publishing::create_publisher,
            publishing::list_publishers
        ))
        .routes(routes!(
            publishing::get_publisher,
            publishing::delete_publisher
        ))
        .routes(routes!(publishing::put_jwks, publishing::list_jwks))
        .routes(routes!(publishing::exchange))
        .routes(routes!(publishing::list_exchanges))
        .routes(routes!(dtrack::put_bom, dtrack::post_bom).layer(unlimited()))
        .routes(routes!(dtrack::bom_token))
        .routes(routes!(dtrack::event_token))
        .routes(routes!(dtrack::version))
        .routes(routes!(dtrack::lookup))
        .routes(routes!(dtrack::project))
        .routes(routes!(dtrack::findings))
        .routes(routes!(dtrack::violations))
        .split_for_parts();
    BearerAuth.modify(&mut doc);
    contract::ProblemResponses.modify(&mut doc);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// utoipa names a schema after its type, and the last of two types of
    /// the same name silently replaces the other in the document (an
    /// operation then documents another type's shape). Every `ToSchema`
    /// type's schema name — its own, or its `#[schema(as = …)]` — is unique.
    #[test]
    fn schema_names_are_unique() {
        let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let decl = line
                        .trim_start()
                        .strip_prefix("pub struct ")
                        .or_else(|| line.trim_start().strip_prefix("pub enum "));
                    let Some(decl) = decl else { continue };
                    let name: String = decl
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    // The attributes right above the declaration.
                    let attrs: Vec<&str> = lines[..i]
                        .iter()
                        .rev()
                        .take_while(|l| {
                            let t = l.trim_start();
                            // Multi-line derives: `#[derive(`, `Debug, …, ToSchema,`, `)]`.
                            t.starts_with("#[")
                                || t.starts_with("///")
                                || t.starts_with(')')
                                || t.starts_with("Debug")
                        })
                        .copied()
                        .collect();
                    if !attrs.iter().any(|a| a.contains("ToSchema")) {
                        continue;
                    }
                    let schema = attrs
                        .iter()
                        .find_map(|a| {
                            let rest = a.split("schema(as = ").nth(1)?;
                            Some(rest.split(')').next()?.trim().to_owned())
                        })
                        .unwrap_or(name);
                    names
                        .entry(schema)
                        .or_default()
                        .push(path.display().to_string());
                }
            }
        }
        assert!(names.len() > 100, "{} schema types found", names.len());
        let clashes: Vec<_> = names.iter().filter(|(_, v)| v.len() > 1).collect();
        assert!(clashes.is_empty(), "schema names used twice: {clashes:?}");
    }
}
