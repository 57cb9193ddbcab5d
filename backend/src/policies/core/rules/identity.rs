//! `signed`, `provenance`, `ephemeral-runner`: who signed, who built, where.

use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::attestations::core::Identity;
use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome,
};

// --- signed ------------------------------------------------------------------

pub struct Signed;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityMatch {
    /// OIDC issuer, exact.
    #[serde(default)]
    issuer: Option<String>,
    /// Certificate SAN, exact.
    #[serde(default)]
    san: Option<String>,
    /// Certificate SAN, regular expression (anchored: must match all of it).
    #[serde(default)]
    san_regex: Option<String>,
    /// GitHub workflow repository (`owner/name`), exact.
    #[serde(default)]
    workflow_repository: Option<String>,
    /// GitHub workflow ref (`refs/heads/main`), exact.
    #[serde(default)]
    workflow_ref: Option<String>,
    /// A trusted public key: its SHA-256 fingerprint (`sha256:<hex>`) or name.
    #[serde(default)]
    key: Option<String>,
    /// The trust root that verified it (`sigstore-public-good`, or a stored
    /// root's or key's name as `trusted_by` shows it), exact.
    #[serde(default)]
    trust_root: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedParams {
    #[serde(default = "one")]
    min: usize,
    /// A signature counts if it matches any entry; empty = any verified one.
    #[serde(default)]
    identities: Vec<IdentityMatch>,
}

fn one() -> usize {
    1
}

impl Default for SignedParams {
    fn default() -> Self {
        SignedParams {
            min: 1,
            identities: Vec::new(),
        }
    }
}

fn anchored(re: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{re})$")).map_err(|e| format!("san_regex: {e}"))
}

impl IdentityMatch {
    fn matches(&self, id: &Identity, trusted_by: Option<&str>, re: Option<&Regex>) -> bool {
        let eq = |want: &Option<String>, got: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| got.as_deref() == Some(w.as_str()))
        };
        eq(&self.issuer, &id.issuer)
            && eq(&self.san, &id.san)
            && re.is_none_or(|r| id.san.as_deref().is_some_and(|s| r.is_match(s)))
            && eq(&self.workflow_repository, &id.workflow_repository)
            && eq(&self.workflow_ref, &id.workflow_ref)
            && self.key.as_ref().is_none_or(|k| {
                id.key_fingerprint.as_deref() == Some(k.as_str())
                    || id.key_name.as_deref() == Some(k.as_str())
            })
            && self
                .trust_root
                .as_ref()
                .is_none_or(|t| trusted_by == Some(t.as_str()))
    }
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("issuer", &self.issuer),
            ("san", &self.san),
            ("san~", &self.san_regex),
            ("repository", &self.workflow_repository),
            ("ref", &self.workflow_ref),
            ("key", &self.key),
            ("root", &self.trust_root),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(" ")
    }
}

impl BuiltinRule for Signed {
    fn id(&self) -> &'static str {
        "signed"
    }
    fn description(&self) -> &'static str {
        "At least N verified signatures or attestations whose signer identity matches (issuer and SAN exact or regex, GitHub workflow repository/ref, or a trusted public key)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "min": {"type": "integer", "minimum": 1, "default": 1},
                "identities": {"type": "array", "items": {
                    "type": "object", "additionalProperties": false,
                    "properties": {
                        "issuer": {"type": "string"}, "san": {"type": "string"},
                        "san_regex": {"type": "string", "description": "Anchored regular expression."},
                        "workflow_repository": {"type": "string"}, "workflow_ref": {"type": "string"},
                        "key": {"type": "string", "description": "Trusted key fingerprint (sha256:<hex>) or name."},
                        "trust_root": {"type": "string", "description": "The trust root that verified it, as `trusted_by` shows it (e.g. sigstore-public-good)."}
                    }}}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: SignedParams = parse_params(params)?;
        if p.min == 0 {
            return Err("min must be at least 1".into());
        }
        for m in &p.identities {
            if let Some(r) = &m.san_regex {
                anchored(r)?;
            }
        }
        Ok(())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: SignedParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        let mut regexes = Vec::new();
        for m in &p.identities {
            match m.san_regex.as_deref().map(anchored).transpose() {
                Ok(r) => regexes.push(r),
                Err(e) => return RuleOutcome::error(e),
            }
        }
        // `min` counts signers, not documents: the same signer (identity,
        // trust root and key) signing again, or one bundle sent twice, is
        // one signature.
        let mut signers = std::collections::HashSet::new();
        let matching: Vec<EvidenceRef> = input
            .signatures
            .iter()
            .filter(|s| {
                p.identities.is_empty()
                    || s.identity.as_ref().is_some_and(|id| {
                        p.identities
                            .iter()
                            .zip(&regexes)
                            .any(|(m, r)| m.matches(id, s.trusted_by.as_deref(), r.as_ref()))
                    })
            })
            .filter(|s| signers.insert(signer(s)))
            .map(|s| EvidenceRef {
                kind: "attestation".into(),
                id: s.id,
            })
            .collect();
        if matching.len() >= p.min {
            return RuleOutcome::pass(
                format!("{} matching verified signature(s)", matching.len()),
                matching,
            );
        }
        let wanted = if p.identities.is_empty() {
            String::new()
        } else {
            format!(
                " matching {}",
                p.identities
                    .iter()
                    .map(IdentityMatch::describe)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        };
        let seen: Vec<String> = input
            .signatures
            .iter()
            .filter_map(|s| s.identity.as_ref())
            .map(|i| {
                i.san
                    .clone()
                    .or_else(|| i.key_name.clone())
                    .unwrap_or_else(|| i.kind.clone())
            })
            .collect();
        let found = if seen.is_empty() {
            "none verified".to_owned()
        } else {
            format!("verified signers: {}", seen.join(", "))
        };
        RuleOutcome::from_violations(
            vec![violation(
                "signature",
                format!(
                    "{} verified signature(s){wanted} required, {} found ({found})",
                    p.min,
                    matching.len()
                ),
            )],
            "",
            matching,
        )
    }
}

