//! Triage: which decision holds for one finding. The most specific scope
//! wins (artifact over project over portfolio), then a decision about this
//! exact version over one about every version, then the newest; expired
//! decisions no longer hold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    InTriage,
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
    FalsePositive,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::InTriage => "in_triage",
            State::Affected => "affected",
            State::NotAffected => "not_affected",
            State::Fixed => "fixed",
            State::UnderInvestigation => "under_investigation",
            State::FalsePositive => "false_positive",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "in_triage" => State::InTriage,
            "affected" => State::Affected,
            "not_affected" => State::NotAffected,
            "fixed" => State::Fixed,
            "under_investigation" => State::UnderInvestigation,
            "false_positive" => State::FalsePositive,
            _ => return None,
        })
    }

    /// Findings in these states no longer count against an artifact.
    pub fn resolved(self) -> bool {
        matches!(
            self,
            State::NotAffected | State::Fixed | State::FalsePositive
        )
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Portfolio,
    Project,
    Artifact,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Portfolio => "portfolio",
            Scope::Project => "project",
            Scope::Artifact => "artifact",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "portfolio" => Scope::Portfolio,
            "project" => Scope::Project,
            "artifact" => Scope::Artifact,
            _ => return None,
        })
    }
}

/// Whether `j` is a VEX justification: OpenVEX's (also CSAF's flag
/// labels) or CycloneDX's; either vocabulary is accepted as written.
pub fn is_justification(j: &str) -> bool {
    justifications().any(|k| k == j)
}

fn justifications() -> impl Iterator<Item = &'static str> {
    super::vex::OPENVEX_JUSTIFICATIONS
        .into_iter()
        .chain(super::vex::CYCLONEDX_JUSTIFICATIONS)
}

/// A decision's target and verdict, as resolution needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub id: i64,
    pub scope: Scope,
    pub artifact_id: Option<i64>,
    pub project_id: Option<i64>,
    pub purl: Option<String>,
    pub state: State,
    pub justification: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The decision that holds for a finding of `purl` in the artifact.
pub fn decide<'a>(
    decisions: impl IntoIterator<Item = &'a Decision>,
    artifact_id: i64,
    project_id: i64,
    purl: &str,
    now: DateTime<Utc>,
) -> Option<&'a Decision> {
    decisions
        .into_iter()
        .filter(|d| d.expires_at.is_none_or(|e| e > now))
        .filter(|d| d.purl.as_deref().is_none_or(|p| p == purl))
        .filter(|d| match d.scope {
            Scope::Artifact => d.artifact_id == Some(artifact_id),
            Scope::Project => d.project_id == Some(project_id),
            Scope::Portfolio => true,
        })
        .max_by_key(|d| (d.scope, d.purl.is_some(), d.created_at, d.id))
}

/// Checks a decision's verdict: `not_affected` needs a justification from
/// the VEX vocabularies; only `not_affected` carries one.
pub fn check(state: State, justification: Option<&str>) -> Result<(), String> {
    match (state, justification) {
        (State::NotAffected, None) => Err(format!(
            "not_affected needs a justification, one of: {}",
            justifications().collect::<Vec<_>>().join(", ")
        )),
        (State::NotAffected, Some(j)) if !is_justification(j) => Err(format!(
            "justification {j:?} is not a VEX justification; use one of: {}",
            justifications().collect::<Vec<_>>().join(", ")
        )),
        (State::NotAffected, Some(_)) | (_, None) => Ok(()),
        (s, Some(_)) => Err(format!(
            "only not_affected carries a justification, not {}",
            s.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(id: i64, scope: Scope, purl: Option<&str>, state: State, day: u32) -> Decision {
        Decision {
            id,
            scope,
            artifact_id: (scope == Scope::Artifact).then_some(1),
            project_id: (scope == Scope::Project).then_some(10),
            purl: purl.map(str::to_string),
            state,
            justification: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
            expires_at: None,
        }
    }

    #[test]
    fn the_most_specific_newest_decision_holds() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let p = "pkg:golang/golang.org/x/net@v0.6.0";
        let all = [
            d(1, Scope::Portfolio, None, State::NotAffected, 1),
            d(2, Scope::Project, None, State::Affected, 2),
            d(3, Scope::Portfolio, None, State::FalsePositive, 3),
        ];
        assert_eq!(
            decide(&all, 1, 10, p, now).unwrap().id,
            2,
            "project beats portfolio"
        );
        assert_eq!(
            decide(&all, 1, 11, p, now).unwrap().id,
            3,
            "another project: newest portfolio"
        );
        let mut more = all.to_vec();
        more.push(d(
            4,
            Scope::Artifact,
            Some("pkg:golang/golang.org/x/net@v0.5.0"),
            State::Fixed,
            4,
        ));
        assert_eq!(
            decide(&more, 1, 10, p, now).unwrap().id,
            2,
            "another version's decision does not hold"
        );
        more.push(d(5, Scope::Artifact, Some(p), State::Fixed, 1));
        assert_eq!(
            decide(&more, 1, 10, p, now).unwrap().id,
            5,
            "artifact beats older project"
        );
        let mut expired = d(6, Scope::Artifact, None, State::NotAffected, 5);
        expired.expires_at = Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        more.push(expired);
        assert_eq!(
            decide(&more, 1, 10, p, now).unwrap().id,
            5,
            "expired decisions no longer hold"
        );
        assert!(decide(&[], 1, 10, p, now).is_none());
    }

    #[test]
    fn verdicts_are_checked() {
        assert!(check(State::NotAffected, Some("vulnerable_code_not_present")).is_ok());
        assert!(check(State::NotAffected, Some("code_not_reachable")).is_ok());
        assert!(check(State::NotAffected, None)
            .unwrap_err()
            .contains("needs a justification"));
        assert!(check(State::NotAffected, Some("trust me")).is_err());
        assert!(check(State::Affected, Some("code_not_present")).is_err());
        assert!(check(State::Fixed, None).is_ok());
        assert!(State::Fixed.resolved() && !State::Affected.resolved());
    }
}
