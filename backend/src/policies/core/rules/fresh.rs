//! `evidence-fresh`: the SBOM and the newest signature are recent enough.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome,
};

pub struct EvidenceFresh;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Maximum age in days.
    max_age_days: f64,
    /// Which evidence: `sbom`, `signature` (default both).
    #[serde(default = "both")]
    kinds: Vec<String>,
}

fn both() -> Vec<String> {
    vec!["sbom".into(), "signature".into()]
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_age_days: 90.0,
            kinds: both(),
        }
    }
}

/// The newest evidence of `kind`: (id, when, evidence kind, how it is dated).
fn newest(
    input: &RuleInput,
    kind: &str,
) -> Option<(
    i64,
    chrono::DateTime<chrono::Utc>,
    &'static str,
    &'static str,
)> {
    match kind {
        "sbom" => input
            .sbom
            .as_ref()
            .map(|s| (s.id, s.uploaded_at, "sbom", "")),
        _ => input.signatures.iter().max_by_key(|s| s.time()).map(|s| {
            let how = if s.signed_at.is_some() {
                " (logged by Rekor)"
            } else {
                ""
            };
            (s.id, s.time(), "attestation", how)
        }),
    }
}

impl BuiltinRule for EvidenceFresh {
    fn id(&self) -> &'static str {
        "evidence-fresh"
    }
    fn description(&self) -> &'static str {
        "The newest SBOM (by upload) and/or signature (by its Rekor log time, else upload) is no older than a period."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["max_age_days"],
            "properties": {
                "max_age_days": {"type": "number", "exclusiveMinimum": 0},
                "kinds": {"type": "array", "items": {"enum": ["sbom", "signature"]}, "default": ["sbom", "signature"]}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: Params = parse_params(params)?;
        if p.max_age_days.is_nan() || p.max_age_days <= 0.0 {
            return Err("max_age_days must be positive".into());
        }
        if let Some(k) = p
            .kinds
            .iter()
            .find(|k| !matches!(k.as_str(), "sbom" | "signature"))
        {
            return Err(format!("kinds: unknown kind `{k}` (sbom, signature)"));
        }
        Ok(())
    }
    fn evaluate(&self, input: &RuleInput, params: &Value) -> RuleOutcome {
        let p: Params = match parse_params(params) {
            Ok(p) => p,
            Err(e) => return RuleOutcome::error(format!("invalid params: {e}")),
        };
        let max = chrono::Duration::seconds((p.max_age_days * 86400.0) as i64);
        let mut v = Vec::new();
        let mut evidence = Vec::new();
        let age = |t: chrono::DateTime<chrono::Utc>| input.now - t;
        let days = |d: chrono::Duration| d.num_seconds() as f64 / 86400.0;
        for kind in &p.kinds {
            match newest(input, kind) {
                None => v.push(violation(
                    kind.clone(),
                    format!("the artifact has no {kind}"),
                )),
                Some((id, at, ek, how)) => {
                    evidence.push(EvidenceRef {
                        kind: ek.into(),
                        id,
                    });
                    if age(at) > max {
                        v.push(violation(
                            kind.clone(),
                            format!(
                                "the newest {kind}{how} is {:.1} days old, older than {} days",
                                days(age(at)),
                                p.max_age_days
                            ),
                        ));
                    }
                }
            }
        }
        RuleOutcome::from_violations(
            v,
            format!("evidence not older than {} days", p.max_age_days),
            evidence,
        )
    }
    /// A pass holds until the oldest of the newest evidence reaches the age.
    fn holds_until(
        &self,
        input: &RuleInput,
        params: &Value,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let p: Params = parse_params(params).ok()?;
        let max = chrono::Duration::seconds((p.max_age_days * 86400.0) as i64);
        p.kinds
            .iter()
            .filter_map(|k| newest(input, k))
            .map(|(_, at, _, _)| at + max)
            .min()
    }
}