/// Who signed: the certificate identity (issuer and SAN) or the key, and
/// the trust root or key that vouched for it.
fn signer(
    s: &crate::policies::core::input::SignatureFacts,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    let id = s.identity.as_ref();
    (
        id.and_then(|i| i.issuer.clone()),
        id.and_then(|i| i.san.clone()),
        id.and_then(|i| i.key_fingerprint.clone()),
        s.trusted_by.clone(),
    )
}

// --- provenance ----------------------------------------------------------------

pub struct ProvenanceRule;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvenanceParams {
    /// Allowed `builder.id`s (exact, or prefix when ending in `*`); empty = any.
    #[serde(default)]
    builder_ids: Vec<String>,
    /// The source repository must be the project's repository.
    #[serde(default = "yes")]
    require_source_match: bool,
    /// 1: provenance exists; 2: signed by the build platform's identity;
    /// 3: produced by an isolated builder (slsa-github-generator).
    #[serde(default)]
    min_slsa_level: u8,
}

fn yes() -> bool {
    true
}

impl Default for ProvenanceParams {
    fn default() -> Self {
        ProvenanceParams {
            builder_ids: Vec::new(),
            require_source_match: true,
            min_slsa_level: 0,
        }
    }
}

/// `github.com/owner/name` from the URL forms provenance and webhooks use.
pub(crate) fn normalise_repo(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_prefix("git+").unwrap_or(&s);
    let s = s
        .split_once("://")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| s.to_owned());
    let s = s.split('@').next().unwrap_or(&s).to_owned();
    s.trim_end_matches('/').trim_end_matches(".git").to_owned()
}

/// The OIDC issuer of GitHub Actions' workflow identities.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The public-good Sigstore root's name in `trusted_by`: the only root
/// that vouches for slsa-github-generator's identity.
const PUBLIC_GOOD: &str = "sigstore-public-good";

/// slsa-github-generator's trusted reusable workflows (as slsa-verifier
/// accepts them): `generator_*_slsa3.yml`, `builder_*_slsa3.yml` or
/// `delegator_*_slsa3.yml` at a release tag.
fn is_generator(san: &str) -> bool {
    let Some(rest) = san
        .strip_prefix("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/")
    else {
        return false;
    };
    let Some((file, git_ref)) = rest.split_once('@') else {
        return false;
    };
    let kind_ok = ["generator_", "builder_", "delegator_"]
        .iter()
        .any(|k| file.starts_with(k));
    let name_ok = file.ends_with("_slsa3.yml")
        && file
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    kind_ok && name_ok && git_ref.starts_with("refs/tags/v")
}

/// What the signer of a provenance statement proves about its builder and
/// source: the statement's own `builder.id` counts only where the signer
/// vouches for it, as slsa-verifier decides.
#[derive(Debug, PartialEq, Eq)]
struct Vouch {
    /// The builder identity the signer proves; `None`: self-declared.
    builder: Option<String>,
    /// The source repository the signer proves (the certificate's claim),
    /// else the statement's.
    source: Option<String>,
    level: u8,
    /// Why the statement's claims earn less than they say.
    why: Option<String>,
}

/// The SLSA build level a verified provenance statement earns (what its
/// signer proves, not what it claims): compliance reports cite it.
pub fn slsa_level(p: &crate::policies::core::input::ProvenanceFacts) -> u8 {
    vouch(p).level
}

