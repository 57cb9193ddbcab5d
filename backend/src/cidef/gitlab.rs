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

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use super::yaml::{self, Budget, Node, Value};
use super::{has_digest, is_full_sha, short_name, CiError, Finding, Findings, HardeningParams};

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

/// Why part of a definition cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    line: usize,
    message: String,
    fix: &'static str,
}

const FIX_UNKNOWN: &str = "define it in this file, or inline what the included file provides: Cairn checks one file at a time and does not fetch `include:`d files";
const FIX_CYCLE: &str = "remove the cycle (GitLab refuses the pipeline)";

/// Resolving ran past [`MAX_COPIED_NODES`] / [`MAX_COPIED_TEXT`].
struct Exhausted;

/// A top-level entry with its `extends:` merged in.
struct Resolved<'a> {
    node: Cow<'a, Node>,
    /// Levels of `extends:` above it (0: none).
    height: usize,
    problems: Vec<Problem>,
}

/// A job as checked: its `extends:` resolved (shared), or a copy with its
/// `!reference`s resolved too.
enum View<'a> {
    Shared(Rc<Resolved<'a>>),
    Owned(Node),
}

impl View<'_> {
    fn node(&self) -> &Node {
        match self {
            View::Shared(r) => &r.node,
            View::Owned(n) => n,
        }
    }
}

fn has_reference(node: &Node) -> bool {
    node.tag() == Some(REFERENCE_TAG)
        || match &node.value {
            Value::Seq(items) => items.iter().any(has_reference),
            Value::Map(entries) => entries.iter().any(|(_, v)| has_reference(v)),
            _ => false,
        }
}

/// GitLab's (ActiveSupport's) deep merge: `src` wins; mappings present on
/// both sides are merged key by key, anything else (lists included) is
/// replaced.
fn deep_merge(dst: &mut Node, src: Node) {
    let Node {
        line,
        block,
        tag,
        value,
    } = src;
    match (&mut dst.value, value) {
        (Value::Map(d), Value::Map(s)) => {
            let mut index: HashMap<String, usize> = d
                .iter()
                .enumerate()
                .filter_map(|(i, (k, _))| k.as_str().map(|k| (k.to_owned(), i)))
                .collect();
            for (k, v) in s {
                match k.as_str().and_then(|k| index.get(k)).copied() {
                    Some(i) => {
                        let slot = &mut d[i];
                        slot.0 = k;
                        if matches!((&slot.1.value, &v.value), (Value::Map(_), Value::Map(_))) {
                            deep_merge(&mut slot.1, v);
                        } else {
                            slot.1 = v;
                        }
                    }
                    None => {
                        if let Some(k) = k.as_str() {
                            index.insert(k.to_owned(), d.len());
                        }
                        d.push((k, v));
                    }
                }
            }
            dst.line = line;
            dst.block = block;
            dst.tag = tag;
        }
        (_, value) => {
            *dst = Node {
                line,
                block,
                tag,
                value,
            }
        }
    }
}

/// `[a, b]`, each name cut.
fn show_path(path: &[String]) -> String {
    let names: Vec<Cow<'_, str>> = path.iter().map(|p| short_name(p)).collect();
    format!("[{}]", names.join(", "))
}

struct Resolver<'a> {
    top: HashMap<&'a str, &'a Node>,
    memo: HashMap<&'a str, Rc<Resolved<'a>>>,
    budget: Budget,
    /// The definition has an `include:`: an unknown name may come from it.
    includes: bool,
}

