//! Go and CI-hardening rules: `go-modules-verified`, `go-reproducible-build`,
//! `sbom-matches-binary`, `workflow-hardening`, `base-image-pinned`. Thin
//! adapters over `crate::go::core` and `crate::ci::core`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::glob_match;
use crate::ci::core::{self as cidef, HardeningParams, Kind};
use crate::go::core::{gomod, verification_switches, GoFacts};
use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome, Violation,
};

fn go_ref(g: &GoFacts) -> Vec<EvidenceRef> {
    vec![EvidenceRef {
        kind: "go-build".into(),
        id: g.build_id,
    }]
}

/// Source commits the evidence names: verified provenance and CI runs.
fn source_commits(input: &RuleInput) -> Vec<String> {
    let mut c: Vec<String> = input
        .provenance
        .iter()
        .filter_map(|p| p.provenance.source_commit.clone())
        .chain(input.builds.iter().filter_map(|b| b.head_sha.clone()))
        .map(|s| s.to_ascii_lowercase())
        .collect();
    c.sort();
    c.dedup();
    c
}

// --- go-modules-verified ------------------------------------------------------

pub struct GoModulesVerified;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifiedParams {
    /// Replacement module paths (`*` globs) that are allowed forks.
    #[serde(default)]
    allowed_forks: Vec<String>,
}

impl BuiltinRule for GoModulesVerified {
    fn id(&self) -> &'static str {
        "go-modules-verified"
    }
    fn description(&self) -> &'static str {
        "Every Go dependency has an h1: sum, go.sum covers go.mod, no local-path replacements, forks only from an allow-list, and no build environment that disables verification."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "allowed_forks": {"type": "array", "items": {"type": "string"},
                    "description": "Module paths (`*` globs) a dependency may be replaced by, e.g. \"github.com/acme-forks/*\"."}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        parse_params::<VerifiedParams>(params).map(|_| ())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let Some(g) = &input.go else {
            return RuleOutcome::not_applicable("the artifact has no Go build info");
        };
        let p: VerifiedParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(e),
        };
        let mut v: Vec<Violation> = Vec::new();
        let fork = |v: &mut Vec<Violation>, from: &str, to: &str| {
            if !p.allowed_forks.iter().any(|a| glob_match(a, to)) {
                v.push(violation(
                    format!("fork:{from}"),
                    format!("{from} is replaced by the fork {to}, which is not an allowed fork"),
                ));
            }
        };
        for dep in &g.build.modules {
            match &dep.replace {
                Some(r) if gomod::is_local_path(&r.path) => v.push(violation(
                    format!("local-replace:{}", dep.path),
                    format!(
                        "{} is replaced by the local directory {}: its content is not verifiable",
                        dep.path, r.path
                    ),
                )),
                Some(r) => {
                    if r.path != dep.path {
                        fork(&mut v, &dep.path, &r.path);
                    }
                    if !r.sum.as_deref().is_some_and(|s| s.starts_with("h1:")) {
                        v.push(violation(
                            format!("no-sum:{}", r.path),
                            format!(
                                "{} {} (replacing {}) has no h1: sum in the build info",
                                r.path, r.version, dep.path
                            ),
                        ));
                    }
                }
                None if !dep.sum.as_deref().is_some_and(|s| s.starts_with("h1:")) => {
                    v.push(violation(
                        format!("no-sum:{}", dep.path),
                        format!(
                            "{} {} has no h1: sum in the build info",
                            dep.path, dep.version
                        ),
                    ))
                }
                None => {}
            }
        }
        if let Some(m) = &g.go_mod {
            // Keys reported so far, so that a replacement the build info
            // showed is not reported again: one lookup per go.mod replace.
            let mut seen: HashSet<String> = v.iter().map(|x| x.key.clone()).collect();
            for r in &m.replace {
                let key = format!("local-replace:{}", r.path);
                if r.local_path && !seen.contains(&key) {
                    seen.insert(key.clone());
                    v.push(violation(
                        key,
                        format!(
                            "go.mod replaces {} by the local directory {}",
                            r.path, r.new_path
                        ),
                    ));
                } else if r.fork {
                    let key = format!("fork:{}", r.path);
                    if !seen.contains(&key) {
                        let before = v.len();
                        fork(&mut v, &r.path, &r.new_path);
                        // Not when the fork was allowed: another replace of
                        // the path may name a fork that is not.
                        if v.len() > before {
                            seen.insert(key);
                        }
                    }
                }
            }
            if let Some(s) = &g.go_sum {
                for r in gomod::unsummed(m, s) {
                    v.push(violation(
                        format!("unsummed:{}", r.path),
                        format!(
                            "go.sum does not cover the requirement {} {}",
                            r.path, r.version
                        ),
                    ));
                }
            }
        }
        let mut evidence = go_ref(g);
        for d in input.ci_definitions.iter().flatten() {
            for (line, why) in verification_switches(&d.content) {
                v.push(violation(
                    format!("env:{}:{line}", d.file),
                    format!("{}:{line}: {why}", d.file),
                ));
                evidence.push(EvidenceRef {
                    kind: "ci-definition".into(),
                    id: d.id,
                });
            }
        }
        for pr in &input.provenance {
            let text = serde_json::to_string_pretty(&pr.provenance.parameters).unwrap_or_default();
            for (_, why) in verification_switches(&text) {
                v.push(violation(
                    format!("provenance-env:{}", pr.id),
                    format!("provenance {}: {why}", pr.id),
                ));
            }
        }
        evidence.dedup_by(|a, b| a.kind == b.kind && a.id == b.id);
        RuleOutcome::from_violations(
            v,
            format!("{} Go modules verified", g.build.modules.len()),
            evidence,
        )
    }
}

