//! GitHub Actions workflow hardening.

use std::collections::HashSet;

use super::yaml::{self, Node, Value};
use super::{has_digest, is_full_sha, short_name, CiError, Finding, Findings, HardeningParams};

pub const RULE: &str = "workflow-hardening";

/// Expressions an outsider controls: in a `run:` script they are shell
/// injection, since `${{ }}` is substituted before the shell reads it.
const UNTRUSTED: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.commits",
    "github.event.pages",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author",
    "github.event.workflow_run.display_title",
    "github.head_ref",
];

/// `ref:` values that check out the contributor's code.
const UNTRUSTED_REFS: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.merge_commit_sha",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "github.head_ref",
    "refs/pull/",
];

/// Actions and commands that publish or sign.
const PUBLISH_ACTIONS: &[&str] = &[
    "docker/login-action",
    "docker/build-push-action",
    "goreleaser/goreleaser-action",
    "sigstore/cosign-installer",
    "pypa/gh-action-pypi-publish",
    "softprops/action-gh-release",
    "ko-build/setup-ko",
];
pub(crate) const PUBLISH_COMMANDS: &[&str] = &[
    "docker push",
    "docker login",
    "cosign sign",
    "goreleaser release",
    "goreleaser --",
    "ko build",
    "ko publish",
    "npm publish",
    "twine upload",
    "gh release",
    "gpg --sign",
    "gpg --detach-sign",
    "helm push",
];

struct Ctx<'a> {
    file: &'a str,
    params: &'a HardeningParams,
    out: Findings,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        check: &str,
        line: usize,
        job: Option<&str>,
        step: Option<&str>,
        message: String,
        fix: String,
    ) {
        self.out.push(Finding {
            rule: RULE.into(),
            check: check.into(),
            file: self.file.into(),
            line,
            job: job.map(str::to_owned),
            step: step.map(str::to_owned),
            message,
            fix,
        });
    }
}

fn triggers(doc: &Node) -> Vec<String> {
    // A YAML 1.1 reader would see `on` as `true`; yaml-rust2 keeps the key.
    let Some(on) = doc.get("on").or_else(|| doc.get("true")) else {
        return Vec::new();
    };
    match &on.value {
        Value::Scalar(s) => vec![s.clone()],
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect(),
        Value::Alias => Vec::new(),
    }
}

