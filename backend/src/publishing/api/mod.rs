//! Trusted publishing endpoints: publishers, issuers' keys, the token
//! exchange and its audit.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::service::{self, Issued, PublisherRequest};
use super::store::{self, Exchange, IssuerKeys, Publisher};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// Trust a CI pipeline: its OIDC ID tokens can be exchanged for
/// short-lived Cairn tokens that write only to `projects`.
///
/// Maintainers and admins; the publisher's role is never above the
/// caller's and never `admin`.
#[utoipa::path(
    post, path = "/api/v1/trusted-publishers", tag = "publishing",
    extensions(("x-cairn-role" = json!("maintainer"))),
    request_body = PublisherRequest,
    responses(
        (status = 201, description = "Created", body = Publisher),
        (status = 403, description = "Role below maintainer, or the publisher's role above the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown claim, no exact identity claim, bad issuer, project or role (see `pointer`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_publisher(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PublisherRequest>,
) -> ApiResult<(StatusCode, Json<Publisher>)> {
    caller.require(Role::Maintainer)?;
    let p = service::create_publisher(&state.pool, &state.config, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// List trusted publishers, oldest first.
#[utoipa::path(
    get, path = "/api/v1/trusted-publishers", tag = "publishing",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<Publisher>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_publishers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Publisher>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let after = page.after::<i64>()?.unwrap_or(0);
    let rows = store::list_publishers(&state.pool, after, limit + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |p| p.id)))
}

/// Get a trusted publisher.
#[utoipa::path(
    get, path = "/api/v1/trusted-publishers/{id}", tag = "publishing",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Publisher id")),
    responses(
        (status = 200, body = Publisher),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_publisher(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Publisher>> {
    caller.require(Role::Viewer)?;
    store::get_publisher(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("there is no trusted publisher {id}")))
}

/// Delete a trusted publisher; the tokens it issued are revoked at once.
#[utoipa::path(
    delete, path = "/api/v1/trusted-publishers/{id}", tag = "publishing",
    extensions(("x-cairn-role" = json!("maintainer"))),
    params(("id" = i64, Path, description = "Publisher id")),
    responses(
        (status = 204, description = "Deleted, its tokens revoked"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_publisher(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Maintainer)?;
    service::delete_publisher(&state.pool, id).await?;
    tracing::info!(
        publisher = id,
        by = caller.token_id,
        "trusted publisher deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// An issuer's signing keys, configured offline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwksRequest {
    /// The issuer (`iss`) the keys sign for.
    #[schema(max_length = 512)]
    pub issuer: String,
    /// Its JWK Set (`{"keys": [...]}`): RSA (at least 2048 bits) or EC
    /// P-256 public keys, at most 32.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
}

/// Set an issuer's signing keys (replacing any stored ones).
///
/// For servers without network access: copy the issuer's JWK Set (e.g.
/// `https://token.actions.githubusercontent.com/.well-known/jwks`) here.
/// Keys configured this way are never replaced by fetched ones.
#[utoipa::path(
    post, path = "/api/v1/oidc/jwks", tag = "publishing",
    extensions(("x-cairn-role" = json!("admin"))),
    request_body = JwksRequest,
    responses(
        (status = 200, description = "Stored", body = IssuerKeys),
        (status = 422, description = "Not a JWK Set of accepted public keys, or not an https issuer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_jwks(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<JwksRequest>,
) -> ApiResult<Json<IssuerKeys>> {
    caller.require(Role::Admin)?;
    let keys = service::put_jwks(&state.pool, &req.issuer, &req.jwks, "api").await?;
    tracing::info!(issuer = %req.issuer, by = caller.token_id, "issuer keys set");
    Ok(Json(keys))
}

/// List the issuers' stored keys.
#[utoipa::path(
    get, path = "/api/v1/oidc/jwks", tag = "publishing",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<IssuerKeys>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_jwks(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<IssuerKeys>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let after = page.after::<String>()?.unwrap_or_default();
    let rows = store::list_jwks(&state.pool, &after, limit + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |k| k.issuer.clone())))
}

/// An ID token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The pipeline's OIDC ID token (a JWT).
    #[schema(min_length = 1, max_length = 16384)]
    pub token: String,
}

/// Exchange a CI pipeline's OIDC ID token for a short-lived Cairn token.
///
/// No Cairn token needed: the ID token is the credential. It must be signed
/// (RS256 or ES256) by a key of its issuer, carry the audience and satisfy
/// the claim constraints of a trusted publisher, be within its `nbf`/`exp`
/// (60 s leeway), and never have been exchanged before (`jti`). The token
/// issued expires after CAIRN_OIDC_TOKEN_TTL (at most 15 minutes) and may
/// write only to the publisher's projects. A refusal is a 401 whose detail
/// starts with the failing check (`aud: …`, `repository: …`, `signature: …`);
/// every exchange is audited.
#[utoipa::path(
    post, path = "/api/v1/oidc/token", tag = "publishing",
    extensions(("x-cairn-role" = json!("none"))),
    request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Issued", body = Issued),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Refused: the detail names the failing check", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn exchange(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ExchangeRequest>,
) -> ApiResult<Json<Issued>> {
    Ok(Json(
        service::exchange(&state.pool, &state.config, &req.token).await?,
    ))
}

/// The exchange audit, newest first: every granted and refused exchange
/// (refusals of one check within a minute counted in one row).
#[utoipa::path(
    get, path = "/api/v1/oidc/exchanges", tag = "publishing",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<Exchange>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_exchanges(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Exchange>>> {
    caller.require(Role::Admin)?;
    let limit = page.limit()?;
    let before = page.after::<i64>()?.unwrap_or(i64::MAX);
    let rows = store::list_exchanges(&state.pool, before, limit + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |e| e.id)))
}
