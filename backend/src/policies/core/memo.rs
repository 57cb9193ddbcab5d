//! Rule outcomes remembered by what the rule read.
//!
//! An artifact is judged again and again on mostly unchanged evidence: a
//! signature, a provenance statement or a CI run arrives after the SBOM, a
//! set changes one rule, the gate re-checks. The rules that cost the most
//! scan the SBOM's thousands of components, and the SBOM has not changed.
//! So a rule that declares (built-in) or is found (Rego) to read only some
//! top-level fields of [`RuleInput`] has its outcome kept under a key made
//! of the rule (id + params, or module text) and a fingerprint of each field
//! it reads; the next evaluation with the same rule and the same fields
//! reuses it. Rules that read everything, or the clock, are never kept.
//!
//! Fingerprints are SipHash under this process's random key, so nobody can
//! craft evidence whose fingerprint collides with another's (which would let
//! it inherit a pass). Outcomes are pure functions of what the rule read, so
//! the cache is correct across artifacts and databases; errors (a Rego
//! timeout may be load) and very large outcomes are not kept.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock};

use super::{RuleInput, RuleOutcome, Status};
use crate::bounded::Bounded;

/// The top-level fields of [`RuleInput`], in declaration order.
pub const FIELDS: [&str; 10] = [
    "artifact",
    "project",
    "sbom",
    "signatures",
    "provenance",
    "builds",
    "go",
    "ci_definitions",
    "vulnerabilities",
    "now",
];

/// What a rule reads of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// Anything (or the clock): the outcome is never reused.
    All,
    /// Only these top-level fields (indexes into [`FIELDS`]).
    Fields(Vec<usize>),
}

impl Reads {
    /// From field names; an unknown name reads nothing that exists.
    pub fn fields(names: &[&str]) -> Reads {
        let mut idx: Vec<usize> = names
            .iter()
            .filter_map(|n| FIELDS.iter().position(|f| f == n))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        if idx.contains(&FIELDS.len().saturating_sub(1)) {
            return Reads::All; // `now` changes every evaluation.
        }
        Reads::Fields(idx)
    }
}

/// Which top-level fields of `input` a Rego module reads: every `input`
/// outside strings and comments must be followed by `.field`; anything else
/// (`input[...]`, `input` passed whole, `with input as`) reads everything.
pub fn rego_reads(module: &str) -> Reads {
    let b = module.as_bytes();
    let mut names: Vec<&str> = Vec::new();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            c if ident(c) => {
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                let root = start == 0 || b[start - 1] != b'.';
                if &module[start..i] != "input" || !root {
                    continue;
                }
                let mut j = i;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j >= b.len() || b[j] != b'.' {
                    return Reads::All;
                }
                j += 1;
                let f = j;
                while j < b.len() && ident(b[j]) {
                    j += 1;
                }
                if j == f {
                    return Reads::All;
                }
                names.push(&module[f..j]);
                i = j;
            }
            _ => i += 1,
        }
    }
    Reads::fields(&names)
}

static KEY: LazyLock<std::hash::RandomState> = LazyLock::new(Default::default);

/// A rule's identity in the memo (id + params, or module text); also the
/// keyed hash the other content-keyed caches use.
pub fn rule_key(parts: impl Hash) -> u64 {
    KEY.hash_one(parts)
}

/// Fingerprints of one input's fields, computed on first use.
#[derive(Default)]
pub struct Fingerprints {
    fields: [OnceLock<u64>; FIELDS.len()],
}

impl Fingerprints {
    fn field(&self, input: &RuleInput, i: usize) -> u64 {
        *self.fields[i].get_or_init(|| {
            let json = |v: Result<Vec<u8>, serde_json::Error>| KEY.hash_one(v.unwrap_or_default());
            match FIELDS[i] {
                "artifact" => json(serde_json::to_vec(&input.artifact)),
                "project" => json(serde_json::to_vec(&input.project)),
                // Thousands of components: hashed field by field, no JSON.
                "sbom" => KEY.hash_one(&input.sbom),
                "signatures" => json(serde_json::to_vec(&input.signatures)),
                "provenance" => json(serde_json::to_vec(&input.provenance)),
                "builds" => json(serde_json::to_vec(&input.builds)),
                "go" => json(serde_json::to_vec(&input.go)),
                "ci_definitions" => json(serde_json::to_vec(&input.ci_definitions)),
                "vulnerabilities" => json(serde_json::to_vec(&input.vulnerabilities)),
                _ => KEY.hash_one(input.now),
            }
        })
    }

