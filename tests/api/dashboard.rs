//! The dashboard over plain HTTP: sign-in, cookies, headers, pages.

use crate::support::html::Html;
use crate::support::{fixture, spawn_app, ADMIN_TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_session_and_security_headers() {
    let app = spawn_app().await;
    let res = app
        .upload(
            "project=acme/dash&artifact=api&version=1.0",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Signed out: sent to the sign-in page, which keeps where we were going.
    let res = app.client.get(app.url("/ui")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/ui/login?next=%2Fui");

    let login = app.client.get(app.url("/ui/login")).send().await.unwrap();
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(login.headers()["x-content-type-options"], "nosniff");
    let html = Html::parse(login.text().await.unwrap());
    assert_eq!(html.count("form label[for=token] + input#token"), 1);
    html.assert_csp_clean("the sign-in page");

    // A wrong token: 401 and a message; no cookie.
    let bad = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", "nope"), ("next", "/ui")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().get("set-cookie").is_none());
    let html = Html::parse(bad.text().await.unwrap());
    assert_eq!(
        html.text("p#login-error[role=alert]"),
        "That token is not valid. Check it and try again."
    );

    // A cross-site form post is refused.
    let forged = app
        .client
        .post(app.url("/ui/login"))
        .header("origin", "https://evil.example")
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let ok = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", ADMIN_TOKEN), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/ui", "no open redirect");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();

    let page = app
        .client
        .get(app.url("/ui"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = Html::parse(page.text().await.unwrap());
    assert_eq!(html.texts("tbody th a"), ["acme/dash"]);
    assert_eq!(
        html.attrs("tbody th a", "href"),
        ["/ui/projects/acme%2Fdash"]
    );

    let project = app
        .client
        .get(app.url("/ui/projects/acme%2Fdash"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let html = Html::parse(project.text().await.unwrap());
    let artifact_link = html.attrs("a[href^='/ui/artifacts/']", "href")[0].clone();
    let artifact = app
        .client
        .get(app.url(&artifact_link))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(artifact.status(), 200);
    let html = Html::parse(artifact.text().await.unwrap());
    assert_eq!(html.fact("Format"), "CycloneDX 1.4");
    let captions = html.texts("div.split table caption");
    assert_eq!(captions, ["By ecosystem", "By licence"]);
    assert_eq!(
        html.text("a.button[download]"),
        "Download original document"
    );
    assert_eq!(html.row("table#components", "musl")[2].text, "library");

    // A tampered session is no session.
    let mut forged = session.clone();
    forged.push('A');
    let res = app
        .client
        .get(app.url("/ui"))
        .header("cookie", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    // Sign-out clears the cookie.
    let out = app
        .client
        .post(app.url("/ui/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));

    // The signed-out session is revoked server-side: a copy of the cookie
    // is worthless (tests/api/sessions.rs goes further).
    let res = app
        .client
        .get(app.url("/ui/artifacts/99999"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

/// Every page links the icon and browsers ask for `/favicon.ico` anyway:
/// it is served from the binary, signed in or not, as a real ICO file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_favicon_is_served() {
    let app = spawn_app().await;
    let login = app.client.get(app.url("/ui/login")).send().await.unwrap();
    let html = Html::parse(login.text().await.unwrap());
    assert_eq!(html.attrs("link[rel=icon]", "href"), ["/favicon.ico"]);
    let res = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/x-icon");
    let body = res.bytes().await.unwrap();
    // ICONDIR: reserved 0, type 1 (icon), one image.
    assert_eq!(&body[..6], &[0, 0, 1, 0, 1, 0]);
    assert_eq!(
        body.as_ref(),
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../frontend/static/favicon.ico"
        ))
        .unwrap()
    );
}
