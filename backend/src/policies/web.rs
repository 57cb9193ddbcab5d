//! Dashboard pages of the policy engine: the policy-results overview (projects
//! × rules matrix and a server-rendered SVG trend), an artifact's policy
//! results with evidence and waivers, and the policy page (catalogue, sets,
//! Rego editor with a dry-run).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::api::extract::ApiPath;
use crate::error::ApiError;
use crate::identity::Role;
use crate::policies::core::engine::RuleSpec;
use crate::policies::core::CATALOGUE;
use crate::policies::service::{self, artifact_status, ArtifactPolicy, DryRun, DryRunResult};
use crate::policies::store::{self as store, DeadEvaluation, MatrixCell, PolicySet, TrendPoint};
use crate::state::AppState;
use crate::web::{render, same_origin, Session, WebResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/policy-results", get(overview))
        .route("/ui/policies", get(policies))
        .route("/ui/policies/dry-run", post(dry_run))
        .route("/ui/policies/dead-letters/{id}/replay", post(replay))
        .route("/ui/artifacts/{id}/policy", get(artifact))
}

/// One row of the matrix: a project and its cell per rule.
pub struct MatrixRow {
    pub project: String,
    pub cells: Vec<Option<MatrixCell>>,
}

/// A cell's summary class and text.
pub fn cell_class(c: &MatrixCell) -> &'static str {
    if c.fail > 0 {
        "cell-fail"
    } else if c.warn > 0 {
        "cell-warn"
    } else if c.waived > 0 {
        "cell-waived"
    } else if c.pass > 0 {
        "cell-pass"
    } else {
        "cell-na"
    }
}

/// The trend as SVG geometry (viewBox 0 0 600 200).
pub struct Trend {
    /// `x,y x,y ...` of the pass-rate line (days with evaluations).
    pub points: String,
    pub dots: Vec<(f64, f64, String)>,
    pub first: String,
    pub last: String,
    pub latest_percent: Option<i64>,
}

pub fn trend_svg(points: &[TrendPoint]) -> Trend {
    let n = points.len().max(2) as f64;
    let mut line = Vec::new();
    let mut dots = Vec::new();
    let mut latest = None;
    for (i, p) in points.iter().enumerate() {
        if p.total == 0 {
            continue;
        }
        let pct = p.allowed as f64 / p.total as f64;
        let x = 40.0 + i as f64 * (540.0 / (n - 1.0));
        let y = 180.0 - pct * 160.0;
        line.push(format!("{x:.1},{y:.1}"));
        let label = format!(
            "{}: {} of {} allowed ({:.0}%)",
            p.day,
            p.allowed,
            p.total,
            pct * 100.0
        );
        dots.push((x, y, label));
        latest = Some((pct * 100.0).round() as i64);
    }
    Trend {
        points: line.join(" "),
        dots,
        first: points
            .first()
            .map(|p| p.day.to_string())
            .unwrap_or_default(),
        last: points.last().map(|p| p.day.to_string()).unwrap_or_default(),
        latest_percent: latest,
    }
}

/// The pages' askama filters: `{{ c|cell_class }}`.
mod filters {
    use std::borrow::Borrow;

    use askama::{Result, Values};

    use crate::policies::store::MatrixCell;

    pub fn cell_class(c: &impl Borrow<MatrixCell>, _: &dyn Values) -> Result<&'static str> {
        Ok(super::cell_class(c.borrow()))
    }
}

#[derive(Template)]
#[template(path = "policy_results.html")]
struct OverviewPage<'a> {
    user: Option<&'a str>,
    rules: Vec<String>,
    rows: Vec<MatrixRow>,
    trend: Trend,
}

async fn overview(State(state): State<AppState>, Session(user): Session) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let cells = store::matrix(&state.pool).await.map_err(ApiError::from)?;
    let trend = store::trend(&state.pool, 30)
        .await
        .map_err(ApiError::from)?;
    let mut rules: Vec<String> = cells.iter().map(|c| c.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    let mut by_project: BTreeMap<String, Vec<Option<MatrixCell>>> = BTreeMap::new();
    for c in cells {
        let i = rules.iter().position(|r| *r == c.rule).expect("listed");
        let row = by_project
            .entry(c.project.clone())
            .or_insert_with(|| vec![None; rules.len()]);
        row[i] = Some(c);
    }
    render(OverviewPage {
        user: Some(&user.name),
        rules,
        rows: by_project
            .into_iter()
            .map(|(project, cells)| MatrixRow { project, cells })
            .collect(),
        trend: trend_svg(&trend),
    })
}

