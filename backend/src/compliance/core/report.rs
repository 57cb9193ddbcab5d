//! A framework report and its exports: JSON (the struct itself), CSV and
//! OSCAL 1.1 assessment-results. Pure; the HTML page is an askama template.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::assess::{ControlResult, Status};
use super::framework::Framework;

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ReportScope)]
pub struct Scope {
    /// `release` (one artifact version), `project` (its released versions)
    /// or `portfolio`.
    pub kind: String,
    pub project: Option<String>,
    pub version: Option<String>,
    /// The releases judged, `artifact@version`.
    pub releases: Vec<String>,
    /// Evidence and statements as they stood at this time.
    pub as_of: DateTime<Utc>,
}

/// Controls per status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub satisfied: usize,
    pub not_satisfied: usize,
    pub partial: usize,
    pub not_applicable: usize,
    pub manual: usize,
    /// Satisfied of the controls that apply (manual ones count as not yet).
    pub percent_satisfied: f64,
}

impl Summary {
    pub fn of(controls: &[ControlResult]) -> Self {
        let mut s = Summary::default();
        for c in controls {
            match c.status {
                Status::Satisfied => s.satisfied += 1,
                Status::NotSatisfied => s.not_satisfied += 1,
                Status::Partial => s.partial += 1,
                Status::NotApplicable => s.not_applicable += 1,
                Status::Manual => s.manual += 1,
            }
        }
        let applicable = controls.len() - s.not_applicable;
        s.percent_satisfied = if applicable == 0 {
            0.0
        } else {
            (s.satisfied as f64 * 1000.0 / applicable as f64).round() / 10.0
        };
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// The framework id (`nist-800-53r5`, …).
    pub framework: String,
    pub framework_title: String,
    pub framework_version: String,
    pub scope: Scope,
    pub generated_at: DateTime<Utc>,
    pub summary: Summary,
    pub controls: Vec<ControlResult>,
}

impl Report {
    pub fn new(
        framework: &Framework,
        scope: Scope,
        generated_at: DateTime<Utc>,
        controls: Vec<ControlResult>,
    ) -> Self {
        Report {
            framework: framework.id.clone(),
            framework_title: framework.title.clone(),
            framework_version: framework.version.clone(),
            summary: Summary::of(&controls),
            scope,
            generated_at,
            controls,
        }
    }

