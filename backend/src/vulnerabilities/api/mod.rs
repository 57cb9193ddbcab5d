//! Vulnerability endpoints: advisory and KEV import, an artifact's
//! findings, and "are we affected by X?".

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::core::severity::Severity;
use super::service::{
    self, Finding, FindingKey, ImportReport, KevReport, Source, State as TriageState,
};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::PageParams;
use crate::state::AppState;
use crate::upload;

/// Import OSV advisories (or CSAF advisories).
///
/// The body is one OSV record, a JSON array of records, or a zip of
/// records as osv.dev exports them per ecosystem (`all.zip`, sent with
/// `Content-Type: application/zip`). A CSAF 2.0 document (or a zip of
/// them) is read too: each vulnerability naming a product with a purl
/// becomes a record (source `csaf`); the others are listed. The import is one transaction and
/// incremental: a record identical to the stored one costs nothing, a
/// changed one replaces it, a `withdrawn` one stops matching. Records that
/// cannot be read are listed by id (or zip entry) and reason; they do not
/// stop the others. Advisories that share an alias (CVE, GHSA, GO, PYSEC …)
/// join into one vulnerability.
#[utoipa::path(
    post, path = "/api/v1/advisories", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body(description = "An OSV record, a JSON array of records, a CSAF 2.0 advisory, or a zip of records or CSAF documents", content(
        (OsvFeed = "application/json"),
        (crate::api::contract::Binary = "application/zip"),
    )),
    responses(
        (status = 200, description = "Imported; counts and the unreadable records", body = ImportReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not OSV or CSAF 2.x JSON and not a zip of records", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import_advisories(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    caller.require(Role::Maintainer)?;
    let kind = body_kind(&headers)?;
    let up = upload::read_body(&headers, body, state.config.max_upload).await?;
    let zip = kind == BodyKind::Zip || up.document.starts_with(b"PK\x03\x04");
    let source = if zip {
        Source::Zip(Box::new(std::io::Cursor::new(up.document)))
    } else {
        Source::Json(up.document)
    };
    let report = service::import(&state.pool, source, |_| {}).await?;
    tracing::info!(
        records = report.records,
        imported = report.imported,
        unchanged = report.unchanged,
        errors = report.error_count,
        by = %caller.name,
        "advisories imported"
    );
    Ok(Json(report))
}

/// An OSV feed body: one record (an object) or an array of them. What a
/// record must hold is the OSV schema's; unreadable records are reported.
pub struct OsvFeed;

impl utoipa::PartialSchema for OsvFeed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().description(Some("One OSV record")))
            .item(
                ArrayBuilder::new()
                    .items(ObjectBuilder::new())
                    .description(Some("OSV records")),
            )
            .into()
    }
}

impl utoipa::ToSchema for OsvFeed {}

/// The CISA KEV catalog's JSON feed (its own schema is in
/// tests/fixtures/kev/): an object whose `vulnerabilities` are the entries.
pub struct KevCatalog;

impl utoipa::PartialSchema for KevCatalog {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder};
        ObjectBuilder::new()
            .property(
                "vulnerabilities",
                ArrayBuilder::new().items(ObjectBuilder::new()),
            )
            .required("vulnerabilities")
            .into()
    }
}

impl utoipa::ToSchema for KevCatalog {}

#[derive(PartialEq)]
enum BodyKind {
    Json,
    Zip,
}

fn body_kind(headers: &HeaderMap) -> ApiResult<BodyKind> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Json);
    };
    let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    match essence {
        "application/zip" | "application/x-zip-compressed" => Ok(BodyKind::Zip),
        "application/json" | "application/octet-stream" | "text/plain" | "" => Ok(BodyKind::Json),
        e if e.ends_with("+json") => Ok(BodyKind::Json),
        other => Err(ApiError::unsupported_media(format!(
            "Content-Type {other:?} is not an advisory feed: send application/json (OSV) or application/zip"
        ))),
    }
}

