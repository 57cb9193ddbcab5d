//! The whole HTTP application: API, dashboard, docs, and the middleware
//! every response goes through.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{api, web};

/// The dashboard's policy: nothing inline, nothing from elsewhere.
const STRICT_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Swagger UI sets element styles from its scripts and shows data: images.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    let docs = SwaggerUi::new("/api/docs").config(SwaggerConfig::from("/api/v1/openapi.json"));
    let x_request_id = header::HeaderName::from_static("x-request-id");
    // Served over HTTPS (CAIRN_COOKIE_SECURE): browsers are told to stay on it.
    let hsts = state.config.cookie_secure;
    Router::new()
        .merge(api::router())
        .merge(web::router())
        .merge(crate::inventory::web::router())
        .merge(crate::sboms::web::router())
        .merge(crate::builds::web::router())
        .merge(crate::go::web::router())
        .merge(crate::ci::web::router())
        .merge(crate::policies::web::router())
        .merge(crate::vulnerabilities::web::router())
        .merge(crate::compliance::web::router())
        .merge(crate::cra::web::router())
        .merge(crate::publishing::web::router())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(state)
        .merge(docs)
        .layer(middleware::from_fn_with_state(hsts, security_headers))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings may carry filters, never
                // logged with their values; tokens travel in headers.
                tracing::info_span!("http", method = %req.method(), path = req.uri().path(), request_id = id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// `Strict-Transport-Security` of an HTTPS deployment: one year.
const HSTS: &str = "max-age=31536000";

/// Headers on every response. `hsts`: Cairn is served over HTTPS
/// (`CAIRN_COOKIE_SECURE=true`), so `Strict-Transport-Security` is sent too.
async fn security_headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if docs { DOCS_CSP } else { STRICT_CSP }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address reaches handlers as ConnectInfo (webhook audit).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
