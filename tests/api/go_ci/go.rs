//! Go evidence from real binaries built here: build info, go.mod/go.sum, the SBOM cross-check, reachability.

use super::*;

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
    app.evaluate_queued().await;
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
    let state = |id| html.cell("table#findings", id, "State").text;
    assert_eq!(
        state("GO-2099-0302"),
        "not_affected vulnerable_code_not_present generated: vulnerable symbols not linked"
    );
    assert_eq!(
        state("GO-2099-0301"),
        "in_triage linked: net/url.Parse, net/url.URL.String"
    );

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
