//! How a control is judged from a release's evidence, and how releases
//! add up to a project's (or the portfolio's) status. Pure: the service
//! gathers the facts, this decides.
//!
//! A release meets a control when every rule it names passed in the
//! release's latest evaluations and every evidence it needs exists. A rule
//! that only passed under a waiver makes the control `partial` (the waiver
//! is cited); a rule no policy set evaluates is unmet — nothing is
//! `satisfied` without a citation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::framework::{Assessment, Control, Need};

/// A control's status in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ControlStatus)]
pub enum Status {
    NotSatisfied,
    Partial,
    /// A person's statement is needed (none, or it expired).
    Manual,
    Satisfied,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Satisfied => "satisfied",
            Status::NotSatisfied => "not_satisfied",
            Status::Partial => "partial",
            Status::NotApplicable => "not_applicable",
            Status::Manual => "manual",
        }
    }

    /// Gaps first, then what needs a person, then what holds.
    pub fn rank(self) -> u8 {
        match self {
            Status::NotSatisfied => 0,
            Status::Partial => 1,
            Status::Manual => 2,
            Status::Satisfied => 3,
            Status::NotApplicable => 4,
        }
    }
}

/// What a person may state about a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    Satisfied,
    NotSatisfied,
    Partial,
    NotApplicable,
}

impl StatementStatus {
    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    pub fn status(self) -> Status {
        match self {
            StatementStatus::Satisfied => Status::Satisfied,
            StatementStatus::NotSatisfied => Status::NotSatisfied,
            StatementStatus::Partial => Status::Partial,
            StatementStatus::NotApplicable => Status::NotApplicable,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "satisfied" => Some(StatementStatus::Satisfied),
            "not_satisfied" => Some(StatementStatus::NotSatisfied),
            "partial" => Some(StatementStatus::Partial),
            "not_applicable" => Some(StatementStatus::NotApplicable),
            _ => None,
        }
    }
}

/// What kind of object a citation points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    Sbom,
    Attestation,
    PolicyEvaluation,
    Waiver,
    Vex,
    Finding,
    ControlStatement,
    Build,
    CiDefinition,
    GoBuild,
}

/// An object's id: a row id, or a composite key (a finding is
/// `vulnerability/purl`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EvidenceId {
    Row(i64),
    Key(String),
}

/// A citation: what a reader can open to check a status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Citation)]
pub struct Evidence {
    #[schema(value_type = EvidenceKind)]
    pub kind: Option<EvidenceKind>,
    #[schema(value_type = EvidenceId)]
    pub id: Option<EvidenceId>,
    /// Its API path.
    pub href: String,
    /// What it shows, in a sentence.
    pub summary: String,
    /// The release (`artifact@version`) it belongs to; absent for project-
    /// or organisation-wide evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// `sha256:<hex>` of an SBOM document (or a release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A signature's verified signer (certificate SAN or key name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_log_index: Option<i64>,
    /// Provenance: the builder and the SLSA build level it earns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa_level: Option<u8>,
    /// An evaluation's policy set and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The rule's effective outcome (`pass`, `fail`, `waived`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// A waiver's approver, a statement's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// A finding's or VEX statement's vulnerability and triage state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl Evidence {
    pub fn new(kind: EvidenceKind, id: EvidenceId, href: String, summary: String) -> Self {
        Evidence {
            kind: Some(kind),
            id: Some(id),
            href,
            summary,
            ..Evidence::default()
        }
    }

    /// One citation per object, view of it (`href`) and release.
    fn key(
        &self,
    ) -> (
        Option<EvidenceKind>,
        Option<EvidenceId>,
        String,
        Option<String>,
    ) {
        (
            self.kind,
            self.id.clone(),
            self.href.clone(),
            self.release.clone(),
        )
    }
}

/// A rule's effective outcome in one evaluation, with what it cited.
#[derive(Debug, Clone)]
pub struct RuleFact {
    /// `pass`, `fail`, `warn`, `not-applicable`, `error`, `waived`.
    pub effective: String,
    pub message: String,
    /// The evaluation, the rule's own evidence and any waivers.
    pub citations: Vec<Evidence>,
}

/// Whether a release has one kind of evidence.
#[derive(Debug, Clone, Default)]
pub struct NeedFact {
    pub met: bool,
    pub detail: String,
    pub citations: Vec<Evidence>,
}

