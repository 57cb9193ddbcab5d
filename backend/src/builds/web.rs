//! Dashboard pages for build records: a project's build timeline and a run
//! page with its jobs and the artifacts it produced; and, for admins, the
//! webhook sources, dead letters and the security audit.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::identity::{Caller, Role};
use crate::inventory::service::find_project;
use crate::inventory::store::ProjectSummary;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::web::{render, same_origin, Session, WebResult};

use super::core::Provider;
use super::service::runs::{run_detail, run_page, RunDetail, RunQuery};
use super::service::webhooks::{new_source, replay_dead, CreatedSource, NewSource};
use super::store::runs::RunSummary;
use super::store::webhooks::{self as store, AuditEntry, DeliveryInfo, SourceInfo};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/projects/{project}/builds", get(timeline))
        .route("/ui/runs/{id}", get(run))
        .route("/ui/webhooks", get(webhooks))
        .route("/ui/webhooks/sources", post(create_source))
        .route("/ui/webhooks/deliveries/{id}/replay", post(replay))
}

/// `1h 02m 03s` style durations.
pub fn duration(secs: &Option<i64>) -> String {
    match *secs {
        None => "—".into(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// What a run's outcome looks like in a list: the conclusion when
/// completed, else the status.
pub fn outcome(status: &Option<String>, conclusion: &Option<String>) -> String {
    conclusion
        .clone()
        .or_else(|| status.clone())
        .unwrap_or_else(|| "unknown".into())
}

pub fn short_sha(sha: &Option<String>) -> String {
    sha.as_deref()
        .map(|s| s.chars().take(12).collect())
        .unwrap_or_else(|| "—".into())
}

/// The pages' askama filters: `{{ r.duration_secs|duration }}`,
/// `{{ r.status|outcome(r.conclusion) }}`, `{{ r.head_sha|short_sha }}`.
mod filters {
    use askama::{Result, Values};

    pub fn duration(secs: &Option<i64>, _: &dyn Values) -> Result<String> {
        Ok(super::duration(secs))
    }

    pub fn outcome(
        status: &Option<String>,
        _: &dyn Values,
        conclusion: &Option<String>,
    ) -> Result<String> {
        Ok(super::outcome(status, conclusion))
    }

    pub fn short_sha(sha: &Option<String>, _: &dyn Values) -> Result<String> {
        Ok(super::short_sha(sha))
    }
}

#[derive(Template)]
#[template(path = "builds.html")]
struct TimelinePage<'a> {
    user: Option<&'a str>,
    project: ProjectSummary,
    status: &'a str,
    runner_kind: &'a str,
    runs: Page<RunSummary>,
}

async fn timeline(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<RunQuery>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let project = find_project(&state.pool, &name).await?;
    let status = query.status.clone().unwrap_or_default();
    let runner_kind = query.runner_kind.clone().unwrap_or_default();
    let mut filter = query.into_filter()?;
    filter.project = Some(project.name.clone());
    let runs = run_page(&state.pool, &filter, &paging).await?;
    render(TimelinePage {
        user: Some(&user.name),
        project,
        status: &status,
        runner_kind: &runner_kind,
        runs,
    })
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage<'a> {
    user: Option<&'a str>,
    detail: RunDetail,
}

async fn run(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
) -> WebResult<Response> {
    let detail = run_detail(&state.pool, id).await?;
    render(RunPage {
        user: Some(&user.name),
        detail,
    })
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage<'a> {
    user: Option<&'a str>,
    sources: Vec<SourceInfo>,
    dead: Vec<DeliveryInfo>,
    recent: Vec<DeliveryInfo>,
    audit: Vec<AuditEntry>,
    created: Option<CreatedSource>,
    error: Option<String>,
}

async fn webhooks_page(
    state: &AppState,
    user: &Caller,
    created: Option<CreatedSource>,
    error: Option<String>,
) -> WebResult<String> {
    user.require(Role::Admin)?;
    // Every source: an admin creates each one, so they are few.
    let sources = store::list_sources(&state.pool, 0, i64::MAX)
        .await
        .map_err(ApiError::from)?;
    let dead = store::list_deliveries(&state.pool, Some("dead"), None, None, 49)
        .await
        .map_err(ApiError::from)?;
    let recent = store::list_deliveries(&state.pool, None, None, None, 19)
        .await
        .map_err(ApiError::from)?;
    let audit = store::list_audit(&state.pool, None, 19)
        .await
        .map_err(ApiError::from)?;
    Ok(WebhooksPage {
        user: Some(&user.name),
        sources,
        dead,
        recent,
        audit,
        created,
        error,
    }
    .render()?)
}

async fn webhooks(State(state): State<AppState>, Session(user): Session) -> WebResult<Response> {
    Ok(Html(webhooks_page(&state, &user, None, None).await?).into_response())
}

#[derive(Deserialize)]
struct SourceForm {
    provider: String,
    name: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    signing_secret: String,
    /// One per line or comma-separated; empty for all.
    #[serde(default)]
    repositories: String,
}

async fn create_source(
    State(state): State<AppState>,
    Session(user): Session,
    headers: HeaderMap,
    Form(form): Form<SourceForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site form refused").into());
    }
    user.require(Role::Admin)?;
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let repositories: Vec<String> = form
        .repositories
        .split([',', '\n'])
        .filter_map(nonempty)
        .collect();
    let new = Provider::parse(&form.provider)
        .ok_or_else(|| ApiError::bad_request("provider must be github or gitlab"))
        .map(|provider| NewSource {
            provider,
            name: form.name.trim().to_owned(),
            secret: nonempty(&form.secret),
            signing_secret: nonempty(&form.signing_secret),
            repositories: (!repositories.is_empty()).then_some(repositories),
        });
    let result = match new {
        Ok(new) => new_source(&state.pool, &state.secret_key, new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            tracing::info!(
                source = created.source.id,
                by = user.token_id,
                "webhook source created (dashboard)"
            );
            let html = webhooks_page(&state, &user, Some(created), None).await?;
            Ok((StatusCode::CREATED, Html(html)).into_response())
        }
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let html = webhooks_page(&state, &user, None, Some(e.to_string())).await?;
            Ok((status, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn replay(
    State(state): State<AppState>,
    Session(user): Session,
    headers: HeaderMap,
    crate::api::extract::ApiPath(id): crate::api::extract::ApiPath<i64>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site form refused").into());
    }
    user.require(Role::Admin)?;
    replay_dead(&state.pool, id).await?;
    tracing::info!(
        delivery = id,
        by = user.token_id,
        "dead letter replayed (dashboard)"
    );
    Ok(Redirect::to("/ui/webhooks").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(duration(&Some(181)), "3m 01s");
        assert_eq!(duration(&Some(7300)), "2h 01m");
        assert_eq!(duration(&None), "—");
        assert_eq!(
            outcome(&Some("completed".into()), &Some("success".into())),
            "success"
        );
        assert_eq!(
            short_sha(&Some("3484a3fb816e0859fd6e".into())),
            "3484a3fb816e"
        );
    }
}
