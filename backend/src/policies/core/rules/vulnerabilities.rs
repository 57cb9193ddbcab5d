//! `vulnerabilities`: no known vulnerability above a severity, none in
//! CISA KEV, unless triaged `not_affected`, `false_positive` or `fixed`
//! (or waived: a violation's key is the vulnerability id, so one waiver
//! covers that vulnerability in every component).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::policies::core::input::VulnerabilityFacts;
use crate::policies::core::{parse_params, violation, BuiltinRule, RuleInput, RuleOutcome, Status};

pub struct Vulnerabilities;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// The highest severity allowed (`low`, `medium`, `high`, `critical`).
    #[serde(default = "medium")]
    max_severity: String,
    /// Any finding in CISA KEV fails, whatever its severity.
    #[serde(default = "yes")]
    kev: bool,
    /// Findings without a known score: `pass`, `warn` or `fail`.
    #[serde(default = "warn")]
    unknown: String,
    /// A finding above the threshold fails only once its vulnerability has
    /// been public this many days (KEV findings fail at once).
    #[serde(default)]
    grace_days: u32,
    /// Only findings with a known fix fail (KEV findings fail regardless).
    #[serde(default)]
    fixable_only: bool,
}

fn medium() -> String {
    "medium".into()
}
fn warn() -> String {
    "warn".into()
}
fn yes() -> bool {
    true
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_severity: medium(),
            kev: true,
            unknown: warn(),
            grace_days: 0,
            fixable_only: false,
        }
    }
}

fn rank(severity: &str) -> Option<u8> {
    ["low", "medium", "high", "critical"]
        .iter()
        .position(|s| *s == severity)
        .map(|p| p as u8)
}

/// Triage states that take a finding off the count.
fn resolved(state: &str) -> bool {
    matches!(state, "not_affected" | "false_positive" | "fixed")
}

fn name(f: &VulnerabilityFacts) -> String {
    match f.aliases.iter().find(|a| a.starts_with("CVE-")) {
        Some(cve) => format!("{} ({cve})", f.id),
        None => f.id.clone(),
    }
}

fn fix_hint(f: &VulnerabilityFacts) -> String {
    if f.fixed_versions.is_empty() {
        "no fixed version is known".into()
    } else {
        format!("fixed in {}", f.fixed_versions.join(", "))
    }
}

