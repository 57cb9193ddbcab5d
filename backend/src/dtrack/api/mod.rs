//! Dependency-Track's REST endpoints, as DT clients call them: BOM upload
//! (JSON or multipart), token status, the server version, project lookup,
//! findings and policy violations. Thin handlers: extract, authorise, call
//! `service`. See docs/ci-integration.md, "Dependency-Track compatibility".

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

use super::core::shapes::{DtFinding, DtProject, DtViolation};
use super::core::{self, derived_uuid};
use super::service::{self, Submission};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::state::AppState;
use crate::upload::{self, Upload};

/// The DT API level Cairn answers as (`GET /api/version`): clients that
/// choose features by DT version (parent projects, `isLatest`) see one
/// that has them.
pub const DT_API_VERSION: &str = "4.12.0";

/// At most this many `projectTags`, and multipart parts.
const MAX_TAGS: usize = 100;
const MAX_PARTS: usize = 64;
/// A multipart field other than `bom`.
const MAX_FIELD: usize = 16 * 1024;

const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
const BASE64_PATTERN: &str = "^[A-Za-z0-9+/=\\t\\n\\f\\r ]+$";

fn nullable(s: impl Into<RefOr<Schema>>) -> Schema {
    OneOfBuilder::new()
        .item(s)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

fn uuid_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(UUID_PATTERN))
}

fn uuid_field() -> Schema {
    nullable(uuid_schema())
}

fn label_field() -> Schema {
    nullable(crate::domain::label_schema())
}

fn flag_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["true", "false"]))
}

fn flag_field() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(flag_text())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

fn tags_field() -> Schema {
    let tag = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("name", crate::domain::label_schema())
                .required("name"),
        )
        .item(crate::domain::label_schema());
    let array = ArrayBuilder::new()
        .items(RefOr::T(Schema::OneOf(tag.build())))
        .max_items(Some(MAX_TAGS))
        .build();
    nullable(RefOr::T(Schema::Array(array)))
}

fn base64_field() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(BASE64_PATTERN))
        .content_encoding("base64")
}

/// DT's `BomSubmitRequest`. Name the project by `project` (the UUID of one
/// that exists) or by `projectName` and `projectVersion`; other fields DT
/// clients send are ignored.
#[derive(ToSchema)]
#[schema(as = BomSubmitRequest)]
#[allow(dead_code)] // documentation of `read_json`
#[schema(rename_all = "camelCase")]
pub struct BomSubmitDoc {
    #[schema(schema_with = uuid_field)]
    project: Option<String>,
    /// The DT name: Cairn's artifact name as written, and (mapped, without
    /// a parent) its project name.
    #[schema(schema_with = label_field)]
    project_name: Option<String>,
    #[schema(schema_with = label_field)]
    project_version: Option<String>,
    /// Create the project version when it does not exist (default false:
    /// 404 then, as in DT).
    #[schema(schema_with = flag_field)]
    auto_create: Option<bool>,
    /// The DT parent: Cairn's project (mapped as `projectName` is).
    #[schema(schema_with = label_field)]
    parent_name: Option<String>,
    /// Checked, not used: a Cairn project has no version.
    #[schema(schema_with = label_field)]
    parent_version: Option<String>,
    /// The parent by UUID: that DT project's Cairn project.
    #[schema(schema_with = uuid_field)]
    #[schema(rename = "parentUUID")]
    parent_uuid: Option<String>,
    /// `[{"name": …}]` (or plain strings); replaces the stored tags.
    #[schema(schema_with = tags_field)]
    project_tags: Option<Vec<String>>,
    #[schema(schema_with = flag_field)]
    is_latest: Option<bool>,
    /// `isLatest` as DT's GitHub Action sends it.
    #[schema(schema_with = flag_field)]
    is_latest_project_version: Option<bool>,
    /// The BOM document, base64 (standard alphabet, padding optional, line
    /// breaks ignored); decoded at most CAIRN_MAX_UPLOAD bytes, gzip
    /// accepted.
    #[schema(schema_with = base64_field)]
    bom: String,
}

