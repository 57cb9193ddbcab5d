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

use std::ffi::{CString, OsString};
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::Connection;
use tokio::sync::{oneshot, watch};

/// Superuser created by initdb; trust authentication over the private socket.
const SUPERUSER: &str = "cairn";
/// The application database created after the first start.
const DATABASE: &str = "cairn";
/// Only used to name the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for an orphaned server (left by a Cairn that died) to finish
/// the fast shutdown that its parent-death signal triggered.
const ORPHAN_EXIT_WAIT: Duration = Duration::from_secs(15);
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

// ---------------------------------------------------------------------------
// Preparation (blocking; runs on the blocking pool)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct PgBinaries {
    bindir: PathBuf,
    initdb: PathBuf,
    postgres: PathBuf,
    /// Full server version, e.g. "15.13", if `postgres --version` could be parsed.
    version: Option<String>,
}

#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: libc::uid_t,
    gid: libc::gid_t,
}

struct Layout {
    data: PathBuf,
    cluster: PathBuf,
    socket: PathBuf,
    log: PathBuf,
}

struct Prepared {
    bins: PgBinaries,
    layout: Layout,
    run_as: Option<RunAs>,
    /// `<data>/pg.lock`, flocked; handed to the supervisor thread, which drops it
    /// once the server has exited.
    lock: fs::File,
    /// Directory to run initdb in, if the cluster must be created. When it is
    /// not the cluster directory, it is renamed to it after a successful initdb
    /// so that an interrupted initdb never leaves a half-made cluster behind.
    init: Option<PathBuf>,
}

enum ClusterState {
    Existing { major: String },
    Missing,
    EmptyDir,
}

fn prepare(requested: &Path) -> Result<Prepared, EmbeddedPgError> {
    let candidates = find_candidates();
    if candidates.is_empty() {
        return Err(EmbeddedPgError::NoServer);
    }
    let is_root = unsafe { libc::geteuid() } == 0;

    // The data directory.
    let data = create_data_dir(requested, is_root)?;
    let layout = Layout {
        cluster: data.join("pg"),
        socket: data.join("run"),
        log: data.join("pg.log"),
        data,
    };

    let lock = lock_data_dir(&layout)?;

    let state = cluster_state(&layout.cluster)?;
    let bins = choose_binaries(candidates, &state, &layout.cluster)?;

    let run_as = if is_root {
        Some(choose_run_as(&layout.cluster, &state)?)
    } else {
        None
    };
    if let Some(user) = &run_as {
        check_traversable(&layout.data, user)?;
    }

    let socket_file = layout.socket.join(format!(".s.PGSQL.{PORT}"));
    let len = socket_file.as_os_str().len();
    if len > SOCKET_PATH_MAX {
        return Err(EmbeddedPgError::SocketPathTooLong {
            path: socket_file,
            len,
            max: SOCKET_PATH_MAX,
        });
    }

    // run/ and pg.log.
    ensure_private_dir(&layout.socket, run_as.as_ref())?;
    {
        let log = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&layout.log)
            .map_err(io_err("open", &layout.log))?;
        if let Some(user) = &run_as {
            std::os::unix::fs::fchown(&log, Some(user.uid), Some(user.gid))
                .map_err(io_err("change the owner of", &layout.log))?;
        }
    }

    let init = match state {
        ClusterState::Existing { .. } => {
            if let Some(user) = &run_as {
                let md =
                    fs::metadata(&layout.cluster).map_err(io_err("inspect", &layout.cluster))?;
                if md.uid() != user.uid {
                    tracing::info!(
                        dir = %layout.cluster.display(),
                        user = %user.name,
                        "embedded PostgreSQL: giving the cluster to the user PostgreSQL runs as"
                    );
                    chown_recursive(&layout.cluster, user)?;
                }
            }
            check_postmaster_pid(&layout.cluster)?;
            None
        }
        ClusterState::EmptyDir => {
            ensure_private_dir(&layout.cluster, run_as.as_ref())?;
            Some(layout.cluster.clone())
        }
        ClusterState::Missing => {
            let tmp = layout.data.join("pg.init");
            match fs::remove_dir_all(&tmp) {
                Ok(()) => {
                    tracing::info!(dir = %tmp.display(), "embedded PostgreSQL: removed the leftovers of an interrupted initdb")
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("remove", &tmp)(e)),
            }
            ensure_private_dir(&tmp, run_as.as_ref())?;
            Some(tmp)
        }
    };

    // No live server uses this cluster (checked above) and run/ belongs to it
    // alone, so socket files and their lock files in it are stale; remove them
    // so that a recycled pid in a stale socket lock cannot block the start.
    for name in [format!(".s.PGSQL.{PORT}"), format!(".s.PGSQL.{PORT}.lock")] {
        let path = layout.socket.join(name);
        match fs::remove_file(&path) {
            Ok(()) => tracing::debug!(path = %path.display(), "removed a stale socket file"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &path)(e)),
        }
    }

    Ok(Prepared {
        bins,
        layout,
        run_as,
        lock,
        init,
    })
}