/// `(scope, level)` pairs of a `permissions:` node; `write-all`/`read-all`
/// come back as `("*", "write")` / `("*", "read")`.
fn permissions(node: &Node) -> Vec<(String, String, usize)> {
    match &node.value {
        Value::Scalar(s) if s == "write-all" => vec![("*".into(), "write".into(), node.line)],
        Value::Scalar(s) if s == "read-all" => vec![("*".into(), "read".into(), node.line)],
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned(), k.line)))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn check(file: &str, text: &str, params: &HardeningParams) -> Result<Vec<Finding>, CiError> {
    let doc = yaml::parse(text)?;
    let Some(jobs) = doc.get("jobs").filter(|j| matches!(j.value, Value::Map(_))) else {
        return Err(CiError::Invalid {
            line: doc.line,
            message: "a GitHub Actions workflow needs a `jobs:` mapping".into(),
        });
    };
    let mut cx = Ctx {
        file,
        params,
        out: Findings::default(),
    };
    let triggers = triggers(&doc);
    let privileged_trigger = triggers
        .iter()
        .find(|t| t.as_str() == "pull_request_target" || t.as_str() == "workflow_run")
        .cloned();

    // Top-level token permissions: read-only.
    let top = doc.entry("permissions");
    match top {
        None => cx.push(
            "top-level-permissions",
            1,
            None,
            None,
            "the workflow sets no top-level `permissions:`, so every job's GITHUB_TOKEN gets the repository default, which may be write-all".into(),
            "add at the top level:\npermissions:\n  contents: read\nand grant writes per job".into(),
        ),
        Some((k, v)) => {
            for (scope, level, line) in permissions(v) {
                if level == "write" {
                    let what = if scope == "*" { "`permissions: write-all`".to_owned() } else { format!("`{scope}: write`") };
                    cx.push(
                        "top-level-permissions",
                        line.max(k.line),
                        None,
                        None,
                        format!("top-level {what} gives every job a writable GITHUB_TOKEN"),
                        "set `permissions: contents: read` at the top level and grant the write scope only in the job that needs it".into(),
                    );
                }
            }
        }
    }
    let top_id_token = top.is_some_and(|(_, v)| {
        permissions(v)
            .iter()
            .any(|(s, l, _)| (s == "id-token" || s == "*") && l == "write")
    });

    for (name_node, job) in jobs.entries() {
        // Shown in every finding of the job: cut when very long.
        let job_name = short_name(name_node.as_str().unwrap_or_default());
        let job_name = job_name.as_ref();
        let j = Some(job_name);
        let mut job_id_token = top_id_token;
        if let Some(p) = job.get("permissions") {
            for (scope, level, line) in permissions(p) {
                if level != "write" {
                    continue;
                }
                if scope == "id-token" {
                    job_id_token = true;
                }
                if scope == "*" {
                    cx.push(
                        "job-permissions",
                        line,
                        j,
                        None,
                        format!("job `{job_name}` has `permissions: write-all`"),
                        "list only the scopes the job needs, e.g.\npermissions:\n  contents: read\n  id-token: write".into(),
                    );
                } else if !cx.params.allowed_write_scopes.iter().any(|a| a == &scope) {
                    cx.push(
                        "job-permissions",
                        line,
                        j,
                        None,
                        format!("job `{job_name}` has `{scope}: write`, a scope not allowed to be writable (allowed: {})", cx.params.allowed_write_scopes.join(", ")),
                        format!("set `{scope}: read` or `{scope}: none`, or allow the scope in the rule's allowed_write_scopes"),
                    );
                }
            }
        }

        check_runner(&mut cx, job_name, job);

        // A reusable workflow call.
        if let Some(u) = job.get("uses") {
            check_uses(&mut cx, u, j, None);
        }

        let mut publishes = false;
        let mut secrets: Vec<(String, usize)> = Vec::new();
        collect_secrets(job, &mut secrets, &mut HashSet::new());
        for (i, step) in job
            .get("steps")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let step_name = step
                .get("name")
                .and_then(Node::as_str)
                .map(str::to_owned)
                .or_else(|| step.get("id").and_then(Node::as_str).map(str::to_owned))
                .or_else(|| step.get("uses").and_then(Node::as_str).map(str::to_owned))
                .unwrap_or_else(|| format!("step {}", i + 1));
            let step_name = short_name(&step_name);
            let s = Some(step_name.as_ref());
            let uses = step.get("uses");
            if let Some(u) = uses {
                check_uses(&mut cx, u, j, s);
                let action = u
                    .as_str()
                    .unwrap_or_default()
                    .split('@')
                    .next()
                    .unwrap_or_default();
                if PUBLISH_ACTIONS.contains(&action) {
                    publishes = true;
                }
                // Untrusted checkout in a privileged workflow.
                if let (Some(trigger), true) = (&privileged_trigger, action == "actions/checkout") {
                    if let Some(r) = step.get("with").and_then(|w| w.get("ref")) {
                        let v = r.as_str().unwrap_or_default();
                        if UNTRUSTED_REFS.iter().any(|u| v.contains(u)) {
                            cx.push(
                                "untrusted-checkout",
                                r.line,
                                j,
                                s,
                                format!("the `{trigger}` workflow runs with a privileged token and secrets, and job `{job_name}` checks out the untrusted pull-request code `{v}`"),
                                "use `on: pull_request` to build contributor code; if `pull_request_target` is required, do not check out the head, or run it in a separate job without secrets and with `permissions: {}`".into(),
                            );
                        }
                    }
                }
                if action == "actions/github-script" {
                    if let Some(script) = step.get("with").and_then(|w| w.get("script")) {
                        check_injection(&mut cx, script, j, s);
                    }
                }
            }
            if let Some(run) = step.get("run") {
                check_injection(&mut cx, run, j, s);
                let text = run.as_str().unwrap_or_default();
                if PUBLISH_COMMANDS.iter().any(|c| text.contains(c)) {
                    publishes = true;
                }
                if let Some(trigger) = &privileged_trigger {
                    let head = text.contains("gh pr checkout")
                        || ((text.contains("git checkout") || text.contains("git fetch"))
                            && UNTRUSTED_REFS.iter().any(|u| text.contains(u)));
                    if head {
                        cx.push(
                            "untrusted-checkout",
                            run.line,
                            j,
                            s,
                            format!("the `{trigger}` workflow checks out untrusted pull-request code in a `run:` script"),
                            "build contributor code only in `on: pull_request` workflows without secrets".into(),
                        );
                    }
                }
            }
        }
        if publishes {
            let long_lived: Vec<&(String, usize)> = secrets
                .iter()
                .filter(|(n, _)| n != "GITHUB_TOKEN")
                .collect();
            if !long_lived.is_empty() || !job_id_token {
                let line = long_lived.first().map_or(name_node.line, |(_, l)| *l);
                let names: Vec<&str> = long_lived.iter().map(|(n, _)| n.as_str()).collect();
                let message = if names.is_empty() {
                    format!("job `{job_name}` publishes or signs without OIDC (`id-token: write`)")
                } else {
                    format!(
                        "job `{job_name}` publishes or signs with long-lived secrets ({}){}",
                        names.join(", "),
                        if job_id_token {
                            ""
                        } else {
                            " and without OIDC (`id-token: write`)"
                        }
                    )
                };
                cx.push(
                    "publish-without-oidc",
                    line,
                    j,
                    None,
                    message,
                    "give the job `permissions: id-token: write` and use keyless signing / the registry's OIDC trust (trusted publishing, cloud workload identity) instead of stored credentials".into(),
                );
            }
        }
    }
    Ok(cx.out.finish())
}

