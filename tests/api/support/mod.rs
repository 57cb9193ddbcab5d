//! `spawn_app()`: the real router on a real socket, over a fresh database.
//!
//! The database server is `CAIRN_TEST_DATABASE_URL` (a URL to an admin
//! database), else PostgreSQL on 127.0.0.1:5432 as user postgres, else —
//! when neither answers — a private cluster started by Cairn's own
//! embedded-PostgreSQL code for this test process.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub mod go;
pub mod html;
pub mod oidc;
pub mod process;
#[path = "../../sbom_oracle.rs"]
pub mod sbom_oracle;
pub mod webhooks;

use cairn::config::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

pub const ADMIN_TOKEN: &str = "cairn_test_admin_token_0123456789abcdef";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    /// The server's clock: advance it instead of sleeping.
    pub clock: cairn::clock::Clock,
}

/// Where the test databases are created.
fn server_options() -> &'static PgConnectOptions {
    static OPTIONS: OnceLock<PgConnectOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        // Runs once per process, on a thread of its own: the probe and the
        // fallback cluster must not belong to any one test's runtime.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(find_server())
        })
        .join()
        .expect("finding a PostgreSQL server for the tests")
    })
}

async fn find_server() -> PgConnectOptions {
    if let Ok(url) = std::env::var("CAIRN_TEST_DATABASE_URL") {
        return url
            .parse()
            .expect("CAIRN_TEST_DATABASE_URL is a PostgreSQL URL");
    }
    let local: PgConnectOptions = "postgres://postgres@127.0.0.1:5432/postgres"
        .parse()
        .unwrap();
    if PgConnection::connect_with(&local).await.is_ok() {
        return local;
    }
    eprintln!("no PostgreSQL on 127.0.0.1:5432: starting a private cluster for this test process");
    let dir = scratch_dir("pg");
    let pg = cairn_embedded_pg::EmbeddedPostgres::start(
        &dir,
        cairn_embedded_pg::EmbeddedOptions { ephemeral: true },
    )
    .await
    .expect("starting an embedded PostgreSQL for the tests");
    let options = pg.connect_options("postgres");
    // Lives as long as the test process; PostgreSQL stops when it exits.
    std::mem::forget(pg);
    options
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under target/ that the `postgres` user can reach.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = root.join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for d in [root, dir.as_path()] {
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
    }
    dir
}

/// A new empty database, named after this process so that leftovers of
/// dead test processes can be dropped.
pub async fn fresh_database() -> PgConnectOptions {
    static N: AtomicU32 = AtomicU32::new(0);
    let server = server_options().clone();
    let mut admin = server
        .connect()
        .await
        .expect("connecting to the test PostgreSQL");
    if N.load(Ordering::SeqCst) == 0 {
        drop_stale_databases(&mut admin).await;
    }
    let name = format!(
        "cairn_t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    server.database(&name)
}

async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'cairn\\_t\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<i32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| None).await
}

/// Starts the app with extra CAIRN_* settings.
pub async fn spawn_app_with(extra: impl Fn(&str) -> Option<String>) -> TestApp {
    let db_options = fresh_database().await;
    let pool = cairn::db::connect(db_options.clone(), 8).await.unwrap();
    let config = Config::from_lookup(|k| {
        extra(k).or_else(|| (k == "CAIRN_BOOTSTRAP_TOKEN").then(|| ADMIN_TOKEN.to_string()))
    })
    .unwrap();
    serve(&pool, config).await
}

/// One start of Cairn on `pool`, as `cairn serve` does it: `cairn::prepare`
/// (migrations, bootstrap token, keys), then the router on a free port.
pub async fn serve(pool: &PgPool, mut config: Config) -> TestApp {
    let pool = pool.clone();
    // Custom rules run in worker processes of the real `cairn` binary (this
    // test binary has no `rego-worker` command).
    config.rego_program = Some(env!("CARGO_BIN_EXE_cairn").into());
    let state = cairn::prepare(pool.clone(), config).await.unwrap();
    let clock = state.clock.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cairn::app::serve(
        listener,
        cairn::app::router(state),
        std::future::pending(),
    ));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        pool,
        clock,
    }
}