/// Candidate server installations, in order of preference: `PATH`,
/// `pg_config --bindir`, `/usr/lib/postgresql/*/bin` (highest version first).
fn find_candidates() -> Vec<PgBinaries> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|d| d.is_absolute()));
    }
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !dir.is_empty() {
                dirs.push(PathBuf::from(dir));
            }
        }
    }
    dirs.extend(debian_bindirs(Path::new("/usr/lib/postgresql")));

    let mut found: Vec<PgBinaries> = Vec::new();
    for dir in dirs {
        if let Some(bins) = binaries_in(&dir) {
            if !found.iter().any(|b| b.postgres == bins.postgres) {
                found.push(bins);
            }
        }
    }
    found
}

/// `<root>/<version>/bin` directories, highest version first (numeric compare).
fn debian_bindirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u64>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let key = version_key(name.to_str()?)?;
            Some((key, e.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, p)| p).collect()
}

fn version_key(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn binaries_in(dir: &Path) -> Option<PgBinaries> {
    let initdb = dir.join("initdb");
    let postgres = dir.join("postgres");
    if !is_executable(&initdb) || !is_executable(&postgres) {
        return None;
    }
    let initdb = fs::canonicalize(initdb).ok()?;
    let postgres = fs::canonicalize(postgres).ok()?;
    let bindir = postgres.parent()?.to_path_buf();
    Some(PgBinaries {
        bindir,
        initdb,
        postgres,
        version: None,
    })
}

fn server_version(postgres: &Path) -> Option<String> {
    let out = Command::new(postgres)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version_output(&String::from_utf8_lossy(&out.stdout))
}

/// `postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)` -> `15.13`.
fn parse_version_output(out: &str) -> Option<String> {
    let rest = out.split("(PostgreSQL)").nth(1)?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// The major version as written in PG_VERSION: `15.13` -> `15`, `9.6.24` -> `9.6`,
/// `17beta1` -> `17`.
fn major_version(version: &str) -> Option<String> {
    let mut parts = version.split('.').map(|p| {
        let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits
    });
    let first = parts.next().filter(|p| !p.is_empty())?;
    let n: u64 = first.parse().ok()?;
    if n >= 10 {
        Some(first)
    } else {
        let second = parts.next().filter(|p| !p.is_empty())?;
        Some(format!("{first}.{second}"))
    }
}

fn choose_binaries(
    candidates: Vec<PgBinaries>,
    state: &ClusterState,
    cluster: &Path,
) -> Result<PgBinaries, EmbeddedPgError> {
    let mut first: Option<PgBinaries> = None;
    for mut bins in candidates {
        bins.version = server_version(&bins.postgres);
        match state {
            ClusterState::Existing { major } => {
                // An unknown version is accepted: PostgreSQL itself will refuse
                // an incompatible cluster, with a clear log line.
                let matches = match bins.version.as_deref().and_then(major_version) {
                    Some(m) => &m == major,
                    None => true,
                };
                if matches {
                    return Ok(bins);
                }
                if first.is_none() {
                    first = Some(bins);
                }
            }
            _ => return Ok(bins),
        }
    }
    match (first, state) {
        (Some(bins), ClusterState::Existing { major }) => Err(EmbeddedPgError::VersionMismatch {
            dir: cluster.to_path_buf(),
            cluster_version: major.clone(),
            found: bins.version.unwrap_or_default(),
            bindir: bins.bindir,
        }),
        _ => Err(EmbeddedPgError::NoServer),
    }
}

/// Creates the data directory if missing and returns its canonical path.
/// A directory created here is private (0700); when running as root it is
/// given the group of the unprivileged user instead (0710) so that PostgreSQL
/// can reach `pg/` and `run/`. Missing parents are created with default modes.
fn create_data_dir(requested: &Path, is_root: bool) -> Result<PathBuf, EmbeddedPgError> {
    let absolute = if requested.is_absolute() {
        requested.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(io_err("determine the current directory for", requested))?
            .join(requested)
    };
    if !absolute.exists() {
        if let Some(parent) = absolute.parent() {
            fs::create_dir_all(parent).map_err(io_err("create", parent))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(&absolute) {
            Ok(()) => {
                if is_root {
                    if let Some(user) = lookup_user("postgres").or_else(|| lookup_user("nobody")) {
                        std::os::unix::fs::chown(&absolute, None, Some(user.gid))
                            .map_err(io_err("change the group of", &absolute))?;
                        fs::set_permissions(&absolute, fs::Permissions::from_mode(0o710))
                            .map_err(io_err("set the permissions of", &absolute))?;
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create", &absolute)(e)),
        }
    }
    let canonical = fs::canonicalize(&absolute).map_err(io_err("resolve", &absolute))?;
    if !canonical.is_dir() {
        return Err(EmbeddedPgError::Io {
            action: "use as the data directory",
            path: canonical,
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    Ok(canonical)
}

/// Takes `<data>/pg.lock` (flock, exclusive, non-blocking) and writes our pid in it.
fn lock_data_dir(layout: &Layout) -> Result<fs::File, EmbeddedPgError> {
    let path = layout.data.join("pg.lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err("open", &path))?;
    // SAFETY: plain syscall on an fd we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(EmbeddedPgError::InUse {
                dir: layout.data.clone(),
                pid: text.trim().parse().ok(),
            });
        }
        return Err(io_err("lock", &path)(e));
    }
    let write = |file: &mut fs::File| -> io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())
    };
    write(&mut file).map_err(io_err("write", &path))?;
    Ok(file)
}

fn cluster_state(cluster: &Path) -> Result<ClusterState, EmbeddedPgError> {
    let version_file = cluster.join("PG_VERSION");
    match fs::read_to_string(&version_file) {
        Ok(v) => Ok(ClusterState::Existing {
            major: v.trim().to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::read_dir(cluster) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ClusterState::Missing),
            Err(e) => Err(io_err("read", cluster)(e)),
            Ok(mut entries) => {
                if entries.next().is_none() {
                    Ok(ClusterState::EmptyDir)
                } else {
                    Err(EmbeddedPgError::NotACluster {
                        dir: cluster.to_path_buf(),
                    })
                }
            }
        },
        Err(e) => Err(io_err("read", &version_file)(e)),
    }
}

/// Root only: the user PostgreSQL runs as. An existing cluster keeps its
/// (non-root) owner; otherwise `postgres`, else `nobody`.
fn choose_run_as(cluster: &Path, state: &ClusterState) -> Result<RunAs, EmbeddedPgError> {
    if let ClusterState::Existing { .. } = state {
        let md = fs::metadata(cluster).map_err(io_err("inspect", cluster))?;
        if md.uid() != 0 {
            return Ok(lookup_uid(md.uid()).unwrap_or_else(|| RunAs {
                name: format!("uid {}", md.uid()),
                uid: md.uid(),
                gid: md.gid(),
            }));
        }
    }
    lookup_user("postgres")
        .or_else(|| lookup_user("nobody"))
        .ok_or(EmbeddedPgError::NoUnprivilegedUser)
}

fn passwd_entry(
    call: impl Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> libc::c_int,
) -> Option<RunAs> {
    let mut size = 4096usize;
    loop {
        let mut buf: Vec<libc::c_char> = vec![0; size];
        // SAFETY: an all-zero passwd is a valid (if meaningless) value; it is
        // only read after the call reports success.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc == libc::ERANGE && size < (1 << 20) {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string in `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }
            .to_string_lossy()
            .into_owned();
        return Some(RunAs {
            name,
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        });
    }
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let cname = CString::new(name).ok()?;
    // SAFETY: getpwnam_r with valid buffers (see passwd_entry).
    passwd_entry(|pwd, buf, len, result| unsafe {
        libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, result)
    })
}

fn lookup_uid(uid: libc::uid_t) -> Option<RunAs> {
    // SAFETY: getpwuid_r with valid buffers (see passwd_entry).
    passwd_entry(|pwd, buf, len, result| unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) })
}

/// Every directory from `/` down to `dir` must be searchable by `user`
/// (standard owner/group/other check with the user's primary group, which is
/// the only group the server keeps).
fn check_traversable(dir: &Path, user: &RunAs) -> Result<(), EmbeddedPgError> {
    let mut chain: Vec<&Path> = dir.ancestors().collect();
    chain.reverse();
    for d in chain {
        let md = fs::metadata(d).map_err(io_err("inspect", d))?;
        let mode = md.mode();
        let ok = if md.uid() == user.uid {
            mode & 0o100 != 0
        } else if md.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            return Err(EmbeddedPgError::NotTraversable {
                dir: d.to_path_buf(),
                user: user.name.clone(),
                mode: mode & 0o7777,
                owner: md.uid(),
            });
        }
    }
    Ok(())
}

