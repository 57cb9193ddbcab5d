//! The role matrix, generated from the route table: every operation of the
//! served OpenAPI document, called with no token and with a token of each
//! role, answers 401 without one, 403 below the role its `x-cairn-role`
//! names, and neither at or above it. An endpoint added without its
//! `require` (or with the wrong one) fails here.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::spawn_app;

const ROLES: [&str; 4] = ["viewer", "uploader", "maintainer", "admin"];

fn rank(role: &str) -> usize {
    ["none", "viewer", "uploader", "maintainer", "admin"]
        .iter()
        .position(|r| *r == role)
        .unwrap_or_else(|| panic!("unknown x-cairn-role {role:?}"))
}

/// A request the operation can take: path and required parameters filled
/// with well-formed values, a well-formed body. (Whether the named things
/// exist does not matter: authorisation comes first.)
fn request_for(path: &str, op: &Value, n: usize) -> (String, Option<(String, Vec<u8>)>) {
    let digest = format!("sha256:{}", "0".repeat(64));
    let mut url = path
        .replace("{id}", "1")
        .replace("{artifact_id}", "1")
        .replace("{digest}", &digest)
        .replace("{project}", "acme")
        .replace("{provider}", "github")
        .replace("{source}", "none")
        .replace("{framework}", "eu-cra")
        .replace("{uuid}", "00000000-0000-4000-8000-000000000000");
    let mut query = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "query" && p["required"] == true {
            let value = match p["name"].as_str().unwrap() {
                "project" => "acme/app".to_string(),
                "artifact" => "app".into(),
                "version" => "1.0.0".into(),
                "name" => "app".into(),
                "digest" => digest.clone(),
                "kind" => "go.mod".into(),
                "stage" => "early_warning".into(),
                other => panic!("{path}: no value for required parameter {other}"),
            };
            query.push(format!("{}={}", p["name"].as_str().unwrap(), value));
        }
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let body = op["requestBody"]["content"].as_object().map(|content| {
        let mut media = content.keys().next().unwrap().clone();
        let json = |v: Value| serde_json::to_vec(&v).unwrap();
        let bytes = match path {
            "/api/v1/tokens" => json(json!({"name": format!("matrix {n}"), "role": "viewer"})),
            "/api/v1/policy-sets" | "/api/v1/policy-sets/{id}" => json(json!({
                "name": format!("matrix-{n}"), "mode": "warn", "rules": [{"rule": "sbom-present"}]
            })),
            "/api/v1/policy-dry-run" => json(json!({"artifact_id": 1, "policy_set": "none"})),
            "/api/v1/projects/{project}/tags" => json(json!({"tags": []})),
            "/api/v1/waivers" => json(json!({
                "rule": "signed", "project": "acme", "justification": "matrix",
                "expires_at": "2099-01-01T00:00:00Z"
            })),
            "/api/v1/triage" => json(json!({
                "vulnerability": "CVE-2099-0001", "purl": "pkg:golang/example.com/m@v1.0.0",
                "scope": "portfolio", "state": "affected"
            })),
            // A loopback URL: refused (422) unless private targets are
            // allowed, and nothing is ever sent from this test.
            "/api/v1/notifications/subscriptions" => json(json!({
                "name": format!("matrix-{n}"), "url": "http://127.0.0.1:9/hook"
            })),
            "/api/v1/notifications/subscriptions/{id}" => json(json!({"enabled": false})),
            "/api/v1/control-statements" => json(json!({
                "framework": "nist-800-53r5", "control": "sr-3", "project": null,
                "status": "satisfied", "statement": format!("matrix {n}")
            })),
            "/api/v1/projects/{project}/cra" => {
                json(json!({"product": true, "member_states": ["DE"]}))
            }
            "/api/v1/cra/cases" => json(json!({
                "project": "acme", "vulnerability": "CVE-2099-0001", "kind": "exploited_vulnerability"
            })),
            "/api/v1/cra/cases/{id}/submissions" => json(json!({"stage": "early_warning"})),
            "/api/v1/cra/cases/{id}/corrective-measure" => {
                json(json!({"description": "patched in 1.0.1"}))
            }
            "/api/v1/trusted-publishers" => json(json!({
                "provider": "github", "claims": {"repository": format!("acme/app-{n}")},
                "projects": ["acme/*"]
            })),
            "/api/v1/oidc/jwks" => json(json!({"issuer": "https://issuer.example", "jwks": {"keys": []}})),
            "/api/v1/oidc/token" => json(json!({"token": "a.b.c"})),
            // Dependency-Track's upload: a real SBOM, base64, and the same
            // as a multipart form.
            "/api/v1/bom" if media == "application/json" => json(json!({
                "projectName": format!("matrix {n}"), "projectVersion": "1", "autoCreate": true,
                "bom": base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    crate::support::cyclonedx(&["pkg:npm/left-pad@1.3.0"]),
                )
            })),
            "/api/v1/bom" => {
                let boundary = "matrix-boundary";
                media = format!("multipart/form-data; boundary={boundary}");
                let mut body = Vec::new();
                for (k, v) in [("autoCreate", "true".to_string()), ("projectName", format!("matrix {n}")), ("projectVersion", "1".into())] {
                    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
                }
                body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"bom\"; filename=\"bom.json\"\r\n\r\n").as_bytes());
                body.extend_from_slice(&crate::support::cyclonedx(&["pkg:npm/left-pad@1.3.0"]));
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                body
            }
            "/api/v1/webhook-sources" => {
                json(json!({"provider": "github", "name": format!("matrix-{n}")}))
            }
            _ if media.contains("json") => b"{}".to_vec(),
            _ => b"x".to_vec(),
        };
        (media, bytes)
    });
    (url, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_each_role_as_documented() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, app.token(role).await));
    }
    let spec: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    let mut n = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let needed = op["x-cairn-role"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no x-cairn-role"));
            let callers = std::iter::once(("none", None))
                .chain(tokens.iter().map(|(r, t)| (*r, Some(t.as_str()))));
            for (role, token) in callers {
                n += 1;
                let (url, body) = request_for(path, op, n);
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut req = app.client.request(method.clone(), app.url(&url));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if let Some((media, bytes)) = body {
                    req = req.header("content-type", media).body(bytes);
                }
                let status = req.send().await.unwrap().status().as_u16();
                let expected = if needed == "none" {
                    "neither 401 nor 403"
                } else if token.is_none() {
                    "401"
                } else if rank(role) < rank(needed) {
                    "403"
                } else {
                    "neither 401 nor 403"
                };
                let ok = match expected {
                    "401" => status == 401,
                    "403" => status == 403,
                    // A webhook without a valid signature is the provider's
                    // 401, not a role's; so is an ID token that is no JWT.
                    _ => {
                        status != 403
                            && (status != 401
                                || path.starts_with("/webhooks/")
                                || path == "/api/v1/oidc/token")
                    }
                };
                assert!(
                    ok,
                    "{method} {url} as {role} (needs {needed}): {status}, expected {expected}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 59 * 5, "{checked} calls");
}

/// A project-scoped uploader token (as a trusted publisher's exchange mints
/// one) against every operation: reads pass, uploads that name a project
/// in its scope pass, every other write is 403 — so an upload endpoint that
/// checks its role without its project, or any new write endpoint, is
/// caught here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_scoped_token_writes_only_where_its_projects_are_named() {
    let app = spawn_app().await;
    let secret = cairn::identity::core::generate_token();
    sqlx::query(
        "INSERT INTO api_tokens (name, role, token_hash, expires_at, projects)
         VALUES ('scoped', 'uploader', $1, now() + interval '15 minutes', $2)",
    )
    .bind(cairn::identity::core::hash_token(&secret))
    .bind(vec!["acme/*".to_string()])
    .execute(&app.pool)
    .await
    .unwrap();
    let spec: Value = app.get_json("/api/v1/openapi.json").await;
    let mut n = 10_000;
    let (mut passed, mut refused) = (0, 0);
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let needed = op["x-cairn-role"].as_str().unwrap();
            if needed == "none" {
                continue;
            }
            let names_project = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "query" && p["name"] == "project" && p["required"] == true);
            let allowed = rank(needed) <= rank("viewer") || (needed == "uploader" && names_project);
            n += 1;
            let (url, body) = request_for(path, op, n);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = app
                .client
                .request(method.clone(), app.url(&url))
                .bearer_auth(&secret);
            if let Some((media, bytes)) = body {
                req = req.header("content-type", media).body(bytes);
            }
            let status = req.send().await.unwrap().status().as_u16();
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{method} {url}: {status}, expected a pass"
                );
                passed += 1;
            } else {
                assert_eq!(status, 403, "{method} {url} (needs {needed}): expected 403");
                refused += 1;
            }
        }
    }
    assert!(
        passed > 40 && refused > 30,
        "{passed} passed, {refused} refused"
    );
}