/// Everything known about one release (one artifact version).
#[derive(Debug, Clone, Default)]
pub struct ReleaseFacts {
    /// `artifact@version`.
    pub label: String,
    /// Results of each rule id in the release's latest evaluations (one
    /// per policy set that evaluates it).
    pub rules: BTreeMap<String, Vec<RuleFact>>,
    pub needs: BTreeMap<Need, NeedFact>,
}

/// One requirement of a control, judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Met,
    Waived,
    Unmet,
    NotApplicable,
}

/// A requirement (`rule:signed`, `evidence:sbom`) across the releases in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    pub requirement: String,
    pub status: CheckStatus,
    /// Releases that meet it (met or waived) of those it applies to.
    pub releases_met: usize,
    pub releases: usize,
    /// Why, for the first release that does not meet it (or the first's).
    pub detail: String,
}

/// A person's statement about a control (the service picks the one that
/// applies: the project's own before an organisation-wide one, unexpired).
#[derive(Debug, Clone)]
pub struct Statement {
    pub id: i64,
    pub status: StatementStatus,
    pub statement: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub project: Option<String>,
}

/// A control as a report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ControlResult {
    pub id: String,
    pub title: String,
    pub group: String,
    pub assessment: Assessment,
    pub status: Status,
    /// The status in a sentence.
    pub summary: String,
    pub checks: Vec<Check>,
    pub evidence: Vec<Evidence>,
    /// Citations left out to keep the report bounded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// At most this many citations per control: a portfolio report stays
/// bounded however many releases it covers.
pub const MAX_EVIDENCE: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum One {
    Met,
    Waived,
    Unmet,
    NotApplicable,
}

fn judge_rule(facts: Option<&Vec<RuleFact>>, rule: &str) -> (One, String, Vec<Evidence>) {
    let Some(results) = facts.filter(|r| !r.is_empty()) else {
        return (
            One::Unmet,
            format!("no policy set evaluates rule `{rule}`"),
            Vec::new(),
        );
    };
    let cited: Vec<Evidence> = results.iter().flat_map(|r| r.citations.clone()).collect();
    let bad = results
        .iter()
        .find(|r| matches!(r.effective.as_str(), "fail" | "warn" | "error"));
    if let Some(r) = bad {
        return (
            One::Unmet,
            format!("{rule}: {} ({})", r.message, r.effective),
            cited,
        );
    }
    if let Some(r) = results.iter().find(|r| r.effective == "waived") {
        return (
            One::Waived,
            format!("{rule}: waived — {}", r.message),
            cited,
        );
    }
    if results.iter().all(|r| r.effective == "not-applicable") {
        return (
            One::NotApplicable,
            format!("{rule}: {}", results[0].message),
            cited,
        );
    }
    let passed = results.iter().find(|r| r.effective == "pass");
    match passed {
        Some(r) => (One::Met, format!("{rule}: {}", r.message), cited),
        None => (One::Unmet, format!("{rule}: no passing result"), cited),
    }
}

struct Judged {
    requirement: String,
    per_release: Vec<(One, String)>,
}

