//! The server-rendered dashboard under `/ui`, shared by every capability's
//! pages (`<capability>/web.rs`): one `render`, one error page, the
//! `Session` extractor (a signed-in user), the askama filters, the
//! same-origin check for forms, the stylesheet and icon. Works without
//! JavaScript; sessions are a signed JWT in an HttpOnly, SameSite=Strict
//! cookie, each recorded server-side (`sessions`) so that signing out ends
//! it (`session.rs`: sign-in and sign-out).
//!
//! May import: `identity` (sessions), `error`, `state`, `attestations`
//! (the filters' record type). Capabilities import this module, never each
//! other's pages.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::identity::store as tokens;
use crate::identity::Caller;
use crate::state::AppState;

mod session;

const COOKIE: &str = "cairn_session";
const CSS: &str = include_str!("../../../frontend/static/cairn.css");
/// Served from the binary: browsers ask every page's origin for it.
const FAVICON: &[u8] = include_bytes!("../../../frontend/static/favicon.ico");

/// The dashboard's own routes: the entry, sign-in and sign-out, assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/static/cairn.css", get(css))
        .route("/favicon.ico", get(favicon))
        .merge(session::router())
}

/// A dashboard failure, shown as a page.
pub struct WebError(ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError(e)
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template rendering failed");
        WebError(ApiError::internal())
    }
}

/// The pages' askama filters: `{{ a|evidence_time }}`, `{{ a.kind|kind_label }}`.
pub(crate) mod filters {
    use std::borrow::Borrow;

    use askama::{Result, Values};

    use crate::attestations::core::Kind;
    use crate::attestations::store::AttestationRecord;

    /// When an attestation happened (its log time, else its upload), UTC.
    pub fn evidence_time(a: &impl Borrow<AttestationRecord>, _: &dyn Values) -> Result<String> {
        let a = a.borrow();
        Ok(a.rekor_integrated_time
            .unwrap_or(a.uploaded_at)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string())
    }

    /// An attestation kind as people name it.
    pub fn kind_label(kind: &str, _: &dyn Values) -> Result<&'static str> {
        Ok(match kind {
            k if k == Kind::SigstoreBundle.as_str() => "Sigstore bundle",
            k if k == Kind::CosignBundle.as_str() => "cosign bundle",
            k if k == Kind::Dsse.as_str() => "DSSE envelope",
            _ => "detached signature",
        })
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    user: Option<&'a str>,
    status: u16,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            user: None,
            status: status.as_u16(),
            message: self.0.to_string(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.0.to_string()).into_response(),
        }
    }
}

pub(crate) type WebResult<T> = Result<T, WebError>;

pub(crate) fn render(t: impl Template) -> WebResult<Response> {
    Ok(Html(t.render()?).into_response())
}

/// A signed-in dashboard user; anyone else is sent to the sign-in page.
pub struct Session(pub Caller);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let claims = cookie(&parts.headers, COOKIE).and_then(|jwt| state.sessions.verify(jwt));
        // A well-signed cookie is not enough: its session must still be open.
        let caller = match claims {
            Some(c) => tokens::session_caller(&state.pool, &c.jti, c.sub)
                .await
                .map_err(|e| WebError(e.into()).into_response())?,
            None => None,
        };
        caller.map(Session).ok_or_else(|| {
            let next = parts.uri.path_and_query().map_or("/ui", |p| p.as_str());
            Redirect::to(&format!("/ui/login?next={}", urlencode(next))).into_response()
        })
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// State-changing forms must come from this site: the SameSite=Strict
/// cookie already stops cross-site posts; this also refuses requests that a
/// browser marks as cross-site (Fetch Metadata), or whose Origin is foreign.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    let Some(origin) = get("origin") else {
        return true;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host.is_some() && origin_host == get("host")
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_and_encoding() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cairn_session=abc.def; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("abc.def"));
        assert_eq!(urlencode("acme/api x"), "acme%2Fapi%20x");
    }
}
