//! The "embedded default" database: a private PostgreSQL cluster that Cairn
//! creates and runs itself when `CAIRN_DATABASE_URL` is not set.
//!
//! Cairn does not ship PostgreSQL; it uses the server binaries installed on
//! the machine (`initdb`, `postgres`), found on `PATH`, through
//! `pg_config --bindir`, or under `/usr/lib/postgresql/<version>/bin`.
//!
//! Layout under the data directory:
//!
//! * `pg/`           the cluster (created by `initdb` on first start),
//! * `run/`          the Unix-socket directory (PostgreSQL listens on no TCP port),
//! * `pg.log`        PostgreSQL's (and initdb's) stdout/stderr, appended,
//! * `pg.lock`       held (flock) while a Cairn process owns the cluster.
//!
//! Process ownership: `postgres` is spawned directly (no `pg_ctl`) from a
//! dedicated supervisor thread that lives exactly as long as the server
//! process: it spawns the child and then blocks waiting for it. The child has
//! `PR_SET_PDEATHSIG = SIGINT`, which the kernel delivers when the *thread*
//! that forked it exits, so PostgreSQL does a fast shutdown if Cairn dies, and
//! can never be signalled spuriously by a thread pool retiring an idle thread.
//! The server is also put in its own process group so that a Ctrl-C in the
//! terminal reaches Cairn only, and Cairn shuts PostgreSQL down in order.
//!
//! PostgreSQL refuses to run as root; when Cairn runs as root the server runs
//! as the `postgres` system user (or `nobody` if there is none; or the owner of
//! an existing cluster).
//!
//! The crate's files follow those steps: `binaries.rs` finds the server
//! binaries and their versions, `datadir.rs` prepares the data directory
//! (creation, locking, cluster state, the user the server runs as, ownership
//! and permissions), `process.rs` runs `initdb` and supervises `postgres`
//! and reads their log; this file holds the public API.

mod binaries;
mod datadir;
mod process;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::Connection;
use tokio::sync::watch;

use crate::datadir::{postmaster_status, prepare, Prepared};
use crate::process::{
    another_postmaster_pid, child_io, configure_child, describe_exit, initdb, log_lines_since,
    one_line, spawn_supervised, tail,
};

/// Superuser created by initdb; trust authentication over the private socket.
const SUPERUSER: &str = "cairn";
/// The application database created after the first start.
const DATABASE: &str = "cairn";
/// Only used to name the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// `sizeof(sun_path) - 1` on Linux.
const SOCKET_PATH_MAX: usize = 107;

/// Options for [`EmbeddedPostgres::start`].
#[derive(Debug, Clone, Default)]
pub struct EmbeddedOptions {
    /// Test harness use: `fsync=off`, `synchronous_commit=off`,
    /// `full_page_writes=off` (and `initdb --no-sync`) for speed. A crash of
    /// the machine (not of the process) can corrupt such a cluster.
    pub ephemeral: bool,
}

