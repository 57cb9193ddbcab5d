//! Trusted publishing: ID tokens of a test issuer with GitHub's and GitLab's
//! real claim shapes, exchanged for project-scoped, short-lived tokens; every
//! forged, misdirected or replayed token refused with nothing issued.

use serde_json::{json, Value};

use crate::support::oidc::{github_claims, rand_id, TestIssuer, GITHUB};
use crate::support::{
    cyclonedx, expect_problem, fixture, free_port, spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN,
};

const WORKFLOW: &str = "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main";

async fn create_publisher(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/trusted-publishers"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn exchange(app: &TestApp, id_token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/oidc/token"))
        .json(&json!({"token": id_token}))
        .send()
        .await
        .unwrap()
}

/// The refusal's detail, which must start with the failing check.
async fn refused(app: &TestApp, id_token: &str, check: &str) -> String {
    let problem = expect_problem(exchange(app, id_token).await, 401).await;
    let detail = problem["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with(&format!("{check}: ")),
        "{check}: {detail}"
    );
    detail
}

async fn issued_tokens(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE publisher_id IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn upload_sbom(app: &TestApp, token: &str, project: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/sboms?project={project}&artifact=app&version=1.0.0"
        )))
        .bearer_auth(token)
        .body(cyclonedx(&["pkg:golang/golang.org/x/net@v0.7.0"]))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_pipeline_exchanges_its_id_token_for_a_scoped_short_lived_token() {
    let app = spawn_app().await;
    let github = TestIssuer::new(GITHUB, "gh-1");
    github.register(&app).await;
    let res = create_publisher(
        &app,
        ADMIN_TOKEN,
        json!({
            "provider": "github",
            "claims": {"repository": "octo-org/octo-repo", "job_workflow_ref": WORKFLOW,
                       "environment": "prod", "ref": "refs/heads/main"},
            "projects": ["octo-org/octo-repo", "octo-org/tools-*"],
        }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let publisher: Value = res.json().await.unwrap();
    assert_eq!(publisher["issuer"], GITHUB);
    assert_eq!(publisher["audience"], "cairn");
    assert_eq!(publisher["role"], "uploader");

    let id_token = github.sign(&github_claims("cairn"));
    let res = exchange(&app, &id_token).await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cairn_"));
    let expires: chrono::DateTime<chrono::Utc> =
        issued["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - chrono::Utc::now();
    assert!(
        lifetime <= chrono::Duration::minutes(15) && lifetime > chrono::Duration::minutes(10),
        "{lifetime}"
    );
    assert_eq!(issued["role"], "uploader");

    // It writes to its projects, and nowhere else.
    assert_eq!(
        upload_sbom(&app, &token, "octo-org/octo-repo")
            .await
            .status(),
        201
    );
    assert_eq!(
        upload_sbom(&app, &token, "octo-org/tools-lint")
            .await
            .status(),
        201
    );
    let before = app.counts().await;
    let p = expect_problem(upload_sbom(&app, &token, "other-org/app").await, 403).await;
    assert!(
        p["detail"].as_str().unwrap().contains("octo-org/octo-repo"),
        "{p}"
    );
    assert_eq!(app.counts().await, before, "nothing stored");
    // Writes that name no project are refused to a scoped token.
    let res = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "escalate", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    let res = app
        .client
        .post(app.url("/api/v1/trusted-publishers"))
        .bearer_auth(&token)
        .json(&json!({"provider": "github", "claims": {"repository": "x/y"}, "projects": ["*"]}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    // Reading is allowed (the gate, the dashboard's data) — also with the
    // header Dependency-Track clients send.
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("x-api-key", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The same ID token again is a replay.
    let n = issued_tokens(&app).await;
    refused(&app, &id_token, "jti").await;
    assert_eq!(issued_tokens(&app).await, n, "no token issued for a replay");

    // The token is recorded with the claims that earned it.
    let (claims, projects): (Value, Vec<String>) =
        sqlx::query_as("SELECT claims, projects FROM api_tokens WHERE publisher_id = $1")
            .bind(publisher["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(claims["repository"], "octo-org/octo-repo");
    assert_eq!(projects, ["octo-org/octo-repo", "octo-org/tools-*"]);

    // The audit shows the grant and the refusal.
    let audit = app.get_json("/api/v1/oidc/exchanges").await;
    let items = audit["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["outcome"] == "granted"
        && e["publisher_id"] == publisher["id"]
        && e["subject"] == "repo:octo-org/octo-repo:environment:prod"));
    assert!(items
        .iter()
        .any(|e| e["outcome"] == "refused" && e["check_failed"] == "jti"));

    // Expired (the server's clock moved on): refused.
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE publisher_id IS NOT NULL")
        .execute(&app.pool)
        .await
        .unwrap();
    expect_problem(upload_sbom(&app, &token, "octo-org/octo-repo").await, 401).await;

    // Deleting the publisher revokes what it issued.
    let second = exchange(&app, &github.sign(&github_claims("cairn"))).await;
    let second = second.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        upload_sbom(&app, &second, "octo-org/octo-repo")
            .await
            .status(),
        200
    );
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/trusted-publishers/{}", publisher["id"])))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    expect_problem(upload_sbom(&app, &second, "octo-org/octo-repo").await, 401).await;
    refused(&app, &github.sign(&github_claims("cairn")), "iss").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_misdirected_and_stale_id_tokens_are_refused_and_nothing_is_issued() {
    let app = spawn_app().await;
    let github = TestIssuer::new(GITHUB, "gh-1");
    github.register(&app).await;
    let res = create_publisher(
        &app,
        ADMIN_TOKEN,
        json!({"provider": "github",
               "claims": {"repository": "octo-org/octo-repo", "job_workflow_ref": WORKFLOW},
               "projects": ["octo-org/octo-repo"]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = github_claims("cairn");
        f(&mut c);
        c
    };

    // Another key under GitHub's kid: the signature does not verify.
    let forger = TestIssuer::new(GITHUB, "gh-1");
    refused(&app, &forger.sign(&github_claims("cairn")), "signature").await;
    // A key the issuer does not have.
    let unknown_kid = TestIssuer::new(GITHUB, "gh-2");
    refused(&app, &unknown_kid.sign(&github_claims("cairn")), "kid").await;
    // An issuer nobody trusts (with its own, valid keys).
    let evil = TestIssuer::new("https://evil.example", "e1");
    let detail = refused(&app, &evil.sign(&github_claims("cairn")), "iss").await;
    assert!(detail.contains("evil.example"), "{detail}");
    refused(&app, &github.sign(&github_claims("sigstore")), "aud").await;
    refused(
        &app,
        &github.sign(&with(&|c| {
            let now = chrono::Utc::now().timestamp();
            c["iat"] = json!(now - 1000);
            c["nbf"] = json!(now - 1000);
            c["exp"] = json!(now - 600);
        })),
        "exp",
    )
    .await;
    refused(
        &app,
        &github.sign(&with(&|c| c["repository"] = json!("octo-org/other-repo"))),
        "repository",
    )
    .await;
    refused(
        &app,
        &github.sign(&with(&|c| {
            c["job_workflow_ref"] =
                json!("octo-org/octo-repo/.github/workflows/pr.yml@refs/pull/1/merge")
        })),
        "job_workflow_ref",
    )
    .await;
    refused(
        &app,
        &github.sign(&with(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        })),
        "jti",
    )
    .await;
    // HS256 signed with the public key's text as the secret: never accepted.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &with(&|c| c["iss"] = json!(GITHUB)),
        &jsonwebtoken::EncodingKey::from_secret(github.jwks.to_string().as_bytes()),
    )
    .unwrap();
    refused(&app, &hs, "alg").await;
    expect_problem(exchange(&app, "not-a-jwt").await, 401).await;
    assert_eq!(issued_tokens(&app).await, 0, "nothing issued");
    let used: i64 = sqlx::query_scalar("SELECT count(*) FROM oidc_used_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(used, 0, "no refused token's jti was consumed");

    // Each refusal is audited with its check; the untrusted issuer's own
    // text is not recorded.
    let audit = app.get_json("/api/v1/oidc/exchanges?limit=500").await;
    let checks: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["check_failed"].as_str().unwrap())
        .collect();
    for check in [
        "signature",
        "kid",
        "iss",
        "aud",
        "exp",
        "repository",
        "job_workflow_ref",
        "jti",
        "alg",
        "token",
    ] {
        assert!(checks.contains(&check), "{check} audited: {checks:?}");
    }
    assert!(!audit.to_string().contains("evil.example"));

    // The legitimate pipeline still gets its token.
    assert_eq!(
        exchange(&app, &github.sign(&github_claims("cairn")))
            .await
            .status(),
        200
    );
}

/// Real claims of a real GitHub Actions run (the Fulcio certificate of
/// sigstore-conformance's happy-path bundle), as its ID token carried them.
fn fulcio_run_claims() -> Value {
    let cert: Value = serde_json::from_slice(&fixture(
        "oidc/sigstore-conformance__fulcio-cert-github-claims.json",
    ))
    .unwrap();
    let s = |k: &str| cert[k].as_str().unwrap().to_owned();
    let workflow = s("build_signer_uri(job_workflow_ref)")
        .trim_start_matches("https://github.com/")
        .to_owned();
    let repository = s("source_repository_uri")
        .trim_start_matches("https://github.com/")
        .to_owned();
    let now = chrono::Utc::now().timestamp();
    json!({
        "jti": format!("fulcio-{}", rand_id()),
        "sub": format!("repo:{repository}:ref:{}", s("source_repository_ref(ref)")),
        "aud": "cairn",
        "ref": s("source_repository_ref(ref)"),
        "sha": s("source_repository_digest(sha)"),
        "repository": repository,
        "repository_id": s("source_repository_identifier(repository_id)"),
        "repository_owner": "sigstore-conformance",
        "repository_owner_id": s("source_repository_owner_identifier(repository_owner_id)"),
        "event_name": s("build_trigger(event_name)"),
        "workflow_ref": workflow,
        "job_workflow_ref": workflow,
        "runner_environment": s("runner_environment"),
        "iat": now, "nbf": now, "exp": now + 300,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_trusts_an_owner_id_and_workflow_and_maintainers_cannot_mint_above_themselves()
{
    let app = spawn_app().await;
    let github = TestIssuer::new(GITHUB, "gh-1");
    github.register(&app).await;
    let maintainer = app.token("maintainer").await;
    let uploader = app.token("uploader").await;
    let beacon = "sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/*";
    let body = json!({"provider": "github",
        "claims": {"repository_owner_id": "131804563", "job_workflow_ref": beacon,
                   "runner_environment": "github-hosted"},
        "projects": ["sigstore-conformance/*"], "role": "uploader"});
    expect_problem(create_publisher(&app, &uploader, body.clone()).await, 403).await;
    let mut admin_role = body.clone();
    admin_role["role"] = json!("admin");
    let p = expect_problem(create_publisher(&app, &maintainer, admin_role).await, 422).await;
    assert_eq!(p["pointer"], "/role");
    // Each refusal names its field (or, for constraints that would trust
    // every repository of the issuer, says an exact value is needed).
    for (body, pointer, detail) in [
        (
            json!({"provider": "github",
                   "claims": {"repository": "*", "ref": "refs/heads/main"}, "projects": ["x"]}),
            None,
            Some("exact value"),
        ),
        (
            json!({"provider": "github",
                   "claims": {"repository": "a/b", "project_path": "a/b"}, "projects": ["x"]}),
            Some("/claims/project_path"),
            None,
        ),
        (
            json!({"provider": "github", "issuer": "http://evil.example",
                   "claims": {"repository": "a/b"}, "projects": ["x"]}),
            Some("/issuer"),
            None,
        ),
        (
            json!({"provider": "github", "claims": {"repository": "a/b"}, "projects": []}),
            Some("/projects"),
            None,
        ),
    ] {
        let p = expect_problem(create_publisher(&app, &maintainer, body).await, 422).await;
        if let Some(pointer) = pointer {
            assert_eq!(p["pointer"], pointer, "{p}");
        }
        if let Some(detail) = detail {
            assert!(p["detail"].as_str().unwrap().contains(detail), "{p}");
        }
    }
    let publishers = app.get_json("/api/v1/trusted-publishers").await;
    assert_eq!(
        publishers["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );

    assert_eq!(
        create_publisher(&app, &maintainer, body).await.status(),
        201
    );
    let res = exchange(&app, &github.sign(&fulcio_run_claims())).await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = "sigstore-conformance/extremely-dangerous-public-oidc-beacon";
    assert_eq!(upload_sbom(&app, &token, project).await.status(), 201);
    // The same run on a self-hosted runner is not trusted.
    let mut self_hosted = fulcio_run_claims();
    self_hosted["runner_environment"] = json!("self-hosted");
    refused(&app, &github.sign(&self_hosted), "runner_environment").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_publishers_can_require_protected_refs() {
    let app = spawn_app().await;
    let gitlab = TestIssuer::new("https://gitlab.example.com", "gl-1");
    gitlab.register(&app).await;
    let res = create_publisher(
        &app,
        ADMIN_TOKEN,
        json!({"provider": "gitlab", "issuer": "https://gitlab.example.com",
               "audience": "https://cairn.example.com",
               "claims": {"project_path": "acme/payments-api", "ref_protected": "true"},
               "projects": ["acme/payments-api"]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    // GitLab's documented ID token claims.
    let now = chrono::Utc::now().timestamp();
    let claims = |protected: &str| {
        json!({
            "namespace_id": "72", "namespace_path": "acme", "project_id": "20",
            "project_path": "acme/payments-api", "user_id": "1", "user_login": "dev",
            "pipeline_id": "574", "pipeline_source": "push", "job_id": "302",
            "ref": "main", "ref_type": "branch", "ref_path": "refs/heads/main",
            "ref_protected": protected, "runner_id": 1, "runner_environment": "gitlab-hosted",
            "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
            "ci_config_ref_uri": "gitlab.example.com/acme/payments-api//.gitlab-ci.yml@refs/heads/main",
            "jti": format!("gl-{}", rand_id()), "iat": now, "nbf": now - 5, "exp": now + 300,
            "sub": "project_path:acme/payments-api:ref_type:branch:ref:main",
            "aud": "https://cairn.example.com",
        })
    };
    refused(&app, &gitlab.sign(&claims("false")), "ref_protected").await;
    assert_eq!(issued_tokens(&app).await, 0);
    let res = exchange(&app, &gitlab.sign(&claims("true"))).await;
    assert_eq!(res.status(), 200);
}

/// A tiny issuer on loopback: its discovery document and key set, counting
/// the key-set fetches.
async fn serve_discovery(
    issuer: &TestIssuer,
    port: u16,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let base = issuer.issuer.clone();
    let jwks = issuer.jwks.clone();
    let counter = fetches.clone();
    let app =
        axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let base = base.clone();
                    async move {
                        axum::Json(json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}))
                    }
                }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fetches
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_fetched_from_discovery_only_when_allowed_and_then_cached() {
    let port = free_port();
    let issuer = TestIssuer::new(&format!("http://127.0.0.1:{port}"), "d1");
    let fetches = serve_discovery(&issuer, port).await;
    let publisher = json!({"provider": "gitlab", "issuer": issuer.issuer,
        "claims": {"project_path": "acme/app"}, "projects": ["acme/app"]});
    let claims = || {
        let now = chrono::Utc::now().timestamp();
        json!({"project_path": "acme/app", "aud": "cairn", "jti": rand_id(),
               "iat": now, "exp": now + 300, "sub": "project_path:acme/app"})
    };

    // Offline (the default): no keys configured, nothing fetched.
    let offline = spawn_app().await;
    assert_eq!(
        create_publisher(&offline, ADMIN_TOKEN, publisher.clone())
            .await
            .status(),
        201
    );
    let detail = refused(&offline, &issuer.sign(&claims()), "kid").await;
    assert!(detail.contains("CAIRN_OIDC_FETCH_JWKS"), "{detail}");
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 0);

    let online = spawn_app_with(|k| (k == "CAIRN_OIDC_FETCH_JWKS").then(|| "true".into())).await;
    // An issuer no publisher trusts is never fetched from.
    refused(&online, &issuer.sign(&claims()), "iss").await;
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        create_publisher(&online, ADMIN_TOKEN, publisher)
            .await
            .status(),
        201
    );
    assert_eq!(
        exchange(&online, &issuer.sign(&claims())).await.status(),
        200
    );
    assert_eq!(
        exchange(&online, &issuer.sign(&claims())).await.status(),
        200
    );
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "cached"
    );
    let keys = online.get_json("/api/v1/oidc/jwks").await;
    assert_eq!(keys["items"][0]["source"], "discovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_publishers_and_shows_the_audit_to_admins_only() {
    let app = spawn_app().await;
    let github = TestIssuer::new(GITHUB, "gh-1");
    github.register(&app).await;
    let res = create_publisher(
        &app,
        ADMIN_TOKEN,
        json!({"provider": "github", "claims": {"repository": "octo-org/octo-repo"},
               "projects": ["octo-org/*"]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        exchange(&app, &github.sign(&github_claims("cairn")))
            .await
            .status(),
        200
    );
    refused(&app, &github.sign(&github_claims("elsewhere")), "aud").await;

    let admin = app.sign_in(ADMIN_TOKEN).await;
    let html = app.page(&admin, "/ui/publishers").await;
    let publishers = "table#publishers tbody";
    assert!(html
        .texts(&format!("{publishers} td:nth-child(6) code"))
        .contains(&"octo-org/*".to_owned()));
    assert!(html
        .texts(&format!("{publishers} td:nth-child(5)"))
        .iter()
        .any(|c| c.contains("repository = octo-org/octo-repo")));
    let outcomes = html.texts("table#exchanges tbody td:nth-child(2)");
    assert!(outcomes.contains(&"granted".to_owned()) && outcomes.contains(&"refused".to_owned()));
    assert!(html
        .texts("table#exchanges tbody td:nth-child(5) code")
        .contains(&"aud".to_owned()));
    let viewer = app.token("viewer").await;
    let viewer = app.sign_in(&viewer).await;
    let html = app.page(&viewer, "/ui/publishers").await;
    assert_eq!(html.count("table#publishers"), 1);
    assert_eq!(html.count("table#exchanges"), 0, "the audit is for admins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_keys_that_are_not_public_signing_keys_are_refused_and_not_stored() {
    let app = spawn_app().await;
    let put = |body: Value| {
        app.client
            .post(app.url("/api/v1/oidc/jwks"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
    };
    for (body, pointer) in [
        // A symmetric key: whoever reads the key set could sign tokens.
        (
            json!({"issuer": GITHUB, "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            "/jwks",
        ),
        (json!({"issuer": GITHUB, "jwks": {"keys": []}}), "/jwks"),
        (
            json!({"issuer": "http://issuer.example", "jwks": TestIssuer::new(GITHUB, "k").jwks}),
            "/issuer",
        ),
    ] {
        let p = expect_problem(put(body).await.unwrap(), 422).await;
        assert_eq!(p["pointer"], pointer, "{p}");
    }
    let keys = app.get_json("/api/v1/oidc/jwks").await;
    assert_eq!(keys["items"].as_array().unwrap().len(), 0, "nothing stored");
    // The issuer's real (public) key set is accepted.
    let github = TestIssuer::new(GITHUB, "gh-1");
    github.register(&app).await;
    let keys = app.get_json("/api/v1/oidc/jwks").await;
    assert_eq!(keys["items"][0]["issuer"], GITHUB);
    assert_eq!(keys["items"][0]["source"], "api");
}
