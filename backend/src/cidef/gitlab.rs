//! `.gitlab-ci.yml` hardening: images pinned by digest, includes pinned to
//! a commit, jobs on allowed runners, no untrusted variables evaluated as
//! code, publishing with OIDC rather than stored credentials.

use super::yaml::{self, Node, Value};
use super::{has_digest, is_full_sha, short_name, CiError, Finding, Findings, HardeningParams};

const RESERVED: &[&str] = &[
    "stages",
    "include",
    "default",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "pages",
];

fn finding(
    file: &str,
    check: &str,
    line: usize,
    job: Option<&str>,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        rule: super::workflow::RULE.into(),
        check: check.into(),
        file: file.into(),
        line,
        job: job.map(str::to_owned),
        step: None,
        message,
        fix,
    }
}

fn image_of(node: &Node) -> Option<(&str, usize)> {
    match &node.value {
        Value::Scalar(s) => Some((s.as_str(), node.line)),
        Value::Map(_) => node
            .get("name")
            .and_then(|n| n.as_str().map(|s| (s, n.line))),
        _ => None,
    }
}

fn check_image(file: &str, node: &Node, job: Option<&str>, out: &mut Findings) {
    if let Some((image, line)) = image_of(node) {
        if !has_digest(image) && !image.contains('$') {
            out.push(finding(
                file,
                "unpinned-image",
                line,
                job,
                format!("image `{image}` is not pinned by digest"),
                format!("image: {}@sha256:<digest>  (`docker buildx imagetools inspect {image}` prints it)", image.split('@').next().unwrap_or(image)),
            ));
        }
    }
}

/// Script lines of a job (`before_script`, `script`, `after_script`).
fn script_lines(job: &Node) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    for key in ["before_script", "script", "after_script"] {
        if let Some(s) = job.get(key) {
            let nodes: Vec<&Node> = match &s.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![s],
            };
            for n in nodes {
                if let Some(t) = n.as_str() {
                    out.extend(t.lines().enumerate().map(|(i, l)| (l, n.text_line(i))));
                }
            }
        }
    }
    out
}

/// Variables that look like stored credentials (not GitLab's predefined,
/// per-job `CI_*` ones).
fn credential_vars(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find('$') {
        let after = rest[at + 1..].trim_start_matches('{');
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let upper = name.to_ascii_uppercase();
        if !upper.starts_with("CI_")
            && ["TOKEN", "PASSWORD", "SECRET", "API_KEY", "PRIVATE_KEY"]
                .iter()
                .any(|w| upper.contains(w))
        {
            out.push(name);
        }
        rest = &rest[at + 1..];
    }
    out
}

/// Predefined variables whose values whoever pushes a branch, writes a
/// commit message or opens a merge request chooses.
const UNTRUSTED_VARS: &[&str] = &[
    "CI_COMMIT_MESSAGE",
    "CI_COMMIT_TITLE",
    "CI_COMMIT_DESCRIPTION",
    "CI_COMMIT_TAG_MESSAGE",
    "CI_COMMIT_AUTHOR",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME",
    "CI_MERGE_REQUEST_TITLE",
    "CI_MERGE_REQUEST_DESCRIPTION",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
];

/// Commands that run their argument as shell code again.
const REEVALUATE: &[&str] = &["eval ", "sh -c", "bash -c", "zsh -c", "source <(", ". <("];