/// Import the CISA Known Exploited Vulnerabilities catalog.
///
/// The body is the catalog's JSON feed (`known_exploited_vulnerabilities.json`);
/// it replaces the stored catalog. A vulnerability is in KEV when its id or
/// one of its aliases is a catalog `cveID`.
#[utoipa::path(
    post, path = "/api/v1/advisories/kev", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body(content = KevCatalog, description = "The CISA KEV JSON catalog", content_type = "application/json"),
    responses(
        (status = 200, body = KevReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a KEV catalog", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import_kev(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<KevReport>> {
    caller.require(Role::Maintainer)?;
    if body_kind(&headers)? == BodyKind::Zip {
        return Err(ApiError::unsupported_media(
            "the KEV catalog is JSON, not a zip",
        ));
    }
    let up = upload::read_body(&headers, body, state.config.max_upload).await?;
    Ok(Json(service::import_kev(&state.pool, &up.document).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingFilter {
    /// Only findings of this severity.
    pub severity: Option<Severity>,
    /// Only findings of at least this severity (`unknown` counts lowest).
    pub min_severity: Option<Severity>,
    /// Only findings in this triage state.
    pub state: Option<TriageState>,
    /// Only findings that are (true) or are not (false) in CISA KEV.
    pub kev: Option<bool>,
    /// Only findings with (true) or without (false) a known fix.
    pub fix_available: Option<bool>,
    /// Only findings reported by this source (`osv`).
    #[param(max_length = 32, pattern = "^[a-z]+$")]
    pub source: Option<String>,
}

impl FindingFilter {
    fn keeps(&self, f: &Finding) -> bool {
        self.severity.is_none_or(|s| f.severity == s)
            && self.min_severity.is_none_or(|s| f.severity >= s)
            && self.state.is_none_or(|s| f.state == s)
            && self.kev.is_none_or(|k| f.kev == k)
            && self
                .fix_available
                .is_none_or(|x| f.fixed_versions.is_empty() != x)
            && self.source.as_ref().is_none_or(|s| f.sources.contains(s))
    }
}

/// An artifact's findings, one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingPage {
    pub items: Vec<Finding>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// `pending` while some of the artifact's components are not yet
    /// indexed for matching (just after an upgrade); else `complete`.
    /// Findings are matched live; `first_seen` is null on those the
    /// evaluation worker has not recorded yet.
    pub analysis: Analysis,
    /// Findings that pass the filters, on every page.
    pub total: usize,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Analysis {
    Complete,
    Pending,
}

/// An artifact's vulnerabilities: one item per vulnerability × component.
///
/// Matched against the components of the artifact's latest SBOM with each
/// ecosystem's version ordering; most severe first (KEV first within a
/// severity), then by id and purl.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/vulnerabilities", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id"), FindingFilter, PageParams),
    responses(
        (status = 200, body = FindingPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such artifact", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn artifact_vulnerabilities(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<FindingFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<FindingPage>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()? as usize;
    let after: Option<FindingKey> = page.after()?;
    if crate::inventory::store::get_artifact(&state.pool, id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("there is no artifact {id}")));
    }
    let mut conn = state.pool.acquire().await?;
    let mut findings: Vec<Finding> = service::artifact_findings(&mut conn, id)
        .await?
        .into_iter()
        .filter(|f| filter.keeps(f))
        .collect();
    service::with_seen(&mut conn, id, &mut findings).await?;
    findings.sort_by_cached_key(FindingKey::of);
    let total = findings.len();
    let start = match &after {
        Some(k) => findings.partition_point(|f| FindingKey::of(f) <= *k),
        None => 0,
    };
    let mut items: Vec<Finding> = findings.into_iter().skip(start).take(limit + 1).collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|f| crate::pagination::encode_cursor(&FindingKey::of(f)))
    } else {
        None
    };
    let analysis = if super::store::artifact_pending(&state.pool, id).await? {
        Analysis::Pending
    } else {
        Analysis::Complete
    };
    Ok(Json(FindingPage {
        items,
        next_cursor,
        analysis,
        total,
    }))
}

/// A vulnerability and every artifact of the portfolio it affects.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vulnerability {
    /// One advisory id (the ecosystem's own database first).
    pub id: String,
    /// Every other id and alias.
    pub aliases: Vec<String>,
    /// The imported advisories that make up this vulnerability.
    pub advisories: Vec<String>,
    pub summary: Option<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub kev: bool,
    pub kev_date_added: Option<chrono::NaiveDate>,
    pub kev_due_date: Option<chrono::NaiveDate>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    /// Affected artifacts (their latest SBOM), empty when none is.
    pub affected: Vec<AffectedArtifact>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedArtifact {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    /// The artifact's version.
    pub version: String,
    /// The affected component's purl.
    pub purl: String,
    pub component_version: String,
    pub fixed_versions: Vec<String>,
    pub state: TriageState,
    /// When the evaluation worker first matched it here (null while pending).
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
}

/// One vulnerability by any of its ids or aliases, with every affected
/// artifact across the portfolio ("are we affected by CVE-…?").
#[utoipa::path(
    get, path = "/api/v1/vulnerabilities/{id}", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = String, Path, description = "Any advisory id or alias: GO-…, GHSA-…, CVE-…, PYSEC-…", max_length = 128)),
    responses(
        (status = 200, body = Vulnerability),
        (status = 404, description = "No imported advisory knows this id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_vulnerability(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vulnerability>> {
    caller.require(Role::Viewer)?;
    let mut conn = state.pool.acquire().await?;
    let Some(group) = service::vulnerability_group(&mut conn, &id).await? else {
        return Err(ApiError::not_found(format!(
            "no imported advisory knows {:?} (as an id or an alias)",
            id.trim()
        )));
    };
    drop(conn);
    Ok(Json(
        service::vulnerability(&state.pool, group).await?.into(),
    ))
}

impl From<service::VulnerabilityView> for Vulnerability {
    fn from(v: service::VulnerabilityView) -> Self {
        Vulnerability {
            id: v.described.id,
            aliases: v.described.aliases,
            advisories: v.advisories,
            summary: v.described.summary,
            severity: v.described.severity,
            cvss_score: v.described.cvss_score,
            kev: v.described.kev_date_added.is_some(),
            kev_date_added: v.described.kev_date_added,
            kev_due_date: v.described.kev_due_date,
            published: v.described.published,
            affected: v
                .findings
                .into_iter()
                .map(|f| AffectedArtifact {
                    artifact_id: f.artifact.artifact_id,
                    project: f.artifact.project,
                    artifact: f.artifact.artifact,
                    version: f.artifact.version,
                    purl: f.purl,
                    component_version: f.version,
                    fixed_versions: f.fixed_versions,
                    state: f.state,
                    first_seen: f.first_seen,
                })
                .collect(),
        }
    }
}

/// A triage decision to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    /// Any id or alias of the vulnerability (`CVE-…`, `GHSA-…`, `GO-…`).
    #[schema(min_length = 1, max_length = 128)]
    pub vulnerability: String,
    /// The component's purl, as findings show it.
    #[schema(min_length = 5, max_length = 4096, pattern = "^pkg:")]
    pub purl: String,
    /// The decision holds for this version of the package only (default:
    /// every version of it).
    #[serde(default)]
    pub this_version_only: bool,
    /// `artifact` (needs `artifact_id`), `project` (needs `project`: every
    /// version of every artifact of it) or `portfolio` (everywhere).
    pub scope: super::core::triage::Scope,
    pub artifact_id: Option<i64>,
    #[schema(min_length = 1, max_length = 200)]
    pub project: Option<String>,
    pub state: TriageState,
    /// Required for `not_affected`, and only there: an OpenVEX/CSAF
    /// justification or a CycloneDX one.
    #[schema(
        pattern = "^(component_not_present|vulnerable_code_not_present|vulnerable_code_not_in_execute_path|vulnerable_code_cannot_be_controlled_by_adversary|inline_mitigations_already_exist|code_not_present|code_not_reachable|requires_configuration|requires_dependency|requires_environment|protected_by_compiler|protected_at_runtime|protected_at_perimeter|protected_by_mitigating_control)$"
    )]
    pub justification: Option<String>,
    #[schema(max_length = 4000)]
    pub comment: Option<String>,
    /// After this time the decision no longer holds (the finding returns to
    /// the decision below it, or `in_triage`).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A recorded triage decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    pub id: i64,
    /// The vulnerability's id as findings show it.
    pub vulnerability: String,
    /// The package (`Go:golang.org/x/net`).
    pub package: String,
    /// The one version it is about, or null for every version.
    pub purl: Option<String>,
    pub scope: super::core::triage::Scope,
    pub artifact_id: Option<i64>,
    pub project: Option<String>,
    pub state: TriageState,
    pub justification: Option<String>,
    pub comment: Option<String>,
    /// `manual`, or the VEX format it was imported from.
    pub source: String,
    /// The token that recorded it.
    pub author: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a later decision for the same target replaced it.
    pub superseded_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Decision {
    fn from_row(row: super::store::DecisionRow, vulnerability: String) -> Self {
        Decision {
            id: row.id,
            vulnerability,
            package: row.package_key,
            purl: row.purl,
            scope: super::core::triage::Scope::parse(&row.scope)
                .unwrap_or(super::core::triage::Scope::Portfolio),
            artifact_id: row.artifact_id,
            project: row.project,
            state: TriageState::parse(&row.state).unwrap_or(TriageState::InTriage),
            justification: row.justification,
            comment: row.comment,
            source: row.source,
            author: row.author,
            created_at: row.created_at,
            expires_at: row.expires_at,
            superseded_at: row.superseded_at,
        }
    }
}