/// The `secrets.NAME` a node names, each once (`seen`), in order.
fn collect_secrets(node: &Node, out: &mut Vec<(String, usize)>, seen: &mut HashSet<String>) {
    match &node.value {
        Value::Scalar(s) => {
            for (n, line) in s.lines().enumerate() {
                let mut rest = line;
                while let Some(at) = rest.find("secrets.") {
                    let name: String = rest[at + 8..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && seen.insert(name.clone()) {
                        out.push((name, node.text_line(n)));
                    }
                    rest = &rest[at + 8..];
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| collect_secrets(i, out, seen)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|(_, v)| collect_secrets(v, out, seen)),
        Value::Alias => {}
    }
}

fn check_uses(cx: &mut Ctx<'_>, u: &Node, job: Option<&str>, step: Option<&str>) {
    let Some(r) = u.as_str() else { return };
    if r.starts_with("./") {
        return;
    }
    if let Some(image) = r.strip_prefix("docker://") {
        if !has_digest(image) {
            cx.push(
                "unpinned-action",
                u.line,
                job,
                step,
                format!("`uses: {r}` runs a container image by tag, which can change under you"),
                format!(
                    "pin the image by digest: `uses: docker://{}@sha256:<digest>`",
                    image.split('@').next().unwrap_or(image)
                ),
            );
        }
        return;
    }
    let (action, reference) = r.split_once('@').unwrap_or((r, ""));
    if !is_full_sha(reference) {
        let comment = if reference.is_empty() {
            String::new()
        } else {
            format!(" # {reference}")
        };
        cx.push(
            "unpinned-action",
            u.line,
            job,
            step,
            if reference.is_empty() {
                format!("`uses: {r}` names no version at all")
            } else {
                format!("`uses: {r}` is pinned to the mutable ref `{reference}`, not a full commit SHA")
            },
            format!("uses: {action}@<40-hex commit sha>{comment}  (the commit `{reference}` points to today: `git ls-remote https://github.com/{} {reference}`)", action.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")),
        );
    }
}

fn check_injection(cx: &mut Ctx<'_>, node: &Node, job: Option<&str>, step: Option<&str>) {
    let Some(text) = node.as_str() else { return };
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find("${{") {
            let after = &rest[open + 3..];
            let close = after.find("}}").unwrap_or(after.len());
            let expr = after[..close].trim();
            if let Some(u) = UNTRUSTED.iter().find(|u| expr.contains(*u)) {
                let var = u.rsplit('.').next().unwrap_or("VALUE").to_ascii_uppercase();
                cx.push(
                    "script-injection",
                    node.text_line(n),
                    job,
                    step,
                    format!("`${{{{ {expr} }}}}` is attacker-controlled and is pasted into the script before the shell runs it"),
                    format!("pass it through the environment: `env: {var}: ${{{{ {expr} }}}}` on the step, and use \"${var}\" (quoted) in the script"),
                );
            }
            rest = &after[close.min(after.len())..];
        }
    }
}

fn check_runner(cx: &mut Ctx<'_>, job_name: &str, job: &Node) {
    let Some(r) = job.get("runs-on") else { return };
    let (labels, group): (Vec<&str>, Option<&str>) = match &r.value {
        Value::Scalar(s) => (vec![s.as_str()], None),
        Value::Seq(items) => (items.iter().filter_map(Node::as_str).collect(), None),
        Value::Map(_) => (
            r.get("labels")
                .map(|l| match &l.value {
                    Value::Scalar(s) => vec![s.as_str()],
                    _ => l.items().iter().filter_map(Node::as_str).collect(),
                })
                .unwrap_or_default(),
            r.get("group").and_then(Node::as_str),
        ),
        Value::Alias => return,
    };
    let allowed = &cx.params.allowed_runner_groups;
    if let Some(g) = group {
        if !allowed.iter().any(|a| a == g) {
            cx.push(
                "runner",
                r.line,
                Some(job_name),
                None,
                format!("job `{job_name}` runs in runner group `{g}`, which is not an allowed group"),
                "use a GitHub-hosted runner (e.g. `runs-on: ubuntu-24.04`) or add the group to the rule's allowed_runner_groups if its runners are ephemeral".into(),
            );
        }
        return;
    }
    if labels.iter().any(|l| l.starts_with("${{")) {
        return;
    }
    let self_hosted = labels.contains(&"self-hosted");
    let hosted = |l: &str| {
        ["ubuntu-", "windows-", "macos-"]
            .iter()
            .any(|p| l.starts_with(p))
    };
    if (self_hosted || !labels.iter().any(|l| hosted(l)))
        && !labels.iter().any(|l| allowed.iter().any(|a| a == l))
    {
        cx.push(
            "runner",
            r.line,
            Some(job_name),
            None,
            format!("job `{job_name}` runs on self-hosted or unknown runners `{}`", labels.join(", ")),
            "use a GitHub-hosted runner (e.g. `runs-on: ubuntu-24.04`), or allow the ephemeral runner group in allowed_runner_groups".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_shapes_do_not_panic_and_are_judged() {
        let p = HardeningParams::default();
        for text in [
            "on:\njobs: {}\n",
            "on: [push]\npermissions: read-all\njobs:\n  a: 5\n  b: [1]\n  c:\n    steps: 7\n",
            "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: {group: big, labels: [x]}\n    uses: org/repo/.github/workflows/r.yml@main\n    steps:\n      - uses: {a: 1}\n      - run: [1]\n      - uses: docker://alpine:3\n      - uses: ./local\n      - run: echo ${{ github.event.pull_request.title\n",
            "on: push\njobs:\n  a:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - uses: x/y@11bd71901bbe5b1630ceea73d27597364c9af683\n      - &anchor {run: ok}\n      - *anchor\n",
        ] {
            let _ = check("w.yml", text, &p);
        }
        let f = check("w.yml", "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: {group: big}\n    uses: org/repo/.github/workflows/r.yml@main\n    steps:\n      - uses: docker://alpine:3\n", &p).unwrap();
        let checks: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["runner", "unpinned-action", "unpinned-action"]);
        let ok = check("w.yml", "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: {group: big}\n    steps:\n      - uses: ./x\n", &HardeningParams { allowed_runner_groups: vec!["big".into()], ..HardeningParams::default() }).unwrap();
        assert!(ok.is_empty(), "{ok:?}");
    }

    /// A workflow without top-level permissions (one finding) whose job
    /// `name` has `steps` unpinned actions (one finding each). The name is
    /// an explicit key (`? name`): YAML allows longer ones than `name:`.
    fn workflow(name: &str, step: &str, steps: usize) -> String {
        format!(
            "on: push\njobs:\n  ? {name}\n  :\n    runs-on: ubuntu-24.04\n    steps:\n{}",
            format!("      - name: {step}\n        uses: a/b@v1\n").repeat(steps)
        )
    }

    #[test]
    fn long_names_are_cut_in_findings() {
        let p = HardeningParams::default();
        let at = "j".repeat(crate::ci::core::MAX_NAME_CHARS);
        let f = check("w.yml", &workflow(&at, &at, 1), &p).unwrap();
        assert_eq!(f[1].job.as_deref(), Some(at.as_str()));
        assert_eq!(f[1].step.as_deref(), Some(at.as_str()));
        let past = format!("{at}x");
        let f = check("w.yml", &workflow(&past, &past, 1), &p).unwrap();
        let cut = format!("{at}…");
        assert_eq!(f[1].job.as_deref(), Some(cut.as_str()));
        assert_eq!(f[1].step.as_deref(), Some(cut.as_str()));
    }

    #[test]
    fn findings_are_capped() {
        let p = HardeningParams::default();
        let max = crate::ci::core::MAX_FINDINGS;
        let f = check("w.yml", &workflow("a", "s", max - 1), &p).unwrap();
        assert_eq!(f.len(), max);
        assert_eq!(f.last().unwrap().check, "unpinned-action");
        let f = check("w.yml", &workflow("a", "s", max), &p).unwrap();
        assert_eq!(f.len(), max + 1);
        let last = f.last().unwrap();
        assert_eq!(
            (last.rule.as_str(), last.check.as_str()),
            (RULE, "findings-omitted")
        );
        assert!(
            last.message.starts_with("1 more finding(s)"),
            "{}",
            last.message
        );
        // A 512 KB job name and 5 000 steps (once 2.5 GB of copies): 1 000
        // short findings.
        let big = "j".repeat(512 * 1024);
        let f = check("w.yml", &workflow(&big, "s", 5_000), &p).unwrap();
        assert_eq!(f.len(), max + 1);
        assert!(f
            .iter()
            .all(|f| f.job.as_ref().is_none_or(|j| j.len() < 1024)));
        assert!(
            f[max].message.starts_with("4001 more"),
            "{}",
            f[max].message
        );
    }

    #[test]
    fn secrets_are_collected_once_in_order() {
        let p = HardeningParams::default();
        // 20 000 distinct secrets, each named twice, in a publishing job.
        let names: String = (0..20_000)
            .map(|i| format!(" ${{{{ secrets.S{i} }}}} ${{{{ secrets.S{i} }}}}"))
            .collect();
        let text = format!(
            "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: docker push x{names}\n"
        );
        let f = check("w.yml", &text, &p).unwrap();
        assert_eq!(
            f.len(),
            1,
            "{:?}",
            f.iter().map(|f| &f.check).collect::<Vec<_>>()
        );
        let m = &f[0].message;
        assert!(m.contains("secrets (S0, S1, S2, "), "{}", &m[..100]);
        assert_eq!(m.matches(", S").count(), 20_000 - 1);
        assert!(m.contains(", S19999) and without OIDC"));
    }
}
