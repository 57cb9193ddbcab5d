//! Draft reports: for each stage, the fields Art. 14 asks for, filled from
//! what Cairn holds about the case (the service gathers the facts).
//!
//! - Early warning (14(2)(a), 14(4)(a)): the product, the member states it
//!   is made available in, when the manufacturer became aware; for an
//!   incident, whether it is suspected to be unlawful or malicious.
//! - Notification (14(2)(b), 14(4)(b)): also general information about the
//!   product, the nature of the exploit and of the vulnerability, corrective
//!   or mitigating measures taken and those users can take, and how
//!   sensitive the manufacturer considers the information.
//! - Final report (14(2)(c), 14(4)(c)): also the vulnerability's
//!   description with its severity and impact, what is known of the
//!   malicious actor, and the security update or other corrective measure.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::clock::{Kind, Stage};

/// An artifact version of the product that ships the vulnerable component.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraAffectedVersion)]
pub struct AffectedVersion {
    pub artifact_id: i64,
    pub artifact: String,
    pub version: String,
    pub digest: Option<String>,
    /// The vulnerable components of its latest SBOM.
    pub components: Vec<AffectedComponent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraAffectedComponent)]
pub struct AffectedComponent {
    pub purl: String,
    pub version: String,
    /// Versions that fix it (empty: no fix known).
    pub fixed_versions: Vec<String>,
}

/// The vulnerability as the imported advisories describe it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraVulnerabilityFacts)]
pub struct VulnerabilityFacts {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// `critical` … `low`, or `unknown` when no advisory scores it.
    pub severity: String,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    pub advisories: Vec<String>,
}

/// What the CISA KEV catalog says about the exploitation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraKevFacts)]
pub struct KevFacts {
    pub cve_id: String,
    pub name: String,
    pub vendor_project: String,
    pub product: String,
    pub date_added: NaiveDate,
    pub short_description: Option<String>,
    pub notes: Option<String>,
    /// `Known` or `Unknown`.
    pub known_ransomware_campaign_use: Option<String>,
    pub required_action: Option<String>,
    pub cwes: Vec<String>,
}

/// The corrective or mitigating measure recorded for the case.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraCorrectiveMeasure)]
pub struct CorrectiveMeasure {
    pub description: String,
    pub available_at: DateTime<Utc>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// Everything a draft is filled from.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub case_id: i64,
    pub kind: Kind,
    pub project: String,
    pub member_states: Vec<String>,
    pub support_period_end: Option<NaiveDate>,
    pub aware_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// A severe incident's description.
    pub title: Option<String>,
    pub vulnerability: Option<VulnerabilityFacts>,
    pub kev: Option<KevFacts>,
    /// Who marked it exploited: `kev`, or a token's name.
    pub opened_by: String,
    pub affected: Vec<AffectedVersion>,
    pub corrective_measure: Option<CorrectiveMeasure>,
}

/// The product, as every stage names it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraReportProduct)]
pub struct Product {
    /// The Cairn project that is the product.
    pub name: String,
    /// Member states where it is made available (ISO 3166-1 alpha-2).
    pub member_states: Vec<String>,
    pub support_period_end: Option<NaiveDate>,
    /// The released versions that ship the vulnerable component.
    pub affected_versions: Vec<AffectedVersion>,
}

/// How the exploit is known, and what is known of it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraExploit)]
pub struct Exploit {
    /// `cisa-kev` or `manufacturer`.
    pub source: String,
    /// The catalog's description, name and notes (empty when not in KEV).
    pub nature: String,
    pub kev: Option<KevFacts>,
}

/// A draft report for one stage. Fields the stage does not ask for are
/// left out.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CraDraftReport)]
pub struct Draft {
    pub case_id: i64,
    pub kind: Kind,
    pub stage: Stage,
    /// What Art. 14 paragraph this stage answers.
    pub article: &'static str,
    pub generated_at: DateTime<Utc>,
    /// When this report is due (null for a final report whose clock has not
    /// started).
    pub deadline: Option<DateTime<Utc>>,
    pub aware_at: DateTime<Utc>,
    pub product: Product,
    /// A severe incident's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// Incidents, early warning: whether it is suspected to be caused by
    /// unlawful or malicious acts (for the manufacturer to state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspected_malicious: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<VulnerabilityFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploit: Option<Exploit>,
    /// Corrective or mitigating measures taken (null when none is recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrective_measures: Option<Option<CorrectiveMeasure>>,
    /// What users can do: upgrades to fixed versions, KEV's required action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_measures: Option<Vec<String>>,
    /// How sensitive the manufacturer considers the information: for them
    /// to assess (Cairn cannot know); the draft says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<String>,
    /// Final report: what is known of the malicious actor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malicious_actor: Option<String>,
    /// Fields a person must still fill in before submitting.
    pub to_complete: Vec<String>,
}

