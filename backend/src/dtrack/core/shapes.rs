//! Dependency-Track's JSON shapes (its field names, its enums), built from
//! Cairn's facts. Only what DT clients read is filled; everything else DT
//! would send is left out rather than invented.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::derived_uuid;
use crate::vulnerabilities::core::purl::Purl;
use crate::vulnerabilities::core::severity::Severity;
use crate::vulnerabilities::core::triage::State;

/// DT's severities, exactly these six strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DtSeverity {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Unassigned,
}

impl DtSeverity {
    /// Cairn has no "info": a vulnerability without a score or rating is
    /// `UNASSIGNED`, as in DT.
    pub fn of(s: Severity) -> DtSeverity {
        match s {
            Severity::Critical => DtSeverity::Critical,
            Severity::High => DtSeverity::High,
            Severity::Medium => DtSeverity::Medium,
            Severity::Low => DtSeverity::Low,
            Severity::Unknown => DtSeverity::Unassigned,
        }
    }

    /// DT's `severityRank`: 0 for critical … 5 for unassigned.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// DT's analysis states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnalysisState {
    NotSet,
    Exploitable,
    InTriage,
    Resolved,
    FalsePositive,
    NotAffected,
}

/// Cairn's triage state as DT's analysis: no decision is `NOT_SET`;
/// `affected` is `EXPLOITABLE`, `fixed` `RESOLVED`, `under_investigation`
/// `IN_TRIAGE`. `not_affected`, `fixed` and `false_positive` close a
/// finding in Cairn: in DT terms it is suppressed.
pub fn analysis(state: State, decided: bool) -> DtAnalysis {
    let dt = match state {
        State::InTriage if !decided => AnalysisState::NotSet,
        State::InTriage | State::UnderInvestigation => AnalysisState::InTriage,
        State::Affected => AnalysisState::Exploitable,
        State::NotAffected => AnalysisState::NotAffected,
        State::Fixed => AnalysisState::Resolved,
        State::FalsePositive => AnalysisState::FalsePositive,
    };
    DtAnalysis {
        state: dt,
        is_suppressed: matches!(
            state,
            State::NotAffected | State::Fixed | State::FalsePositive
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtAnalysis {
    pub state: AnalysisState,
    pub is_suppressed: bool,
}

/// A DT project: one Cairn artifact version.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtProject {
    pub uuid: String,
    /// The DT name it was uploaded or looked up with.
    pub name: String,
    pub version: String,
    /// Always `APPLICATION`.
    pub classifier: &'static str,
    pub active: bool,
    pub is_latest: bool,
    /// The last BOM upload, epoch milliseconds; null before the first. It
    /// changes with every upload, even of an identical document.
    pub last_bom_import: Option<i64>,
    /// `CycloneDX <version>` or `SPDX <version>` of the latest SBOM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_bom_import_format: Option<String>,
    pub tags: Vec<DtTag>,
    /// The DT parent, when the upload named one (Cairn's project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<DtParent>,
    /// Where it lives in Cairn (not a DT field).
    pub cairn: CairnRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DtTag {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DtParent {
    pub name: String,
}

/// A DT project's Cairn artifact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CairnRef {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
}

/// What a project object is made of.
pub struct ProjectFacts {
    pub uuid: String,
    pub dt_name: String,
    pub dt_version: String,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub is_latest: bool,
    pub last_bom_import: Option<DateTime<Utc>>,
    pub format: Option<(String, String)>,
    pub cairn: CairnRef,
}

pub fn project(f: ProjectFacts) -> DtProject {
    DtProject {
        uuid: f.uuid,
        name: f.dt_name,
        version: f.dt_version,
        classifier: "APPLICATION",
        active: true,
        is_latest: f.is_latest,
        last_bom_import: f.last_bom_import.map(|t| t.timestamp_millis()),
        last_bom_import_format: f.format.map(|(format, v)| match format.as_str() {
            "cyclonedx" => format!("CycloneDX {v}"),
            _ => format!("SPDX {v}"),
        }),
        tags: f.tags.into_iter().map(|name| DtTag { name }).collect(),
        parent: f.parent.map(|name| DtParent { name }),
        cairn: f.cairn,
    }
}

/// A DT component, as findings and violations name it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DtComponent {
    /// Derived from the purl (or the package's type, name and version):
    /// the same component has the same UUID in every answer.
    pub uuid: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The project's UUID.
    pub project: String,
}

/// A component from its purl: the purl's namespace is DT's `group`.
pub fn component(project: &str, purl: &str, version: &str) -> DtComponent {
    let parsed = Purl::parse(purl);
    let (group, name) = match &parsed {
        Some(p) => (p.namespace.clone(), p.name.clone()),
        None => (None, purl.to_owned()),
    };
    DtComponent {
        uuid: derived_uuid("component", purl),
        name,
        group,
        version: version.to_owned(),
        purl: (!purl.is_empty()).then(|| purl.to_owned()),
        project: project.to_owned(),
    }
}

/// A component without a purl (a scanner's package, or the artifact itself
/// for a rule about it as a whole).
pub fn named_component(project: &str, kind: &str, name: &str, version: &str) -> DtComponent {
    DtComponent {
        uuid: derived_uuid("component", &format!("{kind}\0{name}\0{version}")),
        name: name.to_owned(),
        group: None,
        version: version.to_owned(),
        purl: None,
        project: project.to_owned(),
    }
}

/// DT's vulnerability sources: `NVD` for CVE ids, `GITHUB` for GHSA ids,
/// `OSV` for every other id (GO-, PYSEC-, RUSTSEC-, …).
pub fn source_of(id: &str) -> &'static str {
    if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GITHUB"
    } else {
        "OSV"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtVulnerability {
    pub uuid: String,
    pub vuln_id: String,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub severity: DtSeverity,
    pub severity_rank: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_v3_base_score: Option<f64>,
    /// Other ids, as DT lists them (`cveId`, `ghsaId`, `osvId`).
    pub aliases: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<i64>,
    /// The versions that fix it (not a DT field: DT's `patchedVersions`).
    pub patched_versions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtAttribution {
    /// `INTERNAL_ANALYZER` for Cairn's own OSV match, `TRIVY_ANALYZER` for
    /// a Trivy report, `NONE` for other scanners.
    pub analyzer_identity: &'static str,
    /// When Cairn's evaluation first matched it (epoch ms), null until then.
    pub attributed_on: Option<i64>,
}

/// One finding in DT's shape.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DtFinding {
    pub component: DtComponent,
    pub vulnerability: DtVulnerability,
    pub analysis: DtAnalysis,
    pub attribution: DtAttribution,
    /// `<project uuid>:<component uuid>:<vulnerability uuid>`.
    pub matrix: String,
}

/// What a finding is made of (Cairn's `Finding`, without the service).
pub struct FindingFacts<'a> {
    pub id: &'a str,
    pub aliases: &'a [String],
    pub summary: Option<&'a str>,
    pub purl: &'a str,
    /// A scanner's package without a purl: type, name, version.
    pub package: Option<(&'a str, &'a str, &'a str)>,
    pub version: &'a str,
    pub fixed_versions: &'a [String],
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub state: State,
    pub decided: bool,
    pub sources: &'a [String],
    pub published: Option<DateTime<Utc>>,
    pub first_seen: Option<DateTime<Utc>>,
}

pub fn finding(project: &str, f: &FindingFacts) -> DtFinding {
    let component = match (f.purl.is_empty(), f.package) {
        (true, Some((kind, name, version))) => named_component(project, kind, name, version),
        _ => component(project, f.purl, f.version),
    };
    let severity = DtSeverity::of(f.severity);
    let aliases = f
        .aliases
        .iter()
        .map(|a| {
            let key = match source_of(a) {
                "NVD" => "cveId",
                "GITHUB" => "ghsaId",
                _ => "osvId",
            };
            serde_json::json!({ key: a })
        })
        .collect();
    let vulnerability = DtVulnerability {
        uuid: derived_uuid("vulnerability", f.id),
        vuln_id: f.id.to_owned(),
        source: source_of(f.id),
        title: f.summary.map(str::to_owned),
        severity,
        severity_rank: severity.rank(),
        cvss_v3_base_score: f.cvss_score,
        aliases,
        published: f.published.map(|t| t.timestamp_millis()),
        patched_versions: f.fixed_versions.join(", "),
    };
    let analyzer = if f.sources.iter().any(|s| s == "osv") {
        "INTERNAL_ANALYZER"
    } else if f.sources.iter().any(|s| s == "trivy") {
        "TRIVY_ANALYZER"
    } else {
        "NONE"
    };
    DtFinding {
        matrix: format!("{project}:{}:{}", component.uuid, vulnerability.uuid),
        component,
        vulnerability,
        analysis: analysis(f.state, f.decided),
        attribution: DtAttribution {
            analyzer_identity: analyzer,
            attributed_on: f.first_seen.map(|t| t.timestamp_millis()),
        },
    }
}

/// DT's violation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ViolationType {
    Security,
    License,
    Operational,
}

/// A rule about vulnerabilities is `SECURITY`, one about licences
/// `LICENSE`, any other `OPERATIONAL`.
pub fn violation_type(rule: &str) -> ViolationType {
    let r = rule.to_ascii_lowercase();
    if r.contains("vuln") || r.contains("kev") || r.contains("cve") || r.contains("severity") {
        ViolationType::Security
    } else if r.contains("licen") {
        ViolationType::License
    } else {
        ViolationType::Operational
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtPolicy {
    pub uuid: String,
    /// The Cairn policy set's name.
    pub name: String,
    /// `FAIL` for a rule of an enforcing set (or one that errored), `WARN`
    /// for a warning set's.
    pub violation_state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DtPolicyCondition {
    pub uuid: String,
    /// The Cairn rule id (DT's subject is an enum; Cairn's rules are not).
    pub subject: String,
    pub operator: &'static str,
    pub value: String,
    pub policy: DtPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtProjectRef {
    pub uuid: String,
    pub name: String,
    pub version: String,
}

/// A failing rule as a DT policy violation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DtViolation {
    pub uuid: String,
    #[serde(rename = "type")]
    pub kind: ViolationType,
    pub project: DtProjectRef,
    pub component: DtComponent,
    pub policy_condition: DtPolicyCondition,
    /// When the rule was evaluated, epoch ms.
    pub timestamp: i64,
    pub text: String,
}

/// What a violation is made of: one failing rule of a set's latest
/// evaluation, and one of its violations (or none, when the rule listed
/// none).
pub struct ViolationFacts<'a> {
    pub project: &'a DtProjectRef,
    /// The artifact's name: the component of a violation that names no
    /// purl.
    pub artifact: &'a str,
    pub policy_set: &'a str,
    pub rule: &'a str,
    /// `fail`, `error` or `warn`.
    pub effective: &'a str,
    pub rule_message: &'a str,
    pub key: Option<&'a str>,
    pub message: Option<&'a str>,
    pub evaluated_at: DateTime<Utc>,
}

pub fn violation(f: &ViolationFacts) -> DtViolation {
    let project = &f.project.uuid;
    let component = match f.key {
        Some(k) if k.starts_with("pkg:") => {
            let version = Purl::parse(k).and_then(|p| p.version).unwrap_or_default();
            component(project, k, &version)
        }
        _ => named_component(project, "artifact", f.artifact, &f.project.version),
    };
    let text = match f.message {
        Some(m) => format!("{}: {m}", f.rule),
        None => format!("{}: {}", f.rule, f.rule_message),
    };
    let condition = format!("{}\0{}", f.policy_set, f.rule);
    DtViolation {
        uuid: derived_uuid(
            "violation",
            &format!("{project}\0{condition}\0{}", f.key.unwrap_or_default()),
        ),
        kind: violation_type(f.rule),
        project: f.project.clone(),
        component,
        policy_condition: DtPolicyCondition {
            uuid: derived_uuid("condition", &condition),
            subject: f.rule.to_owned(),
            operator: "IS",
            value: f.effective.to_owned(),
            policy: DtPolicy {
                uuid: derived_uuid("policy", f.policy_set),
                name: f.policy_set.to_owned(),
                violation_state: if f.effective == "warn" {
                    "WARN"
                } else {
                    "FAIL"
                },
            },
        },
        timestamp: f.evaluated_at.timestamp_millis(),
        text,
    }
}

/// The rule outcomes that are DT violations: failures, errors (a rule that
/// could not judge denies, as in Cairn's gate) and warnings.
pub fn is_violation(effective: &str) -> bool {
    matches!(effective, "fail" | "error" | "warn")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "3f2a0c1e-9b7d-4e21-a1c3-5d6e7f809a1b";

    fn facts<'a>(
        aliases: &'a [String],
        fixed: &'a [String],
        sources: &'a [String],
    ) -> FindingFacts<'a> {
        FindingFacts {
            id: "GO-2023-1571",
            aliases,
            summary: Some("Denial of service via crafted HTTP/2 stream"),
            purl: "pkg:golang/golang.org/x/net@v0.6.0",
            package: None,
            version: "v0.6.0",
            fixed_versions: fixed,
            severity: Severity::Critical,
            cvss_score: Some(9.8),
            state: State::InTriage,
            decided: false,
            sources,
            published: None,
            first_seen: Some(DateTime::from_timestamp_millis(1_700_000_000_123).unwrap()),
        }
    }

    #[test]
    fn severities_are_dts_six() {
        let all = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Unknown,
        ]
        .map(|s| serde_json::to_value(DtSeverity::of(s)).unwrap());
        assert_eq!(
            all.to_vec(),
            vec![
                json!("CRITICAL"),
                json!("HIGH"),
                json!("MEDIUM"),
                json!("LOW"),
                json!("UNASSIGNED")
            ]
        );
        assert_eq!(
            serde_json::to_value(DtSeverity::Info).unwrap(),
            json!("INFO")
        );
        assert_eq!(
            (DtSeverity::Critical.rank(), DtSeverity::Unassigned.rank()),
            (0, 5)
        );
    }

    #[test]
    fn triage_is_dts_analysis() {
        let a = |s, d| serde_json::to_value(analysis(s, d)).unwrap();
        assert_eq!(
            a(State::InTriage, false),
            json!({"state": "NOT_SET", "isSuppressed": false})
        );
        assert_eq!(a(State::UnderInvestigation, true)["state"], "IN_TRIAGE");
        assert_eq!(
            a(State::Affected, true),
            json!({"state": "EXPLOITABLE", "isSuppressed": false})
        );
        assert_eq!(
            a(State::NotAffected, true),
            json!({"state": "NOT_AFFECTED", "isSuppressed": true})
        );
        assert_eq!(
            a(State::Fixed, true),
            json!({"state": "RESOLVED", "isSuppressed": true})
        );
        assert_eq!(a(State::FalsePositive, true)["isSuppressed"], true);
    }

    #[test]
    fn a_finding_in_dt_field_names() {
        let aliases = [
            "CVE-2022-41723".to_string(),
            "GHSA-vvpx-j8f3-3w6h".to_string(),
        ];
        let fixed = ["v0.7.0".to_string()];
        let sources = ["osv".to_string()];
        let f = serde_json::to_value(finding(P, &facts(&aliases, &fixed, &sources))).unwrap();
        assert_eq!(f["component"]["name"], "net");
        assert_eq!(f["component"]["group"], "golang.org/x");
        assert_eq!(f["component"]["version"], "v0.6.0");
        assert_eq!(f["component"]["purl"], "pkg:golang/golang.org/x/net@v0.6.0");
        assert_eq!(f["component"]["project"], P);
        assert_eq!(f["vulnerability"]["vulnId"], "GO-2023-1571");
        assert_eq!(f["vulnerability"]["source"], "OSV");
        assert_eq!(f["vulnerability"]["severity"], "CRITICAL");
        assert_eq!(f["vulnerability"]["severityRank"], 0);
        assert_eq!(f["vulnerability"]["cvssV3BaseScore"], 9.8);
        assert_eq!(
            f["vulnerability"]["aliases"],
            json!([{"cveId": "CVE-2022-41723"}, {"ghsaId": "GHSA-vvpx-j8f3-3w6h"}])
        );
        assert_eq!(
            f["analysis"],
            json!({"state": "NOT_SET", "isSuppressed": false})
        );
        assert_eq!(
            f["attribution"],
            json!({"analyzerIdentity": "INTERNAL_ANALYZER", "attributedOn": 1_700_000_000_123i64})
        );
        let matrix = f["matrix"].as_str().unwrap();
        assert_eq!(
            matrix,
            format!(
                "{P}:{}:{}",
                f["component"]["uuid"].as_str().unwrap(),
                f["vulnerability"]["uuid"].as_str().unwrap()
            )
        );
        // A scanner's package without a purl is named by type, name, version.
        let mut no_purl = facts(&aliases, &fixed, &sources);
        no_purl.purl = "";
        no_purl.package = Some(("java-archive", "log4j-core", "2.14.1"));
        let f = serde_json::to_value(finding(P, &no_purl)).unwrap();
        assert_eq!(f["component"]["name"], "log4j-core");
        assert!(f["component"].get("purl").is_none());
        assert_eq!(source_of("CVE-2021-44228"), "NVD");
        assert_eq!(source_of("GHSA-jfh8-c2jp-5v3q"), "GITHUB");
    }

    #[test]
    fn a_failing_rule_as_a_violation() {
        let project = DtProjectRef {
            uuid: P.into(),
            name: "svc".into(),
            version: "1.0".into(),
        };
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let v = |rule, effective, key| {
            serde_json::to_value(violation(&ViolationFacts {
                project: &project,
                artifact: "svc",
                policy_set: "production",
                rule,
                effective,
                rule_message: "1 component has a denied licence",
                key,
                message: key.map(|_| "GPL-3.0-only is denied"),
                evaluated_at: at,
            }))
            .unwrap()
        };
        let lic = v("license-deny", "fail", Some("pkg:npm/left-pad@1.3.0"));
        assert_eq!(lic["type"], "LICENSE");
        assert_eq!(lic["component"]["name"], "left-pad");
        assert_eq!(lic["component"]["version"], "1.3.0");
        assert_eq!(lic["text"], "license-deny: GPL-3.0-only is denied");
        assert_eq!(lic["timestamp"], 1_700_000_000_000i64);
        assert_eq!(lic["policyCondition"]["policy"]["name"], "production");
        assert_eq!(lic["policyCondition"]["policy"]["violationState"], "FAIL");
        assert_eq!(
            lic["project"],
            json!({"uuid": P, "name": "svc", "version": "1.0"})
        );
        let signed = v("signed", "warn", None);
        assert_eq!(signed["type"], "OPERATIONAL");
        assert_eq!(signed["component"]["name"], "svc");
        assert_eq!(
            signed["policyCondition"]["policy"]["violationState"],
            "WARN"
        );
        assert_eq!(v("no-critical-vulns", "fail", None)["type"], "SECURITY");
        assert_ne!(lic["uuid"], signed["uuid"]);
        assert!(is_violation("fail") && is_violation("error") && is_violation("warn"));
        assert!(
            !is_violation("pass") && !is_violation("waived") && !is_violation("not-applicable")
        );
    }
}