impl<'a> Resolver<'a> {
    fn new(doc: &'a Node) -> Resolver<'a> {
        Resolver {
            top: doc
                .entries()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v)))
                .collect(),
            memo: HashMap::new(),
            budget: Budget::new(MAX_COPIED_NODES, MAX_COPIED_TEXT),
            includes: doc.get("include").is_some(),
        }
    }

    fn copy(&mut self, n: &Node) -> Result<Node, Exhausted> {
        if self.budget.take(n.size()) {
            Ok(n.clone())
        } else {
            Err(Exhausted)
        }
    }

    /// Adds `p` to `problems` (once, at most [`MAX_PROBLEMS`]); kept
    /// reasons count against the budget too.
    fn note(&mut self, problems: &mut Vec<Problem>, p: Problem) -> Result<(), Exhausted> {
        if problems.len() >= MAX_PROBLEMS || problems.contains(&p) {
            return Ok(());
        }
        let size = yaml::Size {
            nodes: 1,
            text: p.message.len(),
            height: 0,
        };
        if !self.budget.take(size) {
            return Err(Exhausted);
        }
        problems.push(p);
        Ok(())
    }

    fn unknown(&self, what: String) -> String {
        if self.includes {
            format!("{what}, which is not defined in this file (it may come from an `include:`, which Cairn does not fetch)")
        } else {
            format!("{what}, which is not defined in this file")
        }
    }

    /// The top-level entry `key` with its `extends:` merged in, memoised.
    /// `chain` holds the entries being resolved above it.
    fn extended(
        &mut self,
        key: &'a str,
        chain: &mut Vec<&'a str>,
    ) -> Result<Rc<Resolved<'a>>, Exhausted> {
        if let Some(r) = self.memo.get(key) {
            return Ok(Rc::clone(r));
        }
        let node: &'a Node = self.top[key];
        let Some(ext) = node.get("extends") else {
            let r = Rc::new(Resolved {
                node: Cow::Borrowed(node),
                height: 0,
                problems: Vec::new(),
            });
            self.memo.insert(key, Rc::clone(&r));
            return Ok(r);
        };
        let who = short_name(key);
        let mut problems = Vec::new();
        let names: Vec<&'a Node> = match &ext.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![ext],
        };
        chain.push(key);
        let mut merged: Option<Node> = None;
        let mut height = 0;
        // A result cut short by the depth limit is not memoised: reached
        // from higher up, the same entry may resolve fully.
        let mut cut = false;
        for n in names {
            let Some(p) = n.as_str() else {
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!(
                            "the `extends:` of `{who}` is neither a name nor a list of names"
                        ),
                        fix: "write `extends: .template` or `extends: [.a, .b]`",
                    },
                )?;
                continue;
            };
            let shown = short_name(p);
            let Some((&p, &parent)) = self.top.get_key_value(p) else {
                let message = self.unknown(format!("`{who}` extends `{shown}`"));
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message,
                        fix: FIX_UNKNOWN,
                    },
                )?;
                continue;
            };
            if let Some(at) = chain.iter().position(|c| *c == p) {
                let cycle: Vec<Cow<'_, str>> = chain[at..]
                    .iter()
                    .chain([&p])
                    .map(|c| short_name(c))
                    .collect();
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!("`extends:` makes a cycle: {}", cycle.join(" → ")),
                        fix: FIX_CYCLE,
                    },
                )?;
                continue;
            }
            if !matches!(parent.value, Value::Map(_)) {
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!(
                            "`{who}` extends `{shown}`, which is not a job or template (a mapping)"
                        ),
                        fix: "extend only jobs or templates",
                    },
                )?;
                continue;
            }
            let too_deep = Problem {
                line: n.line,
                message: format!("the `extends:` chain through `{who}` → `{shown}` is deeper than {MAX_EXTENDS_LEVELS} levels (a job and ten levels of templates: GitLab's limit)"),
                fix: "flatten the `extends:` chain (GitLab refuses the pipeline)",
            };
            // `p` has `chain.len()` entries above it.
            if chain.len() >= MAX_EXTENDS_LEVELS {
                self.note(&mut problems, too_deep)?;
                cut = true;
                continue;
            }
            let known = self.memo.contains_key(p);
            let r = self.extended(p, chain)?;
            if known && chain.len() + r.height >= MAX_EXTENDS_LEVELS {
                self.note(&mut problems, too_deep)?;
            }
            for q in &r.problems {
                self.note(&mut problems, q.clone())?;
            }
            height = height.max(r.height + 1);
            let copy = self.copy(&r.node)?;
            match &mut merged {
                None => merged = Some(copy),
                Some(m) => deep_merge(m, copy),
            }
        }
        chain.pop();
        let node = match merged {
            None => Cow::Borrowed(node),
            Some(mut m) => {
                let own = self.copy(node)?;
                deep_merge(&mut m, own);
                Cow::Owned(m)
            }
        };
        let r = Rc::new(Resolved {
            node,
            height,
            problems,
        });
        if !cut {
            self.memo.insert(key, Rc::clone(&r));
        }
        Ok(r)
    }

    /// Replaces every `!reference [...]` in `node` by the value it names,
    /// nested ones too (`depth`: how many references led here, `stack`
    /// their paths).
    fn references(
        &mut self,
        node: &mut Node,
        depth: usize,
        stack: &mut Vec<Vec<String>>,
        problems: &mut Vec<Problem>,
    ) -> Result<(), Exhausted> {
        if node.tag() != Some(REFERENCE_TAG) {
            match &mut node.value {
                Value::Seq(items) => {
                    for i in items {
                        self.references(i, depth, stack, problems)?;
                    }
                }
                Value::Map(entries) => {
                    for (_, v) in entries {
                        self.references(v, depth, stack, problems)?;
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        let line = node.line;
        let path: Option<Vec<String>> = match &node.value {
            Value::Seq(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        // Unless resolved below, the reference stands for nothing.
        *node = Node {
            line,
            block: false,
            tag: None,
            value: Value::Seq(Vec::new()),
        };
        let Some(path) = path else {
            return self.note(
                problems,
                Problem {
                    line,
                    message: "a `!reference` that is not a list of names".into(),
                    fix: "write `!reference [.job, key, …]`",
                },
            );
        };
        let shown = show_path(&path);
        if depth >= MAX_REFERENCE_DEPTH {
            return self.note(
                problems,
                Problem {
                    line,
                    message: format!("`!reference {shown}` nests more than {MAX_REFERENCE_DEPTH} references deep (GitLab's limit)"),
                    fix: "reference the value directly (GitLab refuses the pipeline)",
                },
            );
        }
        if stack.contains(&path) {
            return self.note(
                problems,
                Problem {
                    line,
                    message: format!("`!reference {shown}` is part of a cycle of references"),
                    fix: FIX_CYCLE,
                },
            );
        }
        let Some((&top, _)) = self.top.get_key_value(path[0].as_str()) else {
            let message = self.unknown(format!(
                "`!reference {shown}` names `{}`",
                short_name(&path[0])
            ));
            return self.note(
                problems,
                Problem {
                    line,
                    message,
                    fix: FIX_UNKNOWN,
                },
            );
        };
        let r = self.extended(top, &mut Vec::new())?;
        for q in &r.problems {
            self.note(problems, q.clone())?;
        }
        let mut at: &Node = &r.node;
        for k in &path[1..] {
            match at.get(k) {
                Some(n) => at = n,
                None => {
                    return self.note(
                        problems,
                        Problem {
                            line,
                            message: format!(
                                "`!reference {shown}` names nothing: `{}` has no `{}`",
                                short_name(&path[0]),
                                short_name(k)
                            ),
                            fix: "reference a key that is defined in this file",
                        },
                    )
                }
            }
        }
        let mut value = self.copy(at)?;
        stack.push(path);
        self.references(&mut value, depth + 1, stack, problems)?;
        stack.pop();
        *node = value;
        Ok(())
    }

    /// `node` with its `!reference`s resolved: `None` when it has none.
    fn resolve_references(
        &mut self,
        node: &Node,
        problems: &mut Vec<Problem>,
    ) -> Result<Option<Node>, Exhausted> {
        if !has_reference(node) {
            return Ok(None);
        }
        let mut n = self.copy(node)?;
        self.references(&mut n, 0, &mut Vec::new(), problems)?;
        Ok(Some(n))
    }

    /// The job `key` as GitLab runs it, and why it could not be resolved
    /// in full.
    fn job(&mut self, key: &'a str) -> Result<(View<'a>, Vec<Problem>), Exhausted> {
        let r = self.extended(key, &mut Vec::new())?;
        let mut problems = r.problems.clone();
        Ok(match self.resolve_references(&r.node, &mut problems)? {
            Some(n) => (View::Owned(n), problems),
            None => (View::Shared(r), problems),
        })
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

    const PIN: &str = "@sha256:0c2cbe4b9b5e3f9a13f2f5f4f6e9a1c8d9f7b6a5e4d3c2b1a0f9e8d7c6b5a4f3";
    const SHA: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";

    fn run(text: &str) -> Vec<Finding> {
        check(".gitlab-ci.yml", text, &HardeningParams::default()).unwrap()
    }

    /// `(check, line, job)` of each finding.
    fn got(f: &[Finding]) -> Vec<(&str, usize, Option<&str>)> {
        f.iter()
            .map(|f| (f.check.as_str(), f.line, f.job.as_deref()))
            .collect()
    }

    #[test]
    fn extends_a_hidden_template() {
        let f = run(".base:\n  image: python:latest\n  tags: [prod-runner]\nbuild:\n  extends: .base\n  script: [make]\n");
        assert_eq!(
            got(&f),
            [
                ("unpinned-image", 2, Some("build")),
                ("runner", 3, Some("build"))
            ],
            "{f:?}"
        );
        assert!(
            f[0].message
                .starts_with("image `python:latest` is not pinned")
                && f[0].message.contains("line 2 is outside job `build`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn several_parents_merge_in_order() {
        let text = format!(
            ".unpinned:\n  image: python:latest\n.pinned:\n  image: python{PIN}\n\
             a:\n  extends: [.unpinned, .pinned]\n  script: [x]\n\
             b:\n  extends: [.pinned, .unpinned]\n  script: [x]\n\
             c:\n  extends: [.pinned, .unpinned]\n  image: python{PIN}\n  script: [x]\n"
        );
        // The later parent wins; the job's own key wins over both.
        assert_eq!(got(&run(&text)), [("unpinned-image", 2, Some("b"))]);
        // Mappings are merged key by key: the name comes from the parent.
        let f = run(".img:\n  image:\n    name: python:latest\n    entrypoint: [\"\"]\nd:\n  extends: .img\n  image:\n    entrypoint: [\"/bin/sh\"]\n  script: [x]\n");
        assert_eq!(got(&f), [("unpinned-image", 3, Some("d"))]);
        // Lists are replaced, not merged.
        let f = run(&format!(".svc:\n  services: [postgres:latest]\n  tags: [prod]\ne:\n  extends: .svc\n  services: [\"postgres{PIN}\"]\n  tags: []\n  script: [x]\n"));
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn nested_extends() {
        let f = run(".a:\n  image: python:latest\n.b:\n  extends: .a\n  variables: {X: \"1\"}\n.c:\n  extends: .b\njob:\n  extends: .c\n  script: [x]\n");
        assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))]);
        // A job and ten levels of templates: resolved; eleven: refused.
        let chain = |levels: usize| {
            let mut t = format!(".t{levels}:\n  image: python:latest\n");
            for i in (1..levels).rev() {
                t.push_str(&format!(".t{i}:\n  extends: .t{}\n", i + 1));
            }
            t + "job:\n  extends: .t1\n  script: [x]\n"
        };
        let f = run(&chain(MAX_EXTENDS_LEVELS - 1));
        assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))], "{f:?}");
        let f = run(&chain(MAX_EXTENDS_LEVELS));
        assert_eq!(f[0].check, "unresolvable", "{f:?}");
        assert!(
            f[0].message.contains("deeper than 11 levels"),
            "{}",
            f[0].message
        );
        // A template first resolved for another job, higher up its chain,
        // is judged again from each job's own chain.
        let mut t = chain(MAX_EXTENDS_LEVELS - 1);
        t.insert_str(0, "early:\n  extends: .t5\n  script: [x]\n");
        let f = run(&t);
        assert!(f.iter().all(|f| f.check == "unpinned-image"), "{f:?}");
        let mut t = chain(MAX_EXTENDS_LEVELS);
        t.insert_str(0, "early:\n  extends: .t5\n  script: [x]\n");
        let f = run(&t);
        let late: Vec<_> = f
            .iter()
            .filter(|f| f.job.as_deref() == Some("job"))
            .collect();
        assert_eq!(late[0].check, "unresolvable", "{f:?}");
    }

    #[test]
    fn references_pull_in_scripts() {
        let text = format!(
            ".setup:\n  script:\n    - eval \"echo $CI_COMMIT_TITLE\"\n\
             job:\n  image: alpine{PIN}\n  script:\n    - !reference [.setup, script]\n    - make\n"
        );
        let f = run(&text);
        assert_eq!(got(&f), [("script-injection", 3, Some("job"))], "{f:?}");
        // Nested references, and a reference to a template's `extends:`.
        let text = format!(
            ".inner:\n  script: [\"bash -c \\\"$CI_MERGE_REQUEST_TITLE\\\"\"]\n\
             .outer:\n  before_script:\n    - !reference [.inner, script]\n\
             .child:\n  extends: .outer\n\
             job:\n  image: alpine{PIN}\n  before_script: !reference [.child, before_script]\n  script: [make]\n"
        );
        let f = run(&text);
        assert_eq!(got(&f), [("script-injection", 2, Some("job"))], "{f:?}");
        // `image:` and `tags:` can be references too.
        let text = ".vals:\n  img: python:latest\n  runners: [shell]\njob:\n  image: !reference [.vals, img]\n  tags:\n    - !reference [.vals, runners]\n  script: [x]\n";
        let f = run(text);
        assert_eq!(
            got(&f),
            [
                ("unpinned-image", 2, Some("job")),
                ("runner", 7, Some("job"))
            ],
            "{f:?}"
        );
    }

    #[test]
    fn references_that_cannot_be_resolved() {
        let cases = [
            (
                "job:\n  script: !reference [.nope, script]\n",
                "names `.nope`, which is not defined",
            ),
            (
                ".s:\n  x: 1\njob:\n  script: !reference [.s, script]\n",
                "names nothing: `.s` has no `script`",
            ),
            (
                ".x:\n  script: !reference [.y, script]\n.y:\n  script: !reference [.x, script]\njob:\n  script: !reference [.x, script]\n",
                "cycle of references",
            ),
            (
                "job:\n  script: !reference {a: b}\n",
                "not a list of names",
            ),
        ];
        for (text, why) in cases {
            let f = run(text);
            assert_eq!(f.len(), 1, "{text}: {f:?}");
            assert_eq!(f[0].check, "unresolvable");
            assert_eq!(f[0].job.as_deref(), Some("job"));
            assert!(f[0].message.contains(why), "{}", f[0].message);
        }
        // Ten nested references are read; eleven are refused.
        let nested = |n: usize| {
            let mut t = ".r0:\n  script: [\"eval $CI_COMMIT_MESSAGE\"]\n".to_owned();
            for i in 1..n {
                t.push_str(&format!(
                    ".r{i}:\n  script: !reference [.r{}, script]\n",
                    i - 1
                ));
            }
            t + &format!("job:\n  script: !reference [.r{}, script]\n", n - 1)
        };
        let f = run(&nested(MAX_REFERENCE_DEPTH));
        assert_eq!(got(&f), [("script-injection", 2, Some("job"))], "{f:?}");
        let f = run(&nested(MAX_REFERENCE_DEPTH + 1));
        assert_eq!(got(&f)[0].0, "unresolvable", "{f:?}");
        assert!(f[0].message.contains("more than 10 references deep"));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let f = run(".defaults: &defaults\n  image: python:latest\n  tags: [shell]\nbuild:\n  <<: *defaults\n  script: [make]\n");
        assert_eq!(
            got(&f),
            [
                ("unpinned-image", 2, Some("build")),
                ("runner", 3, Some("build"))
            ]
        );
        let f =
            run("variables:\n  IMG: &img python:latest\nbuild:\n  image: *img\n  script: [make]\n");
        assert_eq!(got(&f), [("unpinned-image", 2, Some("build"))]);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..=9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        doc.push_str("job:\n  script: *a9\n");
        match check(".gitlab-ci.yml", &doc, &HardeningParams::default()) {
            Err(CiError::Invalid { message, .. }) => assert!(
                message.contains("more than 200000 nodes once aliases are expanded"),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extends_that_cannot_be_resolved() {
        let f = run(&format!(
            "a:\n  extends: b\n  image: python{PIN}\n  script: [x]\nb:\n  extends: a\n  script: [y]\n"
        ));
        assert_eq!(
            got(&f),
            [
                ("unresolvable", 6, Some("a")),
                ("unresolvable", 6, Some("b"))
            ],
            "{f:?}"
        );
        assert!(
            f[0].message.contains("`extends:` makes a cycle: a → b → a"),
            "{}",
            f[0].message
        );
        // An unknown parent (maybe from an include), a parent that is not
        // a mapping, a malformed `extends:`: said, and what can be seen is
        // still checked.
        let f = run("include:\n  - local: ci/templates.yml\njob:\n  extends: [.from-include, variables, {a: 1}]\n  image: python:latest\n  script: [x]\nvariables: [1]\n");
        assert_eq!(
            got(&f),
            [
                ("unresolvable", 2, None),
                ("unresolvable", 4, Some("job")),
                ("unresolvable", 4, Some("job")),
                ("unresolvable", 4, Some("job")),
                ("unpinned-image", 5, Some("job")),
            ],
            "{f:?}"
        );
        assert!(
            f[1].message.contains(
                "`.from-include`, which is not defined in this file (it may come from an `include:`"
            ),
            "{}",
            f[1].message
        );
        assert!(f[2].message.contains("not a job or template"));
        assert!(f[3].message.contains("neither a name nor a list"));
    }

    #[test]
    fn pinned_images_pass_directly_and_through_extends() {
        let text = format!(
            ".base: &base\n  image: python{PIN}\n  services:\n    - name: postgres{PIN}\n\
             direct:\n  image: python{PIN}\n  script: [make]\n\
             inherited:\n  extends: .base\n  script: [make]\n\
             merged:\n  <<: *base\n  script: [make]\n"
        );
        let f = run(&text);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn includes_cairn_does_not_see() {
        let text = format!(
            "include:\n  - local: ci/build.yml\n  - template: Jobs/SAST.gitlab-ci.yml\n  - project: acme/templates\n    ref: {SHA}\n    file: /x.yml\n  - component: gitlab.com/acme/comp/build@1.2.0\n  - component: gitlab.com/acme/comp/build@{SHA}\n  - ci/other.yml\n"
        );
        let f = run(&text);
        assert_eq!(
            got(&f),
            [
                ("unresolvable", 2, None),
                ("unresolvable", 3, None),
                ("unresolvable", 4, None),
                ("unpinned-include", 7, None),
                ("unresolvable", 8, None),
                ("unresolvable", 9, None),
            ],
            "{f:?}"
        );
        assert!(f[0]
            .message
            .contains("`include: local: ci/build.yml` brings in configuration Cairn does not see"));
        assert!(f[3].fix.contains("@<40-hex commit sha>"));
    }

    #[test]
    fn defaults_are_checked() {
        let f = run(".svc:\n  list: [postgres:latest]\ndefault:\n  services: !reference [.svc, list]\n  before_script:\n    - eval \"$CI_COMMIT_MESSAGE\"\n  tags: [shell]\nbefore_script:\n  - sh -c \"$CI_COMMIT_BRANCH\"\nbuild:\n  script: [make]\n");
        assert_eq!(
            got(&f),
            [
                ("script-injection", 9, None),
                ("unpinned-image", 2, None),
                ("script-injection", 6, None),
                ("runner", 7, None),
            ],
            "{f:?}"
        );
        assert!(f[1].message.starts_with("image `postgres:latest`"));
        assert!(f[3]
            .message
            .starts_with("`default:` runs on self-managed runners"));
    }

    /// Copies are bounded: 300 jobs extending a 2 000-node template would
    /// copy 600 000 nodes. Past the bound, the rest is said, not passed.
    #[test]
    fn copying_is_bounded() {
        let mut text = format!(
            ".t:\n  image: python{PIN}\n  x: [{}]\n",
            vec!["a"; 2_000].join(", ")
        );
        for i in 0..300 {
            text.push_str(&format!("j{i}: {{extends: .t, script: [x]}}\n"));
        }
        let start = std::time::Instant::now();
        let f = run(&text);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].check, "unresolvable");
        assert!(
            f[0].message.contains(&format!(
                "more than Cairn's limit ({MAX_COPIED_NODES} nodes"
            )),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("job(s) after it are not checked"));
        // Under the bound, nothing to say.
        let small: String = text
            .lines()
            .take(3 + 150)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(run(&small).is_empty());
    }
    /// Shapes that multiply copies or depth: bounded, quick, and said.
    #[test]
    fn hostile_shapes_are_bounded() {
        let quick = |text: &str| {
            let start = std::time::Instant::now();
            let f = run(text);
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{:?}",
                start.elapsed()
            );
            f
        };
        // Ten references to the level below, ten levels: 10¹⁰ copies.
        let mut t = ".r0:\n  s: [\"eval $CI_COMMIT_TITLE\"]\n".to_owned();
        for i in 1..10 {
            let refs = vec![format!("!reference [.r{}, s]", i - 1); 10].join(", ");
            t.push_str(&format!(".r{i}:\n  s: [{refs}]\n"));
        }
        t.push_str("job:\n  script: !reference [.r9, s]\n");
        let f = quick(&t);
        assert_eq!(got(&f), [("unresolvable", 21, Some("job"))], "{f:?}");
        // Each template extends all ten of the level above: a diamond.
        let mut t = String::new();
        for l in 0..10 {
            for j in 0..10 {
                let parents: Vec<String> = (0..10).map(|p| format!(".l{}p{p}", l + 1)).collect();
                t.push_str(&format!(
                    ".l{l}p{j}:\n  extends: [{}]\n  k{l}{j}: [a, b, c]\n",
                    parents.join(", ")
                ));
            }
        }
        for j in 0..10 {
            t.push_str(&format!(".l10p{j}:\n  image: python:latest\n"));
        }
        for i in 0..50 {
            t.push_str(&format!("job{i}:\n  extends: .l0p0\n  script: [x]\n"));
        }
        let f = quick(&t);
        assert!(!f.is_empty(), "said, not passed");
        // Depth grows with each reference: 10 levels of 60-deep lists.
        let mut t = format!(
            ".d0:\n  v: {}python:latest{}\n",
            "[".repeat(60),
            "]".repeat(60)
        );
        for i in 1..10 {
            t.push_str(&format!(
                ".d{i}:\n  v: {}!reference [.d{}, v]{}\n",
                "[".repeat(60),
                i - 1,
                "]".repeat(60)
            ));
        }
        t.push_str("job:\n  services: !reference [.d9, v]\n  script: [x]\n");
        let f = quick(&t);
        assert_eq!(got(&f), [("unpinned-image", 2, Some("job"))], "{f:?}");
        // Thousands of unknown parents, each job: ten reasons kept per job.
        let names: Vec<String> = (0..5_000).map(|i| format!(".n{i}")).collect();
        let mut t = format!(".t:\n  extends: [{}]\n", names.join(", "));
        for i in 0..2_000 {
            t.push_str(&format!("j{i}: {{extends: .t, script: [x]}}\n"));
        }
        let f = quick(&t);
        assert!(f.iter().take(10).all(|f| f.job.as_deref() == Some("j0")));
        assert_eq!(f[10].job.as_deref(), Some("j1"));
        // Each job copies the 5 000-name `extends:` list too: the copy
        // bound ends it.
        let last = f.last().unwrap();
        assert!(last.message.contains("job(s) after it are not checked"));
        assert!(f.len() <= crate::cidef::MAX_FINDINGS + 1);
    }
}
