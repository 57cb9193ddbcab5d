//! Use cases: marking a project a CRA product, the case sync (hooked into
//! the KEV import, the evaluation that records findings and `PUT …/cra`),
//! reading cases, opening one by hand, recording submissions and the
//! corrective measure, and draft reports.

mod cases;
mod report;

pub use cases::*;
pub use report::*;

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use super::core::report::CorrectiveMeasure;
use super::core::{self, member_states, Clock, Deadlines, Kind, Stage, Status};
use super::store;
use crate::error::{ApiError, ApiResult};
use crate::notifications::core::event::{CraCaseOpened, CraDeadlineApproaching, Event};

/// A project's CRA settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CraProduct)]
pub struct Product {
    pub project: String,
    /// Placed on the EU market: its vulnerabilities are reported under Art. 14.
    pub product: bool,
    /// ISO 3166-1 alpha-2 codes of the EU member states it is made available in.
    pub member_states: Vec<String>,
    /// The end of the support period, when set.
    pub support_period_end: Option<NaiveDate>,
    /// Who last changed it (null: never set).
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /api/v1/projects/{project}/cra`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CraProductUpdate)]
pub struct ProductUpdate {
    pub product: bool,
    /// EU member states by ISO 3166-1 alpha-2 code (`DE`, `FR`, `GR` …).
    #[serde(default)]
    pub member_states: Vec<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub support_period_end: Option<NaiveDate>,
}

/// A request that cannot be accepted (422, pointing at the field).
pub fn invalid(pointer: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-cra-request",
        "Invalid CRA request",
        detail,
    )
    .with_pointer(Some(pointer.to_owned()))
}

/// A submission or change the case's state does not allow (409).
pub fn out_of_order(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "cra-out-of-order",
        "Not allowed in the case's current state",
        detail,
    )
}

async fn project_id(conn: &mut PgConnection, name: &str) -> ApiResult<i64> {
    store::project_id(&mut *conn, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project {name:?}")))
}

fn product_view(project: &str, row: Option<store::ProductRow>) -> Product {
    match row {
        Some(r) => Product {
            project: project.to_string(),
            product: r.product,
            member_states: r.member_states,
            support_period_end: r.support_period_end,
            updated_by: Some(r.updated_by),
            updated_at: Some(r.updated_at),
        },
        None => Product {
            project: project.to_string(),
            product: false,
            member_states: Vec::new(),
            support_period_end: None,
            updated_by: None,
            updated_at: None,
        },
    }
}

pub async fn product(pool: &PgPool, project: &str) -> ApiResult<Product> {
    let mut conn = pool.acquire().await?;
    let id = project_id(&mut conn, project).await?;
    Ok(product_view(project, store::product(&mut *conn, id).await?))
}

/// Marks (or unmarks) a project as a CRA product; its cases open at once.
pub async fn set_product(
    pool: &PgPool,
    project: &str,
    update: &ProductUpdate,
    by: &str,
) -> ApiResult<Product> {
    let states = member_states::parse(&update.member_states)
        .map_err(|(i, why)| invalid(&format!("/member_states/{i}"), why))?;
    let mut tx = pool.begin().await?;
    let id = project_id(&mut tx, project).await?;
    let row = store::upsert_product(
        &mut tx,
        id,
        update.product,
        &states,
        update.support_period_end,
        by,
    )
    .await?;
    sync(&mut tx, Some(id), Utc::now()).await?;
    tx.commit().await?;
    Ok(product_view(project, Some(row)))
}

// --- the case sync ------------------------------------------------------------------

/// Opens the cases the stored findings and KEV catalog call for (of one
/// project, or of every product), queues `cra.case_opened` for each, and
/// `cra.deadline_approaching` for stages due within six hours that were not
/// announced yet. Idempotent; runs in the caller's transaction.
pub async fn sync(
    conn: &mut PgConnection,
    project_id: Option<i64>,
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    let opened = store::sync_cases(&mut *conn, project_id).await?;
    if !opened.is_empty() {
        tracing::info!(cases = opened.len(), "CRA cases opened");
        let mut events = Vec::new();
        for id in &opened {
            if let Some(row) = store::case(&mut *conn, *id).await? {
                let case = views(&mut *conn, vec![row], now).await?.remove(0);
                events.push(opened_event(&case));
            }
        }
        crate::notifications::service::enqueue_events(&mut *conn, &events, now).await?;
    }
    announce(&mut *conn, project_id, now).await?;
    Ok(opened.len())
}

/// Hook after an artifact's findings were recorded: one indexed read for
/// an artifact that is not a CRA product's.
pub async fn sync_artifact(
    conn: &mut PgConnection,
    artifact_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    match store::product_of_artifact(&mut *conn, artifact_id).await? {
        Some(project) => sync(conn, Some(project), now).await,
        None => Ok(0),
    }
}

/// Hook after a KEV import (in its transaction): records when each entry
/// was first seen, then syncs every product.
pub async fn kev_imported(
    conn: &mut PgConnection,
    cve_ids: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    store::kev_seen(&mut *conn, cve_ids, now).await?;
    sync(conn, None, now).await
}

/// The clock's periodic run (deadlines come closer without any event):
/// syncs every product and announces approaching deadlines.
pub async fn tick(pool: &PgPool) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    sync(&mut tx, None, Utc::now()).await?;
    tx.commit().await?;
    // Nothing is queued for the worker loop: wait a poll interval.
    Ok(0)
}

async fn announce(
    conn: &mut PgConnection,
    project_id: Option<i64>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let due: Vec<store::CaseRow> = store::unclosed_cases(&mut *conn, project_id, 10_000)
        .await?
        .into_iter()
        .filter(|r| {
            r.announced_early_warning.is_none()
                || r.announced_notification.is_none()
                || r.announced_final_report.is_none()
        })
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let cases = views(&mut *conn, due.clone(), now).await?;
    let mut events = Vec::new();
    for (c, row) in cases.iter().zip(&due) {
        let submitted: Vec<Stage> = c.submissions.iter().map(|s| s.stage).collect();
        for stage in core::approaching(&c.deadlines, &submitted, now, core::APPROACHING) {
            let announced = match stage {
                Stage::EarlyWarning => row.announced_early_warning,
                Stage::Notification => row.announced_notification,
                Stage::FinalReport => row.announced_final_report,
            };
            if announced.is_some() {
                continue;
            }
            if store::mark_announced(&mut *conn, c.id, stage.as_str()).await? {
                let due = c
                    .deadlines
                    .of(stage)
                    .expect("approaching stages have a deadline");
                events.push(Event::CraDeadlineApproaching(CraDeadlineApproaching {
                    case_id: c.id,
                    project: c.project.clone(),
                    kind: c.kind.as_str().into(),
                    vulnerability: c.vulnerability.clone(),
                    stage: stage.as_str().into(),
                    due_at: due,
                    countdown: core::countdown(due, now),
                }));
            }
        }
    }
    crate::notifications::service::enqueue_events(conn, &events, now).await?;
    Ok(())
}

fn opened_event(c: &Case) -> Event {
    Event::CraCaseOpened(CraCaseOpened {
        case_id: c.id,
        project: c.project.clone(),
        kind: c.kind.as_str().into(),
        vulnerability: c.vulnerability.clone(),
        aliases: c.aliases.clone(),
        aware_at: c.aware_at,
        early_warning_due: c.deadlines.early_warning,
        notification_due: c.deadlines.notification,
    })
}

// --- reading ------------------------------------------------------------------------

/// A recorded submission of one stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CraSubmission)]
pub struct Submission {
    pub stage: Stage,
    pub submitted_at: DateTime<Utc>,
    /// The authority's reference (e.g. the ENISA single reporting platform's id).
    pub reference: Option<String>,
    pub note: Option<String>,
    /// Submitted by the stage's deadline.
    pub on_time: bool,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A reporting case.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CraCase)]
pub struct Case {
    pub id: i64,
    pub project: String,
    /// The vulnerability's id (null for a severe incident without one).
    pub vulnerability: Option<String>,
    /// Its other ids and aliases.
    pub aliases: Vec<String>,
    pub kind: Kind,
    /// A severe incident's description.
    pub title: Option<String>,
    /// When Cairn learned that a finding of the product is actively
    /// exploited (the later of the finding's first sighting and the KEV
    /// entry's), or when the maintainer who opened it became aware.
    pub aware_at: DateTime<Utc>,
    pub status: Status,
    pub deadlines: Deadlines,
    /// Stages not submitted whose deadline has passed.
    pub overdue: Vec<Stage>,
    pub submissions: Vec<Submission>,
    pub corrective_measure: Option<CorrectiveMeasure>,
    /// `kev` (opened by the catalog) or the name of the token that opened it.
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub vulnerability_id: Option<i64>,
}

impl Case {
    /// The next stage to submit and its deadline (none once closed, or while
    /// the final report's clock has not started).
    pub fn next(&self) -> Option<(Stage, Option<DateTime<Utc>>)> {
        Stage::ALL
            .into_iter()
            .find(|s| !self.submissions.iter().any(|x| x.stage == *s))
            .map(|s| (s, self.deadlines.of(s)))
    }
}

/// Cases as the API shows them, from their rows (two more reads for all).
pub async fn views(
    conn: &mut PgConnection,
    rows: Vec<store::CaseRow>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Case>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut subs: HashMap<i64, Vec<store::SubmissionRow>> = HashMap::new();
    for s in store::submissions(&mut *conn, &ids).await? {
        subs.entry(s.case_id).or_default().push(s);
    }
    let mut groups: Vec<i64> = rows.iter().filter_map(|r| r.vulnerability_id).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
    for (g, id) in store::group_ids(&mut *conn, &groups).await? {
        aliases.entry(g).or_default().push(id);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = Kind::parse(&r.kind).unwrap_or(Kind::ExploitedVulnerability);
            let subs = subs.remove(&r.id).unwrap_or_default();
            let notification_submitted_at = subs
                .iter()
                .find(|s| s.stage == Stage::Notification.as_str())
                .map(|s| s.submitted_at);
            let deadlines = Clock {
                kind,
                aware_at: r.aware_at,
                corrective_available_at: r.corrective_available_at,
                notification_submitted_at,
            }
            .deadlines();
            let submissions: Vec<Submission> = subs
                .into_iter()
                .filter_map(|s| {
                    let stage = Stage::parse(&s.stage)?;
                    Some(Submission {
                        stage,
                        on_time: deadlines.of(stage).is_none_or(|d| s.submitted_at <= d),
                        submitted_at: s.submitted_at,
                        reference: s.reference,
                        note: s.note,
                        recorded_by: s.recorded_by,
                        recorded_at: s.recorded_at,
                    })
                })
                .collect();
            let stages: Vec<Stage> = submissions.iter().map(|s| s.stage).collect();
            let corrective_measure = match (r.corrective_description, r.corrective_available_at) {
                (Some(description), Some(available_at)) => Some(CorrectiveMeasure {
                    description,
                    available_at,
                    recorded_by: r.corrective_recorded_by.unwrap_or_default(),
                    recorded_at: r.corrective_recorded_at.unwrap_or(available_at),
                }),
                _ => None,
            };
            let display = r.display_id.clone();
            Case {
                id: r.id,
                project: r.project,
                aliases: r
                    .vulnerability_id
                    .and_then(|g| aliases.get(&g))
                    .map(|ids| {
                        ids.iter()
                            .filter(|i| Some(*i) != display.as_ref())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default(),
                vulnerability: display,
                kind,
                title: r.title,
                aware_at: r.aware_at,
                status: core::status(&stages),
                overdue: core::overdue(&deadlines, &stages, now),
                deadlines,
                submissions,
                corrective_measure,
                opened_by: r.opened_by,
                opened_at: r.opened_at,
                project_id: r.project_id,
                vulnerability_id: r.vulnerability_id,
            }
        })
        .collect())
}

/// A page of a project's cases, after syncing them (a case due now is
/// never missing from the answer).
pub async fn list(
    pool: &PgPool,
    project: &str,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<Case>> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let id = project_id(&mut tx, project).await?;
    sync(&mut tx, Some(id), now).await?;
    tx.commit().await?;
    let mut conn = pool.acquire().await?;
    let rows = store::cases_of_project(&mut *conn, id, after, limit + 1).await?;
    Ok(views(&mut conn, rows, now).await?)
}

pub async fn get(pool: &PgPool, id: i64) -> ApiResult<Case> {
    let mut conn = pool.acquire().await?;
    let row = store::case(&mut *conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(views(&mut conn, vec![row], Utc::now()).await?.remove(0))
}

pub(crate) fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no CRA case {id}"))
}

/// Every case without a final report, most urgent first: overdue ones, then
/// by the next deadline (the dashboard).
pub async fn unclosed(pool: &PgPool, now: DateTime<Utc>) -> ApiResult<Vec<Case>> {
    let mut tx = pool.begin().await?;
    sync(&mut tx, None, now).await?;
    tx.commit().await?;
    let mut conn = pool.acquire().await?;
    let rows = store::unclosed_cases(&mut *conn, None, 1000).await?;
    let mut cases = views(&mut conn, rows, now).await?;
    cases.sort_by_key(|c| {
        let next = c.next().and_then(|(_, d)| d);
        (c.overdue.is_empty(), next.is_none(), next, c.id)
    });
    Ok(cases)
}
