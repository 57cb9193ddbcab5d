//! Policy engine: policy sets (versions, validation), the evaluation queue,
//! waivers and their expiry, re-evaluation when evidence arrives, Rego
//! rules, the deploy gate and Kubernetes admission — against real documents.

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

mod dashboard;
mod gate;
mod sets;

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
        self.evaluate_queued().await
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

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

const BCR_SIGNER: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";

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
