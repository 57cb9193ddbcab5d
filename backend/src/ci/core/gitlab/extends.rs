//! `extends:` and `!reference` resolved as GitLab resolves them, within
//! the copy budget; what cannot be resolved becomes a [`Problem`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use super::super::short_name;
use super::super::yaml::{self, Budget, Node, Value};
use super::{
    MAX_COPIED_NODES, MAX_COPIED_TEXT, MAX_EXTENDS_LEVELS, MAX_PROBLEMS, MAX_REFERENCE_DEPTH,
    REFERENCE_TAG,
};

/// Why part of a definition cannot be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub line: usize,
    pub message: String,
    pub fix: &'static str,
}

pub(super) const FIX_UNKNOWN: &str = "define it in this file, or inline what the included file provides: Cairn checks one file at a time and does not fetch `include:`d files";
pub(super) const FIX_CYCLE: &str = "remove the cycle (GitLab refuses the pipeline)";

/// Resolving ran past [`MAX_COPIED_NODES`] / [`MAX_COPIED_TEXT`].
pub(super) struct Exhausted;

/// A top-level entry with its `extends:` merged in.
pub(super) struct Resolved<'a> {
    node: Cow<'a, Node>,
    /// Levels of `extends:` above it (0: none).
    height: usize,
    problems: Vec<Problem>,
}

/// A job as checked: its `extends:` resolved (shared), or a copy with its
/// `!reference`s resolved too.
pub(super) enum View<'a> {
    Shared(Rc<Resolved<'a>>),
    Owned(Node),
}

impl View<'_> {
    pub(super) fn node(&self) -> &Node {
        match self {
            View::Shared(r) => &r.node,
            View::Owned(n) => n,
        }
    }
}

pub(super) fn has_reference(node: &Node) -> bool {
    node.tag() == Some(REFERENCE_TAG)
        || match &node.value {
            Value::Seq(items) => items.iter().any(has_reference),
            Value::Map(entries) => entries.iter().any(|(_, v)| has_reference(v)),
            _ => false,
        }
}

/// GitLab's (ActiveSupport's) deep merge: `src` wins; mappings present on
/// both sides are merged key by key, anything else (lists included) is
/// replaced.
pub(super) fn deep_merge(dst: &mut Node, src: Node) {
    let Node {
        line,
        block,
        tag,
        value,
    } = src;
    match (&mut dst.value, value) {
        (Value::Map(d), Value::Map(s)) => {
            let mut index: HashMap<String, usize> = d
                .iter()
                .enumerate()
                .filter_map(|(i, (k, _))| k.as_str().map(|k| (k.to_owned(), i)))
                .collect();
            for (k, v) in s {
                match k.as_str().and_then(|k| index.get(k)).copied() {
                    Some(i) => {
                        let slot = &mut d[i];
                        slot.0 = k;
                        if matches!((&slot.1.value, &v.value), (Value::Map(_), Value::Map(_))) {
                            deep_merge(&mut slot.1, v);
                        } else {
                            slot.1 = v;
                        }
                    }
                    None => {
                        if let Some(k) = k.as_str() {
                            index.insert(k.to_owned(), d.len());
                        }
                        d.push((k, v));
                    }
                }
            }
            dst.line = line;
            dst.block = block;
            dst.tag = tag;
        }
        (_, value) => {
            *dst = Node {
                line,
                block,
                tag,
                value,
            }
        }
    }
}

/// `[a, b]`, each name cut.
pub(super) fn show_path(path: &[String]) -> String {
    let names: Vec<Cow<'_, str>> = path.iter().map(|p| short_name(p)).collect();
    format!("[{}]", names.join(", "))
}