/// Creates `dir` if missing; makes it 0700 and (root) owned by `run_as`.
fn ensure_private_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<(), EmbeddedPgError> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("create", dir)(e)),
    }
    if let Some(user) = run_as {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
            .map_err(io_err("change the owner of", dir))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_err("set the permissions of", dir))?;
    Ok(())
}

fn chown_recursive(path: &Path, user: &RunAs) -> Result<(), EmbeddedPgError> {
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))
        .map_err(io_err("change the owner of", path))?;
    let md = fs::symlink_metadata(path).map_err(io_err("inspect", path))?;
    if md.is_dir() {
        for entry in fs::read_dir(path).map_err(io_err("read", path))? {
            let entry = entry.map_err(io_err("read", path))?;
            chown_recursive(&entry.path(), user)?;
        }
    }
    Ok(())
}

/// `Some(state)` from /proc/<pid>/stat, `None` if there is no such process.
fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

fn process_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH);
    exists && !matches!(process_state(pid), Some('Z') | Some('X'))
}

/// Whether process `pid` has `dir` as its working directory (a postmaster and
/// its backends chdir into the data directory). `None` if we cannot tell.
fn process_cwd_is(pid: u32, dir: &Path) -> Option<bool> {
    let cwd = fs::metadata(format!("/proc/{pid}/cwd")).ok()?;
    let dir = fs::metadata(dir).ok()?;
    Some(cwd.dev() == dir.dev() && cwd.ino() == dir.ino())
}