impl TestApp {
    /// The policy workers' test options, on this app's clock.
    pub fn worker_options(&self) -> cairn::policies::worker::WorkerOptions {
        cairn::policies::worker::WorkerOptions {
            clock: self.clock.clone(),
            ..worker_options()
        }
    }

    /// Evaluates every queued artifact, as the policy workers do; returns
    /// how many were claimed.
    pub async fn evaluate_queued(&self) -> usize {
        cairn::policies::worker::drain(&self.pool, &self.worker_options())
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path, ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    /// Uploads an SBOM as admin.
    pub async fn upload(&self, query: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/sboms?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A dashboard page for a signed-in session: 200, and nothing the
    /// strict CSP would refuse (no inline style, no script).
    pub async fn page(&self, session: &str, path: &str) -> html::Html {
        let res = self
            .client
            .get(self.url(path))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        let page = html::Html::parse(res.text().await.unwrap());
        page.assert_csp_clean(path);
        page
    }

    /// Signs in to the dashboard with `token`: the session cookie
    /// (`name=value`) to send back.
    pub async fn sign_in(&self, token: &str) -> String {
        let ok = self
            .client
            .post(self.url("/ui/login"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 303);
        ok.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    pub async fn token(&self, role: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/tokens"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({"name": format!("{role} for tests"), "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Row counts of every inventory table: "nothing stored" checks compare these.
    pub async fn counts(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for t in [
            "projects",
            "artifacts",
            "sboms",
            "sbom_documents",
            "components",
            "sbom_components",
        ] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                .fetch_one(&self.pool)
                .await
                .unwrap();
            out.push((t.to_string(), n));
        }
        out
    }

    /// Every component of an SBOM, following the cursor through all pages.
    pub async fn all_components(&self, sbom_id: i64) -> Vec<Value> {
        self.all_pages(&format!("/api/v1/sboms/{sbom_id}/components"), 500)
            .await
    }

    /// Every item of a paged list, `limit` at a time, following
    /// `next_cursor` to the last page (which has none).
    pub async fn all_pages(&self, path: &str, limit: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_json(&url).await;
            let got = page["items"].as_array().expect("a page has items");
            assert!(got.len() <= limit, "{url}: {} items", got.len());
            items.extend(got.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(got.len(), limit, "{url}: a short page before the last");
                    cursor = Some(c.to_owned())
                }
                None => return items,
            }
        }
    }
}

/// A problem+json answer with this status; returns the problem document.
pub async fn expect_problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:cairn:problem:"));
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Polls `check` every 20 ms until it holds; fails the test naming `what`
/// after 60 s (a bound for a broken build, not a timing assertion).
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "not within 60 s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Gzip of `data`, as a client sends `Content-Encoding: gzip`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A CycloneDX 1.5 SBOM of an application `svc` listing `purls` (name and
/// version taken from each purl).
pub fn cyclonedx(purls: &[&str]) -> Vec<u8> {
    let components: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let name = p.split('@').next().unwrap().rsplit('/').next().unwrap();
            let version = p.split('@').nth(1).unwrap_or("");
            json!({"type": "library", "bom-ref": format!("c{i}"), "name": name, "version": version, "purl": p})
        })
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"type": "application", "name": "svc", "bom-ref": "root"}},
        "components": components
    }))
    .unwrap()
}

/// Evaluation-worker options for tests that drain the queue themselves
/// (`cairn::policies::worker::drain`): one worker, short polls.
pub fn worker_options() -> cairn::policies::worker::WorkerOptions {
    cairn::policies::worker::WorkerOptions {
        workers: 1,
        batch: 10,
        limits: cairn::policies::core::engine::EvalLimits {
            rego: std::time::Duration::from_millis(250),
            evaluation: std::time::Duration::from_secs(10),
        },
        idle_poll: std::time::Duration::from_millis(50),
        base_backoff_secs: 1.0,
        max_claims: 2,
        fault: None,
        clock: Default::default(),
    }
}
