//! Dashboard: `/ui/cra`, every case without a final report with the time
//! left per stage (computed here, no script), overdue cases first; and the
//! printable draft report page the API serves as `format=html`.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::core::report::Draft;
use super::core::{countdown, Stage};
use super::service::{self, Case};
use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult};
use crate::identity::Role;
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/cra", get(dashboard))
        .route("/ui/cra/cases/{id}/report", get(report))
}

#[derive(Deserialize)]
struct ReportQuery {
    stage: Option<String>,
}

/// The printable draft for a signed-in user (the API's `format=html` needs
/// a token; browsers have a session).
async fn report(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let stage = match q.stage.as_deref() {
        None | Some("") => Stage::Notification,
        Some(s) => Stage::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "stage must be early_warning, notification or final_report, not {s:?}"
            ))
        })?,
    };
    let (case, draft) = service::draft(&state.pool, id, stage).await?;
    Ok(axum::response::Html(report_page(&case, &draft)?).into_response())
}

/// One stage of a case as the dashboard shows it.
pub struct StageCell {
    pub title: &'static str,
    /// `submitted`, `overdue`, `due` or `waiting` (no deadline yet).
    pub state: &'static str,
    pub text: String,
    pub deadline: String,
}

pub struct Row {
    pub id: i64,
    pub project: String,
    pub subject: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub aware_at: String,
    pub overdue: bool,
    pub stages: Vec<StageCell>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn row(c: &Case, now: DateTime<Utc>) -> Row {
    let stages = Stage::ALL
        .into_iter()
        .map(|s| {
            let deadline = c.deadlines.of(s);
            let submitted = c.submissions.iter().find(|x| x.stage == s);
            let (state, text) = match (submitted, deadline) {
                (Some(x), _) => ("submitted", format!("submitted {}", time(x.submitted_at))),
                (None, Some(d)) if d < now => ("overdue", countdown(d, now)),
                (None, Some(d)) => ("due", countdown(d, now)),
                (None, None) => (
                    "waiting",
                    match (s, c.kind) {
                        (Stage::FinalReport, super::core::Kind::ExploitedVulnerability) => {
                            "14 days after the corrective measure (none recorded)".to_string()
                        }
                        _ => "one month after the notification".to_string(),
                    },
                ),
            };
            StageCell {
                title: s.title(),
                state,
                text,
                deadline: deadline.map(time).unwrap_or_default(),
            }
        })
        .collect();
    Row {
        id: c.id,
        project: c.project.clone(),
        subject: c
            .vulnerability
            .clone()
            .or_else(|| c.title.clone())
            .unwrap_or_default(),
        kind: c.kind.as_str(),
        status: c.status.as_str(),
        aware_at: time(c.aware_at),
        overdue: !c.overdue.is_empty(),
        stages,
    }
}

#[derive(Deserialize)]
struct DashboardQuery {
    project: Option<String>,
}

#[derive(Template)]
#[template(path = "cra.html")]
struct DashboardPage<'a> {
    user: Option<&'a str>,
    rows: Vec<Row>,
    project: &'a str,
    now: String,
}

async fn dashboard(
    State(state): State<AppState>,
    Session(user): Session,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let now = Utc::now();
    let project = q.project.as_deref().map(str::trim).unwrap_or_default();
    let cases = service::unclosed(&state.pool, now).await?;
    let rows = cases
        .iter()
        .filter(|c| project.is_empty() || c.project == project)
        .map(|c| row(c, now))
        .collect();
    render(DashboardPage {
        user: Some(&user.name),
        rows,
        project,
        now: time(now),
    })
}

#[derive(Template)]
#[template(path = "cra_report.html")]
struct ReportPage<'a> {
    case: &'a Case,
    d: &'a Draft,
    row: Row,
    json: String,
}

impl ReportPage<'_> {
    fn time(&self, t: &DateTime<Utc>) -> String {
        time(*t)
    }
}

/// The printable draft (standalone: no navigation, a print stylesheet).
pub fn report_page(case: &Case, d: &Draft) -> ApiResult<String> {
    ReportPage {
        case,
        d,
        row: row(case, d.generated_at),
        json: serde_json::to_string_pretty(d).expect("drafts serialise"),
    }
    .render()
    .map_err(|e| {
        tracing::error!(error = %e, "rendering a CRA report failed");
        ApiError::internal()
    })
}