/// An attacker-chosen variable fed to a command that runs it as code (a
/// plain `$VAR` expansion is data to the shell; `eval "$VAR"` is code).
fn check_injection(file: &str, name: &str, job: &Node, out: &mut Findings) {
    for (line, n) in script_lines(job) {
        if !REEVALUATE.iter().any(|c| line.contains(c)) {
            continue;
        }
        let named: Vec<&str> = UNTRUSTED_VARS
            .iter()
            .copied()
            .filter(|v| {
                line.match_indices(v).any(|(at, _)| {
                    let before = line[..at].trim_end_matches('{');
                    let after = line[at + v.len()..].chars().next();
                    before.ends_with('$')
                        && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
            .collect();
        if let Some(var) = named.first() {
            out.push(finding(
                file,
                "script-injection",
                n,
                Some(name),
                format!("job `{name}` runs ${var} (chosen by whoever pushes or opens the merge request) as shell code"),
                format!("never pass ${var} to eval / sh -c: use it as quoted data (\"${var}\"), or write it to a file and read it"),
            ));
        }
    }
}

/// A job that publishes or signs with stored credentials instead of an
/// OIDC `id_tokens:` token.
fn check_publish(file: &str, name: &str, job: &Node, out: &mut Findings) {
    let lines = script_lines(job);
    let publishes = lines.iter().any(|(l, _)| {
        super::workflow::PUBLISH_COMMANDS
            .iter()
            .any(|c| l.contains(c))
    });
    if !publishes {
        return;
    }
    let creds: Vec<(String, usize)> = lines
        .iter()
        .flat_map(|(l, n)| credential_vars(l).into_iter().map(move |v| (v, *n)))
        .collect();
    if creds.is_empty() && job.get("id_tokens").is_some() {
        return;
    }
    let Some((_, line)) = creds.first() else {
        if job.get("id_tokens").is_none() && job.get("secrets").is_some() {
            out.push(finding(
                file,
                "publish-without-oidc",
                job.line,
                Some(name),
                format!("job `{name}` publishes or signs with `secrets:` and no `id_tokens:`"),
                "use `id_tokens:` (OIDC) with keyless signing / the registry's or cloud's OIDC trust instead of stored credentials".into(),
            ));
        }
        return;
    };
    let names: Vec<&str> = creds.iter().map(|(v, _)| v.as_str()).collect();
    out.push(finding(
        file,
        "publish-without-oidc",
        *line,
        Some(name),
        format!("job `{name}` publishes or signs with stored credentials ({})", names.join(", ")),
        "add `id_tokens:` to the job and use keyless signing (cosign with SIGSTORE_ID_TOKEN) or the registry's / cloud's OIDC trust instead of stored credentials".into(),
    ));
}

pub fn check(file: &str, text: &str, params: &HardeningParams) -> Result<Vec<Finding>, CiError> {
    let doc = yaml::parse(text)?;
    if !matches!(doc.value, Value::Map(_)) {
        return Err(CiError::Invalid {
            line: doc.line,
            message: "a .gitlab-ci.yml is a mapping of jobs and keywords".into(),
        });
    }
    let mut out = Findings::default();
    if let Some(i) = doc.get("image") {
        check_image(file, i, None, &mut out);
    }
    if let Some(d) = doc.get("default").and_then(|d| d.get("image")) {
        check_image(file, d, None, &mut out);
    }
    if let Some(inc) = doc.get("include") {
        let items: Vec<&Node> = match &inc.value {
            Value::Seq(s) => s.iter().collect(),
            _ => vec![inc],
        };
        for item in items {
            if let Some(remote) = item.get("remote").or_else(|| {
                item.as_str()
                    .filter(|s| s.starts_with("http"))
                    .map(|_| item)
            }) {
                out.push(finding(
                    file,
                    "unpinned-include",
                    remote.line,
                    None,
                    format!("`include: remote: {}` pulls CI configuration that can change under you", remote.as_str().unwrap_or_default()),
                    "vendor the file into the repository or include it from a project pinned by `ref: <40-hex commit sha>`".into(),
                ));
            }
            if let Some(project) = item.get("project") {
                let r = item.get("ref");
                if !r.and_then(Node::as_str).is_some_and(is_full_sha) {
                    out.push(finding(
                        file,
                        "unpinned-include",
                        r.map_or(project.line, |r| r.line),
                        None,
                        format!(
                            "`include: project: {}` is not pinned to a commit",
                            project.as_str().unwrap_or_default()
                        ),
                        "add `ref: <40-hex commit sha>` to the include".into(),
                    ));
                }
            }
        }
    }
    for (k, job) in doc.entries() {
        let Some(name) = k.as_str() else { continue };
        if RESERVED.contains(&name) || name.starts_with('.') || !matches!(job.value, Value::Map(_))
        {
            continue;
        }
        // Shown in every finding of the job: cut when very long.
        let name = short_name(name);
        let name = name.as_ref();
        if let Some(i) = job.get("image") {
            check_image(file, i, Some(name), &mut out);
        }
        for s in job.get("services").map(Node::items).unwrap_or_default() {
            check_image(file, s, Some(name), &mut out);
        }
        check_publish(file, name, job, &mut out);
        check_injection(file, name, job, &mut out);
        if let Some(tags) = job.get("tags") {
            let labels: Vec<&str> = tags.items().iter().filter_map(Node::as_str).collect();
            if !labels.is_empty()
                && !labels
                    .iter()
                    .any(|l| params.allowed_runner_groups.iter().any(|a| a == l))
            {
                out.push(finding(
                    file,
                    "runner",
                    tags.line,
                    Some(name),
                    format!("job `{name}` runs on self-managed runners tagged `{}`", labels.join(", ")),
                    "use GitLab-hosted runners, or allow the ephemeral runner tag in allowed_runner_groups".into(),
                ));
            }
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_variables_run_as_code() {
        let p = HardeningParams::default();
        let text = "notes:\n  script:\n    - echo \"$CI_COMMIT_MESSAGE\"\n    - eval \"echo $CI_COMMIT_TITLE\"\n    - sh -c \"git log ${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}\"\n    - bash -c \"echo $CI_COMMIT_REF_SLUG $CI_COMMIT_BRANCHES\"\n";
        let f = check(".gitlab-ci.yml", text, &p).unwrap();
        let got: Vec<(&str, usize)> = f.iter().map(|f| (f.check.as_str(), f.line)).collect();
        // Plain expansion (line 3) is data; the slug is sanitised and
        // CI_COMMIT_BRANCHES is not CI_COMMIT_BRANCH (line 6).
        assert_eq!(
            got,
            [("script-injection", 4), ("script-injection", 5)],
            "{f:?}"
        );
        assert!(
            f[0].message.contains("$CI_COMMIT_TITLE"),
            "{}",
            f[0].message
        );
        assert!(f[1].fix.contains("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"));
    }

    #[test]
    fn publishing_with_stored_credentials() {
        let p = HardeningParams::default();
        let text = "release:\n  image: x@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3\n  script:\n    - echo \"$DOCKERHUB_TOKEN\" | docker login -u acme --password-stdin\n    - docker push acme/app:1\n    - echo $CI_JOB_TOKEN\nsign:\n  image: x@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3\n  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n  script:\n    - cosign sign --yes acme/app@sha256:abc\n";
        let f = check(".gitlab-ci.yml", text, &p).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].check, "publish-without-oidc");
        assert_eq!(f[0].line, 4);
        assert_eq!(f[0].job.as_deref(), Some("release"));
        assert!(f[0].message.contains("DOCKERHUB_TOKEN"));
        assert!(!f[0].message.contains("CI_JOB_TOKEN"));
    }

    /// A job `name` with `lines` script lines, each a script-injection
    /// finding. The name is an explicit key (`? name`): YAML allows longer
    /// ones than `name:`.
    fn injections(name: &str, lines: usize) -> String {
        format!(
            "? {name}\n:\n  script:\n{}",
            "    - eval \"echo $CI_COMMIT_TITLE\"\n".repeat(lines)
        )
    }

    #[test]
    fn long_job_names_are_cut_in_findings() {
        let p = HardeningParams::default();
        let at = "j".repeat(crate::cidef::MAX_NAME_CHARS);
        let f = check(".gitlab-ci.yml", &injections(&at, 1), &p).unwrap();
        assert_eq!(f[0].job.as_deref(), Some(at.as_str()));
        assert!(f[0].message.contains(&format!("job `{at}` runs")));
        let f = check(".gitlab-ci.yml", &injections(&format!("{at}x"), 1), &p).unwrap();
        let cut = format!("{at}…");
        assert_eq!(f[0].job.as_deref(), Some(cut.as_str()));
        assert!(f[0].message.contains(&format!("job `{cut}` runs")));
    }

    #[test]
    fn findings_are_capped() {
        let p = HardeningParams::default();
        let max = crate::cidef::MAX_FINDINGS;
        let f = check(".gitlab-ci.yml", &injections("a", max), &p).unwrap();
        assert_eq!(f.len(), max);
        assert_eq!(f.last().unwrap().check, "script-injection");
        let f = check(".gitlab-ci.yml", &injections("a", max + 1), &p).unwrap();
        assert_eq!(f.len(), max + 1);
        let last = f.last().unwrap();
        assert_eq!(
            (last.rule.as_str(), last.check.as_str()),
            (super::super::workflow::RULE, "findings-omitted")
        );
        assert_eq!(last.line, max + 4);
        assert!(
            last.message.starts_with("1 more finding(s)"),
            "{}",
            last.message
        );
        // A 512 KB job name and 5 000 such lines (once 2.5 GB of copies):
        // 1 000 short findings.
        let big = "j".repeat(512 * 1024);
        let f = check(".gitlab-ci.yml", &injections(&big, 5_000), &p).unwrap();
        assert_eq!(f.len(), max + 1);
        assert!(f.iter().all(|f| f.message.len() < 1024));
        assert!(
            f[max].message.starts_with("4000 more"),
            "{}",
            f[max].message
        );
    }
}
