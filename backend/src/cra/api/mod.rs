//! CRA endpoints: a project's product settings, its reporting cases, their
//! submissions and corrective measure, and draft reports.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::core::report::Draft;
use super::core::Stage;
use super::service::{
    self, Case, NewCase, NewCorrectiveMeasure, NewSubmission, Product, ProductUpdate,
};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// A project's CRA settings (a project never set is not a product).
///
/// The name's `/` must be percent-encoded in the path: `acme%2Fpayments-api`.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/cra", tag = "cra",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("project" = String, Path, description = "Project name, percent-encoded")),
    responses(
        (status = 200, body = Product),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> ApiResult<Json<Product>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::product(&state.pool, &project).await?))
}

/// Mark a project as a CRA product (or not): placed on the EU market, in
/// these member states, supported until then. Every stored artifact version
/// of a product counts as released; its cases open at once.
#[utoipa::path(
    put, path = "/api/v1/projects/{project}/cra", tag = "cra",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("project" = String, Path, description = "Project name, percent-encoded")),
    request_body = ProductUpdate,
    responses(
        (status = 200, body = Product),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A member state is not an EU member's ISO 3166-1 alpha-2 code, or a field is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    ApiJson(update): ApiJson<ProductUpdate>,
) -> ApiResult<Json<Product>> {
    caller.require(Role::Maintainer)?;
    let p = service::set_product(&state.pool, &project, &update, &caller.name).await?;
    tracing::info!(
        project,
        product = p.product,
        by = caller.token_id,
        "CRA product settings changed"
    );
    Ok(Json(p))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseFilter {
    /// The project (CRA product) whose cases to list.
    pub project: String,
}

/// List a project's reporting cases, oldest first.
///
/// Cases are synced first: a vulnerability with an open finding in the
/// product whose id or alias is in the imported KEV catalog has its case.
#[utoipa::path(
    get, path = "/api/v1/cra/cases", tag = "cra",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(CaseFilter, PageParams),
    responses(
        (status = 200, body = Page<Case>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<CaseFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Case>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let rows = service::list(&state.pool, &filter.project, page.after()?, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |c| c.id)))
}

/// Open a case by hand: mark a vulnerability of a CRA product actively
/// exploited, or report a severe incident.
#[utoipa::path(
    post, path = "/api/v1/cra/cases", tag = "cra",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = NewCase,
    responses(
        (status = 201, description = "Opened", body = Case),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project has a case for this vulnerability already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The project is not a CRA product, the vulnerability is unknown, or a field is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn open_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewCase>,
) -> ApiResult<(StatusCode, Json<Case>)> {
    caller.require(Role::Maintainer)?;
    let (case, _) = service::open_case(&state.pool, &new, &caller.name).await?;
    tracing::info!(
        case = case.id,
        by = caller.token_id,
        "CRA case opened by hand"
    );
    Ok((StatusCode::CREATED, Json(case)))
}

/// Get a reporting case.
#[utoipa::path(
    get, path = "/api/v1/cra/cases/{id}", tag = "cra",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, body = Case),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Case>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::get(&state.pool, id).await?))
}

/// Record a submission: the early warning, then the notification, then
/// the final report (an exploited vulnerability's only once a corrective
/// measure is recorded). Each stage once.
#[utoipa::path(
    post, path = "/api/v1/cra/cases/{id}/submissions", tag = "cra",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Case id")),
    request_body = NewSubmission,
    responses(
        (status = 201, description = "Recorded; the case as it is now", body = Case),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Out of order: an earlier stage is missing, the stage was recorded already, or the final report has no corrective measure to follow", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (e.g. `submitted_at` in the future)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_submission(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewSubmission>,
) -> ApiResult<(StatusCode, Json<Case>)> {
    caller.require(Role::Maintainer)?;
    let case = service::submit(&state.pool, id, &new, &caller.name).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

/// Record the corrective or mitigating measure (replaces an earlier one
/// until the final report is submitted); an exploited vulnerability's final
/// report is due 14 days after it is available.
#[utoipa::path(
    post, path = "/api/v1/cra/cases/{id}/corrective-measure", tag = "cra",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Case id")),
    request_body = NewCorrectiveMeasure,
    responses(
        (status = 200, description = "Recorded; the case as it is now", body = Case),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_corrective_measure(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewCorrectiveMeasure>,
) -> ApiResult<Json<Case>> {
    caller.require(Role::Maintainer)?;
    Ok(Json(
        service::corrective_measure(&state.pool, id, &new, &caller.name).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `early_warning`, `notification` or `final_report`.
    #[param(value_type = String, pattern = "^(early_warning|notification|final_report)$")]
    pub stage: String,
    /// `json` (default) or `html` (printable).
    #[param(pattern = "^(json|html)$")]
    pub format: Option<String>,
}

/// A draft report of one stage, with the fields Art. 14 asks for filled
/// from Cairn's evidence; `to_complete` lists what a person must add.
#[utoipa::path(
    get, path = "/api/v1/cra/cases/{id}/report", tag = "cra",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Case id"), ReportQuery),
    responses(
        (status = 200, description = "The draft: JSON, or a printable HTML page", content(
            (Draft = "application/json"),
            (String = "text/html")
        )),
        (status = 400, description = "`stage` or `format` is not one of the values listed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn case_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let stage = Stage::parse(&q.stage).ok_or_else(|| {
        ApiError::bad_request(format!(
            "stage must be early_warning, notification or final_report, not {:?}",
            q.stage
        ))
    })?;
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format must be json or html, not {other:?}"
            )))
        }
    };
    let (case, draft) = service::draft(&state.pool, id, stage).await?;
    if html {
        let page = super::web::report_page(&case, &draft)?;
        Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
    } else {
        Ok(Json(draft).into_response())
    }
}
