//! The delivery worker. Unlike the inbound webhook worker (whose batches
//! are processed and marked done in ONE transaction, so exactly once), an
//! outgoing delivery cannot be undone once sent: it is at least once. A
//! worker leases due deliveries in one short transaction (`FOR UPDATE SKIP
//! LOCKED`, the attempt counted), commits, sends them without holding locks
//! or connections, and records each outcome under its lease. A worker that
//! dies mid-send leaves its lease to run out, and the delivery is sent
//! again; receivers drop duplicates by `X-Cairn-Delivery`. A 2xx answer is
//! delivered; anything else (another status, a redirect, a timeout, a
//! refused address) is retried with exponential backoff, and dead after
//! `max_attempts` attempts.

use std::net::SocketAddr;
use std::time::Duration;

use sqlx::PgPool;

use super::core::{retry, sign, target};
use super::service;
use super::store::{self, Leased};
use crate::secrets::SecretKey;

#[derive(Clone)]
pub struct WorkerOptions {
    /// Concurrent worker tasks (0: none).
    pub workers: usize,
    /// Deliveries leased (and sent concurrently) per batch.
    pub batch: i64,
    /// Attempts before a delivery is a dead letter.
    pub max_attempts: i32,
    /// Wait after the first failure; doubles with each further one.
    pub base_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Time limit of one attempt (connect, send, answer).
    pub timeout: Duration,
    /// Send to private, loopback and link-local addresses too.
    pub allow_private: bool,
    pub idle_poll: Duration,
    /// Opens the subscriptions' secrets.
    pub key: SecretKey,
}

impl WorkerOptions {
    pub fn from_config(config: &crate::config::Config, key: SecretKey) -> Self {
        WorkerOptions {
            workers: config.notify_workers,
            batch: 10,
            max_attempts: config.notify_max_attempts,
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            timeout: Duration::from_secs(config.notify_timeout_secs),
            allow_private: config.notify_allow_private,
            idle_poll: Duration::from_millis(500),
            key,
        }
    }

    /// How long a lease lasts: every send of a batch runs at once, each
    /// within the timeout.
    fn lease_secs(&self) -> f64 {
        self.timeout.as_secs_f64() + 30.0
    }
}

pub use crate::workers::Workers;

pub fn spawn(pool: PgPool, options: WorkerOptions) -> Workers {
    let (count, idle) = (options.workers, options.idle_poll);
    crate::workers::spawn("notifications", count, idle, move || {
        let (pool, options) = (pool.clone(), options.clone());
        async move { run_once(&pool, &options).await }
    })
}

/// Leases one batch of due deliveries and sends them; returns how many
/// were leased.
pub async fn run_once(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let leased = store::lease(&mut tx, options.batch, options.lease_secs()).await?;
    tx.commit().await?;
    if leased.is_empty() {
        return Ok(0);
    }
    let n = leased.len();
    let outcomes = futures_util::future::join_all(leased.iter().map(|d| attempt(d, options))).await;
    for (d, outcome) in leased.iter().zip(outcomes) {
        match outcome {
            Ok(status) => {
                store::delivered(pool, d.id, d.attempts, status.into()).await?;
                tracing::debug!(delivery = d.id, status, "notification delivered");
            }
            Err(failure) => {
                let next = retry::after_failure(
                    d.attempts,
                    options.max_attempts,
                    options.base_backoff,
                    options.max_backoff,
                );
                if next.is_none() {
                    tracing::warn!(
                        delivery = d.id,
                        subscription = d.subscription_id,
                        attempts = d.attempts,
                        error = %failure.error,
                        "notification dead-lettered"
                    );
                } else {
                    tracing::info!(
                        delivery = d.id,
                        subscription = d.subscription_id,
                        attempts = d.attempts,
                        error = %failure.error,
                        "notification failed; will retry"
                    );
                }
                store::failed(
                    pool,
                    d.id,
                    d.attempts,
                    failure.status.map(i32::from),
                    &failure.error,
                    next.map(|d| d.as_secs_f64()),
                )
                .await?;
            }
        }
    }
    Ok(n)
}

/// Runs batches until nothing is due (tests): with a zero backoff, every
/// attempt a delivery has left is made.
pub async fn drain(pool: &PgPool, options: &WorkerOptions) -> sqlx::Result<usize> {
    let mut total = 0;
    loop {
        let n = run_once(pool, options).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// Why an attempt failed. The error never names the URL (a Slack webhook
/// URL is itself a credential) nor the secret.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<u16>,
    pub error: String,
}

impl Failure {
    fn new(error: impl Into<String>) -> Self {
        Failure {
            status: None,
            error: error.into(),
        }
    }
}

/// A client that connects to `addrs` only (the vetted addresses) for the
/// target's host, follows no redirect, uses no proxy.
fn client(
    t: &target::Target,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<reqwest::Client, Failure> {
    let tls = crate::outbound::tls().ok_or_else(|| Failure::new("TLS is not available"))?;
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Cairn-Notifications/", env!("CARGO_PKG_VERSION")));
    if t.ip.is_none() {
        b = b.resolve_to_addrs(&t.host, addrs);
    }
    b.build()
        .map_err(|e| Failure::new(format!("cannot build the HTTP client: {}", chain(&e))))
}

/// An error and its causes, without the URL.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// One attempt: vet the target's addresses again (they may have changed
/// since the subscription was made), sign, POST.
async fn attempt(d: &Leased, options: &WorkerOptions) -> Result<u16, Failure> {
    let t = target::parse(&d.url).map_err(Failure::new)?;
    let addrs = service::resolve(&t).await.map_err(Failure::new)?;
    target::vet(&t.host, &addrs, options.allow_private).map_err(Failure::new)?;
    let secret = service::open_secret(&options.key, d.subscription_id, &d.secret_sealed)
        .ok_or_else(|| {
            Failure::new(
                "the subscription's secret cannot be opened (was CAIRN_SECRET_KEY changed?)",
            )
        })?;
    let body = serde_json::to_vec(&d.payload).expect("JSON values serialise");
    let signature = sign::sign(&secret, chrono::Utc::now().timestamp(), &body);
    let res = client(&t, &addrs, options.timeout)?
        .post(t.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(sign::SIGNATURE_HEADER, signature)
        .header(sign::DELIVERY_HEADER, d.id.to_string())
        .header(sign::EVENT_HEADER, &d.event)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let e = e.without_url();
            let what = if e.is_timeout() {
                format!("timed out after {:?}", options.timeout)
            } else {
                chain(&e)
            };
            Failure::new(what)
        })?;
    let status = res.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(Failure {
            status: Some(status.as_u16()),
            error: if status.is_redirection() {
                format!("HTTP {status}: redirects are not followed")
            } else {
                format!("HTTP {status}")
            },
        })
    }
}
