//! The `cairn` client (`push`, `gate`, `verify`): the real binary against
//! the real server, run the way the GitHub Action runs it — GitHub's
//! environment variables set, the ID-token request served by a local
//! server — and the documented workflows and the Action through Cairn's
//! own CI-definition checks.

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{cyclonedx, fixture, scratch_dir, spawn_app, TestApp, ADMIN_TOKEN};

const SHA: &str = "4f1c2a5e9d8b7c6a5f4e3d2c1b0a99887766554f";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The environment of a GitHub Actions job on a tag push.
fn github_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_REPOSITORY", "acme/payments-api".into()),
        ("GITHUB_REF_NAME", "v1.4.0".into()),
        ("GITHUB_REF_TYPE", "tag".into()),
        ("GITHUB_SHA", SHA.into()),
        ("CAIRN_URL", app.base.clone()),
    ]
}

/// Runs `cairn ARGS` in `dir` with only `env` set (nothing inherited, so
/// a developer's CAIRN_TOKEN or a CI runner's variables cannot leak in).
async fn cairn(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.current_dir(dir).env_clear().args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("running the cairn binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The table row of `file` at `endpoint`.
fn row<'a>(stdout: &'a str, file: &str, endpoint: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{file} ")) && l.contains(endpoint))
        .unwrap_or_else(|| panic!("no row for {file} at {endpoint} in\n{stdout}"))
}

/// The files a release job pushes, laid out as in a repository.
fn workspace() -> std::path::PathBuf {
    let dir = scratch_dir("client");
    let put = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    put("sbom.cdx.json", fixture("sbom/guac__alpine-cyclonedx.json"));
    put("go.mod", fixture("go/go.mod"));
    put(
        ".github/workflows/release.yml",
        fixture("ci/release-hardened.yml"),
    );
    put("Dockerfile", fixture("ci/Dockerfile.pinned"));
    put(
        "a.txt.sigstore.json",
        fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json"),
    );
    put("a.txt", fixture("sigstore/conformance/a.txt"));
    put(
        "broken.cdx.json",
        br#"{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": []}"#.to_vec(),
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_uploads_each_file_to_its_endpoint_with_ci_defaults() {
    let app = spawn_app().await;
    let dir = workspace();
    let token = app.token("uploader").await;
    let mut env = github_env(&app);
    env.push(("CAIRN_TOKEN", token.clone()));
    let digest = digest_of(&fixture("sigstore/conformance/a.txt"));
    let files = [
        "sbom.cdx.json",
        "go.mod",
        ".github/workflows/release.yml",
        "Dockerfile",
        "a.txt.sigstore.json",
    ];
    let mut args = vec!["push", "--digest", &digest];
    args.extend(files);
    args.push("broken.cdx.json");

    let out = cairn(&dir, &env, &args).await;
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one file is refused\n{stdout}\n{stderr}"
    );
    assert!(stdout.starts_with("FILE "), "{stdout}");
    assert!(row(&stdout, "sbom.cdx.json", "/api/v1/sboms").contains("201 stored"));
    assert!(row(&stdout, "go.mod", "/api/v1/go-modules").contains("201 stored"));
    let wf = row(
        &stdout,
        ".github/workflows/release.yml",
        "/api/v1/ci-definitions",
    );
    assert!(
        wf.contains("github-workflow") && wf.contains("201 stored"),
        "{wf}"
    );
    assert!(row(&stdout, "Dockerfile", "/api/v1/ci-definitions").contains("dockerfile"));
    let bundle = row(&stdout, "a.txt.sigstore.json", "/api/v1/attestations");
    assert!(
        bundle.contains("201 stored") && bundle.contains("verified"),
        "{bundle}"
    );
    let broken = row(&stdout, "broken.cdx.json", "/api/v1/sboms");
    assert!(broken.contains("422 refused"), "{broken}");
    assert!(
        broken.contains("9.9"),
        "the problem's detail is shown: {broken}"
    );
    assert!(
        stdout.contains("6 file(s), 6 upload(s), 1 refused"),
        "{stdout}"
    );
    assert!(!stdout.contains(&token) && !stderr.contains(&token));

    // Addressed as the CI environment says: the repository, its name, the tag.
    let artifacts = app
        .get_json("/api/v1/artifacts?project=acme/payments-api")
        .await;
    let a = &artifacts["items"][0];
    assert_eq!(a["name"], "payments-api", "{artifacts}");
    assert_eq!(a["version"], "v1.4.0");
    assert_eq!(a["digest"], digest.as_str());
    let defs = app
        .get_json("/api/v1/ci-definitions?project=acme/payments-api")
        .await;
    let files_stored: Vec<&str> = defs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert!(
        files_stored.contains(&".github/workflows/release.yml"),
        "{defs}"
    );

    // Again, without the broken file: nothing new, exit 0.
    let mut again = vec!["push", "--digest", &digest];
    again.extend(files);
    let out = cairn(&dir, &env, &again).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(row(&stdout, "sbom.cdx.json", "/api/v1/sboms").contains("200 unchanged"));

    // A file of no known kind is refused before anything is sent; no
    // credential at all is an error (2), not a refusal.
    std::fs::write(dir.join("notes.md"), "# Notes\n\nhello\n").unwrap();
    let out = cairn(&dir, &env, &["push", "notes.md"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(row(&text(&out.stdout), "notes.md", "-").contains("failed"));
    let out = cairn(&dir, &github_env(&app), &["push", "sbom.cdx.json"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no credential"),
        "{}",
        text(&out.stderr)
    );
}

/// A real Go binary is streamed to /api/v1/go-binaries, first, and its
/// digest becomes the artifact's (no --digest given); a branch build is
/// versioned by its commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_streams_a_go_binary_and_takes_its_digest() {
    let Some(go) = crate::support::go::go_tool() else {
        return;
    };
    let src = crate::support::go::hello_source("client-go");
    let binary = crate::support::go::build(&go, &src, &["-trimpath"]);
    let app = spawn_app().await;
    let dir = workspace();
    std::fs::copy(&binary, dir.join("hello")).unwrap();
    let digest = digest_of(&std::fs::read(&binary).unwrap());
    let mut env = github_env(&app);
    env.retain(|(k, _)| *k != "GITHUB_REF_TYPE");
    env.push(("GITHUB_REF_TYPE", "branch".into()));
    env.push(("CAIRN_TOKEN", app.token("uploader").await));

    let out = cairn(&dir, &env, &["push", "sbom.cdx.json", "hello"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[1].starts_with("hello "),
        "the binary goes first: {stdout}"
    );
    let bin = row(&stdout, "hello", "/api/v1/go-binaries");
    assert!(
        bin.contains("go-binary") && bin.contains("201 stored"),
        "{bin}"
    );
    assert!(bin.contains(&digest), "{bin}");
    let artifacts = app
        .get_json("/api/v1/artifacts?project=acme/payments-api")
        .await;
    assert_eq!(artifacts["items"][0]["version"], SHA, "{artifacts}");
    assert_eq!(artifacts["items"][0]["digest"], digest.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_exits_0_allow_1_deny_2_error() {
    let app = spawn_app().await;
    let dir = scratch_dir("client-gate");
    let viewer = app.token("viewer").await;
    let bad = format!("sha256:{}", "b".repeat(64));
    let good = format!("sha256:{}", "c".repeat(64));
    let res = app
        .upload(
            &format!("project=acme/web&artifact=app&version=1&digest={bad}"),
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .upload(
            &format!("project=acme/web&artifact=app&version=2&digest={good}"),
            cyclonedx(&["pkg:npm/left-pad@1.3.0"]),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .client
        .post(app.url("/api/v1/policy-sets"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "baseline", "mode": "enforce", "rules": [
            {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36"]}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let env = vec![
        ("CAIRN_URL", app.base.clone()),
        ("CAIRN_TOKEN", viewer.clone()),
    ];
    // Queued evaluations: the gate (with a token) evaluates on the spot.
    let out = cairn(&dir, &env, &["gate", "--digest", &bad]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.starts_with(&format!("DENY {bad}\n")), "{stdout}");
    assert!(stdout.contains("✗ components (baseline): "), "{stdout}");
    assert!(stdout.contains("busybox"), "{stdout}");
    assert!(stdout.contains("fix:   upgrade or remove"), "{stdout}");
    assert!(stdout.contains(r#""policy_set":"baseline""#), "{stdout}");
    assert!(stdout.contains(r#""rule":"components""#), "{stdout}");

    let image = format!("ghcr.io/acme/web:2@{good}");
    let out = cairn(&dir, &env, &["gate", "--image", &image]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with(&format!("ALLOW {good}\n")));

    // No evidence at all: deny, and the hint says what to push.
    let unknown = format!("sha256:{}", "d".repeat(64));
    let out = cairn(
        &dir,
        &env,
        &["gate", "--digest", &unknown, "--timeout", "0"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("✗ no evidence"));

    // Errors: a malformed digest, a bad token, no server.
    let out = cairn(&dir, &env, &["gate", "--digest", "sha256:xyz"]).await;
    assert_eq!(out.status.code(), Some(2));
    let wrong = vec![
        ("CAIRN_URL", app.base.clone()),
        ("CAIRN_TOKEN", "cairn_not_a_token".to_string()),
    ];
    let out = cairn(&dir, &wrong, &["gate", "--digest", &good]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
    let port = crate::support::free_port();
    let gone = vec![
        ("CAIRN_URL", format!("http://127.0.0.1:{port}")),
        ("CAIRN_TOKEN", viewer.clone()),
    ];
    let out = cairn(&dir, &gone, &["gate", "--digest", &good]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_checks_a_bundle_against_a_local_file_offline() {
    let dir = scratch_dir("client-verify");
    std::fs::write(
        dir.join("a.txt.sigstore.json"),
        fixture("sigstore/conformance/happy-path-v0.3__bundle.sigstore.json"),
    )
    .unwrap();
    std::fs::write(dir.join("a.txt"), fixture("sigstore/conformance/a.txt")).unwrap();
    std::fs::write(dir.join("other.txt"), b"not the signed file").unwrap();
    let run = |artifact: &'static str, extra: &'static [&'static str]| {
        let dir = dir.clone();
        async move {
            let mut args = vec![
                "verify",
                "--bundle",
                "a.txt.sigstore.json",
                "--artifact",
                artifact,
            ];
            args.extend(extra);
            cairn(&dir, &[], &args).await
        }
    };
    let out = run("a.txt", &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("✓ sigstore-bundle verified by sigstore-public-good"),
        "{stdout}"
    );
    assert!(stdout.contains("signer: "), "{stdout}");
    assert!(stdout.contains("rekor:"), "{stdout}");

    let out = run("other.txt", &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("NOT verified"));

    let out = run("a.txt", &["--issuer", "https://issuer.example"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("issuer"),
        "{}",
        text(&out.stdout)
    );
}

/// What the local stand-in for GitHub's ID-token service was asked.
#[derive(Default, Debug, Clone)]
struct IdTokenRequest {
    query: Option<String>,
    authorization: Option<String>,
}

/// Serves `GET /idtoken?api-version=2.0&audience=…` as GitHub Actions does:
/// `{"value": <jwt>}`, recording what was sent.
async fn github_id_token_service(jwt: String) -> (String, Arc<Mutex<Vec<IdTokenRequest>>>) {
    use axum::extract::RawQuery;
    use axum::http::HeaderMap;
    let seen: Arc<Mutex<Vec<IdTokenRequest>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/idtoken",
        axum::routing::get(move |RawQuery(q): RawQuery, headers: HeaderMap| {
            let record = record.clone();
            let jwt = jwt.clone();
            async move {
                record.lock().unwrap().push(IdTokenRequest {
                    query: q,
                    authorization: headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                });
                axum::Json(json!({"value": jwt}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/idtoken?api-version=2.0"), seen)
}

/// In GitHub Actions without CAIRN_TOKEN the client requests an ID token
/// for its audience with the runner's request token (from a local stand-in
/// for GitHub's service, serving a token signed by a test issuer whose keys
/// the server has), exchanges it for a scoped token and pushes with it; an
/// ID token of another repository is refused with the server's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_actions_oidc_exchanges_the_id_token_and_pushes_without_a_secret() {
    use crate::support::oidc::{github_claims, TestIssuer, GITHUB};
    let app = spawn_app().await;
    let github = TestIssuer::new(GITHUB, "gh-client");
    github.register(&app).await;
    let res = app
        .client
        .post(app.url("/api/v1/trusted-publishers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"provider": "github", "audience": "cairn-test",
                      "claims": {"repository": "acme/payments-api"},
                      "projects": ["acme/payments-api"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let dir = workspace();
    // `cairn push` as a job runs it: GitHub's variables, the runner's
    // ID-token request URL and token, no CAIRN_TOKEN.
    async fn push_in_actions(app: &TestApp, dir: &Path, request_url: String) -> Output {
        let mut env = github_env(app);
        env.push(("ACTIONS_ID_TOKEN_REQUEST_URL", request_url));
        env.push((
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "runner-request-token".into(),
        ));
        cairn(
            dir,
            &env,
            &["push", "--audience", "cairn-test", "sbom.cdx.json"],
        )
        .await
    }
    let claims = |repository: &str| {
        let mut c = github_claims("cairn-test");
        c["repository"] = json!(repository);
        c
    };
    let (request_url, seen) =
        github_id_token_service(github.sign(&claims("acme/payments-api"))).await;
    let out = push_in_actions(&app, &dir, request_url).await;
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one ID-token request: {seen:?}");
    assert_eq!(
        seen[0].query.as_deref(),
        Some("api-version=2.0&audience=cairn-test")
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("bearer runner-request-token")
    );
    assert!(!stderr.contains("runner-request-token"), "{stderr}");
    assert!(
        !stdout.contains("cairn_") && !stderr.contains("cairn_"),
        "no token printed"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let (project, uploaded_by_publisher): (String, bool) = sqlx::query_as(
        "SELECT p.name, t.publisher_id IS NOT NULL FROM sboms s
         JOIN artifacts a ON a.id = s.artifact_id JOIN projects p ON p.id = a.project_id
         JOIN api_tokens t ON t.id = s.uploaded_by",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(project, "acme/payments-api");
    assert!(uploaded_by_publisher, "uploaded with the exchanged token");

    // Another repository's pipeline: refused, the reason shown, nothing pushed.
    let (request_url, _) = github_id_token_service(github.sign(&claims("acme/other"))).await;
    let out = push_in_actions(&app, &dir, request_url).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refused the CI ID token"), "{stderr}");
    assert!(stderr.contains("repository"), "{stderr}");
    let sboms: i64 = sqlx::query_scalar("SELECT count(*) FROM sboms")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sboms, 1);
}

/// In GitLab CI the job's `id_tokens:` hands the client `CAIRN_ID_TOKEN`,
/// as the component template does: a token from a protected ref of the
/// trusted project is exchanged and the push succeeds; one from an
/// unprotected ref is refused with the failing claim, nothing pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_ci_exchanges_cairn_id_token_from_id_tokens() {
    use crate::support::oidc::{rand_id, TestIssuer};
    let app = spawn_app().await;
    let gitlab = TestIssuer::new("https://gitlab.example.com", "gl-client");
    gitlab.register(&app).await;
    let res = app
        .client
        .post(app.url("/api/v1/trusted-publishers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(
            &json!({"provider": "gitlab", "issuer": "https://gitlab.example.com",
                      "claims": {"project_path": "acme/payments-api", "ref_protected": "true"},
                      "projects": ["acme/payments-api"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id_token = |protected: &str| {
        let now = chrono::Utc::now().timestamp();
        gitlab.sign(&json!({
            "namespace_id": "72", "namespace_path": "acme", "project_id": "20",
            "project_path": "acme/payments-api", "pipeline_source": "push",
            "ref": "v1.4.0", "ref_type": "tag", "ref_protected": protected,
            "sub": "project_path:acme/payments-api:ref_type:tag:ref:v1.4.0",
            "aud": "cairn", "jti": rand_id(), "iat": now, "nbf": now, "exp": now + 300,
        }))
    };
    let env = |token: String| {
        vec![
            ("GITLAB_CI", "true".to_string()),
            ("CI_PROJECT_PATH", "acme/payments-api".into()),
            ("CI_COMMIT_TAG", "v1.4.0".into()),
            ("CI_COMMIT_REF_NAME", "v1.4.0".into()),
            ("CI_COMMIT_SHA", SHA.into()),
            ("CAIRN_URL", app.base.clone()),
            ("CAIRN_ID_TOKEN", token),
        ]
    };
    let dir = workspace();
    let out = cairn(&dir, &env(id_token("true")), &["push", "sbom.cdx.json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let (project, version): (String, String) = sqlx::query_as(
        "SELECT p.name, a.version FROM sboms s JOIN artifacts a ON a.id = s.artifact_id
         JOIN projects p ON p.id = a.project_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (project.as_str(), version.as_str()),
        ("acme/payments-api", "v1.4.0")
    );

    let out = cairn(&dir, &env(id_token("false")), &["push", "sbom.cdx.json"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ref_protected"), "{stderr}");
}

/// The YAML examples of docs/ci-integration.md and the GitHub Action pass
/// Cairn's own hardening checks. `<commit>` and `<digest>` placeholders
/// (values only the reader knows) are filled with well-formed ones.
#[test]
fn documented_workflows_and_the_action_pass_the_hardening_rules() {
    use cairn::ci::core::{self as cidef, HardeningParams, Kind};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/ci-integration.md")).unwrap();
    let fill = |s: &str| {
        s.replace("<commit>", &"0".repeat(40))
            .replace("<digest>", &"0".repeat(64))
    };
    let mut blocks = Vec::new();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").unwrap();
        blocks.push(fill(&body[..end]));
        rest = &body[end + 3..];
    }
    let mut checked = Vec::new();
    for (i, yaml) in blocks.iter().enumerate() {
        let kind = match cidef::detect(None, yaml) {
            Ok(k) => k,
            Err(_) => continue, // a fragment (e.g. a component's inputs)
        };
        let findings = cidef::check(
            kind,
            &format!("doc block {i}"),
            yaml,
            &HardeningParams::default(),
        )
        .unwrap_or_else(|e| panic!("block {i} does not parse: {e}\n{yaml}"));
        // Cairn cannot see into an included component: that one finding
        // is expected (the docs say so); the component's job is checked below.
        let findings: Vec<_> = findings
            .into_iter()
            .filter(|f| !(f.check == "unresolvable" && f.message.contains("/cairn/cairn@")))
            .collect();
        assert!(findings.is_empty(), "block {i}: {findings:#?}\n{yaml}");
        checked.push(kind);
    }
    assert!(checked.contains(&Kind::GithubWorkflow), "{checked:?}");
    assert!(checked.contains(&Kind::GitlabCi), "{checked:?}");

    // The composite Action's steps, run as a job with the permissions the
    // docs give it.
    let action = std::fs::read_to_string(root.join("ci/github-action/action.yml")).unwrap();
    let steps = action
        .split_once("\n  steps:\n")
        .expect("the action has runs.steps")
        .1;
    let steps: String = steps.lines().map(|l| format!("  {l}\n")).collect();
    let workflow = format!(
        "on: push\npermissions:\n  contents: read\njobs:\n  cairn:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n{steps}"
    );
    let findings = cidef::check(
        Kind::GithubWorkflow,
        "ci/github-action/action.yml",
        &workflow,
        &HardeningParams::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{workflow}"));
    assert!(findings.is_empty(), "{findings:#?}");

    // The GitLab component's job, as GitLab renders it with its defaults.
    let component = std::fs::read_to_string(root.join("ci/gitlab/templates/cairn.yml")).unwrap();
    let (_, job) = component.split_once("\n---\n").expect("spec, then the job");
    let findings = cidef::check(
        Kind::GitlabCi,
        "ci/gitlab/templates/cairn.yml",
        job,
        &HardeningParams::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{job}"));
    assert!(findings.is_empty(), "{findings:#?}");
}
