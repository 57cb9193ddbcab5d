//! Bad uploads: each gets a precise problem+json answer, and nothing is
//! stored or changed.

use crate::support::gzip;
use crate::support::{expect_problem, fixture, spawn_app_with, TestApp, ADMIN_TOKEN};

const Q: &str = "project=acme/bad&artifact=svc&version=1.0.0";

/// Uploads `body` with optional Content-Encoding and asserts the problem,
/// that nothing changed, and returns the problem document.
async fn rejected(
    app: &TestApp,
    query: &str,
    body: Vec<u8>,
    encoding: Option<&str>,
    status: u16,
) -> serde_json::Value {
    let before = app.counts().await;
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/sboms?{query}")))
        .bearer_auth(ADMIN_TOKEN)
        .body(body);
    if let Some(enc) = encoding {
        req = req.header("content-encoding", enc);
    }
    let problem = expect_problem(req.send().await.unwrap(), status).await;
    assert_eq!(app.counts().await, before, "nothing stored for {problem}");
    problem
}

/// An app that already holds one SBOM, so "nothing touched" means something.
async fn app_with_data() -> TestApp {
    let app = spawn_app_with(|k| (k == "CAIRN_MAX_UPLOAD").then(|| "1M".into())).await;
    let res = app
        .upload(Q, fixture("sbom/guac__distroless-cyclonedx.json"))
        .await;
    assert_eq!(res.status(), 201);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_invalid_documents() {
    let app = app_with_data().await;
    let good = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json");
    let text = String::from_utf8(good.clone()).unwrap();

    let p = rejected(&app, Q, b"this is not json".to_vec(), None, 400).await;
    assert_eq!(p["type"], "urn:cairn:problem:malformed-json");

    let p = rejected(&app, Q, good[..good.len() / 2].to_vec(), None, 400).await;
    assert_eq!(p["type"], "urn:cairn:problem:malformed-json");

    let p = rejected(&app, Q, br#"{"hello": "world"}"#.to_vec(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:not-an-sbom");

    let p = rejected(
        &app,
        Q,
        text.replace(r#""specVersion": "1.5""#, r#""specVersion": "1.1""#)
            .into_bytes(),
        None,
        422,
    )
    .await;
    assert_eq!(p["type"], "urn:cairn:problem:unsupported-spec-version");
    assert!(p["detail"].as_str().unwrap().contains("1.1"), "{p}");

    let spdx = String::from_utf8(fixture("sbom/trivy__fixtures_sbom_centos-7-spdx.json")).unwrap();
    let p = rejected(
        &app,
        Q,
        spdx.replace("SPDX-2.2", "SPDX-3.0").into_bytes(),
        None,
        422,
    )
    .await;
    assert_eq!(p["type"], "urn:cairn:problem:unsupported-spec-version");

    let p = rejected(
        &app,
        Q,
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":"everything"}"#.to_vec(),
        None,
        422,
    )
    .await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-sbom");
    assert_eq!(p["pointer"], "/components");

    let p = rejected(
        &app,
        Q,
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":5}]}"#.to_vec(),
        None,
        422,
    )
    .await;
    assert_eq!(p["pointer"], "/components/0/name");

    // Components nested 10,000 deep.
    let deep = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":{}[]{}}}"#,
        r#"[{"type":"library","name":"x","components":"#.repeat(10_000),
        "}]".repeat(10_000)
    );
    let p = rejected(&app, Q, deep.into_bytes(), None, 422).await;
    assert!(p["detail"].as_str().unwrap().contains("128 levels"), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limits_and_encodings() {
    let app = app_with_data().await;
    // 2 MiB of padding: over the 1 MiB limit of this app.
    let big = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","x":"{}"}}"#,
        "a".repeat(2 << 20)
    );
    let p = rejected(&app, Q, big.clone().into_bytes(), None, 413).await;
    assert!(
        p["detail"].as_str().unwrap().contains("CAIRN_MAX_UPLOAD"),
        "{p}"
    );

    // A gzip bomb: 20 KiB on the wire, 2 MiB inflated.
    let bomb = gzip(big.as_bytes());
    assert!(bomb.len() < 64 << 10);
    let p = rejected(&app, Q, bomb, Some("gzip"), 413).await;
    assert!(
        p["detail"].as_str().unwrap().contains("decompressed"),
        "{p}"
    );

    rejected(
        &app,
        Q,
        b"\x1f\x8b\x08 definitely not gzip".to_vec(),
        Some("gzip"),
        400,
    )
    .await;
    rejected(&app, Q, b"{}".to_vec(), Some("br"), 415).await;
    rejected(&app, Q, Vec::new(), None, 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_and_digest_conflicts() {
    let app = app_with_data().await;
    let doc = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json");
    let p = rejected(
        &app,
        "project=acme/bad&artifact=svc",
        doc.clone(),
        None,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("version"), "{p}");
    let p = rejected(
        &app,
        "project=acme//bad&artifact=svc&version=1",
        doc.clone(),
        None,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("project"), "{p}");
    let p = rejected(
        &app,
        &format!("{Q}&digest=sha256:1234"),
        doc.clone(),
        None,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("64 hex"), "{p}");

    let d1 = format!("sha256:{}", "a".repeat(64));
    let d2 = format!("sha256:{}", "b".repeat(64));
    let q = "project=acme/bad&artifact=pinned&version=1";
    assert_eq!(
        app.upload(&format!("{q}&digest={d1}"), doc.clone())
            .await
            .status(),
        201
    );
    let other = fixture("sbom/guac__alpine-cyclonedx.json");
    let p = rejected(&app, &format!("{q}&digest={d2}"), other, None, 409).await;
    assert!(p["detail"].as_str().unwrap().contains(&d1), "{p}");
    // The already-stored document with a contradicting digest is a conflict too.
    let p = rejected(&app, &format!("{q}&digest={d2}"), doc, None, 409).await;
    assert!(p["detail"].as_str().unwrap().contains(&d2), "{p}");
}

/// A CycloneDX SBOM with one component whose licences are `licenses`.
fn with_licences(licenses: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [{
            "type": "library",
            "name": "bomb",
            "version": "1.0.0",
            "purl": "pkg:golang/example.com/bomb@v1.0.0",
            "licenses": licenses
        }]
    }))
    .unwrap()
}

/// Licence expressions beyond the parser's bounds (parentheses nested
/// deeper than 32, more than 1,000 licences in one component, either way
/// they are written) are refused at upload with the component and the
/// limit named, and nothing is stored; at the bounds they are accepted.
/// The 6,000-deep 12 KB expression used to abort the server in the policy
/// worker, and again after every restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licence_expressions_beyond_the_parser_bounds_are_refused() {
    let app = app_with_data().await;
    let nest = |n: usize| format!("{}MIT{}", "(".repeat(n), ")".repeat(n));
    let p = rejected(
        &app,
        Q,
        with_licences(serde_json::json!([{"expression": nest(6_000)}])),
        None,
        422,
    )
    .await;
    assert_eq!(
        p["detail"],
        "The licences of component `pkg:golang/example.com/bomb@v1.0.0`: the licence expression nests parentheses 6000 levels deep (at most 32)."
    );
    let p = rejected(
        &app,
        Q,
        with_licences(serde_json::json!([{"expression": nest(33)}])),
        None,
        422,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("33 levels deep (at most 32)"),
        "{p}"
    );
    let chain = vec!["MIT"; 20_000].join(" AND ");
    let p = rejected(
        &app,
        Q,
        with_licences(serde_json::json!([{"expression": chain}])),
        None,
        422,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("names 20000 licences (at most 1000)"),
        "{p}"
    );
    // 20,000 separate licence ids: joined into one expression, refused the same way.
    let ids: Vec<serde_json::Value> = (0..20_000)
        .map(|i| serde_json::json!({"license": {"id": format!("LicenseRef-{i}")}}))
        .collect();
    let p = rejected(&app, Q, with_licences(ids.into()), None, 422).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("names 20000 licences (at most 1000)"),
        "{p}"
    );

    // At the bounds: stored, and the expression is kept as written.
    let at_depth = nest(32);
    let res = app
        .upload(
            "project=acme/bad&artifact=deep&version=1",
            with_licences(serde_json::json!([{"expression": at_depth}])),
        )
        .await;
    assert_eq!(res.status(), 201);
    let ids: Vec<serde_json::Value> = (0..1_000)
        .map(|i| serde_json::json!({"license": {"id": format!("LicenseRef-{i}")}}))
        .collect();
    let res = app
        .upload(
            "project=acme/bad&artifact=wide&version=1",
            with_licences(ids.into()),
        )
        .await;
    assert_eq!(res.status(), 201);
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT licenses FROM components WHERE name = 'bomb' ORDER BY length(licenses)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0], at_depth);
    assert_eq!(stored[1].matches(" AND ").count(), 999);
}

