//! Custom rules in Rego (regorus). A module declares a package and a
//! `violations` set (or array) of messages; an empty set passes.
//!
//! Execution: a module is compiled once, when its set is compiled, to a
//! program of regorus' register VM (RVM), several times faster than the
//! tree-walking interpreter on rules that scan thousands of components;
//! a module using something the RVM compiler does not support runs in the
//! interpreter instead (same semantics, slower).
//!
//! Sandbox: regorus is built without its `http`, `net`, `opa-runtime` and
//! `time` features (no network, no environment, no clock, no filesystem
//! builtins exist); evaluation runs with regorus' cooperative execution
//! timer (and, in the VM, an instruction budget), so a non-terminating rule
//! stops with an `error` result. One step can still allocate without bound
//! (`sprintf` widths, `concat` doubling), so the server runs rules in
//! memory-limited worker processes (`sandbox`); `numbers.range*` and the
//! random builtins are refused when the rule is saved. Module size and
//! nesting are capped, and so is what a rule reports.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

use super::{violation, RuleInput, RuleOutcome, Status};

/// Largest accepted module.
pub const MAX_MODULE_BYTES: usize = 64 * 1024;

/// Builtins refused in custom rules: each can allocate an unbounded value
/// in a single step the execution timer cannot interrupt.
const REFUSED_BUILTINS: &[&str] = &["numbers.range", "numbers.range_step"];

/// Builtins that answer differently each time: a verdict must follow from
/// the evidence alone. (regorus is built without `time` and `uuid`, so
/// `time.now_ns` and `uuid.rfc4122` do not exist at all.)
const NONDETERMINISTIC_BUILTINS: &[&str] = &["rand.intn"];

/// Deepest nesting of `[`, `{` and `(` accepted in a module. regorus'
/// parser recurses once per level and, for arrays, sets and objects, tries
/// each level twice (a comprehension first): the work doubles per level.
/// Real rules nest three or four deep.
pub const MAX_NESTING: usize = 10;

/// Stack for compiling and evaluating custom rules. regorus' parser,
/// compiler and interpreter recurse over expressions; a module is at most
/// `MAX_MODULE_BYTES`, so its deepest expression (an operator chain over
/// many lines inside one parenthesis) is bounded by its size, and this
/// stack holds it. Reserved, not committed: only touched pages cost memory.
pub const STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a thread with a [`STACK_BYTES`] stack and waits for it: the
/// engine's recursion over uploaded modules and evidence never runs on a
/// server thread's small stack. A panic in `f` is resumed here.
pub fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("cairn-policy".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, f)
            .expect("a policy thread can be started");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The deepest bracket nesting outside strings and comments, or the longest
/// run of minus signs (each unary minus is a parser level too).
fn nesting(module: &str) -> usize {
    let (mut depth, mut deepest, mut minus_run) = (0usize, 0usize, 0usize);
    let mut chars = module.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                chars.by_ref().find(|&c| c == '`');
            }
            '[' | '{' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            '-' => {
                minus_run += 1;
                deepest = deepest.max(minus_run);
                continue;
            }
            c if c.is_whitespace() => continue,
            _ => {}
        }
        minus_run = 0;
    }
    deepest
}

/// Violations a rule reports at most (the rest are counted in its message),
/// and the longest message kept: an outcome's size is bounded whatever the
/// module builds.
pub const MAX_VIOLATIONS: usize = 1_000;
pub const MAX_MESSAGE_CHARS: usize = 1_000;

fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// VM instructions one evaluation may execute: far above what a rule over
/// 100,000 components needs, a bound independent of the machine's speed.
const MAX_INSTRUCTIONS: usize = 200_000_000;

/// A checked Rego module.
#[derive(Clone)]
pub struct RegoRule {
    pub module: String,
    /// `data.<package>`.
    pub package: String,
    /// The module compiled for the VM; `None` runs it in the interpreter.
    program: Option<Arc<Program>>,
}

impl std::fmt::Debug for RegoRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoRule")
            .field("package", &self.package)
            .field("vm", &self.program.is_some())
            .finish()
    }
}

