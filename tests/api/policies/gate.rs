//! The deploy gate, Kubernetes admission and waivers.

use super::*;

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
    let expires = Utc::now() + chrono::Duration::hours(1);
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
    app.clock.advance(chrono::Duration::hours(2));
    let g = app.gate(&digest).await;
    assert_eq!(g["decision"], "deny", "{g}");
    let history = app
        .all_pages(&format!("/api/v1/artifacts/{artifact}/policy/history"), 1)
        .await;
    let triggers: Vec<&str> = history
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
    let set_id = app.get_json("/api/v1/policy-sets").await["items"][0]["id"]
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

/// A pass that rests on fresh evidence lasts only as long as the evidence
/// is fresh: past the limit the gate judges again on the spot (and denies),
/// and the workers queue every other artifact whose results no longer hold.
/// Time is the app's clock, moved forward.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aged_evidence_ends_an_allow() {
    let app = spawn_app().await;
    let (asked, swept) = (fake_digest(40), fake_digest(41));
    let asked_id = app.alpine("acme/fresh-a", &asked).await;
    let swept_id = app.alpine("acme/fresh-b", &swept).await;
    app.create_set(json!({"name": "fresh", "mode": "enforce", "rules": [
        {"rule": "evidence-fresh", "params": {"max_age_days": 30, "kinds": ["sbom"]}},
    ]}))
    .await;
    assert_eq!(app.drain().await, 2);
    let status = app
        .get_json(&format!("/api/v1/artifacts/{asked_id}/policy"))
        .await;
    assert_eq!(status["decision"], "allow", "{status}");
    let holds: chrono::DateTime<Utc> = status["evaluations"][0]["holds_until"]
        .as_str()
        .expect("a fresh pass says until when it holds")
        .parse()
        .unwrap();
    let left = holds - Utc::now();
    assert!(
        left > chrono::Duration::days(29) && left <= chrono::Duration::days(30),
        "{left}"
    );

    // A day before: nothing to do, still allowed.
    app.clock.advance(chrono::Duration::days(29));
    assert_eq!(app.drain().await, 0);
    assert_eq!(app.gate(&asked).await["decision"], "allow");

    // Past it: denied at once, by the rule that no longer passes.
    app.clock.advance(chrono::Duration::days(2));
    let g = app.gate(&asked).await;
    assert_eq!(g["decision"], "deny", "{g}");
    assert_eq!(g["reasons"][0]["rule"], "evidence-fresh", "{g}");
    // The other artifact was not asked about: the workers' sweep queues it.
    assert_eq!(app.drain().await, 1);
    let history = app
        .get_json(&format!("/api/v1/artifacts/{swept_id}/policy/history"))
        .await;
    assert_eq!(history["items"][0]["trigger"], "evidence-aged", "{history}");
    assert_eq!(history["items"][0]["decision"], "deny");
    assert!(
        history["items"][0]["holds_until"].is_null(),
        "a failure does not age"
    );
    assert_eq!(app.drain().await, 0, "queued once");
}
