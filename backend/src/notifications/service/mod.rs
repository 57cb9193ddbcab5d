//! Use cases: managing subscriptions (validated, their secret sealed),
//! queueing notifications in the caller's transaction (so nothing is sent
//! for work that rolls back), test events, the delivery listing and retry.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::{IntoParams, ToSchema};

pub use super::core::Subject;
use super::core::{
    self, payload, target, Event, EventKind, FailingRule, Filter, FindingEvent, Format, GateDenied,
    TestEvent,
};
use super::store::{self, DeliveryRow, NewDeliveries, SubscriptionFields, SubscriptionRow};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageParams};
use crate::policies::service::SetVerdict;
use crate::secrets::SecretKey;
use crate::vulnerabilities::core::severity::Severity;
use crate::vulnerabilities::service::Finding;

// --- subscriptions ------------------------------------------------------------------

/// A notification subscription (its secret is never shown after creation).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = NotificationSubscription)]
pub struct Subscription {
    pub id: i64,
    pub name: String,
    /// Where deliveries are POSTed.
    pub url: String,
    pub format: Format,
    pub events: Vec<EventKind>,
    /// Findings of at least this severity notify (`unknown` is lowest).
    pub min_severity: Severity,
    /// KEV findings notify whatever their severity.
    pub kev: bool,
    /// Only this project's events; null: every project.
    pub project: Option<String>,
    pub enabled: bool,
    /// The token that created it.
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SubscriptionRow> for Subscription {
    fn from(r: SubscriptionRow) -> Self {
        Subscription {
            id: r.id,
            name: r.name,
            url: r.url,
            format: Format::parse(&r.format).unwrap_or_default(),
            events: r
                .events
                .iter()
                .filter_map(|e| EventKind::parse(e))
                .collect(),
            min_severity: Severity::parse(&r.min_severity).unwrap_or(Severity::High),
            kev: r.kev,
            project: r.project,
            enabled: r.enabled,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Subscription {
    fn filter(&self) -> Filter {
        Filter {
            enabled: self.enabled,
            events: self.events.clone(),
            min_severity: self.min_severity,
            kev: self.kev,
            project: self.project.clone(),
        }
    }
}

/// `POST /api/v1/notifications/subscriptions`.
// No `Debug`: it holds the secret, which is never logged.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewNotificationSubscription)]
pub struct NewSubscription {
    /// 1 to 100 characters, unique.
    pub name: String,
    /// An `http` or `https` URL; its host must resolve to public addresses
    /// unless the server allows private targets (`CAIRN_NOTIFY_ALLOW_PRIVATE`).
    pub url: String,
    /// `generic` (default) or `slack`.
    #[serde(default)]
    pub format: Option<Format>,
    /// Default: `finding.appeared` and `gate.denied`.
    #[serde(default)]
    pub events: Option<Vec<EventKind>>,
    /// Default `high`.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Default true: KEV findings notify whatever their severity.
    #[serde(default)]
    pub kev: Option<bool>,
    /// Only this project's events (exact name).
    #[serde(default)]
    pub project: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The HMAC key (16 to 1024 characters); omit to have Cairn generate
    /// one, shown once in the answer.
    #[serde(default)]
    pub secret: Option<String>,
}

/// `PATCH /api/v1/notifications/subscriptions/{id}`: the fields given change.
// No `Debug`: it may hold a new secret.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotificationSubscriptionPatch)]
pub struct SubscriptionPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub format: Option<Format>,
    #[serde(default)]
    pub events: Option<Vec<EventKind>>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    #[serde(default)]
    pub kev: Option<bool>,
    /// A project name, or null for every project.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub project: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new HMAC key (rotation); it is not shown back.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A field that is present (possibly null) is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedNotificationSubscription)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// The generated secret, shown this once; absent when the request gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A subscription that cannot be accepted (422, pointing at the field).
pub fn invalid(pointer: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-subscription",
        "Invalid notification subscription",
        detail,
    )
    .with_pointer(Some(pointer.to_owned()))
}

/// A URL whose host is not a target notifications may go to (422).
pub fn refused_target(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "notification-target-refused",
        "Notification target refused",
        detail,
    )
    .with_pointer(Some("/url".into()))
}

fn text(pointer: &str, v: &str, max: usize) -> ApiResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(invalid(
            pointer,
            format!(
                "{} must be 1 to {max} characters without control characters",
                &pointer[1..]
            ),
        ));
    }
    Ok(t.to_owned())
}

