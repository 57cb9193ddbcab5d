//! Signing in with an API token (a session cookie, recorded server-side)
//! and signing out (the session revoked).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::api::extract::ApiQuery;
use crate::error::ApiError;
use crate::identity::store as tokens;
use crate::state::AppState;

use super::{cookie, render, same_origin, WebResult, COOKIE};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
}

/// Only local absolute paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/ui",
    }
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
}
