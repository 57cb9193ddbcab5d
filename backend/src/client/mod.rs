//! The `cairn` client: `cairn push`, `cairn gate` and `cairn verify`, the
//! same binary as the server. Pure parts (kind detection, the CI
//! environment, what is printed and how the client exits) are in `kind`,
//! `env` and `output`; the commands here do the I/O.

pub mod env;
pub mod kind;
pub mod output;
mod push;
mod verify;

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use self::env::Credential;
use self::output::EXIT_ERROR;

pub use push::push;
pub use verify::verify;

/// The one error of the client: a sentence saying what failed and why.
/// Tokens are never part of it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

impl ClientError {
    fn new(msg: impl Into<String>) -> Self {
        ClientError(msg.into())
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        // The URL reqwest names carries no credential (they are headers).
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        ClientError(msg)
    }
}

/// Where the server is and who the client is.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The Cairn server, e.g. https://cairn.example.com.
    #[arg(long, env = "CAIRN_URL")]
    pub url: url::Url,
    /// The audience of the CI ID token exchanged for a Cairn token
    /// (the server's CAIRN_OIDC_AUDIENCE).
    #[arg(long, default_value = "cairn")]
    pub audience: String,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// SBOMs, bundles, .intoto.jsonl, Go binaries, go.mod, go.sum,
    /// workflows, .gitlab-ci.yml, Dockerfiles, Grype/Trivy reports, VEX.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// Project name (default: the CI repository, GITHUB_REPOSITORY / CI_PROJECT_PATH).
    #[arg(long)]
    pub project: Option<String>,
    /// Artifact name (default: the repository's name).
    #[arg(long)]
    pub artifact: Option<String>,
    /// Artifact version (default: the tag of a tag build, else the commit).
    #[arg(long)]
    pub version: Option<String>,
    /// The artifact's digest sha256:<hex> (default: the digest of the one
    /// Go binary pushed, if any).
    #[arg(long)]
    pub digest: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The artifact's digest, sha256:<hex>.
    #[arg(long, conflicts_with = "image")]
    pub digest: Option<String>,
    /// An image reference by digest, name@sha256:<hex>.
    #[arg(long)]
    pub image: Option<String>,
    /// Seconds to wait for evaluations still pending.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The Sigstore bundle, cosign bundle, DSSE envelope or .intoto.jsonl.
    #[arg(long)]
    pub bundle: std::path::PathBuf,
    /// The artifact the bundle is for.
    #[arg(long)]
    pub artifact: std::path::PathBuf,
    /// Require this signer identity (certificate SAN, exact).
    #[arg(long)]
    pub identity: Option<String>,
    /// Require this OIDC issuer.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Also trust this Sigstore trusted_root.json (as the server's
    /// POST /api/v1/trust-roots does); repeatable.
    #[arg(long = "trusted-root")]
    pub trusted_roots: Vec<std::path::PathBuf>,
    /// Also trust this PEM public key; repeatable.
    #[arg(long = "key")]
    pub keys: Vec<std::path::PathBuf>,
}

/// The HTTP client: rustls with the Mozilla roots, the system's proxy
/// settings (CI runners often need them), no redirects (a redirect would
/// drop or leak the Authorization header).
fn http() -> Result<reqwest::Client, ClientError> {
    let tls = crate::outbound::tls().ok_or_else(|| ClientError::new("TLS cannot be set up"))?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(30))
        .user_agent(concat!("cairn-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(ClientError::from)
}

fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let mut u = base.clone();
    let prefix = u.path().trim_end_matches('/').to_owned();
    u.set_path(&format!("{prefix}{path}"));
    u.set_query(None);
    u
}