fn vouch(p: &crate::policies::core::input::ProvenanceFacts) -> Vouch {
    let declared = p.provenance.builder_id.as_deref().unwrap_or("");
    let stated_source = p
        .provenance
        .source_repository
        .as_deref()
        .map(normalise_repo);
    let Some(signer) = p.signer.as_ref().filter(|s| s.kind == "certificate") else {
        // Signed by a trusted key: it vouches for the builder it is
        // configured for (`builder` when the key was added), and no other.
        let key_builder = p.signer.as_ref().and_then(|s| s.key_builder.as_deref());
        if key_builder == Some(declared) && !declared.is_empty() {
            return Vouch {
                builder: Some(declared.to_owned()),
                source: stated_source,
                level: 2,
                why: None,
            };
        }
        return Vouch {
            builder: None,
            source: stated_source,
            level: 1,
            why: Some(match key_builder {
                Some(b) => format!(
                    "builder `{declared}` is self-declared: the signing key is configured for builder `{b}`"
                ),
                None => format!(
                    "builder `{declared}` is self-declared: the statement is signed by a key not configured for any builder"
                ),
            }),
        };
    };
    let san = signer.san.as_deref().unwrap_or("");
    let ci = signer.workflow_repository.is_some();
    let cert_source = signer.workflow_repository.as_deref().map(normalise_repo);
    let mut v = Vouch {
        builder: None,
        source: if ci {
            cert_source.clone()
        } else {
            stated_source.clone()
        },
        level: if ci { 2 } else { 1 },
        why: None,
    };
    if ci && cert_source != stated_source {
        v.why = Some(format!(
            "the statement names source {} but was signed by a workflow of {}",
            stated_source.as_deref().unwrap_or("none"),
            cert_source.as_deref().unwrap_or("none")
        ));
        return v;
    }
    let github = signer.issuer.as_deref() == Some(GITHUB_ISSUER);
    if github && is_generator(san) {
        if p.trusted_by.as_deref() != Some(PUBLIC_GOOD) {
            v.why = Some(format!(
                "slsa-github-generator's identity is vouched for only by the public-good Sigstore, not by `{}`",
                p.trusted_by.as_deref().unwrap_or("an unknown root")
            ));
        } else if declared != san {
            v.why = Some(format!(
                "builder.id `{declared}` does not match its signer `{san}`"
            ));
        } else {
            v.builder = Some(san.to_owned());
            v.level = 3;
        }
        return v;
    }
    // The signing workflow is the builder, or GitHub's hosted runner whose
    // certificate says so.
    let runner = github
        && match declared {
            "https://github.com/actions/runner/github-hosted" => {
                signer.runner_environment.as_deref() == Some("github-hosted")
            }
            "https://github.com/actions/runner/self-hosted" => {
                signer.runner_environment.as_deref() == Some("self-hosted")
            }
            _ => false,
        };
    if declared == san || runner {
        v.builder = Some(declared.to_owned());
    } else {
        v.why = Some(format!(
            "builder `{declared}` is self-declared: the statement was signed by {san}"
        ));
    }
    v
}

impl BuiltinRule for ProvenanceRule {
    fn id(&self) -> &'static str {
        "provenance"
    }
    fn description(&self) -> &'static str {
        "Verified SLSA provenance: from an allowed builder, built from the project's own repository, at a minimum SLSA build level."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "builder_ids": {"type": "array", "items": {"type": "string"}, "description": "Exact ids, or prefixes ending in *."},
                "require_source_match": {"type": "boolean", "default": true},
                "min_slsa_level": {"type": "integer", "minimum": 0, "maximum": 3}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: ProvenanceParams = parse_params(params)?;
        if p.min_slsa_level > 3 {
            return Err("min_slsa_level must be 0 to 3".into());
        }
        Ok(())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: ProvenanceParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        if input.provenance.is_empty() {
            return RuleOutcome::from_violations(
                vec![violation(
                    "provenance",
                    "the artifact has no verified SLSA provenance",
                )],
                "",
                Vec::new(),
            );
        }
        let project_repo = input.project.repository_url.as_deref().map(normalise_repo);
        // Pass if one provenance statement meets every requirement; else report
        // the problems of each.
        let mut problems = Vec::new();
        for prov in &input.provenance {
            let mut mine = Vec::new();
            let v = vouch(prov);
            let declared = prov.provenance.builder_id.as_deref().unwrap_or("");
            if !p.builder_ids.is_empty() {
                match &v.builder {
                    Some(builder)
                        if p.builder_ids.iter().any(|b| match b.strip_suffix('*') {
                            Some(prefix) => builder.starts_with(prefix),
                            None => builder == b,
                        }) => {}
                    Some(builder) => mine.push(violation(
                        format!("builder:{builder}"),
                        format!("provenance {}: builder `{builder}` is not allowed", prov.id),
                    )),
                    None => mine.push(violation(
                        format!("builder:{declared}"),
                        format!(
                            "provenance {}: {}",
                            prov.id,
                            v.why.as_deref().unwrap_or("the builder is not vouched for")
                        ),
                    )),
                }
            }
            if p.require_source_match {
                match (&project_repo, &v.source) {
                    (None, _) => mine.push(violation(
                        "source",
                        format!(
                            "project {} has no repository URL to compare the provenance source with",
                            input.project.name
                        ),
                    )),
                    (Some(_), None) => mine.push(violation(
                        "source",
                        format!("provenance {} names no source repository", prov.id),
                    )),
                    (Some(want), Some(got)) if want != got => mine.push(violation(
                        format!("source:{got}"),
                        format!(
                            "provenance {}: built from {got}, not the project's repository {want}",
                            prov.id
                        ),
                    )),
                    _ => {}
                }
            }
            let level = v.level;
            if level < p.min_slsa_level {
                let because = v
                    .why
                    .as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                mine.push(violation(
                    "slsa-level",
                    format!(
                        "provenance {} reaches SLSA build level {level}, below the required {}{because}",
                        prov.id, p.min_slsa_level
                    ),
                ));
            }
            if mine.is_empty() {
                let from = match &v.builder {
                    Some(b) => b.clone(),
                    None => format!("a self-declared builder `{declared}`"),
                };
                return RuleOutcome::pass(
                    format!("verified provenance from {from} (SLSA build level {level})"),
                    vec![EvidenceRef {
                        kind: "attestation".into(),
                        id: prov.id,
                    }],
                );
            }
            problems.extend(mine);
        }
        let evidence = input
            .provenance
            .iter()
            .map(|p| EvidenceRef {
                kind: "attestation".into(),
                id: p.id,
            })
            .collect();
        RuleOutcome::from_violations(problems, "", evidence)
    }
}

