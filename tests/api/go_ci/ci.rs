//! CI-definition hardening (workflows, Dockerfiles, GitLab CI), the dashboard pages, and the Go/CI rules in the policy engine.

use super::*;

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
        .await["items"]
        .clone();
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

    // The project's list, one file per page, in the order of the whole list
    // (by file name, in the database's collation).
    let file = |d: &Value| d["file"].as_str().unwrap().to_owned();
    let paged: Vec<String> = app.all_pages(q, 1).await.iter().map(file).collect();
    let whole: Vec<String> = app.get_json(q).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(file)
        .collect();
    assert_eq!(paged, whole);
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(sorted, [".gitlab-ci.yml", "Dockerfile", "build/Dockerfile"]);

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

    let session = app.sign_in(ADMIN_TOKEN).await;

    let id = &build["artifact_id"];
    let artifact = app.page(&session, &format!("/ui/artifacts/{id}")).await;
    let go = artifact.section("section", "Go build info");
    assert_eq!(go.fact("Toolchain"), "go1.22.3");
    assert!(go
        .fact("VCS revision")
        .starts_with("4f2d1c7a9e0b3d5f6a8c1e2b4d6f8a0c2e4b6d8f"));
    assert_eq!(
        go.text("p span.tag.bad"),
        "3 mismatch(es)",
        "cross-check shown"
    );
    assert!(go.texts("li").iter().any(|m| m.ends_with(
        "the binary links golang.org/x/text v0.14.0 but the SBOM lists version v0.13.0"
    )));
    let go = app.page(&session, &format!("/ui/artifacts/{id}/go")).await;
    assert_eq!(
        go.row("table#settings", "-ldflags")[1].text,
        "-s -w -X main.version=2.0.0"
    );
    let replaced: Vec<String> = go.texts("table#modules tbody td:nth-child(4)");
    assert!(
        replaced
            .iter()
            .any(|r| r.starts_with("github.com/acme-forks/errors")),
        "{replaced:?}"
    );

    let project = app.page(&session, "/ui/projects/acme%2Fapi").await;
    assert!(project
        .attrs("a", "href")
        .contains(&"/ui/projects/acme%2Fapi/ci".to_owned()));
    let ci = app.page(&session, "/ui/projects/acme%2Fapi/ci").await;
    assert!(ci
        .text("p#summary")
        .starts_with("2 file(s), 11 finding(s)."));
    let release = ci.section("section", ".github/workflows/release.yml");
    assert!(
        release
            .texts("pre.fix")
            .iter()
            .any(|f| f.starts_with("uses: actions/checkout@<40-hex commit sha> # v4")),
        "{}",
        release.raw
    );
    assert!(release
        .texts("th span.tag.bad")
        .contains(&"script-injection".to_owned()));
    let dockerfile = ci.section("section", "Dockerfile");
    assert_eq!(
        dockerfile.text("span.tag.ok"),
        "hardened",
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