impl RegoRule {
    /// Parses the module; `Err` says what is wrong (for a 422).
    pub fn compile(module: &str) -> Result<Self, String> {
        if module.len() > MAX_MODULE_BYTES {
            return Err(format!(
                "the Rego module is {} bytes, more than the {MAX_MODULE_BYTES} allowed",
                module.len()
            ));
        }
        let deepest = nesting(module);
        if deepest > MAX_NESTING {
            return Err(format!(
                "the Rego module nests brackets (or unary minus signs) {deepest} levels deep, more than the {MAX_NESTING} allowed"
            ));
        }
        let compact: String = module.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(b) = REFUSED_BUILTINS.iter().find(|b| compact.contains(*b)) {
            return Err(format!(
                "builtin {b} is not allowed in custom rules (it can allocate without bound)"
            ));
        }
        if let Some(b) = NONDETERMINISTIC_BUILTINS
            .iter()
            .find(|b| compact.contains(*b))
        {
            return Err(format!(
                "builtin {b} is not allowed in custom rules (it is not deterministic: the same evidence must give the same verdict)"
            ));
        }
        let (package, program) = on_large_stack(|| compile(module))?;
        Ok(RegoRule {
            module: module.to_owned(),
            package,
            program,
        })
    }

    /// Whether the module runs in the VM (else in the interpreter).
    pub fn compiled(&self) -> bool {
        self.program.is_some()
    }

    /// The rule's id in results: `rego:<package without data.>`.
    pub fn default_id(&self) -> String {
        format!(
            "rego:{}",
            self.package.strip_prefix("data.").unwrap_or(&self.package)
        )
    }

    /// Evaluates against `input` (the serialised `RuleInput`, converted
    /// once per artifact). Blocking: call it on a blocking thread.
    pub fn evaluate(&self, input: &Value, limit: Duration) -> RuleOutcome {
        let started = std::time::Instant::now();
        let value = match &self.program {
            Some(program) => run_vm(program, input, limit).map_err(|e| {
                let over = matches!(
                    e,
                    regorus::rvm::vm::VmError::TimeLimitExceeded { .. }
                        | regorus::rvm::vm::VmError::InstructionLimitExceeded { .. }
                );
                (over, e.to_string())
            }),
            None => self.interpret(input, limit).map_err(|e| (false, e)),
        };
        let value = match value {
            Ok(v) => v,
            Err((over, text)) => {
                let timed_out = over || started.elapsed() >= limit || text.contains("time limit");
                return RuleOutcome::error(if timed_out {
                    format!(
                        "the Rego rule exceeded its {} ms evaluation limit",
                        limit.as_millis()
                    )
                } else {
                    format!("Rego evaluation failed: {}", first_line(&text))
                });
            }
        };
        let items: Vec<Value> = match &value {
            Value::Undefined => Vec::new(),
            Value::Set(s) => s.iter().cloned().collect(),
            Value::Array(a) => a.iter().cloned().collect(),
            other => {
                return RuleOutcome::error(format!(
                    "`violations` must be a set of messages, got {}",
                    first_line(&other.to_string())
                ))
            }
        };
        let total = items.len();
        let violations = items
            .into_iter()
            .take(MAX_VIOLATIONS)
            .map(|m| {
                let text = match &m {
                    Value::String(s) => s.to_string(),
                    other => other.to_json_str().unwrap_or_else(|_| other.to_string()),
                };
                let text = bounded(text);
                violation(text.clone(), text)
            })
            .collect();
        let mut out = RuleOutcome::from_violations(violations, "no violations", Vec::new());
        if total > MAX_VIOLATIONS {
            out.message = format!(
                "{} (and {} more; the first {MAX_VIOLATIONS} are listed)",
                out.violations[0].message,
                total - 1
            );
        }
        debug_assert!(matches!(out.status, Status::Pass | Status::Fail));
        out
    }
}

/// Parses and compiles a checked module: its package and VM program.
fn compile(module: &str) -> Result<(String, Option<Arc<Program>>), String> {
    let mut engine = Engine::new();
    let package = engine
        .add_policy("rule.rego".into(), module.to_owned())
        .map_err(|e| format!("invalid Rego: {e}"))?;
    if package == "data" || package.is_empty() {
        return Err("the Rego module must declare a package".into());
    }
    if !module.contains("violations") {
        return Err(format!(
            "the Rego module must define `violations` (a set of messages) in {package}"
        ));
    }
    let entry = format!("{package}.violations");
    let program = engine
        .compile_with_entrypoint(&entry.as_str().into())
        .ok()
        .and_then(|policy| Compiler::compile_from_policy(&policy, &[&entry]).ok());
    Ok((package, program))
}

