use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::binaries::{
    debian_bindirs, find_candidates, major_version, parse_version_output, version_key,
};
use crate::process::{another_postmaster_pid, one_line, process_alive, tail};
use crate::{EmbeddedOptions, EmbeddedPgError, EmbeddedPostgres, SOCKET_PATH_MAX};

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

/// No PostgreSQL server binaries here: the test skips, saying so, except
/// where a skip would hide that nothing was tested: under CI (`CI` is set, as
/// CI systems do) or with `CAIRN_TEST_REQUIRE_PG` set (`.ci/run` sets it,
/// having installed them). There it fails instead.
fn skip_without_server() {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    for var in ["CAIRN_TEST_REQUIRE_PG", "CI"] {
        assert!(
            std::env::var_os(var).is_none(),
            "{test}: no PostgreSQL server binaries on this machine, and {var} is set, so the \
             test must not skip: install the PostgreSQL server package (Debian: apt-get install \
             postgresql)"
        );
    }
    eprintln!(
        "SKIPPED {test}: no PostgreSQL server binaries on this machine (Debian: apt-get install \
         postgresql); set CAIRN_TEST_REQUIRE_PG to make this a failure"
    );
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
        // Not a missing prerequisite: the traversal check only applies when
        // PostgreSQL runs as another user than Cairn, i.e. when Cairn is root.
        eprintln!(
            "SKIPPED embedded_pg_untraversable_parent_is_a_clear_error: only meaningful when \
             running as root (PostgreSQL then runs as another user, who must be able to reach the \
             data directory); running as uid {}",
            unsafe { libc::geteuid() }
        );
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
        parse_version_output("postgres (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)\n").as_deref(),
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
        eprintln!(
            "embedded_pg_crash_child does nothing on its own: \
             embedded_pg_owner_crash_shuts_down_server runs it with {CRASH_CHILD_ENV} set"
        );
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
            "tests::embedded_pg_crash_child",
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
