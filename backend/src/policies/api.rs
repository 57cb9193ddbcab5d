//! Policy engine API: the rule catalogue, policy sets (versioned), waivers,
//! results and history, dry-runs, the deploy gate and Kubernetes admission.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::domain::Sha256Digest;
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::policies::core::engine::PolicyDefinition;
use crate::policies::core::CATALOGUE;
use crate::policies::service::{
    self, AdmissionOptions, ArtifactPolicy, DryRun, DryRunResult, GateDecision, GateOptions,
    NewWaiverRequest,
};
use crate::policies::store::{
    self as store, DeadEvaluation, EvaluationRecord, MatrixCell, PolicySet, PolicyVersion,
    TrendPoint, WaiverRecord,
};
use crate::state::AppState;

/// A built-in rule of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleInfo {
    pub id: String,
    pub description: String,
    /// JSON Schema of the rule's `params`.
    #[schema(value_type = Object)]
    pub params_schema: Value,
}

/// The built-in rule catalogue.
#[utoipa::path(
    get, path = "/api/v1/policy-rules", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    responses((status = 200, body = Vec<RuleInfo>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn rules(caller: Caller) -> ApiResult<Json<Vec<RuleInfo>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        CATALOGUE
            .iter()
            .map(|r| RuleInfo {
                id: r.id().into(),
                description: r.description().into(),
                params_schema: r.params_schema(),
            })
            .collect(),
    ))
}

/// The JSON Schemas of the `input` custom Rego rules receive.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegoInputSchema {
    /// The schema of `input` itself: `RuleInput`.
    pub root: String,
    /// Every schema of this API by name (`RuleInput` and those it refers to).
    #[schema(value_type = Object)]
    pub schemas: Value,
}

/// The `input` custom Rego rules receive (JSON Schema).
#[utoipa::path(
    get, path = "/api/v1/policy-rules/rego-input", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    responses((status = 200, body = RegoInputSchema)),
    security(("bearer" = []))
)]
pub async fn rego_input_schema(caller: Caller) -> ApiResult<Json<RegoInputSchema>> {
    caller.require(Role::Viewer)?;
    let doc = crate::api::openapi();
    let schemas = doc
        .components
        .map(|c| serde_json::to_value(c.schemas).unwrap_or_default())
        .unwrap_or_default();
    Ok(Json(RegoInputSchema {
        root: "RuleInput".into(),
        schemas,
    }))
}

/// Create a policy set (version 1). Queues every artifact it applies to.
#[utoipa::path(
    post, path = "/api/v1/policy-sets", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = PolicyDefinition,
    responses(
        (status = 201, body = PolicySet),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Unknown rule, bad params, invalid Rego (with a JSON pointer)"),
    ),
    security(("bearer" = []))
)]
pub async fn create_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(def): ApiJson<PolicyDefinition>,
) -> ApiResult<(StatusCode, Json<PolicySet>)> {
    caller.require(Role::Maintainer)?;
    let set = service::create_set(&state.pool, &def, caller.token_id).await?;
    tracing::info!(
        policy_set = set.id,
        by = caller.token_id,
        "policy set created"
    );
    Ok((StatusCode::CREATED, Json(set)))
}

/// Live policy sets (current versions), by name.
#[utoipa::path(
    get, path = "/api/v1/policy-sets", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<PolicySet>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_sets(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<PolicySet>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::set_page(&state.pool, &page).await?))
}

#[utoipa::path(
    get, path = "/api/v1/policy-sets/{id}", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path)),
    responses((status = 200, body = PolicySet), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PolicySet>> {
    caller.require(Role::Viewer)?;
    store::get_set(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("there is no policy set {id}")))
}

/// Every version of a set, newest first (immutable; also of a deleted set).
#[utoipa::path(
    get, path = "/api/v1/policy-sets/{id}/versions", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path), PageParams),
    responses(
        (status = 200, body = Page<PolicyVersion>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<PolicyVersion>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::version_page(&state.pool, id, &page).await?))
}

