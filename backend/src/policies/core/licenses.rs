//! SPDX licence expressions (SPDX spec annex D): `MIT`, `Apache-2.0 OR
//! MIT`, `(GPL-2.0-only WITH Classpath-exception-2.0) AND BSD-3-Clause`,
//! `LicenseRef-x`, `GPL-2.0+`. Operators are case-insensitive here (SBOMs in
//! the wild write `or`), precedence WITH > AND > OR.
//!
//! Expressions come from uploads, so every step is bounded: parentheses nest
//! at most [`MAX_DEPTH`] levels (the parser recurses once per level, and
//! nowhere else: `AND`/`OR` chains are n-ary nodes built in a loop), an
//! expression names at most [`MAX_TERMS`] licences, and judging is one
//! linear walk (no disjunctive normal form, which grows exponentially).

use std::collections::HashSet;
use std::fmt;

/// Deepest parenthesis nesting accepted. Real expressions nest two or three.
pub const MAX_DEPTH: usize = 32;
/// Most licence ids in one expression (a component's licences joined).
pub const MAX_TERMS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A licence id (with `+` kept) and an optional exception.
    License {
        id: String,
        exception: Option<String>,
    },
    /// All of these (two or more).
    And(Vec<Expr>),
    /// Any one of these (two or more).
    Or(Vec<Expr>),
}

/// Why an expression was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not an SPDX expression.
    Syntax(String),
    /// Beyond [`MAX_DEPTH`] or [`MAX_TERMS`]: refused, not guessed at.
    Limit(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Syntax(m) | ParseError::Limit(m) => f.write_str(m),
        }
    }
}

fn syntax<T>(m: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::Syntax(m.into()))
}

/// Checks the limits without parsing: linear, allocates nothing. For
/// uploads, which store the expression as written.
pub fn check_limits(s: &str) -> Result<(), ParseError> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in s.bytes() {
        match b {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        return Err(ParseError::Limit(format!(
            "the licence expression nests parentheses {deepest} levels deep (at most {MAX_DEPTH})"
        )));
    }
    let terms = s
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| !w.is_empty() && !is_operator(w))
        .count();
    if terms > MAX_TERMS {
        return Err(ParseError::Limit(format!(
            "the licence expression names {terms} licences (at most {MAX_TERMS})"
        )));
    }
    Ok(())
}

fn is_operator(word: &str) -> bool {
    ["AND", "OR", "WITH"]
        .iter()
        .any(|op| word.eq_ignore_ascii_case(op))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    With,
    Id(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, ParseError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open)
            }
            ')' => {
                chars.next();
                out.push(Tok::Close)
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                if !word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | ':'))
                {
                    return syntax(format!("`{word}` is not an SPDX licence identifier"));
                }
                out.push(match word.to_ascii_uppercase().as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "WITH" => Tok::With,
                    _ => Tok::Id(word),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// `a OR b OR ...`: one node, built in a loop.
    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.atom()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            terms.push(self.atom()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::And(terms)
        })
    }

    /// Recurses into `or` once per parenthesis: bounded by [`MAX_DEPTH`],
    /// checked before parsing.
    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return syntax("unbalanced parenthesis");
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Id(id)) => {
                self.pos += 1;
                let exception = if self.peek() == Some(&Tok::With) {
                    self.pos += 1;
                    match self.toks.get(self.pos).cloned() {
                        Some(Tok::Id(x)) => {
                            self.pos += 1;
                            Some(x)
                        }
                        _ => return syntax("WITH must be followed by an exception id"),
                    }
                } else {
                    None
                };
                Ok(Expr::License { id, exception })
            }
            Some(t) => syntax(format!("unexpected {t:?}")),
            None => syntax("unexpected end of expression"),
        }
    }
}

