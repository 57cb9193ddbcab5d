//! What is notified, and which subscriptions an event matches.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vulnerabilities::core::severity::Severity;

/// The kind of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[schema(as = NotificationEvent)]
pub enum EventKind {
    /// A finding appeared (or reappeared) on an artifact, not triaged away.
    #[serde(rename = "finding.appeared")]
    FindingAppeared,
    /// An enforce-mode policy set's verdict on an artifact flipped to deny.
    #[serde(rename = "gate.denied")]
    GateDenied,
    /// Sent on request to check a subscription (`POST …/test`).
    #[serde(rename = "test")]
    Test,
    /// A CRA reporting case opened (an exploited vulnerability of a CRA
    /// product, or a case opened by hand).
    #[serde(rename = "cra.case_opened")]
    CraCaseOpened,
    /// A CRA report is due within six hours (or overdue), not yet submitted.
    #[serde(rename = "cra.deadline_approaching")]
    CraDeadlineApproaching,
}

impl EventKind {
    /// The kinds a subscription may ask for.
    pub const SUBSCRIBABLE: [EventKind; 4] = [
        EventKind::FindingAppeared,
        EventKind::GateDenied,
        EventKind::CraCaseOpened,
        EventKind::CraDeadlineApproaching,
    ];
    /// What a subscription that names no events gets.
    pub const DEFAULT: [EventKind; 2] = [EventKind::FindingAppeared, EventKind::GateDenied];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FindingAppeared => "finding.appeared",
            EventKind::GateDenied => "gate.denied",
            EventKind::Test => "test",
            EventKind::CraCaseOpened => "cra.case_opened",
            EventKind::CraDeadlineApproaching => "cra.deadline_approaching",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "finding.appeared" => EventKind::FindingAppeared,
            "gate.denied" => EventKind::GateDenied,
            "test" => EventKind::Test,
            "cra.case_opened" => EventKind::CraCaseOpened,
            "cra.deadline_approaching" => EventKind::CraDeadlineApproaching,
            _ => return None,
        })
    }
}

/// How a subscription's payloads are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationFormat)]
pub enum Format {
    /// `{"event", "id", "occurred_at", "data"}`.
    #[default]
    Generic,
    /// A Slack incoming-webhook message: `{"text", "blocks"}`.
    Slack,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Generic => "generic",
            Format::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "generic" => Some(Format::Generic),
            "slack" => Some(Format::Slack),
            _ => None,
        }
    }
}

/// The artifact an event is about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subject {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
    pub digest: Option<String>,
}

/// A finding that appeared on an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FindingEvent {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
    /// The vulnerability's id (the ecosystem's own database first).
    pub vulnerability: String,
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The component's purl, as in the SBOM.
    pub purl: String,
    /// The component version that matched.
    pub component_version: String,
    pub severity: Severity,
    /// Listed in CISA KEV.
    pub kev: bool,
    pub fixed_versions: Vec<String>,
    /// Triage state (`in_triage`, `affected`, `under_investigation`).
    pub state: String,
}

/// A failing rule of a denying verdict.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FailingRule {
    pub rule: String,
    /// `fail` or `error`.
    pub effective: String,
    pub message: String,
}

/// An enforce-mode set's verdict that flipped to deny.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateDenied {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub policy_set: String,
    pub policy_set_version: i32,
    /// What the previous verdict was: `allow`, or null for the first.
    pub previous: Option<String>,
    pub failing_rules: Vec<FailingRule>,
}

/// A test event for one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TestEvent {
    pub subscription_id: i64,
    pub subscription: String,
    pub message: String,
}

/// A CRA reporting case that opened.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CraCaseOpened {
    pub case_id: i64,
    pub project: String,
    /// `exploited_vulnerability` or `severe_incident`.
    pub kind: String,
    pub vulnerability: Option<String>,
    pub aliases: Vec<String>,
    pub aware_at: chrono::DateTime<chrono::Utc>,
    pub early_warning_due: chrono::DateTime<chrono::Utc>,
    pub notification_due: chrono::DateTime<chrono::Utc>,
}

