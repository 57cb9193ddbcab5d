//! Policy engine: policy sets (versions, validation), the evaluation queue,
//! waivers and their expiry, re-evaluation when evidence arrives, Rego
//! rules, the deploy gate and Kubernetes admission — against real documents.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::webhooks::{
    create_source, drained, fast_workers, send_github, webhook_fixture, GITHUB_SECRET,
};
use crate::support::{
    eventually, expect_problem, fixture, spawn_app, spawn_app_with, worker_options, TestApp,
    ADMIN_TOKEN,
};

const ALPINE: &str = "sbom/guac__alpine-cyclonedx.json";
const BUSYBOX: &str =
    "pkg:alpine/busybox@1.35.0-r17?arch=x86_64&upstream=busybox&distro=alpine-3.16.2";

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn fake_digest(n: u8) -> String {
    format!("sha256:{}", hex::encode([n; 32]))
}

impl TestApp {
    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn create_set(&self, body: Value) -> Value {
        let res = self
            .send_json(reqwest::Method::POST, "/api/v1/policy-sets", &body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    async fn drain(&self) -> usize {
        cairn::policies::worker::drain(&self.pool, &worker_options())
            .await
            .unwrap()
    }

    async fn gate(&self, digest: &str) -> Value {
        let res = self
            .client
            .get(self.url(&format!("/api/v1/gate?digest={digest}")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn admit(&self, body: Vec<u8>) -> Value {
        let res = self
            .client
            .post(self.url("/k8s/admission"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn policy_rows(&self) -> (i64, i64, i64) {
        let q = |t: &str| format!("SELECT count(*) FROM {t}");
        let mut out = [0i64; 3];
        for (i, t) in ["policy_sets", "policy_set_versions", "waivers"]
            .iter()
            .enumerate()
        {
            out[i] = sqlx::query_scalar(&q(t))
                .fetch_one(&self.pool)
                .await
                .unwrap();
        }
        (out[0], out[1], out[2])
    }

    async fn queue_len(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM policy_queue")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Uploads the alpine SBOM for `project`/app@1 with this digest.
    async fn alpine(&self, project: &str, digest: &str) -> i64 {
        let res = self
            .upload(
                &format!("project={project}&artifact=app&version=1&digest={digest}"),
                fixture(ALPINE),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let v: Value = res.json().await.unwrap();
        v["artifact_id"].as_i64().unwrap()
    }
}

fn result<'a>(eval: &'a Value, rule: &str) -> &'a Value {
    eval["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no result for {rule} in {eval}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_sets_are_validated_and_versioned() {
    let app = spawn_app().await;
    let before = app.policy_rows().await;

    // Bad definitions: precise 422s with pointers, nothing stored.
    for (body, pointer, needle) in [
        (
            json!({"name": "base", "mode": "enforce", "rules": [{"rule": "nope"}]}),
            "/rules/0/rule",
            "unknown built-in rule `nope`",
        ),
        (
            json!({"name": "base", "mode": "enforce", "rules": [{"rule": "licenses", "params": {"deny": ["MIT OR X"]}}]}),
            "/rules/0/params",
            "not a single SPDX licence id",
        ),
        (
            json!({"name": "base", "mode": "enforce", "rules": [{"rego": "package x\nviolations contains m if {"}]}),
            "/rules/0/rego",
            "invalid Rego",
        ),
        (
            json!({"name": "base", "mode": "enforce", "rules": [{"rego": "package x\nviolations contains n if { some n in numbers.range(1, 1e12) }"}]}),
            "/rules/0/rego",
            "numbers.range",
        ),
        (
            json!({"name": "base", "mode": "enforce", "rules": []}),
            "/rules",
            "at least one rule",
        ),
        (
            json!({"name": "a b", "mode": "enforce", "rules": [{"rule": "signed"}]}),
            "/name",
            "name must be",
        ),
    ] {
        let res = app
            .send_json(reqwest::Method::POST, "/api/v1/policy-sets", &body)
            .await;
        let p = expect_problem(res, 422).await;
        assert_eq!(p["type"], "urn:cairn:problem:invalid-policy");
        assert_eq!(p["pointer"], pointer, "{p}");
        assert!(p["detail"].as_str().unwrap().contains(needle), "{p}");
    }
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/policy-sets",
            &json!({"name": "x", "mode": "block", "rules": []}),
        )
        .await;
    expect_problem(res, 422).await;
    assert_eq!(app.policy_rows().await, before, "nothing stored");

    // Maintainers and admins only; a maintainer manages policies, not tokens.
    let uploader = app.token("uploader").await;
    let res = app
        .client
        .post(app.url("/api/v1/policy-sets"))
        .bearer_auth(&uploader)
        .json(&json!({"name": "base", "mode": "enforce", "rules": [{"rule": "signed"}]}))
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("maintainer"), "{p}");
    let maintainer = app.token("maintainer").await;
    let res = app
        .client
        .post(app.url("/api/v1/policy-sets"))
        .bearer_auth(&maintainer)
        .json(&json!({"name": "by-maintainer", "mode": "warn", "rules": [{"rule": "signed"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: Value = res.json().await.unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/policy-sets/{}", made["id"])))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&maintainer)
        .json(&json!({"name": "x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;

    let def = json!({"name": "base", "description": "baseline", "mode": "enforce",
                     "scope": {"projects": ["acme/*"]},
                     "rules": [{"rule": "sbom-present", "params": {"min_spec_version": "1.4"}}]});
    let set = app.create_set(def.clone()).await;
    assert_eq!(set["version"], 1);
    let id = set["id"].as_i64().unwrap();
    let res = app
        .send_json(reqwest::Method::POST, "/api/v1/policy-sets", &def)
        .await;
    expect_problem(res, 409).await;

    // A change is a new version; the same definition again is not.
    let mut changed = def.clone();
    changed["rules"][0]["params"]["min_spec_version"] = json!("1.5");
    let path = format!("/api/v1/policy-sets/{id}");
    let v2: Value = app
        .send_json(reqwest::Method::PUT, &path, &changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v2["version"], 2);
    assert_ne!(v2["digest"], set["digest"]);
    let same: Value = app
        .send_json(reqwest::Method::PUT, &path, &changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same["version"], 2);
    let versions = app.get_json(&format!("{path}/versions")).await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(
        versions[1]["definition"]["rules"][0]["params"]["min_spec_version"], "1.4",
        "old versions are immutable"
    );

    // The catalogue lists every built-in rule with its params schema.
    let rules = app.get_json("/api/v1/policy-rules").await;
    for id in [
        "sbom-present",
        "signed",
        "provenance",
        "ephemeral-runner",
        "licenses",
        "components",
        "evidence-fresh",
    ] {
        assert!(
            rules
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id && r["params_schema"]["type"] == "object"),
            "{id}"
        );
    }

    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_json("/api/v1/policy-sets").await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_waivers_and_expiry() {
    let app = spawn_app().await;

    // Unknown digest: deny, "no evidence".
    let g = app.gate(&fake_digest(1)).await;
    assert_eq!(g["decision"], "deny");
    assert_eq!(g["reasons"][0]["reason"], "no evidence");
    let res = app
        .client
        .get(app.url("/api/v1/gate?digest=sha256:xyz"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/gate?digest={}", fake_digest(1))))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;

    // An SBOM queues the artifact.
    let digest = fake_digest(2);
    let artifact = app.alpine("acme/web", &digest).await;
    assert_eq!(app.queue_len().await, 1);

    app.create_set(json!({"name": "baseline", "mode": "enforce", "rules": [
        {"rule": "sbom-present", "params": {"min_spec_version": "1.4"}},
        {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36", "pkg:alpine/zlib@<1.2.12"]}},
        {"rule": "licenses", "params": {"deny": ["AGPL-3.0-only"]}},
    ]}))
    .await;
    assert_eq!(app.drain().await, 1);
    assert_eq!(app.queue_len().await, 0);

    let status = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy"))
        .await;
    assert_eq!(status["decision"], "deny");
    let eval = &status["evaluations"][0];
    assert_eq!(eval["version"], 1);
    assert!(eval["input_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(result(eval, "sbom-present")["status"], "pass");
    assert_eq!(result(eval, "licenses")["status"], "pass");
    let comp = result(eval, "components");
    assert_eq!(comp["status"], "fail");
    assert_eq!(comp["violations"][0]["key"], BUSYBOX);
    assert_eq!(comp["evidence"][0]["kind"], "sbom");

    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "deny");
    assert_eq!(g["reasons"][0]["rule"], "components");
    assert!(
        g["reasons"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("busybox"),
        "{g}"
    );

    // Waiver input is checked; nothing stored on error.
    let rows = app.policy_rows().await;
    for bad in [
        json!({"rule": "components", "artifact_id": artifact, "justification": "x", "approver": "sec", "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"rule": "components", "artifact_id": artifact, "project": "acme/web", "justification": "x", "approver": "sec", "expires_at": "2999-01-01T00:00:00Z"}),
        json!({"rule": "components", "artifact_id": artifact, "justification": " ", "approver": "sec", "expires_at": (Utc::now() + chrono::Duration::days(1)).to_rfc3339()}),
    ] {
        let res = app
            .send_json(reqwest::Method::POST, "/api/v1/waivers", &bad)
            .await;
        expect_problem(res, 422).await;
    }
    assert_eq!(app.policy_rows().await, rows);

    // Waive the one violation, briefly: allowed while it lasts.
    let expires = Utc::now() + chrono::Duration::seconds(3);
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/waivers",
            &json!({
            "rule": "components", "violation": BUSYBOX, "artifact_id": artifact,
            "justification": "patched busybox ships next sprint", "approver": "security@acme",
            "expires_at": expires.to_rfc3339()}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.queue_len().await, 1, "a waiver queues re-evaluation");
    app.drain().await;
    let status = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy"))
        .await;
    assert_eq!(status["decision"], "allow", "{status}");
    let comp = result(&status["evaluations"][0], "components");
    assert_eq!(comp["effective"], "waived");
    // The approver is the caller (the bootstrap admin token), not the body's text.
    assert_eq!(comp["waivers"][0]["approver"], "bootstrap");
    assert_eq!(
        status["waivers"][0]["justification"],
        "patched busybox ships next sprint"
    );
    assert_eq!(app.gate(&digest).await["decision"], "allow");

    // Expired: no longer applies — the gate re-evaluates at once, the
    // worker queues the artifact too.
    tokio::time::sleep(
        (expires - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300),
    )
    .await;
    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "deny", "{g}");
    let history = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy/history"))
        .await;
    let triggers: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["gate", "waiver", "policy-set"]);
    app.drain().await;
    let waivers = app.get_json("/api/v1/waivers").await["items"].clone();
    assert_eq!(waivers[0]["active"], false);

    // A project-wide waiver of the whole rule.
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/waivers",
            &json!({
            "rule": "components", "project": "acme/web", "policy_set": "baseline",
            "justification": "legacy image, replaced in Q3", "approver": "cto",
            "expires_at": (Utc::now() + chrono::Duration::days(30)).to_rfc3339()}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.drain().await;
    assert_eq!(app.gate(&digest).await["decision"], "allow");

    // Changing the set re-evaluates the artifacts it applies to.
    let set_id = app.get_json("/api/v1/policy-sets").await[0]["id"]
        .as_i64()
        .unwrap();
    let res = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/policy-sets/{set_id}"),
            &json!({
            "name": "baseline", "mode": "enforce",
            "rules": [{"rule": "sbom-present", "params": {"min_spec_version": "1.5"}}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.queue_len().await, 1);
    app.drain().await;
    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "deny");
    assert_eq!(g["policy_sets"]["baseline"], 2);
    assert!(
        g["reasons"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("older than the required 1.5"),
        "{g}"
    );

    // The overview counts it.
    let overview = app.get_json("/api/v1/policy-results").await;
    assert!(
        overview["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["project"] == "acme/web" && c["rule"] == "sbom-present" && c["fail"] == 1),
        "{overview}"
    );
    assert_eq!(overview["trend"].as_array().unwrap().len(), 30);
}

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const BCR_SIGNER: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_after_the_sbom_triggers_reevaluation() {
    let app = spawn_app().await;
    let module = fixture("slsa/slsa-verifier__bcr__MODULE.bazel");
    let digest = digest_of(&module);
    app.create_set(json!({"name": "release", "mode": "enforce", "rules": [
        {"rule": "sbom-present"},
        {"rule": "signed", "params": {"identities": [{"issuer": GITHUB_ISSUER, "san_regex": "https://github\\.com/bazel-contrib/publish-to-bcr/.*"}]}},
        {"rule": "provenance", "params": {"min_slsa_level": 2, "require_source_match": false}},
    ]}))
    .await;

    let res = app
        .upload(
            &format!(
                "project=aspect/rules_lint&artifact=MODULE.bazel&version=1.3.1&digest={digest}"
            ),
            fixture(ALPINE),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.drain().await;
    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "deny");
    let failing: Vec<&str> = g["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["signed", "provenance"]);

    // The real slsa-github-generator provenance arrives, verified.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/attestations?digest={digest}")))
        .bearer_auth(ADMIN_TOKEN)
        .body(fixture(
            "slsa/slsa-verifier__bcr__MODULE.bazel.intoto.jsonl",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["verified"], true, "{out}");
    assert_eq!(
        app.queue_len().await,
        1,
        "the attestation queued the artifact"
    );
    app.drain().await;

    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "allow", "{g}");
    let artifact = g["artifacts"][0]["id"].as_i64().unwrap();
    let status = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy"))
        .await;
    let eval = &status["evaluations"][0];
    let signed = result(eval, "signed");
    assert_eq!(signed["status"], "pass");
    assert_eq!(signed["evidence"][0]["kind"], "attestation");
    let prov = result(eval, "provenance");
    assert_eq!(prov["status"], "pass");
    assert!(
        prov["message"]
            .as_str()
            .unwrap()
            .contains("SLSA build level 2"),
        "{prov}"
    );
    let history = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy/history"))
        .await;
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_ne!(history[0]["input_digest"], history[1]["input_digest"]);

    // The CI run named by the provenance arrives later by webhook (GitHub's
    // real payload, addressed to that run): a build record is evidence too,
    // so the artifact is judged again, with the run in its input.
    let mut run: Value = serde_json::from_slice(&webhook_fixture(
        "github/octokit__workflow_run_completed.payload.json",
    ))
    .unwrap();
    run["workflow_run"]["id"] = json!(14095611671i64);
    create_source(
        &app,
        json!({"provider": "github", "name": "gh", "secret": GITHUB_SECRET}),
    )
    .await;
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "workflow_run",
        "d-build",
        serde_json::to_vec(&run).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(
        app.queue_len().await,
        1,
        "the build record queued the artifact"
    );
    app.drain().await;
    let history = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy/history"))
        .await;
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");
    assert_eq!(history[0]["trigger"], "build", "{}", history[0]);
    assert_ne!(history[0]["input_digest"], history[1]["input_digest"]);
    // A job of that run (GitHub's real workflow_job payload, on the batch
    // path that writes a run's job events together) queues it again.
    let mut job: Value = serde_json::from_slice(&webhook_fixture(
        "github/octokit__workflow_job_completed.success.with-organization.payload.json",
    ))
    .unwrap();
    job["workflow_job"]["run_id"] = json!(14095611671i64);
    let res = send_github(
        &app.client,
        &app.base,
        "gh",
        GITHUB_SECRET,
        "workflow_job",
        "d-job",
        serde_json::to_vec(&job).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let workers = fast_workers(&app, None);
    drained(&app.pool).await;
    workers.shutdown().await;
    assert_eq!(app.queue_len().await, 1, "the job queued the artifact");
    app.drain().await;

    // The same evidence against a stricter unsaved rule: requires a source match,
    // and the project has no repository URL.
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/policy-dry-run",
            &json!({
            "artifact_id": artifact, "rules": [{"rule": "provenance"}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dry: Value = res.json().await.unwrap();
    assert_eq!(dry["decision"], "deny");
    assert!(
        dry["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no repository URL"),
        "{dry}"
    );
    assert_eq!(
        dry["input"]["provenance"][0]["provenance"]["builder_id"],
        BCR_SIGNER
    );
    assert_eq!(dry["input"]["builds"][0]["provider"], "github", "{dry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rego_rules_dry_run_and_sandbox() {
    let app = spawn_app_with(|k| (k == "CAIRN_REGO_TIMEOUT_MS").then(|| "150".into())).await;
    let artifact = app.alpine("acme/rego", &fake_digest(3)).await;

    let rego = r#"package acme.gpl
violations contains msg if {
    some c in input.sbom.components
    c.licenses == "GPL-2.0-only"
    msg := sprintf("%s is GPL-2.0-only", [c.name])
}"#;
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/policy-dry-run",
            &json!({"artifact_id": artifact, "rules": [{"rego": rego}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dry: Value = res.json().await.unwrap();
    let r = &dry["results"][0];
    assert_eq!(r["rule"], "rego:acme.gpl");
    assert_eq!(r["status"], "fail");
    let msgs: Vec<&str> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert!(msgs.contains(&"busybox is GPL-2.0-only"), "{msgs:?}");

    // Ad-hoc Rego needs a maintainer; built-in rules an uploader.
    let dry_as = |token: String, rules: Value| {
        let req = app
            .client
            .post(app.url("/api/v1/policy-dry-run"))
            .bearer_auth(token)
            .json(&json!({"artifact_id": artifact, "rules": rules}));
        async move { req.send().await.unwrap() }
    };
    let uploader = app.token("uploader").await;
    let p = expect_problem(dry_as(uploader.clone(), json!([{"rego": rego}])).await, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("maintainer"), "{p}");
    let res = dry_as(uploader, json!([{"rule": "sbom-present"}])).await;
    assert_eq!(res.status(), StatusCode::OK);
    let maintainer = app.token("maintainer").await;
    let res = dry_as(maintainer, json!([{"rego": rego}])).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(dry["input"]["artifact"]["id"], artifact);
    assert_eq!(
        dry["input"]["sbom"]["components"].as_array().unwrap().len(),
        16
    );

    // Non-terminating: an error result, in bounded time; the server lives on.
    let spin = r#"package spin
xs := ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p"]
violations contains m if {
    some a in xs; some b in xs; some c in xs; some d in xs; some e in xs
    some f in xs; some g in xs; some h in xs; some i in xs; some j in xs
    m := concat("", [a, b, c, d, e, f, g, h, i, j])
    m == "never"
}"#;
    // Memory-hungry: builds ever larger values until stopped.
    let hungry = r#"package hungry
big := [x | some a in input.sbom.components; some b in input.sbom.components; some c in input.sbom.components; some d in input.sbom.components; some e in input.sbom.components; x := concat("-", [a.name, b.name, c.name, d.name, e.name])]
violations contains "too big" if { count(big) > 0 }"#;
    for (module, id) in [(spin, "rego:spin"), (hungry, "rego:hungry")] {
        let t = std::time::Instant::now();
        let res = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/policy-dry-run",
                &json!({"artifact_id": artifact, "rules": [{"rego": module}]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let dry: Value = res.json().await.unwrap();
        eprintln!("{id}: {:?}", t.elapsed());
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(dry["results"][0]["rule"], id);
        assert_eq!(dry["results"][0]["status"], "error", "{dry}");
        assert!(
            dry["results"][0]["message"]
                .as_str()
                .unwrap()
                .contains("150 ms evaluation limit"),
            "{dry}"
        );
        assert_eq!(dry["decision"], "deny", "an error never passes");
    }
    let _ = app.get_json("/api/v1/policy-sets").await;

    // Stored as a set rule, evaluated by the worker.
    app.create_set(
        json!({"name": "custom", "mode": "enforce", "rules": [{"rego": rego, "id": "no-gpl"}]}),
    )
    .await;
    app.drain().await;
    let status = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy"))
        .await;
    assert_eq!(
        result(&status["evaluations"][0], "no-gpl")["status"],
        "fail"
    );
    // Bad dry-runs.
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/policy-dry-run",
            &json!({"artifact_id": artifact}),
        )
        .await;
    expect_problem(res, 400).await;
    let res = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/policy-dry-run",
            &json!({"artifact_id": 999999, "rules": [{"rule": "signed"}]}),
        )
        .await;
    expect_problem(res, 404).await;
}

fn review(uid: &str, object: Value) -> Vec<u8> {
    let kind = object["kind"].clone();
    serde_json::to_vec(&json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": kind},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": kind},
            "name": object["metadata"]["name"],
            "namespace": "default",
            "operation": "CREATE",
            "userInfo": {"username": "admin", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    }))
    .unwrap()
}

/// The Deployment of the Kubernetes documentation (concepts/workloads/controllers/deployment).
fn deployment(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_reviews() {
    let app = spawn_app().await;
    let good = fake_digest(4);
    let bad = fake_digest(5);
    app.alpine("acme/good", &good).await;
    app.alpine("acme/bad", &bad).await;
    app.create_set(
        json!({"name": "images", "mode": "enforce", "scope": {"projects": ["acme/bad"]}, "rules": [
        {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36"]}}]}),
    )
    .await;
    app.create_set(
        json!({"name": "advice", "mode": "warn", "scope": {"projects": ["acme/good"]}, "rules": [
        {"rule": "signed"}]}),
    )
    .await;
    app.create_set(
        json!({"name": "base", "mode": "enforce", "scope": {"projects": ["acme/good"]}, "rules": [
        {"rule": "sbom-present"}]}),
    )
    .await;
    app.drain().await;

    // Tag-only image: denied, with the uid.
    let out = app
        .admit(review("uid-tag", deployment("nginx:1.14.2")))
        .await;
    assert_eq!(out["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(out["kind"], "AdmissionReview");
    assert_eq!(out["response"]["uid"], "uid-tag");
    assert_eq!(out["response"]["allowed"], false);
    assert_eq!(out["response"]["status"]["code"], 403);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("nginx:1.14.2 is not referenced by digest"),
        "{out}"
    );

    // By digest, passing (the warn-mode set only warns).
    let out = app
        .admit(review(
            "uid-good",
            deployment(&format!("registry.example/acme/good@{good}")),
        ))
        .await;
    assert_eq!(out["response"]["uid"], "uid-good");
    assert_eq!(out["response"]["allowed"], true, "{out}");
    let warnings = out["response"]["warnings"].as_array().unwrap();
    assert!(warnings[0].as_str().unwrap().contains("signed"), "{out}");

    // A CronJob whose init container runs a denied image.
    let cronjob = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "setup", "image": format!("registry.example/acme/bad:1@{bad}")}],
            "containers": [{"name": "hello", "image": format!("registry.example/acme/good@{good}"), "command": ["/bin/sh", "-c", "date"]}],
            "restartPolicy": "OnFailure"}}}}}});
    let out = app.admit(review("uid-cron", cronjob)).await;
    assert_eq!(out["response"]["allowed"], false, "{out}");
    let msg = out["response"]["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("initContainers[0] (setup)") && msg.contains("components"),
        "{msg}"
    );

    // Ephemeral container with an unknown digest: no evidence.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug"},
        "spec": {"containers": [{"name": "app", "image": format!("registry.example/acme/good@{good}")}],
                 "ephemeralContainers": [{"name": "dbg", "image": format!("busybox@{}", fake_digest(9))}]}});
    let out = app.admit(review("uid-pod", pod)).await;
    assert_eq!(out["response"]["allowed"], false);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no evidence"),
        "{out}"
    );

    // Not a JSON object: a 400 problem (the API server never sends one; with
    // failurePolicy Fail it rejects too). Never a 500.
    for body in [&b"{not json"[..], b"[]", b"", b"5"] {
        let res = app
            .client
            .post(app.url("/k8s/admission"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let problem = expect_problem(res, 400).await;
        assert!(problem["detail"].as_str().unwrap().contains("JSON object"));
    }
    // Malformed reviews: a clear denial, uid when present.
    let out = app.admit(b"{}".to_vec()).await;
    assert_eq!(out["response"]["allowed"], false);
    assert_eq!(out["response"]["uid"], "");
    let out = app
        .admit(serde_json::to_vec(&json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
            "request": {"uid": "uid-broken", "operation": "CREATE", "object": {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {}}}}})).unwrap())
        .await;
    assert_eq!(out["response"]["uid"], "uid-broken");
    assert_eq!(out["response"]["allowed"], false);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("spec.template.spec"),
        "{out}"
    );

    // DELETE runs nothing.
    let out = app
        .admit(
            serde_json::to_vec(
                &json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
            "request": {"uid": "uid-del", "operation": "DELETE", "object": null}}),
            )
            .unwrap(),
        )
        .await;
    assert_eq!(out["response"]["allowed"], true);
}

async fn sign_in(app: &TestApp) -> String {
    app.sign_in(ADMIN_TOKEN).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_pages() {
    let app = spawn_app().await;
    let artifact = app.alpine("acme/ui", &fake_digest(6)).await;
    app.create_set(json!({"name": "ui-set", "mode": "enforce", "rules": [
        {"rule": "sbom-present"},
        {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36"]}},
        {"rule": "licenses", "params": {"deny": ["GPL-2.0-only"]}}]}))
        .await;
    let res = app
        .send_json(reqwest::Method::POST, "/api/v1/waivers", &json!({
            "rule": "licenses", "project": "acme/ui", "justification": "GPL base image accepted by legal",
            "approver": "legal@acme", "expires_at": (Utc::now() + chrono::Duration::days(7)).to_rfc3339()}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.drain().await;
    let session = sign_in(&app).await;

    let html = app.page(&session, "/ui/policy-results").await;
    assert!(html.contains("<svg class=\"trend-chart\""), "{html}");
    assert!(
        html.contains("<polyline class=\"trend-line\" points=\""),
        "{html}"
    );
    assert!(html.contains("acme/ui"));
    assert!(
        html.contains("class=\"cell-fail\""),
        "components fails: {html}"
    );
    assert!(
        html.contains("class=\"cell-waived\""),
        "licenses is waived: {html}"
    );
    assert!(
        html.contains("class=\"cell-pass\""),
        "sbom-present passes: {html}"
    );

    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}/policy"))
        .await;
    assert!(html.contains("decision-deny"));
    assert!(
        html.contains("component pkg:alpine/busybox@1.35.0-r17"),
        "{html}"
    );
    assert!(html.contains("GPL base image accepted by legal"));
    assert!(
        html.contains("<td>bootstrap</td>"),
        "the caller approved: {html}"
    );
    assert!(!html.contains("legal@acme"));
    assert!(html.contains("/api/v1/sboms/"), "evidence link");
    let html = app
        .page(&session, &format!("/ui/artifacts/{artifact}"))
        .await;
    assert!(html.contains(&format!("/ui/artifacts/{artifact}/policy")));

    let html = app.page(&session, "/ui/policies").await;
    assert!(html.contains("ui-set"));
    for id in [
        "sbom-present",
        "signed",
        "provenance",
        "ephemeral-runner",
        "licenses",
        "components",
        "evidence-fresh",
    ] {
        assert!(
            html.contains(&format!("<span class=\"mono\">{id}</span>")),
            "{id}"
        );
    }

    // The Rego editor's dry-run.
    let module = "package ui\nviolations contains m if { some c in input.sbom.components; c.name == \"busybox\"; m := \"no busybox\" }";
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .form(&[
            ("artifact_id", artifact.to_string().as_str()),
            ("module", module),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("no busybox"), "{html}");
    assert!(html.contains("decision-deny"));
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .form(&[
            ("artifact_id", artifact.to_string().as_str()),
            ("module", "package ui\nviolations contains m if {"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("invalid Rego"));
    let res = app
        .client
        .post(app.url("/ui/policies/dry-run"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("artifact_id", "1"), ("module", module)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A one-component CycloneDX SBOM, unique to `tag` (no cache shares it).
fn one_component_sbom(tag: &str, licence: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "serialNumber": format!("urn:uuid:{tag}"),
        "metadata": {"component": {"type": "application", "name": tag, "version": "1"}},
        "components": [{"type": "library", "name": "bomb", "version": "1.0.0",
                        "purl": "pkg:golang/example.com/bomb@v1.0.0",
                        "licenses": [{"expression": licence}]}]
    }))
    .unwrap()
}

/// A licence expression stored before uploads were bounded (written here
/// straight into the database) can no longer take the worker down: the
/// `licenses` rule ends as `error` naming the limit, the gate denies with
/// that reason at once, and the server keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_licence_bomb_is_an_error_outcome_not_an_outage() {
    let app = spawn_app().await;
    let tag = format!("bomb-{}", std::process::id());
    let digest = fake_digest(0xb0);
    let res = app
        .upload(
            &format!("project=acme/bomb&artifact=app&version=1&digest={digest}"),
            one_component_sbom(&tag, "MIT"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"]
        .as_i64()
        .unwrap();
    let bomb = format!("{}MIT{}", "(".repeat(6_000), ")".repeat(6_000));
    sqlx::query("UPDATE components SET licenses = $1 WHERE name = 'bomb'")
        .bind(&bomb)
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_set(json!({"name": "licences", "mode": "enforce", "rules": [
        {"rule": "sbom-present"},
        {"rule": "licenses", "params": {"allow": ["MIT"]}},
    ]}))
    .await;
    assert_eq!(app.drain().await, 1);
    let status = app
        .get_json(&format!("/api/v1/artifacts/{artifact}/policy"))
        .await;
    let licences = result(&status["evaluations"][0], "licenses");
    assert_eq!(licences["status"], "error", "{licences}");
    assert_eq!(
        licences["message"],
        "pkg:golang/example.com/bomb@v1.0.0: the licence expression nests parentheses 6000 levels deep (at most 32); the rule cannot judge it"
    );
    assert_eq!(
        result(&status["evaluations"][0], "sbom-present")["status"],
        "pass"
    );
    let gate = app.gate(&digest).await;
    assert_eq!(gate["decision"], "deny");
    assert_eq!(gate["reasons"][0]["rule"], "licenses");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // The legitimate path: the same document with a plain licence passes.
    let good = fake_digest(0xb1);
    let res = app
        .upload(
            &format!("project=acme/bomb&artifact=app&version=2&digest={good}"),
            one_component_sbom(&format!("{tag}-good"), "MIT OR Apache-2.0"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.drain().await;
    assert_eq!(app.gate(&good).await["decision"], "allow");
}

/// An evaluation that kills its worker every time (a poison pill) is
/// dead-lettered after two claims with that reason; the artifact evaluated
/// beside it is not held up; the gate denies the poisoned artifact at once,
/// without evaluating it on the spot; a maintainer replays it and healthy
/// workers then evaluate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_evaluation_is_dead_lettered_visible_and_replayable() {
    let app = spawn_app().await;
    app.create_set(json!({"name": "base", "mode": "enforce", "rules": [{"rule": "sbom-present"}]}))
        .await;
    let (bad, good) = (fake_digest(0xd0), fake_digest(0xd1));
    let poison = app.alpine("acme/poison", &bad).await;
    let healthy = app.alpine("acme/healthy", &good).await;
    let mut options = worker_options();
    options.fault = Some(std::sync::Arc::new(move |artifact| {
        if artifact == poison {
            panic!("injected: the worker dies evaluating artifact {artifact}");
        }
    }));
    let workers = cairn::policies::worker::spawn(app.pool.clone(), options);
    eventually(
        "the poison dead-lettered and the other evaluated",
        || async {
            let dead: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM policy_queue WHERE dead_at IS NOT NULL AND artifact_id = $1",
            )
            .bind(poison)
            .fetch_one(&app.pool)
            .await
            .unwrap();
            dead == 1 && app.queue_len().await == 1
        },
    )
    .await;
    workers.shutdown().await;
    let reason = "processing never completed after 2 claims (the process or its worker died while processing it); dead-lettered so that it cannot take the service down again";

    let viewer = app.token("viewer").await;
    let res = app
        .get("/api/v1/policy-dead-letters", &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["artifact_id"], poison);
    assert_eq!(page["items"][0]["project"], "acme/poison");
    assert_eq!(page["items"][0]["error"], reason);
    assert_eq!(page["next_cursor"], Value::Null);
    let status = app
        .get_json(&format!("/api/v1/artifacts/{poison}/policy"))
        .await;
    assert_eq!(status["dead_lettered"], reason);
    assert_eq!(
        app.get_json(&format!("/api/v1/artifacts/{healthy}/policy"))
            .await["decision"],
        "allow"
    );

    let gate = app.gate(&bad).await;
    assert_eq!(gate["decision"], "deny");
    assert_eq!(
        gate["reasons"][0]["reason"],
        format!("its policy evaluation was dead-lettered: {reason}")
    );
    let evaluated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM policy_evaluations WHERE artifact_id = $1")
            .bind(poison)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(evaluated, 0, "the gate must not evaluate a dead letter");
    assert_eq!(app.gate(&good).await["decision"], "allow");

    // Replay: maintainers only; then a healthy worker evaluates it.
    let replay = format!("/api/v1/policy-dead-letters/{poison}/replay");
    let uploader = app.token("uploader").await;
    let res = app
        .client
        .post(app.url(&replay))
        .bearer_auth(&uploader)
        .send()
        .await
        .unwrap();
    expect_problem(res, 403).await;
    let maintainer = app.token("maintainer").await;
    let res = app
        .client
        .post(app.url(&replay))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app
        .client
        .post(app.url(&replay))
        .bearer_auth(&maintainer)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
    assert_eq!(app.drain().await, 1);
    assert_eq!(app.gate(&bad).await["decision"], "allow");
    let page = app.get_json("/api/v1/policy-dead-letters").await;
    assert!(page["items"].as_array().unwrap().is_empty());
}

/// A ConfigMap: a kind without a pod template.
fn config_map() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
           "data": {"k": "v"}})
}

async fn anonymous_gate(app: &TestApp, digest: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/gate?digest={digest}")))
        .send()
        .await
        .unwrap()
}

/// The gate and admission need a token by default, and deny an artifact no
/// enforce-mode set covers (a warn-mode set does not count); each default
/// has its documented opt-out; anonymous answers carry the decision alone
/// and never trigger an evaluation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_and_admission_need_a_token_and_deny_what_no_policy_covers() {
    let app = spawn_app().await;
    let (covered, uncovered) = (fake_digest(0xc0), fake_digest(0xc1));
    app.alpine("acme/covered", &covered).await;
    app.alpine("acme/uncovered", &uncovered).await;
    app.create_set(json!({"name": "base", "mode": "enforce",
        "scope": {"projects": ["acme/covered"]}, "rules": [{"rule": "sbom-present"}]}))
        .await;
    app.create_set(json!({"name": "advice", "mode": "warn",
        "scope": {"projects": ["acme/uncovered"]}, "rules": [{"rule": "sbom-present"}]}))
        .await;
    app.drain().await;

    // No token: 401, and nothing about the artifact.
    let p = expect_problem(anonymous_gate(&app, &covered).await, 401).await;
    assert!(
        p["detail"].as_str().unwrap().contains("viewer token"),
        "{p}"
    );
    let res = app
        .client
        .post(app.url("/k8s/admission"))
        .header("content-type", "application/json")
        .body(review(
            "uid-anon",
            deployment(&format!("r.example/a@{covered}")),
        ))
        .send()
        .await
        .unwrap();
    expect_problem(res, 401).await;

    // A viewer token: the covered artifact is allowed, the uncovered denied.
    let viewer = app.token("viewer").await;
    let res = app
        .get(&format!("/api/v1/gate?digest={covered}"), &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["decision"], "allow");
    let g = app.gate(&uncovered).await;
    assert_eq!(g["decision"], "deny", "{g}");
    assert_eq!(g["reasons"][0]["reason"], "no policy covers this artifact");
    assert_eq!(g["warnings"].as_array().unwrap().len(), 0, "{g}");
    let out = app
        .admit(review(
            "uid-unc",
            deployment(&format!("r.example/u@{uncovered}")),
        ))
        .await;
    assert_eq!(out["response"]["allowed"], false, "{out}");
    assert!(out["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .contains("no policy covers this artifact"));
    let out = app
        .admit(review(
            "uid-cov",
            deployment(&format!("r.example/c@{covered}")),
        ))
        .await;
    assert_eq!(out["response"]["allowed"], true, "{out}");
    // A kind without a pod template is denied by default.
    let out = app.admit(review("uid-cm", config_map())).await;
    assert_eq!(out["response"]["allowed"], false, "{out}");
    assert!(out["response"]["status"]["message"]
        .as_str()
        .unwrap()
        .contains("has no pod template"));

    // The opt-outs: uncovered artifacts and other kinds allowed.
    let lenient = spawn_app_with(|k| match k {
        "CAIRN_GATE_UNCOVERED" | "CAIRN_ADMISSION_OTHER_KINDS" => Some("allow".into()),
        _ => None,
    })
    .await;
    let open = fake_digest(0xc2);
    lenient.alpine("acme/open", &open).await;
    lenient.drain().await;
    assert_eq!(lenient.gate(&open).await["decision"], "allow");
    let out = lenient.admit(review("uid-cm", config_map())).await;
    assert_eq!(out["response"]["allowed"], true, "{out}");
}

/// With `CAIRN_GATE_ANONYMOUS`, callers without a token get the decision
/// alone, from stored results: a result that is missing or stale denies,
/// and no evaluation is started for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_gate_answers_the_decision_alone_from_stored_results() {
    let app = spawn_app_with(|k| (k == "CAIRN_GATE_ANONYMOUS").then(|| "true".into())).await;
    let (good, bad) = (fake_digest(0xa0), fake_digest(0xa1));
    app.alpine("acme/good", &good).await;
    app.alpine("acme/bad", &bad).await;
    app.create_set(json!({"name": "base", "mode": "enforce", "rules": [
        {"rule": "sbom-present"},
        {"rule": "components", "params": {"deny": ["pkg:alpine/busybox@<1.36"]}}],
        "scope": {"projects": ["acme/bad"]}}))
        .await;
    app.create_set(
        json!({"name": "lax", "mode": "enforce", "rules": [{"rule": "sbom-present"}],
        "scope": {"projects": ["acme/good"]}}),
    )
    .await;
    let evaluations = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM policy_evaluations")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    // Queued, not yet evaluated: denied, and nothing evaluated on the spot.
    let res = anonymous_gate(&app, &good).await;
    assert_eq!(res.status(), StatusCode::OK);
    let g: Value = res.json().await.unwrap();
    assert_eq!(
        g,
        json!({"digest": good, "decision": "deny", "reasons": [], "warnings": [],
        "artifacts": [], "policy_sets": {}})
    );
    assert_eq!(evaluations().await, 0);
    app.drain().await;
    let g: Value = anonymous_gate(&app, &good).await.json().await.unwrap();
    assert_eq!(g["decision"], "allow");
    assert_eq!(g["artifacts"], json!([]));
    let g: Value = anonymous_gate(&app, &bad).await.json().await.unwrap();
    assert_eq!(g["decision"], "deny");
    assert_eq!(
        g["reasons"],
        json!([]),
        "no rule text for anonymous callers"
    );
    // With a token, the same gate gives the reasons.
    let g = app.gate(&bad).await;
    assert_eq!(g["reasons"][0]["rule"], "components", "{g}");
    // Anonymous admission: the decision, without the reasons.
    let res = app
        .client
        .post(app.url("/k8s/admission"))
        .header("content-type", "application/json")
        .body(review(
            "uid-anon",
            deployment(&format!("r.example/b@{bad}")),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["response"]["allowed"], false);
    let msg = out["response"]["status"]["message"].as_str().unwrap();
    assert!(msg.ends_with("denied") && !msg.contains("busybox"), "{msg}");
}

/// The waiver list is paged like every list (it used to stop at a silent
/// 500): `limit` and `next_cursor`, newest first, nothing repeated or lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waivers_are_paged() {
    let app = spawn_app().await;
    let res = app
        .upload(
            "project=acme/paged&artifact=app&version=1",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let artifact = res.json::<Value>().await.unwrap()["artifact_id"].clone();
    let mut ids = Vec::new();
    for n in 0..5 {
        let res = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/waivers",
                &json!({"rule": format!("rule-{n}"), "artifact_id": artifact,
                    "justification": "paging", "expires_at": (Utc::now() + chrono::Duration::days(30)).to_rfc3339()}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut url = "/api/v1/waivers?limit=2".to_string();
    loop {
        let page = app.get_json(&url).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|w| w["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/waivers?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let res = app
        .get("/api/v1/waivers?limit=501", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 400).await;
}