// --- go-reproducible-build ----------------------------------------------------

pub struct GoReproducibleBuild;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReproParams {
    #[serde(default = "yes")]
    require_trimpath: bool,
    /// Fragments the recorded `-ldflags` must contain, e.g. "-s -w".
    #[serde(default)]
    required_ldflags: Vec<String>,
    /// Required `CGO_ENABLED` value, "0" or "1".
    #[serde(default)]
    cgo_enabled: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for ReproParams {
    fn default() -> Self {
        ReproParams {
            require_trimpath: true,
            required_ldflags: Vec::new(),
            cgo_enabled: None,
        }
    }
}

impl BuiltinRule for GoReproducibleBuild {
    fn id(&self) -> &'static str {
        "go-reproducible-build"
    }
    fn description(&self) -> &'static str {
        "The Go binary was built with -trimpath from an unmodified checkout whose recorded vcs.revision matches the source commit (optionally with required -ldflags and CGO_ENABLED)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "require_trimpath": {"type": "boolean", "default": true},
                "required_ldflags": {"type": "array", "items": {"type": "string"},
                    "description": "Fragments the recorded -ldflags must contain. Note: Go does not record -ldflags in builds with -trimpath."},
                "cgo_enabled": {"enum": ["0", "1"]}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: ReproParams = parse_params(params)?;
        match p.cgo_enabled.as_deref() {
            None | Some("0") | Some("1") => Ok(()),
            Some(x) => Err(format!("cgo_enabled must be \"0\" or \"1\", not {x:?}")),
        }
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let Some(g) = &input.go else {
            return RuleOutcome::not_applicable("the artifact has no Go build info");
        };
        let p: ReproParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(e),
        };
        let b = &g.build;
        let mut v = Vec::new();
        if p.require_trimpath && b.setting("-trimpath") != Some("true") {
            v.push(violation(
                "-trimpath",
                "built without -trimpath: the binary embeds build-machine paths",
            ));
        }
        match b.setting("vcs.modified") {
            Some("false") => {}
            Some(_) => v.push(violation(
                "vcs.modified",
                "built from a checkout with uncommitted changes (vcs.modified=true)",
            )),
            None => v.push(violation(
                "vcs.modified",
                "no VCS information recorded (build with -buildvcs=true from a checkout)",
            )),
        }
        let commits = source_commits(input);
        match b.setting("vcs.revision") {
            None => v.push(violation("vcs.revision", "no vcs.revision recorded")),
            Some(rev) if !commits.is_empty() && !commits.contains(&rev.to_ascii_lowercase()) => v
                .push(violation(
                    "vcs.revision",
                    format!(
                        "built from {rev}, but provenance / CI name the source commit {}",
                        commits.join(", ")
                    ),
                )),
            Some(_) => {}
        }
        let ldflags = b.setting("-ldflags").unwrap_or_default();
        for f in &p.required_ldflags {
            if !ldflags.contains(f.as_str()) {
                v.push(violation(
                    format!("-ldflags:{f}"),
                    format!("the recorded -ldflags {ldflags:?} lack {f:?}"),
                ));
            }
        }
        if let Some(want) = &p.cgo_enabled {
            let got = b.setting("CGO_ENABLED").unwrap_or("(unset)");
            if got != want {
                v.push(violation(
                    "CGO_ENABLED",
                    format!("CGO_ENABLED={got}, the policy requires {want}"),
                ));
            }
        }
        RuleOutcome::from_violations(v, "reproducible Go build settings", go_ref(g))
    }
}

