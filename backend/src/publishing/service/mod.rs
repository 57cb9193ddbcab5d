//! Trusted publishing's use cases: managing publishers and issuers' keys,
//! and the exchange of an ID token for a short-lived Cairn token.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::core::{self, token, Candidate, Provider, Refusal};
use super::store::{self, IssuerKeys, NewExchange, NewPublisher, Publisher};
use crate::config::Config;
use crate::domain::ProjectName;
use crate::error::{ApiError, ApiResult};
use crate::identity::store::{self as tokens, NewScopedToken};
use crate::identity::{Caller, Role};

/// At most this many project patterns per publisher.
const MAX_PROJECTS: usize = 100;
/// Keys fetched from an issuer's discovery document are fetched again
/// after this long, or sooner (at most every `REFETCH_UNKNOWN_KID`) when a
/// token names a key they lack: the issuer rotated its keys.
const DISCOVERY_TTL: chrono::Duration = chrono::Duration::hours(1);
const REFETCH_UNKNOWN_KID: chrono::Duration = chrono::Duration::minutes(5);
/// Discovery documents and key sets are small.
const MAX_DISCOVERY_BYTES: usize = 256 * 1024;

/// A new trusted publisher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublisherRequest {
    pub provider: Provider,
    /// The ID tokens' `iss`. Default: GitHub's
    /// (`https://token.actions.githubusercontent.com`) or `https://gitlab.com`.
    #[schema(max_length = 512)]
    pub issuer: Option<String>,
    /// The `aud` the ID tokens must carry. Default: CAIRN_OIDC_AUDIENCE.
    #[schema(min_length = 1, max_length = 256)]
    pub audience: Option<String>,
    /// Claim constraints: exact values or `*` globs. GitHub: `repository`,
    /// `repository_owner`, `repository_owner_id`, `repository_id`,
    /// `job_workflow_ref`, `workflow_ref`, `environment`, `ref`, `ref_type`,
    /// `event_name`, `runner_environment`; GitLab: `project_path`,
    /// `project_id`, `namespace_path`, `namespace_id`, `ref`, `ref_type`,
    /// `ref_protected`, `environment`, `environment_protected`,
    /// `ci_config_ref_uri`, `pipeline_source`. One identity claim (GitHub:
    /// `repository`, `repository_id` or `repository_owner_id`; GitLab:
    /// `project_path`, `project_id` or `namespace_id`) must be exact.
    pub claims: BTreeMap<String, String>,
    /// Projects the issued tokens may write to: names or `*` globs.
    #[schema(min_items = 1, max_items = 100)]
    pub projects: Vec<String>,
    /// The issued tokens' role: `viewer`, `uploader` (default) or
    /// `maintainer`; never above the caller's own, never `admin`.
    pub role: Option<Role>,
}

/// A publisher or key set that cannot be accepted (422); `detail` starts
/// with the field at fault (`claims.ref: …`), which becomes the pointer.
fn invalid(detail: String) -> ApiError {
    let field = detail
        .split(':')
        .next()
        .unwrap_or_default()
        .replace('.', "/");
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-trusted-publisher",
        "Invalid trusted publisher or issuer keys",
        detail,
    )
    .with_pointer(Some(format!("/{field}")))
}

fn checked_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("issuer: not a URL: {e}"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if issuer.len() > 512 {
        return Err("issuer: at most 512 characters".into());
    }
    match url.scheme() {
        "https" => Ok(()),
        // Local identity providers and tests only.
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "issuer: {issuer:?} must be an https URL (http only on loopback)"
        )),
    }
}

fn checked_projects(projects: &[String]) -> Result<(), String> {
    if projects.is_empty() || projects.len() > MAX_PROJECTS {
        return Err(format!("projects: 1 to {MAX_PROJECTS} names or globs"));
    }
    for p in projects {
        // A glob is valid when a name it could match is.
        ProjectName::parse(&p.replace('*', "x")).map_err(|e| format!("projects: {p:?}: {e}"))?;
    }
    Ok(())
}

