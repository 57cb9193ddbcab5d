//! Policy sets: their definition (what the API accepts and versions store),
//! compilation (validation), evaluation against a `RuleInput`, waivers, and
//! the decision.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::memo::{self, Reads};
use super::rego::{self, RegoRule};
use super::rules::glob_match;
use super::sandbox;
use super::{
    find_rule, BuiltinRule, Effective, EvidenceRef, RuleInput, RuleOutcome, Status, Violation,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Failures deny.
    Enforce,
    /// Failures are reported as warnings; the artifact is allowed.
    Warn,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read back from a `text` column (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for Mode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "enforce" => Ok(Mode::Enforce),
            "warn" => Ok(Mode::Warn),
            _ => Err(format!("{s:?} is not a mode (enforce, warn)")),
        }
    }
}

/// Which projects a set applies to: all when both lists are empty,
/// otherwise projects whose name matches a glob (`*`) or that carry a tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetScope)]
pub struct Scope {
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Scope {
    pub fn matches(&self, project: &str, tags: &[String]) -> bool {
        (self.projects.is_empty() && self.tags.is_empty())
            || self.projects.iter().any(|g| glob_match(g, project))
            || self.tags.iter().any(|t| tags.contains(t))
    }
}

/// One rule of a set: a built-in (`rule` + `params`) or a Rego module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Id in results; defaults to the built-in id or `rego:<package>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A built-in rule id (see `GET /api/v1/policy-rules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
    /// A Rego module defining `violations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rego: Option<String>,
}

/// The body of `POST /api/v1/policy-sets` and of an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDefinition {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub mode: Mode,
    #[serde(default)]
    pub scope: Scope,
    pub rules: Vec<RuleSpec>,
}

pub enum CompiledRule {
    Builtin(&'static dyn BuiltinRule, Value),
    Rego(RegoRule),
}

impl CompiledRule {
    /// What the rule reads, and its identity for the outcome memo.
    fn memo(&self) -> (u64, Reads) {
        match self {
            CompiledRule::Builtin(b, params) => {
                (memo::rule_key((b.id(), params.to_string())), b.reads())
            }
            CompiledRule::Rego(r) => (memo::rule_key(&r.module), memo::rego_reads(&r.module)),
        }
    }
}

pub struct CompiledSet {
    pub rules: Vec<(String, CompiledRule)>,
    /// Per rule: its memo identity and what it reads.
    memo: Vec<(u64, Reads)>,
}

/// A definition error and where (RFC 6901 pointer).
#[derive(Debug)]
pub struct DefinitionError {
    pub pointer: String,
    pub detail: String,
}

fn err(pointer: impl Into<String>, detail: impl Into<String>) -> DefinitionError {
    DefinitionError {
        pointer: pointer.into(),
        detail: detail.into(),
    }
}

impl PolicyDefinition {
    /// Checks everything a saved set must satisfy.
    pub fn compile(&self) -> Result<CompiledSet, DefinitionError> {
        let name = self.name.trim();
        if name.is_empty()
            || name.len() > 100
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(err(
                "/name",
                "name must be 1-100 characters of letters, digits, '-', '_' or '.'",
            ));
        }
        if self.description.as_deref().is_some_and(|d| d.len() > 2000) {
            return Err(err(
                "/description",
                "description is longer than 2000 characters",
            ));
        }
        if self.rules.is_empty() {
            return Err(err("/rules", "a policy set needs at least one rule"));
        }
        if self.rules.len() > 100 {
            return Err(err("/rules", "a policy set has at most 100 rules"));
        }
        compile_rules(&self.rules, "/rules")
    }

    /// SHA-256 of the canonical JSON: what a version is.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("definition serialises");
        format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
    }
}