/// Judges a control over the releases in scope, then applies a person's
/// statement if one applies.
pub fn assess(
    control: &Control,
    releases: &[ReleaseFacts],
    statement: Option<&Statement>,
    at: DateTime<Utc>,
) -> ControlResult {
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut judged: Vec<Judged> = Vec::new();
    if control.assessment == Assessment::Automatic {
        for need in &control.rules {
            let mut per = Vec::new();
            for r in releases {
                let (one, detail, cited) = judge_rule(r.rules.get(&need.rule), &need.rule);
                if one != One::Unmet || !cited.is_empty() {
                    evidence.extend(cited);
                }
                per.push((one, detail));
            }
            judged.push(Judged {
                requirement: format!("rule:{}", need.rule),
                per_release: per,
            });
        }
        for need in &control.evidence {
            let mut per = Vec::new();
            for r in releases {
                match r.needs.get(&need.kind) {
                    Some(f) if f.met => {
                        evidence.extend(f.citations.iter().cloned());
                        per.push((One::Met, f.detail.clone()));
                    }
                    Some(f) => {
                        evidence.extend(f.citations.iter().cloned());
                        per.push((One::Unmet, f.detail.clone()));
                    }
                    None => per.push((One::Unmet, format!("no {}", need.kind.as_str()))),
                }
            }
            judged.push(Judged {
                requirement: format!("evidence:{}", need.kind.as_str()),
                per_release: per,
            });
        }
    }
    let checks: Vec<Check> = judged.iter().map(check_of).collect();

    // Per release: every requirement met → satisfied; some → partial.
    let mut statuses = Vec::new();
    for i in 0..releases.len() {
        let ones: Vec<One> = judged.iter().map(|j| j.per_release[i].0).collect();
        statuses.push(release_status(&ones));
    }
    let (mut status, mut summary) = match control.assessment {
        Assessment::Manual => (
            Status::Manual,
            "organisational: needs a person's statement".to_owned(),
        ),
        Assessment::Automatic if releases.is_empty() => (
            Status::NotSatisfied,
            "no release in scope: nothing evidences it".to_owned(),
        ),
        Assessment::Automatic => {
            let s = combine(&statuses);
            let met = statuses.iter().filter(|s| **s == Status::Satisfied).count();
            let applicable = statuses
                .iter()
                .filter(|s| **s != Status::NotApplicable)
                .count();
            let first_gap = checks
                .iter()
                .find(|c| c.status != CheckStatus::Met && c.status != CheckStatus::NotApplicable)
                .map(|c| format!("; {}: {}", c.requirement, c.detail))
                .unwrap_or_default();
            (
                s,
                format!("{met} of {applicable} release(s) meet every requirement{first_gap}"),
            )
        }
    };
    if let Some(st) = statement {
        let valid = st.expires_at.is_none_or(|e| e > at);
        let mut cite = Evidence::new(
            EvidenceKind::ControlStatement,
            EvidenceId::Row(st.id),
            format!("/api/v1/control-statements/{}", st.id),
            st.statement.clone(),
        );
        cite.author = Some(st.author.clone());
        cite.expires_at = st.expires_at;
        cite.state = Some(st.status.as_str().to_owned());
        cite.evaluated_at = Some(st.created_at);
        if valid {
            status = st.status.status();
            summary = format!(
                "stated {} by {} ({}){}",
                st.status.as_str(),
                st.author,
                match &st.project {
                    Some(p) => format!("for project {p}"),
                    None => "organisation-wide".to_owned(),
                },
                match st.expires_at {
                    Some(e) => format!(", until {}", e.format("%Y-%m-%d")),
                    None => String::new(),
                }
            );
            evidence.insert(0, cite);
        } else if control.assessment == Assessment::Manual {
            summary = format!(
                "the statement by {} expired on {}: a new one is pending",
                st.author,
                st.expires_at
                    .map(|e| e.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            );
            evidence.insert(0, cite);
        }
    }
    // One citation per object and release, in a stable order.
    let mut seen = std::collections::BTreeSet::new();
    evidence.retain(|e| seen.insert(e.key()));
    let omitted = evidence.len().saturating_sub(MAX_EVIDENCE);
    evidence.truncate(MAX_EVIDENCE);
    if status == Status::Satisfied && evidence.is_empty() {
        // Never satisfied without a citation.
        status = Status::NotSatisfied;
        summary = "no evidence to cite".to_owned();
    }
    ControlResult {
        id: control.id.clone(),
        title: control.title.clone(),
        group: control.group.clone(),
        assessment: control.assessment,
        status,
        summary,
        checks,
        evidence,
        evidence_omitted: omitted,
    }
}

fn check_of(j: &Judged) -> Check {
    let applicable: Vec<&(One, String)> = j
        .per_release
        .iter()
        .filter(|(o, _)| *o != One::NotApplicable)
        .collect();
    let met = applicable
        .iter()
        .filter(|(o, _)| matches!(o, One::Met | One::Waived))
        .count();
    let status = if applicable.is_empty() {
        if j.per_release.is_empty() {
            CheckStatus::Unmet
        } else {
            CheckStatus::NotApplicable
        }
    } else if applicable.iter().all(|(o, _)| *o == One::Met) {
        CheckStatus::Met
    } else if met == applicable.len() {
        CheckStatus::Waived
    } else {
        CheckStatus::Unmet
    };
    let detail = applicable
        .iter()
        .find(|(o, _)| *o != One::Met)
        .or(applicable.first())
        .map(|(_, d)| d.clone())
        .or_else(|| j.per_release.first().map(|(_, d)| d.clone()))
        .unwrap_or_else(|| "no release in scope".to_owned());
    Check {
        requirement: j.requirement.clone(),
        status,
        releases_met: met,
        releases: applicable.len(),
        detail,
    }
}

fn release_status(ones: &[One]) -> Status {
    let applicable: Vec<One> = ones
        .iter()
        .copied()
        .filter(|o| *o != One::NotApplicable)
        .collect();
    if applicable.is_empty() {
        return if ones.is_empty() {
            Status::NotSatisfied
        } else {
            Status::NotApplicable
        };
    }
    if applicable.iter().all(|o| *o == One::Met) {
        Status::Satisfied
    } else if applicable
        .iter()
        .any(|o| matches!(o, One::Met | One::Waived))
    {
        Status::Partial
    } else {
        Status::NotSatisfied
    }
}

/// Releases add up: all satisfied → satisfied, none met → not satisfied,
/// anything between → partial; releases a control does not apply to do
/// not count.
pub fn combine(statuses: &[Status]) -> Status {
    let applicable: Vec<Status> = statuses
        .iter()
        .copied()
        .filter(|s| *s != Status::NotApplicable)
        .collect();
    if applicable.is_empty() {
        return if statuses.is_empty() {
            Status::NotSatisfied
        } else {
            Status::NotApplicable
        };
    }
    if applicable.iter().all(|s| *s == Status::Satisfied) {
        Status::Satisfied
    } else if applicable.iter().all(|s| *s == Status::NotSatisfied) {
        Status::NotSatisfied
    } else {
        Status::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::core::framework::{EvidenceNeed, RuleNeed};

    fn control(rules: &[&str], needs: &[Need]) -> Control {
        Control {
            id: "si-7".into(),
            title: "Integrity".into(),
            group: "SI".into(),
            requirement: "r".into(),
            assessment: if rules.is_empty() && needs.is_empty() {
                Assessment::Manual
            } else {
                Assessment::Automatic
            },
            rules: rules
                .iter()
                .map(|r| RuleNeed {
                    rule: (*r).into(),
                    why: "w".into(),
                })
                .collect(),
            evidence: needs
                .iter()
                .map(|n| EvidenceNeed {
                    kind: *n,
                    why: "w".into(),
                })
                .collect(),
            why: "w".into(),
        }
    }

    fn cite(kind: EvidenceKind, id: i64) -> Evidence {
        Evidence::new(kind, EvidenceId::Row(id), format!("/x/{id}"), "s".into())
    }

    fn release(label: &str, rules: &[(&str, &str)], needs: &[(Need, bool)]) -> ReleaseFacts {
        let mut r = ReleaseFacts {
            label: label.into(),
            ..ReleaseFacts::default()
        };
        for (i, (rule, effective)) in rules.iter().enumerate() {
            r.rules.entry((*rule).into()).or_default().push(RuleFact {
                effective: (*effective).into(),
                message: format!("{rule} said {effective}"),
                citations: vec![cite(EvidenceKind::PolicyEvaluation, i as i64 + 1)],
            });
        }
        for (n, met) in needs {
            r.needs.insert(
                *n,
                NeedFact {
                    met: *met,
                    detail: format!(
                        "{} {}",
                        n.as_str(),
                        if *met { "present" } else { "missing" }
                    ),
                    citations: if *met {
                        vec![cite(EvidenceKind::Sbom, 9)]
                    } else {
                        vec![]
                    },
                },
            );
        }
        r
    }

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn every_requirement_met_is_satisfied_with_its_citations() {
        let c = control(&["signed"], &[Need::Sbom]);
        let r = release("a@1", &[("signed", "pass")], &[(Need::Sbom, true)]);
        let out = assess(&c, &[r], None, now());
        assert_eq!(out.status, Status::Satisfied, "{out:?}");
        assert_eq!(out.checks.len(), 2);
        assert!(out.checks.iter().all(|k| k.status == CheckStatus::Met));
        let kinds: Vec<_> = out.evidence.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&Some(EvidenceKind::PolicyEvaluation)));
        assert!(kinds.contains(&Some(EvidenceKind::Sbom)));
    }

    #[test]
    fn failures_waivers_and_missing_rules_are_gaps() {
        let c = control(&["signed", "provenance"], &[]);
        let fail = release("a@1", &[("signed", "fail"), ("provenance", "pass")], &[]);
        assert_eq!(assess(&c, &[fail], None, now()).status, Status::Partial);
        let waived = release("a@1", &[("signed", "waived"), ("provenance", "pass")], &[]);
        let out = assess(&c, &[waived], None, now());
        assert_eq!(out.status, Status::Partial);
        assert_eq!(out.checks[0].status, CheckStatus::Waived);
        // No set evaluates `provenance`: unmet, and said so.
        let missing = release("a@1", &[("signed", "fail")], &[]);
        let out = assess(&c, &[missing], None, now());
        assert_eq!(out.status, Status::NotSatisfied);
        assert!(out.checks[1]
            .detail
            .contains("no policy set evaluates rule `provenance`"));
        // Two sets judge the same rule: the worse result counts.
        let split = release(
            "a@1",
            &[
                ("signed", "pass"),
                ("signed", "fail"),
                ("provenance", "pass"),
            ],
            &[],
        );
        assert_eq!(assess(&c, &[split], None, now()).status, Status::Partial);
    }

    #[test]
    fn releases_add_up_and_not_applicable_ones_do_not_count() {
        let c = control(&["go-modules-verified"], &[]);
        let pass = release("a@1", &[("go-modules-verified", "pass")], &[]);
        let na = release("b@1", &[("go-modules-verified", "not-applicable")], &[]);
        let fail = release("c@1", &[("go-modules-verified", "fail")], &[]);
        assert_eq!(
            assess(&c, &[pass.clone(), na.clone()], None, now()).status,
            Status::Satisfied
        );
        assert_eq!(
            assess(&c, std::slice::from_ref(&na), None, now()).status,
            Status::NotApplicable
        );
        assert_eq!(
            assess(&c, &[pass, fail.clone()], None, now()).status,
            Status::Partial
        );
        assert_eq!(
            assess(&c, &[fail], None, now()).status,
            Status::NotSatisfied
        );
        assert_eq!(assess(&c, &[], None, now()).status, Status::NotSatisfied);
    }

    fn statement(status: StatementStatus, expires: Option<&str>) -> Statement {
        Statement {
            id: 7,
            status,
            statement: "We review suppliers yearly".into(),
            author: "alice".into(),
            created_at: "2026-11-01T00:00:00Z".parse().unwrap(),
            expires_at: expires.map(|e| e.parse().unwrap()),
            project: None,
        }
    }

    #[test]
    fn manual_controls_wait_for_a_statement_and_fall_back_when_it_expires() {
        let c = control(&[], &[]);
        let r = release("a@1", &[], &[]);
        assert_eq!(
            assess(&c, std::slice::from_ref(&r), None, now()).status,
            Status::Manual
        );
        let st = statement(StatementStatus::Satisfied, Some("2027-01-01T00:00:00Z"));
        let out = assess(&c, std::slice::from_ref(&r), Some(&st), now());
        assert_eq!(out.status, Status::Satisfied);
        assert_eq!(out.evidence[0].kind, Some(EvidenceKind::ControlStatement));
        assert_eq!(out.evidence[0].author.as_deref(), Some("alice"));
        let expired = statement(StatementStatus::Satisfied, Some("2026-11-15T00:00:00Z"));
        let out = assess(&c, &[r], Some(&expired), now());
        assert_eq!(out.status, Status::Manual);
        assert!(out.summary.contains("expired"), "{}", out.summary);
    }

    #[test]
    fn a_statement_overrides_automatic_evidence_and_is_cited_first() {
        let c = control(&["signed"], &[]);
        let r = release("a@1", &[("signed", "fail")], &[]);
        let st = statement(StatementStatus::NotApplicable, None);
        let out = assess(&c, &[r], Some(&st), now());
        assert_eq!(out.status, Status::NotApplicable);
        assert_eq!(out.evidence[0].kind, Some(EvidenceKind::ControlStatement));
        assert_eq!(out.evidence.len(), 2, "the evaluation stays cited");
    }

    #[test]
    fn citations_are_deduplicated_and_bounded() {
        let c = control(&[], &[Need::Sbom]);
        let releases: Vec<ReleaseFacts> = (0..300)
            .map(|i| {
                let mut r = release(&format!("a@{i}"), &[], &[]);
                let mut e = cite(EvidenceKind::Sbom, i);
                e.release = Some(r.label.clone());
                r.needs.insert(
                    Need::Sbom,
                    NeedFact {
                        met: true,
                        detail: "d".into(),
                        citations: vec![e.clone(), e],
                    },
                );
                r
            })
            .collect();
        let out = assess(&c, &releases, None, now());
        assert_eq!(out.status, Status::Satisfied);
        assert_eq!(out.evidence.len(), MAX_EVIDENCE);
        assert_eq!(out.evidence_omitted, 100);
    }
}
