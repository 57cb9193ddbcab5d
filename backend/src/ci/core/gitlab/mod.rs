//! `.gitlab-ci.yml` hardening: images pinned by digest, includes pinned to
//! a commit, jobs on allowed runners, no untrusted variables evaluated as
//! code, publishing with OIDC rather than stored credentials.
//!
//! Jobs are checked as GitLab runs them. The YAML reader has already
//! copied in aliases and merge keys; here `extends:` (a name or a list,
//! hidden `.templates` or other jobs, nested) is merged as GitLab merges
//! it — parents in order, later ones winning, the job's own keys last;
//! mappings deep-merged, everything else (lists included) replaced — and
//! then every `!reference [.job, key, …]` is replaced by the value it
//! names (after that job's own `extends:`). Both are bounded
//! ([`MAX_EXTENDS_LEVELS`], [`MAX_REFERENCE_DEPTH`], [`MAX_COPIED_NODES`],
//! [`MAX_COPIED_TEXT`]). What cannot be resolved — an unknown or circular
//! parent, a chain too deep, a reference to nothing, an `include:` whose
//! file Cairn does not see — is an `unresolvable` finding, never a pass.

use super::yaml::{self, Node, Value};
use super::{has_digest, is_full_sha, short_name, CiError, Finding, Findings, HardeningParams};

mod extends;
#[cfg(test)]
mod tests;

use extends::{Exhausted, Problem, Resolver};

/// A job and at most ten levels of templates above it: GitLab refuses a
/// deeper `extends:` chain ("nesting too deep in `extends`").
pub const MAX_EXTENDS_LEVELS: usize = 11;
/// `!reference` tags nest at most ten levels deep (GitLab's limit).
pub const MAX_REFERENCE_DEPTH: usize = 10;
/// Nodes that resolving `extends:` and `!reference` may copy, for the whole
/// definition: twice what the YAML tree itself may hold.
pub const MAX_COPIED_NODES: usize = 2 * yaml::MAX_NODES;
/// Bytes of text that resolving `extends:` and `!reference` may copy.
pub const MAX_COPIED_TEXT: usize = yaml::MAX_TEXT;
/// Reasons kept per job or template for `unresolvable` findings.
const MAX_PROBLEMS: usize = 10;

const REFERENCE_TAG: &str = "!reference";

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

/// Where a check looks: a job, `default:`, or the old top-level keywords.
#[derive(Clone, Copy)]
enum Who<'n> {
    Job(&'n str),
    Default,
    TopLevel,
}

impl Who<'_> {
    fn name(&self) -> Option<&str> {
        match self {
            Who::Job(n) => Some(n),
            _ => None,
        }
    }
    fn describe(&self) -> String {
        match self {
            Who::Job(n) => format!("job `{n}`"),
            Who::Default => "`default:`".into(),
            Who::TopLevel => "the top-level keywords".into(),
        }
    }
}

/// A node's items, nested lists flattened (`!reference` in a list makes
/// one; GitLab flattens them); a node that is not a list is its only item.
fn flat(node: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        match &n.value {
            Value::Seq(items) => todo.extend(items.iter().rev()),
            _ => out.push(n),
        }
    }
    out
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

