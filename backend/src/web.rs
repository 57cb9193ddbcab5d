//! The server-rendered dashboard under `/ui`. Works without JavaScript;
//! sessions are a signed JWT in an HttpOnly, SameSite=Strict cookie, each
//! recorded server-side (`sessions`) so that signing out ends it.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::error::ApiError;
use crate::identity::store as tokens;
use crate::identity::Caller;
use crate::inventory::service::{
    artifact_page, find_artifact, find_project, project_page, ArtifactFilter, ProjectFilter,
};
use crate::inventory::store::{ArtifactSummary, ProjectSummary};
use crate::pagination::{Page, PageParams};
use crate::sboms::api::document_response;
use crate::sboms::service::{
    component_page, detail, search_page, ComponentFilter, ComponentSearch, SbomDetail,
};
use crate::sboms::store::components::ComponentHit;
use crate::sboms::store::SbomComponent;
use crate::state::AppState;

const COOKIE: &str = "cairn_session";
const CSS: &str = include_str!("../../frontend/static/cairn.css");
/// Served from the binary: browsers ask every page's origin for it.
const FAVICON: &[u8] = include_bytes!("../../frontend/static/favicon.ico");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(projects))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/projects/{project}", get(project))
        .route("/ui/artifacts/{id}", get(artifact))
        .route("/ui/sboms/{id}/document", get(download))
        .route("/ui/components", get(components))
        .route("/static/cairn.css", get(css))
        .route("/favicon.ico", get(favicon))
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
mod filters {
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

/// Only local absolute paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/ui",
    }
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

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    user: Option<&'a str>,
    next: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
}

async fn login_form(ApiQuery(q): ApiQuery<NextParam>) -> WebResult<Response> {
    render(LoginPage {
        user: None,
        next: safe_next(q.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site sign-in refused").into());
    }
    let next = safe_next(form.next.as_deref());
    let Some(caller) = tokens::authenticate(&state.pool, form.token.trim())
        .await
        .map_err(ApiError::from)?
    else {
        let page = LoginPage {
            user: None,
            next,
            error: Some("That token is not valid. Check it and try again."),
        };
        return Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    };
    let ttl = state.config.session_ttl_secs;
    let (jwt, claims) = state.sessions.issue(caller.token_id, ttl);
    tokens::open_session(&state.pool, &claims.jti, caller.token_id, claims.exp)
        .await
        .map_err(ApiError::from)?;
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{COOKIE}={jwt}; Path=/; HttpOnly; SameSite=Strict; Max-Age={ttl}{secure}");
    tracing::info!(token_id = caller.token_id, "dashboard sign-in");
    let mut res = Redirect::to(next).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ASCII cookie"),
    );
    Ok(res)
}

/// Signs out: the session is revoked server-side (a copy of the cookie is
/// worthless from now on), and the browser is told to drop the cookie.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("cross-site sign-out refused").into());
    }
    if let Some(claims) = cookie(&headers, COOKIE).and_then(|jwt| state.sessions.verify(jwt)) {
        if tokens::revoke_session(&state.pool, &claims.jti)
            .await
            .map_err(ApiError::from)?
        {
            tracing::info!(token_id = claims.sub, "dashboard sign-out");
        }
    }
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cleared = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    let mut res = Redirect::to("/ui/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cleared).expect("ASCII cookie"),
    );
    Ok(res)
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

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage<'a> {
    user: Option<&'a str>,
    q: &'a str,
    page: Page<ProjectSummary>,
}

async fn projects(
    State(state): State<AppState>,
    Session(user): Session,
    ApiQuery(filter): ApiQuery<ProjectFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let page = project_page(&state.pool, &filter, &paging).await?;
    render(ProjectsPage {
        user: Some(&user.name),
        q: filter.q.as_deref().unwrap_or(""),
        page,
    })
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage<'a> {
    user: Option<&'a str>,
    project: ProjectSummary,
    q: &'a str,
    artifacts: Page<ArtifactSummary>,
}

async fn project(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(name): ApiPath<String>,
    ApiQuery(filter): ApiQuery<ArtifactFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let project = find_project(&state.pool, &name).await?;
    let filter = ArtifactFilter {
        project: Some(name),
        q: filter.q,
    };
    let artifacts = artifact_page(&state.pool, &filter, &paging).await?;
    render(ProjectPage {
        user: Some(&user.name),
        project,
        q: filter.q.as_deref().unwrap_or(""),
        artifacts,
    })
}

