//! A small YAML tree with line numbers, built from `yaml-rust2` parser
//! events, with size and depth limits. Scalars stay strings (workflows are
//! read as text: `on` is a key, not `true`).

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

pub const MAX_DEPTH: usize = 64;
pub const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// An alias (`*x`): not followed.
    Alias,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line where the node starts.
    pub line: usize,
    /// A block scalar (`|`, `>`); its line is that of its first content line.
    pub block: bool,
    pub value: Value,
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
    /// The line of the `n`-th (0-based) line of a scalar's text.
    pub fn text_line(&self, n: usize) -> usize {
        self.line + n
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

enum Frame {
    Seq(usize, Vec<Node>),
    Map(usize, Vec<(Node, Node)>, Option<Node>),
}

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut nodes = 0usize;
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            line: e.marker().line(),
            message: e.info().to_owned(),
        })?;
        let line = mark.line();
        let done = match ev {
            Event::StreamEnd | Event::DocumentEnd if stack.is_empty() => {
                return Err(YamlError {
                    line,
                    message: "the document is empty".into(),
                })
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(line, Vec::new()));
                None
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(line, Vec::new(), None));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(l, items)) => Some(Node {
                    line: l,
                    block: false,
                    value: Value::Seq(items),
                }),
                _ => unreachable!("the parser balances sequences"),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(l, entries, _)) => Some(Node {
                    line: l,
                    block: false,
                    value: Value::Map(entries),
                }),
                _ => unreachable!("the parser balances mappings"),
            },
            Event::Scalar(s, style, ..) => Some(Node {
                line,
                block: matches!(style, TScalarStyle::Literal | TScalarStyle::Folded),
                value: Value::Scalar(s),
            }),
            Event::Alias(_) => Some(Node {
                line,
                block: false,
                value: Value::Alias,
            }),
            _ => None,
        };
        if stack.len() > MAX_DEPTH {
            return Err(YamlError {
                line,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        let Some(node) = done else { continue };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError {
                line,
                message: format!("more than {MAX_NODES} nodes"),
            });
        }
        match stack.last_mut() {
            None => return Ok(node),
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, key)) => match key.take() {
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
}
