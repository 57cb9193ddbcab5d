//! A small YAML tree with line numbers, built from `yaml-rust2` parser
//! events, with size and depth limits. Scalars stay strings (workflows are
//! read as text: `on` is a key, not `true`).
//!
//! Anchors and aliases are resolved: an alias (`*x`) becomes a copy of the
//! node its anchor (`&x`) names, with that node's line numbers (the lines
//! where the text is). Merge keys (`<<: *x`, `<<: [*x, *y]`, `<<: {…}`) are
//! merged as GitLab's YAML reader (Ruby's Psych) merges them, and a key
//! given twice keeps its last value. Copies are bounded: the tree, every
//! copy included, holds at most [`MAX_NODES`] nodes and [`MAX_TEXT`] bytes
//! of text and nests at most [`MAX_DEPTH`] levels, so an alias bomb
//! ("billion laughs") is refused after a few thousand steps instead of
//! being expanded. Tags (`!reference`, `!!str`) are kept on their nodes.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

pub const MAX_DEPTH: usize = 64;
/// Nodes in the tree, the copies aliases make included.
pub const MAX_NODES: usize = 200_000;
/// Bytes of scalar (and tag) text in the tree, the copies aliases make
/// included: 8 MiB, eight times the largest definition Cairn reads.
pub const MAX_TEXT: usize = 8 << 20;

/// The tag YAML gives a key that must not merge (`!!str <<`).
const STR_TAG: &str = "tag:yaml.org,2002:str";

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// An unresolved alias. [`parse`] never returns one (aliases are
    /// copied in); kept so that matches over `Value` stay as they were.
    Alias,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line where the node starts. A copy made by an alias keeps
    /// the line of the node its anchor names.
    pub line: usize,
    /// A block scalar (`|`, `>`); its line is that of its first content line.
    pub block: bool,
    /// The node's tag: `!reference` for GitLab's tag, `tag:yaml.org,2002:…`
    /// for YAML's own (`!!str`).
    pub tag: Option<String>,
    pub value: Value,
}

/// How big a subtree is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub nodes: usize,
    /// Bytes of scalar and tag text.
    pub text: usize,
    /// Levels of sequences and mappings (a scalar has 0).
    pub height: usize,
}

/// What copies of subtrees may still take: a node count and a text size,
/// drawn down by each copy.
#[derive(Debug, Clone)]
pub struct Budget {
    pub nodes: usize,
    pub text: usize,
}

impl Budget {
    pub fn new(nodes: usize, text: usize) -> Budget {
        Budget { nodes, text }
    }

