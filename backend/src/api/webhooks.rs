//! Webhook receiving (`POST /webhooks/{provider}/{source}`) and the admin
//! API of sources, deliveries, dead letters and the security audit.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::store::webhooks::{self as store, AuditEntry, DeliveryInfo, NewDelivery, SourceInfo};
use crate::webhooks::{parse_repository, parse_source_name, secrets, verify, Provider};

/// The answer to a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAck {
    /// `queued` (202) or `duplicate` (200: this delivery id — signed GitLab:
    /// this `webhook-id`; GitHub: also this body, within 24 hours — was
    /// already received).
    pub status: &'static str,
    /// The stored delivery's id (absent for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Context binding a sealed secret to its source.
fn seal_context(provider: Provider, name: &str, what: &str) -> String {
    format!("cairn webhook {what} {}/{name}", provider.as_str())
}

/// The one answer an unverified delivery gets (the audit says why).
fn refused() -> ApiError {
    ApiError::unauthorized("the delivery could not be verified for this webhook source")
}

/// The address a refusal is audited under: IPv4 as it is, IPv6 as its /64
/// network (one host commonly holds a whole /64, so per-address rows would
/// let one sender grow the audit at will).
fn audit_address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// Receive a webhook delivery.
///
/// The source is looked up and every check that needs no body is made
/// (GitHub: `X-Hub-Signature-256` present and well-formed; GitLab:
/// `X-Gitlab-Token`, or the signed form's headers and timestamp) before the
/// body is read; then the signature over the body is verified, and the
/// delivery stored durably and processed asynchronously. Duplicates — the
/// same delivery id (signed GitLab: the signed `webhook-id`), or for GitHub
/// the same body within 24 hours — answer 200 and store nothing.
#[utoipa::path(
    post, path = "/webhooks/{provider}/{source}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("none"))),
    params(
        ("provider" = String, Path, description = "`github` or `gitlab`"),
        ("source" = String, Path, description = "Webhook source name"),
    ),
    request_body(content = String, description = "The provider's JSON payload, byte for byte", content_type = "application/json"),
    responses(
        (status = 202, body = DeliveryAck, description = "Stored and queued"),
        (status = 200, body = DeliveryAck, description = "Already received (same delivery id; signed GitLab: same webhook-id; GitHub: same body within 24 h)"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "Verified but not JSON: kept as a dead letter"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unknown source or failed verification (audited); refused before the body is read when the headers suffice"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath((provider, name)): ApiPath<(String, String)>,
    req: Request,
) -> ApiResult<(StatusCode, Json<DeliveryAck>)> {
    let provider = Provider::parse(&provider)
        .ok_or_else(|| ApiError::not_found(format!("no webhook provider {provider:?}")))?;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let remote = peer.map(|ip| ip.to_string());
    let audit_remote = peer.map(audit_address);
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let audit = |source_id: Option<i64>, reason: String| {
        // The name comes from the URL: keep a bounded part of it.
        let name: String = name.chars().take(200).collect();
        let (pool, remote) = (state.pool.clone(), audit_remote.clone());
        async move {
            tracing::warn!(provider = provider.as_str(), source = %name, remote = ?remote, %reason, "webhook delivery refused");
            store::audit(
                &pool,
                provider.as_str(),
                &name,
                source_id,
                remote.as_deref(),
                &reason,
            )
            .await
        }
    };

    // Nothing of the body is read until the source exists and the headers
    // could verify.
    let Some(source) = store::find_source(&state.pool, provider.as_str(), &name).await? else {
        audit(None, "unknown webhook source".into()).await?;
        return Err(refused());
    };
    let now = chrono::Utc::now().timestamp();
    let token = header(&headers, "x-gitlab-token");
    let expected_token = source.token_hash.as_deref().unwrap_or_default();
    let signed = provider == Provider::Gitlab && source.signing_sealed.is_some();
    let early = match provider {
        Provider::Github => verify::check_github_header(header(&headers, "x-hub-signature-256")),
        Provider::Gitlab if signed => verify::check_signed_headers(
            header(&headers, "webhook-id"),
            header(&headers, "webhook-timestamp"),
            header(&headers, "webhook-signature"),
            now,
        )
        .and_then(|()| match token {
            // A token sent along must be the right one too.
            Some(_) => verify::verify_gitlab_token(expected_token, token),
            None => Ok(()),
        }),
        Provider::Gitlab => verify::verify_gitlab_token(expected_token, token),
    };
    if let Err(e) = early {
        audit(Some(source.id), e.to_string()).await?;
        return Err(refused());
    }
    let body = read_body(&headers, body, state.config.webhook_max_body).await?;

    let verified = match provider {
        Provider::Github => {
            let sealed = source.secret_sealed.as_deref().unwrap_or_default();
            let secret = state
                .secret_key
                .open(&seal_context(provider, &name, "secret"), sealed)
                .ok_or_else(unsealable)?;
            verify::verify_github(&secret, &body, header(&headers, "x-hub-signature-256"))
        }
        Provider::Gitlab => match &source.signing_sealed {
            Some(sealed) => {
                let secret = state
                    .secret_key
                    .open(&seal_context(provider, &name, "signing secret"), sealed)
                    .ok_or_else(unsealable)?;
                let secret = String::from_utf8_lossy(&secret);
                verify::verify_gitlab_signed(
                    &secret,
                    header(&headers, "webhook-id"),
                    header(&headers, "webhook-timestamp"),
                    header(&headers, "webhook-signature"),
                    &body,
                    now,
                )
            }
            // The token was checked above.
            None => Ok(()),
        },
    };
    if let Err(e) = verified {
        audit(Some(source.id), e.to_string()).await?;
        return Err(refused());
    }

    let event = match provider {
        Provider::Github => header(&headers, "x-github-event"),
        Provider::Gitlab => header(&headers, "x-gitlab-event"),
    }
    .unwrap_or("unknown")
    .chars()
    .take(100)
    .collect::<String>();
    let body_sha256 = Sha256::digest(&body);
    let delivery_id = if signed {
        // The signature covers webhook-id, not X-Gitlab-Event-UUID or
        // Idempotency-Key: a replay inside the signature's window may change
        // those at will, so the signed id is the delivery id.
        let id = header(&headers, "webhook-id").unwrap_or_default();
        if id.len() <= 200 {
            id.to_owned()
        } else {
            format!("webhook-id-sha256:{}", hex::encode(Sha256::digest(id)))
        }
    } else {
        let id = match provider {
            Provider::Github => header(&headers, "x-github-delivery"),
            Provider::Gitlab => header(&headers, "x-gitlab-event-uuid")
                .or_else(|| header(&headers, "idempotency-key"))
                .or_else(|| header(&headers, "webhook-id")),
        };
        match id {
            Some(id) if id.len() <= 200 => id.to_owned(),
            // No usable id: the content itself identifies the delivery.
            _ => format!("sha256:{}", hex::encode(body_sha256)),
        }
    };

    let malformed = serde_json::from_slice::<serde::de::IgnoredAny>(&body).err();
    let new = NewDelivery {
        source_id: source.id,
        delivery_id: &delivery_id,
        event: &event,
        body: &body,
        body_sha256: &body_sha256,
        // GitHub signs the body alone: the same body under a new
        // X-GitHub-Delivery is a replay.
        body_replay_window_secs: (provider == Provider::Github)
            .then_some(crate::webhooks::GITHUB_BODY_REPLAY_WINDOW_SECS),
        remote_addr: remote.clone(),
        status: if malformed.is_some() {
            "dead"
        } else {
            "queued"
        },
        error: malformed.as_ref().map(|e| format!("malformed JSON: {e}")),
    };
    let stored = store::insert_delivery(&state.pool, new).await?;
    if let Some(e) = malformed {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            format!("the delivery is not JSON ({e}); it is kept as a dead letter"),
        ));
    }
    Ok(match stored {
        Some(id) => (
            StatusCode::ACCEPTED,
            Json(DeliveryAck {
                status: "queued",
                id: Some(id),
            }),
        ),
        None => (
            StatusCode::OK,
            Json(DeliveryAck {
                status: "duplicate",
                id: None,
            }),
        ),
    })
}

