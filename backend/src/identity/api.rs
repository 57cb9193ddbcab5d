//! API token management (admin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery};
use crate::domain::Label;
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::store::{self as tokens, TokenInfo};
use crate::identity::{Caller, Role};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for, e.g. `github-actions payments-api`.
    #[schema(schema_with = crate::domain::label_schema)]
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The secret. Shown this once: Cairn keeps only its hash.
    pub token: String,
}

/// Create an API token.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens",
    extensions(("x-cairn-role" = json!("admin"))),
    request_body = NewToken,
    responses(
        (status = 201, body = CreatedToken),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(Role::Admin)?;
    let name = Label::parse("name", &new.name).map_err(ApiError::bad_request)?;
    let (id, token) = tokens::create(&state.pool, name.as_str(), new.role).await?;
    tracing::info!(
        token_id = id,
        role = new.role.as_str(),
        by = caller.token_id,
        "token created"
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id,
            name: name.as_str().to_owned(),
            role: new.role,
            token,
        }),
    ))
}

/// List API tokens (never their secrets), oldest first, including the
/// short-lived ones trusted publishers' exchanges minted.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<TokenInfo>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<TokenInfo>>> {
    caller.require(Role::Admin)?;
    let limit = page.limit()?;
    let after = page.after::<i64>()?.unwrap_or(0);
    let rows = tokens::list(&state.pool, after, limit + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |t| t.id)))
}

/// Revoke an API token.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if tokens::revoke(&state.pool, id).await? {
        tracing::info!(token_id = id, by = caller.token_id, "token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("there is no token {id}")))
    }
}
