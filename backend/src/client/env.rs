//! What the CI environment says: which pipeline this is, the defaults for
//! project, artifact and version, and how to authenticate. Pure: callers
//! pass a lookup (`std::env::var` in the binary, a map in tests).

/// The CI system the client runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Github,
    Gitlab,
}

/// Defaults read from the CI environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiDefaults {
    pub provider: Option<Provider>,
    /// `GITHUB_REPOSITORY` / `CI_PROJECT_PATH`.
    pub project: Option<String>,
    /// The repository's name (last segment of the project).
    pub artifact: Option<String>,
    /// A tag build: the tag; otherwise the commit. A branch name would be
    /// reused by every build of the branch, and the next build's digest
    /// would then be refused (409) for the same version.
    pub version: Option<String>,
}

impl CiDefaults {
    pub fn read(env: impl Fn(&str) -> Option<String>) -> CiDefaults {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if get("GITHUB_ACTIONS").is_some() || get("GITHUB_REPOSITORY").is_some() {
            let project = get("GITHUB_REPOSITORY");
            let is_tag = get("GITHUB_REF_TYPE").as_deref() == Some("tag");
            let version = if is_tag { get("GITHUB_REF_NAME") } else { None }
                .or_else(|| get("GITHUB_SHA"))
                .or_else(|| get("GITHUB_REF_NAME"));
            return CiDefaults {
                provider: Some(Provider::Github),
                artifact: project.as_deref().map(last_segment),
                project,
                version,
            };
        }
        if get("GITLAB_CI").is_some() || get("CI_PROJECT_PATH").is_some() {
            let project = get("CI_PROJECT_PATH");
            let version = get("CI_COMMIT_TAG")
                .or_else(|| get("CI_COMMIT_SHA"))
                .or_else(|| get("CI_COMMIT_REF_NAME"));
            return CiDefaults {
                provider: Some(Provider::Gitlab),
                artifact: get("CI_PROJECT_NAME").or_else(|| project.as_deref().map(last_segment)),
                project,
                version,
            };
        }
        CiDefaults::default()
    }
}

fn last_segment(project: &str) -> String {
    project.rsplit('/').next().unwrap_or(project).to_owned()
}

/// Where the client's credential comes from, in order of preference.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// `CAIRN_TOKEN`: used as it is.
    Token(String),
    /// GitHub Actions with `permissions: id-token: write`: request an ID
    /// token, then exchange it.
    GithubOidc {
        request_url: String,
        request_token: String,
    },
    /// GitLab CI `id_tokens:` as `CAIRN_ID_TOKEN`: exchange it.
    IdToken(String),
    None,
}

// Tokens never appear in debug output (or in a panic message).
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Token(_) => "Token(…)",
            Credential::GithubOidc { .. } => "GithubOidc(…)",
            Credential::IdToken(_) => "IdToken(…)",
            Credential::None => "None",
        })
    }
}

impl Credential {
    pub fn read(env: impl Fn(&str) -> Option<String>) -> Credential {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if let Some(t) = get("CAIRN_TOKEN") {
            return Credential::Token(t.trim().to_owned());
        }
        if let (Some(request_url), Some(request_token)) = (
            get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            return Credential::GithubOidc {
                request_url,
                request_token,
            };
        }
        if let Some(t) = get("CAIRN_ID_TOKEN") {
            return Credential::IdToken(t.trim().to_owned());
        }
        Credential::None
    }
}

/// The ID-token request URL for `audience`: GitHub's URL already carries a
/// query (`?api-version=…`), so the audience is appended to it.
pub fn id_token_url(request_url: &str, audience: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(request_url)
        .map_err(|e| format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))?;
    url.query_pairs_mut().append_pair("audience", audience);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn github_defaults() {
        let branch = CiDefaults::read(env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/payments-api"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_SHA", SHA),
        ]));
        assert_eq!(
            branch,
            CiDefaults {
                provider: Some(Provider::Github),
                project: Some("acme/payments-api".into()),
                artifact: Some("payments-api".into()),
                version: Some(SHA.into()),
            }
        );
        let tag = CiDefaults::read(env(&[
            ("GITHUB_REPOSITORY", "acme/payments-api"),
            ("GITHUB_REF_NAME", "v1.4.0"),
            ("GITHUB_REF_TYPE", "tag"),
            ("GITHUB_SHA", SHA),
        ]));
        assert_eq!(tag.version.as_deref(), Some("v1.4.0"));
    }

    #[test]
    fn gitlab_defaults() {
        let d = CiDefaults::read(env(&[
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_PATH", "group/sub/tool"),
            ("CI_PROJECT_NAME", "tool"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_COMMIT_SHA", SHA),
        ]));
        assert_eq!(d.provider, Some(Provider::Gitlab));
        assert_eq!(d.project.as_deref(), Some("group/sub/tool"));
        assert_eq!(d.artifact.as_deref(), Some("tool"));
        assert_eq!(d.version.as_deref(), Some(SHA));
        let tag = CiDefaults::read(env(&[
            ("CI_PROJECT_PATH", "g/tool"),
            ("CI_COMMIT_TAG", "v2"),
            ("CI_COMMIT_SHA", SHA),
        ]));
        assert_eq!(tag.version.as_deref(), Some("v2"));
        assert_eq!(tag.artifact.as_deref(), Some("tool"));
        assert_eq!(CiDefaults::read(env(&[])), CiDefaults::default());
    }

    #[test]
    fn credentials_in_order() {
        let gh = [
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://x/token?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req"),
        ];
        let mut with_token = gh.to_vec();
        with_token.push(("CAIRN_TOKEN", "cairn_abc\n"));
        assert_eq!(
            Credential::read(env(&with_token)),
            Credential::Token("cairn_abc".into())
        );
        assert!(matches!(
            Credential::read(env(&gh)),
            Credential::GithubOidc { .. }
        ));
        assert_eq!(
            Credential::read(env(&[("CAIRN_ID_TOKEN", "eyJ")])),
            Credential::IdToken("eyJ".into())
        );
        assert_eq!(
            Credential::read(env(&[("CAIRN_TOKEN", "")])),
            Credential::None
        );
        // Debug output never shows a token.
        let shown = format!("{:?}", Credential::read(env(&with_token)));
        assert!(!shown.contains("cairn_abc"), "{shown}");
    }

    #[test]
    fn audience_is_appended() {
        let u = id_token_url(
            "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
            "cairn",
        )
        .unwrap();
        assert_eq!(u.query(), Some("api-version=2.0&audience=cairn"));
        let u = id_token_url("http://127.0.0.1:9/t", "a b").unwrap();
        assert_eq!(u.query(), Some("audience=a+b"));
        assert!(id_token_url("not a url", "cairn").is_err());
    }
}