fn unsealable() -> ApiError {
    tracing::error!(
        "a webhook source secret cannot be unsealed: was CAIRN_SECRET_KEY changed since it was created?"
    );
    ApiError::internal()
}

async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> ApiResult<bytes::Bytes> {
    let too_large = || {
        ApiError::too_large(format!(
            "webhook deliveries are limited to {max} bytes (CAIRN_WEBHOOK_MAX_BODY)"
        ))
    };
    // A declared length over the limit is refused without reading.
    let declared = header(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::bad_request(format!("cannot read the body: {e}"))),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    pub provider: Provider,
    /// Part of the webhook URL: letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// GitHub: the webhook secret (HMAC key). GitLab: the secret token.
    /// Omit to have Cairn generate one.
    pub secret: Option<String>,
    /// GitLab only: the signing secret (`whsec_...`); when set, deliveries
    /// must carry a valid `webhook-signature`.
    pub signing_secret: Option<String>,
    /// Repositories (`owner/name`) the source may feed; omit for all.
    pub repositories: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSource {
    #[serde(flatten)]
    pub source: SourceInfo,
    /// Where the provider must send deliveries.
    pub webhook_path: String,
    /// The secret. Shown this once.
    pub secret: String,
}

/// Create a webhook source (admin).
#[utoipa::path(
    post, path = "/api/v1/webhook-sources", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    request_body = NewSource,
    responses(
        (status = 201, body = CreatedSource),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSource>,
) -> ApiResult<(StatusCode, Json<CreatedSource>)> {
    caller.require(Role::Admin)?;
    let created = new_source(&state, new).await?;
    tracing::info!(
        source = created.source.id,
        provider = %created.source.provider,
        by = caller.token_id,
        "webhook source created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// Validates and stores a new source (API and dashboard).
pub async fn new_source(state: &AppState, new: NewSource) -> ApiResult<CreatedSource> {
    let name = parse_source_name(&new.name).map_err(ApiError::bad_request)?;
    let secret = match new.secret {
        Some(s) => {
            if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
                return Err(ApiError::bad_request(
                    "secret must be 1 to 1024 characters without control characters",
                ));
            }
            s
        }
        None => secrets::generate_secret(),
    };
    let repositories = match new.repositories {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(ApiError::bad_request(
                "repositories must not be empty: omit it to accept every repository",
            ))
        }
        Some(list) => Some(
            list.iter()
                .map(|r| parse_repository(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(ApiError::bad_request)?,
        ),
    };
    let p = new.provider;
    let (secret_sealed, token_hash, signing_sealed) = match p {
        Provider::Github => {
            if new.signing_secret.is_some() {
                return Err(ApiError::bad_request(
                    "signing_secret is for GitLab sources; GitHub signs with secret",
                ));
            }
            let sealed = state
                .secret_key
                .seal(&seal_context(p, &name, "secret"), secret.as_bytes());
            (Some(sealed), None, None)
        }
        Provider::Gitlab => {
            let signing = match new.signing_secret.as_deref() {
                None => None,
                Some(s) if s.is_empty() || s.len() > 1024 => {
                    return Err(ApiError::bad_request(
                        "signing_secret must be 1 to 1024 characters",
                    ))
                }
                Some(s) => Some(
                    state
                        .secret_key
                        .seal(&seal_context(p, &name, "signing secret"), s.as_bytes()),
                ),
            };
            (None, Some(verify::hash_token(&secret)), signing)
        }
    };
    let created = store::create_source(
        &state.pool,
        store::NewSource {
            provider: p.as_str(),
            name: &name,
            secret_sealed,
            token_hash,
            signing_sealed,
            repositories,
        },
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(format!(
            "there is already a {} webhook source named {name:?}",
            p.as_str()
        ))
    })?;
    Ok(CreatedSource {
        webhook_path: format!("/webhooks/{}/{}", p.as_str(), created.name),
        source: created,
        secret,
    })
}

/// List webhook sources (admin; never their secrets).
#[utoipa::path(
    get, path = "/api/v1/webhook-sources", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    responses((status = 200, body = Vec<SourceInfo>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_sources(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SourceInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(store::list_sources(&state.pool).await?))
}

/// Delete a webhook source and its deliveries (build records stay).
#[utoipa::path(
    delete, path = "/api/v1/webhook-sources/{id}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Source id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn delete_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if store::delete_source(&state.pool, id).await? {
        tracing::info!(source = id, by = caller.token_id, "webhook source deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "there is no webhook source {id}"
        )))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `queued`, `done`, `ignored` or `dead`.
    pub status: Option<String>,
    /// Only deliveries of this source id.
    pub source: Option<i64>,
}

