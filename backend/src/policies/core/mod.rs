//! The policy engine: rules judge an artifact's evidence. No HTTP, no SQL.
//!
//! # Adding a built-in rule
//!
//! 1. Write a type implementing [`BuiltinRule`] in its own file under
//!    `backend/src/policies/core/rules/` (see `rules/sbom.rs` for the shape): a
//!    stable kebab-case `id`, a one-line `description`, a JSON Schema of its
//!    `params` (shown in the catalogue and docs), `validate` (reject bad params
//!    when a policy set is saved — use [`parse_params`] with a
//!    `#[serde(deny_unknown_fields)]` struct), and `evaluate`.
//! 2. Register it in [`CATALOGUE`] (`rules/mod.rs`), one line.
//! 3. `evaluate` is pure: it reads only [`RuleInput`] and its params (if
//!    it reads only some top-level fields, say which in `reads`, so its
//!    outcome can be reused while they are unchanged) and
//!    returns a [`RuleOutcome`]. Rules must say `Fail` with one
//!    [`Violation`] per problem (its `key` is what a single-violation waiver
//!    names, so keep it stable: e.g. the purl, the missing element), and
//!    `NotApplicable` — never `Pass` — when the evidence kind the rule judges
//!    is absent from `RuleInput` (`None`).
//!
//! # Adding evidence to `RuleInput`
//!
//! `RuleInput` (`input.rs`) is assembled by ONE loader,
//! `policies::store::load_input`, from the artifact's rows. To add evidence
//! (e.g. Go build info, CI workflow findings): add an `Option<...>` field with
//! `#[serde(default, skip_serializing_if = "Option::is_none")]` to
//! `RuleInput` (a domain struct, `Serialize + Deserialize + ToSchema`: it is
//! also the documented Rego `input`), fill it in the loader, and document it
//! in docs/policies.md. `None` means "this kind of evidence does not exist for
//! the artifact" and rules reading it answer `NotApplicable`.
//! Also add the field to `memo::FIELDS` (outcomes are remembered by the
//! fields a rule reads) and queue an evaluation (`crate::queue::evaluate`)
//! in the transaction that stores the evidence.

pub mod admission;
pub mod engine;
pub mod input;
pub mod licenses;
pub mod memo;
pub mod rego;
pub mod rules;
pub mod sandbox;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use input::RuleInput;
pub use rules::{find_rule, CATALOGUE};

/// A rule's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// A failure that does not deny (warn-mode set, or a rule's own warning).
    Warn,
    /// The evidence this rule judges does not exist for the artifact.
    NotApplicable,
    /// The rule could not be evaluated (bad Rego, timeout, ...). Denies in
    /// enforce mode.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NotApplicable => "not-applicable",
            Status::Error => "error",
        }
    }
}

/// What counts of a rule's result in an evaluation: its status, `warn`
/// for a failure in a warn-mode set, or `waived` (every failure covered by
/// waivers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Effective {
    Pass,
    Fail,
    Warn,
    NotApplicable,
    Error,
    Waived,
}

impl Effective {
    pub fn as_str(self) -> &'static str {
        match self {
            Effective::Pass => "pass",
            Effective::Fail => "fail",
            Effective::Warn => "warn",
            Effective::NotApplicable => "not-applicable",
            Effective::Error => "error",
            Effective::Waived => "waived",
        }
    }

    /// A failure or an error: what denies in an enforce-mode set.
    pub fn fails(self) -> bool {
        matches!(self, Effective::Fail | Effective::Error)
    }
}

impl From<Status> for Effective {
    fn from(s: Status) -> Self {
        match s {
            Status::Pass => Effective::Pass,
            Status::Fail => Effective::Fail,
            Status::Warn => Effective::Warn,
            Status::NotApplicable => Effective::NotApplicable,
            Status::Error => Effective::Error,
        }
    }
}

impl std::fmt::Display for Effective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an evaluation of one policy set decided for an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = PolicyDecision)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }

    pub fn of(deny: bool) -> Decision {
        if deny {
            Decision::Deny
        } else {
            Decision::Allow
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read back from a `text` column (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for Decision {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "allow" => Ok(Decision::Allow),
            "deny" => Ok(Decision::Deny),
            _ => Err(format!("{s:?} is not a decision (allow, deny)")),
        }
    }
}

/// One problem a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    /// Stable key of the violation (a purl, a missing element, ...): what a
    /// single-violation waiver names.
    pub key: String,
    pub message: String,
}

/// A piece of evidence a rule used, e.g. `{"kind": "sbom", "id": 12}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceRef {
    /// `sbom`, `attestation`, `ci-run`, `project`.
    pub kind: String,
    pub id: i64,
}

/// What a rule says about an artifact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleOutcome {
    pub status: Status,
    /// Why (a summary: on pass what was found, otherwise what is missing).
    pub message: String,
    #[serde(default)]
    pub violations: Vec<Violation>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
}

impl RuleOutcome {
    pub fn pass(message: impl Into<String>, evidence: Vec<EvidenceRef>) -> Self {
        RuleOutcome {
            status: Status::Pass,
            message: message.into(),
            violations: Vec::new(),
            evidence,
        }
    }
    pub fn not_applicable(message: impl Into<String>) -> Self {
        RuleOutcome {
            status: Status::NotApplicable,
            message: message.into(),
            violations: Vec::new(),
            evidence: Vec::new(),
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        RuleOutcome {
            status: Status::Error,
            message: message.into(),
            violations: Vec::new(),
            evidence: Vec::new(),
        }
    }
    /// `Fail` with these violations; `Pass` with `ok` when there are none.
    pub fn from_violations(
        violations: Vec<Violation>,
        ok: impl Into<String>,
        evidence: Vec<EvidenceRef>,
    ) -> Self {
        if violations.is_empty() {
            return Self::pass(ok, evidence);
        }
        let message = match violations.as_slice() {
            [one] => one.message.clone(),
            [first, rest @ ..] => format!("{} (and {} more)", first.message, rest.len()),
            [] => unreachable!(),
        };
        RuleOutcome {
            status: Status::Fail,
            message,
            violations,
            evidence,
        }
    }
}

pub fn violation(key: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation {
        key: key.into(),
        message: message.into(),
    }
}

/// A built-in rule of the catalogue.
pub trait BuiltinRule: Sync + Send {
    /// Stable kebab-case id, e.g. `sbom-present`.
    fn id(&self) -> &'static str;
    /// One line for the catalogue.
    fn description(&self) -> &'static str;
    /// JSON Schema of `params`.
    fn params_schema(&self) -> Value;
    /// Checks `params` when a policy set is saved; `Err` says what is wrong.
    fn validate(&self, params: &Value) -> Result<(), String>;
    /// Judges the artifact. Pure; params were validated.
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome;
    /// The top-level `RuleInput` fields `evaluate` reads. A rule that reads
    /// only some (and not `now`) says so, and its outcome is reused while
    /// those fields are unchanged (see `memo.rs`). Default: everything.
    fn reads(&self) -> memo::Reads {
        memo::Reads::All
    }
    /// For an outcome that time alone will change (evidence ages): the
    /// moment a `pass` stops holding. Default: time changes nothing.
    fn holds_until(
        &self,
        _input: &RuleInput,
        _params: &Value,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
}

/// Reads a rule's params (`null` = all defaults) into its struct.
pub fn parse_params<P: serde::de::DeserializeOwned + Default>(params: &Value) -> Result<P, String> {
    if params.is_null() {
        return Ok(P::default());
    }
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("{}", e.inner())
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}