/// Record a triage decision for one vulnerability in one package.
///
/// Scope: one artifact, every artifact of a project, or the whole
/// portfolio (one decision for every product that ships the package). The
/// most specific decision holds (artifact over project over portfolio;
/// this version over every version; then the newest). A new decision for
/// the same target supersedes the old one; the history is kept.
#[utoipa::path(
    post, path = "/api/v1/triage", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = TriageBody,
    responses(
        (status = 201, body = Decision),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown vulnerability, project or artifact", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A verdict that does not hold together (e.g. not_affected without a justification)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_triage(
    State(state): State<AppState>,
    caller: Caller,
    crate::api::extract::ApiJson(body): crate::api::extract::ApiJson<TriageBody>,
) -> ApiResult<(axum::http::StatusCode, Json<Decision>)> {
    caller.require(Role::Maintainer)?;
    let mut tx = state.pool.begin().await?;
    let row = service::triage(
        &mut tx,
        &service::TriageRequest {
            vulnerability: &body.vulnerability,
            purl: &body.purl,
            this_version_only: body.this_version_only,
            scope: body.scope,
            artifact_id: body.artifact_id,
            project: body.project.as_deref(),
            state: body.state,
            justification: body.justification.as_deref(),
            comment: body.comment.as_deref(),
            expires_at: body.expires_at,
            source: "manual",
            author: &caller.name,
        },
    )
    .await?;
    tx.commit().await?;
    let named = service::describe_group(&state.pool, row.vulnerability_id)
        .await?
        .0
        .id;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(Decision::from_row(row, named)),
    ))
}

