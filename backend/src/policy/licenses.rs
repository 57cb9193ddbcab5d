//! SPDX licence expressions (SPDX spec annex D): `MIT`, `Apache-2.0 OR
//! MIT`, `(GPL-2.0-only WITH Classpath-exception-2.0) AND BSD-3-Clause`,
//! `LicenseRef-x`, `GPL-2.0+`. Operators are case-insensitive here (SBOMs in
//! the wild write `or`), precedence WITH > AND > OR.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A licence id (with `+` kept) and an optional exception.
    License {
        id: String,
        exception: Option<String>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
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

fn lex(s: &str) -> Result<Vec<Tok>, String> {
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
                    return Err(format!("`{word}` is not an SPDX licence identifier"));
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
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }
    fn atom(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err("unbalanced parenthesis".into());
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
                        _ => return Err("WITH must be followed by an exception id".into()),
                    }
                } else {
                    None
                };
                Ok(Expr::License { id, exception })
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

pub fn parse(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(s)?,
        pos: 0,
    };
    if p.toks.is_empty() {
        return Err("empty licence expression".into());
    }
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?}", p.toks[p.pos]));
    }
    Ok(e)
}

/// Licence ids (upper-cased, exceptions as `ID WITH EXC`) of one way to
/// satisfy the expression: the disjunctive normal form, capped.
pub fn choices(e: &Expr) -> Vec<Vec<String>> {
    const CAP: usize = 64;
    match e {
        Expr::License { id, exception } => vec![vec![match exception {
            Some(x) => format!(
                "{} WITH {}",
                id.to_ascii_uppercase(),
                x.to_ascii_uppercase()
            ),
            None => id.to_ascii_uppercase(),
        }]],
        Expr::Or(a, b) => {
            let mut v = choices(a);
            v.extend(choices(b));
            v.truncate(CAP);
            v
        }
        Expr::And(a, b) => {
            let (l, r) = (choices(a), choices(b));
            let mut v = Vec::new();
            for x in &l {
                for y in &r {
                    if v.len() < CAP {
                        v.push(x.iter().chain(y).cloned().collect());
                    }
                }
            }
            v
        }
    }
}

/// Whether `license` (a `choices` entry) is in `list` (ids; an entry
/// without exception also matches the id with any exception; `X+` matches
/// `X` and `X+`).
fn listed(license: &str, list: &[String]) -> bool {
    let base = license.split(" WITH ").next().unwrap_or(license);
    let bare = base.trim_end_matches('+');
    list.iter().any(|l| {
        let l = l.to_ascii_uppercase();
        l == license || l == base || l == bare
    })
}

/// The verdict on an expression: `Ok(())` if some choice uses only allowed
/// (when `allow` is non-empty) and no denied licences; otherwise `Err` with
/// the offending licences of the best choice.
pub fn judge(e: &Expr, allow: &[String], deny: &[String]) -> Result<(), Vec<String>> {
    let mut best: Option<Vec<String>> = None;
    for choice in choices(e) {
        let bad: Vec<String> = choice
            .iter()
            .filter(|l| listed(l, deny) || (!allow.is_empty() && !listed(l, allow)))
            .cloned()
            .collect();
        if bad.is_empty() {
            return Ok(());
        }
        if best.as_ref().is_none_or(|b| bad.len() < b.len()) {
            best = Some(bad);
        }
    }
    Err(best.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_and_choices() {
        let e = parse("MIT OR Apache-2.0 AND GPL-3.0-only").unwrap();
        assert_eq!(
            choices(&e),
            vec![l(&["MIT"]), l(&["APACHE-2.0", "GPL-3.0-ONLY"])]
        );
        let e = parse("(MIT or Apache-2.0) AND BSD-3-Clause").unwrap();
        assert_eq!(choices(&e).len(), 2);
        let e = parse("GPL-2.0-only WITH Classpath-exception-2.0").unwrap();
        assert_eq!(
            choices(&e),
            vec![l(&["GPL-2.0-ONLY WITH CLASSPATH-EXCEPTION-2.0"])]
        );
    }

    #[test]
    fn judging() {
        let deny = l(&["GPL-3.0-only", "AGPL-3.0-only"]);
        let e = parse("MIT OR GPL-3.0-only").unwrap();
        assert_eq!(judge(&e, &[], &deny), Ok(()));
        let e = parse("MIT AND GPL-3.0-only").unwrap();
        assert_eq!(judge(&e, &[], &deny), Err(l(&["GPL-3.0-ONLY"])));
        let allow = l(&["MIT", "Apache-2.0"]);
        assert_eq!(judge(&parse("Apache-2.0").unwrap(), &allow, &[]), Ok(()));
        assert_eq!(
            judge(&parse("BSD-3-Clause").unwrap(), &allow, &[]),
            Err(l(&["BSD-3-CLAUSE"]))
        );
        // Exceptions: listing the bare id covers it.
        let allow = l(&["GPL-2.0-only"]);
        assert_eq!(
            judge(
                &parse("GPL-2.0-only WITH Classpath-exception-2.0").unwrap(),
                &allow,
                &[]
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed() {
        assert!(parse("").is_err());
        assert!(parse("MIT OR").is_err());
        assert!(parse("(MIT").is_err());
        assert!(parse("MIT WITH").is_err());
        assert!(parse("MIT; rm").is_err());
    }
}
