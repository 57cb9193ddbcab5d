//! Worst-case inputs at the bounds: what the largest input each bound
//! permits costs, so that a bound is a budget, not a hope.
//!
//! `cargo bench -p cairn --bench hostile`
//!
//! In process, no database: (1) parsing and normalising a CycloneDX SBOM
//! of 2,000 components whose licence expressions are each at the bounds
//! (1,000 licences, parentheses 32 deep; ~16 MB), the upload path; (2) the
//! `licenses` rule judging that SBOM (every expression parsed and judged);
//! (3) one expression at the bounds parsed and judged; (4) rejecting the
//! 6,000-deep expression that used to overflow the stack; (5) compiling a
//! Rego module at the nesting bound (12) and one just past it (refused).
//! Medians of repeated runs.

use std::time::{Duration, Instant};

use serde_json::json;

use cairn::policies::core::engine::{self, EvalContext, EvalLimits, PolicyDefinition};
use cairn::policies::core::input::SbomFacts;
use cairn::policies::core::licenses::{self, MAX_DEPTH, MAX_TERMS};
use cairn::policies::core::rego::{RegoRule, MAX_NESTING};
use cairn::policies::core::RuleInput;

const COMPONENTS: usize = 2_000;

/// An expression at both bounds: `MAX_TERMS` licences, parentheses
/// `MAX_DEPTH` deep, distinct per `seed`.
fn worst_expression(seed: usize) -> String {
    let ids: Vec<String> = (0..MAX_TERMS)
        .map(|i| format!("LicenseRef-{seed}-{i}"))
        .collect();
    let head = ids[..MAX_DEPTH].join(" OR (");
    format!(
        "({head}{}) AND {}",
        ")".repeat(MAX_DEPTH - 1),
        ids[MAX_DEPTH..].join(" AND ")
    )
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    let quick = std::env::var_os("CAIRN_BENCH_QUICK").is_some();
    let runs = if quick { 3 } else { 9 };
    let components: Vec<_> = (0..COMPONENTS)
        .map(|i| {
            json!({"type": "library", "name": format!("c{i}"), "version": "1.0.0",
                   "purl": format!("pkg:golang/example.com/c{i}@v1.0.0"),
                   "licenses": [{"expression": worst_expression(i)}]})
        })
        .collect();
    let doc = serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": components
    }))
    .unwrap();
    let parse = time(runs, || {
        let input = cairn::sboms::core::Input::new(&doc).unwrap();
        input.parse().map(|p| p.nodes.len()).unwrap()
    });
    let input = cairn::sboms::core::Input::new(&doc).unwrap();
    let parsed = input.parse().unwrap();
    let rule_input = RuleInput {
        sbom: Some(SbomFacts::from_parsed(1, &parsed, chrono::Utc::now())),
        ..RuleInput::default()
    };
    let def: PolicyDefinition = serde_json::from_value(json!({
        "name": "hostile", "mode": "enforce",
        "rules": [{"rule": "licenses", "params": {"deny": ["GPL-3.0-only"]}}]
    }))
    .unwrap();
    let set = def.compile().unwrap();
    let limits = EvalLimits {
        rego: Duration::from_secs(2),
        evaluation: Duration::from_secs(60),
    };
    // A new SBOM id each run: the outcome memo must not answer.
    let mut id = 1;
    let judge = time(runs, || {
        id += 1;
        let mut i = rule_input.clone();
        i.sbom.as_mut().unwrap().id = id;
        let ctx = EvalContext::new(&i, limits);
        let r = engine::evaluate(&set, engine::Mode::Enforce, &ctx, None, &[]);
        assert_eq!(r[0].status, cairn::policies::core::Status::Pass, "{r:?}");
    });
    let one = worst_expression(0);
    let deny = vec!["LicenseRef-0-999".to_owned()];
    let single = time(runs * 10, || {
        let e = licenses::parse(&one).unwrap();
        licenses::judge(&e, &[], &deny).is_err()
    });
    let bomb = format!("{}MIT{}", "(".repeat(6_000), ")".repeat(6_000));
    let refuse = time(runs * 10, || licenses::parse(&bomb).is_err());
    let nest = |n: usize| {
        format!(
            "package deep\nx := {}1{}\nviolations contains \"m\" if {{ x == 0 }}",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let at = nest(MAX_NESTING);
    let rego_at = time(runs, || RegoRule::compile(&at).unwrap());
    let past = nest(6_000);
    let rego_past = time(runs, || RegoRule::compile(&past).unwrap_err());

    println!("### Worst-case inputs at the bounds (medians of {runs} runs)");
    println!();
    println!("| measure | ms |");
    println!("|---|---|");
    println!(
        "| parse + normalise a {COMPONENTS}-component SBOM, every expression {MAX_TERMS} licences and {MAX_DEPTH} deep ({:.1} MB) | {} |",
        doc.len() as f64 / 1e6,
        ms(parse)
    );
    println!(
        "| `licenses` rule on that SBOM ({} licences judged) | {} |",
        COMPONENTS * MAX_TERMS,
        ms(judge)
    );
    println!(
        "| one expression at both bounds, parse + judge | {} |",
        ms(single)
    );
    println!("| refuse the 6,000-deep expression | {} |", ms(refuse));
    println!(
        "| compile a Rego module nested {} deep (the bound) | {} |",
        MAX_NESTING,
        ms(rego_at)
    );
    println!(
        "| refuse a Rego module nested 6,000 deep | {} |",
        ms(rego_past)
    );
}