/// A vulnerability's triage history: every decision, newest first.
#[utoipa::path(
    get, path = "/api/v1/vulnerabilities/{id}/triage", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = String, Path, description = "Any advisory id or alias", max_length = 128), PageParams),
    responses(
        (status = 200, body = crate::pagination::Page<Decision>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn triage_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<crate::pagination::Page<Decision>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let mut conn = state.pool.acquire().await?;
    let Some(group) = service::vulnerability_group(&mut conn, &id).await? else {
        return Err(ApiError::not_found(format!(
            "no imported advisory knows {:?} (as an id or an alias)",
            id.trim()
        )));
    };
    let rows = super::store::decision_history(&mut *conn, group, before, limit).await?;
    drop(conn);
    let named = service::describe_group(&state.pool, group).await?.0.id;
    let items: Vec<Decision> = rows
        .into_iter()
        .map(|r| Decision::from_row(r, named.clone()))
        .collect();
    Ok(Json(crate::pagination::Page::from_rows(
        items,
        limit,
        |d| d.id,
    )))
}

/// Import a VEX document: CycloneDX VEX (1.4–1.6), OpenVEX 0.2 or CSAF 2.0
/// (VEX profile).
///
/// Each statement becomes a triage decision (source: the format). A
/// product is matched by the artifact's digest (`sha256:…` as `@id`, in
/// `hashes`, or in an OCI purl) or by the purl its SBOM describes; a purl
/// that names no artifact is the package itself (a portfolio decision for
/// it). Subcomponents are matched by purl. Statements that match nothing —
/// an unknown vulnerability, a product nowhere in the portfolio — are named
/// in the answer, never dropped silently. One transaction.
#[utoipa::path(
    post, path = "/api/v1/vex", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body(content = VexBody, description = "A CycloneDX, OpenVEX or CSAF VEX document", content_type = "application/json"),
    responses(
        (status = 200, body = service::VexReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a VEX document Cairn reads", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import_vex(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<service::VexReport>> {
    caller.require(Role::Maintainer)?;
    if body_kind(&headers)? == BodyKind::Zip {
        return Err(ApiError::unsupported_media(
            "a VEX document is JSON, not a zip",
        ));
    }
    let up = upload::read_body(&headers, body, state.config.max_upload).await?;
    let doc =
        tokio::task::block_in_place(|| super::core::vex::parse(&up.document)).map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-vex",
                "Not a VEX document Cairn reads",
                e,
            )
        })?;
    let mut tx = state.pool.begin().await?;
    let report = service::import_vex(&mut tx, &doc, &caller.name).await?;
    tx.commit().await?;
    Ok(Json(report))
}

