//! Child processes: spawning `initdb` and `postgres` with the right
//! credentials, process group and parent-death signal, supervising the
//! server from its own thread, and reading what they wrote to the log.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use tokio::sync::{oneshot, watch};

use crate::binaries::PgBinaries;
use crate::datadir::{Layout, RunAs};
use crate::{io_err, EmbeddedPgError, ExitOutcome, SUPERUSER};

// ---------------------------------------------------------------------------
// Any process: liveness, working directory
// ---------------------------------------------------------------------------

/// `Some(state)` from /proc/<pid>/stat, `None` if there is no such process.
fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

pub(crate) fn process_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH);
    exists && !matches!(process_state(pid), Some('Z') | Some('X'))
}

/// Whether process `pid` has `dir` as its working directory (a postmaster and
/// its backends chdir into the data directory). `None` if we cannot tell.
pub(crate) fn process_cwd_is(pid: u32, dir: &Path) -> Option<bool> {
    let cwd = fs::metadata(format!("/proc/{pid}/cwd")).ok()?;
    let dir = fs::metadata(dir).ok()?;
    Some(cwd.dev() == dir.dev() && cwd.ino() == dir.ino())
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

/// stdin from /dev/null, stdout and stderr appended to the log; the `PG*`
/// environment of Cairn (PGDATA, PGPORT, PGOPTIONS...) is not passed on.
pub(crate) fn child_io(cmd: &mut Command, log: &Path) -> Result<(), EmbeddedPgError> {
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
pub(crate) fn configure_child(
    cmd: &mut Command,
    run_as: Option<&RunAs>,
    death_signal: libc::c_int,
) {
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
pub(crate) async fn spawn_supervised(
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

pub(crate) async fn initdb(
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

pub(crate) fn describe_exit(outcome: &ExitOutcome) -> String {
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
pub(crate) fn log_lines_since(log: &Path, offset: u64) -> Vec<String> {
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
pub(crate) fn tail(lines: &[String], n: usize) -> String {
    if lines.is_empty() {
        return "no output".to_owned();
    }
    one_line(&lines[lines.len().saturating_sub(n)..].join(" | "))
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `... Is another postmaster (PID 1234) running in data directory "..."?` -> 1234.
pub(crate) fn another_postmaster_pid(line: &str) -> Option<u32> {
    let rest = line.split("another postmaster (PID ").nth(1)?;
    rest.split(')').next()?.trim().parse().ok()
}