// --- sbom-matches-binary --------------------------------------------------------

pub struct SbomMatchesBinary;

impl BuiltinRule for SbomMatchesBinary {
    fn id(&self) -> &'static str {
        "sbom-matches-binary"
    }
    fn description(&self) -> &'static str {
        "The SBOM's Go components match the binary's build info (every module, version and sum), and the build's vcs.revision matches the provenance / CI commit."
    }
    fn params_schema(&self) -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": {}})
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        match params {
            Value::Null => Ok(()),
            Value::Object(m) if m.is_empty() => Ok(()),
            _ => Err("sbom-matches-binary takes no parameters".into()),
        }
    }
    fn evaluate(&self, input: &RuleInput, _params: &Value) -> RuleOutcome {
        let Some(g) = &input.go else {
            return RuleOutcome::not_applicable("the artifact has no Go build info");
        };
        let Some(mismatches) = &g.sbom_check else {
            return RuleOutcome::not_applicable(
                "the artifact has no SBOM to compare with its build info",
            );
        };
        let mut v: Vec<Violation> = mismatches
            .iter()
            .map(|m| violation(format!("{}:{}", m.kind, m.subject), m.message.clone()))
            .collect();
        let commits = source_commits(input);
        for m in crate::go::core::crosscheck::check(&g.build, None, &commits).mismatches {
            v.push(violation(format!("{}:{}", m.kind, m.subject), m.message));
        }
        let mut evidence = go_ref(g);
        if let Some(s) = &input.sbom {
            evidence.push(EvidenceRef {
                kind: "sbom".into(),
                id: s.id,
            });
        }
        RuleOutcome::from_violations(v, "the SBOM describes the shipped binary", evidence)
    }
}

// --- workflow-hardening / base-image-pinned ------------------------------------

fn hardening_params(params: &Value) -> Result<HardeningParams, String> {
    parse_params(params)
}

fn hardening_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "allowed_write_scopes": {"type": "array", "items": {"type": "string"},
                "description": "Token scopes a job may have write on (default: contents, packages, id-token, attestations, security-events, checks, statuses, pull-requests)."},
            "allowed_runner_groups": {"type": "array", "items": {"type": "string"},
                "description": "Self-hosted runner groups / labels (GitLab tags) that are allowed (ephemeral ones)."},
            "allowed_final_bases": {"type": "array", "items": {"type": "string"},
                "description": "Allowed final-stage base images, `*` globs on the name without tag/digest (default: scratch, gcr.io/distroless/*, cgr.dev/chainguard/static, ...)."}
        }
    })
}

/// Findings in the project's definitions of these kinds, with a reference
/// to each definition judged.
fn definition_findings(
    input: &RuleInput,
    p: &HardeningParams,
    kinds: &[Kind],
) -> (Vec<Violation>, Vec<EvidenceRef>) {
    let mut v = Vec::new();
    let mut evidence = Vec::new();
    for d in input
        .ci_definitions
        .iter()
        .flatten()
        .filter(|d| kinds.contains(&d.kind))
    {
        evidence.push(EvidenceRef {
            kind: "ci-definition".into(),
            id: d.id,
        });
        match cidef::check(d.kind, &d.file, &d.content, p) {
            Ok(findings) => v.extend(findings.into_iter().map(|f| {
                violation(
                    format!("{}:{}:{}", f.file, f.line, f.check),
                    format!("{}:{}: {} — fix: {}", f.file, f.line, f.message, f.fix),
                )
            })),
            Err(e) => v.push(violation(
                format!("{}:invalid", d.file),
                format!("{}: {e}", d.file),
            )),
        }
    }
    (v, evidence)
}

