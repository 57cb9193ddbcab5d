//! axum extractors whose rejections are problem+json like every other
//! error, and the API caller (a Bearer token looked up in
//! `identity::store`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::identity::{store as tokens, Caller};
use crate::state::AppState;

/// Query string parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(parts.uri.query().unwrap_or_default(), "query string")?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::bad_request(format!("query string: {}", e.body_text())))
    }
}

/// Text parameters end up in PostgreSQL `text`, which cannot hold NUL.
fn refuse_nul(raw: &str, what: &str) -> Result<(), ApiError> {
    if raw.contains("%00") {
        return Err(ApiError::bad_request(format!(
            "{what}: parameters must not contain NUL characters (%00)"
        )));
    }
    Ok(())
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(parts.uri.path(), "path")?;
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))
    }
}

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| {
                let status = e.status();
                ApiError::bad_request(format!("JSON body: {}", e.body_text())).with_status(status)
            })
    }
}

/// API callers authenticate with `Authorization: Bearer <token>` only; the
/// session cookie is never accepted here, so cross-site requests cannot
/// ride on a dashboard session.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = match (
            parts.headers.get(header::AUTHORIZATION),
            parts.headers.get("x-api-key"),
        ) {
            (Some(value), _) => value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
                })?,
            // Dependency-Track clients send their API key this way.
            (None, Some(value)) => value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::unauthorized("the X-Api-Key header is empty"))?,
            (None, None) => {
                return Err(ApiError::unauthorized(
                    "missing Authorization: Bearer <token> (or X-Api-Key) header",
                ))
            }
        };
        tokens::authenticate(&state.pool, token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown, expired or revoked token"))
    }
}