/// The answer's JSON, or null when it has none.
async fn json_of(res: reqwest::Response) -> Result<(u16, Value), ClientError> {
    let status = res.status().as_u16();
    let bytes = res.bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// The bearer token to send: `CAIRN_TOKEN`, or a CI ID token exchanged at
/// `POST /api/v1/oidc/token`; `None` without any credential.
async fn bearer(
    http: &reqwest::Client,
    server: &ServerArgs,
    credential: Credential,
) -> Result<Option<String>, ClientError> {
    let id_token = match credential {
        Credential::None => return Ok(None),
        Credential::Token(t) => return Ok(Some(t)),
        Credential::IdToken(t) => t,
        Credential::GithubOidc {
            request_url,
            request_token,
        } => github_id_token(http, &request_url, &request_token, &server.audience).await?,
    };
    exchange(http, &server.url, &id_token).await.map(Some)
}

/// Asks GitHub Actions for an ID token for `audience` (the job needs
/// `permissions: id-token: write`).
async fn github_id_token(
    http: &reqwest::Client,
    request_url: &str,
    request_token: &str,
    audience: &str,
) -> Result<String, ClientError> {
    let url = env::id_token_url(request_url, audience).map_err(ClientError)?;
    let res = http
        .get(url)
        .header("authorization", format!("bearer {request_token}"))
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            ClientError::new(format!(
                "cannot request an ID token from GitHub Actions: {}",
                ClientError::from(e)
            ))
        })?;
    let (status, body) = json_of(res).await?;
    match body["value"].as_str() {
        Some(v) if status == 200 && !v.is_empty() => Ok(v.to_owned()),
        // The body is not echoed: it might hold a token.
        _ => Err(ClientError::new(format!(
            "GitHub Actions answered the ID-token request with HTTP {status} and no token: does the job have `permissions: id-token: write`?"
        ))),
    }
}

/// Exchanges a CI ID token for a short-lived Cairn token.
async fn exchange(
    http: &reqwest::Client,
    base: &url::Url,
    id_token: &str,
) -> Result<String, ClientError> {
    let res = http
        .post(endpoint(base, "/api/v1/oidc/token"))
        .json(&serde_json::json!({"token": id_token}))
        .send()
        .await?;
    let (status, body) = json_of(res).await?;
    match (status, body["token"].as_str()) {
        (200 | 201, Some(t)) => Ok(t.to_owned()),
        (404, _) => Err(ClientError::new(
            "this Cairn server has no token exchange (POST /api/v1/oidc/token answered 404): upgrade it, or set CAIRN_TOKEN",
        )),
        _ => Err(ClientError::new(format!(
            "Cairn refused the CI ID token (HTTP {status}): {}",
            output::problem_detail(status, &body)
        ))),
    }
}

/// `cairn gate`: the decision for a digest, waiting while evaluations are
/// pending. Exit 0 allow, 1 deny, 2 error.
pub async fn gate(args: GateArgs) -> i32 {
    done(run_gate(args).await, "gate")
}

async fn run_gate(args: GateArgs) -> Result<i32, ClientError> {
    let digest =
        output::gate_digest(args.digest.as_deref(), args.image.as_deref()).map_err(ClientError)?;
    let http = http()?;
    let token = bearer(
        &http,
        &args.server,
        Credential::read(|k| std::env::var(k).ok()),
    )
    .await?;
    let mut url = endpoint(&args.server.url, "/api/v1/gate");
    url.query_pairs_mut().append_pair("digest", &digest);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    let mut wait = Duration::from_secs(1);
    loop {
        let mut req = http.get(url.clone()).timeout(Duration::from_secs(120));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let (status, body) = json_of(req.send().await?).await?;
        if status != 200 {
            return Err(ClientError::new(format!(
                "the gate answered HTTP {status}: {}",
                output::problem_detail(status, &body)
            )));
        }
        let now = tokio::time::Instant::now();
        if output::gate_pending(&body) && now < deadline {
            eprintln!(
                "pending: evaluation not finished, asking again in {}s",
                wait.as_secs()
            );
            tokio::time::sleep(wait.min(deadline - now)).await;
            wait = (wait * 2).min(Duration::from_secs(15));
            continue;
        }
        print!("{}", output::render_gate(&body));
        if output::gate_pending(&body) {
            eprintln!(
                "cairn gate: still pending after {}s (--timeout)",
                args.timeout
            );
            return Ok(EXIT_ERROR);
        }
        return Ok(output::gate_exit(&body));
    }
}

/// Exit code of a command that ran to its end.
fn done(result: Result<i32, ClientError>, command: &str) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cairn {command}: {e}");
            EXIT_ERROR
        }
    }
}
