//! The API's one error type and its single mapping to HTTP: every failure
//! becomes an RFC 9457 `application/problem+json` answer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:cairn:problem:<slug>`; stable, one per kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:cairn:problem:invalid-sbom")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// What exactly is wrong with this request.
    pub detail: String,
    /// RFC 6901 JSON pointer into the uploaded document, when it helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    pointer: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.title,
            self.status.as_u16(),
            self.detail
        )
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            slug,
            title,
            detail: detail.into(),
            pointer: None,
        }
    }

    pub fn with_pointer(mut self, pointer: Option<String>) -> Self {
        self.pointer = pointer;
        self
    }

    /// Same problem, another status (e.g. 415 for a JSON body without its
    /// content type).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid request",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Insufficient role",
            detail,
        )
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Upload too large",
            detail,
        )
    }
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type or encoding",
            detail,
        )
    }
    /// A body that is not (well-formed) JSON.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            detail,
        )
    }
    /// An upload that is not a signature or attestation Cairn accepts.
    pub fn invalid_attestation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-attestation",
            "Not a signature or attestation Cairn accepts",
            detail,
        )
    }
    /// A trusted root or public key that cannot be used.
    pub fn invalid_trust_root(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-trust-root",
            "Invalid trusted root or public key",
            detail,
        )
    }
    /// A policy set, rule, waiver or dry-run that cannot be accepted.
    pub fn invalid_policy(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-policy",
            "Invalid policy",
            detail,
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to handle the request; the event is in its log",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // Text PostgreSQL cannot store (NUL in `text`, `\u0000` in `jsonb`)
        // is the client's to fix; the transaction was rolled back.
        if let Some(code) = e.as_database_error().and_then(|d| d.code()) {
            if code == "22021" || code == "22P05" {
                return ApiError::bad_request(
                    "text in the request holds a NUL character (U+0000), which cannot be stored",
                );
            }
        }
        tracing::error!(error = %e, "database error");
        ApiError::internal()
    }
}

impl From<crate::sboms::core::SbomError> for ApiError {
    fn from(e: crate::sboms::core::SbomError) -> Self {
        use crate::sboms::core::SbomErrorKind as K;
        let (status, slug, title) = match e.kind {
            K::Malformed => (StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON"),
            K::MalformedXml => (StatusCode::BAD_REQUEST, "malformed-xml", "Malformed XML"),
            K::NotAnSbom => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-an-sbom",
                "Not a CycloneDX or SPDX document",
            ),
            K::UnsupportedVersion => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported-spec-version",
                "Unsupported SBOM specification version",
            ),
            K::Invalid => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-sbom",
                "Invalid SBOM",
            ),
        };
        ApiError::new(status, slug, title, e.detail).with_pointer(e.pointer)
    }
}

impl From<crate::go::core::buildinfo::BuildInfoError> for ApiError {
    fn from(e: crate::go::core::buildinfo::BuildInfoError) -> Self {
        use crate::go::core::buildinfo::BuildInfoError as E;
        let (slug, title) = match &e {
            E::NotExecutable(_) | E::NotGo(_) => ("not-a-go-binary", "Not a Go binary"),
            E::Truncated(_) => ("truncated-binary", "Truncated binary"),
            E::Unsupported(_) => ("unsupported-go-version", "Unsupported Go version"),
            E::Malformed(_) => ("invalid-build-info", "Invalid Go build info"),
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, slug, title, e.to_string())
    }
}

impl From<crate::vulnerabilities::service::ImportError> for ApiError {
    fn from(e: crate::vulnerabilities::service::ImportError) -> Self {
        use crate::vulnerabilities::service::ImportError as E;
        match e {
            E::Unreadable(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-advisories",
                "Not an advisory feed Cairn reads",
                detail,
            ),
            E::Database(e) => e.into(),
        }
    }
}

impl From<crate::vulnerabilities::service::TriageError> for ApiError {
    fn from(e: crate::vulnerabilities::service::TriageError) -> Self {
        use crate::vulnerabilities::service::TriageError as E;
        match e {
            E::NotFound(detail) => ApiError::not_found(detail),
            E::Invalid(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-triage",
                "Invalid triage decision",
                detail,
            ),
            E::Database(e) => e.into(),
        }
    }
}

impl ApiError {
    /// A go.mod / go.sum / CI definition that cannot be read.
    pub fn invalid_definition(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-definition",
            "Invalid go.mod, go.sum or CI definition",
            detail,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:cairn:problem:{}", self.slug),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            pointer: self.pointer,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
