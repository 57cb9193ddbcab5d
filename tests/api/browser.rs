//! The dashboard in a real headless Chromium, driven over WebDriver
//! (Debian's chromium and chromium-driver packages; .ci/run installs them).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{fixture, free_port, scratch_dir, spawn_app, ADMIN_TOKEN};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    async fn start() -> Option<Driver> {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(chromedriver) = chromedriver else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install chromium-driver"
            );
            eprintln!(
                "SKIPPED: chromedriver not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = free_port();
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = scratch_dir("chromium-profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_owned();
        Some(Driver {
            process,
            base,
            session,
            http,
        })
    }

    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        match res["value"].get("error") {
            Some(_) => Err(res),
            None => Ok(res["value"].clone()),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    /// The text of `css` once it contains `needle` (pages load after clicks).
    async fn text_when(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .try_call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            let text = match found {
                Ok(el) => {
                    let el = el[ELEMENT].as_str().unwrap().to_owned();
                    self.try_call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
                        .await
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                }
                Err(_) => None,
            };
            match text {
                Some(t) if t.contains(needle) => return t,
                other => assert!(
                    Instant::now() < deadline,
                    "{css} never contained {needle:?}; last: {other:?} at {}",
                    self.url().await
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Waits (up to 10 s) for an element: pages load after clicks.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .try_call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            match found {
                Ok(v) => return v[ELEMENT].as_str().unwrap().to_owned(),
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "no {css} at {}: {e}",
                    self.url().await
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn css(&self, css: &str, property: &str) -> String {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{el}/css/{property}"),
            None,
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Saved under target/ for a person to look at.
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(format!("{}/{name}.png", env!("CARGO_TARGET_TMPDIR")), bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_open_artifact_and_search_a_component() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let res = app
        .upload(
            "project=acme/browser&artifact=alpine&version=3.16",
            fixture("sbom/guac__alpine-cyclonedx.json"),
        )
        .await;
    assert_eq!(res.status(), 201);

    driver.goto(&app.url("/ui")).await;
    assert!(
        driver.url().await.contains("/ui/login"),
        "signed-out users land on sign-in"
    );
    driver.type_into("#token", ADMIN_TOKEN).await;
    driver.click("form[action='/ui/login'] button").await;
    driver.text_when("main", "acme/browser").await;
    // The stylesheet loaded under the strict CSP.
    assert_eq!(
        driver.css("header.top", "border-bottom-style").await,
        "solid"
    );

    driver.click("a[href='/ui/projects/acme%2Fbrowser']").await;
    driver.click("table a[href^='/ui/artifacts/']").await;
    driver
        .text_when("section[aria-labelledby=sbom-h] dl.facts", "CycloneDX 1.4")
        .await;
    driver.text_when("div.split", "By licence").await;
    driver.screenshot("artifact-page").await;

    driver.type_into("#cq", "zlib").await;
    driver.click("form[role=search] button").await;
    let table = driver.text_when("#components", "zlib").await;
    assert!(!table.contains("busybox"), "the filter applied: {table}");
    driver.screenshot("component-search").await;

    // Portfolio search from the navigation.
    driver.click("nav a[href='/ui/components']").await;
    driver.type_into("#purl", "pkg:alpine/zlib").await;
    driver.click("form[role=search] button").await;
    let results = driver.text_when("#results", "alpine 3.16").await;
    assert!(results.contains("acme/browser"), "{results}");
}
