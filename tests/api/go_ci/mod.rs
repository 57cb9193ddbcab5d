//! Go and CI-hardening evidence: real Go binaries built here with the
//! machine's Go toolchain (Debian `golang-go`), their build info through the
//! API, bad binaries, go.mod / go.sum, workflows, .gitlab-ci.yml and
//! Dockerfiles with their findings.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{expect_problem, fixture, scratch_dir, spawn_app, TestApp, ADMIN_TOKEN};

/// The `go` tool; CI must have it, elsewhere the test is skipped loudly.
pub(crate) fn go_tool() -> Option<PathBuf> {
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
fn go_cmd(go: &Path, dir: &Path) -> Command {
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

fn run(mut c: Command) -> String {
    let out = c.output().expect("running a command");
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The stdlib-only `hello` module in a fresh directory.
pub(crate) fn hello_source(tag: &str) -> PathBuf {
    let dir = scratch_dir(tag);
    std::fs::write(dir.join("main.go"), fixture("go/hello/main.go")).unwrap();
    std::fs::write(dir.join("go.mod"), fixture("go/hello/go.mod.txt")).unwrap();
    dir
}

pub(crate) fn build(go: &Path, dir: &Path, flags: &[&str]) -> PathBuf {
    let out = dir.join("hello.bin");
    let mut c = go_cmd(go, dir);
    c.arg("build").args(flags).arg("-o").arg(&out).arg(".");
    run(c);
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
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

async fn post(app: &TestApp, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_release(app: &TestApp, q: &str, name: &str) -> reqwest::Response {
    let path = format!("{q}&file=.github/workflows/release.yml");
    post(app, &path, fixture(&format!("ci/{name}"))).await
}

/// A re-upload of what is already the latest: 200, the stored record.
async fn unchanged(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status.as_u16(), 200, "{body}");
    body
}

async fn queued(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM policy_queue")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status.as_u16(), 201, "{body}");
    body
}

/// Rows of every table Go/CI evidence could touch.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "projects",
        "artifacts",
        "go_builds",
        "go_module_files",
        "ci_definitions",
    ] {
        out.push(
            sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                .fetch_one(&app.pool)
                .await
                .unwrap(),
        );
    }
    out
}

const Q: &str = "/api/v1/go-binaries?project=acme/hello&artifact=hello";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trimpath_stripped_binary_build_info() {
    let Some(go) = go_tool() else { return };
    let dir = hello_source("go-trimpath");
    let bin = build(
        &go,
        &dir,
        &[
            "-trimpath",
            "-buildvcs=false",
            "-ldflags=-s -w -X main.version=1.2.3",
        ],
    );
    let bytes = std::fs::read(&bin).unwrap();
    let goversion = run({
        let mut c = go_cmd(&go, &dir);
        c.args(["env", "GOVERSION"]);
        c
    });
    let app = spawn_app().await;
    let body = created(post(&app, &format!("{Q}&version=1.2.3"), bytes.clone()).await).await;
    assert_eq!(body["go_version"], goversion.trim());
    assert_eq!(body["source"], "binary");
    assert_eq!(body["path"], "example.com/hello");
    assert_eq!(body["main_module"]["path"], "example.com/hello");
    assert_eq!(body["main_module"]["version"], "(devel)");
    let s = &body["settings"];
    assert_eq!(s["-trimpath"], "true");
    // With -trimpath the toolchain leaves -ldflags out of the build info
    // (it may hold build paths: golang/go#52372).
    assert!(s.get("-ldflags").is_none());
    assert_eq!(s["CGO_ENABLED"], "0");
    assert_eq!(s["GOOS"], "linux");
    assert_eq!(
        s["GOARCH"],
        std::env::consts::ARCH
            .replace("x86_64", "amd64")
            .replace("aarch64", "arm64")
    );
    assert!(s.get("vcs.revision").is_none());
    assert_eq!(body["modules"], serde_json::json!([]), "stdlib only");
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    assert_eq!(body["digest"], digest);
    assert_eq!(body["size"], bytes.len());
    // The same binary again: nothing new stored, the same record back.
    let rows = counts(&app).await;
    let again = unchanged(post(&app, &format!("{Q}&version=1.2.3"), bytes.clone()).await).await;
    assert_eq!(again["id"], body["id"]);
    assert_eq!(again["settings"], body["settings"]);
    assert_eq!(counts(&app).await, rows);
    // The digest links the artifact; the binary itself is not kept.
    let artifact = app
        .get_json(&format!("/api/v1/artifacts/{}", body["artifact_id"]))
        .await;
    assert_eq!(artifact["digest"], digest);
    let stored = app
        .get_json(&format!(
            "/api/v1/artifacts/{}/go-build",
            body["artifact_id"]
        ))
        .await;
    assert_eq!(stored["settings"], body["settings"]);
    assert_eq!(stored["cross_check"]["sbom_compared"], false);
    // Without its section header table the build info is found by scanning.
    let mut no_sections = bytes.clone();
    no_sections[0x28..0x30].fill(0);
    let scanned = created(post(&app, &format!("{Q}&version=no-sections"), no_sections).await).await;
    assert_eq!(scanned["settings"], body["settings"]);
    // The same artifact version with another binary is a conflict.
    let other = build(&go, &dir, &["-trimpath", "-buildvcs=false"]);
    let before = counts(&app).await;
    let p = expect_problem(
        post(
            &app,
            &format!("{Q}&version=1.2.3"),
            std::fs::read(other).unwrap(),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["type"], "urn:cairn:problem:conflict");
    assert_eq!(counts(&app).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modified_tree_without_trimpath_and_version_m_text() {
    let Some(go) = go_tool() else { return };
    let dir = hello_source("go-vcs");
    std::fs::write(dir.join(".gitignore"), ".home/\n.gopath/\n*.bin\n").unwrap();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "hello"]);
    let head = git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    // An uncommitted change: the build records vcs.modified=true.
    let mut src = std::fs::read_to_string(dir.join("main.go")).unwrap();
    src.push_str("\n// local change\n");
    std::fs::write(dir.join("main.go"), src).unwrap();
    let bin = build(
        &go,
        &dir,
        &["-buildvcs=true", "-ldflags=-X main.version=dev-1"],
    );
    let app = spawn_app().await;
    let body = created(
        post(
            &app,
            &format!("{Q}&version=dev"),
            std::fs::read(&bin).unwrap(),
        )
        .await,
    )
    .await;
    let s = &body["settings"];
    assert_eq!(s["vcs"], "git");
    assert_eq!(s["vcs.revision"], head);
    assert_eq!(s["vcs.modified"], "true");
    assert!(s["vcs.time"].as_str().unwrap().ends_with('Z'));
    assert!(s.get("-trimpath").is_none(), "built without -trimpath");
    // Recorded quoted (it holds a space), answered unquoted.
    assert_eq!(s["-ldflags"], "-X main.version=dev-1");

    // `go version -m` of the same binary gives the same build info.
    let text = run({
        let mut c = go_cmd(&go, &dir);
        c.args(["version", "-m"]).arg(&bin);
        c
    });
    let from_text =
        created(post(&app, &format!("{Q}&version=dev-text"), text.into_bytes()).await).await;
    assert_eq!(from_text["source"], "version-m");
    assert_eq!(from_text["settings"], body["settings"]);
    assert_eq!(from_text["go_version"], body["go_version"]);
    assert_eq!(from_text["main_module"], body["main_module"]);
    assert!(from_text["digest"].is_null(), "text has no binary digest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_binaries_get_problems_and_store_nothing() {
    let app = spawn_app().await;
    let mut cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "non-Go ELF",
            std::fs::read("/bin/true").unwrap(),
            422,
            "not-a-go-binary",
        ),
        (
            "garbage",
            [0x13, 0x37, 0x00, 0xff, 0x42].repeat(1000),
            422,
            "not-a-go-binary",
        ),
        ("text", b"hello, world\n".to_vec(), 422, "not-a-go-binary"),
        ("empty", Vec::new(), 400, "invalid-request"),
    ];
    let go_bin;
    if let Some(go) = go_tool() {
        let dir = hello_source("go-bad");
        go_bin = std::fs::read(build(&go, &dir, &["-trimpath"])).unwrap();
        cases.push((
            "truncated Go binary",
            go_bin[..go_bin.len() / 2].to_vec(),
            422,
            "truncated-binary",
        ));
        cases.push((
            "Go ELF header only",
            go_bin[..64].to_vec(),
            422,
            "truncated-binary",
        ));
    }
    let before = counts(&app).await;
    for (what, body, status, slug) in cases {
        let p = expect_problem(post(&app, &format!("{Q}&version=1"), body).await, status).await;
        assert_eq!(
            p["type"],
            format!("urn:cairn:problem:{slug}"),
            "{what}: {p}"
        );
        assert_eq!(counts(&app).await, before, "{what}: nothing stored");
    }
    // Compressed binaries and bad parameters.
    let res = app
        .client
        .post(app.url(&format!("{Q}&version=1")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-encoding", "gzip")
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    expect_problem(res, 415).await;
    expect_problem(
        post(
            &app,
            "/api/v1/go-binaries?project=acme/hello&artifact=hello",
            vec![1],
        )
        .await,
        400,
    )
    .await;
    let viewer = app.token("viewer").await;
    let res = app
        .client
        .post(app.url(&format!("{Q}&version=1")))
        .bearer_auth(viewer)
        .body(vec![1])
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    assert_eq!(counts(&app).await, before);
}

/// `go version -m` text with dependencies, against an SBOM that lists one
/// at another version and misses another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sbom_cross_check() {
    let app = spawn_app().await;
    let q = "project=acme/api&artifact=api&version=2.0.0";
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [
            {"type": "library", "name": "github.com/google/uuid", "version": "v1.6.0",
             "purl": "pkg:golang/github.com/google/uuid@v1.6.0"},
            {"type": "library", "name": "golang.org/x/text", "version": "v0.13.0",
             "purl": "pkg:golang/golang.org/x/text@v0.13.0"}
        ]
    });
    created(app.upload(q, serde_json::to_vec(&sbom).unwrap()).await).await;
    let body = created(
        post(
            &app,
            &format!("/api/v1/go-binaries?{q}"),
            fixture("go/version-m.txt"),
        )
        .await,
    )
    .await;
    assert_eq!(body["modules"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["modules"][2]["replace"]["path"],
        "github.com/acme-forks/errors"
    );
    let cc = &body["cross_check"];
    assert_eq!(cc["sbom_compared"], true);
    let kinds: Vec<(&str, &str)> = cc["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("version-differs", "golang.org/x/text"),
            ("missing-from-sbom", "github.com/pkg/errors"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_mod_and_go_sum() {
    let app = spawn_app().await;
    let q = "/api/v1/go-modules?project=acme/api&artifact=api&version=2.0.0";
    let m = created(post(&app, &format!("{q}&kind=go.mod"), fixture("go/go.mod")).await).await;
    let p = &m["parsed"];
    assert_eq!(p["module"], "github.com/acme/payments-api");
    assert_eq!(p["toolchain"], "go1.22.3");
    assert_eq!(p["require"].as_array().unwrap().len(), 4);
    assert_eq!(p["require"][3]["indirect"], true);
    assert_eq!(p["replace"][0]["fork"], true);
    assert_eq!(p["replace"][0]["new_path"], "github.com/acme-forks/errors");
    assert_eq!(p["replace"][1]["local_path"], true);
    assert_eq!(
        p["exclude"][0],
        serde_json::json!(["golang.org/x/net", "v0.1.0"])
    );
    assert_eq!(p["retract"].as_array().unwrap().len(), 2);
    let s = created(post(&app, &format!("{q}&kind=go.sum"), fixture("go/go.sum")).await).await;
    assert_eq!(s["parsed"].as_array().unwrap().len(), 6);
    assert_eq!(
        s["unsummed"],
        serde_json::json!(["github.com/pkg/errors v0.9.1", "golang.org/x/sync v0.7.0"])
    );
    let before = counts(&app).await;
    // Re-uploading the latest go.mod stores nothing and queues nothing.
    sqlx::query("DELETE FROM policy_queue")
        .execute(&app.pool)
        .await
        .unwrap();
    let again =
        unchanged(post(&app, &format!("{q}&kind=go.mod"), fixture("go/go.mod")).await).await;
    assert_eq!(again["id"], m["id"]);
    assert_eq!(again["parsed"], m["parsed"]);
    assert_eq!(counts(&app).await, before);
    assert_eq!(queued(&app).await, 0);
    for (kind, body) in [
        ("go.mod", b"this is not go.mod\n".to_vec()),
        ("go.sum", b"x\n".to_vec()),
    ] {
        let pr = expect_problem(post(&app, &format!("{q}&kind={kind}"), body).await, 422).await;
        assert_eq!(pr["type"], "urn:cairn:problem:invalid-definition");
    }
    expect_problem(
        post(&app, &format!("{q}&kind=go.work"), b"x".to_vec()).await,
        400,
    )
    .await;
    assert_eq!(counts(&app).await, before);
}

fn findings(body: &Value) -> Vec<(String, u64, String)> {
    body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(!f["message"].as_str().unwrap().is_empty());
            assert!(!f["fix"].as_str().unwrap().is_empty());
            (
                f["check"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_findings_and_hardened_version() {
    let app = spawn_app().await;
    let q = "/api/v1/ci-definitions?project=acme/api";
    let body = created(post_release(&app, q, "release-unsafe.yml").await).await;
    assert_eq!(body["kind"], "github-workflow");
    let f = findings(&body);
    let got: Vec<(&str, u64)> = f.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        got,
        [
            ("top-level-permissions", 13),
            ("unpinned-action", 19),
            ("untrusted-checkout", 21),
            ("unpinned-action", 22),
            ("script-injection", 34),
            ("job-permissions", 40),
            ("runner", 37),
            ("unpinned-action", 42),
            ("unpinned-action", 43),
            ("unpinned-action", 47),
            ("publish-without-oidc", 45),
        ]
    );
    assert!(f.iter().all(|(_, _, r)| r == "workflow-hardening"));
    let all = body["findings"].as_array().unwrap();
    assert_eq!(all[0]["file"], ".github/workflows/release.yml");
    let pin = &all[1];
    assert_eq!(pin["job"], "test");
    assert_eq!(pin["step"], "actions/checkout@v4");
    assert!(pin["fix"]
        .as_str()
        .unwrap()
        .starts_with("uses: actions/checkout@<40-hex commit sha> # v4"));
    assert!(all[4]["message"]
        .as_str()
        .unwrap()
        .contains("github.event.issue.title"));
    assert_eq!(all[4]["step"], "Greet");
    assert!(all[10]["message"]
        .as_str()
        .unwrap()
        .contains("DOCKERHUB_TOKEN"));

    let hardened = created(post_release(&app, q, "release-hardened.yml").await).await;
    assert_eq!(hardened["findings"], serde_json::json!([]), "{hardened}");
    // The same file again is the stored record; the earlier (unsafe)
    // version sent again is new: it is the file's latest definition now.
    let rows = counts(&app).await;
    let again = unchanged(post_release(&app, q, "release-hardened.yml").await).await;
    assert_eq!(again["id"], hardened["id"]);
    assert_eq!(counts(&app).await, rows);
    let reverted = created(post_release(&app, q, "release-unsafe.yml").await).await;
    assert_ne!(reverted["id"], body["id"]);
    let hardened = created(post_release(&app, q, "release-hardened.yml").await).await;
    // The project's list shows the latest definition of each file.
    let list = app
        .get_json("/api/v1/ci-definitions?project=acme/api")
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], hardened["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerfiles_and_gitlab_ci() {
    let app = spawn_app().await;
    let q = "/api/v1/ci-definitions?project=acme/img";
    let tags = created(post(&app, q, fixture("ci/Dockerfile.tags")).await).await;
    assert_eq!(tags["kind"], "dockerfile");
    assert_eq!(tags["file"], "Dockerfile");
    let got: Vec<(String, u64, String)> = findings(&tags);
    let got: Vec<(&str, u64)> = got.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        got,
        [
            ("unpinned-base", 3),
            ("unpinned-base", 8),
            ("final-base-not-minimal", 8),
            ("runs-as-root", 8),
        ]
    );
    let all = tags["findings"].as_array().unwrap();
    assert!(
        all[0]["message"]
            .as_str()
            .unwrap()
            .contains("golang:1.22-bookworm"),
        "ARG substituted"
    );
    assert_eq!(all[0]["rule"], "base-image-pinned");
    assert!(all[1]["fix"]
        .as_str()
        .unwrap()
        .starts_with("FROM debian:bookworm-slim@sha256:"));

    let pinned = created(
        post(
            &app,
            &format!("{q}&kind=dockerfile&file=build/Dockerfile"),
            fixture("ci/Dockerfile.pinned"),
        )
        .await,
    )
    .await;
    assert_eq!(pinned["findings"], serde_json::json!([]), "{pinned}");

    let gl = created(post(&app, q, fixture("ci/gitlab-ci.yml")).await).await;
    assert_eq!(gl["kind"], "gitlab-ci");
    let got: Vec<(String, u64, String)> = findings(&gl);
    let got: Vec<(&str, u64)> = got.iter().map(|(c, l, _)| (c.as_str(), *l)).collect();
    assert_eq!(
        got,
        [
            ("unpinned-image", 10),
            ("unpinned-include", 4),
            ("unpinned-include", 6),
            ("runner", 20),
        ]
    );

    // Bad definitions: precise problems, nothing stored.
    let before = counts(&app).await;
    for (query, body, status) in [
        (q.to_owned(), b"hello: world\n".to_vec(), 422),
        (
            format!("{q}&kind=github-workflow"),
            b"on: push\njobs: [\n".to_vec(),
            422,
        ),
        (
            format!("{q}&kind=github-workflow"),
            b"on: push\n".to_vec(),
            422,
        ),
        (format!("{q}&kind=dockerfile"), b"RUN echo\n".to_vec(), 422),
        (format!("{q}&kind=jenkins"), b"x".to_vec(), 400),
        (q.to_owned(), vec![0xff, 0xfe, 0x00], 422),
        (
            q.to_owned(),
            format!("a: {}", "[".repeat(200)).into_bytes(),
            422,
        ),
    ] {
        expect_problem(post(&app, &query, body).await, status).await;
        assert_eq!(counts(&app).await, before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_go_build_and_ci_hardening_pages() {
    let app = spawn_app().await;
    let q = "project=acme/api&artifact=api&version=2.0.0";
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "name": "golang.org/x/text", "version": "v0.13.0",
                        "purl": "pkg:golang/golang.org/x/text@v0.13.0"}]
    });
    created(app.upload(q, serde_json::to_vec(&sbom).unwrap()).await).await;
    let build = created(
        post(
            &app,
            &format!("/api/v1/go-binaries?{q}"),
            fixture("go/version-m.txt"),
        )
        .await,
    )
    .await;
    created(
        post(
            &app,
            "/api/v1/ci-definitions?project=acme/api&file=.github/workflows/release.yml",
            fixture("ci/release-unsafe.yml"),
        )
        .await,
    )
    .await;
    created(
        post(
            &app,
            "/api/v1/ci-definitions?project=acme/api",
            fixture("ci/Dockerfile.pinned"),
        )
        .await,
    )
    .await;

    let login = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let id = &build["artifact_id"];
    let artifact = app.page(&session, &format!("/ui/artifacts/{id}")).await;
    assert!(artifact.contains("Go build info"));
    assert!(artifact.contains("go1.22.3"));
    assert!(artifact.contains("4f2d1c7a9e0b3d5f6a8c1e2b4d6f8a0c2e4b6d8f"));
    assert!(artifact.contains("3 mismatch(es)"), "cross-check shown");
    assert!(artifact
        .contains("the binary links golang.org/x/text v0.14.0 but the SBOM lists version v0.13.0"));
    let go = app.page(&session, &format!("/ui/artifacts/{id}/go")).await;
    assert!(go.contains("-ldflags"));
    assert!(go.contains("-s -w -X main.version=2.0.0"));
    assert!(go.contains("github.com/acme-forks/errors"));

    let project = app.page(&session, "/ui/projects/acme%2Fapi").await;
    assert!(project.contains("/ui/projects/acme%2Fapi/ci"));
    let ci = app.page(&session, "/ui/projects/acme%2Fapi/ci").await;
    assert!(ci.contains("2 file(s), 11 finding(s)"), "{ci}");
    assert!(ci.contains(".github/workflows/release.yml"));
    let fix_at = ci
        .find("<pre class=\"fix\">uses: actions/checkout@")
        .map(|i| i + 17)
        .expect("fix shown");
    assert!(
        ci[fix_at..].starts_with("uses: actions/checkout@&#60;40-hex commit sha&#62; # v4"),
        "{}",
        &ci[fix_at..fix_at + 80]
    );
    assert!(ci.contains("script-injection"));
    assert!(
        ci.contains("hardened"),
        "the pinned Dockerfile has no findings"
    );
    // Without a session: the sign-in page, not the data.
    let anon = app
        .client
        .get(app.url("/ui/projects/acme%2Fapi/ci"))
        .send()
        .await
        .unwrap();
    assert!(!anon.text().await.unwrap().contains("script-injection"));
}

/// Mach-O, PE and 32-bit ELF, cross-compiled (stdlib only: no download).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_compiled_macho_pe_and_elf32() {
    let Some(go) = go_tool() else { return };
    let dir = hello_source("go-cross");
    let app = spawn_app().await;
    for (goos, goarch, magic) in [
        ("darwin", "arm64", &b"\xcf\xfa\xed\xfe"[..]),
        ("windows", "amd64", &b"MZ"[..]),
        ("linux", "386", &b"\x7fELF\x01"[..]),
    ] {
        let out = dir.join(format!("hello-{goos}-{goarch}"));
        let mut c = go_cmd(&go, &dir);
        c.env("GOOS", goos)
            .env("GOARCH", goarch)
            .args(["build", "-trimpath", "-o"])
            .arg(&out)
            .arg(".");
        run(c);
        let bytes = std::fs::read(&out).unwrap();
        assert!(
            bytes.starts_with(magic),
            "{goos}/{goarch} executable format"
        );
        let body =
            created(post(&app, &format!("{Q}-{goos}-{goarch}&version=1"), bytes).await).await;
        assert_eq!(body["settings"]["GOOS"], goos);
        assert_eq!(body["settings"]["GOARCH"], goarch);
        assert_eq!(body["settings"]["-trimpath"], "true");
        assert_eq!(body["main_module"]["path"], "example.com/hello");
    }
}

/// A real binary with a dependency replaced by a local directory: the
/// build info records the `=>` replacement, and go-modules-verified's
/// input shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_replacement_recorded_in_binary() {
    let Some(go) = go_tool() else { return };
    let dir = scratch_dir("go-replace");
    let lib = dir.join("lib");
    let app_dir = dir.join("app");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::create_dir_all(&app_dir).unwrap();
    std::fs::write(lib.join("go.mod"), "module example.com/greet\n\ngo 1.19\n").unwrap();
    std::fs::write(
        lib.join("greet.go"),
        "package greet\n\nfunc Hello() string { return \"hello\" }\n",
    )
    .unwrap();
    std::fs::write(
        app_dir.join("go.mod"),
        "module example.com/app\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n\nreplace example.com/greet v1.0.0 => ../lib\n",
    )
    .unwrap();
    std::fs::write(
        app_dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
    )
    .unwrap();
    let bin = build(&go, &app_dir, &["-trimpath", "-buildvcs=false"]);
    let app = spawn_app().await;
    let body = created(
        post(
            &app,
            &format!("{Q}-app&version=1"),
            std::fs::read(bin).unwrap(),
        )
        .await,
    )
    .await;
    assert_eq!(body["main_module"]["path"], "example.com/app");
    let deps = body["modules"].as_array().unwrap();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0]["path"], "example.com/greet");
    assert_eq!(deps[0]["version"], "v1.0.0");
    assert_eq!(deps[0]["replace"]["path"], "../lib");
    assert_eq!(deps[0]["replace"]["version"], "(devel)");
    // The local module has no module identity to find in an SBOM.
    assert_eq!(body["cross_check"]["mismatches"], serde_json::json!([]));
}

/// The five rules through the policy engine (dry run) on real uploaded
/// evidence; uploads queue the artifact for evaluation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_in_the_policy_engine() {
    let app = spawn_app().await;
    let q = "project=acme/api&artifact=api&version=2.0.0";
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "name": "golang.org/x/text", "version": "v0.13.0",
                        "purl": "pkg:golang/golang.org/x/text@v0.13.0"}]
    });
    created(app.upload(q, serde_json::to_vec(&sbom).unwrap()).await).await;
    let build = created(
        post(
            &app,
            &format!("/api/v1/go-binaries?{q}"),
            fixture("go/version-m.txt"),
        )
        .await,
    )
    .await;
    let id = build["artifact_id"].as_i64().unwrap();
    for (kind, file) in [("go.mod", "go/go.mod"), ("go.sum", "go/go.sum")] {
        created(
            post(
                &app,
                &format!("/api/v1/go-modules?{q}&kind={kind}"),
                fixture(file),
            )
            .await,
        )
        .await;
    }
    created(
        post(
            &app,
            "/api/v1/ci-definitions?project=acme/api&file=.github/workflows/release.yml",
            fixture("ci/release-unsafe.yml"),
        )
        .await,
    )
    .await;
    created(
        post(
            &app,
            "/api/v1/ci-definitions?project=acme/api",
            fixture("ci/Dockerfile.pinned"),
        )
        .await,
    )
    .await;
    let queued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM policy_queue WHERE artifact_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(queued, 1, "the uploads queued the artifact for evaluation");

    let res = app
        .client
        .post(app.url("/api/v1/policy-dry-run"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"artifact_id": id, "rules": [
            {"rule": "go-modules-verified", "params": {"allowed_forks": ["github.com/acme-forks/*"]}},
            {"rule": "go-reproducible-build", "params": {"required_ldflags": ["-s -w"], "cgo_enabled": "0"}},
            {"rule": "sbom-matches-binary"},
            {"rule": "workflow-hardening"},
            {"rule": "base-image-pinned"}
        ]}))
        .send()
        .await
        .unwrap();
    let dry: Value = res.json().await.unwrap();
    assert_eq!(dry["decision"], "deny", "{dry}");
    let status: Vec<(&str, &str)> = dry["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap_or_default(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("go-modules-verified", "fail"),
            ("go-reproducible-build", "pass"),
            ("sbom-matches-binary", "fail"),
            ("workflow-hardening", "fail"),
            ("base-image-pinned", "pass"),
        ],
        "{dry}"
    );
    let keys = |i: usize| -> Vec<String> {
        dry["results"][i]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        keys(0),
        [
            "local-replace:golang.org/x/sync",
            "unsummed:github.com/pkg/errors",
            "unsummed:golang.org/x/sync",
            "env:.github/workflows/release.yml:52",
        ]
    );
    assert_eq!(
        keys(2),
        [
            "missing-from-sbom:github.com/google/uuid",
            "version-differs:golang.org/x/text",
            "missing-from-sbom:github.com/pkg/errors",
        ]
    );
    assert_eq!(keys(3).len(), 11);
    assert_eq!(dry["input"]["go"]["build"]["go_version"], "go1.22.3");
    assert_eq!(dry["input"]["ci_definitions"].as_array().unwrap().len(), 2);
}

