//! CI definitions — GitHub Actions workflows, `.gitlab-ci.yml`, Dockerfiles —
//! checked for supply-chain hardening. Pure domain code: text in, findings
//! (rule, file, line, job, step, message, concrete fix) out.

pub mod dockerfile;
pub mod gitlab;
pub mod workflow;
pub mod yaml;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest CI definition Cairn reads.
pub const MAX_DEFINITION: usize = 1 << 20;

/// At most this many findings are kept per definition; past it, one final
/// `findings-omitted` finding says how many more there were. A crafted
/// definition (tens of thousands of one-line steps) cannot make a check
/// hold an unbounded list.
pub const MAX_FINDINGS: usize = 1_000;

/// Job and step names are cut to this many characters, with `…`, where
/// findings show them: a job's name is repeated in every finding of the
/// job, so a 512 KB name would be copied thousands of times.
pub const MAX_NAME_CHARS: usize = 200;

/// `name`, cut to [`MAX_NAME_CHARS`] characters with `…` when longer.
pub(crate) fn short_name(name: &str) -> Cow<'_, str> {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((at, _)) => Cow::Owned(format!("{}…", &name[..at])),
        None => Cow::Borrowed(name),
    }
}

/// The findings of one definition, capped at [`MAX_FINDINGS`].
#[derive(Debug, Default)]
pub(crate) struct Findings {
    kept: Vec<Finding>,
    /// How many were dropped, and the first of them (for its rule, file, line).
    omitted: Option<(usize, Finding)>,
}

impl Findings {
    pub(crate) fn push(&mut self, f: Finding) {
        if self.kept.len() < MAX_FINDINGS {
            self.kept.push(f);
        } else if let Some((n, _)) = &mut self.omitted {
            *n += 1;
        } else {
            self.omitted = Some((1, f));
        }
    }

    /// How many findings are kept so far: a mark for [`Findings::edit_since`].
    pub(crate) fn mark(&self) -> usize {
        self.kept.len()
    }

    /// Edits the findings kept since `mark` (those past the cap are only
    /// counted).
    pub(crate) fn edit_since(&mut self, mark: usize, f: impl FnMut(&mut Finding)) {
        self.kept.iter_mut().skip(mark).for_each(f);
    }

    /// The kept findings, then one saying how many were omitted, if any.
    pub(crate) fn finish(self) -> Vec<Finding> {
        let mut out = self.kept;
        if let Some((n, first)) = self.omitted {
            out.push(Finding {
                rule: first.rule,
                check: "findings-omitted".into(),
                file: first.file,
                line: first.line,
                job: None,
                step: None,
                message: format!(
                    "{n} more finding(s) are not listed (the first at line {}): at most {MAX_FINDINGS} are reported per definition",
                    first.line
                ),
                fix: "fix the findings listed and check the definition again to see the rest".into(),
            });
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    GithubWorkflow,
    GitlabCi,
    Dockerfile,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "github-workflow" => Some(Kind::GithubWorkflow),
            "gitlab-ci" => Some(Kind::GitlabCi),
            "dockerfile" => Some(Kind::Dockerfile),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GithubWorkflow => "github-workflow",
            Kind::GitlabCi => "gitlab-ci",
            Kind::Dockerfile => "dockerfile",
        }
    }
    /// The rule that judges this kind of definition.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::GithubWorkflow | Kind::GitlabCi => workflow::RULE,
            Kind::Dockerfile => dockerfile::RULE,
        }
    }
    pub fn default_file(self) -> &'static str {
        match self {
            Kind::GithubWorkflow => ".github/workflows/workflow.yml",
            Kind::GitlabCi => ".gitlab-ci.yml",
            Kind::Dockerfile => "Dockerfile",
        }
    }
}

