//! axum extractors whose rejections are problem+json like every other error.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

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
        let (parts, body) = req.into_parts();
        let bytes =
            match axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    return Err(
                        ApiError::bad_request(format!("JSON body: {}", e.body_text()))
                            .with_status(e.status()),
                    )
                }
            };
        if has_nul_escape(&bytes) {
            return Err(ApiError::bad_request(
                "JSON body: strings must not contain NUL characters (\\u0000)",
            ));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| {
                let status = e.status();
                ApiError::bad_request(format!("JSON body: {}", e.body_text())).with_status(status)
            })
    }
}

/// Whether JSON text holds the escape `\u0000` (a NUL in a string): an
/// `u0000` preceded by an odd run of backslashes.
fn has_nul_escape(json: &[u8]) -> bool {
    json.windows(5).enumerate().any(|(i, w)| {
        w == b"u0000" && json[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_escapes_are_found_and_escaped_backslashes_are_not() {
        assert!(super::has_nul_escape(br#"{"a": "x\u0000"}"#));
        assert!(super::has_nul_escape(br#"{"a": "\\\u0000"}"#));
        assert!(!super::has_nul_escape(br#"{"a": "\\u0000"}"#));
        assert!(!super::has_nul_escape(br#"{"a": "u0000"}"#));
    }
}