/// DT's multipart BOM upload: the same fields as text parts, `bom` a file
/// part (or a text part) holding the document itself.
#[derive(ToSchema)]
#[schema(as = BomSubmitForm)]
#[allow(dead_code)] // documentation of `read_form`
#[schema(rename_all = "camelCase")]
pub struct BomSubmitFormDoc {
    #[schema(schema_with = uuid_schema)]
    project: Option<String>,
    #[schema(schema_with = crate::domain::label_schema)]
    project_name: Option<String>,
    #[schema(schema_with = crate::domain::label_schema)]
    project_version: Option<String>,
    #[schema(schema_with = flag_text)]
    auto_create: Option<String>,
    #[schema(schema_with = crate::domain::label_schema)]
    parent_name: Option<String>,
    #[schema(schema_with = crate::domain::label_schema)]
    parent_version: Option<String>,
    #[schema(schema_with = uuid_schema)]
    #[schema(rename = "parentUUID")]
    parent_uuid: Option<String>,
    /// Comma-separated tag names.
    project_tags: Option<String>,
    #[schema(schema_with = flag_text)]
    is_latest: Option<String>,
    /// The BOM document (CycloneDX or SPDX, gzip accepted), at most
    /// CAIRN_MAX_UPLOAD bytes.
    #[schema(value_type = crate::api::contract::Binary)]
    bom: Vec<u8>,
}

/// The upload's token: poll `GET /api/v1/event/token/{uuid}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BomToken {
    pub token: String,
}

/// Whether an upload's evaluation is still queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Processing {
    pub processing: bool,
}

fn field_error(field: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("{field} must be {what}"))
}

fn text(field: &str, v: &Value) -> ApiResult<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(field_error(field, "a string")),
    }
}

fn flag(field: &str, v: &Value) -> ApiResult<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => core::parse_bool(field, s)
            .map(Some)
            .map_err(ApiError::bad_request),
        _ => Err(field_error(field, "true or false")),
    }
}

fn tag(name: &str) -> ApiResult<String> {
    core::label("projectTags", name)
        .map(|l| l.as_str().to_owned())
        .map_err(ApiError::bad_request)
}

fn tags(v: &Value) -> ApiResult<Option<Vec<String>>> {
    let items = match v {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        _ => return Err(field_error("projectTags", "an array of {\"name\": …}")),
    };
    if items.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!(
            "projectTags: at most {MAX_TAGS} tags"
        )));
    }
    items
        .iter()
        .map(|t| match t {
            Value::String(s) => tag(s),
            Value::Object(o) => match o.get("name") {
                Some(Value::String(s)) => tag(s),
                _ => Err(field_error("projectTags[].name", "a string")),
            },
            _ => Err(field_error("projectTags", "an array of {\"name\": …}")),
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Some)
}

/// The fields shared by both forms: every text field is checked here (so a
/// bad one is refused whether or not it would be used).
fn check_labels(s: &Submission) -> ApiResult<()> {
    for (field, v) in [
        ("projectName", &s.project_name),
        ("projectVersion", &s.project_version),
        ("parentName", &s.parent_name),
        ("parentVersion", &s.parent_version),
    ] {
        if let Some(v) = v {
            core::label(field, v).map_err(ApiError::bad_request)?;
        }
    }
    for (field, v) in [("project", &s.project), ("parentUUID", &s.parent_uuid)] {
        if let Some(v) = v {
            core::parse_uuid(field, v).map_err(ApiError::bad_request)?;
        }
    }
    Ok(())
}

/// A decoded document: gzip (by its magic number) is decompressed within
/// the limit and stored as received.
fn document(bytes: Bytes, max: usize) -> ApiResult<Upload> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    Upload::received(bytes, gzip, max)
}

fn bom_too_large(max: usize) -> ApiError {
    ApiError::too_large(format!(
        "bom: the document exceeds the upload limit of {max} bytes (CAIRN_MAX_UPLOAD)"
    ))
}