pub(super) struct Resolver<'a> {
    top: HashMap<&'a str, &'a Node>,
    memo: HashMap<&'a str, Rc<Resolved<'a>>>,
    budget: Budget,
    /// The definition has an `include:`: an unknown name may come from it.
    includes: bool,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(doc: &'a Node) -> Resolver<'a> {
        Resolver {
            top: doc
                .entries()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v)))
                .collect(),
            memo: HashMap::new(),
            budget: Budget::new(MAX_COPIED_NODES, MAX_COPIED_TEXT),
            includes: doc.get("include").is_some(),
        }
    }

    pub(super) fn copy(&mut self, n: &Node) -> Result<Node, Exhausted> {
        if self.budget.take(n.size()) {
            Ok(n.clone())
        } else {
            Err(Exhausted)
        }
    }

    /// Adds `p` to `problems` (once, at most [`MAX_PROBLEMS`]); kept
    /// reasons count against the budget too.
    pub(super) fn note(
        &mut self,
        problems: &mut Vec<Problem>,
        p: Problem,
    ) -> Result<(), Exhausted> {
        if problems.len() >= MAX_PROBLEMS || problems.contains(&p) {
            return Ok(());
        }
        let size = yaml::Size {
            nodes: 1,
            text: p.message.len(),
            height: 0,
        };
        if !self.budget.take(size) {
            return Err(Exhausted);
        }
        problems.push(p);
        Ok(())
    }

    pub(super) fn unknown(&self, what: String) -> String {
        if self.includes {
            format!("{what}, which is not defined in this file (it may come from an `include:`, which Cairn does not fetch)")
        } else {
            format!("{what}, which is not defined in this file")
        }
    }

    /// The top-level entry `key` with its `extends:` merged in, memoised.
    /// `chain` holds the entries being resolved above it.
    pub(super) fn extended(
        &mut self,
        key: &'a str,
        chain: &mut Vec<&'a str>,
    ) -> Result<Rc<Resolved<'a>>, Exhausted> {
        if let Some(r) = self.memo.get(key) {
            return Ok(Rc::clone(r));
        }
        let node: &'a Node = self.top[key];
        let Some(ext) = node.get("extends") else {
            let r = Rc::new(Resolved {
                node: Cow::Borrowed(node),
                height: 0,
                problems: Vec::new(),
            });
            self.memo.insert(key, Rc::clone(&r));
            return Ok(r);
        };
        let who = short_name(key);
        let mut problems = Vec::new();
        let names: Vec<&'a Node> = match &ext.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![ext],
        };
        chain.push(key);
        let mut merged: Option<Node> = None;
        let mut height = 0;
        // A result cut short by the depth limit is not memoised: reached
        // from higher up, the same entry may resolve fully.
        let mut cut = false;
        for n in names {
            let Some(p) = n.as_str() else {
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!(
                            "the `extends:` of `{who}` is neither a name nor a list of names"
                        ),
                        fix: "write `extends: .template` or `extends: [.a, .b]`",
                    },
                )?;
                continue;
            };
            let shown = short_name(p);
            let Some((&p, &parent)) = self.top.get_key_value(p) else {
                let message = self.unknown(format!("`{who}` extends `{shown}`"));
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message,
                        fix: FIX_UNKNOWN,
                    },
                )?;
                continue;
            };
            if let Some(at) = chain.iter().position(|c| *c == p) {
                let cycle: Vec<Cow<'_, str>> = chain[at..]
                    .iter()
                    .chain([&p])
                    .map(|c| short_name(c))
                    .collect();
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!("`extends:` makes a cycle: {}", cycle.join(" → ")),
                        fix: FIX_CYCLE,
                    },
                )?;
                continue;
            }
            if !matches!(parent.value, Value::Map(_)) {
                self.note(
                    &mut problems,
                    Problem {
                        line: n.line,
                        message: format!(
                            "`{who}` extends `{shown}`, which is not a job or template (a mapping)"
                        ),
                        fix: "extend only jobs or templates",
                    },
                )?;
                continue;
            }
            let too_deep = Problem {
                line: n.line,
                message: format!("the `extends:` chain through `{who}` → `{shown}` is deeper than {MAX_EXTENDS_LEVELS} levels (a job and ten levels of templates: GitLab's limit)"),
                fix: "flatten the `extends:` chain (GitLab refuses the pipeline)",
            };
            // `p` has `chain.len()` entries above it.
            if chain.len() >= MAX_EXTENDS_LEVELS {
                self.note(&mut problems, too_deep)?;
                cut = true;
                continue;
            }
            let known = self.memo.contains_key(p);
            let r = self.extended(p, chain)?;
            if known && chain.len() + r.height >= MAX_EXTENDS_LEVELS {
                self.note(&mut problems, too_deep)?;
            }
            for q in &r.problems {
                self.note(&mut problems, q.clone())?;
            }
            height = height.max(r.height + 1);
            let copy = self.copy(&r.node)?;
            match &mut merged {
                None => merged = Some(copy),
                Some(m) => deep_merge(m, copy),
            }
        }
        chain.pop();
        let node = match merged {
            None => Cow::Borrowed(node),
            Some(mut m) => {
                let own = self.copy(node)?;
                deep_merge(&mut m, own);
                Cow::Owned(m)
            }
        };
        let r = Rc::new(Resolved {
            node,
            height,
            problems,
        });
        if !cut {
            self.memo.insert(key, Rc::clone(&r));
        }
        Ok(r)
    }

    /// Replaces every `!reference [...]` in `node` by the value it names,
    /// nested ones too (`depth`: how many references led here, `stack`
    /// their paths).
    pub(super) fn references(
        &mut self,
        node: &mut Node,
        depth: usize,
        stack: &mut Vec<Vec<String>>,
        problems: &mut Vec<Problem>,
    ) -> Result<(), Exhausted> {
        if node.tag() != Some(REFERENCE_TAG) {
            match &mut node.value {
                Value::Seq(items) => {
                    for i in items {
                        self.references(i, depth, stack, problems)?;
                    }
                }
                Value::Map(entries) => {
                    for (_, v) in entries {
                        self.references(v, depth, stack, problems)?;
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        let line = node.line;
        let path: Option<Vec<String>> = match &node.value {
            Value::Seq(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        // Unless resolved below, the reference stands for nothing.
        *node = Node {
            line,
            block: false,
            tag: None,
            value: Value::Seq(Vec::new()),
        };
        let Some(path) = path else {
            return self.note(
                problems,
                Problem {
                    line,
                    message: "a `!reference` that is not a list of names".into(),
                    fix: "write `!reference [.job, key, …]`",
                },
            );
        };
        let shown = show_path(&path);
        if depth >= MAX_REFERENCE_DEPTH {
            return self.note(
                problems,
                Problem {
                    line,
                    message: format!("`!reference {shown}` nests more than {MAX_REFERENCE_DEPTH} references deep (GitLab's limit)"),
                    fix: "reference the value directly (GitLab refuses the pipeline)",
                },
            );
        }
        if stack.contains(&path) {
            return self.note(
                problems,
                Problem {
                    line,
                    message: format!("`!reference {shown}` is part of a cycle of references"),
                    fix: FIX_CYCLE,
                },
            );
        }
        let Some((&top, _)) = self.top.get_key_value(path[0].as_str()) else {
            let message = self.unknown(format!(
                "`!reference {shown}` names `{}`",
                short_name(&path[0])
            ));
            return self.note(
                problems,
                Problem {
                    line,
                    message,
                    fix: FIX_UNKNOWN,
                },
            );
        };
        let r = self.extended(top, &mut Vec::new())?;
        for q in &r.problems {
            self.note(problems, q.clone())?;
        }
        let mut at: &Node = &r.node;
        for k in &path[1..] {
            match at.get(k) {
                Some(n) => at = n,
                None => {
                    return self.note(
                        problems,
                        Problem {
                            line,
                            message: format!(
                                "`!reference {shown}` names nothing: `{}` has no `{}`",
                                short_name(&path[0]),
                                short_name(k)
                            ),
                            fix: "reference a key that is defined in this file",
                        },
                    )
                }
            }
        }
        let mut value = self.copy(at)?;
        stack.push(path);
        self.references(&mut value, depth + 1, stack, problems)?;
        stack.pop();
        *node = value;
        Ok(())
    }

    /// `node` with its `!reference`s resolved: `None` when it has none.
    pub(super) fn resolve_references(
        &mut self,
        node: &Node,
        problems: &mut Vec<Problem>,
    ) -> Result<Option<Node>, Exhausted> {
        if !has_reference(node) {
            return Ok(None);
        }
        let mut n = self.copy(node)?;
        self.references(&mut n, 0, &mut Vec::new(), problems)?;
        Ok(Some(n))
    }

    /// The job `key` as GitLab runs it, and why it could not be resolved
    /// in full.
    pub(super) fn job(&mut self, key: &'a str) -> Result<(View<'a>, Vec<Problem>), Exhausted> {
        let r = self.extended(key, &mut Vec::new())?;
        let mut problems = r.problems.clone();
        Ok(match self.resolve_references(&r.node, &mut problems)? {
            Some(n) => (View::Owned(n), problems),
            None => (View::Shared(r), problems),
        })
    }
}
