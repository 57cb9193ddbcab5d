//! `cairn push FILE...`: detect each file's kind, upload it to its
//! endpoint (streamed from disk), print the summary table.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use super::env::{CiDefaults, Credential};
use super::kind::{self, Endpoint, Kind, Target};
use super::output::{self, Row, Status};
use super::{bearer, done, endpoint, http, json_of, ClientError, PushArgs};

/// Files at least this large get a progress bar (on a terminal).
const PROGRESS_FROM: u64 = 1024 * 1024;

pub async fn push(args: PushArgs) -> i32 {
    done(run(args).await, "push")
}

/// A file with its detected kind, or why it cannot be pushed.
struct Input {
    path: PathBuf,
    /// As shown and sent as a CI definition's `file`: the path as given.
    name: String,
    kind: Result<Kind, String>,
}

/// Binaries first (they set the artifact's digest), then SBOMs, then what
/// refers to them.
fn rank(kind: &Result<Kind, String>) -> u8 {
    match kind {
        Ok(Kind::GoBinary | Kind::GoVersionM) => 0,
        Ok(Kind::CycloneDx | Kind::Spdx | Kind::CycloneDxXml | Kind::SbomStatement) => 1,
        Ok(Kind::GoMod | Kind::GoSum) => 2,
        Ok(Kind::OpenVex | Kind::CycloneDxVex | Kind::CsafVex) => 5,
        Ok(Kind::Grype | Kind::Trivy) => 4,
        _ => 3,
    }
}

fn detect_file(path: &Path) -> Result<Kind, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut head = Vec::with_capacity(kind::HEAD_LEN);
    (&mut f)
        .take(kind::HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    let whole = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    kind::detect(&path.to_string_lossy(), &head, whole)
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher)?;
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

async fn run(args: PushArgs) -> Result<i32, ClientError> {
    let defaults = CiDefaults::read(|k| std::env::var(k).ok());
    let project = args.project.or(defaults.project);
    let artifact = args.artifact.or(defaults.artifact);
    let version = args.version.or(defaults.version);

    let mut inputs: Vec<Input> = args
        .files
        .iter()
        .map(|p| Input {
            path: p.clone(),
            name: p.to_string_lossy().trim_start_matches("./").to_owned(),
            kind: detect_file(p),
        })
        .collect();
    inputs.sort_by_key(|i| rank(&i.kind));

    let digest = match args.digest {
        Some(d) => Some(d),
        None => {
            let binaries: Vec<&Input> = inputs
                .iter()
                .filter(|i| i.kind == Ok(Kind::GoBinary))
                .collect();
            match binaries.as_slice() {
                [one] => Some(
                    sha256_file(&one.path)
                        .map_err(|e| ClientError::new(format!("cannot read {}: {e}", one.name)))?,
                ),
                _ => None,
            }
        }
    };

    let http = http()?;
    let credential = Credential::read(|k| std::env::var(k).ok());
    let Some(token) = bearer(&http, &args.server, credential).await? else {
        return Err(ClientError::new(
            "no credential: set CAIRN_TOKEN, or run in GitHub Actions with `permissions: id-token: write`, or in GitLab CI with an `id_tokens:` CAIRN_ID_TOKEN",
        ));
    };

    let target = Artifact {
        project: project.as_deref(),
        artifact: artifact.as_deref(),
        version: version.as_deref(),
        digest: digest.as_deref(),
    };
    let show_progress = std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    for input in &inputs {
        let kind = match &input.kind {
            Ok(k) => *k,
            Err(why) => {
                rows.push(Row {
                    file: input.name.clone(),
                    kind: "?".into(),
                    endpoint: "-".into(),
                    status: Status::Failed,
                    detail: why.clone(),
                });
                continue;
            }
        };
        for ep in kind.endpoints() {
            let (status, detail) = match upload(
                &http,
                &args.server.url,
                &token,
                input,
                ep,
                &target,
                show_progress,
            )
            .await
            {
                Ok((code, body)) => output::outcome(ep.path, code, &body),
                Err(e) => (Status::Failed, e.0),
            };
            rows.push(Row {
                file: input.name.clone(),
                kind: kind.to_string(),
                endpoint: ep.path.into(),
                status,
                detail,
            });
        }
    }
    print!("{}", output::table(&rows));
    Ok(output::push_exit(&rows))
}

