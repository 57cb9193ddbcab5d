//! `components`: no component matches a denied purl pattern.

use serde::Deserialize;
use serde_json::{json, Value};

use super::licenses::component_key;
use super::{compare_versions, glob_match};
use crate::policies::core::{
    parse_params, violation, BuiltinRule, EvidenceRef, RuleInput, RuleOutcome,
};

pub struct Components;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    deny: Vec<String>,
}

/// `pkg:type/namespace/name` glob (`*`) with an optional version part:
/// `@1.2.3` (exact), `@<1.2.3`, `@<=1.2.3`, `@>1.2.3`, `@>=1.2.3`, or a glob.
#[derive(Debug)]
pub(crate) struct Pattern {
    name: String,
    version: Option<(Op, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Glob,
}

impl Pattern {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        if !s.starts_with("pkg:") {
            return Err(format!(
                "`{s}` is not a purl pattern (pkg:type/name[@version])"
            ));
        }
        // The version is after the last '@' that follows the last '/'.
        let slash = s.rfind('/').unwrap_or(0);
        let (name, version) = match s[slash..].find('@') {
            Some(i) => (&s[..slash + i], Some(&s[slash + i + 1..])),
            None => (s, None),
        };
        let version = match version {
            None => None,
            Some("") => return Err(format!("`{s}`: empty version")),
            Some(v) => Some(if let Some(x) = v.strip_prefix("<=") {
                (Op::Le, x.to_owned())
            } else if let Some(x) = v.strip_prefix(">=") {
                (Op::Ge, x.to_owned())
            } else if let Some(x) = v.strip_prefix('<') {
                (Op::Lt, x.to_owned())
            } else if let Some(x) = v.strip_prefix('>') {
                (Op::Gt, x.to_owned())
            } else {
                (Op::Glob, v.to_owned())
            }),
        };
        Ok(Pattern {
            name: name.to_owned(),
            version,
        })
    }

    pub(crate) fn matches(&self, purl: &str) -> bool {
        // Qualifiers and subpath do not take part.
        let purl = purl.split(['?', '#']).next().unwrap_or(purl);
        let slash = purl.rfind('/').unwrap_or(0);
        let (name, version) = match purl[slash..].find('@') {
            Some(i) => (&purl[..slash + i], Some(&purl[slash + i + 1..])),
            None => (purl, None),
        };
        if !glob_match(&self.name, name) {
            return false;
        }
        match (&self.version, version) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((op, want)), Some(got)) => match op {
                Op::Glob => glob_match(want, got),
                Op::Lt => compare_versions(got, want).is_lt(),
                Op::Le => compare_versions(got, want).is_le(),
                Op::Gt => compare_versions(got, want).is_gt(),
                Op::Ge => compare_versions(got, want).is_ge(),
            },
        }
    }
}

impl BuiltinRule for Components {
    fn id(&self) -> &'static str {
        "components"
    }
    fn description(&self) -> &'static str {
        "No component matches a denied purl or purl pattern (glob `*`, version `@1.2.3`, `@<1.2.3`, `@>=2`)."
    }
    fn params_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["deny"],
            "properties": {
                "deny": {"type": "array", "minItems": 1, "items": {"type": "string"},
                    "description": "purl patterns, e.g. pkg:golang/github.com/bad/mod@<1.2.3"}
            }
        })
    }
    fn validate(&self, params: &Value) -> Result<(), String> {
        let p: Params = parse_params(params)?;
        if p.deny.is_empty() {
            return Err("deny: give at least one purl pattern".into());
        }
        for d in &p.deny {
            Pattern::parse(d)?;
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
        let patterns: Vec<(String, Pattern)> = match p
            .deny
            .iter()
            .map(|d| Pattern::parse(d).map(|pat| (d.clone(), pat)))
            .collect()
        {
            Ok(v) => v,
            Err(e) => return RuleOutcome::error(e),
        };
        let Some(s) = &input.sbom else {
            return RuleOutcome::not_applicable("the artifact has no SBOM to read components from");
        };
        let mut v = Vec::new();
        for c in s.components.iter() {
            let Some(purl) = &c.purl else { continue };
            if let Some((text, _)) = patterns.iter().find(|(_, pat)| pat.matches(purl)) {
                v.push(violation(
                    component_key(c),
                    format!("component {purl} is denied (matches {text})"),
                ));
            }
        }
        RuleOutcome::from_violations(
            v,
            format!("none of {} components is denied", s.components.len()),
            vec![EvidenceRef {
                kind: "sbom".into(),
                id: s.id,
            }],
        )
    }
}