/// Container images named outside Dockerfiles without a sha256 digest:
/// in verified provenance's resolved dependencies, and among the SBOM's
/// components besides its subject (the images of a Kubernetes or
/// multi-image SBOM, base images some generators record).
fn unpinned_images(input: &RuleInput, v: &mut Vec<Violation>, evidence: &mut Vec<EvidenceRef>) {
    for pr in &input.provenance {
        for dep in &pr.provenance.resolved_dependencies {
            let Some(uri) = dep.uri.as_deref() else {
                continue;
            };
            let image =
                is_image_purl(uri) || uri.starts_with("docker://") || uri.starts_with("oci://");
            if !image {
                continue;
            }
            let pinned = image_pinned(uri)
                || dep
                    .digest
                    .get("sha256")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.len() == 64);
            if !pinned {
                v.push(violation(
                    format!("provenance:{}:{uri}", pr.id),
                    format!(
                        "provenance {} names the base image {uri} without a sha256 digest",
                        pr.id
                    ),
                ));
            }
            evidence.push(EvidenceRef {
                kind: "attestation".into(),
                id: pr.id,
            });
        }
    }
    if let Some(sbom) = &input.sbom {
        let mut named = false;
        for purl in sbom
            .components
            .iter()
            .filter(|c| !c.is_root)
            .filter_map(|c| c.purl.as_deref())
            .filter(|p| is_image_purl(p))
        {
            named = true;
            if !image_pinned(purl) {
                v.push(violation(
                    format!("sbom:{purl}"),
                    format!("the SBOM names the image {purl} without a sha256 digest"),
                ));
            }
        }
        if named {
            evidence.push(EvidenceRef {
                kind: "sbom".into(),
                id: sbom.id,
            });
        }
    }
}

/// The outcome: not applicable without any evidence judged.
fn hardening_outcome(
    v: Vec<Violation>,
    mut evidence: Vec<EvidenceRef>,
    what: &str,
    ok: &str,
) -> RuleOutcome {
    if evidence.is_empty() {
        return RuleOutcome::not_applicable(format!("the project has no {what}"));
    }
    evidence.dedup_by(|a, b| a.kind == b.kind && a.id == b.id);
    RuleOutcome::from_violations(v, ok, evidence)
}

fn is_image_purl(s: &str) -> bool {
    s.starts_with("pkg:docker/") || s.starts_with("pkg:oci/")
}

/// An image reference or purl pinned by a sha256 digest (purl qualifiers
/// and a percent-encoded `:` allowed).
fn image_pinned(s: &str) -> bool {
    let base = s.split(['?', '#']).next().unwrap_or(s);
    cidef::has_digest(&base.replace("%3A", ":").replace("%3a", ":"))
}

pub struct WorkflowHardening;

impl BuiltinRule for WorkflowHardening {
    fn id(&self) -> &'static str {
        cidef::workflow::RULE
    }
    fn description(&self) -> &'static str {
        "GitHub Actions / GitLab CI definitions are hardened: read-only top-level token, writes only per job and allowed scopes, actions pinned to commit SHAs, no privileged trigger checking out untrusted code, no untrusted expressions in scripts, OIDC for publishing, allowed runners."
    }
    fn params_schema(&self) -> Value {
        hardening_schema()
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        hardening_params(params).map(|_| ())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p = match hardening_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(e),
        };
        let (v, evidence) = definition_findings(input, &p, &[Kind::GithubWorkflow, Kind::GitlabCi]);
        hardening_outcome(
            v,
            evidence,
            "CI workflow definitions",
            "CI workflows are hardened",
        )
    }
}

pub struct BaseImagePinned;