/// What the uploads are addressed to.
struct Artifact<'a> {
    project: Option<&'a str>,
    artifact: Option<&'a str>,
    version: Option<&'a str>,
    digest: Option<&'a str>,
}

/// The endpoint's URL with the query it needs, or what is missing.
fn address(
    base: &url::Url,
    input: &Input,
    ep: Endpoint,
    a: &Artifact,
) -> Result<url::Url, ClientError> {
    let mut url = endpoint(base, ep.path);
    let missing =
        |what: &str| ClientError::new(format!("needs {what} (no CI environment to take it from)"));
    {
        let mut q = url.query_pairs_mut();
        match ep.target {
            Target::Artifact => {
                q.append_pair("project", a.project.ok_or_else(|| missing("--project"))?);
                q.append_pair("artifact", a.artifact.ok_or_else(|| missing("--artifact"))?);
                q.append_pair("version", a.version.ok_or_else(|| missing("--version"))?);
                if let Some(d) = a.digest {
                    q.append_pair("digest", d);
                }
            }
            Target::Optional => {
                if let (Some(p), Some(n), Some(v)) = (a.project, a.artifact, a.version) {
                    q.append_pair("project", p);
                    q.append_pair("artifact", n);
                    q.append_pair("version", v);
                }
                if let Some(d) = a.digest {
                    q.append_pair("digest", d);
                }
            }
            Target::Project => {
                q.append_pair("project", a.project.ok_or_else(|| missing("--project"))?);
                q.append_pair("file", &input.name);
            }
            Target::Nothing => {}
        }
        if let Some(k) = ep.kind {
            q.append_pair("kind", k);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url)
}

async fn upload(
    http: &reqwest::Client,
    base: &url::Url,
    token: &str,
    input: &Input,
    ep: Endpoint,
    target: &Artifact<'_>,
    show_progress: bool,
) -> Result<(u16, serde_json::Value), ClientError> {
    let url = address(base, input, ep, target)?;
    let file = tokio::fs::File::open(&input.path)
        .await
        .map_err(|e| ClientError::new(format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ClientError::new(format!("cannot read: {e}")))?
        .len();
    let progress = (show_progress && len >= PROGRESS_FROM).then(|| Progress {
        name: input.name.clone(),
        total: len,
        sent: 0,
        drawn: None,
        finished: false,
    });
    let body = FileBody {
        file,
        buf: vec![0; 64 * 1024].into_boxed_slice(),
        len,
        progress,
    };
    let res = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", ep.content_type)
        .header("content-length", len)
        .body(reqwest::Body::wrap(body))
        .send()
        .await?;
    json_of(res).await
}

/// A file sent as it is read: a 200 MB binary is never in memory.
struct FileBody {
    file: tokio::fs::File,
    buf: Box<[u8]>,
    len: u64,
    progress: Option<Progress>,
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        let mut rb = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    if let Some(p) = &mut this.progress {
                        p.finish();
                    }
                    return Poll::Ready(None);
                }
                let chunk = Bytes::copy_from_slice(rb.filled());
                if let Some(p) = &mut this.progress {
                    p.advance(n as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// The progress bar on stderr, redrawn at most ten times a second.
struct Progress {
    name: String,
    total: u64,
    sent: u64,
    drawn: Option<Instant>,
    finished: bool,
}

impl Progress {
    fn advance(&mut self, n: u64) {
        self.sent += n;
        if self
            .drawn
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
        {
            eprint!(
                "\r{}",
                output::progress_line(&self.name, self.sent, self.total)
            );
            self.drawn = Some(Instant::now());
        }
    }

    /// The last line, once (the body may be polled again after its end).
    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            eprintln!(
                "\r{}",
                output::progress_line(&self.name, self.sent, self.total)
            );
        }
    }
}
