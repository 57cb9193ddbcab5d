//! The machine's Go toolchain, hermetic: the Go tests build real binaries
//! (no network, no user configuration, a shared build cache).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{fixture, scratch_dir};

/// The `go` tool; CI must have it, elsewhere the test is skipped loudly.
pub fn go_tool() -> Option<PathBuf> {
    let found = ["/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install golang-go (the Go tests build real binaries)"
        );
        eprintln!("SKIPPED: go not installed (apt-get install golang-go)");
    }
    found
}

/// A hermetic Go environment: no network, no user config, a shared cache.
pub fn go_cmd(go: &Path, dir: &Path) -> Command {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache");
    let mut c = Command::new(go);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/local/bin")
        .env("HOME", dir.join(".home"))
        .env("GOCACHE", cache)
        .env("GOPATH", dir.join(".gopath"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOENV", "off")
        .env("CGO_ENABLED", "0");
    c
}

pub fn run(mut c: Command) -> String {
    let out = c.output().expect("running a command");
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The stdlib-only `hello` module in a fresh directory.
pub fn hello_source(tag: &str) -> PathBuf {
    let dir = scratch_dir(tag);
    std::fs::write(dir.join("main.go"), fixture("go/hello/main.go")).unwrap();
    std::fs::write(dir.join("go.mod"), fixture("go/hello/go.mod.txt")).unwrap();
    dir
}

pub fn build(go: &Path, dir: &Path, flags: &[&str]) -> PathBuf {
    let out = dir.join("hello.bin");
    let mut c = go_cmd(go, dir);
    c.arg("build").args(flags).arg("-o").arg(&out).arg(".");
    run(c);
    out
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("HOME", dir.join(".home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=Cairn Test",
            "-c",
            "user.email=test@example.com",
        ])
        .args(args);
    run(c)
}