#[derive(Template)]
#[template(path = "artifact_policy.html")]
struct ArtifactPolicyPage<'a> {
    user: Option<&'a str>,
    status: ArtifactPolicy,
}

async fn artifact(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let status = artifact_status(&state.pool, id, state.clock.now()).await?;
    render(ArtifactPolicyPage {
        user: Some(&user.name),
        status,
    })
}

pub struct CatalogueEntry {
    pub id: String,
    pub description: String,
    pub schema: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage<'a> {
    user: Option<&'a str>,
    catalogue: Vec<CatalogueEntry>,
    sets: Vec<PolicySet>,
    artifact_id: String,
    module: String,
    result: Option<DryRunResult>,
    error: Option<String>,
    dead: Vec<DeadEvaluation>,
}

const EXAMPLE: &str = r#"package acme.licences

violations contains msg if {
    some c in input.sbom.components
    startswith(c.licenses, "AGPL")
    msg := sprintf("%s is under %s", [c.name, c.licenses])
}
"#;

async fn page<'a>(
    state: &AppState,
    user: &'a str,
    artifact_id: String,
    module: String,
    result: Option<DryRunResult>,
    error: Option<String>,
) -> WebResult<PoliciesPage<'a>> {
    let sets = store::list_sets(&state.pool)
        .await
        .map_err(ApiError::from)?;
    let dead = store::dead_evaluations(&state.pool, None, 50)
        .await
        .map_err(ApiError::from)?;
    Ok(PoliciesPage {
        user: Some(user),
        catalogue: CATALOGUE
            .iter()
            .map(|r| CatalogueEntry {
                id: r.id().into(),
                description: r.description().into(),
                schema: serde_json::to_string_pretty(&r.params_schema()).unwrap_or_default(),
            })
            .collect(),
        sets,
        artifact_id,
        module,
        result,
        error,
        dead,
    })
}

async fn policies(State(state): State<AppState>, Session(user): Session) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    render(
        page(
            &state,
            &user.name,
            String::new(),
            EXAMPLE.into(),
            None,
            None,
        )
        .await?,
    )
}

/// Queues a dead-lettered evaluation again (maintainer).
async fn replay(
    State(state): State<AppState>,
    Session(user): Session,
    headers: HeaderMap,
    ApiPath(artifact_id): ApiPath<i64>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site form submission refused").into());
    }
    user.require(Role::Maintainer)?;
    let mut tx = state.pool.begin().await.map_err(ApiError::from)?;
    if !store::replay_dead(&mut tx, artifact_id)
        .await
        .map_err(ApiError::from)?
    {
        return Err(ApiError::not_found(format!(
            "artifact {artifact_id} has no dead-lettered policy evaluation"
        ))
        .into());
    }
    tx.commit().await.map_err(ApiError::from)?;
    tracing::info!(
        artifact = artifact_id,
        by = user.token_id,
        "dead-lettered evaluation replayed (dashboard)"
    );
    Ok(axum::response::Redirect::to("/ui/policies").into_response())
}

#[derive(Deserialize)]
struct DryRunForm {
    artifact_id: String,
    module: String,
}

async fn dry_run(
    State(state): State<AppState>,
    Session(user): Session,
    headers: HeaderMap,
    Form(form): Form<DryRunForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site form submission refused").into());
    }
    // The editor runs ad-hoc Rego: maintainers only (as in the API).
    user.require(Role::Maintainer)?;
    let outcome = match form.artifact_id.trim().parse::<i64>() {
        Err(_) => Err("the artifact id must be a number".to_owned()),
        Ok(artifact_id) => service::dry_run(
            &state.pool,
            &DryRun {
                artifact_id,
                policy_set: None,
                rules: Some(vec![RuleSpec {
                    id: None,
                    rule: None,
                    params: None,
                    rego: Some(form.module.clone()),
                }]),
                mode: None,
            },
            state.config.eval_limits(),
            state.clock.now(),
        )
        .await
        .map_err(|e| e.to_string()),
    };
    let (result, error, status) = match outcome {
        Ok(r) => (Some(r), None, StatusCode::OK),
        Err(e) => (None, Some(e), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let html = page(
        &state,
        &user.name,
        form.artifact_id.clone(),
        form.module.clone(),
        result,
        error,
    )
    .await?
    .render()?;
    Ok((status, Html(html)).into_response())
}