fn events(list: &[EventKind]) -> ApiResult<Vec<String>> {
    if list.is_empty() {
        return Err(invalid(
            "/events",
            "events must name at least one of finding.appeared, gate.denied, cra.case_opened, cra.deadline_approaching",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        if !EventKind::SUBSCRIBABLE.contains(e) {
            return Err(invalid(
                &format!("/events/{i}"),
                format!(
                    "{:?} cannot be subscribed to: use finding.appeared, gate.denied, cra.case_opened or cra.deadline_approaching (test events are sent with POST …/test)",
                    e.as_str()
                ),
            ));
        }
        if !out.iter().any(|o| o == e.as_str()) {
            out.push(e.as_str().to_owned());
        }
    }
    Ok(out)
}

fn secret(s: &str) -> ApiResult<()> {
    if s.len() < 16 || s.len() > 1024 || s.chars().any(char::is_control) {
        return Err(invalid(
            "/secret",
            "secret must be 16 to 1024 characters without control characters",
        ));
    }
    Ok(())
}

/// Resolves a target's host (an IP literal is its own address).
pub async fn resolve(t: &target::Target) -> Result<Vec<SocketAddr>, String> {
    if let Some(ip) = t.ip {
        return Ok(vec![SocketAddr::new(ip, t.port)]);
    }
    let lookup = tokio::net::lookup_host((t.host.as_str(), t.port));
    match tokio::time::timeout(std::time::Duration::from_secs(5), lookup).await {
        Ok(Ok(addrs)) => Ok(addrs.collect()),
        Ok(Err(e)) => Err(format!("cannot resolve host {:?}: {e}", t.host)),
        Err(_) => Err(format!("resolving host {:?} timed out", t.host)),
    }
}

/// Checks a URL as a create or an update does: its form, then the
/// addresses its host resolves to now.
pub async fn check_url(raw: &str, allow_private: bool) -> ApiResult<String> {
    let t = target::parse(raw.trim()).map_err(|e| invalid("/url", e))?;
    let addrs = resolve(&t).await.map_err(refused_target)?;
    target::vet(&t.host, &addrs, allow_private).map_err(refused_target)?;
    Ok(t.url.to_string())
}

fn seal_context(id: i64) -> String {
    format!("notification/{id}")
}

/// Opens a subscription's sealed secret.
pub fn open_secret(key: &SecretKey, id: i64, sealed: &[u8]) -> Option<Vec<u8>> {
    key.open(&seal_context(id), sealed)
}

/// A new random secret.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ntfsec_{}", hex::encode(bytes))
}

pub async fn create(
    pool: &PgPool,
    key: &SecretKey,
    allow_private: bool,
    new: NewSubscription,
    by: i64,
) -> ApiResult<CreatedSubscription> {
    let name = text("/name", &new.name, 100)?;
    let events = events(new.events.as_deref().unwrap_or(&EventKind::DEFAULT))?;
    let project = new
        .project
        .as_deref()
        .map(|p| text("/project", p, 200))
        .transpose()?;
    if let Some(s) = &new.secret {
        secret(s)?;
    }
    let url = check_url(&new.url, allow_private).await?;
    let (shown, secret) = match new.secret {
        Some(s) => (None, s),
        None => {
            let s = generate_secret();
            (Some(s.clone()), s)
        }
    };
    let fields = SubscriptionFields {
        name: &name,
        url: &url,
        format: new.format.unwrap_or_default().as_str(),
        events: &events,
        min_severity: new.min_severity.unwrap_or(Severity::High).as_str(),
        kev: new.kev.unwrap_or(true),
        project: project.as_deref(),
        enabled: new.enabled.unwrap_or(true),
    };
    let mut tx = pool.begin().await?;
    let id = store::next_id(&mut tx).await?;
    let sealed = key.seal(&seal_context(id), secret.as_bytes());
    let row = store::insert(&mut tx, id, &fields, &sealed, by)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(format!("a notification subscription named {name:?} exists"))
        })?;
    tx.commit().await?;
    Ok(CreatedSubscription {
        subscription: row.into(),
        secret: shown,
    })
}

pub async fn get(pool: &PgPool, id: i64) -> ApiResult<Subscription> {
    store::get(pool, id)
        .await?
        .map(Into::into)
        .ok_or_else(|| not_found(id))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no notification subscription {id}"))
}

/// One page of subscriptions, by name.
pub async fn list(pool: &PgPool, page: &PageParams) -> ApiResult<Page<Subscription>> {
    let limit = page.limit()?;
    let rows = store::list(pool, page.after()?, limit + 1).await?;
    let items: Vec<Subscription> = rows.into_iter().map(Into::into).collect();
    Ok(Page::from_rows(items, limit, |s| (s.name.clone(), s.id)))
}

