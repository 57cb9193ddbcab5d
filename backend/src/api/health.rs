//! Liveness and readiness probes (no authentication).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)), extensions(("x-cairn-role" = json!("none"))))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    extensions(("x-cairn-role" = json!("none"))),
    responses((status = 200, body = Health), (status = 503, body = Problem, content_type = "application/problem+json"))
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => Ok(Json(Health { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "Not ready",
                "the database does not answer",
            ))
        }
    }
}
