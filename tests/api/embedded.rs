//! The real `cairn` binary with no database URL: it runs its own
//! PostgreSQL under CAIRN_DATA_DIR, keeps data across restarts, and stops
//! it on SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{fixture, free_port, scratch_dir};

const TOKEN: &str = "cairn_embedded_test_token_0123456789";

fn start(data: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("serve")
        .env_remove("CAIRN_DATABASE_URL")
        .env("CAIRN_DATA_DIR", data)
        .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
        .env("CAIRN_BOOTSTRAP_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting cairn")
}

async fn wait_ready(client: &reqwest::Client, base: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
            if res.status() == 200 {
                return;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("cairn exited before it was ready: {status}");
        }
        assert!(Instant::now() < deadline, "cairn not ready in 90 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminate(mut child: Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "cairn exited with {status} after SIGTERM");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cairn did not stop within 60 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_database_survives_restart() {
    let data = scratch_dir("embedded").join("data");
    let client = reqwest::Client::new();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(&data, port);
    wait_ready(&client, &base, &mut child).await;
    let res = client
        .post(format!(
            "{base}/api/v1/sboms?project=acme/embedded&artifact=app&version=1"
        ))
        .bearer_auth(TOKEN)
        .body(fixture("sbom/guac__alpine-cyclonedx.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(
        data.join("pg/PG_VERSION").exists(),
        "cluster under CAIRN_DATA_DIR"
    );
    terminate(child);
    assert!(
        !data.join("pg/postmaster.pid").exists(),
        "PostgreSQL stopped with cairn"
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(&data, port);
    wait_ready(&client, &base, &mut child).await;
    let res = client
        .get(format!("{base}/api/v1/sboms/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the SBOM is still there after a restart");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["project"], "acme/embedded");
    terminate(child);
    let _ = std::fs::remove_dir_all(data.parent().unwrap());
}

#[test]
fn unreachable_data_dir_fails_with_one_clear_line() {
    // A file where the data directory should be.
    let dir = scratch_dir("embedded-bad");
    let file = dir.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env_remove("CAIRN_DATABASE_URL")
        .env("CAIRN_DATA_DIR", &file)
        .env("CAIRN_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("cairn: "), "{stderr}");
    assert!(last.contains("not-a-dir"), "{stderr}");
}