/// CycloneDX XML refusals: each a precise problem, nothing stored, and a
/// legitimate XML upload still works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cyclonedx_xml_refusals() {
    let app = app_with_data().await;
    let good = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib.xml");
    let text = String::from_utf8(good.clone()).unwrap();
    let ns = "xmlns=\"http://cyclonedx.org/schema/bom/1.5\"";
    assert!(text.contains(ns));

    // XXE: the DTD is refused before any entity could be resolved.
    let xxe = text.replacen(
        "<bom ",
        "<!DOCTYPE bom [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<bom ",
        1,
    );
    let xxe = xxe.replacen("<name>", "<name>&xxe;", 1);
    let p = rejected(&app, Q, xxe.clone().into_bytes(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-sbom");
    assert!(p["detail"].as_str().unwrap().contains("DTD"), "{p}");
    // Gzip-compressed, the same.
    let p = rejected(&app, Q, gzip(xxe.as_bytes()), Some("gzip"), 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-sbom");

    // Not well-formed: 400 with the position.
    let p = rejected(&app, Q, good[..good.len() / 2].to_vec(), None, 400).await;
    assert_eq!(p["type"], "urn:cairn:problem:malformed-xml");
    assert!(p["detail"].as_str().unwrap().contains("line "), "{p}");
    let undeclared = text.replacen("<name>", "<name>&xxe;", 1);
    let p = rejected(&app, Q, undeclared.into_bytes(), None, 400).await;
    assert_eq!(p["type"], "urn:cairn:problem:malformed-xml");

    // Another namespace, another version: 422 naming it.
    let other = text.replace(ns, "xmlns=\"http://example.com/not-a-bom\"");
    let p = rejected(&app, Q, other.into_bytes(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:not-an-sbom");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("http://example.com/not-a-bom"));
    let old = text.replace(ns, "xmlns=\"http://cyclonedx.org/schema/bom/1.1\"");
    let p = rejected(&app, Q, old.into_bytes(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:unsupported-spec-version");

    // A component without a name: the element path in `pointer`.
    let nameless = text.replacen("<name>bash</name>", "", 1);
    let p = rejected(&app, Q, nameless.into_bytes(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-sbom");
    assert_eq!(p["pointer"], "/bom/components[1]/component[1]", "{p}");

    // Nesting beyond the bound.
    let deep = text.replacen(
        "</components>",
        &format!("{}{}</components>", "<x>".repeat(300), "</x>".repeat(300)),
        1,
    );
    let p = rejected(&app, Q, deep.into_bytes(), None, 422).await;
    assert_eq!(p["type"], "urn:cairn:problem:invalid-sbom");

    // After all that, the legitimate document is stored.
    let res = app.upload(Q, good).await;
    assert_eq!(res.status(), 201);
}