const TO_ASSESS: &str = "to be assessed by the manufacturer";

/// The draft of `stage` from `facts`, as of `now`.
pub fn draft(stage: Stage, facts: &Facts, now: DateTime<Utc>) -> Draft {
    let incident = facts.kind == Kind::SevereIncident;
    let article = match (facts.kind, stage) {
        (Kind::ExploitedVulnerability, Stage::EarlyWarning) => "Art. 14(2)(a)",
        (Kind::ExploitedVulnerability, Stage::Notification) => "Art. 14(2)(b)",
        (Kind::ExploitedVulnerability, Stage::FinalReport) => "Art. 14(2)(c)",
        (Kind::SevereIncident, Stage::EarlyWarning) => "Art. 14(4)(a)",
        (Kind::SevereIncident, Stage::Notification) => "Art. 14(4)(b)",
        (Kind::SevereIncident, Stage::FinalReport) => "Art. 14(4)(c)",
    };
    let later = stage >= Stage::Notification;
    let mut to_complete = Vec::new();
    if facts.member_states.is_empty() {
        to_complete.push("product.member_states".to_string());
    }
    let exploit = later.then(|| Exploit {
        source: if facts.kev.is_some() && facts.opened_by == "kev" {
            "cisa-kev"
        } else {
            "manufacturer"
        }
        .to_string(),
        nature: nature(facts),
        kev: facts.kev.clone(),
    });
    if exploit.as_ref().is_some_and(|e| e.nature.is_empty()) {
        to_complete.push("exploit.nature".into());
    }
    let corrective_measures = later.then(|| facts.corrective_measure.clone());
    if later && facts.corrective_measure.is_none() {
        to_complete.push("corrective_measures".into());
    }
    let sensitivity = later.then(|| TO_ASSESS.to_string());
    if later {
        to_complete.push("sensitivity".into());
    }
    let suspected_malicious = (incident && stage == Stage::EarlyWarning).then(|| {
        to_complete.push("suspected_malicious".into());
        TO_ASSESS.to_string()
    });
    let malicious_actor = (stage == Stage::FinalReport).then(|| {
        let ransomware = facts
            .kev
            .as_ref()
            .and_then(|k| k.known_ransomware_campaign_use.as_deref())
            .filter(|r| r.eq_ignore_ascii_case("known"));
        match ransomware {
            Some(_) => "CISA KEV: known to be used in ransomware campaigns".to_string(),
            None => {
                to_complete.push("malicious_actor".into());
                TO_ASSESS.to_string()
            }
        }
    });
    Draft {
        case_id: facts.case_id,
        kind: facts.kind,
        stage,
        article,
        generated_at: now,
        deadline: facts.deadline,
        aware_at: facts.aware_at,
        product: Product {
            name: facts.project.clone(),
            member_states: facts.member_states.clone(),
            support_period_end: facts.support_period_end,
            affected_versions: facts.affected.clone(),
        },
        incident: facts.title.clone(),
        suspected_malicious,
        vulnerability: later.then(|| facts.vulnerability.clone()).flatten(),
        exploit,
        corrective_measures,
        user_measures: later.then(|| user_measures(facts)),
        sensitivity,
        malicious_actor,
        to_complete,
    }
}

/// The exploit as KEV describes it: name, description, notes.
fn nature(facts: &Facts) -> String {
    let Some(k) = &facts.kev else {
        return String::new();
    };
    let mut parts = vec![k.name.clone()];
    parts.extend(k.short_description.clone());
    if !k.cwes.is_empty() {
        parts.push(format!("Weakness: {}.", k.cwes.join(", ")));
    }
    if let Some(n) = k.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        parts.push(format!("Notes: {n}"));
    }
    parts.retain(|p| !p.trim().is_empty());
    parts.join(" ")
}

