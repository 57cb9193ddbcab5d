//! Dashboard: `/ui/publishers`, the trusted publishers and, for admins,
//! the latest exchanges (granted and refused, with the failing check).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::SecondsFormat;

use super::store::{self, Exchange, Publisher};
use crate::error::ApiError;
use crate::identity::Role;
use crate::state::AppState;
use crate::web::{render, Session, WebResult};

pub fn router() -> Router<AppState> {
    Router::new().route("/ui/publishers", get(publishers))
}

/// How many of each the page shows (the API pages through all).
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "publishers.html")]
struct PublishersPage<'a> {
    user: Option<&'a str>,
    publishers: Vec<Publisher>,
    /// `None`: the caller may not read the audit (admins only).
    exchanges: Option<Vec<Exchange>>,
}

impl PublishersPage<'_> {
    fn time(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

async fn publishers(State(state): State<AppState>, Session(user): Session) -> WebResult<Response> {
    user.require(Role::Viewer)?;
    let publishers = store::list_publishers(&state.pool, 0, SHOWN)
        .await
        .map_err(ApiError::from)?;
    let exchanges = if user.role >= Role::Admin {
        Some(
            store::list_exchanges(&state.pool, i64::MAX, SHOWN)
                .await
                .map_err(ApiError::from)?,
        )
    } else {
        None
    };
    render(PublishersPage {
        user: Some(&user.name),
        publishers,
        exchanges,
    })
}
