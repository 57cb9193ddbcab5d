//! Real `cairn serve` processes for the tests that need more than the
//! in-process server: several processes on one database, SIGKILL, exit
//! codes, resource limits.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "cairn_webhook_procs_token_0123456789";

/// A URL for the `cairn` binary (trust authentication, as in the harness).
pub fn database_url(o: &sqlx::postgres::PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

/// A `cairn serve` child that is killed if the test fails (and dies with
/// the test process).
pub struct Cairn(Option<Child>);

impl Cairn {
    /// Waits for the process to end by itself; its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        let child = self.0.as_mut().unwrap();
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                self.0 = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.0
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// SIGKILL, as a crash would.
    pub fn kill_hard(&mut self) {
        let mut child = self.0.take().unwrap();
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.0.take().unwrap();
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        child.wait().unwrap()
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn start_cairn(url: &str, port: u16) -> Cairn {
    start_cairn_with(url, port, &[])
}

/// `cairn serve` with extra environment variables.
pub fn start_cairn_with(url: &str, port: u16, env: &[(&str, &str)]) -> Cairn {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.envs(env.iter().copied());
    // SAFETY: prctl is async-signal-safe; the server dies with the test.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = cmd
        .arg("serve")
        .env("CAIRN_DATABASE_URL", url)
        .env("CAIRN_LISTEN", format!("127.0.0.1:{port}"))
        .env("CAIRN_BOOTSTRAP_TOKEN", TOKEN)
        .env(
            "CAIRN_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .env("CAIRN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting cairn");
    Cairn(Some(child))
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        assert!(Instant::now() < deadline, "cairn not ready in 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
