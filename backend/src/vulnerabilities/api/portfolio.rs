//! Portfolio endpoints over the recorded findings: the vulnerabilities of
//! the whole portfolio, the overview with its trend, an artifact's finding
//! history.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::super::core::severity::Severity;
use super::super::service::{self, Overview};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Only vulnerabilities of at least this severity (`unknown` lowest).
    pub min_severity: Option<Severity>,
    /// Only vulnerabilities that are (true) or are not (false) in CISA KEV.
    pub kev: Option<bool>,
    /// Only findings in this project.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub project: Option<String>,
    /// Also list vulnerabilities whose every finding is triaged away
    /// (`not_affected`, `false_positive`, `fixed`); default false.
    pub include_triaged: Option<bool>,
}

/// A vulnerability of the portfolio and how far it reaches.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioVulnerability {
    /// One advisory id (the ecosystem's own database first).
    pub id: String,
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub kev: bool,
    /// Open findings (vulnerability × component × artifact).
    pub findings: i64,
    /// Findings not triaged away.
    pub untriaged_or_affected: i64,
    pub artifacts: i64,
    pub projects: i64,
    /// When it was first seen anywhere in the portfolio.
    pub first_seen: chrono::DateTime<chrono::Utc>,
}

/// The portfolio's vulnerabilities, most severe first.
///
/// From the findings the evaluation worker recorded (each SBOM, scanner
/// report, advisory or triage change queues the artifacts concerned): one
/// item per vulnerability with open findings, with how many findings,
/// artifacts and projects it affects. Paged by keyset.
#[utoipa::path(
    get, path = "/api/v1/vulnerabilities", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PortfolioQuery, PageParams),
    responses(
        (status = 200, body = Page<PortfolioVulnerability>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_vulnerabilities(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PortfolioQuery>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<PortfolioVulnerability>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let after: Option<(i16, i64)> = page.after()?;
    non_empty_project(q.project.as_deref())?;
    let filter = service::PortfolioFilter {
        min_rank: q.min_severity.map(|s| s as i16),
        kev: q.kev,
        project: q.project.as_deref(),
        open_only: !q.include_triaged.unwrap_or(false),
    };
    let mut conn = state.pool.acquire().await?;
    let rows = service::portfolio(&mut conn, &filter, after, limit + 1).await?;
    let items: Vec<((i16, i64), PortfolioVulnerability)> = rows
        .into_iter()
        .map(|(r, aliases)| {
            (
                (r.severity_rank, r.vulnerability_id),
                PortfolioVulnerability {
                    id: r.display_id,
                    aliases,
                    severity: Severity::parse(&r.severity).unwrap_or(Severity::Unknown),
                    kev: r.kev,
                    findings: r.findings,
                    untriaged_or_affected: r.open,
                    artifacts: r.artifacts,
                    projects: r.projects,
                    first_seen: r.first_seen,
                },
            )
        })
        .collect();
    let page = Page::from_rows(items, limit, |(k, _)| *k);
    Ok(Json(Page {
        items: page.items.into_iter().map(|(_, v)| v).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// Only this project.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub project: Option<String>,
    /// Days of trend, today included (1 to 366, default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

/// Open findings by severity and KEV, and their daily trend.
///
/// Counts leave out findings triaged away; the trend counts findings in
/// any state at the end of each day (UTC), from the recorded history.
#[utoipa::path(
    get, path = "/api/v1/overview/vulnerabilities", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(OverviewQuery),
    responses(
        (status = 200, body = Overview),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn vulnerabilities_overview(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    caller.require(Role::Viewer)?;
    non_empty_project(q.project.as_deref())?;
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad_request(format!(
            "days must be between 1 and 366, got {days}"
        )));
    }
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        service::overview(&mut conn, q.project.as_deref(), days, chrono::Utc::now()).await?,
    ))
}

/// One change of one of an artifact's findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingChange {
    pub id: i64,
    /// The vulnerability's displayed id (null when it is no longer listed).
    pub vulnerability: Option<String>,
    pub purl: String,
    /// A scanner's package without a purl: "type/name@version".
    pub package: String,
    /// `appeared`, `resolved` or `reappeared`.
    pub change: String,
    pub severity: String,
    pub kev: bool,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// An artifact's finding history, newest first: when each finding
/// appeared, was resolved (a fixed version, a new SBOM, a withdrawn
/// advisory) or reappeared.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/vulnerabilities/history", tag = "vulnerabilities",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id"), PageParams),
    responses(
        (status = 200, body = Page<FindingChange>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such artifact", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn finding_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<FindingChange>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    if crate::inventory::store::get_artifact(&state.pool, id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("there is no artifact {id}")));
    }
    let mut conn = state.pool.acquire().await?;
    let rows = service::history(&mut conn, id, before, limit + 1).await?;
    let items = rows
        .into_iter()
        .map(|r| FindingChange {
            id: r.id,
            vulnerability: r.display_id,
            purl: r.purl,
            package: r.package,
            change: r.change,
            severity: r.severity,
            kev: r.kev,
            at: r.at,
        })
        .collect();
    Ok(Json(Page::from_rows(items, limit, |c| c.id)))
}

/// The `project` filter names something: its schema's pattern refuses
/// exactly the values `trim` empties (Unicode White_Space only).
fn non_empty_project(project: Option<&str>) -> ApiResult<()> {
    match project {
        Some(p) if p.trim().is_empty() => Err(ApiError::bad_request(
            "project must name a project; leave it out for the whole portfolio",
        )),
        Some(p) if p.chars().count() > 200 => Err(ApiError::bad_request(
            "project is longer than 200 characters: no project is named so",
        )),
        _ => Ok(()),
    }
}
