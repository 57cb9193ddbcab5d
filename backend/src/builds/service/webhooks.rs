//! Use cases of webhook sources and deliveries: admitting a delivery on its
//! headers, verifying and storing it, creating sources with sealed
//! secrets, listing and replaying deliveries.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageParams};
use crate::secrets::{self, SecretKey};

use crate::builds::core::{
    audit_address, parse_repository, parse_source_name, verify, Provider,
    GITHUB_BODY_REPLAY_WINDOW_SECS,
};
use crate::builds::store::webhooks::{self as store, DeliveryInfo, NewDelivery, SourceInfo};

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

fn unsealable() -> ApiError {
    tracing::error!(
        "a webhook source secret cannot be unsealed: was CAIRN_SECRET_KEY changed since it was created?"
    );
    ApiError::internal()
}

/// A delivery whose source exists and whose headers could verify: only
/// then is its body read.
pub struct Admitted {
    provider: Provider,
    name: String,
    source: store::SourceSecrets,
    /// GitLab with a signing secret: the signed `webhook-id` is the id.
    signed: bool,
    remote: Option<String>,
    audit_remote: Option<String>,
    now: i64,
}

/// Records a refusal (warned, and audited per address or /64 network).
async fn audit(
    pool: &PgPool,
    provider: Provider,
    name: &str,
    audit_remote: Option<&str>,
    source_id: Option<i64>,
    reason: String,
) -> ApiResult<ApiError> {
    // The name comes from the URL: keep a bounded part of it.
    let name: String = name.chars().take(200).collect();
    tracing::warn!(provider = provider.as_str(), source = %name, remote = ?audit_remote, %reason, "webhook delivery refused");
    store::audit(
        pool,
        provider.as_str(),
        &name,
        source_id,
        audit_remote,
        &reason,
    )
    .await?;
    Ok(refused())
}