impl RegoRule {
    /// The tree-walking interpreter: for modules the VM compiler refuses,
    /// and as the reference the VM is tested against.
    fn interpret(&self, input: &Value, limit: Duration) -> Result<Value, String> {
        let mut engine = Engine::new();
        engine.set_execution_timer_config(timer(limit));
        engine
            .add_policy("rule.rego".into(), self.module.clone())
            .map_err(|e| format!("invalid Rego: {e}"))?;
        engine.set_input(input.clone());
        engine
            .eval_rule(format!("{}.violations", self.package))
            .map_err(|e| e.to_string())
    }
}

fn timer(limit: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(32).expect("non-zero"),
    }
}

fn run_vm(
    program: &Arc<Program>,
    input: &Value,
    limit: Duration,
) -> Result<Value, regorus::rvm::vm::VmError> {
    let mut vm = RegoVM::new();
    vm.load_program(program.clone());
    vm.set_execution_timer_config(Some(timer(limit)));
    vm.set_max_instructions(MAX_INSTRUCTIONS);
    vm.set_input(input.clone());
    vm.execute()
}

/// The error text on one line, bounded.
fn first_line(s: &str) -> String {
    let flat: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    flat.join(" ").chars().take(300).collect()
}

/// Converts the input once for every Rego rule of an evaluation. The
/// SBOM's components (the bulk: thousands of small objects) are built
/// directly, sharing their key strings; the rest goes through JSON text.
/// Same shape as the serialised `RuleInput`. `Err` when it cannot be built
/// (evidence nested deeper than the JSON reader's 128 levels once placed in
/// the input): the Rego rules then answer `error`, never an empty input that
/// would let them pass.
pub fn input_value(input: &RuleInput) -> Result<Value, String> {
    let text = super::input::without_components(|| serde_json::to_string(input))
        .map_err(|e| format!("the Rego input could not be built: {e}"))?;
    let mut root = Value::from_json_str(&text).map_err(|e| {
        format!(
            "the Rego input could not be built: {}",
            first_line(&e.to_string())
        )
    })?;
    if let Some(sbom) = &input.sbom {
        let components = cached_components(&sbom.components);
        let placed = root
            .as_object_mut()
            .ok()
            .and_then(|o| o.get_mut(&Value::from("sbom")))
            .and_then(|v| v.as_object_mut().ok())
            .map(|o| o.extend([(Value::from("components"), components)]));
        if placed.is_none() {
            return Err("the Rego input could not be built: no `sbom` object".into());
        }
    }
    Ok(root)
}

/// Component lists already converted, by content. An artifact is judged
/// again and again on the same immutable SBOM (a signature or build record
/// arrives, a set changes, several sets apply): converting 10,000 components
/// costs milliseconds, hashing them a fraction of that. The key is a SipHash
/// under this process's random key over every field, so lists cannot be
/// crafted to collide. Bounded by the components held, oldest out first.
fn cached_components(list: &[super::input::ComponentFacts]) -> Value {
    use std::sync::{LazyLock, Mutex};

    use crate::bounded::Bounded;

    static CACHE: LazyLock<Mutex<Bounded<u64, Value>>> =
        LazyLock::new(|| Mutex::new(Bounded::new(200_000)));
    let key = super::memo::rule_key(list);
    if let Some(v) = CACHE.lock().expect("not poisoned").get(&key) {
        // Values share their contents: this clone is a reference count.
        return v.clone();
    }
    let value = components_value(list);
    CACHE
        .lock()
        .expect("not poisoned")
        .insert(key, value.clone(), list.len());
    value
}

fn opt(v: &Option<String>) -> Value {
    match v {
        Some(s) => Value::from(s.as_str()),
        None => Value::Null,
    }
}

