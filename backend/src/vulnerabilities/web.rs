//! Dashboard pages: the portfolio overview (counts by severity and KEV, the
//! trend, the vulnerability list), one vulnerability with every affected
//! artifact ("are we affected by CVE-…?"), and the triage form.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::core::severity::Severity;
use super::core::triage::{Scope, State as TriageState};
use super::service::{self, Overview, TrendPoint};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::identity::Role;
use crate::state::AppState;
use crate::web::{render, same_origin, Session, WebResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/vulnerabilities", get(overview))
        .route("/ui/vulnerabilities/{id}", get(vulnerability))
        .route("/ui/vulnerabilities/{id}/triage", post(triage))
}

/// The trend as SVG geometry (viewBox 0 0 600 200): all findings, and the
/// critical and high ones.
pub struct TrendChart {
    pub all: String,
    pub severe: String,
    pub max: i64,
    pub first: String,
    pub last: String,
    pub today: i64,
    pub today_severe: i64,
}

pub fn trend_chart(points: &[TrendPoint]) -> TrendChart {
    let max = points
        .iter()
        .map(TrendPoint::total)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = points.len().max(2) as f64;
    let xy = |i: usize, v: i64| {
        let x = 40.0 + i as f64 * (540.0 / (n - 1.0));
        let y = 180.0 - v as f64 / max as f64 * 160.0;
        format!("{x:.1},{y:.1}")
    };
    let line = |f: fn(&TrendPoint) -> i64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| xy(i, f(p)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let last = points.last();
    TrendChart {
        all: line(TrendPoint::total),
        severe: line(|p| p.critical + p.high),
        max,
        first: points
            .first()
            .map(|p| p.day.to_string())
            .unwrap_or_default(),
        last: last.map(|p| p.day.to_string()).unwrap_or_default(),
        today: last.map_or(0, TrendPoint::total),
        today_severe: last.map_or(0, |p| p.critical + p.high),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    min_severity: Option<String>,
    kev: Option<String>,
    project: Option<String>,
}

#[derive(Template)]
#[template(path = "vulnerabilities.html")]
struct OverviewPage<'a> {
    user: Option<&'a str>,
    overview: Overview,
    chart: TrendChart,
    items: Vec<(service::PortfolioRow, Vec<String>)>,
    min_severity: &'a str,
    kev_only: bool,
    project: &'a str,
}

const LIST_LIMIT: i64 = 200;

async fn overview(
    State(state): State<AppState>,
    Session(user): Session,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let min = match q.min_severity.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Severity::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "min_severity must be critical, high, medium, low or unknown, not {s:?}"
            ))
        })?),
    };
    let kev_only = q.kev.as_deref() == Some("true");
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let mut conn = state.pool.acquire().await.map_err(ApiError::from)?;
    let overview = service::overview(&mut conn, project, 30, chrono::Utc::now())
        .await
        .map_err(ApiError::from)?;
    let filter = service::PortfolioFilter {
        min_rank: min.map(|s| s as i16),
        kev: kev_only.then_some(true),
        project,
        open_only: true,
    };
    let items = service::portfolio(&mut conn, &filter, None, LIST_LIMIT)
        .await
        .map_err(ApiError::from)?;
    render(OverviewPage {
        user: Some(&user.name),
        chart: trend_chart(&overview.trend),
        overview,
        items,
        min_severity: min.map_or("", Severity::as_str),
        kev_only,
        project: project.unwrap_or(""),
    })
}

#[derive(Template)]
#[template(path = "vulnerability.html")]
struct VulnerabilityPage<'a> {
    user: Option<&'a str>,
    v: super::api::Vulnerability,
    can_triage: bool,
    states: &'static [&'static str],
    justifications: &'static [&'static str; 5],
}

impl VulnerabilityPage<'_> {
    /// The affected components, each once, for the triage form.
    fn purls(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.v.affected.iter().map(|a| a.purl.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
}

async fn vulnerability(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<String>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let mut conn = state.pool.acquire().await.map_err(ApiError::from)?;
    let Some(group) = service::vulnerability_group(&mut conn, &id)
        .await
        .map_err(ApiError::from)?
    else {
        return Err(ApiError::not_found(format!(
            "no imported advisory knows {:?} (as an id or an alias)",
            id.trim()
        ))
        .into());
    };
    drop(conn);
    let view = service::vulnerability(&state.pool, group)
        .await
        .map_err(ApiError::from)?;
    render(VulnerabilityPage {
        user: Some(&user.name),
        v: view.into(),
        can_triage: user.role >= Role::Maintainer,
        states: &[
            "in_triage",
            "affected",
            "not_affected",
            "fixed",
            "under_investigation",
            "false_positive",
        ],
        justifications: &super::core::vex::OPENVEX_JUSTIFICATIONS,
    })
}

#[derive(Deserialize)]
struct TriageForm {
    purl: String,
    scope: String,
    artifact_id: Option<String>,
    project: Option<String>,
    state: String,
    justification: Option<String>,
    comment: Option<String>,
}

/// Records a triage decision from the vulnerability page (maintainer).
async fn triage(
    State(state): State<AppState>,
    Session(user): Session,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    Form(form): Form<TriageForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site form submission refused").into());
    }
    user.require(Role::Maintainer)?;
    let scope = Scope::parse(&form.scope).ok_or_else(|| {
        ApiError::from(service::TriageError::Invalid(format!(
            "scope must be artifact, project or portfolio, not {:?}",
            form.scope
        )))
    })?;
    let decided = TriageState::parse(&form.state).ok_or_else(|| {
        ApiError::from(service::TriageError::Invalid(format!(
            "{:?} is not a triage state",
            form.state
        )))
    })?;
    fn empty_none(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let artifact_id = match empty_none(&form.artifact_id) {
        None => None,
        Some(a) => Some(a.parse::<i64>().map_err(|_| {
            ApiError::from(service::TriageError::Invalid(format!(
                "the artifact id must be a number, not {a:?}"
            )))
        })?),
    };
    let mut tx = state.pool.begin().await.map_err(ApiError::from)?;
    service::triage(
        &mut tx,
        &service::TriageRequest {
            vulnerability: &id,
            purl: &form.purl,
            this_version_only: false,
            scope,
            artifact_id,
            project: empty_none(&form.project),
            state: decided,
            justification: empty_none(&form.justification),
            comment: empty_none(&form.comment),
            expires_at: None,
            author: &user.name,
            source: "manual",
        },
    )
    .await
    .map_err(ApiError::from)?;
    tx.commit().await.map_err(ApiError::from)?;
    Ok(Redirect::to(&format!(
        "/ui/vulnerabilities/{}",
        crate::web::urlencode(&id)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_scales_to_the_highest_day() {
        let p = |d: &str, high, low| TrendPoint {
            day: d.parse().unwrap(),
            critical: 0,
            high,
            medium: 0,
            low,
            unknown: 0,
        };
        let c = trend_chart(&[p("2026-11-30", 1, 1), p("2026-12-01", 2, 2)]);
        assert_eq!(c.max, 4);
        assert_eq!(c.all, "40.0,100.0 580.0,20.0");
        assert_eq!(c.severe, "40.0,140.0 580.0,100.0");
        assert_eq!((c.today, c.today_severe), (4, 2));
    }
}