fn read_json(body: &[u8], max: usize) -> ApiResult<(Submission, Upload)> {
    let map: serde_json::Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed_json(format!("JSON body: {e}")))?;
    let get = |k: &str| map.get(k).unwrap_or(&Value::Null);
    let is_latest = match flag("isLatest", get("isLatest"))? {
        Some(b) => Some(b),
        None => flag("isLatestProjectVersion", get("isLatestProjectVersion"))?,
    };
    let s = Submission {
        project: text("project", get("project"))?,
        project_name: text("projectName", get("projectName"))?,
        project_version: text("projectVersion", get("projectVersion"))?,
        auto_create: flag("autoCreate", get("autoCreate"))?.unwrap_or(false),
        parent_name: text("parentName", get("parentName"))?,
        parent_version: text("parentVersion", get("parentVersion"))?,
        parent_uuid: text("parentUUID", get("parentUUID"))?,
        project_tags: tags(get("projectTags"))?,
        is_latest,
    };
    check_labels(&s)?;
    let Some(Value::String(bom)) = map.get("bom") else {
        return Err(ApiError::bad_request(
            "bom is missing: send the BOM document base64-encoded in `bom`",
        ));
    };
    let doc = core::decode_bom(bom, max).map_err(|e| match e {
        None => bom_too_large(max),
        Some(e) => ApiError::bad_request(e),
    })?;
    Ok((s, document(doc.into(), max)?))
}