impl BuiltinRule for BaseImagePinned {
    fn id(&self) -> &'static str {
        cidef::dockerfile::RULE
    }
    fn description(&self) -> &'static str {
        "Every Dockerfile FROM (all stages) and every image named in provenance materials or in the artifact's SBOM is pinned by @sha256: digest; the final stage uses an allowed minimal base and a non-root user."
    }
    fn params_schema(&self) -> Value {
        hardening_schema()
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        hardening_params(params).map(|_| ())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p = match hardening_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(e),
        };
        let (mut v, mut evidence) = definition_findings(input, &p, &[Kind::Dockerfile]);
        unpinned_images(input, &mut v, &mut evidence);
        hardening_outcome(
            v,
            evidence,
            "Dockerfiles or provenance base images",
            "base images are pinned and minimal",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::core::CiDefinitionFacts;
    use crate::go::core::buildinfo::parse_version_m;
    use crate::policies::core::input::{BuildFacts, ProvenanceFacts};
    use crate::policies::core::Status;

    const VERSION_M: &str = include_str!("../../../../../tests/fixtures/go/version-m.txt");
    const GO_MOD: &str = include_str!("../../../../../tests/fixtures/go/go.mod");
    const GO_SUM: &str = include_str!("../../../../../tests/fixtures/go/go.sum");
    const UNSAFE: &str = include_str!("../../../../../tests/fixtures/ci/release-unsafe.yml");
    const HARDENED: &str = include_str!("../../../../../tests/fixtures/ci/release-hardened.yml");
    const DOCKER_TAGS: &str = include_str!("../../../../../tests/fixtures/ci/Dockerfile.tags");
    const DOCKER_PINNED: &str = include_str!("../../../../../tests/fixtures/ci/Dockerfile.pinned");

    fn go_input(text: &str) -> RuleInput {
        RuleInput {
            go: Some(GoFacts {
                build_id: 1,
                build: parse_version_m(text).unwrap(),
                sbom_check: None,
                go_mod: Some(gomod::parse_go_mod(GO_MOD).unwrap()),
                go_sum: Some(gomod::parse_go_sum(GO_SUM).unwrap()),
            }),
            ..Default::default()
        }
    }

    fn ci(defs: &[(Kind, &str, &str)]) -> RuleInput {
        RuleInput {
            ci_definitions: Some(
                defs.iter()
                    .enumerate()
                    .map(|(i, (kind, file, content))| CiDefinitionFacts {
                        id: i as i64 + 1,
                        kind: *kind,
                        file: (*file).into(),
                        content: (*content).into(),
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn keys(o: &RuleOutcome) -> Vec<&str> {
        o.violations.iter().map(|v| v.key.as_str()).collect()
    }

    #[test]
    fn every_rule_is_not_applicable_without_its_evidence() {
        let empty = RuleInput::default();
        for r in [
            &GoModulesVerified as &dyn BuiltinRule,
            &GoReproducibleBuild,
            &SbomMatchesBinary,
            &WorkflowHardening,
            &BaseImagePinned,
        ] {
            assert_eq!(
                r.evaluate(&empty, &Value::Null).status,
                Status::NotApplicable,
                "{}",
                r.id()
            );
            assert!(r.validate(&json!({"nope": 1})).is_err(), "{}", r.id());
            assert!(r.validate(&Value::Null).is_ok());
            assert!(
                crate::policies::core::find_rule(r.id()).is_some(),
                "{} is in the catalogue",
                r.id()
            );
        }
    }

    #[test]
    fn go_modules_verified() {
        let mut input = go_input(VERSION_M);
        let o = GoModulesVerified.evaluate(&input, &Value::Null);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            keys(&o),
            [
                "fork:github.com/pkg/errors",
                "local-replace:golang.org/x/sync",
                "unsummed:github.com/pkg/errors",
                "unsummed:golang.org/x/sync",
            ]
        );
        // Allowing the fork removes that violation; a CI definition that
        // turns off the checksum database adds one.
        input.ci_definitions = ci(&[(Kind::GithubWorkflow, "release.yml", UNSAFE)]).ci_definitions;
        let o = GoModulesVerified.evaluate(
            &input,
            &json!({"allowed_forks": ["github.com/acme-forks/*"]}),
        );
        assert_eq!(
            keys(&o),
            [
                "local-replace:golang.org/x/sync",
                "unsummed:github.com/pkg/errors",
                "unsummed:golang.org/x/sync",
                "env:release.yml:52",
            ]
        );
        // A dependency without a sum.
        let no_sum = VERSION_M.replace("\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=", "");
        let mut input = go_input(&no_sum);
        input.go.as_mut().unwrap().go_mod = None;
        let o = GoModulesVerified.evaluate(
            &input,
            &json!({"allowed_forks": ["github.com/acme-forks/*"]}),
        );
        assert_eq!(keys(&o), ["no-sum:github.com/google/uuid"]);
    }

    #[test]
    fn go_mod_replaces_at_scale() {
        let n = 10_000;
        let mut text = String::from(
            "module a\n\
             replace golang.org/x/sync => ./sync\n\
             replace x.com/x v1.0.0 => github.com/acme-forks/x v1.0.0\n\
             replace x.com/x v2.0.0 => evil.com/x v2.0.0\n\
             replace x.com/x v3.0.0 => evil.com/y v3.0.0\n",
        );
        let mut want = vec![
            "local-replace:golang.org/x/sync".to_owned(),
            "fork:x.com/x".into(),
        ];
        for i in 0..n {
            text.push_str(&format!(
                "replace l{i} => ./l{i}\nreplace f{i} v1.0.0 => evil.com/f{i} v1.0.0\n"
            ));
            want.extend([format!("local-replace:l{i}"), format!("fork:f{i}")]);
        }
        // Replaced again: reported once. (Once n × 2n key comparisons.)
        text.push_str("replace l0 => ./other\nreplace f0 v2.0.0 => evil.com/g v2.0.0\n");
        let mut input = go_input(VERSION_M);
        let g = input.go.as_mut().unwrap();
        g.go_mod = Some(gomod::parse_go_mod(&text).unwrap());
        g.go_sum = None;
        let o = GoModulesVerified.evaluate(
            &input,
            &json!({"allowed_forks": ["github.com/acme-forks/*"]}),
        );
        assert_eq!(keys(&o), want);
    }

    #[test]
    fn go_reproducible_build() {
        let mut input = go_input(VERSION_M);
        assert_eq!(
            GoReproducibleBuild.evaluate(&input, &Value::Null).status,
            Status::Pass
        );
        let strict = json!({"required_ldflags": ["-s -w"], "cgo_enabled": "0"});
        assert_eq!(
            GoReproducibleBuild.evaluate(&input, &strict).status,
            Status::Pass
        );
        input.builds.push(BuildFacts {
            head_sha: Some("0000000000000000000000000000000000000000".into()),
            ..Default::default()
        });
        let o = GoReproducibleBuild.evaluate(&input, &json!({"cgo_enabled": "1"}));
        assert_eq!(keys(&o), ["vcs.revision", "CGO_ENABLED"]);
        let modified = VERSION_M
            .replace("\tbuild\t-trimpath=true\n", "")
            .replace("vcs.modified=false", "vcs.modified=true");
        let o = GoReproducibleBuild.evaluate(&go_input(&modified), &Value::Null);
        assert_eq!(keys(&o), ["-trimpath", "vcs.modified"]);
        assert!(GoReproducibleBuild
            .validate(&json!({"cgo_enabled": "2"}))
            .is_err());
    }

    #[test]
    fn sbom_matches_binary() {
        let mut input = go_input(VERSION_M);
        assert_eq!(
            SbomMatchesBinary.evaluate(&input, &Value::Null).status,
            Status::NotApplicable
        );
        input.go.as_mut().unwrap().sbom_check = Some(Vec::new());
        assert_eq!(
            SbomMatchesBinary.evaluate(&input, &Value::Null).status,
            Status::Pass
        );
        let prov = crate::attestations::core::Provenance {
            source_commit: Some("1111111111111111111111111111111111111111".into()),
            ..Default::default()
        };
        input.provenance.push(ProvenanceFacts {
            id: 9,
            signer: None,
            trusted_by: None,
            provenance: prov,
        });
        let o = SbomMatchesBinary.evaluate(&input, &Value::Null);
        assert_eq!(keys(&o), ["revision-differs:vcs.revision"]);
        input.provenance[0].provenance.source_commit =
            Some("4F2D1C7A9E0B3D5F6A8C1E2B4D6F8A0C2E4B6D8F".into());
        assert_eq!(
            SbomMatchesBinary.evaluate(&input, &Value::Null).status,
            Status::Pass
        );
    }

    #[test]
    fn workflow_and_dockerfile_rules() {
        let input = ci(&[
            (
                Kind::GithubWorkflow,
                ".github/workflows/release.yml",
                UNSAFE,
            ),
            (Kind::Dockerfile, "Dockerfile", DOCKER_TAGS),
        ]);
        let o = WorkflowHardening.evaluate(&input, &Value::Null);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.violations.len(), 11);
        assert_eq!(
            o.violations[0].key,
            ".github/workflows/release.yml:13:top-level-permissions"
        );
        assert!(o.violations[1]
            .message
            .contains("fix: uses: actions/checkout@<40-hex commit sha> # v4"));
        // Parameters: allowing the `actions` scope and the runner label.
        let o2 = WorkflowHardening.evaluate(&input, &json!({"allowed_write_scopes": ["contents", "actions"], "allowed_runner_groups": ["linux"]}));
        assert_eq!(o2.violations.len(), 9);
        let o = BaseImagePinned.evaluate(&input, &Value::Null);
        assert_eq!(
            keys(&o),
            [
                "Dockerfile:3:unpinned-base",
                "Dockerfile:8:unpinned-base",
                "Dockerfile:8:final-base-not-minimal",
                "Dockerfile:8:runs-as-root",
            ]
        );
        let o = BaseImagePinned.evaluate(&input, &json!({"allowed_final_bases": ["debian"]}));
        assert_eq!(o.violations.len(), 3);
        let good = ci(&[
            (Kind::GithubWorkflow, "release.yml", HARDENED),
            (Kind::Dockerfile, "Dockerfile", DOCKER_PINNED),
        ]);
        assert_eq!(
            WorkflowHardening.evaluate(&good, &Value::Null).status,
            Status::Pass
        );
        assert_eq!(
            BaseImagePinned.evaluate(&good, &Value::Null).status,
            Status::Pass
        );
        // Only a Dockerfile: the workflow rule has nothing to judge.
        let docker_only = ci(&[(Kind::Dockerfile, "Dockerfile", DOCKER_PINNED)]);
        assert_eq!(
            WorkflowHardening
                .evaluate(&docker_only, &Value::Null)
                .status,
            Status::NotApplicable
        );
    }

    /// The images a real Kubernetes SBOM (Trivy's KBOM of minikube) lists
    /// are pinned by digest; the same SBOM naming one by tag is a finding.
    #[test]
    fn images_named_in_an_sbom() {
        let kbom = crate::policies::core::rules::tests::sbom_facts(
            "sbom/trivy__fixtures_sbom_minikube-kbom.cdx.json",
        );
        let images = kbom
            .components
            .iter()
            .filter(|c| c.purl.as_deref().is_some_and(is_image_purl))
            .count();
        assert!(images >= 6, "{images}");
        let mut input = RuleInput {
            sbom: Some(kbom),
            ..RuleInput::default()
        };
        let o = BaseImagePinned.evaluate(&input, &Value::Null);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.evidence[0].kind, "sbom");

        let c = std::sync::Arc::make_mut(&mut input.sbom.as_mut().unwrap().components)
            .iter_mut()
            .find(|c| {
                c.purl
                    .as_deref()
                    .is_some_and(|p| p.starts_with("pkg:oci/coredns@"))
            })
            .unwrap();
        c.purl = Some("pkg:docker/coredns/coredns@1.10.1?repository_url=registry.k8s.io".into());
        let o = BaseImagePinned.evaluate(&input, &Value::Null);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.violations[0].message,
            "the SBOM names the image pkg:docker/coredns/coredns@1.10.1?repository_url=registry.k8s.io without a sha256 digest"
        );
        // An SBOM without images leaves the rule nothing to judge.
        let plain = RuleInput {
            sbom: Some(crate::policies::core::rules::tests::sbom_facts(
                "sbom/guac__alpine-cyclonedx.json",
            )),
            ..RuleInput::default()
        };
        assert_eq!(
            BaseImagePinned.evaluate(&plain, &Value::Null).status,
            Status::NotApplicable
        );
    }
}
