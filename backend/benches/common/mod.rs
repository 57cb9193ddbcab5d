//! What every benchmark needs: a fresh database on the bench PostgreSQL and
//! the real `cairn serve` binary running against it.

#![allow(dead_code)] // each bench uses its own subset

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one bench run on the server named by
/// `CAIRN_BENCH_DATABASE_URL` (an admin URL).
pub struct BenchDb {
    admin: PgConnection,
    pub name: String,
    /// URL of the bench database, for the server.
    pub url: String,
    /// Connection options of the bench database, for direct queries.
    pub options: PgConnectOptions,
    /// The admin URL without its password, for printing.
    pub server: String,
}

impl BenchDb {
    pub async fn create(prefix: &str) -> Result<BenchDb> {
        let admin_url =
            std::env::var("CAIRN_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let admin_opts: PgConnectOptions = admin_url
            .parse()
            .context("CAIRN_BENCH_DATABASE_URL is not a PostgreSQL URL")?;
        let name = format!("{prefix}_{}", std::process::id());
        let mut admin = PgConnection::connect_with(&admin_opts)
            .await
            .with_context(|| {
                format!(
                    "connecting to {} (CAIRN_BENCH_DATABASE_URL)",
                    redact(&admin_url)
                )
            })?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .context("creating the bench database")?;
        Ok(BenchDb {
            admin,
            url: with_database(&admin_url, &name),
            options: admin_opts.database(&name),
            server: redact(&admin_url),
            name,
        })
    }

    /// Drops the database, unless `CAIRN_BENCH_KEEP_DB=1`.
    pub async fn drop_unless_kept(mut self) -> Result<()> {
        if std::env::var("CAIRN_BENCH_KEEP_DB").is_ok_and(|v| v == "1") {
            println!("kept database {}: {}", self.name, redact(&self.url));
            return Ok(());
        }
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut self.admin)
        .await
        .context("dropping the bench database")?;
        println!("dropped database {}", self.name);
        Ok(())
    }
}

/// `url` with its database (path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A URL without its password, for printing.
pub fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.into();
    };
    let rest = &url[start..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..start], &rest[..colon], &rest[at..])
        }
        _ => url.into(),
    }
}

/// The real server binary, with an admin bootstrap token.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub token: String,
}

impl Server {
    /// Starts `cairn serve` on a free port; `env` adds CAIRN_* settings.
    /// `CAIRN_LOG` passes through (default `warn`).
    pub fn start(db_url: &str, env: &[(&str, &str)]) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let token = format!("cairn_bench_{}", hex::encode(rand::random::<[u8; 16]>()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.arg("serve")
            .env("CAIRN_DATABASE_URL", db_url)
            .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CAIRN_BOOTSTRAP_TOKEN", &token)
            .env(
                "CAIRN_LOG",
                std::env::var("CAIRN_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // SAFETY: prctl is async-signal-safe; the server dies with the bench.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().context("starting cairn serve")?;
        Ok(Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            token,
        })
    }

    pub async fn wait_ready(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", self.base)).send().await {
                if res.status() == 200 {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("cairn exited before it was ready: {status}");
            }
            ensure!(Instant::now() < deadline, "cairn not ready within 90 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then waits up to 60 s for the graceful exit.
    pub fn stop(mut self) -> Result<ExitStatus> {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                bail!("no exit within 60 s of SIGTERM: killed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews
/// the results.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
