//! Dashboard pages of compliance reports: the portfolio per framework and
//! one framework's report for a project or release (gaps first, each
//! control's evidence one click away); and the printable page that
//! `format=html` exports.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde::Deserialize;

use super::core::assess::ControlResult;
use super::core::attestation::FilledForm;
use super::core::framework;
use super::core::report::{Report, Summary};
use super::service::{self, ReportRequest};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult};
use crate::identity::Role;
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/compliance", get(portfolio))
        .route("/ui/compliance/{framework}", get(framework_view))
}

/// What the control list shows of a report: gaps first.
struct View<'a> {
    report: &'a Report,
    controls: Vec<&'a ControlResult>,
}

impl<'a> View<'a> {
    fn of(report: &'a Report) -> Self {
        let mut controls: Vec<&ControlResult> = report.controls.iter().collect();
        controls.sort_by_key(|c| c.status.rank());
        View { report, controls }
    }
}

#[derive(Template)]
#[template(path = "compliance_report.html")]
struct Printable<'a> {
    view: View<'a>,
}

/// The printable HTML export (the browser's print-to-PDF gives a clean
/// document).
pub fn report_page(report: &Report) -> ApiResult<String> {
    Printable {
        view: View::of(report),
    }
    .render()
    .map_err(|e| {
        tracing::error!(error = %e, "report template failed");
        ApiError::internal()
    })
}

#[derive(Template)]
#[template(path = "cisa_attestation.html")]
struct AttestationPage<'a> {
    form: &'a FilledForm,
}

/// The printable filled attestation form.
pub fn attestation_page(form: &FilledForm) -> ApiResult<String> {
    AttestationPage { form }.render().map_err(|e| {
        tracing::error!(error = %e, "attestation template failed");
        ApiError::internal()
    })
}

#[derive(Deserialize)]
struct ScopeQuery {
    project: Option<String>,
    version: Option<String>,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct FrameworkPage<'a> {
    user: Option<&'a str>,
    view: View<'a>,
    project: &'a str,
    version: &'a str,
    export: String,
}

async fn framework_view(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let project = q
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let version = q
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let req = ReportRequest {
        framework: id.clone(),
        project: project.map(str::to_owned),
        version: version.map(str::to_owned),
        at: None,
    };
    let report = service::report(&state.pool, &req, Utc::now()).await?;
    let mut export = format!("/api/v1/reports/{id}?");
    if let Some(p) = project {
        export.push_str(&format!("project={}&", crate::web::urlencode(p)));
    }
    if let Some(v) = version {
        export.push_str(&format!("version={}&", crate::web::urlencode(v)));
    }
    render(FrameworkPage {
        user: Some(&user.name),
        view: View::of(&report),
        project: project.unwrap_or(""),
        version: version.unwrap_or(""),
        export,
    })
}

struct FrameworkRow {
    id: String,
    title: String,
    summary: Summary,
    /// `x,y x,y …` of its percent satisfied per day (viewBox 0 0 600 200),
    /// the last 30 days, days without a snapshot left out.
    trend: String,
}

const TREND_DAYS: i32 = 30;

/// The polyline of one framework's daily percentages: day `i` of the
/// window at x = 40 + i·540/29, 0–100 % from y = 180 to 20.
fn trend_points(
    snapshots: &[super::store::Snapshot],
    framework: &str,
    today: chrono::NaiveDate,
) -> String {
    snapshots
        .iter()
        .filter(|s| s.framework == framework)
        .filter_map(|s| {
            let back = (today - s.day).num_days();
            (0..i64::from(TREND_DAYS)).contains(&back).then(|| {
                let i = (i64::from(TREND_DAYS) - 1 - back) as f64;
                let x = 40.0 + i * 540.0 / f64::from(TREND_DAYS - 1);
                let y = 180.0 - s.percent_satisfied.clamp(0.0, 100.0) * 1.6;
                format!("{x:.1},{y:.1}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "compliance_portfolio.html")]
struct PortfolioPage<'a> {
    user: Option<&'a str>,
    rows: Vec<FrameworkRow>,
    projects: Vec<String>,
    releases: usize,
}

async fn portfolio(State(state): State<AppState>, Session(user): Session) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let now = Utc::now();
    // One read of the portfolio's evidence, judged per framework.
    let frameworks: Vec<&'static framework::Framework> = framework::all().iter().collect();
    let reports =
        service::reports(&state.pool, &frameworks, &ReportRequest::default(), now).await?;
    let releases = reports.first().map_or(0, |r| r.scope.releases.len());
    let mut rows = Vec::new();
    for r in reports {
        super::store::record_snapshot(&state.pool, &r.framework, &r.summary, releases, now)
            .await
            .map_err(ApiError::from)?;
        rows.push(FrameworkRow {
            id: r.framework,
            title: r.framework_title,
            summary: r.summary,
            trend: String::new(),
        });
    }
    let snapshots = super::store::snapshots(&state.pool, TREND_DAYS, now)
        .await
        .map_err(ApiError::from)?;
    for r in &mut rows {
        r.trend = trend_points(&snapshots, &r.id, now.date_naive());
    }
    let projects = super::store::project_names(&state.pool, 500)
        .await
        .map_err(ApiError::from)?;
    render(PortfolioPage {
        user: Some(&user.name),
        rows,
        projects,
        releases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::store::Snapshot;

    #[test]
    fn the_trend_places_each_day_of_the_window() {
        let today: chrono::NaiveDate = "2026-12-03".parse().unwrap();
        let snap = |day: &str, fw: &str, p: f64| Snapshot {
            day: day.parse().unwrap(),
            framework: fw.into(),
            percent_satisfied: p,
        };
        let s = [
            snap("2026-11-04", "eu-cra", 0.0),   // first day of the window
            snap("2026-11-03", "eu-cra", 50.0),  // just outside it
            snap("2026-12-03", "eu-cra", 100.0), // today
            snap("2026-12-03", "nist-ssdf-1.1", 25.0),
        ];
        assert_eq!(trend_points(&s, "eu-cra", today), "40.0,180.0 580.0,20.0");
        assert_eq!(trend_points(&s, "nist-ssdf-1.1", today), "580.0,140.0");
        assert_eq!(trend_points(&s, "nist-800-53r5", today), "");
    }
}