pub async fn create_publisher(
    pool: &PgPool,
    config: &Config,
    caller: &Caller,
    req: PublisherRequest,
) -> ApiResult<Publisher> {
    let issuer = req
        .issuer
        .as_deref()
        .or(req.provider.default_issuer())
        .unwrap_or_default()
        .to_owned();
    let audience = req.audience.unwrap_or_else(|| config.oidc_audience.clone());
    let role = req.role.unwrap_or(Role::Uploader);
    checked_issuer(&issuer).map_err(invalid)?;
    if audience.is_empty() || audience.len() > 256 {
        return Err(invalid("audience: 1 to 256 characters".into()));
    }
    core::check_constraints(req.provider, &req.claims).map_err(invalid)?;
    checked_projects(&req.projects).map_err(invalid)?;
    if role == Role::Admin {
        return Err(invalid(
            "role: a trusted publisher's tokens are never admin (use viewer, uploader or maintainer)"
                .into(),
        ));
    }
    if role > caller.role {
        return Err(ApiError::forbidden(format!(
            "a {} cannot create a publisher whose tokens are {}",
            caller.role.as_str(),
            role.as_str()
        )));
    }
    let publisher = store::insert_publisher(
        pool,
        &NewPublisher {
            provider: req.provider.as_str(),
            issuer: &issuer,
            audience: &audience,
            claims: &req.claims,
            projects: &req.projects,
            role,
            created_by: caller.token_id,
        },
    )
    .await?;
    tracing::info!(publisher = publisher.id, issuer = %issuer, "trusted publisher created");
    Ok(publisher)
}

pub async fn delete_publisher(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    if !store::delete_publisher(&mut tx, id).await? {
        return Err(ApiError::not_found(format!(
            "there is no trusted publisher {id}"
        )));
    }
    tx.commit().await?;
    Ok(())
}

/// Stores an issuer's keys after checking them.
pub async fn put_jwks(
    pool: &PgPool,
    issuer: &str,
    jwks: &serde_json::Value,
    source: &str,
) -> ApiResult<IssuerKeys> {
    checked_issuer(issuer).map_err(invalid)?;
    token::parse_jwks(jwks).map_err(|e| invalid(format!("jwks: {e}")))?;
    Ok(store::put_jwks(pool, issuer, jwks, source).await?)
}

/// One entry of CAIRN_OIDC_JWKS_FILE.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    issuer: String,
    jwks: serde_json::Value,
}

/// Loads CAIRN_OIDC_JWKS_FILE (a JSON array of `{"issuer", "jwks"}`) at
/// start; a bad file stops the start with a message naming the entry.
pub async fn load_jwks_file(pool: &PgPool, path: &std::path::Path) -> anyhow::Result<usize> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("CAIRN_OIDC_JWKS_FILE {}: {e}", path.display()))?;
    let entries: Vec<FileEntry> = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "CAIRN_OIDC_JWKS_FILE {}: expected [{{\"issuer\": …, \"jwks\": {{\"keys\": […]}}}}]: {e}",
            path.display()
        )
    })?;
    for (i, e) in entries.iter().enumerate() {
        put_jwks(pool, &e.issuer, &e.jwks, "file")
            .await
            .map_err(|err| {
                anyhow::anyhow!("CAIRN_OIDC_JWKS_FILE entry {i} ({}): {err}", e.issuer)
            })?;
    }
    Ok(entries.len())
}

/// What the pipeline gets.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    /// A Cairn API token (`cairn_…`), shown once.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The projects it may write to.
    pub projects: Vec<String>,
    #[schema(value_type = Role)]
    pub role: String,
    /// The publisher whose constraints the ID token met.
    pub publisher_id: i64,
}

/// Exchanges a pipeline's ID token for a short-lived Cairn token. Every
/// outcome is audited; a refusal is a 401 naming the failing check.
pub async fn exchange(pool: &PgPool, config: &Config, id_token: &str) -> ApiResult<Issued> {
    match try_exchange(pool, config, id_token).await? {
        Ok(issued) => Ok(issued),
        Err(refused) => {
            tracing::warn!(
                check = %refused.refusal.check,
                reason = %refused.refusal.reason,
                issuer = refused.issuer.as_deref().unwrap_or("(untrusted)"),
                "OIDC token exchange refused"
            );
            store::audit(
                pool,
                &NewExchange {
                    issuer: refused.issuer.as_deref(),
                    subject: refused.subject.as_deref(),
                    granted: false,
                    check_failed: Some(&refused.refusal.check),
                    reason: Some(refused.audit_reason.unwrap_or(&refused.refusal.reason)),
                    publisher_id: None,
                    token_id: None,
                    claims: refused.claims.as_ref(),
                },
            )
            .await?;
            Err(ApiError::unauthorized(format!(
                "{}: {}",
                refused.refusal.check, refused.refusal.reason
            )))
        }
    }
}

