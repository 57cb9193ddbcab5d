//! Compliance endpoints: the frameworks and their mapping, reports in four
//! formats (signed), the report key, and control statements.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::core::assess::StatementStatus;
use super::core::attestation::FilledForm;
use super::core::framework::{self, Framework};
use super::core::report::Report;
use super::core::sign::Jwk;
use super::service::{self, ReportRequest, StatementInput};
use super::store::StatementRow;
use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// A framework in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkSummary {
    /// `nist-800-53r5`, `nist-ssdf-1.1`, `eu-cra`.
    pub id: String,
    pub title: String,
    pub version: String,
    pub source: String,
    pub controls: usize,
    /// Controls that need a person's statement.
    pub manual_controls: usize,
}

/// The frameworks Cairn reports on.
#[utoipa::path(
    get, path = "/api/v1/frameworks", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    responses((status = 200, description = "Every framework (one page)", body = Page<FrameworkSummary>)),
    security(("bearer" = []))
)]
pub async fn list_frameworks(caller: Caller) -> ApiResult<Json<Page<FrameworkSummary>>> {
    caller.require(Role::Viewer)?;
    let items = framework::all()
        .iter()
        .map(|f| FrameworkSummary {
            id: f.id.clone(),
            title: f.title.clone(),
            version: f.version.clone(),
            source: f.source.clone(),
            controls: f.controls.len(),
            manual_controls: f
                .controls
                .iter()
                .filter(|c| c.assessment == framework::Assessment::Manual)
                .count(),
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// One framework with its controls and what evidences each in Cairn (the
/// mapping docs/compliance.md shows).
#[utoipa::path(
    get, path = "/api/v1/frameworks/{framework}", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("framework" = String, Path, description = "Framework id", max_length = 64)),
    responses(
        (status = 200, body = Framework),
        (status = 404, description = "No such framework", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_framework(
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<&'static Framework>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::framework(&id)?))
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Oscal,
    Html,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Project name; without it the report covers the portfolio.
    #[param(max_length = 200)]
    pub project: Option<String>,
    /// One artifact version of the project (a release).
    #[param(max_length = 200)]
    pub version: Option<String>,
    /// Evidence, evaluations and statements as they stood at this time
    /// (RFC 3339; now when absent).
    pub at: Option<DateTime<Utc>>,
    /// `json` (default), `csv`, `oscal` (OSCAL 1.1 assessment-results) or
    /// `html` (printable).
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// A framework report for a release, a project or the portfolio.
///
/// For each control a status (`satisfied`, `not_satisfied`, `partial`,
/// `not_applicable`, `manual`) with the checks behind it and the evidence
/// each cites (kind, id, API path, and what identifies it). Every answer
/// carries `Content-Digest` (RFC 9530) and `Cairn-Report-Signature`: a
/// compact JWS (EdDSA) by the instance's key (`GET
/// /api/v1/reports/signing-key`) whose payload names the body's `digest`.
#[utoipa::path(
    get, path = "/api/v1/reports/{framework}", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("framework" = String, Path, description = "Framework id", max_length = 64), ReportParams),
    responses(
        (status = 200, description = "The report", body = Report,
         headers(
            ("Content-Digest" = String, description = "sha-256 of the body (RFC 9530)"),
            ("Cairn-Report-Signature" = String, description = "JWS over the body's digest"),
         ),
         content(
            (Report = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
         )),
        (status = 400, description = "A parameter is malformed, `version` without `project`, or `at` in the future", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such framework, project or release", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The scope holds too many releases", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(framework): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let req = ReportRequest {
        framework,
        project: q.project.filter(|p| !p.is_empty()),
        version: q.version.filter(|v| !v.is_empty()),
        at: q.at,
    };
    let format = q.format.unwrap_or_default();
    let report = service::report(&state.pool, &req, Utc::now()).await?;
    let (body, media) = match format {
        ReportFormat::Json => (
            serde_json::to_vec(&report).map_err(|_| ApiError::internal())?,
            "application/json",
        ),
        ReportFormat::Oscal => (
            serde_json::to_vec(&report.to_oscal("")).map_err(|_| ApiError::internal())?,
            "application/json",
        ),
        ReportFormat::Csv => (report.to_csv().into_bytes(), "text/csv; charset=utf-8"),
        ReportFormat::Html => (
            super::web::report_page(&report)?.into_bytes(),
            "text/html; charset=utf-8",
        ),
    };
    let about = serde_json::json!({
        "framework": report.framework,
        "scope": report.scope,
        "generated_at": report.generated_at,
        "format": format,
    });
    let filename =
        (format == ReportFormat::Csv).then(|| format!("{}-report.csv", report.framework));
    signed(&state, body, media, about, report.generated_at, filename).await
}

/// An export with its `Content-Digest` and `Cairn-Report-Signature`.
async fn signed(
    state: &AppState,
    body: Vec<u8>,
    media: &'static str,
    about: serde_json::Value,
    at: DateTime<Utc>,
    attachment: Option<String>,
) -> ApiResult<Response> {
    let key = service::report_key(&state.pool).await?;
    let signed = key.sign(&body, media, about, at.timestamp());
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    for (name, value) in [
        ("content-digest", signed.content_digest),
        ("cairn-report-signature", signed.jws),
    ] {
        h.insert(
            name,
            HeaderValue::from_str(&value).map_err(|_| ApiError::internal())?,
        );
    }
    if let Some(name) = attachment {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .map_err(|_| ApiError::internal())?,
        );
    }
    Ok(res)
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FormFormat {
    #[default]
    Json,
    Html,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormParams {
    /// The product (project name).
    #[param(max_length = 200)]
    pub project: String,
    /// One version of it; all its versions when absent.
    #[param(max_length = 200)]
    pub version: Option<String>,
    /// As of this time (RFC 3339; now when absent).
    pub at: Option<DateTime<Utc>>,
    /// `json` (default) or `html` (printable).
    #[param(inline)]
    pub format: Option<FormFormat>,
}

/// The CISA Secure Software Development Attestation Form, pre-filled for a
/// product from its SSDF report.
///
/// Each statement of the form's Section III with the SSDF tasks the form
/// relates it to, their status and the evidence behind them; `ready` when
/// every statement is supported (by evidence or a person's statement).
/// Signed like a report. The form is still signed by a person at the
/// producer: this is the evidence to sign it with.
#[utoipa::path(
    get, path = "/api/v1/attestation-forms/cisa", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(FormParams),
    responses(
        (status = 200, description = "The filled form", body = FilledForm,
         headers(
            ("Content-Digest" = String, description = "sha-256 of the body (RFC 9530)"),
            ("Cairn-Report-Signature" = String, description = "JWS over the body's digest"),
         ),
         content((FilledForm = "application/json"), (String = "text/html"))),
        (status = 400, description = "A parameter is malformed, or `at` in the future", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or release", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The product holds too many releases", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn cisa_attestation(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FormParams>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let req = ReportRequest {
        framework: "nist-ssdf-1.1".into(),
        project: Some(q.project),
        version: q.version.filter(|v| !v.is_empty()),
        at: q.at,
    };
    let filled = service::cisa_attestation(&state.pool, &req, Utc::now()).await?;
    let format = q.format.unwrap_or_default();
    let (body, media) = match format {
        FormFormat::Json => (
            serde_json::to_vec(&filled).map_err(|_| ApiError::internal())?,
            "application/json",
        ),
        FormFormat::Html => (
            super::web::attestation_page(&filled)?.into_bytes(),
            "text/html; charset=utf-8",
        ),
    };
    let about = serde_json::json!({
        "form": filled.form,
        "scope": filled.report,
        "generated_at": filled.generated_at,
        "format": format,
    });
    signed(&state, body, media, about, filled.generated_at, None).await
}

/// The public key that signs reports, as a JWK (Ed25519). Public: an
/// auditor needs no token to check a report.
#[utoipa::path(
    get, path = "/api/v1/reports/signing-key", tag = "compliance",
    extensions(("x-cairn-role" = json!("none"))),
    responses((status = 200, body = Jwk)),
)]
pub async fn signing_key(State(state): State<AppState>) -> ApiResult<Json<Jwk>> {
    Ok(Json(service::report_key(&state.pool).await?.jwk()))
}

/// A person's statement about a control.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewControlStatement {
    /// Framework id.
    #[schema(max_length = 64)]
    pub framework: String,
    /// Control id as the framework lists it (`sr-3`, `po.1.1`).
    #[schema(max_length = 64)]
    pub control: String,
    /// The project it is about; null: organisation-wide (every project's
    /// reports).
    #[schema(max_length = 200)]
    pub project: Option<String>,
    pub status: StatementStatus,
    /// What holds and where a reader can check it.
    #[schema(min_length = 1, max_length = 10000)]
    pub statement: String,
    /// When it stops counting: an RFC 3339 time, or a date (valid through
    /// that day, UTC); in the future. The control then turns back to
    /// `manual` (or to what the evidence says).
    #[schema(value_type = Option<String>, example = "2027-06-30", max_length = 64)]
    pub expires: Option<String>,
}

/// `2027-06-30T12:00:00Z`, or `2027-06-30` meaning through that day.
fn parse_expiry(s: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`expires` must be an RFC 3339 time or a date (YYYY-MM-DD), not {s:?}"
            ))
            .with_pointer(Some("/expires".into()))
        })
}

/// A stored statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlStatement {
    pub id: i64,
    pub framework: String,
    pub control: String,
    pub project: Option<String>,
    pub status: StatementStatus,
    pub statement: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
}

impl From<StatementRow> for ControlStatement {
    fn from(s: StatementRow) -> Self {
        ControlStatement {
            id: s.id,
            status: StatementStatus::parse(&s.status).unwrap_or(StatementStatus::NotSatisfied),
            framework: s.framework,
            control: s.control,
            project: s.project,
            statement: s.statement,
            author: s.author,
            created_at: s.created_at,
            expires: s.expires_at,
        }
    }
}

/// Record a statement about a control (maintainer).
///
/// The control then shows that status, with the statement as evidence, in
/// the project's reports (an organisation-wide statement in every
/// project's) until it expires or is withdrawn. A newer statement for the
/// same control and project supersedes an older one.
#[utoipa::path(
    post, path = "/api/v1/control-statements", tag = "compliance",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = NewControlStatement,
    responses(
        (status = 201, body = ControlStatement),
        (status = 400, description = "Malformed, an empty statement, or `expires` not in the future", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such framework or project", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The framework has no such control", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewControlStatement>,
) -> ApiResult<(StatusCode, Json<ControlStatement>)> {
    caller.require(Role::Maintainer)?;
    let row = service::create_statement(
        &state.pool,
        &StatementInput {
            framework: &body.framework,
            control: &body.control,
            project: body.project.as_deref(),
            status: body.status,
            statement: &body.statement,
            expires: body.expires.as_deref().map(parse_expiry).transpose()?,
        },
        &caller,
        Utc::now(),
    )
    .await?;
    tracing::info!(id = row.id, framework = %row.framework, control = %row.control, by = %caller.name, "control statement recorded");
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementFilter {
    /// Only this framework's statements.
    #[param(max_length = 64)]
    pub framework: Option<String>,
    /// Only this project's statements.
    #[param(max_length = 200)]
    pub project: Option<String>,
}

/// Statements in force or expired (not withdrawn), newest first.
#[utoipa::path(
    get, path = "/api/v1/control-statements", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(StatementFilter, PageParams),
    responses(
        (status = 200, body = Page<ControlStatement>),
        (status = 404, description = "No such framework or project", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_statements(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(f): ApiQuery<StatementFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ControlStatement>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = service::list_statements(
        &state.pool,
        f.framework.as_deref().filter(|s| !s.is_empty()),
        f.project.as_deref().filter(|s| !s.is_empty()),
        before,
        limit + 1,
    )
    .await?;
    let page = Page::from_rows(rows, limit, |s| s.id);
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One statement.
#[utoipa::path(
    get, path = "/api/v1/control-statements/{id}", tag = "compliance",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, body = ControlStatement),
        (status = 404, description = "No such statement", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ControlStatement>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::statement(&state.pool, id).await?.into()))
}

/// Withdraw a statement (maintainer): it stops counting from now on;
/// reports as of an earlier time still show it.
#[utoipa::path(
    delete, path = "/api/v1/control-statements/{id}", tag = "compliance",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "No such statement (or already withdrawn)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn withdraw_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Maintainer)?;
    service::withdraw_statement(&state.pool, id).await?;
    tracing::info!(id, by = %caller.name, "control statement withdrawn");
    Ok(StatusCode::NO_CONTENT)
}
