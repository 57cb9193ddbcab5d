//! `sbom-present`: the artifact has an SBOM, of a minimum spec version,
//! complete enough against the NTIA minimum elements.

use serde::Deserialize;
use serde_json::{json, Value};

use super::compare_versions;
use crate::policy::input::SbomFacts;
use crate::policy::{parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome};

pub struct SbomPresent;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// e.g. `1.4` (CycloneDX) / `2.3` (SPDX): compared within the format.
    #[serde(default)]
    min_spec_version: Option<String>,
    /// Only these formats (`cyclonedx`, `spdx`).
    #[serde(default)]
    formats: Vec<String>,
    /// 0.0–1.0: the mean coverage of the seven NTIA minimum elements.
    #[serde(default)]
    min_completeness: Option<f64>,
}

/// The NTIA minimum elements and their coverage (0.0–1.0) in the SBOM.
/// Component-level elements count the fraction of components that have
/// them; document-level ones are all or nothing.
pub fn ntia_coverage(s: &SbomFacts) -> Vec<(&'static str, f64)> {
    let n = s.components.len();
    let frac = |f: &dyn Fn(&crate::policy::input::ComponentFacts) -> bool| {
        if n == 0 {
            0.0
        } else {
            s.components.iter().filter(|c| f(c)).count() as f64 / n as f64
        }
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    vec![
        ("supplier", frac(&|c| c.supplier.is_some())),
        ("name", frac(&|c| !c.name.is_empty())),
        ("version", frac(&|c| c.version.is_some())),
        ("unique-id", frac(&|c| c.purl.is_some() || c.hashed)),
        ("dependencies", flag(s.edge_count > 0)),
        ("author", flag(!s.authors.is_empty() || s.tool.is_some())),
        ("timestamp", flag(s.document_created.is_some())),
    ]
}

impl BuiltinRule for SbomPresent {
    fn id(&self) -> &'static str {
        "sbom-present"
    }
    fn description(&self) -> &'static str {
        "The artifact has an SBOM (optionally of a minimum spec version and complete enough against the NTIA minimum elements)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "min_spec_version": {"type": "string", "description": "Minimum spec version, e.g. \"1.4\" (CycloneDX) or \"2.3\" (SPDX)."},
                "formats": {"type": "array", "items": {"enum": ["cyclonedx", "spdx"]}},
                "min_completeness": {"type": "number", "minimum": 0, "maximum": 1,
                    "description": "Mean coverage of the NTIA minimum elements: supplier, name, version, unique id, dependencies, author, timestamp."}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: Params = parse_params(params)?;
        if let Some(c) = p.min_completeness {
            if !(0.0..=1.0).contains(&c) {
                return Err("min_completeness must be between 0 and 1".into());
            }
        }
        if let Some(f) = p
            .formats
            .iter()
            .find(|f| !matches!(f.as_str(), "cyclonedx" | "spdx"))
        {
            return Err(format!("formats: unknown format `{f}` (cyclonedx, spdx)"));
        }
        Ok(())
    }
    fn reads(&self) -> crate::policy::memo::Reads {
        crate::policy::memo::Reads::fields(&["sbom"])
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: Params = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        let Some(s) = &input.sbom else {
            return RuleOutcome::from_violations(
                vec![violation("sbom", "the artifact has no SBOM")],
                "",
                Vec::new(),
            );
        };
        let evidence = vec![EvidenceRef {
            kind: "sbom".into(),
            id: s.id,
        }];
        let mut v = Vec::new();
        if !p.formats.is_empty() && !p.formats.contains(&s.format) {
            v.push(violation(
                "format",
                format!(
                    "the SBOM is {}, not one of {}",
                    s.format,
                    p.formats.join(", ")
                ),
            ));
        }
        if let Some(min) = &p.min_spec_version {
            if compare_versions(&s.spec_version, min).is_lt() {
                v.push(violation(
                    "spec-version",
                    format!(
                        "the SBOM is {} {}, older than the required {min}",
                        s.format, s.spec_version
                    ),
                ));
            }
        }
        let coverage = ntia_coverage(s);
        let completeness = coverage.iter().map(|(_, c)| c).sum::<f64>() / coverage.len() as f64;
        if let Some(min) = p.min_completeness {
            if completeness + 1e-9 < min {
                let missing: Vec<String> = coverage
                    .iter()
                    .filter(|(_, c)| *c < 1.0)
                    .map(|(e, c)| format!("{e} {:.0}%", c * 100.0))
                    .collect();
                v.push(violation(
                    "ntia-completeness",
                    format!(
                        "the SBOM is {:.0}% complete against the NTIA minimum elements, below the required {:.0}% (incomplete: {})",
                        completeness * 100.0,
                        min * 100.0,
                        missing.join(", ")
                    ),
                ));
            }
        }
        RuleOutcome::from_violations(
            v,
            format!(
                "{} {} SBOM with {} components, {:.0}% NTIA-complete",
                s.format,
                s.spec_version,
                s.components.len(),
                completeness * 100.0
            ),
            evidence,
        )
    }
}
