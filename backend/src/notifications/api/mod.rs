//! Notification endpoints: subscriptions, test events, deliveries and
//! their retry. Maintainers and admins only; secrets are never shown after
//! creation, nor logged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::service::{
    self, CreatedSubscription, Delivery, DeliveryFilter, NewSubscription, Subscription,
    SubscriptionPatch,
};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// Create a notification subscription.
///
/// Deliveries are POSTed to `url`, signed with `X-Cairn-Signature:
/// t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` under the subscription's
/// secret. The URL must be `http` or `https`, and its host must resolve to
/// public addresses only unless the server allows private targets
/// (`CAIRN_NOTIFY_ALLOW_PRIVATE`): a refused target is a 422
/// `notification-target-refused`, and nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/notifications/subscriptions", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Created; a generated secret is shown this once", body = CreatedSubscription),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or the URL is not a target notifications may go to", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSubscription>,
) -> ApiResult<(StatusCode, Json<CreatedSubscription>)> {
    caller.require(Role::Maintainer)?;
    let created = service::create(
        &state.pool,
        &state.secret_key,
        state.config.notify_allow_private,
        new,
        caller.token_id,
    )
    .await?;
    tracing::info!(
        subscription = created.subscription.id,
        by = caller.token_id,
        "notification subscription created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// List notification subscriptions (never their secrets).
#[utoipa::path(
    get, path = "/api/v1/notifications/subscriptions", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(PageParams),
    responses((status = 200, body = Page<Subscription>)),
    security(("bearer" = []))
)]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Subscription>>> {
    caller.require(Role::Maintainer)?;
    Ok(Json(service::list(&state.pool, &page).await?))
}

/// Get a notification subscription.
#[utoipa::path(
    get, path = "/api/v1/notifications/subscriptions/{id}", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Subscription id")),
    responses((status = 200, body = Subscription)),
    security(("bearer" = []))
)]
pub async fn get_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Subscription>> {
    caller.require(Role::Maintainer)?;
    Ok(Json(service::get(&state.pool, id).await?))
}

/// Change a notification subscription: the fields given change (a new
/// `url` is checked as on creation; a new `secret` is not shown back).
#[utoipa::path(
    patch, path = "/api/v1/notifications/subscriptions/{id}", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Subscription id")),
    request_body = SubscriptionPatch,
    responses(
        (status = 200, body = Subscription),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or the URL is not a target notifications may go to", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<SubscriptionPatch>,
) -> ApiResult<Json<Subscription>> {
    caller.require(Role::Maintainer)?;
    let s = service::update(
        &state.pool,
        &state.secret_key,
        state.config.notify_allow_private,
        id,
        patch,
    )
    .await?;
    tracing::info!(
        subscription = id,
        by = caller.token_id,
        "notification subscription changed"
    );
    Ok(Json(s))
}

/// Delete a notification subscription and its deliveries.
#[utoipa::path(
    delete, path = "/api/v1/notifications/subscriptions/{id}", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn delete_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Maintainer)?;
    service::delete(&state.pool, id).await?;
    tracing::info!(
        subscription = id,
        by = caller.token_id,
        "notification subscription deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NotificationQueued)]
pub struct Queued {
    /// `queued`.
    pub status: &'static str,
    /// The delivery.
    pub delivery_id: i64,
}

/// Send a test event to a subscription (queued like any notification).
#[utoipa::path(
    post, path = "/api/v1/notifications/subscriptions/{id}/test", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 409, description = "The subscription is disabled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn test_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    caller.require(Role::Maintainer)?;
    let delivery_id = service::send_test(&state.pool, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: "queued",
            delivery_id,
        }),
    ))
}

/// List notification deliveries, newest first.
#[utoipa::path(
    get, path = "/api/v1/notifications/deliveries", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(DeliveryFilter, PageParams),
    responses((status = 200, body = Page<Delivery>)),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Delivery>>> {
    caller.require(Role::Maintainer)?;
    Ok(Json(
        service::deliveries(&state.pool, &filter, &page).await?,
    ))
}

/// Retry a dead letter: queue it again with fresh attempts.
#[utoipa::path(
    post, path = "/api/v1/notifications/deliveries/{id}/retry", tag = "notifications",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued again", body = Queued),
        (status = 409, description = "Not a dead letter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    caller.require(Role::Maintainer)?;
    service::retry(&state.pool, id).await?;
    tracing::info!(
        delivery = id,
        by = caller.token_id,
        "notification dead letter retried"
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: "queued",
            delivery_id: id,
        }),
    ))
}