/// What users can do: upgrade each vulnerable component to a fixed version
/// (per affected artifact version), and KEV's required action.
fn user_measures(facts: &Facts) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in &facts.affected {
        for c in &a.components {
            let line = if c.fixed_versions.is_empty() {
                format!(
                    "{} {}: no fixed version of {} is known; apply the corrective measure",
                    a.artifact, a.version, c.purl
                )
            } else {
                format!(
                    "{} {}: upgrade {} to {} or later",
                    a.artifact,
                    a.version,
                    c.purl,
                    c.fixed_versions.join(" / ")
                )
            };
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    if let Some(action) = facts.kev.as_ref().and_then(|k| k.required_action.clone()) {
        out.push(format!("CISA KEV required action: {action}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn facts() -> Facts {
        Facts {
            case_id: 3,
            kind: Kind::ExploitedVulnerability,
            project: "acme/svc".into(),
            member_states: vec!["DE".into(), "FR".into()],
            support_period_end: None,
            aware_at: t("2026-09-11T10:00:00Z"),
            deadline: Some(t("2026-09-12T10:00:00Z")),
            title: None,
            vulnerability: Some(VulnerabilityFacts {
                id: "GO-2025-3459".into(),
                aliases: vec!["CVE-2025-24016".into()],
                summary: Some("Remote code execution in Wazuh server".into()),
                details: None,
                severity: "unknown".into(),
                cvss_score: None,
                cvss_vector: None,
                advisories: vec!["GO-2025-3459".into()],
            }),
            kev: Some(KevFacts {
                cve_id: "CVE-2025-24016".into(),
                name: "Wazuh Server Deserialization of Untrusted Data Vulnerability".into(),
                vendor_project: "Wazuh".into(),
                product: "Wazuh Server".into(),
                date_added: NaiveDate::from_ymd_opt(2025, 6, 10).unwrap(),
                short_description: Some("Wazuh contains a deserialization flaw.".into()),
                notes: Some("https://example.org/advisory".into()),
                known_ransomware_campaign_use: Some("Unknown".into()),
                required_action: Some("Apply mitigations per vendor instructions.".into()),
                cwes: vec!["CWE-502".into()],
            }),
            opened_by: "kev".into(),
            affected: vec![AffectedVersion {
                artifact_id: 1,
                artifact: "api".into(),
                version: "1.0.0".into(),
                digest: None,
                components: vec![AffectedComponent {
                    purl: "pkg:golang/github.com/wazuh/wazuh@v4.9.0".into(),
                    version: "v4.9.0".into(),
                    fixed_versions: vec!["4.9.1+incompatible".into()],
                }],
            }],
            corrective_measure: None,
        }
    }

    #[test]
    fn the_early_warning_is_short() {
        let d = draft(Stage::EarlyWarning, &facts(), t("2026-09-11T11:00:00Z"));
        assert_eq!(d.article, "Art. 14(2)(a)");
        assert_eq!(d.product.member_states, ["DE", "FR"]);
        assert_eq!(d.product.affected_versions.len(), 1);
        assert!(d.vulnerability.is_none() && d.exploit.is_none() && d.sensitivity.is_none());
        assert!(d.to_complete.is_empty(), "{:?}", d.to_complete);
        let json = serde_json::to_value(&d).unwrap();
        assert!(json.get("exploit").is_none(), "{json}");
    }

    #[test]
    fn the_notification_says_what_users_can_do() {
        let d = draft(Stage::Notification, &facts(), t("2026-09-11T11:00:00Z"));
        let e = d.exploit.as_ref().unwrap();
        assert_eq!(e.source, "cisa-kev");
        assert!(e.nature.starts_with("Wazuh Server Deserialization"));
        assert!(e.nature.contains("CWE-502") && e.nature.contains("example.org"));
        assert_eq!(
            d.user_measures.as_deref().unwrap(),
            [
                "api 1.0.0: upgrade pkg:golang/github.com/wazuh/wazuh@v4.9.0 to 4.9.1+incompatible or later",
                "CISA KEV required action: Apply mitigations per vendor instructions."
            ]
        );
        assert_eq!(d.corrective_measures, Some(None));
        assert_eq!(d.to_complete, ["corrective_measures", "sensitivity"]);
        assert_eq!(d.vulnerability.as_ref().unwrap().id, "GO-2025-3459");
    }

    #[test]
    fn the_final_report_and_incidents() {
        let mut f = facts();
        f.corrective_measure = Some(CorrectiveMeasure {
            description: "Released 1.0.1 with wazuh 4.9.1".into(),
            available_at: t("2026-09-13T00:00:00Z"),
            recorded_by: "alice".into(),
            recorded_at: t("2026-09-13T01:00:00Z"),
        });
        let d = draft(Stage::FinalReport, &f, t("2026-09-14T00:00:00Z"));
        assert_eq!(d.article, "Art. 14(2)(c)");
        assert!(d.corrective_measures.unwrap().is_some());
        assert_eq!(d.to_complete, ["sensitivity", "malicious_actor"]);
        let incident = Facts {
            kind: Kind::SevereIncident,
            title: Some("Build server compromised".into()),
            vulnerability: None,
            kev: None,
            opened_by: "alice".into(),
            member_states: vec![],
            ..facts()
        };
        let d = draft(Stage::EarlyWarning, &incident, t("2026-09-11T11:00:00Z"));
        assert_eq!(d.article, "Art. 14(4)(a)");
        assert_eq!(d.incident.as_deref(), Some("Build server compromised"));
        assert_eq!(
            d.to_complete,
            ["product.member_states", "suspected_malicious"]
        );
        let d = draft(Stage::Notification, &incident, t("2026-09-11T11:00:00Z"));
        assert_eq!(d.exploit.unwrap().source, "manufacturer");
    }
}