/// Upload a BOM as Dependency-Track's `PUT /api/v1/bom` takes it.
///
/// A JSON body (`BomSubmitRequest`), the document base64 in `bom`;
/// `Content-Encoding: gzip` on the body is accepted. Stored exactly as
/// `POST /api/v1/sboms` stores it (same formats, limits and errors),
/// onto the Cairn project, artifact and version the DT names map to (see
/// docs/ci-integration.md). Answers 200 with the upload token, as DT does,
/// also when the document was already stored (its import time still moves).
#[utoipa::path(
    put, path = "/api/v1/bom", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("uploader"))),
    request_body(content = BomSubmitDoc, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (or already stored): the upload token", body = BomToken),
        (status = 400, description = "Malformed JSON, a field of the wrong type or value (named), `bom` not base64, or the project named neither by `project` nor by `projectName` and `projectVersion`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`project` or `parentUUID` names no project, or `autoCreate` is false and the project version does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The DT name and version belong to an artifact of another project", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body, or the decoded document, exceeds CAIRN_MAX_UPLOAD", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`, or an unsupported Content-Encoding", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document is not an SBOM Cairn reads (see `pointer`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_bom(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<BomToken>> {
    // The project comes from the body: `service::upload` checks the scope.
    caller.require_role(Role::Uploader)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::unsupported_media(
            "PUT /api/v1/bom reads Content-Type: application/json (POST takes multipart/form-data)",
        ));
    }
    let max = state.config.max_upload;
    // Room for base64 (4 characters per 3 bytes) and the other fields.
    let limit = max.div_ceil(3).saturating_mul(4).saturating_add(64 * 1024);
    let body = upload::read_body(&headers, body, limit).await?;
    let (submission, bom) = tokio::task::block_in_place(|| read_json(&body.document, max))?;
    drop(body);
    let token = service::upload(&state.pool, &submission, bom, &caller).await?;
    Ok(Json(BomToken { token }))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    ApiError::bad_request(format!("multipart body: {}", e.body_text())).with_status(status)
}

async fn read_form(
    mut form: axum::extract::Multipart,
    max: usize,
) -> ApiResult<(Submission, Upload)> {
    let mut s = Submission::default();
    let mut bom: Option<Bytes> = None;
    let mut seen = std::collections::HashSet::new();
    let mut parts = 0;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(format!(
                "multipart body: at most {MAX_PARTS} parts"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let known = [
            "bom",
            "project",
            "projectName",
            "projectVersion",
            "autoCreate",
            "parentName",
            "parentVersion",
            "parentUUID",
            "projectTags",
            "isLatest",
        ];
        let limit = if name == "bom" { max } else { MAX_FIELD };
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if buf.len() + chunk.len() > limit {
                return Err(if name == "bom" {
                    bom_too_large(max)
                } else {
                    ApiError::too_large(format!(
                        "multipart field {name:?} is longer than {MAX_FIELD} bytes"
                    ))
                });
            }
            buf.extend_from_slice(&chunk);
        }
        if !known.contains(&name.as_str()) {
            continue; // as DT does: fields it does not know are ignored
        }
        if !seen.insert(name.clone()) {
            return Err(ApiError::bad_request(format!(
                "multipart field {name:?} is given twice"
            )));
        }
        if name == "bom" {
            bom = Some(buf.freeze());
            continue;
        }
        let value = String::from_utf8(buf.to_vec())
            .map_err(|_| ApiError::bad_request(format!("{name} must be UTF-8 text")))?;
        match name.as_str() {
            "project" => s.project = Some(value),
            "projectName" => s.project_name = Some(value),
            "projectVersion" => s.project_version = Some(value),
            "parentName" => s.parent_name = Some(value),
            "parentVersion" => s.parent_version = Some(value),
            "parentUUID" => s.parent_uuid = Some(value),
            "autoCreate" => {
                s.auto_create =
                    core::parse_bool("autoCreate", &value).map_err(ApiError::bad_request)?
            }
            "isLatest" => {
                s.is_latest =
                    Some(core::parse_bool("isLatest", &value).map_err(ApiError::bad_request)?)
            }
            "projectTags" => {
                let list: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(tag)
                    .collect::<ApiResult<_>>()?;
                if list.len() > MAX_TAGS {
                    return Err(ApiError::bad_request(format!(
                        "projectTags: at most {MAX_TAGS} tags"
                    )));
                }
                s.project_tags = Some(list);
            }
            _ => unreachable!("a known field"),
        }
    }
    check_labels(&s)?;
    let bom = bom.filter(|b| !b.is_empty()).ok_or_else(|| {
        ApiError::bad_request("bom is missing: send the BOM document as the `bom` part")
    })?;
    Ok((s, document(bom, max)?))
}

/// Upload a BOM as Dependency-Track's `POST /api/v1/bom` takes it.
///
/// `multipart/form-data` (`BomSubmitForm`): the fields of the JSON form as
/// text parts, the document itself in the `bom` part (gzip accepted). What
/// happens is `PUT /api/v1/bom`'s.
#[utoipa::path(
    post, path = "/api/v1/bom", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("uploader"))),
    request_body(content = BomSubmitFormDoc, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored (or already stored): the upload token", body = BomToken),
        (status = 400, description = "A malformed multipart body, a field of the wrong value (named), a field given twice, no `bom` part, or the project named neither by `project` nor by `projectName` and `projectVersion`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`project` or `parentUUID` names no project, or `autoCreate` is false and the project version does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The DT name and version belong to an artifact of another project", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The `bom` part (or its decompressed form) exceeds CAIRN_MAX_UPLOAD, or another part 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`, or a Content-Encoding", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The document is not an SBOM Cairn reads (see `pointer`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_bom(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Json<BomToken>> {
    // The project comes from the body: `service::upload` checks the scope.
    caller.require_role(Role::Uploader)?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("multipart/form-data"));
    if !multipart {
        return Err(ApiError::unsupported_media(
            "POST /api/v1/bom reads Content-Type: multipart/form-data (PUT takes application/json)",
        ));
    }
    if let Some(enc) = request.headers().get(header::CONTENT_ENCODING) {
        if !enc.as_bytes().eq_ignore_ascii_case(b"identity") {
            return Err(ApiError::unsupported_media(
                "a multipart upload is read without Content-Encoding; gzip the bom part itself instead",
            ));
        }
    }
    let form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|e| {
            let status = e.status();
            ApiError::bad_request(format!("multipart body: {}", e.body_text())).with_status(status)
        })?;
    let (submission, bom) = read_form(form, state.config.max_upload).await?;
    let token = service::upload(&state.pool, &submission, bom, &caller).await?;
    Ok(Json(BomToken { token }))
}

/// Whether a BOM upload is still being processed (DT's deprecated form of
/// `GET /api/v1/event/token/{uuid}`, same answer).
#[utoipa::path(
    get, path = "/api/v1/bom/token/{uuid}", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("uuid" = String, Path, description = "The upload token", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses((status = 200, body = Processing)),
    security(("bearer" = []))
)]
pub async fn bom_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(uuid): ApiPath<String>,
) -> ApiResult<Json<Processing>> {
    caller.require(Role::Viewer)?;
    let processing = service::processing(&state.pool, &uuid).await?;
    Ok(Json(Processing { processing }))
}

/// Whether an upload is still being processed: `true` while the
/// artifact's policy evaluation (which records its vulnerability findings)
/// is queued, or its components are not yet indexed for matching. As in
/// DT, `false` for a token that does not exist.
#[utoipa::path(
    get, path = "/api/v1/event/token/{uuid}", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("uuid" = String, Path, description = "The upload token", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses((status = 200, body = Processing)),
    security(("bearer" = []))
)]
pub async fn event_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(uuid): ApiPath<String>,
) -> ApiResult<Json<Processing>> {
    caller.require(Role::Viewer)?;
    let processing = service::processing(&state.pool, &uuid).await?;
    Ok(Json(Processing { processing }))
}

/// `GET /api/version`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct About {
    /// The Dependency-Track API level Cairn answers as.
    pub version: &'static str,
    /// `Cairn`.
    pub application: &'static str,
    pub uuid: String,
    /// Cairn's own version.
    pub cairn_version: &'static str,
    pub framework: AboutFramework,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AboutFramework {
    pub name: &'static str,
    pub version: &'static str,
}

/// The server's version, in DT's shape (no authentication, as in DT).
///
/// `version` is the Dependency-Track API level Cairn answers as (clients
/// choose features by it); Cairn's own version is `cairnVersion`.
#[utoipa::path(
    get, path = "/api/version", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("none"))),
    responses((status = 200, body = About))
)]
pub async fn version() -> Json<About> {
    let cairn = env!("CARGO_PKG_VERSION");
    Json(About {
        version: DT_API_VERSION,
        application: "Cairn",
        uuid: derived_uuid("version", cairn),
        cairn_version: cairn,
        framework: AboutFramework {
            name: "Cairn",
            version: cairn,
        },
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Lookup {
    /// The DT project name.
    pub name: String,
    /// The DT project version.
    pub version: String,
}

/// A DT project by name and version.
///
/// Found when a DT client uploaded to it, or when an artifact stored
/// through `POST /api/v1/sboms` has the (mapped) name as both project and
/// artifact name (it gets its UUID then).
#[utoipa::path(
    get, path = "/api/v1/project/lookup", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(Lookup),
    responses(
        (status = 200, body = DtProject),
        (status = 404, description = "No such project version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Lookup>,
) -> ApiResult<Json<DtProject>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::lookup(&state.pool, &q.name, &q.version).await?,
    ))
}

/// A DT project by UUID; `lastBomImport` (epoch ms) changes with every
/// upload.
#[utoipa::path(
    get, path = "/api/v1/project/{uuid}", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("uuid" = String, Path, description = "The project's UUID", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = DtProject),
        (status = 404, description = "No project has this UUID", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn project(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(uuid): ApiPath<String>,
) -> ApiResult<Json<DtProject>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::project(&state.pool, &uuid).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// Include findings closed by triage (`not_affected`, `fixed`,
    /// `false_positive`: DT's suppressed); default false, as in DT.
    pub suppressed: Option<bool>,
}

/// A project's vulnerability findings in Dependency-Track's shape.
///
/// A bare JSON array, not one of Cairn's pages: DT clients read an array
/// (a deliberate exception to Cairn's paged lists; one artifact's findings
/// are matched in full anyway). Most severe first. `severity` is exactly
/// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFO` or `UNASSIGNED` (Cairn's
/// `unknown`); `analysis` is Cairn's triage (docs/ci-integration.md).
#[utoipa::path(
    get, path = "/api/v1/finding/project/{uuid}", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("uuid" = String, Path, description = "The project's UUID", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"), FindingQuery),
    responses(
        (status = 200, body = Vec<DtFinding>),
        (status = 404, description = "No project has this UUID", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn findings(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(uuid): ApiPath<String>,
    ApiQuery(q): ApiQuery<FindingQuery>,
) -> ApiResult<Json<Vec<DtFinding>>> {
    caller.require(Role::Viewer)?;
    let suppressed = q.suppressed.unwrap_or(false);
    Ok(Json(
        service::findings(&state.pool, &uuid, suppressed).await?,
    ))
}

/// A project's policy violations in Dependency-Track's shape.
///
/// One per violation of each failing (`FAIL`), erroring (`FAIL`) or
/// warning (`WARN`) rule in the latest evaluation of each live policy set;
/// empty when every rule passes, is waived or does not apply, and before
/// the first evaluation. A bare JSON array, as DT clients read it (a
/// deliberate exception to Cairn's paged lists).
#[utoipa::path(
    get, path = "/api/v1/violation/project/{uuid}", tag = "dependency-track",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("uuid" = String, Path, description = "The project's UUID", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = Vec<DtViolation>),
        (status = 404, description = "No project has this UUID", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn violations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(uuid): ApiPath<String>,
) -> ApiResult<Json<Vec<DtViolation>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::violations(&state.pool, &uuid).await?))
}