/// Replace a set's definition: a new version (none if nothing changed).
/// Queues the artifacts of the old and the new scope.
#[utoipa::path(
    put, path = "/api/v1/policy-sets/{id}", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path)),
    request_body = PolicyDefinition,
    responses(
        (status = 200, body = PolicySet),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(def): ApiJson<PolicyDefinition>,
) -> ApiResult<Json<PolicySet>> {
    caller.require(Role::Maintainer)?;
    let set = service::update_set(&state.pool, id, &def, caller.token_id).await?;
    tracing::info!(
        policy_set = id,
        version = set.version,
        by = caller.token_id,
        "policy set changed"
    );
    Ok(Json(set))
}

/// Delete a set: it stops applying (its history is kept).
#[utoipa::path(
    delete, path = "/api/v1/policy-sets/{id}", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn delete_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Maintainer)?;
    service::delete_set(&state.pool, id).await?;
    tracing::info!(policy_set = id, by = caller.token_id, "policy set deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Evaluate a stored set or unsaved rules (built-in or Rego) against an
/// artifact (uploader; unsaved Rego: maintainer). Nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/policy-dry-run", tag = "policies",
    extensions(("x-cairn-role" = json!("uploader"))),
    request_body = DryRun,
    responses(
        (status = 200, body = DryRunResult),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Unsaved Rego needs the maintainer role"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DryRun>,
) -> ApiResult<Json<DryRunResult>> {
    // Ad-hoc Rego runs code an uploader wrote: maintainers only, like
    // saving it in a set. Stored sets and built-in rules: uploaders.
    let ad_hoc_rego = req
        .rules
        .as_ref()
        .is_some_and(|rules| rules.iter().any(|r| r.rego.is_some()));
    caller.require(if ad_hoc_rego {
        Role::Maintainer
    } else {
        Role::Uploader
    })?;
    Ok(Json(
        service::dry_run(
            &state.pool,
            &req,
            state.config.eval_limits(),
            state.clock.now(),
        )
        .await?,
    ))
}

/// The latest evaluation of each set for an artifact, and its waivers.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/policy", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path)),
    responses((status = 200, body = ArtifactPolicy), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn artifact_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ArtifactPolicy>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::artifact_status(&state.pool, id, state.clock.now()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Evaluations with a smaller id: the older way to page, used when no
    /// `cursor` is given.
    pub before: Option<i64>,
}

/// Every evaluation of an artifact, newest first.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/policy/history", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path), HistoryQuery, PageParams),
    responses(
        (status = 200, body = Page<EvaluationRecord>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<EvaluationRecord>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::history_page(&state.pool, id, q.before, &page).await?,
    ))
}

/// Latest results for every artifact of a project, by artifact and set.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}/policy", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("project" = String, Path, description = "Project name, percent-encoded"), PageParams),
    responses(
        (status = 200, body = Page<EvaluationRecord>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn project_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<EvaluationRecord>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        service::project_page(&state.pool, &project, &page).await?,
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectTags {
    /// At most 50, each 1-64 letters, digits, `-`, `_`, `.` or `:`.
    #[schema(schema_with = tags_schema)]
    pub tags: Vec<String>,
}

fn tags_schema() -> utoipa::openapi::Array {
    let tag = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some("^[A-Za-z0-9._:-]{1,64}$"));
    utoipa::openapi::ArrayBuilder::new()
        .items(tag)
        .max_items(Some(50))
        .build()
}

/// Replace a project's tags (policy scopes select projects by tag).
#[utoipa::path(
    put, path = "/api/v1/projects/{project}/tags", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("project" = String, Path, description = "Project name, percent-encoded")),
    request_body = ProjectTags,
    responses((status = 200, body = ProjectTags), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn set_tags(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    ApiJson(body): ApiJson<ProjectTags>,
) -> ApiResult<Json<ProjectTags>> {
    caller.require(Role::Maintainer)?;
    if body.tags.len() > 50
        || body.tags.iter().any(|t| {
            t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        })
    {
        return Err(ApiError::invalid_policy(
            "tags: at most 50, each 1-64 characters of letters, digits, '-', '_', '.', ':'",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let pid = store::project_id(&mut *tx, &project)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project named {project:?}")))?;
    store::set_project_tags(&mut tx, pid, &body.tags).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM artifacts WHERE project_id = $1")
        .bind(pid)
        .fetch_all(&mut *tx)
        .await?;
    crate::queue::evaluate(&mut tx, &ids, "project-tags").await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Waive a rule (or one violation) for an artifact or a project until an
/// expiry. Queues the affected artifacts. The approver recorded is the
/// caller's token name; a free-text `approver` in the body is ignored.
#[utoipa::path(
    post, path = "/api/v1/waivers", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = NewWaiverRequest,
    responses(
        (status = 201, body = WaiverRecord),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_waiver(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(w): ApiJson<NewWaiverRequest>,
) -> ApiResult<(StatusCode, Json<WaiverRecord>)> {
    caller.require(Role::Maintainer)?;
    let rec = service::create_waiver(&state.pool, &w, &caller, state.clock.now()).await?;
    tracing::info!(waiver = rec.id, by = caller.token_id, "waiver created");
    Ok((StatusCode::CREATED, Json(rec)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaiverFilter {
    /// Only those in force (default false: all, newest first).
    pub active: Option<bool>,
    /// Waivers of this artifact and of its project.
    pub artifact_id: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/waivers", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(WaiverFilter, PageParams),
    responses((status = 200, body = Page<WaiverRecord>)),
    security(("bearer" = []))
)]
pub async fn list_waivers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(f): ApiQuery<WaiverFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<WaiverRecord>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let rows = store::list_waivers(
        &state.pool,
        state.clock.now(),
        f.active.unwrap_or(false),
        f.artifact_id,
        page.after()?,
        limit + 1,
    )
    .await?;
    Ok(Json(Page::from_rows(rows, limit, |w| w.id)))
}

/// Revoke a waiver (it stops applying; the artifacts are re-evaluated).
#[utoipa::path(
    delete, path = "/api/v1/waivers/{id}", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn revoke_waiver(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Maintainer)?;
    service::revoke_waiver(&state.pool, id).await?;
    tracing::info!(waiver = id, by = caller.token_id, "waiver revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// The policy-results overview (projects × rules).
#[derive(Debug, Serialize, ToSchema)]
pub struct Compliance {
    /// Projects × rules, counting artifacts by effective outcome.
    pub matrix: Vec<MatrixCell>,
    /// Last 30 days: evaluations (artifact × set) allowing, per day.
    pub trend: Vec<TrendPoint>,
}

#[utoipa::path(
    get, path = "/api/v1/policy-results", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    responses((status = 200, body = Compliance)),
    security(("bearer" = []))
)]
pub async fn policy_results_overview(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Compliance>> {
    caller.require(Role::Viewer)?;
    Ok(Json(Compliance {
        matrix: store::matrix(&state.pool).await?,
        trend: store::trend(&state.pool, 30).await?,
    }))
}

/// A bearer token if one is sent (then it must be valid).
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Caller::from_request_parts(parts, state)
                .await
                .map(|c| MaybeCaller(Some(c)))
        } else {
            Ok(MaybeCaller(None))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GateQuery {
    /// `sha256:<64 hex>`.
    pub digest: String,
}

/// The gate's options for this caller: with a token, results are brought
/// up to date on the spot; anonymous callers (where allowed) get stored
/// results only.
fn gate_options(state: &AppState, authenticated: bool) -> GateOptions {
    GateOptions {
        limits: state.config.eval_limits(),
        max_claims: state.config.queue_max_claims,
        evaluate: authenticated,
        allow_uncovered: state.config.gate_uncovered_allow,
        now: state.clock.now(),
    }
}

/// Who may ask the gate or admission: a viewer token, or nobody at all when
/// `CAIRN_GATE_ANONYMOUS` is set. True when the caller is authenticated.
fn gate_caller(state: &AppState, caller: Option<Caller>) -> ApiResult<bool> {
    match caller {
        Some(c) => c.require(Role::Viewer).map(|()| true),
        None if state.config.gate_anonymous => Ok(false),
        None => Err(ApiError::unauthorized(
            "missing Authorization: Bearer <token> header (a viewer token)",
        )),
    }
}

/// The deploy gate for CI: `allow` or `deny` an artifact digest, with the
/// failing rules (viewer). Denied: an unknown digest ("no evidence"), an
/// artifact no enforce-mode set covers (unless `CAIRN_GATE_UNCOVERED=allow`),
/// one not yet evaluated, a failing enforce-mode rule. Without a token only
/// where `CAIRN_GATE_ANONYMOUS` is set, and then the decision alone.
#[utoipa::path(
    get, path = "/api/v1/gate", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(GateQuery),
    responses(
        (status = 200, body = GateDecision),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ())
)]
pub async fn gate(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<GateQuery>,
) -> ApiResult<Json<GateDecision>> {
    let authenticated = gate_caller(&state, caller)?;
    let digest = Sha256Digest::parse(&q.digest).map_err(ApiError::bad_request)?;
    let decision = service::gate(
        &state.pool,
        digest.as_str(),
        gate_options(&state, authenticated),
    )
    .await?;
    Ok(Json(if authenticated {
        decision
    } else {
        decision.without_detail()
    }))
}

/// Kubernetes validating admission webhook (`admission.k8s.io/v1`
/// AdmissionReview), viewer token (the API server sends it from the
/// webhook's kubeconfig; see docs/policies.md). Answers 200 with a review
/// response carrying the request uid; malformed reviews are denied with the
/// reason. Kinds without a pod template are denied unless
/// `CAIRN_ADMISSION_OTHER_KINDS=allow`.
#[utoipa::path(
    post, path = "/k8s/admission", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    request_body(content = Object, description = "AdmissionReview (admission.k8s.io/v1)", content_type = "application/json"),
    responses(
        (status = 200, description = "AdmissionReview with `response`", body = Object),
        (status = 400, description = "The body is not a JSON object", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ())
)]
pub async fn admission(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let authenticated = gate_caller(&state, caller)?;
    // Not even a JSON object: the API server never sends that; a client
    // error, not a review to deny.
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok();
    if !is_object {
        return Err(ApiError::bad_request(
            "the body must be an AdmissionReview: a JSON object",
        ));
    }
    let options = AdmissionOptions {
        gate: gate_options(&state, authenticated),
        allow_other_kinds: state.config.admission_other_kinds_allow,
        detail: authenticated,
    };
    Ok(Json(service::admit(&state.pool, &body, options).await))
}

/// Dead-lettered policy evaluations: artifacts whose evaluation never
/// completed (it took its worker down) `CAIRN_QUEUE_MAX_CLAIMS` times. The
/// gate denies them until they are replayed (viewer).
#[utoipa::path(
    get, path = "/api/v1/policy-dead-letters", tag = "policies",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<DeadEvaluation>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DeadEvaluation>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let after = page.after()?;
    let rows = store::dead_evaluations(&state.pool, after, limit + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |d| {
        (d.dead_at, d.artifact_id)
    })))
}

/// The artifact whose evaluation was replayed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayAck {
    pub artifact_id: i64,
    /// Always `queued`.
    pub status: &'static str,
}

/// Replay a dead-lettered evaluation: queue it again with fresh attempts
/// and claims (maintainer).
#[utoipa::path(
    post, path = "/api/v1/policy-dead-letters/{artifact_id}/replay", tag = "policies",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("artifact_id" = i64, Path, description = "Artifact id")),
    responses(
        (status = 202, body = ReplayAck, description = "Queued again"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No dead-lettered evaluation for this artifact"),
    ),
    security(("bearer" = []))
)]
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(artifact_id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<ReplayAck>)> {
    caller.require(Role::Maintainer)?;
    let mut tx = state.pool.begin().await?;
    if !store::replay_dead(&mut tx, artifact_id).await? {
        return Err(ApiError::not_found(format!(
            "artifact {artifact_id} has no dead-lettered policy evaluation"
        )));
    }
    tx.commit().await?;
    tracing::info!(
        artifact = artifact_id,
        by = caller.token_id,
        "dead-lettered evaluation replayed"
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayAck {
            artifact_id,
            status: "queued",
        }),
    ))
}
