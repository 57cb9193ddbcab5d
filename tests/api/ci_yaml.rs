//! `.gitlab-ci.yml` written with ordinary YAML and GitLab reuse — anchors,
//! aliases, merge keys, `extends:`, `!reference` — through the real server:
//! what they hide is found, the pinned form passes, an alias bomb is
//! refused without being expanded.

use serde_json::Value;

use crate::support::{expect_problem, spawn_app, TestApp, ADMIN_TOKEN};

const DIGEST: &str = "sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3";

/// `python:latest` reaches job `build` through an alias of an anchored
/// scalar, a merge key and `extends:`; the script line that runs the commit
/// title as code through `!reference`. Neither is written in the job.
const HIDDEN: &str = r#"stages: [build]

.images:
  python: &python python:latest

.defaults: &defaults
  image: *python
  interruptible: true

.setup:
  before_script:
    - pip install --upgrade pip
    - eval "echo building $CI_COMMIT_TITLE"

.base:
  <<: *defaults
  variables:
    PIP_CACHE_DIR: .pip

build:
  stage: build
  extends: .base
  script:
    - !reference [.setup, before_script]
    - python -m build
"#;

async fn post(app: &TestApp, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/ci-definitions?project=acme/py&kind=gitlab-ci&file=.gitlab-ci.yml"))
        .bearer_auth(ADMIN_TOKEN)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// `(check, line, job)` of each finding of a definition.
fn findings(definition: &Value) -> Vec<(String, u64, String)> {
    definition["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["rule"], "workflow-hardening");
            assert_eq!(f["file"], ".gitlab-ci.yml");
            (
                f["check"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["job"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The project's latest definition of `.gitlab-ci.yml`, read back.
async fn latest(app: &TestApp) -> Value {
    let list = app.get_json("/api/v1/ci-definitions?project=acme/py").await;
    let list = list["items"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ci_definitions")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_images_and_scripts_are_found_and_the_pinned_form_passes() {
    let app = spawn_app().await;

    let res = post(&app, HIDDEN.to_owned()).await;
    assert_eq!(res.status().as_u16(), 201);
    let uploaded: Value = res.json().await.unwrap();
    let read = latest(&app).await;
    assert_eq!(read["id"], uploaded["id"]);
    assert_eq!(read["findings"], uploaded["findings"]);
    assert_eq!(
        findings(&read),
        [
            ("unpinned-image".to_owned(), 4, "build".to_owned()),
            ("script-injection".to_owned(), 13, "build".to_owned()),
        ],
        "{read}"
    );
    let image = &read["findings"][0];
    let message = image["message"].as_str().unwrap();
    assert!(
        message.starts_with("image `python:latest` is not pinned by digest"),
        "{message}"
    );
    assert!(
        message.contains("line 4 is outside job `build`"),
        "{message}"
    );
    assert!(image["fix"]
        .as_str()
        .unwrap()
        .starts_with("image: python:latest@sha256:<digest>"));
    let script = read["findings"][1]["message"].as_str().unwrap();
    assert!(script.contains("$CI_COMMIT_TITLE"), "{script}");

    // The legitimate form: the image pinned by digest (still through the
    // alias, merge key and `extends:`), the title used as data.
    let pinned = HIDDEN
        .replace("python:latest", &format!("python:3.12@{DIGEST}"))
        .replace(
            "eval \"echo building $CI_COMMIT_TITLE\"",
            "echo \"building $CI_COMMIT_TITLE\"",
        );
    let res = post(&app, pinned).await;
    assert_eq!(res.status().as_u16(), 201);
    let read = latest(&app).await;
    assert_eq!(read["findings"], serde_json::json!([]), "{read}");
    assert_eq!(stored(&app).await, 2);

    // An extends cycle is said, not passed.
    let cycle = format!(
        "a:\n  extends: b\n  image: python@{DIGEST}\n  script: [make]\nb:\n  extends: a\n  script: [make]\n"
    );
    let res = post(&app, cycle).await;
    assert_eq!(res.status().as_u16(), 201);
    let read = latest(&app).await;
    assert_eq!(
        findings(&read),
        [
            ("unresolvable".to_owned(), 6, "a".to_owned()),
            ("unresolvable".to_owned(), 6, "b".to_owned()),
        ],
        "{read}"
    );

    // "Billion laughs": refused from the aliases' sizes, nothing stored.
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("build:\n  script: *a9\n");
    let problem = expect_problem(post(&app, bomb).await, 422).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("more than 200000 nodes once aliases are expanded"),
        "{detail}"
    );
    assert_eq!(stored(&app).await, 3);
}