    /// The memo key of a rule on this input, if its outcome may be reused.
    pub fn key(&self, input: &RuleInput, rule: u64, reads: &Reads) -> Option<u64> {
        let Reads::Fields(fields) = reads else {
            return None;
        };
        let prints: Vec<(usize, u64)> = fields.iter().map(|&i| (i, self.field(input, i))).collect();
        Some(KEY.hash_one((rule, prints)))
    }
}

/// What the memo holds at most, in outcomes plus their violations (each
/// outcome weighs 1 + its violations); the oldest go first.
const CAPACITY: usize = 20_000;
/// Outcomes with more violations than this are not kept (memory).
const MAX_VIOLATIONS: usize = 1000;

static MEMO: LazyLock<Mutex<Bounded<u64, RuleOutcome>>> =
    LazyLock::new(|| Mutex::new(Bounded::new(CAPACITY)));
static HITS: AtomicU64 = AtomicU64::new(0);

/// Reuses the outcome kept under `key`, or runs the rule and keeps it.
pub fn outcome(key: Option<u64>, run: impl FnOnce() -> RuleOutcome) -> RuleOutcome {
    let Some(key) = key else {
        return run();
    };
    if let Some(o) = MEMO.lock().expect("not poisoned").get(&key) {
        HITS.fetch_add(1, Ordering::Relaxed);
        return o.clone();
    }
    let o = run();
    if o.status != Status::Error && o.violations.len() <= MAX_VIOLATIONS {
        let weight = 1 + o.violations.len();
        MEMO.lock()
            .expect("not poisoned")
            .insert(key, o.clone(), weight);
    }
    o
}

/// Outcomes reused so far (tests, diagnostics).
pub fn hits() -> u64 {
    HITS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: Reads) -> Vec<&'static str> {
        match r {
            Reads::All => vec!["ALL"],
            Reads::Fields(f) => f.into_iter().map(|i| FIELDS[i]).collect(),
        }
    }

    #[test]
    fn fields_a_module_reads() {
        let m = r#"package x
# input[0] in a comment does not count
violations contains sprintf("%s: input", [c.name]) if {
    some c in input.sbom.components
    count(input .signatures) == 0
    c.x.input == 1
}"#;
        assert_eq!(names(rego_reads(m)), ["sbom", "signatures"]);
        assert_eq!(
            names(rego_reads("package x\nimport input.sbom as s")),
            ["sbom"]
        );
        for all in [
            "package x\nviolations contains m if { m := input[\"sbom\"] }",
            "package x\nviolations contains m if { object.get(input, \"x\", 1) == m }",
            "package x\nimport input",
            "package x\nviolations contains m if { input.now > 0; m := 1 }",
            "package x\nviolations contains m if { m := f with input as {} }",
        ] {
            assert_eq!(rego_reads(all), Reads::All, "{all}");
        }
        assert_eq!(
            rego_reads("package x\nviolations := set()"),
            Reads::Fields(vec![])
        );
    }

    #[test]
    fn outcomes_are_kept_by_what_was_read() {
        let input = RuleInput::default();
        let mut other = RuleInput::default();
        other
            .signatures
            .push(crate::policies::core::rules::tests::signature(
                1,
                crate::attestations::core::Identity::default(),
            ));
        let rule = rule_key(("test-rule", std::process::id()));
        let sbom_only = Reads::fields(&["sbom"]);
        let k1 = Fingerprints::default().key(&input, rule, &sbom_only);
        let k2 = Fingerprints::default().key(&other, rule, &sbom_only);
        assert_eq!(k1, k2, "signatures are not read");
        let both = Reads::fields(&["sbom", "signatures"]);
        assert_ne!(
            Fingerprints::default().key(&input, rule, &both),
            Fingerprints::default().key(&other, rule, &both)
        );
        assert_eq!(Fingerprints::default().key(&input, rule, &Reads::All), None);

        let mut runs = 0;
        for _ in 0..3 {
            let o = outcome(k1, || {
                runs += 1;
                RuleOutcome::from_violations(Vec::new(), "ok", Vec::new())
            });
            assert_eq!(o.status, Status::Pass);
        }
        assert_eq!(runs, 1);
        // Errors are not kept.
        let k = Fingerprints::default().key(&input, rule_key("erring"), &sbom_only);
        for _ in 0..2 {
            outcome(k, || {
                runs += 1;
                RuleOutcome::error("timeout")
            });
        }
        assert_eq!(runs, 3);
    }
}