/// A CRA report due soon (or overdue) and not submitted.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CraDeadlineApproaching {
    pub case_id: i64,
    pub project: String,
    pub kind: String,
    pub vulnerability: Option<String>,
    /// `early_warning`, `notification` or `final_report`.
    pub stage: String,
    pub due_at: chrono::DateTime<chrono::Utc>,
    /// "5 h 59 min left", "overdue by 2 h 0 min".
    pub countdown: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Finding(FindingEvent),
    GateDenied(GateDenied),
    Test(TestEvent),
    CraCaseOpened(CraCaseOpened),
    CraDeadlineApproaching(CraDeadlineApproaching),
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Finding(_) => EventKind::FindingAppeared,
            Event::GateDenied(_) => EventKind::GateDenied,
            Event::Test(_) => EventKind::Test,
            Event::CraCaseOpened(_) => EventKind::CraCaseOpened,
            Event::CraDeadlineApproaching(_) => EventKind::CraDeadlineApproaching,
        }
    }

    /// The project it is about (none for a test).
    pub fn project(&self) -> Option<&str> {
        match self {
            Event::Finding(f) => Some(&f.project),
            Event::GateDenied(g) => Some(&g.project),
            Event::Test(_) => None,
            Event::CraCaseOpened(c) => Some(&c.project),
            Event::CraDeadlineApproaching(c) => Some(&c.project),
        }
    }

    /// The event's `data`.
    pub fn data(&self) -> serde_json::Value {
        match self {
            Event::Finding(f) => serde_json::to_value(f),
            Event::GateDenied(g) => serde_json::to_value(g),
            Event::Test(t) => serde_json::to_value(t),
            Event::CraCaseOpened(c) => serde_json::to_value(c),
            Event::CraDeadlineApproaching(c) => serde_json::to_value(c),
        }
        .expect("events serialise")
    }
}

/// What a subscription asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub enabled: bool,
    pub events: Vec<EventKind>,
    /// Findings of at least this severity notify (`unknown` is lowest).
    pub min_severity: Severity,
    /// KEV findings notify whatever their severity.
    pub kev: bool,
    /// Only events of this project (exact name); none: every project.
    pub project: Option<String>,
}

impl Filter {
    /// Whether the event is to be sent to this subscription. A test event
    /// is addressed to one subscription and never matched.
    pub fn matches(&self, event: &Event) -> bool {
        if !self.enabled || !self.events.contains(&event.kind()) {
            return false;
        }
        if let (Some(want), Some(project)) = (&self.project, event.project()) {
            if want != project {
                return false;
            }
        }
        match event {
            Event::Finding(f) => (self.kev && f.kev) || f.severity >= self.min_severity,
            Event::GateDenied(_) | Event::CraCaseOpened(_) | Event::CraDeadlineApproaching(_) => {
                true
            }
            Event::Test(_) => false,
        }
    }
}

/// Triage states that take a finding out of notifications: it was decided
/// not to matter.
pub fn triaged_away(state: &str) -> bool {
    matches!(state, "not_affected" | "false_positive" | "fixed")
}