pub fn parse(s: &str) -> Result<Expr, ParseError> {
    check_limits(s)?;
    let mut p = Parser {
        toks: lex(s)?,
        pos: 0,
    };
    if p.toks.is_empty() {
        return syntax("empty licence expression");
    }
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return syntax(format!("unexpected {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

/// Whether `license` (upper-cased, `ID WITH EXC`) is in `list` (upper-cased
/// ids; an entry without exception also matches the id with any exception;
/// `X+` matches `X` and `X+`).
fn listed(license: &str, list: &[String]) -> bool {
    let base = license.split(" WITH ").next().unwrap_or(license);
    let bare = base.trim_end_matches('+');
    list.iter().any(|l| l == license || l == base || l == bare)
}

/// The verdict on an expression: `Ok(())` if some way to satisfy it uses
/// only allowed (when `allow` is non-empty) and no denied licences;
/// otherwise `Err` with the offending licences of one way that has the
/// fewest at each `OR`.
pub fn judge(e: &Expr, allow: &[String], deny: &[String]) -> Result<(), Vec<String>> {
    let upper = |l: &[String]| l.iter().map(|s| s.to_ascii_uppercase()).collect::<Vec<_>>();
    let (allow, deny) = (upper(allow), upper(deny));
    let bad =
        |license: &str| listed(license, &deny) || (!allow.is_empty() && !listed(license, &allow));
    match offending(e, &bad) {
        None => Ok(()),
        Some(list) => Err(list),
    }
}

/// One walk over the tree (its depth is bounded by [`MAX_DEPTH`]): `None`
/// when the expression can be satisfied, else the offending licences.
fn offending(e: &Expr, bad: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    match e {
        Expr::License { id, exception } => {
            let name = match exception {
                Some(x) => format!(
                    "{} WITH {}",
                    id.to_ascii_uppercase(),
                    x.to_ascii_uppercase()
                ),
                None => id.to_ascii_uppercase(),
            };
            bad(&name).then(|| vec![name])
        }
        Expr::Or(terms) => {
            let mut best: Option<Vec<String>> = None;
            for t in terms {
                let found = offending(t, bad)?;
                if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                    best = Some(found);
                }
            }
            best
        }
        Expr::And(terms) => {
            let mut seen = HashSet::new();
            let all: Vec<String> = terms
                .iter()
                .filter_map(|t| offending(t, bad))
                .flatten()
                .filter(|l| seen.insert(l.clone()))
                .collect();
            (!all.is_empty()).then_some(all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn id(s: &str) -> Expr {
        Expr::License {
            id: s.into(),
            exception: None,
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(
            parse("MIT OR Apache-2.0 AND GPL-3.0-only").unwrap(),
            Expr::Or(vec![
                id("MIT"),
                Expr::And(vec![id("Apache-2.0"), id("GPL-3.0-only")])
            ])
        );
        assert_eq!(
            parse("(MIT or Apache-2.0) AND BSD-3-Clause").unwrap(),
            Expr::And(vec![
                Expr::Or(vec![id("MIT"), id("Apache-2.0")]),
                id("BSD-3-Clause")
            ])
        );
        assert_eq!(
            parse("GPL-2.0-only WITH Classpath-exception-2.0").unwrap(),
            Expr::License {
                id: "GPL-2.0-only".into(),
                exception: Some("Classpath-exception-2.0".into())
            }
        );
        assert_eq!(
            parse("(MIT)AND(Zlib)").unwrap(),
            Expr::And(vec![id("MIT"), id("Zlib")])
        );
        // A chain is one node, not a nested one.
        assert_eq!(
            parse("A AND B AND C").unwrap(),
            Expr::And(vec![id("A"), id("B"), id("C")])
        );
    }

    #[test]
    fn judging() {
        let deny = l(&["GPL-3.0-only", "AGPL-3.0-only"]);
        let e = parse("MIT OR GPL-3.0-only").unwrap();
        assert_eq!(judge(&e, &[], &deny), Ok(()));
        let e = parse("MIT AND GPL-3.0-only").unwrap();
        assert_eq!(judge(&e, &[], &deny), Err(l(&["GPL-3.0-ONLY"])));
        let e =
            parse("(MIT AND GPL-3.0-only) OR (AGPL-3.0-only AND GPL-3.0-only AND Zlib)").unwrap();
        assert_eq!(judge(&e, &[], &deny), Err(l(&["GPL-3.0-ONLY"])));
        let e = parse("(GPL-3.0-only OR AGPL-3.0-only) AND (MIT OR GPL-3.0-only)").unwrap();
        assert_eq!(judge(&e, &[], &deny), Err(l(&["GPL-3.0-ONLY"])));
        let allow = l(&["MIT", "Apache-2.0"]);
        assert_eq!(judge(&parse("Apache-2.0").unwrap(), &allow, &[]), Ok(()));
        assert_eq!(
            judge(&parse("apache-2.0 and mit").unwrap(), &allow, &[]),
            Ok(())
        );
        assert_eq!(
            judge(&parse("BSD-3-Clause").unwrap(), &allow, &[]),
            Err(l(&["BSD-3-CLAUSE"]))
        );
        // Exceptions: listing the bare id covers it; `X+` is `X`.
        let allow = l(&["GPL-2.0-only", "LGPL-2.1"]);
        assert_eq!(
            judge(
                &parse("GPL-2.0-only WITH Classpath-exception-2.0").unwrap(),
                &allow,
                &[]
            ),
            Ok(())
        );
        assert_eq!(judge(&parse("LGPL-2.1+").unwrap(), &allow, &[]), Ok(()));
    }

    #[test]
    fn malformed() {
        for bad in [
            "", "MIT OR", "(MIT", "MIT)", "MIT WITH", "MIT; rm", "AND MIT", "()",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::Syntax(_))),
                "{bad:?} parsed"
            );
        }
    }

    #[test]
    fn depth_is_bounded_at_and_past_the_limit() {
        let nest = |n: usize| format!("{}MIT{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(parse(&nest(MAX_DEPTH)).unwrap(), id("MIT"));
        let err = parse(&nest(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(
            err,
            ParseError::Limit(format!(
                "the licence expression nests parentheses {} levels deep (at most {MAX_DEPTH})",
                MAX_DEPTH + 1
            ))
        );
        // The 12 KB expression that used to overflow the stack.
        assert!(matches!(parse(&nest(6_000)), Err(ParseError::Limit(_))));
        assert!(matches!(
            check_limits(&nest(6_000)),
            Err(ParseError::Limit(_))
        ));
        // Unbalanced deep nesting is refused by the same bound.
        assert!(matches!(
            parse(&"(".repeat(100_000)),
            Err(ParseError::Limit(_))
        ));
    }

    #[test]
    fn terms_are_bounded_at_and_past_the_limit() {
        let chain = |n: usize| vec!["MIT"; n].join(" AND ");
        let at = parse(&chain(MAX_TERMS)).unwrap();
        assert!(matches!(&at, Expr::And(t) if t.len() == MAX_TERMS));
        assert_eq!(judge(&at, &l(&["MIT"]), &[]), Ok(()));
        let err = parse(&chain(MAX_TERMS + 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the licence expression names {} licences (at most {MAX_TERMS})",
                MAX_TERMS + 1
            )
        );
        assert!(matches!(parse(&chain(20_000)), Err(ParseError::Limit(_))));
    }

    #[test]
    fn judging_is_linear_in_the_expression() {
        // 1,000 alternatives of two licences each, all denied: the old
        // normal-form expansion grew as 2^n; one walk answers at once.
        let e = parse(&vec!["(A OR B)"; MAX_TERMS / 2].join(" AND ")).unwrap();
        assert_eq!(judge(&e, &[], &l(&["A", "B"])), Err(l(&["A"])));
        assert_eq!(judge(&e, &[], &l(&["A"])), Ok(()));
    }
}