/// Script lines of a job (`before_script`, `script`, `after_script`),
/// nested lists flattened.
fn script_lines(job: &Node) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    for key in ["before_script", "script", "after_script"] {
        if let Some(s) = job.get(key) {
            for n in flat(s) {
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
fn check_injection(file: &str, who: Who<'_>, job: &Node, out: &mut Findings) {
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
                who.name(),
                format!("{} runs ${var} (chosen by whoever pushes or opens the merge request) as shell code", who.describe()),
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

/// `tags:` naming self-managed runners that are not allowed.
fn check_runner(
    file: &str,
    who: Who<'_>,
    node: &Node,
    params: &HardeningParams,
    out: &mut Findings,
) {
    let Some(tags) = node.get("tags") else { return };
    let labels: Vec<&str> = flat(tags).into_iter().filter_map(Node::as_str).collect();
    if !labels.is_empty()
        && !labels
            .iter()
            .any(|l| params.allowed_runner_groups.iter().any(|a| a == l))
    {
        out.push(finding(
            file,
            "runner",
            tags.line,
            who.name(),
            format!(
                "{} runs on self-managed runners tagged `{}`",
                who.describe(),
                labels.join(", ")
            ),
            "use GitLab-hosted runners, or allow the ephemeral runner tag in allowed_runner_groups"
                .into(),
        ));
    }
}

/// Image, services, scripts (and, but for the old top-level keywords,
/// tags) of `default:` or the top level: the parts jobs inherit.
fn check_defaults(
    file: &str,
    who: Who<'_>,
    node: &Node,
    params: &HardeningParams,
    out: &mut Findings,
) {
    if let Some(i) = node.get("image") {
        check_image(file, i, who.name(), out);
    }
    for s in node.get("services").map(flat).unwrap_or_default() {
        check_image(file, s, who.name(), out);
    }
    check_injection(file, who, node, out);
    if matches!(who, Who::Default) {
        check_runner(file, who, node, params, out);
    }
}

fn unresolvable(file: &str, who: Who<'_>, p: Problem) -> Finding {
    finding(
        file,
        "unresolvable",
        p.line,
        who.name(),
        format!("{} cannot be fully analysed: {}", who.describe(), p.message),
        p.fix.into(),
    )
}

/// `include:` entries: remote files and projects or components not pinned
/// to a commit can change under you; the rest Cairn does not see.
fn check_includes(file: &str, inc: &Node, out: &mut Findings) {
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
            continue;
        }
        let what = if let Some(project) = item.get("project") {
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
                continue;
            }
            format!("project: {}", project.as_str().unwrap_or_default())
        } else if let Some(component) = item.get("component") {
            let c = component.as_str().unwrap_or_default();
            if !c.rsplit_once('@').is_some_and(|(_, v)| is_full_sha(v)) {
                out.push(finding(
                    file,
                    "unpinned-include",
                    component.line,
                    None,
                    format!("`include: component: {c}` is not pinned to a commit"),
                    format!(
                        "include: component: {}@<40-hex commit sha>",
                        c.split('@').next().unwrap_or(c)
                    ),
                ));
                continue;
            }
            format!("component: {c}")
        } else if let Some(local) = item.get("local") {
            format!("local: {}", local.as_str().unwrap_or_default())
        } else if let Some(template) = item.get("template") {
            format!("template: {}", template.as_str().unwrap_or_default())
        } else if let Some(path) = item.as_str() {
            format!("local: {path}")
        } else {
            "…".to_owned()
        };
        out.push(finding(
            file,
            "unresolvable",
            item.line,
            None,
            format!("`include: {}` brings in configuration Cairn does not see: the jobs and templates it defines, and whatever it merges into this file's jobs, are not checked", short_name(&what)),
            "inline the included configuration, or check the included file as a CI definition of its own and waive this finding".into(),
        ));
    }
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
    let mut rx = Resolver::new(&doc);
    let mut exhausted = false;

    // What jobs inherit: the old top-level keywords, then `default:`.
    let mut problems = Vec::new();
    let mut top = Vec::new();
    for key in ["image", "services", "before_script", "after_script"] {
        let Some((k, v)) = doc.entry(key) else {
            continue;
        };
        match rx.resolve_references(v, &mut problems) {
            Ok(r) => top.push((k.clone(), r.unwrap_or_else(|| v.clone()))),
            Err(Exhausted) => exhausted = true,
        }
    }
    let top = Node {
        line: doc.line,
        block: false,
        tag: None,
        value: Value::Map(top),
    };
    check_defaults(file, Who::TopLevel, &top, params, &mut out);
    problems
        .drain(..)
        .for_each(|p| out.push(unresolvable(file, Who::TopLevel, p)));
    if let Some(d) = doc.get("default") {
        match rx.resolve_references(d, &mut problems) {
            Ok(r) => {
                check_defaults(
                    file,
                    Who::Default,
                    r.as_ref().unwrap_or(d),
                    params,
                    &mut out,
                );
                problems
                    .drain(..)
                    .for_each(|p| out.push(unresolvable(file, Who::Default, p)));
            }
            Err(Exhausted) => exhausted = true,
        }
    }
    if let Some(inc) = doc.get("include") {
        check_includes(file, inc, &mut out);
    }

    // Where each top-level entry's text is: a job's findings on lines
    // outside it say how the value got there.
    let mut starts: Vec<usize> = doc.entries().iter().map(|(k, _)| k.line).collect();
    starts.sort_unstable();
    starts.dedup();

    let jobs: Vec<(&Node, &str)> = doc
        .entries()
        .iter()
        .filter(|(k, v)| {
            k.as_str().is_some_and(|name| {
                !RESERVED.contains(&name)
                    && !name.starts_with('.')
                    && (matches!(v.value, Value::Map(_)) || v.tag() == Some(REFERENCE_TAG))
            })
        })
        .filter_map(|(k, _)| Some((k, k.as_str()?)))
        .collect();
    let limit = |line: usize, job: Option<&str>, left: usize| {
        let what = match job {
            Some(name) => format!("job `{name}` and the {left} job(s) after it are not checked"),
            None => format!("the {left} job(s) are not checked"),
        };
        finding(
            file,
            "unresolvable",
            line,
            job,
            format!(
                "resolving `extends:` and `!reference` copies more than Cairn's limit ({MAX_COPIED_NODES} nodes or {} MiB of text): {what}",
                MAX_COPIED_TEXT >> 20,
            ),
            "share less through `extends:` / `!reference` (smaller templates), or split the pipeline into several files".into(),
        )
    };
    if exhausted {
        out.push(limit(doc.line, None, jobs.len()));
        return Ok(out.finish());
    }
    for (i, &(k, full_name)) in jobs.iter().enumerate() {
        // Shown in every finding of the job: cut when very long.
        let name = short_name(full_name);
        let name = name.as_ref();
        let Ok((view, problems)) = rx.job(full_name) else {
            out.push(limit(k.line, Some(name), jobs.len() - i - 1));
            break;
        };
        for p in problems {
            out.push(unresolvable(file, Who::Job(name), p));
        }
        let job = view.node();
        if !matches!(job.value, Value::Map(_)) {
            continue;
        }
        let mark = out.mark();
        if let Some(i) = job.get("image") {
            check_image(file, i, Some(name), &mut out);
        }
        for s in job.get("services").map(flat).unwrap_or_default() {
            check_image(file, s, Some(name), &mut out);
        }
        check_publish(file, name, job, &mut out);
        check_injection(file, Who::Job(name), job, &mut out);
        check_runner(file, Who::Job(name), job, params, &mut out);
        let end = starts
            .get(starts.partition_point(|&l| l <= k.line))
            .copied()
            .unwrap_or(usize::MAX);
        out.edit_since(mark, |f| {
            if f.line < k.line || f.line >= end {
                f.message.push_str(&format!(
                    " (line {} is outside job `{name}`: the job gets it through `extends:`, `!reference` or a YAML alias)",
                    f.line
                ));
            }
        });
    }
    Ok(out.finish())
}