    /// Takes `size` from the budget; `false` (and nothing taken) when it
    /// does not fit.
    pub fn take(&mut self, size: Size) -> bool {
        if size.nodes > self.nodes || size.text > self.text {
            return false;
        }
        self.nodes -= size.nodes;
        self.text -= size.text;
        true
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The line of the `n`-th (0-based) line of a scalar's text.
    pub fn text_line(&self, n: usize) -> usize {
        self.line + n
    }
    /// The size of this subtree (a walk over it; its depth is bounded).
    pub fn size(&self) -> Size {
        let own = self.tag.as_ref().map_or(0, String::len);
        let add = |mut acc: Size, n: &Node| {
            let s = n.size();
            acc.nodes += s.nodes;
            acc.text += s.text;
            acc.height = acc.height.max(s.height + 1);
            acc
        };
        let container = Size {
            nodes: 1,
            text: own,
            height: 1,
        };
        match &self.value {
            Value::Scalar(s) => Size {
                nodes: 1,
                text: own + s.len(),
                height: 0,
            },
            Value::Alias => Size {
                nodes: 1,
                text: own,
                height: 0,
            },
            Value::Seq(items) => items.iter().fold(container, add),
            Value::Map(entries) => entries
                .iter()
                .fold(container, |acc, (k, v)| add(add(acc, k), v)),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

enum Body {
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>, Option<Node>),
}

/// A sequence or mapping being read.
struct Open {
    line: usize,
    anchor: usize,
    tag: Option<String>,
    body: Body,
}

fn tag_name(t: Tag) -> String {
    t.handle + &t.suffix
}

/// The anchors some alias of the first document names: only those nodes
/// are kept for copying.
fn referenced_anchors(text: &str) -> HashSet<usize> {
    let mut parser = Parser::new_from_str(text);
    let mut out = HashSet::new();
    let mut depth = 0usize;
    // Errors and limits are reported by the second reading, which stops at
    // the same place.
    while let Ok((ev, _)) = parser.next_token() {
        match ev {
            Event::Alias(id) => {
                out.insert(id);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    break;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::DocumentEnd | Event::StreamEnd => break,
            _ => {}
        }
    }
    out
}

/// Counts what the tree holds, copies included, against the limits.
struct Tally {
    nodes: usize,
    text: usize,
    /// Whether an alias has been copied in (for the error message).
    expanded: bool,
}

impl Tally {
    fn add(&mut self, s: Size, line: usize) -> Result<(), YamlError> {
        self.nodes += s.nodes;
        self.text += s.text;
        let how = if self.expanded {
            " once aliases are expanded"
        } else {
            ""
        };
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                line,
                message: format!("more than {MAX_NODES} nodes{how}"),
            });
        }
        if self.text > MAX_TEXT {
            return Err(YamlError {
                line,
                message: format!("more than {} MiB of text{how}", MAX_TEXT >> 20),
            });
        }
        Ok(())
    }
}

/// Whether `k` is a merge key: `<<`, unless tagged `!!str`.
fn is_merge_key(k: &Node) -> bool {
    k.as_str() == Some("<<") && k.tag() != Some(STR_TAG)
}

/// A mapping's entries with merge keys merged and each key once.
///
/// As Ruby's Psych (GitLab's reader) does, entries are applied in order: a
/// key given again replaces the earlier value (keeping its place), and
/// `<<: *x` writes the entries of `x` at that point — so keys after the
/// merge key win over merged ones, and a merged key wins over the same key
/// written before `<<`. In `<<: [*x, *y]` the earlier mapping wins. A
/// merge key whose value is not a mapping (or a sequence of mappings) is an
/// ordinary key.
fn merge_entries(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    #[derive(Default)]
    struct Out {
        entries: Vec<(Node, Node)>,
        index: HashMap<String, usize>,
    }
    impl Out {
        fn put(&mut self, k: Node, v: Node) {
            if let Some(s) = k.as_str() {
                if let Some(&i) = self.index.get(s) {
                    self.entries[i] = (k, v);
                    return;
                }
                self.index.insert(s.to_owned(), self.entries.len());
            }
            self.entries.push((k, v));
        }
    }
    let mut out = Out::default();
    for (k, v) in entries {
        if is_merge_key(&k) {
            match v.value {
                Value::Map(m) => {
                    m.into_iter().for_each(|(mk, mv)| out.put(mk, mv));
                    continue;
                }
                Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => {
                    let mut merged = Out::default();
                    for item in items.into_iter().rev() {
                        if let Value::Map(m) = item.value {
                            m.into_iter().for_each(|(mk, mv)| merged.put(mk, mv));
                        }
                    }
                    merged
                        .entries
                        .into_iter()
                        .for_each(|(mk, mv)| out.put(mk, mv));
                    continue;
                }
                value => {
                    out.put(k, Node { value, ..v });
                    continue;
                }
            }
        }
        out.put(k, v);
    }
    out.entries
}

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let wanted = referenced_anchors(text);
    let mut anchors: HashMap<usize, (Node, Size)> = HashMap::new();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut tally = Tally {
        nodes: 0,
        text: 0,
        expanded: false,
    };
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            line: e.marker().line(),
            message: e.info().to_owned(),
        })?;
        let line = mark.line();
        // The node just completed and its anchor (0: none). A copy made by
        // an alias is already counted.
        let done: Option<(Node, usize)> = match ev {
            Event::StreamEnd | Event::DocumentEnd if stack.is_empty() => {
                return Err(YamlError {
                    line,
                    message: "the document is empty".into(),
                })
            }
            Event::SequenceStart(anchor, tag) => {
                stack.push(Open {
                    line,
                    anchor,
                    tag: tag.map(tag_name),
                    body: Body::Seq(Vec::new()),
                });
                None
            }
            Event::MappingStart(anchor, tag) => {
                stack.push(Open {
                    line,
                    anchor,
                    tag: tag.map(tag_name),
                    body: Body::Map(Vec::new(), None),
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else {
                    unreachable!("the parser balances sequences and mappings")
                };
                let value = match open.body {
                    Body::Seq(items) => Value::Seq(items),
                    Body::Map(entries, _) => Value::Map(merge_entries(entries)),
                };
                let node = Node {
                    line: open.line,
                    block: false,
                    tag: open.tag,
                    value,
                };
                tally.add(
                    Size {
                        nodes: 1,
                        text: node.tag.as_ref().map_or(0, String::len),
                        height: 0,
                    },
                    line,
                )?;
                Some((node, open.anchor))
            }
            Event::Scalar(s, style, anchor, tag) => {
                let node = Node {
                    line,
                    block: matches!(style, TScalarStyle::Literal | TScalarStyle::Folded),
                    tag: tag.map(tag_name),
                    value: Value::Scalar(s),
                };
                tally.add(node.size(), line)?;
                Some((node, anchor))
            }
            Event::Alias(id) => {
                let Some((target, size)) = anchors.get(&id) else {
                    return Err(YamlError {
                        line,
                        message: "an alias names a node that contains it (a recursive structure)"
                            .into(),
                    });
                };
                if stack.len() + size.height > MAX_DEPTH {
                    return Err(YamlError {
                        line,
                        message: format!(
                            "nesting deeper than {MAX_DEPTH} levels once aliases are expanded"
                        ),
                    });
                }
                tally.expanded = true;
                // Counted before it is copied: a bomb stops here.
                tally.add(*size, line)?;
                Some((target.clone(), 0))
            }
            _ => None,
        };
        if stack.len() > MAX_DEPTH {
            return Err(YamlError {
                line,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        let Some((node, anchor)) = done else { continue };
        if anchor != 0 && wanted.contains(&anchor) {
            // The kept copy counts too.
            let size = node.size();
            tally.add(size, line)?;
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => return Ok(node),
            Some(Open {
                body: Body::Seq(items),
                ..
            }) => items.push(node),
            Some(Open {
                body: Body::Map(entries, key),
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_limits() {
        let n = parse("on: push\njobs:\n  a:\n    steps:\n      - run: |\n          echo hi\n          echo ${{ x }}\n").unwrap();
        assert_eq!(n.get("on").unwrap().as_str(), Some("push"));
        let step = &n
            .get("jobs")
            .unwrap()
            .get("a")
            .unwrap()
            .get("steps")
            .unwrap()
            .items()[0];
        assert_eq!(step.line, 5);
        assert_eq!(step.get("run").unwrap().line, 6);
        let run = step.get("run").unwrap();
        assert!(run.block);
        assert_eq!(run.text_line(1), 7);
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));
        assert!(parse("a: [").is_err());
    }

    /// Depth is bounded at `MAX_DEPTH`, in flow and in block style (the
    /// YAML library itself only bounds flow nesting).
    #[test]
    fn depth_at_and_past_the_limit() {
        let flow = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse(&flow(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse(&flow(MAX_DEPTH + 1)).unwrap_err().message,
            format!("nesting deeper than {MAX_DEPTH} levels")
        );
        let block = |n: usize| {
            (0..n)
                .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
                .collect::<String>()
                + &"  ".repeat(n)
                + "leaf\n"
        };
        assert!(parse(&block(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse(&block(MAX_DEPTH + 1)).unwrap_err().message,
            format!("nesting deeper than {MAX_DEPTH} levels")
        );
        // Far past it, in block style: refused, not a stack overflow.
        assert!(parse(&block(5_000)).is_err());
    }

    fn scalar<'n>(n: &'n Node, path: &[&str]) -> &'n str {
        path.iter()
            .fold(n, |n, k| n.get(k).unwrap_or_else(|| panic!("no {k}")))
            .as_str()
            .unwrap()
    }

    #[test]
    fn aliases_are_copied_with_their_lines() {
        let n = parse("x: &img python:latest\njob:\n  image: *img\n  vars: &v\n    A: 1\n  again: *v\nlist: &l [a, b]\ncopy: *l\n").unwrap();
        let image = n.get("job").unwrap().get("image").unwrap();
        assert_eq!(image.as_str(), Some("python:latest"));
        assert_eq!(image.line, 1, "the line where the text is");
        let again = n.get("job").unwrap().get("again").unwrap();
        assert_eq!(scalar(again, &["A"]), "1");
        assert_eq!(again.get("A").unwrap().line, 5);
        let copy = n.get("copy").unwrap();
        assert_eq!(copy.items().len(), 2);
        assert_eq!(copy.items()[1].as_str(), Some("b"));
        // An anchor named again names the later node from there on.
        let n = parse("a: &x one\nb: *x\nc: &x two\nd: *x\n").unwrap();
        assert_eq!(scalar(&n, &["b"]), "one");
        assert_eq!(scalar(&n, &["d"]), "two");
        // A node cannot contain an alias to itself.
        let e = parse("a: &x [1, *x]\n").unwrap_err();
        assert!(e.message.contains("recursive"), "{e}");
        assert!(parse("a: *nowhere\n").is_err());
    }

    #[test]
    fn tags_are_kept() {
        let n = parse(
            "job:\n  script:\n    - !reference [.setup, script]\n    - echo\n  key: !!str <<\n",
        )
        .unwrap();
        let r = &n.get("job").unwrap().get("script").unwrap().items()[0];
        assert_eq!(r.tag(), Some("!reference"));
        assert_eq!(r.line, 3);
        assert_eq!(r.items().len(), 2);
        assert_eq!(r.items()[0].as_str(), Some(".setup"));
        let k = n.get("job").unwrap().get("key").unwrap();
        assert_eq!(k.tag(), Some(STR_TAG));
        assert_eq!(n.get("job").unwrap().tag(), None);
    }

    #[test]
    fn merge_keys() {
        // One mapping; keys after the merge key win.
        let n = parse(".d: &d\n  image: python:latest\n  tags: [a]\njob:\n  <<: *d\n  tags: [b]\n")
            .unwrap();
        let job = n.get("job").unwrap();
        assert_eq!(scalar(job, &["image"]), "python:latest");
        assert_eq!(job.get("image").unwrap().line, 2);
        assert_eq!(job.get("tags").unwrap().items()[0].as_str(), Some("b"));
        assert!(job.get("<<").is_none());
        assert_eq!(job.entries().len(), 2, "each key once");
        // A list: the earlier mapping wins; an inline mapping merges too.
        let n = parse(
            "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nj: {<<: [*a, *b], w: 0}\nk: {<<: {x: 3}}\n",
        )
        .unwrap();
        let j = n.get("j").unwrap();
        assert_eq!(
            [
                scalar(j, &["x"]),
                scalar(j, &["y"]),
                scalar(j, &["z"]),
                scalar(j, &["w"])
            ],
            ["1", "1", "2", "0"]
        );
        assert_eq!(scalar(&n, &["k", "x"]), "3");
        // As GitLab's reader (Psych) does: a merged key replaces the same
        // key written before `<<`, so it cannot hide what GitLab runs.
        let n = parse("d: &d {image: python:latest}\nj:\n  image: alpine@sha256:x\n  <<: *d\n")
            .unwrap();
        assert_eq!(scalar(&n, &["j", "image"]), "python:latest");
        // Not a mapping, or tagged `!!str`: an ordinary key.
        let n = parse("s: &s text\nj: {<<: *s, !!str <<: {a: 1}}\n").unwrap();
        let j = n.get("j").unwrap();
        assert_eq!(j.entries().len(), 1, "the same key `<<`, twice");
        assert!(j.get("<<").unwrap().get("a").is_some());
        // A key given twice keeps its last value.
        let n = parse("j:\n  image: alpine@sha256:x\n  image: python:latest\n").unwrap();
        assert_eq!(scalar(&n, &["j", "image"]), "python:latest");
        assert_eq!(n.get("j").unwrap().entries().len(), 1);
    }

    /// "Billion laughs": nine levels of ten aliases each would be 10⁹
    /// nodes. Refused from the size of what each alias names, before any
    /// copy is made.
    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..=9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let start = std::time::Instant::now();
        let e = parse(&doc).unwrap_err();
        assert_eq!(
            e.message,
            format!("more than {MAX_NODES} nodes once aliases are expanded")
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        // Within the bound, the same construction is read: 10⁴ copies.
        let small: String = doc.lines().take(4).map(|l| format!("{l}\n")).collect();
        let n = parse(&small).unwrap();
        assert_eq!(n.get("a3").unwrap().items()[9].items()[9].items().len(), 10);
        // Few nodes but much text: a 512 KiB scalar named 20 times.
        let text = format!(
            "a: &a {}\nb: [{}]\n",
            "x".repeat(512 << 10),
            vec!["*a"; 20].join(", ")
        );
        assert_eq!(
            parse(&text).unwrap_err().message,
            format!(
                "more than {} MiB of text once aliases are expanded",
                MAX_TEXT >> 20
            )
        );
        // Depth: each alias one level deeper than the last.
        let mut deep = String::from("a0: &a0 [x]\n");
        for i in 1..100 {
            deep.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        assert_eq!(
            parse(&deep).unwrap_err().message,
            format!("nesting deeper than {MAX_DEPTH} levels once aliases are expanded")
        );
    }
}