/// Compiles rules (of a set, or of a dry-run).
pub fn compile_rules(rules: &[RuleSpec], at: &str) -> Result<CompiledSet, DefinitionError> {
    let mut out: Vec<(String, CompiledRule)> = Vec::with_capacity(rules.len());
    for (i, spec) in rules.iter().enumerate() {
        let here = format!("{at}/{i}");
        let (id, rule) = match (&spec.rule, &spec.rego) {
            (Some(r), None) => {
                let b = find_rule(r).ok_or_else(|| {
                    err(
                        format!("{here}/rule"),
                        format!("unknown built-in rule `{r}` (see GET /api/v1/policy-rules)"),
                    )
                })?;
                let params = spec.params.clone().unwrap_or(Value::Null);
                b.validate(&params)
                    .map_err(|e| err(format!("{here}/params"), format!("{r}: {e}")))?;
                (r.clone(), CompiledRule::Builtin(b, params))
            }
            (None, Some(module)) => {
                if spec.params.is_some() {
                    return Err(err(
                        format!("{here}/params"),
                        "a Rego rule takes no params (read input instead)",
                    ));
                }
                let r = RegoRule::compile(module).map_err(|e| err(format!("{here}/rego"), e))?;
                (r.default_id(), CompiledRule::Rego(r))
            }
            _ => {
                return Err(err(
                    here,
                    "a rule is either {\"rule\": <built-in id>, \"params\": {...}} or {\"rego\": <module>}",
                ))
            }
        };
        let id = match &spec.id {
            Some(given) => {
                if given.is_empty()
                    || given.len() > 100
                    || given.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(err(
                        format!("{here}/id"),
                        "id must be 1-100 characters without spaces",
                    ));
                }
                given.clone()
            }
            None => id,
        };
        if out.iter().any(|(other, _)| *other == id) {
            return Err(err(
                format!("{here}/id"),
                format!("two rules have the id `{id}`; give one an explicit \"id\""),
            ));
        }
        out.push((id, rule));
    }
    let memo = out.iter().map(|(_, r)| r.memo()).collect();
    Ok(CompiledSet { rules: out, memo })
}

/// A waiver in force for the artifact being evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppliedWaiver {
    pub id: i64,
    /// Only this violation key is waived (else the whole rule).
    pub violation: Option<String>,
    pub justification: String,
    pub approver: String,
    pub expires_at: DateTime<Utc>,
}

/// A waiver that may apply: the store picks those of the artifact or its
/// project that have not expired.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub policy_set_id: Option<i64>,
    pub rule: String,
    pub applied: AppliedWaiver,
}

/// One rule's result in an evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleResult {
    /// The rule's id in its set.
    pub rule: String,
    /// `builtin` or `rego`.
    pub kind: String,
    /// What the rule said.
    pub status: Status,
    /// What counts: the status, `warn` for a failure in a warn-mode set,
    /// or `waived` (every failure covered by waivers).
    pub effective: Effective,
    pub message: String,
    pub violations: Vec<Violation>,
    /// Violations covered by a single-violation waiver.
    #[serde(default)]
    pub waived_violations: Vec<Violation>,
    pub evidence: Vec<EvidenceRef>,
    /// Waivers that applied.
    #[serde(default)]
    pub waivers: Vec<AppliedWaiver>,
    /// A pass that time alone will end (`evidence-fresh`: the evidence
    /// ages) holds until then; the artifact is judged again after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Everything a set's rules read, converted once per artifact.
pub struct EvalContext<'a> {
    pub input: &'a RuleInput,
    /// Unique in this process: names the input to Rego workers.
    id: u64,
    rego_input: std::sync::OnceLock<Result<regorus::Value, String>>,
    rego_json: std::sync::OnceLock<Result<String, String>>,
    prints: memo::Fingerprints,
    pub limits: EvalLimits,
    /// When the evaluation's budget runs out.
    deadline: Instant,
}

/// How long evaluation may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalLimits {
    /// One custom Rego rule.
    pub rego: Duration,
    /// One artifact against every set: a rule not started within it is an
    /// `error`, and a Rego rule gets at most what is left.
    pub evaluation: Duration,
}

