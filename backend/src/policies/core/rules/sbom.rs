//! `sbom-present`: the artifact has an SBOM, of a minimum spec version,
//! complete enough against the NTIA minimum elements, scoring at least a
//! minimum per quality profile.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::compare_versions;
use crate::policies::core::input::SbomFacts;
use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome,
};
use crate::sboms::core::quality::PROFILES;

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
    /// Profile id (`ntia`, `cisa-2025`, `bsi-tr-03183-2`) -> minimum score
    /// 0-100 (the stored `sbom.quality` scores, see docs/sboms.md).
    #[serde(default)]
    min_quality: BTreeMap<String, f64>,
}

/// The NTIA minimum elements and their coverage (0.0–1.0) in the SBOM.
/// Component-level elements count the fraction of components that have
/// them; document-level ones are all or nothing.
pub fn ntia_coverage(s: &SbomFacts) -> Vec<(&'static str, f64)> {
    let n = s.components.len();
    let frac = |f: &dyn Fn(&crate::policies::core::input::ComponentFacts) -> bool| {
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
                    "description": "Mean coverage of the NTIA minimum elements: supplier, name, version, unique id, dependencies, author, timestamp."},
                "min_quality": {"type": "object", "additionalProperties": false,
                    "description": "Minimum quality score (0-100) per profile, e.g. {\"ntia\": 80}: the weighted field coverage of docs/sboms.md.",
                    "properties": {
                        "ntia": {"type": "number", "minimum": 0, "maximum": 100},
                        "cisa-2025": {"type": "number", "minimum": 0, "maximum": 100},
                        "bsi-tr-03183-2": {"type": "number", "minimum": 0, "maximum": 100}
                    }}
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
        for (profile, min) in &p.min_quality {
            if !PROFILES.contains(&profile.as_str()) {
                return Err(format!(
                    "min_quality: unknown profile `{profile}` ({})",
                    PROFILES.join(", ")
                ));
            }
            if !(0.0..=100.0).contains(min) {
                return Err(format!("min_quality.{profile} must be between 0 and 100"));
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
    fn reads(&self) -> crate::policies::core::memo::Reads {
        crate::policies::core::memo::Reads::fields(&["sbom"])
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
        if !p.min_quality.is_empty() {
            let Some(quality) = &s.quality else {
                return RuleOutcome::error(format!(
                    "SBOM {} has no quality scores yet (stored before they existed; scored in the background at start)",
                    s.id
                ));
            };
            for profile in PROFILES {
                let (Some(min), Some(got)) = (p.min_quality.get(profile), quality.profile(profile))
                else {
                    continue;
                };
                if got.score + 1e-9 < *min {
                    let weakest: Vec<String> = got
                        .weakest
                        .iter()
                        .map(|w| format!("{} {}%", w.field, w.coverage))
                        .collect();
                    v.push(violation(
                        format!("quality-{profile}"),
                        format!(
                            "the SBOM's {profile} quality score is {}, below the required {min} (weakest: {})",
                            got.score,
                            weakest.join(", ")
                        ),
                    ));
                }
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
