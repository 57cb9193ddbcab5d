//! Changing cases: opening one by hand, recording a submission, recording
//! the corrective or mitigating measure. Each in one transaction, the case
//! row locked.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::{invalid, not_found, out_of_order, project_id, views, Case};
use crate::cra::core::{self, Kind, Stage};
use crate::cra::store;
use crate::error::{ApiError, ApiResult};

/// `POST /api/v1/cra/cases`: a maintainer marks a vulnerability of a CRA
/// product actively exploited, or opens a severe incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCraCase)]
pub struct NewCase {
    /// The CRA product (project name).
    pub project: String,
    /// Any id or alias of an imported advisory; required for an exploited
    /// vulnerability, optional for a severe incident.
    #[serde(default)]
    pub vulnerability: Option<String>,
    pub kind: Kind,
    /// When the manufacturer became aware (default: now; not in the future).
    #[serde(default)]
    pub aware_at: Option<DateTime<Utc>>,
    /// What happened (severe incidents: required).
    #[serde(default)]
    pub title: Option<String>,
}

/// `POST /api/v1/cra/cases/{id}/submissions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCraSubmission)]
pub struct NewSubmission {
    pub stage: Stage,
    /// When it was submitted (default: now; not in the future).
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The authority's reference for it.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/cra/cases/{id}/corrective-measure`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCraCorrectiveMeasure)]
pub struct NewCorrectiveMeasure {
    /// The security update or other corrective or mitigating measure.
    pub description: String,
    /// When it is (or was) available to users (default: now).
    #[serde(default)]
    pub available_at: Option<DateTime<Utc>>,
}

/// Clocks differ a little: "now" may be a few minutes ahead of ours.
const SKEW: Duration = Duration::minutes(5);

fn not_future(
    pointer: &str,
    t: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<DateTime<Utc>> {
    match t {
        Some(t) if t > now + SKEW => Err(invalid(pointer, format!("{t} is in the future"))),
        Some(t) => Ok(t),
        None => Ok(now),
    }
}

fn text<'a>(pointer: &str, s: &'a Option<String>, max: usize) -> ApiResult<Option<&'a str>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => {
            Err(invalid(pointer, format!("at most {max} characters")))
        }
        other => Ok(other),
    }
}

pub async fn open_case(pool: &PgPool, new: &NewCase, by: &str) -> ApiResult<(Case, bool)> {
    let now = Utc::now();
    let aware_at = not_future("/aware_at", new.aware_at, now)?;
    let title = text("/title", &new.title, 2000)?;
    let vulnerability = text("/vulnerability", &new.vulnerability, 200)?;
    let mut tx = pool.begin().await?;
    let project = project_id(&mut tx, new.project.trim()).await?;
    let is_product = store::product(&mut *tx, project)
        .await?
        .is_some_and(|p| p.product);
    if !is_product {
        return Err(invalid(
            "/project",
            format!(
                "project {:?} is not marked as a CRA product (PUT /api/v1/projects/{{project}}/cra)",
                new.project
            ),
        ));
    }
    let group = match vulnerability {
        None => None,
        Some(v) => Some(
            crate::vulnerabilities::service::vulnerability_group(&mut tx, v)
                .await?
                .ok_or_else(|| {
                    invalid(
                        "/vulnerability",
                        format!("no imported advisory knows {v:?} (as an id or an alias)"),
                    )
                })?,
        ),
    };
    let display = match group {
        Some(g) => Some(
            crate::vulnerabilities::service::describe_group(pool, g)
                .await?
                .0
                .id,
        ),
        None => None,
    };
    match new.kind {
        Kind::ExploitedVulnerability if group.is_none() => {
            return Err(invalid(
                "/vulnerability",
                "an exploited vulnerability case names its vulnerability",
            ))
        }
        Kind::SevereIncident if title.is_none() => {
            return Err(invalid(
                "/title",
                "a severe incident case says what happened",
            ))
        }
        _ => {}
    }
    let inserted = store::insert_case(
        &mut tx,
        &store::NewCase {
            project_id: project,
            kind: new.kind.as_str(),
            vulnerability_id: group,
            display_id: display.as_deref(),
            title,
            aware_at,
            opened_by: by,
        },
    )
    .await?;
    let (id, created) = match inserted {
        Some(id) => (id, true),
        None => {
            let existing = store::case_of(&mut *tx, project, group.unwrap_or_default())
                .await?
                .ok_or_else(ApiError::internal)?;
            return Err(ApiError::conflict(format!(
                "project {:?} has a case for this vulnerability already: {existing} (GET /api/v1/cra/cases/{existing})",
                new.project
            )));
        }
    };
    let row = store::case(&mut *tx, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    let case = views(&mut tx, vec![row], now).await?.remove(0);
    crate::notifications::service::enqueue_events(&mut tx, &[super::opened_event(&case)], now)
        .await?;
    tx.commit().await?;
    Ok((case, created))
}

pub async fn submit(pool: &PgPool, id: i64, new: &NewSubmission, by: &str) -> ApiResult<Case> {
    let now = Utc::now();
    let submitted_at = not_future("/submitted_at", new.submitted_at, now)?;
    let reference = text("/reference", &new.reference, 500)?;
    let note = text("/note", &new.note, 10_000)?;
    let mut tx = pool.begin().await?;
    let row = store::lock_case(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let case = views(&mut tx, vec![row], now).await?.remove(0);
    let submitted: Vec<Stage> = case.submissions.iter().map(|s| s.stage).collect();
    core::check_submission(
        case.kind,
        &submitted,
        new.stage,
        case.corrective_measure.is_some(),
    )
    .map_err(|e| out_of_order(e.to_string()))?;
    store::insert_submission(
        &mut tx,
        &store::NewSubmission {
            case_id: id,
            stage: new.stage.as_str(),
            submitted_at,
            reference,
            note,
            recorded_by: by,
        },
    )
    .await?;
    let row = store::case(&mut *tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let case = views(&mut tx, vec![row], now).await?.remove(0);
    tx.commit().await?;
    tracing::info!(
        case = id,
        stage = new.stage.as_str(),
        by,
        "CRA submission recorded"
    );
    Ok(case)
}

pub async fn corrective_measure(
    pool: &PgPool,
    id: i64,
    new: &NewCorrectiveMeasure,
    by: &str,
) -> ApiResult<Case> {
    let now = Utc::now();
    let available_at = not_future("/available_at", new.available_at, now)?;
    let description = text("/description", &Some(new.description.clone()), 10_000)?
        .ok_or_else(|| invalid("/description", "describe the measure"))?
        .to_string();
    let mut tx = pool.begin().await?;
    let row = store::lock_case(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let case = views(&mut tx, vec![row], now).await?.remove(0);
    if case
        .submissions
        .iter()
        .any(|s| s.stage == Stage::FinalReport)
    {
        return Err(out_of_order(
            "the final report was submitted: the case is closed",
        ));
    }
    store::set_corrective_measure(&mut tx, id, &description, available_at, by).await?;
    let row = store::case(&mut *tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let case = views(&mut tx, vec![row], now).await?.remove(0);
    tx.commit().await?;
    Ok(case)
}