/// Go reachability, as govulncheck's binary mode decides it: a program
/// built here links `fmt.Println` and `net/url.Parse` but not `net/smtp`.
/// Of three stdlib advisories affecting its Go version, the one whose
/// symbols it does not link becomes `not_affected` /
/// `vulnerable_code_not_present`, labelled as generated, and stays listed;
/// a linked one and one without symbols stay `in_triage`. A person's
/// decision wins over the generated one; without a binary (`go version -m`
/// text) nothing is generated.
#[tokio::test(flavor = "multi_thread")]
async fn go_reachability_from_the_binarys_function_table() {
    use crate::support::worker_options;
    let Some(go) = go_tool() else { return };
    let dir = scratch_dir("reach");
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/url\"\n\t\"os\"\n)\n\nfunc main() {\n\tu, err := url.Parse(os.Args[0])\n\tfmt.Println(u, err)\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/reach\n\ngo 1.19\n").unwrap();
    let bin = std::fs::read(build(&go, &dir, &["-trimpath"])).unwrap();
    let version_m = {
        let mut c = go_cmd(&go, &dir);
        c.args(["version", "-m", "hello.bin"]);
        run(c)
    };
    let go_version = version_m
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_start_matches("go")
        .to_string();
    let app = spawn_app().await;

    let advisory = |id: &str, imports: Value| {
        let mut affected = json!({"package": {"ecosystem": "Go", "name": "stdlib"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]});
        if !imports.is_null() {
            affected["ecosystem_specific"] = json!({ "imports": imports });
        }
        json!({"id": id, "modified": "2026-01-01T00:00:00Z", "affected": [affected]})
    };
    let records = json!([
        advisory(
            "GO-2099-0301",
            json!([{"path": "net/url", "symbols": ["Parse", "URL.String"]}])
        ),
        advisory(
            "GO-2099-0302",
            json!([{"path": "net/smtp", "symbols": ["SendMail"]},
                                        {"path": "fmt", "symbols": ["Sscanf"]}])
        ),
        advisory("GO-2099-0303", Value::Null),
    ]);
    let res = app
        .client
        .post(app.url("/api/v1/advisories"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&records)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let stdlib = format!("pkg:golang/stdlib@v{go_version}");
    let sbom = |name: &str| {
        serde_json::to_vec(&json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "metadata": {"component": {"type": "application", "name": name, "bom-ref": "root"}},
            "components": [{"type": "library", "bom-ref": "std", "name": "stdlib",
                            "version": go_version, "purl": stdlib}]
        }))
        .unwrap()
    };
    let mut ids = Vec::new();
    for name in ["reach-bin", "reach-text"] {
        let res = app
            .upload(
                &format!("project=acme/reach&artifact={name}&version=1.0.0"),
                sbom(name),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201);
        ids.push(
            res.json::<Value>().await.unwrap()["artifact_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (with_binary, with_text) = (ids[0], ids[1]);
    let build = created(
        post(
            &app,
            "/api/v1/go-binaries?project=acme/reach&artifact=reach-bin&version=1.0.0",
            bin.clone(),
        )
        .await,
    )
    .await;
    let functions = build["linked_functions"].as_i64().unwrap();
    assert!(functions > 1000, "a Go binary links the runtime: {build}");
    assert!(build["symbols_error"].is_null());
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM go_build_symbols WHERE package IN ('fmt', 'net/url', 'runtime')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 3, "the packages the program links are stored");
    let text = created(
        post(
            &app,
            "/api/v1/go-binaries?project=acme/reach&artifact=reach-text&version=1.0.0",
            version_m.into_bytes(),
        )
        .await,
    )
    .await;
    assert!(text["linked_functions"].is_null(), "{text}");

    let by_id = |items: &Value| -> std::collections::BTreeMap<String, Value> {
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["id"].as_str().unwrap().to_string(), f.clone()))
            .collect()
    };
    let read = |artifact: i64| {
        let app = &app;
        async move {
            by_id(
                &app.get_json(&format!("/api/v1/artifacts/{artifact}/vulnerabilities"))
                    .await,
            )
        }
    };
    let check_binary = |f: std::collections::BTreeMap<String, Value>| {
        assert_eq!(f.len(), 3, "{f:?}");
        let linked = &f["GO-2099-0301"];
        assert_eq!(linked["state"], "in_triage");
        assert_eq!(linked["reachability"]["state"], "linked");
        // `fmt.Println(u)` calls `URL.String` through `fmt.Stringer`.
        assert_eq!(
            linked["reachability"]["symbols"],
            json!(["net/url.Parse", "net/url.URL.String"])
        );
        assert_eq!(linked["reachability"]["sets_state"], false);
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bin)));
        assert_eq!(linked["reachability"]["binary"], digest.as_str());
        let absent = &f["GO-2099-0302"];
        assert_eq!(absent["state"], "not_affected");
        assert_eq!(absent["justification"], "vulnerable_code_not_present");
        assert_eq!(absent["reachability"]["state"], "not_linked");
        assert_eq!(absent["reachability"]["sets_state"], true);
        assert_eq!(
            absent["reachability"]["symbols"],
            json!(["net/smtp.SendMail", "fmt.Sscanf"])
        );
        let unknown = &f["GO-2099-0303"];
        assert_eq!(unknown["state"], "in_triage");
        assert_eq!(unknown["reachability"]["state"], "unknown");
    };
    // Matched live before the worker ran, then from the recorded findings.
    check_binary(read(with_binary).await);
    cairn::policies::worker::drain(&app.pool, &worker_options())
        .await
        .unwrap();
    check_binary(read(with_binary).await);
    let recorded: Option<Value> = sqlx::query_scalar(
        "SELECT f.reachability FROM findings f JOIN vulnerability_ids v ON v.vulnerability_id = f.vulnerability_id
          WHERE f.artifact_id = $1 AND v.id = 'GO-2099-0302'",
    )
    .bind(with_binary)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded.unwrap()["sets_state"], true);

    // Without a binary there is no function table: nothing is generated.
    let text_findings = read(with_text).await;
    assert_eq!(text_findings.len(), 3);
    for f in text_findings.values() {
        assert_eq!(f["state"], "in_triage", "{f}");
        assert!(f["reachability"].is_null(), "{f}");
    }

    // "Are we affected": the portfolio view says the same per artifact.
    let v = app.get_json("/api/v1/vulnerabilities/GO-2099-0302").await;
    let states: std::collections::BTreeMap<i64, String> = v["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["artifact_id"].as_i64().unwrap(),
                a["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(states[&with_binary], "not_affected");
    assert_eq!(states[&with_text], "in_triage");

    // The artifact page labels the generated decision.
    let session = app.sign_in(ADMIN_TOKEN).await;
    let html = app
        .page(&session, &format!("/ui/artifacts/{with_binary}"))
        .await;
    assert!(
        html.contains("generated: vulnerable symbols not linked"),
        "{html}"
    );
    assert!(html.contains("linked: net/url.Parse, net/url.URL.String"));

    // A maintainer's decision wins; the reachability stays visible.
    let maintainer = app.token("maintainer").await;
    let res = app
        .client
        .post(app.url("/api/v1/triage"))
        .bearer_auth(&maintainer)
        .json(&json!({"vulnerability": "GO-2099-0302", "purl": stdlib, "scope": "artifact",
            "artifact_id": with_binary, "state": "affected", "comment": "reached through a plugin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    let f = read(with_binary).await;
    assert_eq!(f["GO-2099-0302"]["state"], "affected");
    assert_eq!(f["GO-2099-0302"]["reachability"]["state"], "not_linked");
    assert_eq!(f["GO-2099-0302"]["reachability"]["sets_state"], false);
}
