//! Webhook receiving (`POST /webhooks/{provider}/{source}`) and the admin
//! API of sources, deliveries, dead letters and the security audit.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::upload;

use crate::builds::core::Provider;
use crate::builds::service::webhooks::{
    self as service, CreatedSource, DeliveryDetail, NewSource, Receipt,
};
use crate::builds::store::webhooks::{self as store, AuditEntry, DeliveryInfo, SourceInfo};

/// The answer to a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAck {
    /// `queued` (202) or `duplicate` (200: this delivery id — signed GitLab:
    /// this `webhook-id`; GitHub: also this body, within 24 hours — was
    /// already received).
    pub status: &'static str,
    /// The stored delivery's id (absent for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// Receive a webhook delivery.
///
/// The source is looked up and every check that needs no body is made
/// (GitHub: `X-Hub-Signature-256` present and well-formed; GitLab:
/// `X-Gitlab-Token`, or the signed form's headers and timestamp) before the
/// body is read; then the signature over the body is verified, and the
/// delivery stored durably and processed asynchronously. Duplicates — the
/// same delivery id (signed GitLab: the signed `webhook-id`), or for GitHub
/// the same body within 24 hours — answer 200 and store nothing.
#[utoipa::path(
    post, path = "/webhooks/{provider}/{source}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("none"))),
    params(
        ("provider" = String, Path, description = "`github` or `gitlab`"),
        ("source" = String, Path, description = "Webhook source name"),
    ),
    request_body(content = String, description = "The provider's JSON payload, byte for byte", content_type = "application/json"),
    responses(
        (status = 202, body = DeliveryAck, description = "Stored and queued"),
        (status = 200, body = DeliveryAck, description = "Already received (same delivery id; signed GitLab: same webhook-id; GitHub: same body within 24 h)"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "Verified but not JSON: kept as a dead letter"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unknown source or failed verification (audited); refused before the body is read when the headers suffice"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath((provider, name)): ApiPath<(String, String)>,
    req: Request,
) -> ApiResult<(StatusCode, Json<DeliveryAck>)> {
    let provider = Provider::parse(&provider)
        .ok_or_else(|| ApiError::not_found(format!("there is no webhook provider {provider:?}")))?;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    // Nothing of the body is read until the source exists and the headers
    // could verify.
    let admitted = service::admit(&state.pool, provider, &name, &parts.headers, peer).await?;
    let max = state.config.webhook_max_body;
    let body = upload::read_raw(&parts.headers, body, max, "CAIRN_WEBHOOK_MAX_BODY").await?;
    let receipt = service::accept(
        &state.pool,
        &state.secret_key,
        admitted,
        &parts.headers,
        &body,
    )
    .await?;
    Ok(match receipt {
        Receipt::Queued(id) => (
            StatusCode::ACCEPTED,
            Json(DeliveryAck {
                status: "queued",
                id: Some(id),
            }),
        ),
        Receipt::Duplicate => (
            StatusCode::OK,
            Json(DeliveryAck {
                status: "duplicate",
                id: None,
            }),
        ),
    })
}

/// Create a webhook source (admin).
#[utoipa::path(
    post, path = "/api/v1/webhook-sources", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    request_body = NewSource,
    responses(
        (status = 201, body = CreatedSource),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSource>,
) -> ApiResult<(StatusCode, Json<CreatedSource>)> {
    caller.require(Role::Admin)?;
    let created = service::new_source(&state.pool, &state.secret_key, new).await?;
    tracing::info!(
        source = created.source.id,
        provider = %created.source.provider,
        by = caller.token_id,
        "webhook source created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// List webhook sources (admin; never their secrets).
#[utoipa::path(
    get, path = "/api/v1/webhook-sources", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<SourceInfo>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_sources(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SourceInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(service::source_page(&state.pool, &page).await?))
}

/// Delete a webhook source and its deliveries (build records stay).
#[utoipa::path(
    delete, path = "/api/v1/webhook-sources/{id}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Source id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn delete_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if store::delete_source(&state.pool, id).await? {
        tracing::info!(source = id, by = caller.token_id, "webhook source deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "there is no webhook source {id}"
        )))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `queued`, `done`, `ignored` or `dead`.
    pub status: Option<String>,
    /// Only deliveries of this source id.
    pub source: Option<i64>,
}

/// List received deliveries, newest first (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-deliveries", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(DeliveryFilter, PageParams),
    responses((status = 200, body = Page<DeliveryInfo>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DeliveryInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        service::delivery_page(&state.pool, filter.status.as_deref(), filter.source, &page).await?,
    ))
}

/// Dead letters: deliveries that failed for good, with their error (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-dead-letters", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses((status = 200, body = Page<DeliveryInfo>)),
    security(("bearer" = []))
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DeliveryInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        service::delivery_page(&state.pool, Some("dead"), None, &page).await?,
    ))
}

/// Get a delivery with its raw payload (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-deliveries/{id}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_delivery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DeliveryDetail>> {
    caller.require(Role::Admin)?;
    Ok(Json(service::delivery_detail(&state.pool, id).await?))
}

/// Replay a dead letter: queue it again with fresh attempts (admin).
#[utoipa::path(
    post, path = "/api/v1/webhook-deliveries/{id}/replay", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, body = DeliveryAck, description = "Queued again"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not a dead letter"),
    ),
    security(("bearer" = []))
)]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<DeliveryAck>)> {
    caller.require(Role::Admin)?;
    service::replay_dead(&state.pool, id).await?;
    tracing::info!(delivery = id, by = caller.token_id, "dead letter replayed");
    Ok((
        StatusCode::ACCEPTED,
        Json(DeliveryAck {
            status: "queued",
            id: Some(id),
        }),
    ))
}

/// Refused deliveries: unknown source or failed verification (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-audit", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses((status = 200, body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    caller.require(Role::Admin)?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = store::list_audit(&state.pool, before, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |a| a.id)))
}