fn components_value(list: &[super::input::ComponentFacts]) -> Value {
    use std::collections::BTreeMap;
    let k = |name: &str| Value::from(name);
    let (kn, kv, kp, ks, kl, kh, kr) = (
        k("name"),
        k("version"),
        k("purl"),
        k("supplier"),
        k("licenses"),
        k("hashed"),
        k("is_root"),
    );
    let components: Vec<Value> = list
        .iter()
        .map(|c| {
            Value::from(BTreeMap::from([
                (kn.clone(), Value::from(c.name.as_str())),
                (kv.clone(), opt(&c.version)),
                (kp.clone(), opt(&c.purl)),
                (ks.clone(), opt(&c.supplier)),
                (kl.clone(), opt(&c.licenses)),
                (kh.clone(), Value::from(c.hashed)),
                (kr.clone(), Value::from(c.is_root)),
            ]))
        })
        .collect();
    Value::from(components)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Value {
        use crate::policies::core::input::{ComponentFacts, SbomFacts};
        let c = |name: &str, l: &str| ComponentFacts {
            name: name.into(),
            licenses: Some(l.into()),
            ..ComponentFacts::default()
        };
        input_value(&RuleInput {
            sbom: Some(SbomFacts {
                components: vec![c("a", "GPL-3.0-only"), c("b", "MIT")].into(),
                ..SbomFacts::default()
            }),
            ..RuleInput::default()
        })
        .unwrap()
    }

    #[test]
    fn the_input_has_the_shape_of_the_serialised_rule_input() {
        let input = RuleInput {
            sbom: Some(crate::policies::core::rules::tests::sbom_facts(
                "sbom/guac__alpine-cyclonedx.json",
            )),
            ..RuleInput::default()
        };
        let direct = input_value(&input).unwrap();
        let via_json = Value::from_json_str(&serde_json::to_string(&input).unwrap()).unwrap();
        assert_eq!(direct, via_json);
    }

    /// Bracket nesting is bounded at `MAX_NESTING`, outside strings and
    /// comments; past it the module is refused at once (the parser's work
    /// doubles per level, and its recursion once overflowed the stack).
    #[test]
    fn nesting_is_bounded_at_and_past_the_limit() {
        let nest = |n: usize| {
            format!(
                "package deep\nx := {}1{}\nviolations contains \"m\" if {{ x == 0 }}",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        RegoRule::compile(&nest(MAX_NESTING)).unwrap();
        let err = RegoRule::compile(&nest(MAX_NESTING + 1)).unwrap_err();
        assert_eq!(
            err,
            format!(
                "the Rego module nests brackets (or unary minus signs) {} levels deep, more than the {MAX_NESTING} allowed",
                MAX_NESTING + 1
            )
        );
        assert!(RegoRule::compile(&nest(6_000))
            .unwrap_err()
            .contains("6000 levels"));
        let minus = format!(
            "package m\nx := {}1\nviolations contains \"m\" if {{ x == 0 }}",
            "- ".repeat(MAX_NESTING + 1)
        );
        assert!(RegoRule::compile(&minus)
            .unwrap_err()
            .contains("levels deep"));
        // Brackets in strings and comments do not count.
        let quoted = format!(
            "package q\n# {}\nx := \"{}\"\nviolations contains x if {{ x == \"\" }}",
            "[".repeat(500),
            "{".repeat(500)
        );
        let r = RegoRule::compile(&quoted).unwrap();
        assert_eq!(
            r.evaluate(&input(), Duration::from_secs(1)).status,
            Status::Pass
        );
    }

    /// Verdicts follow from the evidence alone: random builtins are
    /// refused; the clock and UUID builtins do not exist.
    #[test]
    fn nondeterministic_builtins_are_refused() {
        let m = "package r\nviolations contains \"unlucky\" if { rand.intn(\"x\", 2) == 0 }";
        assert!(RegoRule::compile(m)
            .unwrap_err()
            .contains("not deterministic"));
        for absent in ["time.now_ns()", "uuid.rfc4122(\"x\")"] {
            let m = format!("package t\nviolations contains \"m\" if {{ x := {absent}; x == 0 }}");
            // Refused when saved, or an error when run: never a verdict.
            if let Ok(r) = RegoRule::compile(&m) {
                let out = r.evaluate(&input(), Duration::from_secs(1));
                assert_eq!(out.status, Status::Error, "{absent}: {out:?}");
            }
        }
        let ok = "package d\nviolations contains \"m\" if { count(input.signatures) > 100 }";
        assert_eq!(
            RegoRule::compile(ok)
                .unwrap()
                .evaluate(&input(), Duration::from_secs(1))
                .status,
            Status::Pass
        );
    }

    /// An operator chain as long as the module size allows (one level of
    /// parentheses, thousands of lines) compiles and runs on the policy
    /// thread's stack instead of overflowing a server thread's.
    #[test]
    fn the_longest_operator_chain_a_module_can_hold_runs() {
        let terms = (MAX_MODULE_BYTES - 200) / 4;
        let module = format!(
            "package chain\nx := (1{})\nviolations contains \"long\" if {{ x > 0 }}",
            " +\n1".repeat(terms - 1)
        );
        assert!(module.len() <= MAX_MODULE_BYTES);
        let r = RegoRule::compile(&module).unwrap();
        let out = on_large_stack(|| r.evaluate(&input(), Duration::from_secs(10)));
        assert_eq!(out.status, Status::Fail, "{out:?}");
        assert_eq!(out.violations[0].message, "long");
    }

    #[test]
    fn violations_become_a_failure() {
        let r = RegoRule::compile(
            r#"package cairn.nogpl
violations contains msg if {
    some c in input.sbom.components
    startswith(c.licenses, "GPL")
    msg := sprintf("%s is GPL", [c.name])
}"#,
        )
        .unwrap();
        assert_eq!(r.default_id(), "rego:cairn.nogpl");
        let out = r.evaluate(&input(), Duration::from_secs(1));
        assert_eq!(out.status, Status::Fail, "{out:?}");
        assert_eq!(out.violations[0].message, "a is GPL");
    }

    /// The VM and the interpreter agree, on rules like those the docs show.
    #[test]
    fn the_vm_agrees_with_the_interpreter() {
        let input = input_value(&RuleInput {
            sbom: Some(crate::policies::core::rules::tests::sbom_facts(
                "sbom/guac__alpine-cyclonedx.json",
            )),
            ..RuleInput::default()
        })
        .unwrap();
        let modules = [
            r#"package a
violations contains msg if {
    some c in input.sbom.components
    is_string(c.purl)
    startswith(c.purl, "pkg:alpine/busy")
    msg := sprintf("%s denied", [c.purl])
}"#,
            r#"package b
violations contains "too many components" if { count(input.sbom.components) > 3 }
violations contains sprintf("%s has no licence", [c.name]) if {
    some c in input.sbom.components
    not c.licenses
}"#,
            r#"package c
import rego.v1
denied := {"MIT", "Zlib"}
violations contains msg if {
    some c in input.sbom.components
    c.licenses in denied
    msg := concat(" ", [c.name, c.licenses])
}"#,
            r#"package d
violations contains m if {
    names := [c.name | some c in input.sbom.components; regex.match("^lib", c.name)]
    count(names) > 0
    m := sprintf("%d lib packages", [count(names)])
}"#,
        ];
        for m in modules {
            let r = RegoRule::compile(m).unwrap();
            assert!(r.compiled(), "runs in the VM: {m}");
            let limit = Duration::from_secs(5);
            let vm = r.evaluate(&input, limit);
            let interpreted = r.interpret(&input, limit).unwrap();
            let mut expected: Vec<String> = match interpreted {
                Value::Set(s) => s
                    .iter()
                    .map(|v| v.as_string().unwrap().to_string())
                    .collect(),
                other => panic!("{other}"),
            };
            let mut got: Vec<String> = vm.violations.iter().map(|v| v.message.clone()).collect();
            expected.sort();
            got.sort();
            assert_eq!(got, expected, "{m}");
            assert!(!got.is_empty(), "the module finds something: {m}");
        }
    }

    #[test]
    fn empty_violations_pass() {
        let r =
            RegoRule::compile("package ok\nviolations contains m if { m := \"x\"; input.nothing }")
                .unwrap();
        assert_eq!(
            r.evaluate(&input(), Duration::from_secs(1)).status,
            Status::Pass
        );
    }

    #[test]
    fn refused_and_invalid_modules() {
        assert!(RegoRule::compile("package x\nviolations contains m if {")
            .unwrap_err()
            .starts_with("invalid Rego"));
        assert!(RegoRule::compile(
            "package x\nviolations contains n if { some n in numbers.range(1, 1e12) }"
        )
        .unwrap_err()
        .contains("numbers.range"));
        assert!(RegoRule::compile("package x\nallow := true")
            .unwrap_err()
            .contains("violations"));
        // No network builtin exists in this build.
        let r = RegoRule::compile(
            "package x\nviolations contains m if { r := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1/\"}); m := \"x\" }",
        );
        match r {
            Err(e) => assert!(e.contains("http.send") || e.contains("invalid"), "{e}"),
            Ok(r) => assert_eq!(
                r.evaluate(&input(), Duration::from_secs(1)).status,
                Status::Error
            ),
        }
    }

    #[test]
    fn a_non_terminating_rule_is_stopped() {
        // Walks a cartesian product far too large to finish.
        let r = RegoRule::compile(
            r#"package spin
xs := [x | some x in ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p"]]
violations contains m if {
    some a in xs; some b in xs; some c in xs; some d in xs; some e in xs
    some f in xs; some g in xs; some h in xs; some i in xs; some j in xs
    m := concat("", [a, b, c, d, e, f, g, h, i, j])
    m == "never"
}"#,
        )
        .unwrap();
        let t = std::time::Instant::now();
        let out = r.evaluate(&input(), Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(out.status, Status::Error, "{out:?}");
        assert!(out.message.contains("evaluation limit"), "{}", out.message);
    }
}