/// Looks the source up and makes every check that needs no body (GitHub:
/// `X-Hub-Signature-256` present and well-formed; GitLab:
/// `X-Gitlab-Token`, or the signed form's headers and timestamp).
pub async fn admit(
    pool: &PgPool,
    provider: Provider,
    name: &str,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> ApiResult<Admitted> {
    let remote = peer.map(|ip| ip.to_string());
    let audit_remote = peer.map(audit_address);
    let Some(source) = store::find_source(pool, provider.as_str(), name).await? else {
        let reason = "unknown webhook source".into();
        return Err(audit(pool, provider, name, audit_remote.as_deref(), None, reason).await?);
    };
    let now = chrono::Utc::now().timestamp();
    let token = header(headers, "x-gitlab-token");
    let expected_token = source.token_hash.as_deref().unwrap_or_default();
    let signed = provider == Provider::Gitlab && source.signing_sealed.is_some();
    let early = match provider {
        Provider::Github => verify::check_github_header(header(headers, "x-hub-signature-256")),
        Provider::Gitlab if signed => verify::check_signed_headers(
            header(headers, "webhook-id"),
            header(headers, "webhook-timestamp"),
            header(headers, "webhook-signature"),
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
        let at = audit_remote.as_deref();
        return Err(audit(pool, provider, name, at, Some(source.id), e.to_string()).await?);
    }
    Ok(Admitted {
        provider,
        name: name.to_owned(),
        source,
        signed,
        remote,
        audit_remote,
        now,
    })
}

/// What became of a verified delivery.
pub enum Receipt {
    /// Stored and queued under this id.
    Queued(i64),
    /// This delivery was received already (same delivery id; signed
    /// GitLab: same `webhook-id`; GitHub: same body within 24 hours).
    Duplicate,
}

/// Verifies the signature over the body, then stores the delivery durably
/// for the worker. A verified body that is not JSON is kept as a dead
/// letter and answered 400.
pub async fn accept(
    pool: &PgPool,
    key: &SecretKey,
    admitted: Admitted,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Receipt> {
    let Admitted {
        provider,
        name,
        source,
        signed,
        remote,
        audit_remote,
        now,
    } = admitted;
    let verified = match provider {
        Provider::Github => {
            let sealed = source.secret_sealed.as_deref().unwrap_or_default();
            let secret = key
                .open(&seal_context(provider, &name, "secret"), sealed)
                .ok_or_else(unsealable)?;
            verify::verify_github(&secret, body, header(headers, "x-hub-signature-256"))
        }
        Provider::Gitlab => match &source.signing_sealed {
            Some(sealed) => {
                let secret = key
                    .open(&seal_context(provider, &name, "signing secret"), sealed)
                    .ok_or_else(unsealable)?;
                let secret = String::from_utf8_lossy(&secret);
                verify::verify_gitlab_signed(
                    &secret,
                    header(headers, "webhook-id"),
                    header(headers, "webhook-timestamp"),
                    header(headers, "webhook-signature"),
                    body,
                    now,
                )
            }
            // The token was checked on admission.
            None => Ok(()),
        },
    };
    if let Err(e) = verified {
        let at = audit_remote.as_deref();
        return Err(audit(pool, provider, &name, at, Some(source.id), e.to_string()).await?);
    }

    let event = match provider {
        Provider::Github => header(headers, "x-github-event"),
        Provider::Gitlab => header(headers, "x-gitlab-event"),
    }
    .unwrap_or("unknown")
    .chars()
    .take(100)
    .collect::<String>();
    let body_sha256 = Sha256::digest(body);
    let delivery_id = if signed {
        // The signature covers webhook-id, not X-Gitlab-Event-UUID or
        // Idempotency-Key: a replay inside the signature's window may change
        // those at will, so the signed id is the delivery id.
        let id = header(headers, "webhook-id").unwrap_or_default();
        if id.len() <= 200 {
            id.to_owned()
        } else {
            format!("webhook-id-sha256:{}", hex::encode(Sha256::digest(id)))
        }
    } else {
        let id = match provider {
            Provider::Github => header(headers, "x-github-delivery"),
            Provider::Gitlab => header(headers, "x-gitlab-event-uuid")
                .or_else(|| header(headers, "idempotency-key"))
                .or_else(|| header(headers, "webhook-id")),
        };
        match id {
            Some(id) if id.len() <= 200 => id.to_owned(),
            // No usable id: the content itself identifies the delivery.
            _ => format!("sha256:{}", hex::encode(body_sha256)),
        }
    };

    let malformed = serde_json::from_slice::<serde::de::IgnoredAny>(body).err();
    let new = NewDelivery {
        source_id: source.id,
        delivery_id: &delivery_id,
        event: &event,
        body,
        body_sha256: &body_sha256,
        // GitHub signs the body alone: the same body under a new
        // X-GitHub-Delivery is a replay.
        body_replay_window_secs: (provider == Provider::Github)
            .then_some(GITHUB_BODY_REPLAY_WINDOW_SECS),
        remote_addr: remote,
        status: if malformed.is_some() {
            "dead"
        } else {
            "queued"
        },
        error: malformed.as_ref().map(|e| format!("malformed JSON: {e}")),
    };
    let stored = store::insert_delivery(pool, new).await?;
    if let Some(e) = malformed {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            format!("the delivery is not JSON ({e}); it is kept as a dead letter"),
        ));
    }
    Ok(stored.map_or(Receipt::Duplicate, Receipt::Queued))
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

/// Validates and stores a new source (API and dashboard).
pub async fn new_source(
    pool: &PgPool,
    key: &SecretKey,
    new: NewSource,
) -> ApiResult<CreatedSource> {
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
            let sealed = key.seal(&seal_context(p, &name, "secret"), secret.as_bytes());
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
                Some(s) => Some(key.seal(&seal_context(p, &name, "signing secret"), s.as_bytes())),
            };
            (None, Some(verify::hash_token(&secret)), signing)
        }
    };
    let created = store::create_source(
        pool,
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

/// A page of sources, oldest first.
pub async fn source_page(pool: &PgPool, page: &PageParams) -> ApiResult<Page<SourceInfo>> {
    let limit = page.limit()?;
    let after = page.after::<i64>()?.unwrap_or(0);
    let rows = store::list_sources(pool, after, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |s| s.id))
}

/// A page of deliveries, newest first, by status and source.
pub async fn delivery_page(
    pool: &PgPool,
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
    let rows = store::list_deliveries(pool, status, source, before, limit).await?;
    Ok(Page::from_rows(rows, limit, |d| d.id))
}

/// A delivery with its raw payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryInfo,
    /// The raw payload: JSON as received, or the body as text when it is not JSON.
    pub payload: serde_json::Value,
}

/// The delivery `id` with its payload.
pub async fn delivery_detail(pool: &PgPool, id: i64) -> ApiResult<DeliveryDetail> {
    let (delivery, body) = store::get_delivery(pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no delivery {id}")))?;
    let payload = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
    Ok(DeliveryDetail { delivery, payload })
}

/// Queues a dead letter again (API and dashboard).
pub async fn replay_dead(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
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