// --- ephemeral-runner -----------------------------------------------------------

pub struct EphemeralRunner;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunnerParams {
    /// Self-hosted runner groups that are acceptable (ephemeral by design).
    #[serde(default)]
    allowed_runner_groups: Vec<String>,
    /// Without any build record or signer runner information: fail (true)
    /// or not-applicable (false).
    #[serde(default = "yes")]
    require_build_record: bool,
}

impl Default for RunnerParams {
    fn default() -> Self {
        RunnerParams {
            allowed_runner_groups: Vec::new(),
            require_build_record: true,
        }
    }
}

impl BuiltinRule for EphemeralRunner {
    fn id(&self) -> &'static str {
        "ephemeral-runner"
    }
    fn description(&self) -> &'static str {
        "Built only on hosted (ephemeral) runners, or on listed self-hosted runner groups, per the CI build records and the signing certificate."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "allowed_runner_groups": {"type": "array", "items": {"type": "string"}},
                "require_build_record": {"type": "boolean", "default": true}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        parse_params::<RunnerParams>(params).map(|_| ())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: RunnerParams = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        let mut evidence = Vec::new();
        let mut v = Vec::new();
        let mut known = 0;
        for b in &input.builds {
            evidence.push(EvidenceRef {
                kind: "ci-run".into(),
                id: b.id,
            });
            for j in &b.jobs {
                match j.runner_kind.as_deref() {
                    Some("hosted") => known += 1,
                    Some(_) => {
                        known += 1;
                        let group = j.runner_group.as_deref().unwrap_or("");
                        if !p.allowed_runner_groups.iter().any(|g| g == group) {
                            let runner = j.runner_name.as_deref().unwrap_or("?");
                            v.push(violation(
                                format!("runner:{runner}"),
                                format!(
                                    "job `{}` of run {} ran on self-hosted runner {runner}{}",
                                    j.name.as_deref().unwrap_or("?"),
                                    b.id,
                                    if group.is_empty() {
                                        String::new()
                                    } else {
                                        format!(" (group {group}, not allowed)")
                                    }
                                ),
                            ));
                        }
                    }
                    None => {}
                }
            }
        }
        for s in &input.signatures {
            if let Some(env) = s
                .identity
                .as_ref()
                .and_then(|i| i.runner_environment.as_deref())
            {
                known += 1;
                evidence.push(EvidenceRef {
                    kind: "attestation".into(),
                    id: s.id,
                });
                if env != "github-hosted" && p.allowed_runner_groups.is_empty() {
                    v.push(violation(
                        format!("signer-runner:{env}"),
                        format!("attestation {} was signed on a {env} runner", s.id),
                    ));
                }
            }
        }
        if known == 0 {
            let msg =
                "no CI build record or signing certificate says which runner built the artifact";
            return if p.require_build_record {
                RuleOutcome::from_violations(vec![violation("build-record", msg)], "", evidence)
            } else {
                RuleOutcome::not_applicable(msg)
            };
        }
        RuleOutcome::from_violations(
            v,
            format!("built on hosted runners ({known} records)"),
            evidence,
        )
    }
}