#[derive(Deserialize)]
struct ArtifactView {
    /// Which of the artifact's SBOMs to show (default: the latest).
    sbom: Option<i64>,
}

#[derive(Template)]
#[template(path = "artifact.html")]
struct ArtifactPage<'a> {
    user: Option<&'a str>,
    artifact: crate::inventory::service::ArtifactDetail,
    sbom: Option<SbomDetail>,
    /// The shown SBOM's stored quality scores (None: not scored yet).
    quality: Option<crate::sboms::core::quality::QualitySummary>,
    q: &'a str,
    kind: &'a str,
    components: Option<Page<SbomComponent>>,
    evidence: crate::attestations::service::Evidence,
    /// The latest Go build info with its cross-check.
    go: Option<crate::go::service::GoBuild>,
    /// Known vulnerabilities, most severe first (all of them: the table
    /// is the artifact's to-do list).
    findings: Vec<crate::vulnerabilities::service::Finding>,
}

async fn artifact(
    State(state): State<AppState>,
    Session(user): Session,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(view): ApiQuery<ArtifactView>,
    ApiQuery(filter): ApiQuery<ComponentFilter>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let artifact = find_artifact(&state.pool, id).await?;
    let chosen = match view.sbom {
        Some(s) if artifact.sboms.iter().any(|x| x.id == s) => Some(s),
        Some(s) => {
            return Err(ApiError::not_found(format!("artifact {id} has no SBOM {s}")).into())
        }
        None => artifact.sboms.first().map(|s| s.id),
    };
    let (sbom, quality, components) = match chosen {
        Some(sid) => (
            Some(detail(&state.pool, sid).await?),
            crate::sboms::store::quality(&state.pool, sid)
                .await
                .map_err(ApiError::from)?,
            Some(component_page(&state.pool, sid, &filter, &paging).await?),
        ),
        None => (None, None, None),
    };
    render(ArtifactPage {
        user: Some(&user.name),
        artifact,
        sbom,
        quality,
        q: filter.q.as_deref().unwrap_or(""),
        kind: filter.kind.as_deref().unwrap_or(""),
        components,
        evidence: crate::attestations::service::evidence_for_artifact(&state.pool, id).await?,
        go: crate::go::service::latest_go_build(&state.pool, id).await?,
        findings: crate::vulnerabilities::service::ranked_findings(&state.pool, id)
            .await
            .map_err(ApiError::from)?,
    })
}

async fn download(
    State(state): State<AppState>,
    Session(_): Session,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> WebResult<Response> {
    Ok(document_response(&state, id, &headers).await?)
}

#[derive(Template)]
#[template(path = "components.html")]
struct ComponentsPage<'a> {
    user: Option<&'a str>,
    purl: &'a str,
    name: &'a str,
    version: &'a str,
    error: Option<String>,
    results: Option<Page<ComponentHit>>,
}

async fn components(
    State(state): State<AppState>,
    Session(user): Session,
    ApiQuery(search): ApiQuery<ComponentSearch>,
    ApiQuery(paging): ApiQuery<PageParams>,
) -> WebResult<Response> {
    let asked = search.purl.as_deref().is_some_and(|s| !s.trim().is_empty())
        || search.name.as_deref().is_some_and(|s| !s.trim().is_empty());
    let (results, error) = if asked {
        match search_page(&state.pool, &search, &paging).await {
            Ok(page) => (Some(page), None),
            Err(e) if e.status() == StatusCode::BAD_REQUEST => (None, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        }
    } else {
        (None, None)
    };
    render(ComponentsPage {
        user: Some(&user.name),
        purl: search.purl.as_deref().unwrap_or(""),
        name: search.name.as_deref().unwrap_or(""),
        version: search.version.as_deref().unwrap_or(""),
        error,
        results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(
            safe_next(Some("/ui/artifacts/3?q=x")),
            "/ui/artifacts/3?q=x"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui");
        assert_eq!(safe_next(Some("//evil.example/ui")), "/ui");
        assert_eq!(safe_next(None), "/ui");
    }

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
