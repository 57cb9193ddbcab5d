//! The SBOM pages: an SBOM's original document, and the portfolio's
//! component search.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

use super::api::document_response;
use super::service::{search_page, ComponentSearch};
use super::store::components::ComponentHit;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/sboms/{id}/document", get(download))
        .route("/ui/components", get(components))
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