pub async fn update(
    pool: &PgPool,
    key: &SecretKey,
    allow_private: bool,
    id: i64,
    patch: SubscriptionPatch,
) -> ApiResult<Subscription> {
    let name = patch
        .name
        .as_deref()
        .map(|n| text("/name", n, 100))
        .transpose()?;
    let events = patch.events.as_deref().map(events).transpose()?;
    let project = match &patch.project {
        None => None,
        Some(None) => Some(None),
        Some(Some(p)) => Some(Some(text("/project", p, 200)?)),
    };
    if let Some(s) = &patch.secret {
        secret(s)?;
    }
    let url = match &patch.url {
        Some(u) => Some(check_url(u, allow_private).await?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    let old = store::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let name = name.unwrap_or(old.name.clone());
    if store::name_taken(&mut tx, &name, id).await? {
        return Err(ApiError::conflict(format!(
            "a notification subscription named {name:?} exists"
        )));
    }
    let old: Subscription = old.into();
    let events =
        events.unwrap_or_else(|| old.events.iter().map(|e| e.as_str().to_owned()).collect());
    let project = project.unwrap_or(old.project.clone());
    let fields = SubscriptionFields {
        name: &name,
        url: url.as_deref().unwrap_or(&old.url),
        format: patch.format.unwrap_or(old.format).as_str(),
        events: &events,
        min_severity: patch.min_severity.unwrap_or(old.min_severity).as_str(),
        kev: patch.kev.unwrap_or(old.kev),
        project: project.as_deref(),
        enabled: patch.enabled.unwrap_or(old.enabled),
    };
    let sealed = patch
        .secret
        .as_ref()
        .map(|s| key.seal(&seal_context(id), s.as_bytes()));
    let row = store::update(&mut tx, id, &fields, sealed.as_deref()).await?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn delete(pool: &PgPool, id: i64) -> ApiResult<()> {
    if store::delete(pool, id).await? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

// --- queueing --------------------------------------------------------------------

/// A new event id (`evt_` and 32 hex digits).
pub fn event_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

/// Queues each event for every enabled subscription it matches (in the
/// caller's transaction). Returns how many deliveries were queued.
pub async fn enqueue_events(
    conn: &mut PgConnection,
    events: &[Event],
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let subs: Vec<Subscription> = store::enabled(&mut *conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    if subs.is_empty() {
        return Ok(0);
    }
    let mut out = NewDeliveries::default();
    for e in events {
        let id = event_id();
        for s in subs.iter().filter(|s| s.filter().matches(e)) {
            push(&mut out, s, e, &id, now);
        }
    }
    store::enqueue(conn, &out).await?;
    if !out.is_empty() {
        tracing::debug!(deliveries = out.len(), "notifications queued");
    }
    Ok(out.len())
}

fn push(out: &mut NewDeliveries, s: &Subscription, e: &Event, id: &str, now: DateTime<Utc>) {
    out.subscription_id.push(s.id);
    out.event.push(e.kind().as_str().to_owned());
    out.event_id.push(id.to_owned());
    out.payload.push(payload::render(s.format, e, id, now));
}

/// The event of a finding that appeared on `subject`.
pub fn finding_event(subject: &Subject, f: &Finding) -> FindingEvent {
    FindingEvent {
        artifact_id: subject.artifact_id,
        project: subject.project.clone(),
        artifact: subject.artifact.clone(),
        version: subject.version.clone(),
        vulnerability: f.id.clone(),
        aliases: f.aliases.clone(),
        summary: f.summary.clone(),
        purl: if f.purl.is_empty() {
            f.package
                .as_ref()
                .map(|p| format!("{}/{}@{}", p.package_type, p.name, p.version))
                .unwrap_or_default()
        } else {
            f.purl.clone()
        },
        component_version: f.version.clone(),
        severity: f.severity,
        kev: f.kev,
        fixed_versions: f.fixed_versions.clone(),
        state: f.state.as_str().to_owned(),
    }
}

/// Hook: findings that appeared (or reappeared) on an artifact. Those
/// triaged away (`not_affected`, `false_positive`, `fixed`) are not sent.
pub async fn findings_appeared(
    conn: &mut PgConnection,
    subject: &Subject,
    appeared: &[Finding],
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    let events: Vec<Event> = appeared
        .iter()
        .filter(|f| !core::event::triaged_away(f.state.as_str()))
        .map(|f| Event::Finding(finding_event(subject, f)))
        .collect();
    enqueue_events(conn, &events, now).await
}

/// The decisions of the latest stored evaluations of the artifact, by
/// policy set: read before new verdicts are stored, when any could flip.
pub async fn previous_decisions(
    conn: &mut PgConnection,
    artifact_id: i64,
    verdicts: &[SetVerdict],
) -> sqlx::Result<HashMap<i64, String>> {
    if !verdicts
        .iter()
        .any(|v| core::event::flips_to_deny(v.mode.as_str(), v.decision.as_str(), None))
    {
        return Ok(HashMap::new());
    }
    Ok(crate::policies::store::latest(&mut *conn, &[artifact_id])
        .await?
        .into_iter()
        .map(|e| (e.policy_set_id, e.decision.as_str().to_owned()))
        .collect())
}

/// Hook: verdicts just stored; enforce-mode denials whose previous verdict
/// was not deny (or that are the first) are sent as `gate.denied`.
pub async fn verdicts_stored(
    conn: &mut PgConnection,
    subject: &Subject,
    verdicts: &[SetVerdict],
    previous: &HashMap<i64, String>,
    now: DateTime<Utc>,
) -> sqlx::Result<usize> {
    let events: Vec<Event> = verdicts
        .iter()
        .filter(|v| {
            core::event::flips_to_deny(
                v.mode.as_str(),
                v.decision.as_str(),
                previous.get(&v.policy_set_id).map(String::as_str),
            )
        })
        .map(|v| {
            Event::GateDenied(GateDenied {
                artifact_id: subject.artifact_id,
                project: subject.project.clone(),
                artifact: subject.artifact.clone(),
                version: subject.version.clone(),
                digest: subject.digest.clone(),
                policy_set: v.policy_set.clone(),
                policy_set_version: v.version,
                previous: previous.get(&v.policy_set_id).cloned(),
                failing_rules: v
                    .results
                    .iter()
                    .filter(|r| r.effective.fails())
                    .map(|r| FailingRule {
                        rule: r.rule.clone(),
                        effective: r.effective.to_string(),
                        message: r.message.clone(),
                    })
                    .collect(),
            })
        })
        .collect();
    enqueue_events(conn, &events, now).await
}

/// Queues a test event for one subscription; returns the delivery id.
pub async fn send_test(pool: &PgPool, id: i64) -> ApiResult<i64> {
    let s = get(pool, id).await?;
    if !s.enabled {
        return Err(ApiError::conflict(format!(
            "notification subscription {id} is disabled: enable it to send a test"
        )));
    }
    let e = Event::Test(TestEvent {
        subscription_id: s.id,
        subscription: s.name.clone(),
        message: "This is a test notification from Cairn.".into(),
    });
    let mut out = NewDeliveries::default();
    push(&mut out, &s, &e, &event_id(), Utc::now());
    let mut conn = pool.acquire().await?;
    let ids = store::enqueue(&mut conn, &out).await?;
    ids.first().copied().ok_or_else(ApiError::internal)
}

// --- deliveries ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationDeliveryState)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Every attempt failed: a dead letter (retry it with POST …/retry).
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }
}

/// One notification to one subscription, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NotificationDelivery)]
pub struct Delivery {
    /// Also sent as `X-Cairn-Delivery` (the same on every attempt).
    pub id: i64,
    pub subscription_id: i64,
    pub event: EventKind,
    /// The event's id (the payload's `id`).
    pub event_id: String,
    pub state: DeliveryState,
    pub attempts: i32,
    /// When a pending delivery is tried next.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The HTTP status of the last attempt, when one was received.
    pub last_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The body sent.
    pub payload: serde_json::Value,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            subscription_id: r.subscription_id,
            event: EventKind::parse(&r.event).unwrap_or(EventKind::Test),
            event_id: r.event_id,
            state: match r.state.as_str() {
                "delivered" => DeliveryState::Delivered,
                "dead" => DeliveryState::Dead,
                _ => DeliveryState::Pending,
            },
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            last_status: r.last_status,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            payload: r.payload,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only deliveries of this subscription id.
    pub subscription: Option<i64>,
    /// Only deliveries in this state.
    pub state: Option<DeliveryState>,
}

/// Deliveries newest first, a page at a time (cursor: the last id).
pub async fn deliveries(
    pool: &PgPool,
    filter: &DeliveryFilter,
    page: &PageParams,
) -> ApiResult<Page<Delivery>> {
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let rows = store::list_deliveries(
        pool,
        filter.subscription,
        filter.state.map(DeliveryState::as_str),
        before,
        limit,
    )
    .await?;
    let rows: Vec<Delivery> = rows.into_iter().map(Into::into).collect();
    Ok(Page::from_rows(rows, limit, |d| d.id))
}

/// Queues a dead letter again with fresh attempts.
pub async fn retry(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let state = store::requeue_dead(&mut tx, id).await?;
    tx.commit().await?;
    match state.as_deref() {
        None => Err(ApiError::not_found(format!(
            "there is no notification delivery {id}"
        ))),
        Some("dead") => Ok(()),
        Some(other) => Err(ApiError::conflict(format!(
            "notification delivery {id} is {other}, not dead: only dead letters can be retried"
        ))),
    }
}