/// A refusal and what may be recorded of the token.
struct Refused {
    refusal: Refusal,
    /// What the audit says instead of the refusal's reason, when that
    /// quotes an untrusted caller's text.
    audit_reason: Option<&'static str>,
    /// Only an issuer some publisher trusts.
    issuer: Option<String>,
    /// Only after the signature verified.
    subject: Option<String>,
    claims: Option<serde_json::Value>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Refused {
            refusal,
            audit_reason: None,
            issuer: None,
            subject: None,
            claims: None,
        }
    }
}

async fn try_exchange(
    pool: &PgPool,
    config: &Config,
    id_token: &str,
) -> ApiResult<Result<Issued, Refused>> {
    let unverified = match token::peek(id_token) {
        Ok(u) => u,
        Err(r) => return Ok(Err(r.into())),
    };
    let publishers = store::publishers_of(pool, &unverified.issuer).await?;
    if publishers.is_empty() {
        return Ok(Err(Refused {
            audit_reason: Some("no trusted publisher trusts the token's issuer"),
            ..Refusal::new(
                "iss",
                format!("no trusted publisher trusts issuer {:?}", unverified.issuer),
            )
            .into()
        }));
    }
    let issuer = unverified.issuer;
    let with_issuer = |refusal: Refusal| Refused {
        refusal,
        audit_reason: None,
        issuer: Some(issuer.clone()),
        subject: None,
        claims: None,
    };
    let kid = match token::key_id(id_token) {
        Ok((_, kid)) => kid,
        Err(r) => return Ok(Err(with_issuer(r))),
    };
    let jwks = match keys_for(pool, config, &issuer, kid.as_deref()).await? {
        Ok(jwks) => jwks,
        Err(r) => return Ok(Err(with_issuer(r))),
    };
    let now = Utc::now();
    let verified = match token::verify(id_token, &issuer, &jwks, now.timestamp()) {
        Ok(v) => v,
        Err(r) => return Ok(Err(with_issuer(r))),
    };
    let claims_json = serde_json::Value::Object(verified.claims.clone());
    let verified_refusal = |refusal: Refusal| Refused {
        refusal,
        audit_reason: None,
        issuer: Some(issuer.clone()),
        subject: verified.subject.clone(),
        claims: Some(claims_json.clone()),
    };
    let candidates: Vec<Candidate<'_>> = publishers
        .iter()
        .map(|p| Candidate {
            id: p.id,
            audience: &p.audience,
            claims: &p.claims.0,
        })
        .collect();
    let chosen = match core::choose(&candidates, &verified.audiences, &verified.claims) {
        Ok(id) => id,
        Err(r) => return Ok(Err(verified_refusal(r))),
    };
    let publisher = publishers
        .iter()
        .find(|p| p.id == chosen)
        .expect("chosen among them");
    let role = Role::parse(&publisher.role).unwrap_or(Role::Viewer);
    let expires_at = now + chrono::Duration::seconds(config.oidc_token_ttl_secs as i64);
    let id_token_expires = DateTime::from_timestamp(verified.expires, 0).unwrap_or(now);
    let name: String = format!(
        "{} {}",
        publisher.provider,
        verified.subject.as_deref().unwrap_or("(no sub)")
    )
    .chars()
    .take(200)
    .collect();

    let mut tx = pool.begin().await?;
    if !store::use_token_id(&mut tx, &issuer, &verified.jti, id_token_expires).await? {
        tx.rollback().await?;
        return Ok(Err(verified_refusal(Refusal::new(
            "jti",
            format!("this ID token ({:?}) was already exchanged", verified.jti),
        ))));
    }
    let (token_id, secret) = tokens::create_scoped(
        &mut *tx,
        &NewScopedToken {
            name: &name,
            role,
            projects: &publisher.projects,
            expires_at,
            publisher_id: publisher.id,
            claims: &claims_json,
        },
    )
    .await?;
    store::audit(
        &mut *tx,
        &NewExchange {
            issuer: Some(&issuer),
            subject: verified.subject.as_deref(),
            granted: true,
            check_failed: None,
            reason: None,
            publisher_id: Some(publisher.id),
            token_id: Some(token_id),
            claims: Some(&claims_json),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        publisher = publisher.id,
        token = token_id,
        subject = verified.subject.as_deref().unwrap_or(""),
        "OIDC token exchanged"
    );
    Ok(Ok(Issued {
        token: secret,
        expires_at,
        projects: publisher.projects.clone(),
        role: role.as_str().to_owned(),
        publisher_id: publisher.id,
    }))
}

/// The issuer's keys: stored ones, or with CAIRN_OIDC_FETCH_JWKS those of
/// its discovery document, fetched when none are stored, when they are
/// older than an hour, or when the token names a key they lack.
async fn keys_for(
    pool: &PgPool,
    config: &Config,
    issuer: &str,
    kid: Option<&str>,
) -> ApiResult<Result<JwkSet, Refusal>> {
    let stored = store::jwks(pool, issuer).await?;
    let usable = stored
        .as_ref()
        .and_then(|s| token::parse_jwks(&s.jwks).ok().map(|j| (s, j)));
    let offline = stored.as_ref().is_some_and(|s| s.source != "discovery");
    let now = Utc::now();
    let fetch = config.oidc_fetch_jwks
        && !offline
        && match &usable {
            None => true,
            Some((s, jwks)) => {
                now - s.updated_at > DISCOVERY_TTL
                    || (!token::has_key(jwks, kid) && now - s.updated_at > REFETCH_UNKNOWN_KID)
            }
        };
    if fetch {
        match fetch_jwks(issuer).await {
            Ok(jwks) => {
                store::put_jwks(pool, issuer, &jwks, "discovery").await?;
                return Ok(token::parse_jwks(&jwks).map_err(|e| Refusal::new("kid", e)));
            }
            Err(e) => {
                tracing::warn!(issuer, error = %e, "fetching the issuer's keys failed");
                if usable.is_none() {
                    return Ok(Err(Refusal::new(
                        "kid",
                        format!("the keys of issuer {issuer} cannot be fetched: {e}"),
                    )));
                }
            }
        }
    }
    Ok(usable.map(|(_, j)| j).ok_or_else(|| {
        Refusal::new(
            "kid",
            format!(
                "no keys are configured for issuer {issuer} (POST /api/v1/oidc/jwks, \
                 CAIRN_OIDC_JWKS_FILE, or CAIRN_OIDC_FETCH_JWKS=true)"
            ),
        )
    }))
}

/// `{issuer}/.well-known/openid-configuration` → `jwks_uri` → the key set.
/// Only issuers a publisher trusts get here; no redirects are followed.
async fn fetch_jwks(issuer: &str) -> Result<serde_json::Value, String> {
    let tls = crate::outbound::tls().ok_or("TLS is not available")?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("Cairn/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let get = |url: String| {
        let client = client.clone();
        async move {
            let mut res = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !res.status().is_success() {
                return Err(format!("{url}: HTTP {}", res.status()));
            }
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| format!("{url}: {e}"))? {
                if body.len() + chunk.len() > MAX_DISCOVERY_BYTES {
                    return Err(format!("{url}: larger than {MAX_DISCOVERY_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice::<serde_json::Value>(&body)
                .map_err(|e| format!("{url}: not JSON: {e}"))
        }
    };
    let discovery = get(format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
    .await?;
    if discovery["issuer"].as_str() != Some(issuer) {
        return Err("the discovery document names another issuer".into());
    }
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or("the discovery document has no jwks_uri")?;
    checked_issuer(jwks_uri).map_err(|_| format!("jwks_uri {jwks_uri:?} is not https"))?;
    get(jwks_uri.to_owned()).await
}
