//! Finding the PostgreSQL server binaries installed on the machine and
//! choosing the ones that match the cluster's version.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::datadir::ClusterState;
use crate::EmbeddedPgError;

#[derive(Debug, Clone)]
pub(crate) struct PgBinaries {
    pub(crate) bindir: PathBuf,
    pub(crate) initdb: PathBuf,
    pub(crate) postgres: PathBuf,
    /// Full server version, e.g. "15.13", if `postgres --version` could be parsed.
    pub(crate) version: Option<String>,
}

/// Candidate server installations, in order of preference: `PATH`,
/// `pg_config --bindir`, `/usr/lib/postgresql/*/bin` (highest version first).
pub(crate) fn find_candidates() -> Vec<PgBinaries> {
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
pub(crate) fn debian_bindirs(root: &Path) -> Vec<PathBuf> {
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

pub(crate) fn version_key(name: &str) -> Option<Vec<u64>> {
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
pub(crate) fn parse_version_output(out: &str) -> Option<String> {
    let rest = out.split("(PostgreSQL)").nth(1)?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// The major version as written in PG_VERSION: `15.13` -> `15`, `9.6.24` -> `9.6`,
/// `17beta1` -> `17`.
pub(crate) fn major_version(version: &str) -> Option<String> {
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

pub(crate) fn choose_binaries(
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
