//! Policy sets, their versions and evaluations: what triggers one, Rego rules in their sandbox, results that are errors, poison evaluations.

use super::*;

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
    let versions = app.all_pages(&format!("{path}/versions"), 1).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (
            versions[0]["version"].clone(),
            versions[1]["version"].clone()
        ),
        (json!(2), json!(1))
    );
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

    // Live sets page by name.
    let other = app
        .create_set(json!({"name": "audit", "mode": "warn", "rules": [{"rule": "signed"}]}))
        .await;
    let names: Vec<Value> = app
        .all_pages("/api/v1/policy-sets", 1)
        .await
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("audit"), json!("base")]);

    for set in [&path, &format!("/api/v1/policy-sets/{}", other["id"])] {
        let res = app
            .client
            .delete(app.url(set))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        app.get_json("/api/v1/policy-sets").await,
        json!({"items": [], "next_cursor": null})
    );
    // A deleted set's versions stay readable; an unknown set has none.
    let kept = app.get_json(&format!("{path}/versions")).await;
    assert_eq!(kept["items"].as_array().unwrap().len(), 2, "{kept}");
    let res = app
        .client
        .get(app.url("/api/v1/policy-sets/999999/versions"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    expect_problem(res, 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projects_latest_results_page_by_artifact_and_set() {
    let app = spawn_app().await;
    let mut artifacts = Vec::new();
    for (version, n) in [("1", 3), ("2", 4)] {
        let res = app
            .upload(
                &format!(
                    "project=acme/shop&artifact=app&version={version}&digest={}",
                    fake_digest(n)
                ),
                fixture(ALPINE),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        artifacts.push(res.json::<Value>().await.unwrap()["artifact_id"].clone());
    }
    // Another project's artifact is not listed.
    app.alpine("acme/other", &fake_digest(5)).await;
    for name in ["zeta", "alpha"] {
        app.create_set(json!({"name": name, "mode": "enforce", "rules": [
            {"rule": "sbom-present"},
        ]}))
        .await;
    }
    app.drain().await;

    let path = "/api/v1/projects/acme%2Fshop/policy";
    let listed = app.all_pages(path, 1).await;
    let keys: Vec<(Value, Value)> = listed
        .iter()
        .map(|e| (e["artifact_id"].clone(), e["policy_set"].clone()))
        .collect();
    let a = |i: usize| artifacts[i].clone();
    assert_eq!(
        keys,
        [
            (a(0), json!("alpha")),
            (a(0), json!("zeta")),
            (a(1), json!("alpha")),
            (a(1), json!("zeta")),
        ]
    );
    // Each is the artifact's latest evaluation of that set.
    for e in &listed {
        let status = app
            .get_json(&format!("/api/v1/artifacts/{}/policy", e["artifact_id"]))
            .await;
        let ids: Vec<&Value> = status["evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| &x["id"])
            .collect();
        assert!(ids.contains(&&e["id"]), "{e} not in {status}");
    }
    for (query, status) in [
        ("/api/v1/projects/acme%2Fnone/policy", 404),
        ("/api/v1/projects/acme%2Fshop/policy?limit=0", 400),
        ("/api/v1/projects/acme%2Fshop/policy?cursor=bm9wZQ", 400),
    ] {
        let res = app
            .client
            .get(app.url(query))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        expect_problem(res, status).await;
    }
}

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
        .await["items"]
        .clone();
    assert_eq!(history.as_array().unwrap().len(), 2);
    // `before`, the older way to page, still works.
    let older = app
        .get_json(&format!(
            "/api/v1/artifacts/{artifact}/policy/history?before={}",
            history[0]["id"]
        ))
        .await;
    assert_eq!(older["items"], json!([history[1]]), "{older}");
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
        .await["items"]
        .clone();
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
    // Asserted by the outcome: the limit's own error, a deny, a live server.
    for (module, id) in [(spin, "rego:spin"), (hungry, "rego:hungry")] {
        let res = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/policy-dry-run",
                &json!({"artifact_id": artifact, "rules": [{"rego": module}]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let dry: Value = res.json().await.unwrap();
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