async fn delivery_page(
    state: &AppState,
    status: Option<&str>,
    source: Option<i64>,
    page: &PageParams,
) -> ApiResult<Page<DeliveryInfo>> {
    if let Some(s) = status {
        if !["queued", "done", "ignored", "dead"].contains(&s) {
            return Err(ApiError::bad_request(format!(
                "status {s:?} is not one of queued, done, ignored, dead"
            )));
        }
    }
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = store::list_deliveries(&state.pool, status, source, before, limit).await?;
    Ok(Page::from_rows(rows, limit, |d| d.id))
}

/// List received deliveries, newest first (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-deliveries", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(DeliveryFilter, PageParams),
    responses((status = 200, body = Page<DeliveryInfo>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DeliveryInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        delivery_page(&state, filter.status.as_deref(), filter.source, &page).await?,
    ))
}

/// Dead letters: deliveries that failed for good, with their error (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-dead-letters", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses((status = 200, body = Page<DeliveryInfo>)),
    security(("bearer" = []))
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DeliveryInfo>>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        delivery_page(&state, Some("dead"), None, &page).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryInfo,
    /// The raw payload: JSON as received, or the body as text when it is not JSON.
    pub payload: serde_json::Value,
}

/// Get a delivery with its raw payload (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-deliveries/{id}", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_delivery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DeliveryDetail>> {
    caller.require(Role::Admin)?;
    let (delivery, body) = store::get_delivery(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no delivery {id}")))?;
    let payload = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
    Ok(Json(DeliveryDetail { delivery, payload }))
}