/// Deals with `<cluster>/postmaster.pid` before starting. We hold pg.lock, so
/// no other Cairn owns the cluster; a live server using it is either an orphan
/// of a Cairn that died (shutting down because of its parent-death signal: we
/// give it some time) or a server somebody else started (we refuse).
fn check_postmaster_pid(cluster: &Path) -> Result<(), EmbeddedPgError> {
    let pid_file = cluster.join("postmaster.pid");
    let text = match fs::read_to_string(&pid_file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("read", &pid_file)(e)),
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i64>().ok())
        .map(|p| p.unsigned_abs())
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p > 0)
    else {
        return Ok(()); // garbage: PostgreSQL deals with it
    };
    if pid == std::process::id() || !process_alive(pid) {
        return Ok(()); // stale: PostgreSQL removes it itself
    }
    match process_cwd_is(pid, cluster) {
        Some(false) => {
            // The pid was recycled by an unrelated process; PostgreSQL would
            // refuse to start because that process is alive.
            tracing::warn!(pid, file = %pid_file.display(), "embedded PostgreSQL: removing a stale postmaster.pid whose pid now belongs to another process");
            fs::remove_file(&pid_file).map_err(io_err("remove", &pid_file))?;
            Ok(())
        }
        Some(true) | None => {
            // A server that is shutting down (an orphan that got its parent-
            // death signal) says "stopping" in postmaster.pid; give it time to
            // finish. Anything else is a server someone else runs: refuse
            // (after a short grace period covering a signal just delivered).
            let started = Instant::now();
            let mut announced = false;
            loop {
                if !process_alive(pid) {
                    return Ok(());
                }
                let stopping = postmaster_status(&pid_file).as_deref() == Some("stopping");
                let elapsed = started.elapsed();
                if elapsed >= ORPHAN_EXIT_WAIT || (!stopping && elapsed >= Duration::from_secs(2)) {
                    return Err(EmbeddedPgError::InUse {
                        dir: cluster.to_path_buf(),
                        pid: Some(pid),
                    });
                }
                if stopping && !announced {
                    announced = true;
                    tracing::warn!(pid, "embedded PostgreSQL: a previous server is still shutting down in the data directory; waiting for it to exit");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// The status line (8th) of postmaster.pid: "starting", "stopping", "ready", "standby".
fn postmaster_status(pid_file: &Path) -> Option<String> {
    let text = fs::read_to_string(pid_file).ok()?;
    text.lines().nth(7).map(|l| l.trim().to_owned())
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

/// stdin from /dev/null, stdout and stderr appended to the log; the `PG*`
/// environment of Cairn (PGDATA, PGPORT, PGOPTIONS...) is not passed on.
fn child_io(cmd: &mut Command, log: &Path) -> Result<(), EmbeddedPgError> {
    let out = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(log)
        .map_err(io_err("open", log))?;
    let err = out.try_clone().map_err(io_err("open", log))?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let pg_vars: Vec<OsString> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.as_bytes().starts_with(b"PG"))
        .collect();
    for k in pg_vars {
        cmd.env_remove(k);
    }
    Ok(())
}

/// In the child, before exec: drop to `run_as` (setgroups, setgid, setuid, in
/// that order), then set the parent-death signal (after the credential change,
/// which would clear it), then check that the parent did not already die.
/// The child gets its own process group so terminal signals reach Cairn only.
fn configure_child(cmd: &mut Command, run_as: Option<&RunAs>, death_signal: libc::c_int) {
    let ids = run_as.map(|u| (u.uid, u.gid));
    let parent = std::process::id() as libc::pid_t;
    cmd.process_group(0);
    // SAFETY: the closure only makes async-signal-safe syscalls and does not
    // allocate (io::Error::last_os_error does not allocate).
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = ids {
                let groups = [gid];
                if libc::setgroups(1, groups.as_ptr()) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::setgid(gid) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::setuid(uid) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                death_signal as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Runs `cmd` to completion from a dedicated thread (which lives as long as the
/// child, so the parent-death signal only fires if Cairn itself dies).
async fn run_in_own_thread(mut cmd: Command, name: &str) -> io::Result<ExitStatus> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(cmd.status());
        })?;
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("the supervisor thread panicked")))
}

/// Spawns `cmd` from a dedicated supervisor thread that then waits for it.
/// Returns the pid and a channel that becomes `Some` once the child is reaped.
/// `lock` is released when the child has exited.
async fn spawn_supervised(
    mut cmd: Command,
    lock: fs::File,
) -> io::Result<(u32, watch::Receiver<Option<ExitOutcome>>)> {
    let (ready_tx, ready_rx) = oneshot::channel::<io::Result<u32>>();
    let (exit_tx, exit_rx) = watch::channel::<Option<ExitOutcome>>(None);
    std::thread::Builder::new()
        .name("cairn-postgres".to_owned())
        .spawn(move || {
            let mut child = match cmd.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let pid = child.id();
            let _ = ready_tx.send(Ok(pid));
            // Wait for the exit without reaping, so the pid stays ours while
            // others may still signal it under the channel's read lock.
            loop {
                // SAFETY: waitid with a zeroed siginfo_t out-parameter.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let rc = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid as libc::id_t,
                        &mut info,
                        libc::WEXITED | libc::WNOWAIT,
                    )
                };
                if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break;
                }
            }
            drop(lock);
            exit_tx.send_modify(|state| {
                *state = Some(child.wait().map_err(|e| e.to_string()));
            });
        })?;
    let pid = ready_rx
        .await
        .unwrap_or_else(|_| Err(io::Error::other("the supervisor thread panicked")))?;
    Ok((pid, exit_rx))
}