/// Whether a verdict is a flip to deny: an enforce-mode deny whose previous
/// verdict (of the same artifact × set) was not deny, or that is the first.
pub fn flips_to_deny(mode: &str, decision: &str, previous: Option<&str>) -> bool {
    mode == "enforce" && decision == "deny" && previous != Some("deny")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn finding(severity: Severity, kev: bool) -> FindingEvent {
        FindingEvent {
            artifact_id: 7,
            project: "acme/svc".into(),
            artifact: "api".into(),
            version: "1.0.0".into(),
            vulnerability: "GO-2099-0100".into(),
            aliases: vec!["CVE-2099-0100".into()],
            summary: Some("Bad <things> & worse".into()),
            purl: "pkg:golang/example.com/q@v1.4.0".into(),
            component_version: "v1.4.0".into(),
            severity,
            kev,
            fixed_versions: vec!["1.5.0".into()],
            state: "in_triage".into(),
        }
    }

    pub fn denied() -> GateDenied {
        GateDenied {
            artifact_id: 7,
            project: "acme/svc".into(),
            artifact: "api".into(),
            version: "1.0.0".into(),
            digest: Some(format!("sha256:{}", "ab".repeat(32))),
            policy_set: "prod".into(),
            policy_set_version: 3,
            previous: Some("allow".into()),
            failing_rules: vec![FailingRule {
                rule: "vulnerabilities".into(),
                effective: "fail".into(),
                message: "GO-2099-0100 is critical".into(),
            }],
        }
    }

    fn filter() -> Filter {
        Filter {
            enabled: true,
            events: vec![EventKind::FindingAppeared],
            min_severity: Severity::High,
            kev: true,
            project: None,
        }
    }

    #[test]
    fn findings_match_by_severity_or_kev() {
        let f = filter();
        let ev = |s, k| Event::Finding(finding(s, k));
        assert!(f.matches(&ev(Severity::High, false)));
        assert!(f.matches(&ev(Severity::Critical, false)));
        assert!(!f.matches(&ev(Severity::Medium, false)));
        assert!(!f.matches(&ev(Severity::Unknown, false)));
        assert!(f.matches(&ev(Severity::Low, true)), "KEV always notifies");
        let no_kev = Filter {
            kev: false,
            ..f.clone()
        };
        assert!(!no_kev.matches(&ev(Severity::Low, true)));
        let everything = Filter {
            min_severity: Severity::Unknown,
            ..f.clone()
        };
        assert!(everything.matches(&ev(Severity::Unknown, false)));
    }

    #[test]
    fn events_projects_and_enabled_filter() {
        let f = filter();
        assert!(!f.matches(&Event::GateDenied(denied())), "not subscribed");
        let gate = Filter {
            events: vec![EventKind::GateDenied],
            ..f.clone()
        };
        assert!(gate.matches(&Event::GateDenied(denied())));
        assert!(!gate.matches(&Event::Finding(finding(Severity::Critical, true))));
        let other = Filter {
            project: Some("acme/other".into()),
            ..f.clone()
        };
        assert!(!other.matches(&Event::Finding(finding(Severity::Critical, true))));
        let same = Filter {
            project: Some("acme/svc".into()),
            ..f.clone()
        };
        assert!(same.matches(&Event::Finding(finding(Severity::Critical, true))));
        let off = Filter {
            enabled: false,
            ..f.clone()
        };
        assert!(!off.matches(&Event::Finding(finding(Severity::Critical, true))));
        let test = Event::Test(TestEvent {
            subscription_id: 1,
            subscription: "x".into(),
            message: "hi".into(),
        });
        let all = Filter {
            events: vec![
                EventKind::FindingAppeared,
                EventKind::GateDenied,
                EventKind::Test,
            ],
            ..f
        };
        assert!(!all.matches(&test), "tests are addressed, not matched");
    }

    #[test]
    fn flips_and_triage() {
        assert!(flips_to_deny("enforce", "deny", None));
        assert!(flips_to_deny("enforce", "deny", Some("allow")));
        assert!(!flips_to_deny("enforce", "deny", Some("deny")));
        assert!(!flips_to_deny("warn", "deny", Some("allow")));
        assert!(!flips_to_deny("enforce", "allow", Some("deny")));
        for s in ["not_affected", "false_positive", "fixed"] {
            assert!(triaged_away(s));
        }
        for s in ["in_triage", "affected", "under_investigation"] {
            assert!(!triaged_away(s));
        }
    }

    #[test]
    fn kinds_and_formats_round_trip() {
        for k in [
            EventKind::FindingAppeared,
            EventKind::GateDenied,
            EventKind::Test,
            EventKind::CraCaseOpened,
            EventKind::CraDeadlineApproaching,
        ] {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for f in [Format::Generic, Format::Slack] {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(EventKind::parse("nope"), None);
    }
}