/// A VEX document body: a JSON object (CycloneDX, OpenVEX or CSAF).
pub struct VexBody;

impl utoipa::PartialSchema for VexBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some(
                "CycloneDX (`bomFormat`), OpenVEX (`@context`) or CSAF (`document`)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for VexBody {}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VexFormatParam {
    /// `openvex` (default), `cyclonedx` or `csaf`.
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Openvex,
    Cyclonedx,
    Csaf,
}

/// An artifact's VEX: every finding of its latest SBOM with its triage
/// state (`in_triage` findings are `under_investigation`), as OpenVEX 0.2,
/// CycloneDX 1.6 VEX or CSAF 2.0 VEX.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/vex", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id"), VexFormatParam),
    responses(
        (status = 200, description = "The VEX document", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such artifact", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export_vex(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<VexFormatParam>,
) -> ApiResult<Json<serde_json::Value>> {
    use super::core::vex::VexFormat;
    caller.require(Role::Viewer)?;
    let format = match q.format.unwrap_or(ExportFormat::Openvex) {
        ExportFormat::Openvex => VexFormat::OpenVex,
        ExportFormat::Cyclonedx => VexFormat::CycloneDx,
        ExportFormat::Csaf => VexFormat::Csaf,
    };
    let mut conn = state.pool.acquire().await?;
    service::export_vex(&mut conn, id, format)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanParams {
    /// Project name; created on first use.
    pub project: String,
    /// Artifact name; created on first use.
    pub artifact: String,
    /// Artifact version.
    pub version: String,
    /// The artifact's digest `sha256:<64 hex>`; when the report names the
    /// digest it scanned, the two must agree.
    pub digest: Option<String>,
}

/// Upload a Grype or Trivy JSON report (`grype -o json`, `trivy … -f json`).
///
/// Its findings become the artifact's findings of that scanner (the latest
/// report of each scanner counts), merged with Cairn's own matches by
/// (vulnerability or alias, package): a finding both report lists both
/// under `sources`. Packages without a purl are kept by type, name and
/// version. The artifact is created like an SBOM upload's.
#[utoipa::path(
    post, path = "/api/v1/scan-reports", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(ScanParams),
    request_body(content = VexBody, description = "A Grype or Trivy JSON report", content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = service::ScanIngested),
        (status = 200, description = "The artifact had this exact report already", body = service::ScanIngested),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The artifact is recorded with another digest", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a Grype or Trivy report, or it scanned another digest", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload_scan_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ScanParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(axum::http::StatusCode, Json<service::ScanIngested>)> {
    caller.require_for(Role::Uploader, &params.project)?;
    let target = crate::inventory::service::ArtifactTarget::parse(
        &params.project,
        &params.artifact,
        &params.version,
        params.digest.as_deref(),
    )?;
    if body_kind(&headers)? == BodyKind::Zip {
        return Err(ApiError::unsupported_media(
            "a scanner report is JSON, not a zip",
        ));
    }
    let up = upload::read_body(&headers, body, state.config.max_upload).await?;
    let stored = service::ingest_scan(&state.pool, &target, &up.document, caller.token_id).await?;
    Ok((crate::api::created_or_ok(stored.created), Json(stored)))
}

mod portfolio;
pub use portfolio::*;