impl<'a> EvalContext<'a> {
    pub fn new(input: &'a RuleInput, limits: EvalLimits) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        EvalContext {
            input,
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            rego_input: std::sync::OnceLock::new(),
            rego_json: std::sync::OnceLock::new(),
            prints: memo::Fingerprints::default(),
            limits,
            deadline: Instant::now() + limits.evaluation,
        }
    }

    /// What is left of the budget; `None` once it has run out.
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Runs a Rego rule: in the process's sandbox when one is installed
    /// (the server), else here (unit tests, the sandbox's own worker).
    fn run_rego(&self, rule: &RegoRule, limit: Duration) -> RuleOutcome {
        match sandbox::installed() {
            Some(sandbox) => {
                let json = self.rego_json.get_or_init(|| {
                    serde_json::to_string(self.input)
                        .map_err(|e| format!("the Rego input could not be built: {e}"))
                });
                match json {
                    Ok(json) => {
                        let input = sandbox::InputText { id: self.id, json };
                        sandbox.evaluate(rule, &input, limit)
                    }
                    Err(e) => RuleOutcome::error(e.clone()),
                }
            }
            None => match self
                .rego_input
                .get_or_init(|| rego::input_value(self.input))
            {
                Ok(input) => rule.evaluate(input, limit),
                Err(e) => RuleOutcome::error(e.clone()),
            },
        }
    }
}

/// SHA-256 of the evidence evaluated (the input without its clock).
///
/// A stored SBOM never changes (its row and component list are written once,
/// and its id names them), so the SBOM enters by its id and header, not its
/// thousands of components: the digest stays cheap on large SBOMs.
pub fn input_digest(input: &RuleInput) -> String {
    let mut doc =
        super::input::without_components(|| serde_json::to_value(input)).expect("input serialises");
    doc["now"] = Value::Null;
    let mut h = Sha256::new();
    serde_json::to_writer(HashWriter(&mut h), &doc).expect("input serialises");
    format!("sha256:{}", hex::encode(h.finalize()))
}

struct HashWriter<'a>(&'a mut Sha256);
impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs every rule (blocking: Rego rules run here).
pub fn evaluate(
    set: &CompiledSet,
    mode: Mode,
    ctx: &EvalContext<'_>,
    policy_set_id: Option<i64>,
    waivers: &[Waiver],
) -> Vec<RuleResult> {
    set.rules
        .iter()
        .zip(&set.memo)
        .map(|((id, rule), (rule_key, reads))| {
            let mine: Vec<&Waiver> = waivers
                .iter()
                .filter(|w| {
                    w.rule == *id && w.policy_set_id.is_none_or(|s| Some(s) == policy_set_id)
                })
                .collect();
            let kind = match rule {
                CompiledRule::Builtin(..) => "builtin",
                CompiledRule::Rego(_) => "rego",
            };
            let Some(left) = ctx.remaining() else {
                let out = RuleOutcome::error(format!(
                    "the evaluation's time budget ({} ms) ran out before this rule ran",
                    ctx.limits.evaluation.as_millis()
                ));
                return judge(id, kind, out, mode, &mine);
            };
            let key = ctx.prints.key(ctx.input, *rule_key, reads);
            let outcome = match rule {
                CompiledRule::Builtin(b, params) => memo::outcome(key, || {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        b.evaluate(ctx.input, params)
                    }))
                    .unwrap_or_else(|_| RuleOutcome::error("the rule failed unexpectedly"))
                }),
                CompiledRule::Rego(r) => {
                    memo::outcome(key, || ctx.run_rego(r, ctx.limits.rego.min(left)))
                }
            };
            let passed = outcome.status == Status::Pass;
            let mut result = judge(id, kind, outcome, mode, &mine);
            if let (true, CompiledRule::Builtin(b, params)) = (passed, rule) {
                result.holds_until = b.holds_until(ctx.input, params);
            }
            result
        })
        .collect()
}

