//! The data directory: creating and locking it, the state of the cluster in
//! it, the user PostgreSQL runs as when Cairn runs as root, and the ownership
//! and permissions of what PostgreSQL must reach. All of it blocks: [`prepare`]
//! runs on the blocking pool.

use std::ffi::CString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::binaries::{choose_binaries, find_candidates, PgBinaries};
use crate::process::{process_alive, process_cwd_is};
use crate::{io_err, EmbeddedPgError, PORT, SOCKET_PATH_MAX};

/// How long to wait for an orphaned server (left by a Cairn that died) to finish
/// the fast shutdown that its parent-death signal triggered.
const ORPHAN_EXIT_WAIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub(crate) name: String,
    pub(crate) uid: libc::uid_t,
    pub(crate) gid: libc::gid_t,
}

pub(crate) struct Layout {
    pub(crate) data: PathBuf,
    pub(crate) cluster: PathBuf,
    pub(crate) socket: PathBuf,
    pub(crate) log: PathBuf,
}

pub(crate) struct Prepared {
    pub(crate) bins: PgBinaries,
    pub(crate) layout: Layout,
    pub(crate) run_as: Option<RunAs>,
    /// `<data>/pg.lock`, flocked; handed to the supervisor thread, which drops it
    /// once the server has exited.
    pub(crate) lock: fs::File,
    /// Directory to run initdb in, if the cluster must be created. When it is
    /// not the cluster directory, it is renamed to it after a successful initdb
    /// so that an interrupted initdb never leaves a half-made cluster behind.
    pub(crate) init: Option<PathBuf>,
}

pub(crate) enum ClusterState {
    Existing { major: String },
    Missing,
    EmptyDir,
}

pub(crate) fn prepare(requested: &Path) -> Result<Prepared, EmbeddedPgError> {
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
pub(crate) fn postmaster_status(pid_file: &Path) -> Option<String> {
    let text = fs::read_to_string(pid_file).ok()?;
    text.lines().nth(7).map(|l| l.trim().to_owned())
}
