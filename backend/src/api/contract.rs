//! The API contract beyond what each handler declares: the problem answers
//! the shared layers give on every operation, the domain parameters' rules,
//! and "no NUL in text". Applied once to the whole document (`api::routes`);
//! `tests/api/openapi.rs` and Schemathesis in CI hold the server to it.

use utoipa::Modify;

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
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        if let Some(components) = openapi.components.as_mut() {
            // Not `Problem`: its `detail` may quote what the request sent.
            for (name, schema) in components.schemas.iter_mut() {
                if name != "Problem" {
                    no_nul(schema);
                }
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
/// database (400). Every string schema without a pattern, format or enum
/// says so.
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