/// Errors of the embedded PostgreSQL. Each displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "no PostgreSQL server found: install the PostgreSQL server package \
         (Debian: apt-get install postgresql) or set CAIRN_DATABASE_URL"
    )]
    NoServer,

    #[error(
        "the PostgreSQL cluster in {} was created by PostgreSQL {cluster_version}, but the server \
         found ({}) is PostgreSQL {found}: install PostgreSQL {cluster_version} server binaries or \
         upgrade the cluster with pg_upgrade",
        dir.display(), bindir.display()
    )]
    VersionMismatch {
        dir: PathBuf,
        cluster_version: String,
        found: String,
        bindir: PathBuf,
    },

    #[error(
        "PostgreSQL cannot run as root and there is neither a 'postgres' nor a 'nobody' user \
         to run it as: create a 'postgres' system user or set CAIRN_DATABASE_URL"
    )]
    NoUnprivilegedUser,

    #[error(
        "PostgreSQL runs as user '{user}' (Cairn runs as root), which cannot enter {} \
         (mode {mode:04o}, owner uid {owner}): run `chmod o+x {}` or choose a data directory \
         under a world-traversable path",
        dir.display(), dir.display()
    )]
    NotTraversable {
        dir: PathBuf,
        user: String,
        mode: u32,
        owner: u32,
    },

    #[error(
        "the PostgreSQL socket path {} is {len} bytes, longer than the {max}-byte limit of Unix \
         sockets: choose a data directory with a shorter path",
        path.display()
    )]
    SocketPathTooLong {
        path: PathBuf,
        len: usize,
        max: usize,
    },

    #[error(
        "{} exists but is not a PostgreSQL cluster (no PG_VERSION) and is not empty: move it \
         away or choose another data directory",
        dir.display()
    )]
    NotACluster { dir: PathBuf },

    #[error("the data directory {} is in use by another process{}", dir.display(), pid_suffix(*pid))]
    InUse { dir: PathBuf, pid: Option<u32> },

    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("could not run {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("initdb failed ({status}): {tail} (full log: {})", log.display())]
    InitdbFailed {
        status: String,
        tail: String,
        log: PathBuf,
    },

    #[error("PostgreSQL exited during startup ({status}): {tail} (full log: {})", log.display())]
    ExitedDuringStartup {
        status: String,
        tail: String,
        log: PathBuf,
    },

    #[error(
        "PostgreSQL did not accept connections within {secs} s (last error: {last_error}); \
         see {}",
        log.display()
    )]
    StartupTimeout {
        secs: u64,
        last_error: String,
        log: PathBuf,
    },

    #[error("PostgreSQL had already exited before shutdown was requested ({status}); see {}", log.display())]
    ExitedUnexpectedly { status: String, log: PathBuf },

    #[error("PostgreSQL (pid {pid}) did not exit even after SIGKILL")]
    StopFailed { pid: u32 },

    #[error("could not {action} in the embedded PostgreSQL: {source}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },

    #[error("internal error in the embedded PostgreSQL supervisor: {0}")]
    Internal(String),
}

fn pid_suffix(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!(" (pid {pid})"),
        None => String::new(),
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> EmbeddedPgError {
    let path = path.to_path_buf();
    move |source| EmbeddedPgError::Io {
        action,
        path,
        source,
    }
}

/// How the supervised server ended: its status, or why it could not be reaped.
type ExitOutcome = Result<ExitStatus, String>;

/// A running private PostgreSQL cluster owned by this process.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    log_path: PathBuf,
    pid: u32,
    /// `Some` once the supervisor thread has reaped the server. The supervisor
    /// reaps while holding the channel's write lock, and signals are sent while
    /// holding a read lock (`borrow`) after checking for `None`, so a signal can
    /// never hit a recycled pid.
    exit: watch::Receiver<Option<ExitOutcome>>,
    stopped: bool,
}

