//! SBOM upload and reading.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiPath, ApiQuery};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ingest::{self, ArtifactTarget, Ingested};
use crate::pagination::{Page, PageParams};
use crate::sbom::quality::QualityReport;
use crate::sbom::{media_type, SbomFormat, Syntax};
use crate::state::AppState;
use crate::store::sboms::{self, SbomComponent, SbomSummary, Tally};
use crate::upload;

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
        match ingest::ingest_sbom(&state.pool, &target, upload, &caller).await? {
            Ingested::Created(s) => (StatusCode::CREATED, Json(s)),
            Ingested::Existing(s) => (StatusCode::OK, Json(s)),
        },
    )
}

/// An SBOM with its breakdowns.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomDetail {
    #[serde(flatten)]
    pub sbom: SbomSummary,
    /// Components by ecosystem (purl type).
    pub ecosystems: Vec<Tally>,
    /// Components by licence expression.
    pub licenses: Vec<Tally>,
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
    Ok(Json(detail(&state, id).await?))
}

pub async fn detail(state: &AppState, id: i64) -> ApiResult<SbomDetail> {
    let sbom = sboms::get(&state.pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    Ok(SbomDetail {
        sbom,
        ecosystems: sboms::ecosystems(&state.pool, id).await?,
        licenses: sboms::licenses(&state.pool, id).await?,
    })
}

pub fn no_sbom(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no SBOM {id}"))
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

/// An SBOM scored against the quality profiles.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomQuality {
    pub sbom_id: i64,
    /// `ntia`, `cisa-2025` and `bsi-tr-03183-2`: score (0-100, one
    /// decimal, weighted coverage) and each field's coverage.
    pub profiles: QualityReport,
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
    let sbom = sboms::get(&state.pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    let stored = sboms::document_gzip(&state.pool, id)
        .await?
        .ok_or_else(|| no_sbom(id))?;
    // The stored document is at most its recorded size (itself within
    // CAIRN_MAX_UPLOAD when it was accepted), and it parsed then.
    let size = sbom.document_size.max(0) as usize;
    let profiles = tokio::task::block_in_place(|| {
        let doc = upload::gunzip(&stored, size)?;
        crate::sbom::quality::score_document(&doc).map_err(|e| {
            tracing::error!(sbom = id, error = %e, "a stored SBOM no longer parses");
            ApiError::internal()
        })
    })?;
    Ok(Json(SbomQuality {
        sbom_id: id,
        profiles,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComponentFilter {
    /// Case-insensitive text to find in the name or purl.
    pub q: Option<String>,
    /// Component type (`library`, `application`, `operating-system`, ...).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
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
    Ok(Json(component_page(&state, id, &filter, &page).await?))
}

pub async fn component_page(
    state: &AppState,
    id: i64,
    filter: &ComponentFilter,
    page: &PageParams,
) -> ApiResult<Page<SbomComponent>> {
    if sboms::get(&state.pool, id).await?.is_none() {
        return Err(no_sbom(id));
    }
    let limit = page.limit()?;
    let rows = sboms::list_components(
        &state.pool,
        id,
        nonempty(&filter.q),
        nonempty(&filter.kind),
        page.after()?,
        limit,
    )
    .await?;
    Ok(Page::from_rows(rows, limit, |c| c.ordinal))
}

/// Empty query parameters mean "no filter".
pub fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
