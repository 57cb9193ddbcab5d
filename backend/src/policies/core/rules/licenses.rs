//! `licenses`: every component's licence expression is satisfiable with
//! allowed and not denied licences.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::policies::core::licenses::{judge, parse, ParseError};
use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome, Status,
};

pub struct Licenses;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// SPDX ids; when non-empty, only these.
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    /// Components without a (parsable) licence: `ignore` (default), `warn`, `fail`.
    #[serde(default)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Unknown {
    #[default]
    Ignore,
    Warn,
    Fail,
}

/// One distinct expression's verdict (many components share one).
enum Verdict {
    Allowed,
    Denied(String),
    Unparsable(String),
    Limit(String),
}

pub(crate) fn component_key(c: &crate::policies::core::input::ComponentFacts) -> String {
    c.purl.clone().unwrap_or_else(|| match &c.version {
        Some(v) => format!("{}@{v}", c.name),
        None => c.name.clone(),
    })
}

impl BuiltinRule for Licenses {
    fn id(&self) -> &'static str {
        "licenses"
    }
    fn description(&self) -> &'static str {
        "Every component's SPDX licence expression can be satisfied with allowed, non-denied licences (OR picks, AND requires all)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "allow": {"type": "array", "items": {"type": "string"}, "description": "SPDX ids; when non-empty only these are allowed."},
                "deny": {"type": "array", "items": {"type": "string"}},
                "unknown": {"enum": ["ignore", "warn", "fail"], "default": "ignore",
                    "description": "Components without a parsable licence expression."}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: Params = parse_params(params)?;
        if p.allow.is_empty() && p.deny.is_empty() {
            return Err("give `allow` or `deny` (SPDX licence ids)".into());
        }
        for id in p.allow.iter().chain(&p.deny) {
            match parse(id) {
                Ok(crate::policies::core::licenses::Expr::License { .. }) => {}
                _ => return Err(format!("`{id}` is not a single SPDX licence id")),
            }
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
            return RuleOutcome::not_applicable("the artifact has no SBOM to read licences from");
        };
        let evidence = vec![EvidenceRef {
            kind: "sbom".into(),
            id: s.id,
        }];
        let mut verdicts: HashMap<&str, Verdict> = HashMap::new();
        let mut v = Vec::new();
        let mut unknown = Vec::new();
        for c in s.components.iter() {
            if c.is_root {
                continue;
            }
            let Some(expr) = c.licenses.as_deref() else {
                unknown.push(violation(
                    component_key(c),
                    format!("{} has no licence", component_key(c)),
                ));
                continue;
            };
            let verdict = verdicts.entry(expr).or_insert_with(|| match parse(expr) {
                Err(ParseError::Limit(e)) => Verdict::Limit(e),
                Err(ParseError::Syntax(e)) => {
                    Verdict::Unparsable(format!("unparsable licence expression `{expr}`: {e}"))
                }
                Ok(e) => match judge(&e, &p.allow, &p.deny) {
                    Ok(()) => Verdict::Allowed,
                    Err(bad) => Verdict::Denied(format!(
                        "licence `{expr}` is not allowed ({})",
                        bad.join(", ")
                    )),
                },
            });
            let key = component_key(c);
            match verdict {
                Verdict::Allowed => {}
                // Beyond the parser's bounds: the rule cannot judge it, and
                // says so rather than passing or guessing.
                Verdict::Limit(e) => {
                    return RuleOutcome::error(format!("{key}: {e}; the rule cannot judge it"))
                }
                Verdict::Unparsable(msg) => {
                    unknown.push(violation(key.clone(), format!("{key}: {msg}")))
                }
                Verdict::Denied(msg) => v.push(violation(key.clone(), format!("{key}: {msg}"))),
            }
        }
        match p.unknown {
            Unknown::Fail => v.extend(unknown),
            Unknown::Warn if v.is_empty() && !unknown.is_empty() => {
                let mut out = RuleOutcome::from_violations(unknown, "", evidence);
                out.status = Status::Warn;
                return out;
            }
            _ => {}
        }
        RuleOutcome::from_violations(
            v,
            format!("licences of {} components allowed", s.components.len()),
            evidence,
        )
    }
}