async fn initdb(
    bins: &PgBinaries,
    layout: &Layout,
    target: &Path,
    run_as: Option<&RunAs>,
    ephemeral: bool,
) -> Result<(), EmbeddedPgError> {
    tracing::info!(dir = %layout.cluster.display(), "embedded PostgreSQL: initialising a new cluster (initdb)");
    let log_offset = fs::metadata(&layout.log).map(|m| m.len()).unwrap_or(0);
    let mut cmd = Command::new(&bins.initdb);
    cmd.arg("-D")
        .arg(target)
        .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"]);
    if ephemeral {
        cmd.arg("--no-sync");
    }
    cmd.current_dir(target);
    child_io(&mut cmd, &layout.log)?;
    configure_child(&mut cmd, run_as, libc::SIGKILL);
    let status = run_in_own_thread(cmd, "cairn-initdb")
        .await
        .map_err(|source| EmbeddedPgError::Spawn {
            program: bins.initdb.clone(),
            source,
        })?;
    if !status.success() {
        let lines = log_lines_since(&layout.log, log_offset);
        return Err(EmbeddedPgError::InitdbFailed {
            status: describe_exit(&Ok(status)),
            tail: tail(&lines, 6),
            log: layout.log.clone(),
        });
    }
    if target != layout.cluster {
        fs::rename(target, &layout.cluster)
            .map_err(io_err("move the new cluster into", &layout.cluster))?;
        if !ephemeral {
            if let Ok(dir) = fs::File::open(&layout.data) {
                let _ = dir.sync_all();
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Log helpers
// ---------------------------------------------------------------------------

fn describe_exit(outcome: &ExitOutcome) -> String {
    match outcome {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => status.to_string(),
        },
        Err(e) => format!("exit status unknown: {e}"),
    }
}

/// Non-empty lines written to the log since `offset` (at most the last 64 KiB).
fn log_lines_since(log: &Path, offset: u64) -> Vec<String> {
    let Ok(mut file) = fs::File::open(log) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = offset.max(len.saturating_sub(64 * 1024)).min(len);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The last `n` lines as one line.
fn tail(lines: &[String], n: usize) -> String {
    if lines.is_empty() {
        return "no output".to_owned();
    }
    one_line(&lines[lines.len().saturating_sub(n)..].join(" | "))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `... Is another postmaster (PID 1234) running in data directory "..."?` -> 1234.
fn another_postmaster_pid(line: &str) -> Option<u32> {
    let rest = line.split("another postmaster (PID ").nth(1)?;
    rest.split(')').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the temp dir, mode 0755 (the `postgres` user must
    /// be able to reach the data dir inside it when the tests run as root);
    /// removed on drop.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(mode: u32) -> Self {
            let path = std::env::temp_dir().join(format!(
                "cairn-embedded-test-{:016x}",
                rand::random::<u64>()
            ));
            fs::DirBuilder::new().mode(0o700).create(&path).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            TestDir(path)
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// No PostgreSQL server binaries here: the test skips, except where
    /// `CAIRN_TEST_REQUIRE_PG` is set (`.ci/run` sets it, having installed
    /// them): there a skip would hide that nothing was tested.
    fn skip_without_server() {
        assert!(
            std::env::var_os("CAIRN_TEST_REQUIRE_PG").is_none(),
            "no PostgreSQL server binaries, and CAIRN_TEST_REQUIRE_PG is set"
        );
        eprintln!("skipping: no PostgreSQL server binaries on this machine");
    }

    async fn start_or_skip(data: &Path, ephemeral: bool) -> Option<EmbeddedPostgres> {
        match EmbeddedPostgres::start(data, EmbeddedOptions { ephemeral }).await {
            Ok(pg) => Some(pg),
            Err(EmbeddedPgError::NoServer) => {
                skip_without_server();
                None
            }
            Err(e) => panic!("start failed: {e}"),
        }
    }

    #[tokio::test]
    async fn embedded_pg_start_stop_restart_reuses_cluster() {
        let dir = TestDir::new(0o755);
        let data = dir.0.join("data");

        // First start: initdb (durable mode).
        let Some(pg) = start_or_skip(&data, false).await else {
            return;
        };
        assert!(data.join("pg/PG_VERSION").is_file());
        assert!(pg.socket_dir().ends_with("run"));
        let mut conn = PgConnection::connect_with(&pg.connect_options("cairn"))
            .await
            .expect("connect to cairn");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        let db: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(db, "cairn");
        sqlx::query("CREATE TABLE survives_restart (v text)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO survives_restart VALUES ('hello')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();

        // A second owner of the same data dir is refused while the first runs.
        let err = EmbeddedPostgres::start(&data, EmbeddedOptions::default())
            .await
            .expect_err("second start on a data dir in use");
        assert!(matches!(err, EmbeddedPgError::InUse { .. }), "{err}");
        assert!(
            err.to_string().contains("in use by another process"),
            "{err}"
        );

        pg.stop().await.expect("stop");
        assert!(!data.join("pg/postmaster.pid").exists());

        // Second start: reuse (ephemeral settings this time).
        let pg = start_or_skip(&data, true).await.expect("restart");
        let mut conn = PgConnection::connect_with(&pg.connect_options("cairn"))
            .await
            .expect("connect after restart");
        let v: String = sqlx::query_scalar("SELECT v FROM survives_restart")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(v, "hello");
        let fsync: String = sqlx::query_scalar("SHOW fsync")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(fsync, "off");
        conn.close().await.unwrap();
        pg.stop().await.expect("second stop");
    }

    #[tokio::test]
    async fn embedded_pg_two_clusters_concurrently() {
        let dir = TestDir::new(0o755);
        let (data_a, data_b) = (dir.0.join("a"), dir.0.join("b"));
        let (a, b) = tokio::join!(start_or_skip(&data_a, true), start_or_skip(&data_b, true));
        let (Some(a), Some(b)) = (a, b) else {
            return;
        };
        for pg in [&a, &b] {
            let mut conn = PgConnection::connect_with(&pg.connect_options("cairn"))
                .await
                .unwrap();
            let one: i32 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(one, 1);
            conn.close().await.unwrap();
        }
        let (ra, rb) = tokio::join!(a.stop(), b.stop());
        ra.unwrap();
        rb.unwrap();
    }

    #[tokio::test]
    async fn embedded_pg_untraversable_parent_is_a_clear_error() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipping: only meaningful when running as root");
            return;
        }
        let dir = TestDir::new(0o700);
        let data = dir.0.join("data");
        match EmbeddedPostgres::start(&data, EmbeddedOptions { ephemeral: true }).await {
            Err(EmbeddedPgError::NoServer) => skip_without_server(),
            Err(err @ EmbeddedPgError::NotTraversable { .. }) => {
                let msg = err.to_string();
                assert!(!msg.contains('\n'), "{msg}");
                let canonical = fs::canonicalize(&dir.0).unwrap();
                assert!(
                    msg.contains(&format!("cannot enter {} ", canonical.display())),
                    "{msg}"
                );
                assert!(msg.contains("chmod o+x"), "{msg}");
            }
            Err(other) => panic!("unexpected error: {other}"),
            Ok(pg) => {
                let _ = pg.stop().await;
                panic!("started although the parent directory is not traversable");
            }
        }
    }

    #[test]
    fn version_parsing() {
        assert_eq!(
            parse_version_output("postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)\n")
                .as_deref(),
            Some("15.13")
        );
        assert_eq!(major_version("15.13").as_deref(), Some("15"));
        assert_eq!(major_version("9.6.24").as_deref(), Some("9.6"));
        assert_eq!(major_version("17beta1").as_deref(), Some("17"));
        assert!(version_key("9.6").unwrap() < version_key("10").unwrap());
        assert!(version_key("main").is_none());
        assert_eq!(
            another_postmaster_pid(
                "HINT:  Is another postmaster (PID 4242) running in data directory \"/x/pg\"?"
            ),
            Some(4242)
        );
    }

    #[test]
    fn debian_bindirs_sorted_numerically() {
        let dir = TestDir::new(0o755);
        for v in ["9.6", "10", "15", "16", "main"] {
            fs::create_dir_all(dir.0.join(v).join("bin")).unwrap();
        }
        let got: Vec<PathBuf> = debian_bindirs(&dir.0);
        let names: Vec<String> = got
            .iter()
            .map(|p| {
                p.parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["16", "15", "10", "9.6"]);
    }

    async fn wait_gone(pid: u32, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if !process_alive(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    const CRASH_CHILD_ENV: &str = "CAIRN_EMBEDDED_PG_CRASH_CHILD_DIR";

    /// Helper process for `embedded_pg_owner_crash_shuts_down_server`: starts a
    /// cluster, reports its pid and waits to be killed. Does nothing otherwise.
    #[tokio::test]
    #[ignore = "helper run as a subprocess by embedded_pg_owner_crash_shuts_down_server"]
    async fn embedded_pg_crash_child() {
        let Some(dir) = std::env::var_os(CRASH_CHILD_ENV) else {
            return;
        };
        let pg = EmbeddedPostgres::start(Path::new(&dir), EmbeddedOptions { ephemeral: true })
            .await
            .expect("start in crash child");
        println!("READY {}", pg.pid());
        tokio::time::sleep(Duration::from_secs(120)).await;
        panic!("crash child was not killed");
    }

    #[tokio::test]
    async fn embedded_pg_owner_crash_shuts_down_server() {
        use std::io::BufRead;
        if find_candidates().is_empty() {
            skip_without_server();
            return;
        }
        let dir = TestDir::new(0o755);
        let data = dir.0.join("data");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "embedded_pg::tests::embedded_pg_crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_ENV, &data)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let pid: u32 = stdout
            .lines()
            .map_while(Result::ok)
            // libtest prints "test <name> ... " before the output, without a newline.
            .find_map(|l| {
                let at = l.find("READY ")?;
                Some(l[at + 6..].trim().parse().unwrap())
            })
            .expect("crash child never became ready");
        assert!(process_alive(pid));

        // SIGKILL the owner: the parent-death signal makes PostgreSQL shut down.
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            wait_gone(pid, Duration::from_secs(30)).await,
            "postgres {pid} outlived its owner"
        );

        // The cluster is reusable afterwards.
        let pg = EmbeddedPostgres::start(&data, EmbeddedOptions { ephemeral: true })
            .await
            .expect("restart after owner crash");
        let mut conn = PgConnection::connect_with(&pg.connect_options("cairn"))
            .await
            .unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        conn.close().await.unwrap();

        // Dropping without stop() requests a fast shutdown.
        let pid = pg.pid();
        drop(pg);
        assert!(
            wait_gone(pid, Duration::from_secs(30)).await,
            "postgres {pid} outlived the drop"
        );
    }

    #[test]
    fn errors_are_one_line() {
        let msg = EmbeddedPgError::NoServer.to_string();
        assert!(msg.starts_with("no PostgreSQL server found"));
        let p = PathBuf::from("/srv/cairn/pg");
        let all = [
            EmbeddedPgError::NoServer,
            EmbeddedPgError::VersionMismatch {
                dir: p.clone(),
                cluster_version: "14".into(),
                found: "15.13".into(),
                bindir: p.clone(),
            },
            EmbeddedPgError::NoUnprivilegedUser,
            EmbeddedPgError::NotTraversable {
                dir: p.clone(),
                user: "postgres".into(),
                mode: 0o700,
                owner: 0,
            },
            EmbeddedPgError::SocketPathTooLong {
                path: p.clone(),
                len: 120,
                max: SOCKET_PATH_MAX,
            },
            EmbeddedPgError::NotACluster { dir: p.clone() },
            EmbeddedPgError::InUse {
                dir: p.clone(),
                pid: Some(42),
            },
            EmbeddedPgError::Io {
                action: "create",
                path: p.clone(),
                source: io::Error::from(io::ErrorKind::PermissionDenied),
            },
            EmbeddedPgError::InitdbFailed {
                status: "exit code 1".into(),
                tail: tail(&["a".into(), "b".into()], 6),
                log: p.clone(),
            },
            EmbeddedPgError::StartupTimeout {
                secs: 30,
                last_error: one_line("x\ny"),
                log: p.clone(),
            },
            EmbeddedPgError::StopFailed { pid: 7 },
        ];
        for e in all {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            eprintln!("{msg}");
        }
        assert_eq!(
            EmbeddedPgError::InUse {
                dir: p,
                pid: Some(42)
            }
            .to_string(),
            "the data directory /srv/cairn/pg is in use by another process (pid 42)"
        );
    }

    #[test]
    fn handle_and_start_future_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EmbeddedPostgres>();
        let fut = EmbeddedPostgres::start(Path::new("/nonexistent"), EmbeddedOptions::default());
        assert_send(&fut);
    }
}