fn judge(id: &str, kind: &str, o: RuleOutcome, mode: Mode, waivers: &[&Waiver]) -> RuleResult {
    let mut applied = Vec::new();
    let mut violations = o.violations;
    let mut waived_violations = Vec::new();
    let failing = matches!(o.status, Status::Fail | Status::Error | Status::Warn);
    let whole = failing
        .then(|| waivers.iter().find(|w| w.applied.violation.is_none()))
        .flatten();
    if let Some(w) = whole {
        applied.push(w.applied.clone());
    } else if o.status == Status::Fail {
        for w in waivers {
            let Some(key) = &w.applied.violation else {
                continue;
            };
            let before = violations.len();
            let (hit, keep): (Vec<Violation>, Vec<Violation>) =
                violations.into_iter().partition(|v| &v.key == key);
            violations = keep;
            if violations.len() != before {
                applied.push(w.applied.clone());
                waived_violations.extend(hit);
            }
        }
    }
    let all_waived = whole.is_some() || (o.status == Status::Fail && violations.is_empty());
    let effective = match o.status {
        _ if all_waived => Effective::Waived,
        Status::Fail if mode == Mode::Warn => Effective::Warn,
        s => s.into(),
    };
    let message = if !waived_violations.is_empty() && !violations.is_empty() {
        format!(
            "{} ({} waived)",
            violations[0].message,
            waived_violations.len()
        )
    } else {
        o.message
    };
    RuleResult {
        rule: id.to_owned(),
        kind: kind.to_owned(),
        status: o.status,
        effective,
        message,
        violations,
        waived_violations,
        evidence: o.evidence,
        waivers: applied,
        holds_until: None,
    }
}

