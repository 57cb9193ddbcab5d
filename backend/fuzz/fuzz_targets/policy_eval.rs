//! Policy evaluation of an uploaded SBOM: the input is parsed as an SBOM
//! (`sbom::Input`), turned into the engine's `RuleInput` the way the
//! benches and rule tests do it (`SbomFacts::from_parsed`), and judged by
//! the built-in rules that read SBOM content — `sbom-present` (NTIA
//! completeness), `licenses` (every component's licence expression is
//! parsed and judged), `components` (purl/version deny patterns) — called
//! directly, then once more through the engine (`PolicyDefinition::compile`,
//! `engine::evaluate`, `engine::denies`, `engine::input_digest`) as the
//! policy worker runs a set, with one small Rego rule so that the Rego
//! input conversion of the components is exercised too.
#![no_main]

use std::time::Duration;

use cairn::policies::core::engine::{self, CompiledSet, EvalContext, EvalLimits, PolicyDefinition};
use cairn::policies::core::input::SbomFacts;
use cairn::policies::core::{find_rule, RuleInput, Status};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const LIMITS: EvalLimits = EvalLimits {
    rego: Duration::from_secs(5),
    evaluation: Duration::from_secs(30),
};

const REGO: &str = r#"package fuzz.purls
violations contains msg if {
    some c in input.sbom.components
    is_string(c.purl)
    startswith(c.purl, "pkg:golang/github.com/evil/")
    msg := sprintf("%s is from a denied namespace", [c.purl])
}"#;

/// `(rule, params)` pairs judged directly; every one must validate.
fn rules() -> Vec<(&'static str, Value)> {
    vec![
        ("sbom-present", Value::Null),
        (
            "sbom-present",
            json!({"min_spec_version": "1.5", "min_completeness": 0.8, "formats": ["cyclonedx", "spdx"]}),
        ),
        (
            "sbom-present",
            json!({"min_quality": {"ntia": 80, "cisa-2025": 60, "bsi-tr-03183-2": 40}}),
        ),
        (
            "licenses",
            json!({"deny": ["GPL-3.0-only", "AGPL-3.0-only", "SSPL-1.0"]}),
        ),
        (
            "licenses",
            json!({"allow": ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC"], "unknown": "fail"}),
        ),
        (
            "components",
            json!({"deny": [
                "pkg:golang/github.com/evil/*",
                "pkg:golang/github.com/org1/module1@<v1.0.0",
                "pkg:npm/event-stream@3.3.6",
                "pkg:deb/debian/*@>=1.0",
                "pkg:*/*openssl*@<=3.0.7"
            ]}),
        ),
    ]
}

fn compiled() -> CompiledSet {
    let mut specs: Vec<Value> = rules()
        .into_iter()
        .enumerate()
        .map(|(i, (rule, params))| json!({"id": format!("r{i}"), "rule": rule, "params": params}))
        .collect();
    specs.push(json!({"rego": REGO}));
    let def: PolicyDefinition =
        serde_json::from_value(json!({"name": "fuzz", "mode": "enforce", "rules": specs}))
            .expect("the fuzz policy set is a definition");
    def.compile()
        .unwrap_or_else(|e| panic!("the fuzz policy set compiles: {} {}", e.pointer, e.detail))
}

thread_local! {
    static SET: CompiledSet = compiled();
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).expect("a valid time")
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = cairn::sboms::core::Input::new(data) else {
        return;
    };
    let Ok(parsed) = input.parse() else {
        return;
    };
    let mut ri = RuleInput {
        sbom: Some(SbomFacts::from_parsed(1, &parsed, now())),
        now: now(),
        ..RuleInput::default()
    };
    ri.project.name = "acme/app".into();

    for (rule, params) in rules() {
        let r = find_rule(rule).expect("a built-in rule");
        r.validate(&params)
            .unwrap_or_else(|e| panic!("{rule} {params}: {e}"));
        let out = r.evaluate(&ri, &params);
        assert_ne!(out.status, Status::NotApplicable, "{rule} with an SBOM");
    }

    SET.with(|set| {
        let ctx = EvalContext::new(&ri, LIMITS);
        let results = engine::evaluate(set, engine::Mode::Enforce, &ctx, Some(1), &[]);
        assert_eq!(results.len(), set.rules.len());
        let _ = engine::denies(engine::Mode::Enforce, &results);
    });
    let _ = engine::input_digest(&ri);
});