/// One hardening problem in a CI definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = HardeningFinding)]
pub struct Finding {
    /// The policy rule this finding belongs to: `workflow-hardening` or
    /// `base-image-pinned`.
    pub rule: String,
    /// Which check, e.g. `unpinned-action`, `script-injection`.
    pub check: String,
    /// The file, as named at upload.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub message: String,
    /// Short, concrete guidance, e.g. the pinned form of an action reference.
    pub fix: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CiError {
    #[error("cannot tell what kind of CI definition this is: {0}")]
    UnknownKind(String),
    #[error("line {line}: {message}")]
    Invalid { line: usize, message: String },
}

impl From<yaml::YamlError> for CiError {
    fn from(e: yaml::YamlError) -> Self {
        CiError::Invalid {
            line: e.line,
            message: format!("not valid YAML: {}", e.message),
        }
    }
}

/// Guesses the kind from the file name, then from the content.
pub fn detect(file: Option<&str>, text: &str) -> Result<Kind, CiError> {
    if let Some(f) = file {
        let base = f.rsplit('/').next().unwrap_or(f);
        if base == ".gitlab-ci.yml" || base.ends_with(".gitlab-ci.yml") {
            return Ok(Kind::GitlabCi);
        }
        if base == "Dockerfile"
            || base.ends_with(".Dockerfile")
            || base.starts_with("Dockerfile.")
            || base == "Containerfile"
        {
            return Ok(Kind::Dockerfile);
        }
        if f.contains(".github/workflows/") {
            return Ok(Kind::GithubWorkflow);
        }
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    let word = first
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if matches!(word.as_str(), "FROM" | "ARG") {
        return Ok(Kind::Dockerfile);
    }
    let doc = yaml::parse(text).map_err(|_| {
        CiError::UnknownKind(
            "neither a Dockerfile (FROM/ARG first) nor YAML; pass &kind=github-workflow|gitlab-ci|dockerfile".into(),
        )
    })?;
    if doc.get("jobs").is_some() && (doc.get("on").is_some() || doc.get("true").is_some()) {
        return Ok(Kind::GithubWorkflow);
    }
    let gitlab_keys = [
        "stages",
        "include",
        "default",
        "variables",
        "workflow",
        "image",
    ];
    if doc.entries().iter().any(|(k, v)| {
        k.as_str().is_some_and(|k| gitlab_keys.contains(&k)) || v.get("script").is_some()
    }) {
        return Ok(Kind::GitlabCi);
    }
    Err(CiError::UnknownKind(
        "YAML with neither `on:` + `jobs:` (GitHub Actions) nor GitLab CI keys; pass &kind=".into(),
    ))
}

/// Parameters of both rules, with the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HardeningParams {
    /// Token scopes a job may have `write` on.
    pub allowed_write_scopes: Vec<String>,
    /// Self-hosted runner groups (or labels) that are allowed.
    pub allowed_runner_groups: Vec<String>,
    /// Allowed final-stage base images (`*` wildcards), matched against the
    /// image name without tag and digest.
    pub allowed_final_bases: Vec<String>,
}

impl Default for HardeningParams {
    fn default() -> Self {
        HardeningParams {
            allowed_write_scopes: [
                "contents",
                "packages",
                "id-token",
                "attestations",
                "security-events",
                "checks",
                "statuses",
                "pull-requests",
            ]
            .map(String::from)
            .to_vec(),
            allowed_runner_groups: Vec::new(),
            allowed_final_bases: [
                "scratch",
                "gcr.io/distroless/*",
                "cgr.dev/chainguard/static",
                "*/distroless-*",
                "*distroless/static*",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Checks one definition.
pub fn check(
    kind: Kind,
    file: &str,
    text: &str,
    params: &HardeningParams,
) -> Result<Vec<Finding>, CiError> {
    match kind {
        Kind::GithubWorkflow => workflow::check(file, text, params),
        Kind::GitlabCi => gitlab::check(file, text, params),
        Kind::Dockerfile => dockerfile::check(file, text, params),
    }
}

pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn has_digest(image: &str) -> bool {
    image
        .split_once("@sha256:")
        .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A stored CI definition as policy rules read it (`RuleInput.ci_definitions`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CiDefinitionFacts {
    /// ci_definitions id.
    pub id: i64,
    pub kind: Kind,
    pub file: String,
    /// The definition's text: rules re-check it with their parameters.
    pub content: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert_eq!(
            detect(None, "# syntax=docker/dockerfile:1\nFROM alpine\n").unwrap(),
            Kind::Dockerfile
        );
        assert_eq!(
            detect(None, "on: push\njobs:\n  a: {}\n").unwrap(),
            Kind::GithubWorkflow
        );
        assert_eq!(
            detect(None, "stages: [build]\nbuild:\n  script: [make]\n").unwrap(),
            Kind::GitlabCi
        );
        assert_eq!(
            detect(Some("ci/.gitlab-ci.yml"), "x: 1").unwrap(),
            Kind::GitlabCi
        );
        assert!(detect(None, "hello: world\n").is_err());
        assert!(detect(None, "\u{0}\u{1}garbage: [").is_err());
    }

    #[test]
    fn short_names() {
        let at = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(short_name(&at), at);
        assert_eq!(short_name(&format!("{at}é")), format!("{at}…"));
    }
}