/// Replay a dead letter: queue it again with fresh attempts (admin).
#[utoipa::path(
    post, path = "/api/v1/webhook-deliveries/{id}/replay", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, body = DeliveryAck, description = "Queued again"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not a dead letter"),
    ),
    security(("bearer" = []))
)]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<DeliveryAck>)> {
    caller.require(Role::Admin)?;
    replay_dead(&state, id).await?;
    tracing::info!(delivery = id, by = caller.token_id, "dead letter replayed");
    Ok((
        StatusCode::ACCEPTED,
        Json(DeliveryAck {
            status: "queued",
            id: Some(id),
        }),
    ))
}

/// Queues a dead letter again (API and dashboard).
pub async fn replay_dead(state: &AppState, id: i64) -> ApiResult<()> {
    let mut tx = state.pool.begin().await?;
    let status = store::requeue_dead(&mut tx, id).await?;
    tx.commit().await?;
    match status.as_deref() {
        None => Err(ApiError::not_found(format!("there is no delivery {id}"))),
        Some("dead") => Ok(()),
        Some(other) => Err(ApiError::conflict(format!(
            "delivery {id} is {other}, not dead: only dead letters can be replayed"
        ))),
    }
}

/// Refused deliveries: unknown source or failed verification (admin).
#[utoipa::path(
    get, path = "/api/v1/webhook-audit", tag = "webhooks",
    extensions(("x-cairn-role" = json!("admin"))),
    params(PageParams),
    responses((status = 200, body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    caller.require(Role::Admin)?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = store::list_audit(&state.pool, before, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |a| a.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_audited_per_ipv4_address_and_ipv6_network() {
        let a = |s: &str| audit_address(s.parse().unwrap());
        assert_eq!(a("203.0.113.7"), "203.0.113.7");
        assert_eq!(a("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(a("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(a("2001:db8:1:2:ffff:1:2:3"), a("2001:db8:1:2::9"));
        assert_ne!(a("2001:db8:1:2::1"), a("2001:db8:1:3::1"));
    }
}