/// `deny` if an enforce-mode result fails or errors.
pub fn denies(mode: Mode, results: &[RuleResult]) -> bool {
    mode == Mode::Enforce && results.iter().any(|r| r.effective.fails())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Walks a cartesian product far too large to finish.
    const SPIN: &str = r#"package spin
xs := [x | some x in ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p"]]
violations contains m if {
    some a in xs; some b in xs; some c in xs; some d in xs; some e in xs
    some f in xs; some g in xs; some h in xs; some i in xs; some j in xs
    m := concat("", [a, b, c, d, e, f, g, h, i, j])
    m == "never"
}"#;

    const TEST_LIMITS: EvalLimits = EvalLimits {
        rego: Duration::from_secs(2),
        evaluation: Duration::from_secs(60),
    };

    /// A spent budget turns every rule not yet run into an `error` that
    /// says so (and denies in enforce mode); a Rego rule gets at most what
    /// is left of the budget, however long its own limit.
    #[test]
    fn the_evaluation_budget_bounds_every_rule() {
        let set = def(json!([
            {"rule": "sbom-present"},
            {"rego": SPIN},
        ]))
        .compile()
        .unwrap();
        let input = RuleInput::default();
        let spent = EvalLimits {
            rego: Duration::from_secs(60),
            evaluation: Duration::ZERO,
        };
        let results = evaluate(
            &set,
            Mode::Enforce,
            &EvalContext::new(&input, spent),
            None,
            &[],
        );
        for r in &results {
            assert_eq!(r.status, Status::Error, "{r:?}");
            assert_eq!(
                r.message,
                "the evaluation's time budget (0 ms) ran out before this rule ran"
            );
        }
        assert!(denies(Mode::Enforce, &results));
        // A Rego rule allowed a minute gets what is left of a 200 ms budget.
        let short = EvalLimits {
            rego: Duration::from_secs(60),
            evaluation: Duration::from_millis(200),
        };
        let results = evaluate(
            &set,
            Mode::Enforce,
            &EvalContext::new(&input, short),
            None,
            &[],
        );
        assert_eq!(results[0].status, Status::Fail, "{:?}", results[0]);
        assert_eq!(results[1].status, Status::Error, "{:?}", results[1]);
    }

    /// Evidence that is within the JSON reader's 128 levels as uploaded but
    /// deeper once placed in the Rego input makes Rego rules `error` (they
    /// used to see an empty input and pass); built-in rules still judge.
    #[test]
    fn a_rego_input_that_cannot_be_built_is_an_error_not_a_pass() {
        let set = def(json!([
            {"rule": "sbom-present"},
            {"rego": "package deep\nviolations contains \"unsigned\" if { count(input.signatures) == 0 }"},
        ]))
        .compile()
        .unwrap();
        let mut deep = json!("leaf");
        for _ in 0..124 {
            deep = json!({ "x": deep });
        }
        let mut input = RuleInput::default();
        input
            .provenance
            .push(crate::policies::core::input::ProvenanceFacts {
                id: 1,
                signer: None,
                trusted_by: None,
                provenance: crate::attestations::core::Provenance {
                    parameters: deep,
                    ..Default::default()
                },
            });
        let results = evaluate(
            &set,
            Mode::Enforce,
            &EvalContext::new(&input, TEST_LIMITS),
            None,
            &[],
        );
        assert_eq!(results[1].status, Status::Error, "{:?}", results[1]);
        assert!(
            results[1]
                .message
                .starts_with("the Rego input could not be built"),
            "{}",
            results[1].message
        );
        assert!(denies(Mode::Enforce, &results));
        // The legitimate path: the same rule on an ordinary input fails on
        // its own terms (no signature), not with an error.
        let plain = RuleInput::default();
        let results = evaluate(
            &set,
            Mode::Enforce,
            &EvalContext::new(&plain, TEST_LIMITS),
            None,
            &[],
        );
        assert_eq!(results[1].status, Status::Fail, "{:?}", results[1]);
    }

    fn def(rules: Value) -> PolicyDefinition {
        serde_json::from_value(json!({"name": "base", "mode": "enforce", "rules": rules})).unwrap()
    }

    /// Re-judging an artifact whose SBOM did not change reuses the outcomes
    /// of the rules that read only the SBOM; a changed SBOM is judged anew.
    #[test]
    fn unchanged_evidence_reuses_outcomes_and_changed_evidence_does_not() {
        let set = def(json!([
            {"rule": "licenses", "params": {"deny": ["GPL-3.0-only"]}},
            {"rule": "signed"},
            {"rego": "package scan\nviolations contains c.name if { some c in input.sbom.components; c.licenses == \"GPL-3.0-only\" }"},
        ]))
        .compile()
        .unwrap();
        // Unique to this test: other tests' outcomes cannot be reused here.
        let mut sbom =
            crate::policies::core::rules::tests::sbom_facts("sbom/guac__alpine-cyclonedx.json");
        sbom.id = 900_000 + i64::from(std::process::id() % 1000);
        let mut input = RuleInput {
            sbom: Some(sbom),
            ..RuleInput::default()
        };
        let run = |input: &RuleInput| {
            let ctx = EvalContext::new(input, TEST_LIMITS);
            evaluate(&set, Mode::Enforce, &ctx, None, &[])
        };
        let first = run(&input);
        assert_eq!(first[0].status, Status::Pass);
        assert_eq!(first[2].status, Status::Pass);
        let before = memo::hits();
        // A signature arrives: the SBOM rules are reused, `signed` is not.
        input
            .signatures
            .push(crate::policies::core::rules::tests::signature(
                1,
                crate::attestations::core::Identity::default(),
            ));
        let second = run(&input);
        assert!(memo::hits() >= before + 2, "both SBOM rules reused");
        assert_eq!(second[0].status, Status::Pass);
        // The SBOM changes (a GPL component): both SBOM rules see it.
        let c = std::sync::Arc::make_mut(&mut input.sbom.as_mut().unwrap().components)
            .iter_mut()
            .find(|c| !c.is_root)
            .unwrap();
        c.licenses = Some("GPL-3.0-only".into());
        let name = c.name.clone();
        let third = run(&input);
        assert_eq!(third[0].status, Status::Fail, "{:?}", third[0]);
        assert_eq!(third[2].status, Status::Fail, "{:?}", third[2]);
        assert_eq!(third[2].violations[0].message, name);
    }

    #[test]
    fn definitions_are_checked_with_pointers() {
        let e = def(json!([{"rule": "nope"}])).compile().err().unwrap();
        assert_eq!(e.pointer, "/rules/0/rule");
        let e = def(json!([{"rule": "licenses", "params": {"allow": ["MIT OR X"]}}]))
            .compile()
            .err()
            .unwrap();
        assert_eq!(e.pointer, "/rules/0/params");
        let e = def(json!([{"rule": "signed"}, {"rule": "signed"}]))
            .compile()
            .err()
            .unwrap();
        assert!(e.detail.contains("two rules"), "{}", e.detail);
        let e = def(json!([{"rule": "signed", "rego": "package x"}]))
            .compile()
            .err()
            .unwrap();
        assert_eq!(e.pointer, "/rules/0");
        let e = def(json!([{"rule": "signed", "params": {"min": 1, "extra": 2}}]))
            .compile()
            .err()
            .unwrap();
        assert!(e.detail.contains("extra"), "{}", e.detail);
        assert!(def(json!([{"rule": "signed"}, {"rule": "signed", "id": "signed-twice", "params": {"min": 2}}]))
            .compile()
            .is_ok());
    }

    #[test]
    fn scope_matching() {
        let all = Scope::default();
        assert!(all.matches("x", &[]));
        let s = Scope {
            projects: vec!["team-*".into()],
            tags: vec!["prod".into()],
        };
        assert!(s.matches("team-a", &[]));
        assert!(s.matches("other", &["prod".into()]));
        assert!(!s.matches("other", &[]));
    }

    fn waiver(id: i64, rule: &str, violation: Option<&str>) -> Waiver {
        Waiver {
            policy_set_id: None,
            rule: rule.into(),
            applied: AppliedWaiver {
                id,
                violation: violation.map(str::to_owned),
                justification: "accepted risk".into(),
                approver: "sec".into(),
                expires_at: Utc::now(),
            },
        }
    }

    #[test]
    fn waivers_cover_rules_or_single_violations() {
        let fail = || {
            RuleOutcome::from_violations(
                vec![
                    super::super::violation("a", "A bad"),
                    super::super::violation("b", "B bad"),
                ],
                "",
                vec![],
            )
        };
        let w = waiver(1, "components", Some("a"));
        let r = judge("components", "builtin", fail(), Mode::Enforce, &[&w]);
        assert_eq!(r.effective, Effective::Fail);
        assert_eq!(r.violations.len(), 1);
        assert_eq!(r.waived_violations[0].key, "a");
        let w2 = waiver(2, "components", Some("b"));
        let r = judge("components", "builtin", fail(), Mode::Enforce, &[&w, &w2]);
        assert_eq!(r.effective, Effective::Waived);
        assert_eq!(r.waivers.len(), 2);
        let whole = waiver(3, "components", None);
        let r = judge("components", "builtin", fail(), Mode::Enforce, &[&whole]);
        assert_eq!(r.effective, Effective::Waived);
        assert!(!denies(Mode::Enforce, &[r]));
        let r = judge("components", "builtin", fail(), Mode::Warn, &[]);
        assert_eq!(r.effective, Effective::Warn);
        assert!(!denies(Mode::Warn, &[r]));
        let r = judge("components", "builtin", fail(), Mode::Enforce, &[]);
        assert!(denies(Mode::Enforce, &[r]));
    }
}