    /// One line per control and citation (a control without citations has
    /// one line with the evidence columns empty).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "framework,control,title,status,summary,evidence_kind,evidence_id,evidence_href,evidence_release,evidence_summary\n",
        );
        for c in &self.controls {
            let head = [
                self.framework.as_str(),
                c.id.as_str(),
                c.title.as_str(),
                c.status.as_str(),
                c.summary.as_str(),
            ];
            let mut line = |tail: [String; 5]| {
                let fields = head
                    .iter()
                    .map(|s| csv_field(s))
                    .chain(tail.iter().map(|s| csv_field(s)));
                out.push_str(&fields.collect::<Vec<_>>().join(","));
                out.push('\n');
            };
            if c.evidence.is_empty() {
                line(Default::default());
            }
            for e in &c.evidence {
                line([
                    e.kind.map(kind_str).unwrap_or_default().to_owned(),
                    match &e.id {
                        Some(super::assess::EvidenceId::Row(n)) => n.to_string(),
                        Some(super::assess::EvidenceId::Key(k)) => k.clone(),
                        None => String::new(),
                    },
                    e.href.clone(),
                    e.release.clone().unwrap_or_default(),
                    e.summary.clone(),
                ]);
            }
        }
        out
    }

    /// OSCAL 1.1.2 assessment-results: one result; an observation per
    /// control with its evidence as `relevant-evidence` links; a finding
    /// per control, its target status `satisfied` or `not-satisfied` (OSCAL
    /// knows only those two: partial and manual are not satisfied, with the
    /// Cairn status kept in a property). Not-applicable controls are
    /// reviewed but get no finding. UUIDs are derived from the content, so
    /// the same report gives the same document.
    pub fn to_oscal(&self, instance: &str) -> Value {
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let seed = format!(
            "{}|{}|{}",
            self.framework,
            serde_json::to_string(&self.scope).unwrap_or_default(),
            ts(self.generated_at)
        );
        let mut observations = Vec::new();
        let mut findings = Vec::new();
        for c in &self.controls {
            let obs_uuid = uuid_of(&seed, &format!("observation/{}", c.id));
            let mut evidence: Vec<Value> = c
                .evidence
                .iter()
                .map(|e| {
                    json!({
                        "href": format!("{instance}{}", e.href),
                        "description": format!(
                            "{}{}: {}",
                            e.kind.map(kind_str).unwrap_or("evidence"),
                            e.release.as_deref().map(|r| format!(" of {r}")).unwrap_or_default(),
                            nonempty(&e.summary)
                        ),
                    })
                })
                .collect();
            let mut obs = json!({
                "uuid": obs_uuid,
                "title": format!("{} {}", c.id.to_uppercase(), c.title),
                "description": nonempty(&c.summary),
                "methods": [if c.assessment == super::framework::Assessment::Manual { "EXAMINE" } else { "AUTOMATED" }],
                "collected": ts(self.scope.as_of),
                "props": [
                    {"name": "cairn-status", "ns": "https://cairn.dev/ns/oscal", "value": c.status.as_str()},
                ],
            });
            if !evidence.is_empty() {
                evidence.truncate(super::assess::MAX_EVIDENCE);
                obs["relevant-evidence"] = Value::Array(evidence);
            }
            observations.push(obs);
            if c.status == Status::NotApplicable {
                continue;
            }
            let state = if c.status == Status::Satisfied {
                "satisfied"
            } else {
                "not-satisfied"
            };
            findings.push(json!({
                "uuid": uuid_of(&seed, &format!("finding/{}", c.id)),
                "title": format!("{} {}: {}", c.id.to_uppercase(), c.title, c.status.as_str()),
                "description": nonempty(&c.summary),
                "target": {
                    "type": "objective-id",
                    "target-id": format!("{}_obj", c.id),
                    "status": {"state": state, "reason": c.status.as_str()},
                },
                "related-observations": [{"observation-uuid": obs_uuid}],
            }));
        }
        let scope = match (&self.scope.project, &self.scope.version) {
            (Some(p), Some(v)) => format!("release {v} of project {p}"),
            (Some(p), None) => format!("project {p}"),
            _ => "the portfolio".to_owned(),
        };
        json!({
            "assessment-results": {
                "uuid": uuid_of(&seed, "document"),
                "metadata": {
                    "title": format!("Cairn assessment of {scope} against {}", self.framework_title),
                    "last-modified": ts(self.generated_at),
                    "version": ts(self.generated_at),
                    "oscal-version": "1.1.2",
                },
                "import-ap": {"href": format!("{instance}/api/v1/frameworks/{}", self.framework)},
                "results": [{
                    "uuid": uuid_of(&seed, "result"),
                    "title": format!("{} — {scope}", self.framework_title),
                    "description": format!(
                        "Evidence-backed assessment by Cairn of {} release(s): {}.",
                        self.scope.releases.len(),
                        if self.scope.releases.is_empty() { "none".to_owned() } else { self.scope.releases.join(", ") }
                    ),
                    "start": ts(self.scope.as_of),
                    "reviewed-controls": {
                        "control-selections": [{
                            "include-controls": self.controls.iter()
                                .map(|c| json!({"control-id": c.id}))
                                .collect::<Vec<_>>(),
                        }],
                    },
                    "observations": observations,
                    "findings": findings,
                }],
            }
        })
    }
}

fn nonempty(s: &str) -> &str {
    if s.trim().is_empty() {
        "-"
    } else {
        s
    }
}

impl super::assess::Evidence {
    /// The kind as the JSON writes it.
    pub fn kind_name(&self) -> &'static str {
        self.kind.map(kind_str).unwrap_or("evidence")
    }
}

pub fn kind_str(k: super::assess::EvidenceKind) -> &'static str {
    use super::assess::EvidenceKind as K;
    match k {
        K::Sbom => "sbom",
        K::Attestation => "attestation",
        K::PolicyEvaluation => "policy-evaluation",
        K::Waiver => "waiver",
        K::Vex => "vex",
        K::Finding => "finding",
        K::ControlStatement => "control-statement",
        K::Build => "build",
        K::CiDefinition => "ci-definition",
        K::GoBuild => "go-build",
    }
}

/// RFC 4180: quote a field that holds a comma, quote, or line break; a
/// leading `=`, `+`, `-`, `@` is prefixed with `'` so a spreadsheet never
/// runs it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A version-4-shaped UUID derived from `seed` and `what` (SHA-256), so a
/// report's OSCAL document is reproducible.
fn uuid_of(seed: &str, what: &str) -> String {
    let d = Sha256::digest(format!("{seed}\n{what}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }

    #[test]
    fn uuids_are_stable_and_version_4_shaped() {
        let a = uuid_of("s", "x");
        assert_eq!(a, uuid_of("s", "x"));
        assert_ne!(a, uuid_of("s", "y"));
        let re = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(re.is_match(&a), "{a}");
    }
}