impl EmbeddedPostgres {
    /// Initialises (first time) and starts the cluster; returns once it accepts
    /// connections and database `cairn` exists.
    pub async fn start(data_dir: &Path, options: EmbeddedOptions) -> Result<Self, EmbeddedPgError> {
        let requested = data_dir.to_path_buf();
        let prepared = tokio::task::spawn_blocking(move || prepare(&requested))
            .await
            .map_err(|e| EmbeddedPgError::Internal(format!("preparation task failed: {e}")))??;
        let Prepared {
            bins,
            layout,
            run_as,
            lock,
            init,
        } = prepared;

        tracing::info!(
            bindir = %bins.bindir.display(),
            version = bins.version.as_deref().unwrap_or("unknown"),
            data_dir = %layout.data.display(),
            run_as = run_as.as_ref().map(|u| u.name.as_str()).unwrap_or("(current user)"),
            "embedded PostgreSQL: using the server binaries installed on this machine"
        );

        if let Some(target) = init {
            initdb(&bins, &layout, &target, run_as.as_ref(), options.ephemeral).await?;
        }

        // Start the server from its dedicated supervisor thread.
        let log_offset = fs::metadata(&layout.log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(&bins.postgres);
        cmd.arg("-D")
            .arg(&layout.cluster)
            .arg("-k")
            .arg(&layout.socket)
            .arg("-p")
            .arg(PORT.to_string())
            .args(["-c", "listen_addresses="])
            .args(["-c", "unix_socket_permissions=0700"]);
        if options.ephemeral {
            cmd.args(["-c", "fsync=off"])
                .args(["-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"]);
        }
        cmd.current_dir(&layout.cluster);
        child_io(&mut cmd, &layout.log)?;
        configure_child(&mut cmd, run_as.as_ref(), libc::SIGINT);

        let (pid, exit) =
            spawn_supervised(cmd, lock)
                .await
                .map_err(|source| EmbeddedPgError::Spawn {
                    program: bins.postgres.clone(),
                    source,
                })?;
        tracing::info!(pid, socket_dir = %layout.socket.display(), "embedded PostgreSQL: server started, waiting for it to accept connections");

        let mut pg = EmbeddedPostgres {
            data_dir: layout.data,
            cluster_dir: layout.cluster,
            socket_dir: layout.socket,
            log_path: layout.log,
            pid,
            exit,
            stopped: false,
        };

        match pg.wait_ready_and_create_db(log_offset).await {
            Ok(()) => {
                tracing::info!(pid, socket_dir = %pg.socket_dir.display(), "PostgreSQL ready");
                Ok(pg)
            }
            Err(err) => {
                // Do not leave a half-started server behind.
                pg.stopped = true;
                if let Err(e) = pg.terminate().await {
                    tracing::warn!(error = %e, "embedded PostgreSQL: could not stop the server after a failed start");
                }
                Err(err)
            }
        }
    }

    /// Connection options for database `db` (user cairn, host = socket dir).
    pub fn connect_options(&self, db: &str) -> PgConnectOptions {
        let mut opts = PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(db)
            .ssl_mode(PgSslMode::Disable)
            .application_name("cairn");
        if let Some(host) = self.socket_dir.to_str() {
            opts = opts.host(host);
        }
        opts
    }

    /// Fast shutdown (SIGINT), waits for the process to exit (timeout 30 s then
    /// SIGQUIT/kill).
    pub async fn stop(mut self) -> Result<(), EmbeddedPgError> {
        self.stopped = true;
        if let Some(outcome) = self.exit.borrow().clone() {
            return Err(EmbeddedPgError::ExitedUnexpectedly {
                status: describe_exit(&outcome),
                log: self.log_path.clone(),
            });
        }
        tracing::info!(pid = self.pid, "embedded PostgreSQL: fast shutdown");
        self.terminate().await
    }

    /// The Unix-socket directory the server listens in.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The data directory (canonical path) holding `pg/`, `run/` and `pg.log`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server log (`<data>/pg.log`).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The pid of the postmaster.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `sig` to the server unless it has already been reaped.
    fn signal(&self, sig: libc::c_int) -> bool {
        let state = self.exit.borrow();
        if state.is_some() {
            return false;
        }
        // SAFETY: plain syscall; the pid is our unreaped child (see `exit`).
        let rc = unsafe { libc::kill(self.pid as libc::pid_t, sig) };
        drop(state);
        rc == 0
    }

    async fn wait_exit(&self, timeout: Duration) -> bool {
        let mut rx = self.exit.clone();
        let waited = tokio::time::timeout(timeout, async move {
            // An error means the supervisor is gone, i.e. the server too.
            let _ = rx.wait_for(|s| s.is_some()).await;
        })
        .await;
        waited.is_ok()
    }

    /// SIGINT, then SIGQUIT, then SIGKILL, waiting for the exit after each.
    async fn terminate(&self) -> Result<(), EmbeddedPgError> {
        self.signal(libc::SIGINT);
        if self.wait_exit(STOP_TIMEOUT).await {
            tracing::info!(pid = self.pid, "embedded PostgreSQL: stopped");
            return Ok(());
        }
        tracing::warn!(
            pid = self.pid,
            "embedded PostgreSQL: no exit {} s after a fast-shutdown request, sending SIGQUIT",
            STOP_TIMEOUT.as_secs()
        );
        self.signal(libc::SIGQUIT);
        if self.wait_exit(Duration::from_secs(5)).await {
            return Ok(());
        }
        tracing::warn!(
            pid = self.pid,
            "embedded PostgreSQL: still running, sending SIGKILL"
        );
        self.signal(libc::SIGKILL);
        if self.wait_exit(Duration::from_secs(5)).await {
            return Ok(());
        }
        Err(EmbeddedPgError::StopFailed { pid: self.pid })
    }

    async fn wait_ready_and_create_db(&self, log_offset: u64) -> Result<(), EmbeddedPgError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let opts = self.connect_options("postgres");
        let mut exit = self.exit.clone();
        let pid_file = self.cluster_dir.join("postmaster.pid");
        let socket_file = self.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        let mut conn = loop {
            if let Some(outcome) = exit.borrow().clone() {
                return Err(self.startup_exit_error(&outcome, log_offset));
            }
            // Only try to connect once the server says it is ready (PostgreSQL
            // >= 10 writes its state in postmaster.pid), which keeps "the
            // database system is starting up" noise out of the log.
            let status = postmaster_status(&pid_file);
            let last_error = if !socket_file.exists() {
                "the server socket does not exist yet".to_owned()
            } else if let Some(status) = status.filter(|s| !s.is_empty() && s != "ready") {
                format!("the server is in state '{status}'")
            } else {
                match tokio::time::timeout(
                    Duration::from_secs(5),
                    PgConnection::connect_with(&opts),
                )
                .await
                {
                    Ok(Ok(conn)) => break conn,
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "connection attempt timed out".to_owned(),
                }
            };
            if Instant::now() >= deadline {
                if let Some(outcome) = exit.borrow().clone() {
                    return Err(self.startup_exit_error(&outcome, log_offset));
                }
                return Err(EmbeddedPgError::StartupTimeout {
                    secs: START_TIMEOUT.as_secs(),
                    last_error: one_line(&last_error),
                    log: self.log_path.clone(),
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = exit.changed() => {}
            }
        };

        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(DATABASE)
                .fetch_optional(&mut conn)
                .await
                .map_err(|source| EmbeddedPgError::Database {
                    action: "look up database cairn",
                    source,
                })?;
        if exists.is_none() {
            match sqlx::query("CREATE DATABASE cairn")
                .execute(&mut conn)
                .await
            {
                Ok(_) => tracing::info!("embedded PostgreSQL: created database {DATABASE}"),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(source) => {
                    return Err(EmbeddedPgError::Database {
                        action: "create database cairn",
                        source,
                    })
                }
            }
        }
        let _ = conn.close().await;
        Ok(())
    }

    fn startup_exit_error(&self, outcome: &ExitOutcome, log_offset: u64) -> EmbeddedPgError {
        let lines = log_lines_since(&self.log_path, log_offset);
        if let Some(pid) = lines.iter().find_map(|l| another_postmaster_pid(l)) {
            return EmbeddedPgError::InUse {
                dir: self.cluster_dir.clone(),
                pid: Some(pid),
            };
        }
        EmbeddedPgError::ExitedDuringStartup {
            status: describe_exit(outcome),
            tail: tail(&lines, 6),
            log: self.log_path.clone(),
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if !self.stopped && self.signal(libc::SIGINT) {
            tracing::info!(
                pid = self.pid,
                "embedded PostgreSQL dropped without stop(): fast shutdown requested"
            );
        }
    }
}