impl BuiltinRule for Vulnerabilities {
    fn id(&self) -> &'static str {
        "vulnerabilities"
    }
    fn description(&self) -> &'static str {
        "No known vulnerability above a severity and none in CISA KEV, unless triaged not_affected, false_positive or fixed (or waived per vulnerability id)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "max_severity": {"enum": ["low", "medium", "high", "critical"], "default": "medium"},
                "kev": {"type": "boolean", "default": true},
                "unknown": {"enum": ["pass", "warn", "fail"], "default": "warn"},
                "grace_days": {"type": "integer", "minimum": 0, "maximum": 3650, "default": 0},
                "fixable_only": {"type": "boolean", "default": false}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: Params = parse_params(params)?;
        if rank(&p.max_severity).is_none() {
            return Err(format!(
                "max_severity: {:?} is not low, medium, high or critical",
                p.max_severity
            ));
        }
        if !matches!(p.unknown.as_str(), "pass" | "warn" | "fail") {
            return Err(format!(
                "unknown: {:?} is not pass, warn or fail",
                p.unknown
            ));
        }
        if p.grace_days > 3650 {
            return Err("grace_days: at most 3650".into());
        }
        Ok(())
    }
    fn reads(&self) -> crate::policies::core::memo::Reads {
        // Grace periods depend on the clock.
        crate::policies::core::memo::Reads::fields(&["vulnerabilities", "now"])
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: Params = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        let Some(findings) = &input.vulnerabilities else {
            return RuleOutcome::not_applicable(
                "the artifact has no SBOM to match vulnerabilities against",
            );
        };
        let max = rank(&p.max_severity).unwrap_or(1);
        let grace = chrono::Duration::days(p.grace_days.into());
        let (mut fails, mut warns) = (Vec::new(), Vec::new());
        let open: Vec<&VulnerabilityFacts> =
            findings.iter().filter(|f| !resolved(&f.state)).collect();
        for f in &open {
            let at = format!("{} in {}", name(f), f.purl);
            if p.kev && f.kev {
                fails.push(violation(
                    f.id.clone(),
                    format!("{at} is known exploited (CISA KEV); {}", fix_hint(f)),
                ));
                continue;
            }
            let Some(r) = rank(&f.severity) else {
                let v = violation(
                    f.id.clone(),
                    format!("{at} has no known severity; triage it"),
                );
                match p.unknown.as_str() {
                    "fail" => fails.push(v),
                    "warn" => warns.push(v),
                    _ => {}
                }
                continue;
            };
            if r <= max {
                continue;
            }
            if p.fixable_only && f.fixed_versions.is_empty() {
                continue;
            }
            if p.grace_days > 0 && f.published.is_some_and(|t| input.now - t < grace) {
                continue;
            }
            fails.push(violation(
                f.id.clone(),
                format!(
                    "{at} is {} (above {}); {}",
                    f.severity,
                    p.max_severity,
                    fix_hint(f)
                ),
            ));
        }
        let resolved_count = findings.len() - open.len();
        if fails.is_empty() && !warns.is_empty() {
            let message = format!(
                "{} finding(s) without a known severity (first: {})",
                warns.len(),
                warns[0].message
            );
            return RuleOutcome {
                status: Status::Warn,
                message,
                violations: warns,
                evidence: Vec::new(),
            };
        }
        RuleOutcome::from_violations(
            fails,
            format!(
                "{} finding(s), none above {} or known exploited ({resolved_count} triaged off)",
                findings.len(),
                p.max_severity
            ),
            Vec::new(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, severity: &str, kev: bool, state: &str) -> VulnerabilityFacts {
        VulnerabilityFacts {
            id: id.into(),
            aliases: vec!["CVE-2024-0001".into()],
            purl: "pkg:golang/example.com/m@v1.0.0".into(),
            version: "v1.0.0".into(),
            severity: severity.into(),
            cvss_score: None,
            kev,
            fixed_versions: vec!["1.0.1".into()],
            state: state.into(),
            justification: None,
            published: None,
        }
    }

    fn judge(findings: Option<Vec<VulnerabilityFacts>>, params: Value) -> RuleOutcome {
        let input = RuleInput {
            vulnerabilities: findings,
            ..RuleInput::default()
        };
        Vulnerabilities.validate(&params).unwrap();
        Vulnerabilities.evaluate(&input, &params)
    }

    #[test]
    fn severity_threshold_kev_and_triage() {
        let all = vec![
            f("GO-1", "high", false, "in_triage"),
            f("GO-2", "medium", false, "in_triage"),
            f("GO-3", "critical", false, "not_affected"),
        ];
        let o = judge(Some(all.clone()), Value::Null);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.violations.len(), 1);
        assert_eq!(o.violations[0].key, "GO-1", "waivable per vulnerability");
        assert!(o.message.contains("GO-1 (CVE-2024-0001) in pkg:golang/example.com/m@v1.0.0 is high (above medium); fixed in 1.0.1"), "{}", o.message);
        assert_eq!(
            judge(Some(all.clone()), json!({"max_severity": "high"})).status,
            Status::Pass
        );
        let kev = vec![f("GO-4", "low", true, "in_triage")];
        let o = judge(Some(kev.clone()), json!({"max_severity": "critical"}));
        assert_eq!(o.status, Status::Fail);
        assert!(o.message.contains("known exploited"));
        assert_eq!(
            judge(Some(kev), json!({"max_severity": "critical", "kev": false})).status,
            Status::Pass
        );
        assert_eq!(
            judge(
                Some(vec![f("GO-5", "critical", true, "fixed")]),
                Value::Null
            )
            .status,
            Status::Pass
        );
        assert_eq!(judge(None, Value::Null).status, Status::NotApplicable);
        assert_eq!(judge(Some(vec![]), Value::Null).status, Status::Pass);
    }

    #[test]
    fn unknown_severity_grace_and_fixable() {
        let unknown = vec![f("GO-6", "unknown", false, "in_triage")];
        assert_eq!(
            judge(Some(unknown.clone()), Value::Null).status,
            Status::Warn
        );
        assert_eq!(
            judge(Some(unknown.clone()), json!({"unknown": "fail"})).status,
            Status::Fail
        );
        assert_eq!(
            judge(Some(unknown), json!({"unknown": "pass"})).status,
            Status::Pass
        );
        let mut recent = f("GO-7", "critical", false, "in_triage");
        recent.published = Some(chrono::Utc::now() - chrono::Duration::days(3));
        let input = RuleInput {
            vulnerabilities: Some(vec![recent]),
            now: chrono::Utc::now(),
            ..RuleInput::default()
        };
        assert_eq!(
            Vulnerabilities
                .evaluate(&input, &json!({"grace_days": 7}))
                .status,
            Status::Pass
        );
        assert_eq!(
            Vulnerabilities
                .evaluate(&input, &json!({"grace_days": 2}))
                .status,
            Status::Fail
        );
        let mut unfixed = f("GO-8", "critical", false, "in_triage");
        unfixed.fixed_versions.clear();
        assert_eq!(
            judge(Some(vec![unfixed.clone()]), json!({"fixable_only": true})).status,
            Status::Pass
        );
        assert!(judge(Some(vec![unfixed]), Value::Null)
            .message
            .contains("no fixed version is known"));
        assert!(Vulnerabilities
            .validate(&json!({"max_severity": "severe"}))
            .is_err());
        assert!(Vulnerabilities
            .validate(&json!({"unknown": "maybe"}))
            .is_err());
        assert!(Vulnerabilities.validate(&json!({"bogus": 1})).is_err());
    }
}
