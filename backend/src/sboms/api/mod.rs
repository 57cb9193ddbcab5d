//! SBOM upload and reading.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::inventory::service::ArtifactTarget;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::upload;

use super::core::{media_type, SbomFormat, Syntax};
use super::service::{self, no_sbom, ComponentFilter, Ingested, SbomDetail, SbomQuality};
use super::store::{self as sboms, SbomComponent, SbomSummary};

pub mod components;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// Project name, e.g. `acme/payments-api`; created on first use.
    pub project: String,
    /// Artifact name (image, binary, package); created on first use.
    pub artifact: String,
    /// Artifact version.
    pub version: String,
    /// Artifact digest, `sha256:<64 hex>`, when known.
    pub digest: Option<String>,
}

impl UploadParams {
    fn target(&self) -> ApiResult<ArtifactTarget> {
        ArtifactTarget::parse(
            &self.project,
            &self.artifact,
            &self.version,
            self.digest.as_deref(),
        )
    }
}

/// Upload an SBOM.
///
/// The body is a CycloneDX JSON (1.2–1.7), CycloneDX XML (1.2–1.6) or SPDX
/// JSON (2.2–2.3) document, or a DSSE envelope / `.intoto.jsonl` line
/// carrying a JSON one as an in-toto predicate; the format is detected from
/// the content (XML: the `<bom>` element's namespace
/// `http://cyclonedx.org/schema/bom/1.x`), whatever the Content-Type. XML
/// must be UTF-8 and have no DTD. Send it gzip-compressed with
/// `Content-Encoding: gzip` if you like. The document is stored byte for
/// byte. Uploading the same document again for the same artifact returns
/// the stored SBOM with status 200.
#[utoipa::path(
    post, path = "/api/v1/sboms", tag = "sboms",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(UploadParams),
    request_body(
        description = "The SBOM document",
        content(
            (Object = "application/json"),
            (String = "application/xml"),
        )
    ),
    responses(
        (status = 201, description = "Stored", body = SbomSummary),
        (status = 200, description = "This document was already stored for this artifact", body = SbomSummary),
        (status = 400, description = "Malformed JSON, XML or gzip, or invalid parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role below uploader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The artifact is recorded with another digest", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body (or its decompressed form) exceeds CAIRN_MAX_UPLOAD", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Encoding", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an SBOM, unsupported version, invalid field (see `pointer`; for XML the element path) or an XML DTD", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<SbomSummary>)> {
    caller.require_for(Role::Uploader, &params.project)?;
    let target = params.target()?;
    let upload = upload::read_body(&headers, body, state.config.max_upload).await?;
    Ok(
        match service::ingest_sbom(&state.pool, &target, upload, &caller).await? {
            Ingested::Created(s) => (StatusCode::CREATED, Json(s)),
            Ingested::Existing(s) => (StatusCode::OK, Json(s)),
        },
    )
}

/// Get an SBOM.
#[utoipa::path(
    get, path = "/api/v1/sboms/{id}", tag = "sboms",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "SBOM id")),
    responses(
        (status = 200, body = SbomDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SbomDetail>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::detail(&state.pool, id).await?))
}

/// Download the original document.
///
/// Byte-identical to the upload, with its media type
/// (`application/vnd.cyclonedx+json`, `application/vnd.cyclonedx+xml`,
/// `application/spdx+json` or `application/vnd.in-toto+json`). Clients that
/// send `Accept-Encoding: gzip` receive the stored gzip stream with
/// `Content-Encoding: gzip`.
#[utoipa::path(
    get, path = "/api/v1/sboms/{id}/document", tag = "sboms",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "SBOM id")),
    responses(
        (status = 200, description = "The document as uploaded", content(
            (serde_json::Value = "application/json"),
            (String = "application/vnd.cyclonedx+xml"),
        )),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    document_response(&state, id, &headers).await
}

/// Shared with the dashboard's download link.
pub async fn document_response(
    state: &AppState,
    id: i64,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let sbom = sboms::get(&state.pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    let stored = sboms::document_gzip(&state.pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| enc.split(';').next().is_some_and(|e| e.trim() == "gzip"));
    let (format, syntax) = match (sbom.format.as_str(), sbom.syntax.as_str()) {
        ("cyclonedx", "xml") => (SbomFormat::CycloneDx, Syntax::Xml),
        ("cyclonedx", _) => (SbomFormat::CycloneDx, Syntax::Json),
        _ => (SbomFormat::Spdx, Syntax::Json),
    };
    let content_type = media_type(sbom.envelope_predicate.is_some(), format, syntax);
    let disposition = format!("attachment; filename=\"sbom-{id}.{}\"", syntax.as_str());
    let mut res = if accepts_gzip {
        let mut res = stored.into_response();
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        let size = sbom.document_size as usize;
        let doc = tokio::task::block_in_place(|| upload::gunzip(&stored, size))?;
        doc.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("ASCII header"),
    );
    Ok(res)
}

/// Score an SBOM's quality.
///
/// Against the NTIA minimum elements (`ntia`), CISA's 2025 minimum
/// elements (`cisa-2025`) and the required fields of BSI TR-03183-2 v2
/// (`bsi-tr-03183-2`): per profile a score, 0-100 with one decimal (the
/// fields' coverage weighted as docs/sboms.md says), and per field how many
/// components state it, with the first 50 that do not. Read from the stored
/// original document.
#[utoipa::path(
    get, path = "/api/v1/sboms/{id}/quality", tag = "sboms",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "SBOM id")),
    responses(
        (status = 200, body = SbomQuality),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn quality(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SbomQuality>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::quality(&state.pool, id).await?))
}

/// List an SBOM's components.
///
/// In document order, with the ordinals each component depends on.
#[utoipa::path(
    get, path = "/api/v1/sboms/{id}/components", tag = "sboms",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "SBOM id"), ComponentFilter, PageParams),
    responses(
        (status = 200, body = Page<SbomComponent>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn components(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<ComponentFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SbomComponent>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::component_page(&state.pool, id, &filter, &page).await?,
    ))
}
