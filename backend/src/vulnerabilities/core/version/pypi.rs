//! PyPI versions, ordered by PEP 440 as the `packaging` library orders them.
//!
//! Grammar (PEP 440 appendix B, case-insensitive): `v? [N!] N(.N)* [{a|b|rc}N] [.postN]
//! [.devN] [+local]`, with the spelling variants PEP 440 normalises: `alpha`/`beta`,
//! `c`/`pre`/`preview` for rc, `rev`/`r` for post, the implicit post release `1.0-1`,
//! optional `-`/`_`/`.` separators and missing numbers (zero).
//!
//! Order (`packaging`'s `_cmpkey`): epoch; release, zero-padded (1.0 == 1.0.0); pre-release
//! (a < b < rc, none after every pre-release, except that a bare `.devN` sorts before all
//! of the release's pre-releases); post (none first); dev (none last); local (none first;
//! segments numeric > alphanumeric, numbers by value, strings lexically, more segments
//! win a tie).
//!
//! Versions that are not PEP 440 ("legacy" versions such as `0.9-doduo`) are ordered the
//! way osv-scalibr orders them, after setuptools' old `LegacyVersion`: always below every
//! PEP 440 version, and among themselves by a normalised key.

use std::cmp::Ordering;

use super::{cmp_digits, digits_len};

#[derive(Debug, Clone)]
pub(super) enum PyPIVersion {
    Pep440(Pep440),
    /// The joined legacy key (see [`legacy_key`]).
    Legacy(Box<str>),
}

#[derive(Debug, Clone)]
pub(super) struct Pep440 {
    epoch: Box<str>,
    release: Vec<Box<str>>,
    /// (phase: 0 = a, 1 = b, 2 = rc; number)
    pre: Option<(u8, Box<str>)>,
    post: Option<Box<str>>,
    dev: Option<Box<str>>,
    local: Option<Vec<LocalPart>>,
}

#[derive(Debug, Clone)]
enum LocalPart {
    Num(Box<str>),
    Str(Box<str>),
}

impl PyPIVersion {
    pub(super) fn compare(&self, other: &PyPIVersion) -> Ordering {
        match (self, other) {
            (PyPIVersion::Pep440(a), PyPIVersion::Pep440(b)) => a.compare(b),
            (PyPIVersion::Legacy(_), PyPIVersion::Pep440(_)) => Ordering::Less,
            (PyPIVersion::Pep440(_), PyPIVersion::Legacy(_)) => Ordering::Greater,
            (PyPIVersion::Legacy(a), PyPIVersion::Legacy(b)) => a.cmp(b),
        }
    }
}

/// `packaging`'s pre-release key: a bare dev release sorts first, no pre-release last.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    DevOnly,
    Pre(u8, Num<'a>),
    Final,
}

/// A digit string ordered by value.
#[derive(PartialEq, Eq)]
struct Num<'a>(&'a str);

impl PartialOrd for Num<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(self.0, other.0)
    }
}

impl Pep440 {
    fn pre_key(&self) -> PreKey<'_> {
        match &self.pre {
            Some((phase, n)) => PreKey::Pre(*phase, Num(n)),
            None if self.post.is_none() && self.dev.is_some() => PreKey::DevOnly,
            None => PreKey::Final,
        }
    }

    fn compare(&self, other: &Pep440) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| super::semver::cmp_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            // No post release sorts first: Option's None < Some.
            .then_with(|| {
                let a = self.post.as_deref().map(Num);
                let b = other.post.as_deref().map(Num);
                a.cmp(&b)
            })
            // No dev release sorts last.
            .then_with(|| match (&self.dev, &other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => cmp_digits(a, b),
            })
            .then_with(|| match (&self.local, &other.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_local(a, b),
            })
    }
}

fn cmp_local(a: &[LocalPart], b: &[LocalPart]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (LocalPart::Num(x), LocalPart::Num(y)) => cmp_digits(x, y),
            (LocalPart::Num(_), LocalPart::Str(_)) => Ordering::Greater,
            (LocalPart::Str(_), LocalPart::Num(_)) => Ordering::Less,
            (LocalPart::Str(x), LocalPart::Str(y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

pub(super) fn parse(s: &str) -> Option<PyPIVersion> {
    let lower = s.to_ascii_lowercase();
    Some(match parse_pep440(&lower) {
        Some(v) => PyPIVersion::Pep440(v),
        None => PyPIVersion::Legacy(legacy_key(&lower).into()),
    })
}

/// 1 if `b[i]` is one of PEP 440's optional separators.
fn sep(b: &[u8], i: usize) -> usize {
    usize::from(matches!(b.get(i), Some(b'-' | b'_' | b'.')))
}

/// The first of `words` that `b[i..]` starts with (callers list longer spellings first).
fn word<T: Copy>(b: &[u8], i: usize, words: &[(&str, T)]) -> Option<(usize, T)> {
    let rest = b.get(i..)?;
    words
        .iter()
        .find(|(w, _)| rest.starts_with(w.as_bytes()))
        .map(|(w, v)| (w.len(), *v))
}

/// An optional separator and an optional number after a pre/post/dev keyword: the number
/// ("0" when missing) and the new position. The separator is taken even without a number,
/// as the PEP 440 regex's greedy `[-_\.]?` does.
fn number_after(s: &str, i: usize) -> (Box<str>, usize) {
    let b = s.as_bytes();
    let j = i + sep(b, i);
    let n = digits_len(&b[j..]);
    if n == 0 {
        ("0".into(), j)
    } else {
        (s[j..j + n].into(), j + n)
    }
}

/// A deterministic reading of PEP 440's regex: at each optional part it takes the longest
/// spelling and the greedy separator, which is the match the regex finds.
fn parse_pep440(s: &str) -> Option<Pep440> {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'v'));

    let mut epoch: Box<str> = "0".into();
    let n = digits_len(&b[i..]);
    if n > 0 && b.get(i + n) == Some(&b'!') {
        epoch = s[i..i + n].into();
        i += n + 1;
    }

    let mut release = Vec::new();
    loop {
        let n = digits_len(&b[i..]);
        if n == 0 {
            return None;
        }
        release.push(s[i..i + n].into());
        i += n;
        if b.get(i) == Some(&b'.') && digits_len(&b[i + 1..]) > 0 {
            i += 1;
        } else {
            break;
        }
    }

    let mut pre = None;
    let j = i + sep(b, i);
    const PRE: &[(&str, u8)] = &[
        ("alpha", 0),
        ("a", 0),
        ("beta", 1),
        ("b", 1),
        ("preview", 2),
        ("pre", 2),
        ("rc", 2),
        ("c", 2),
    ];
    if let Some((len, phase)) = word(b, j, PRE) {
        let (n, next) = number_after(s, j + len);
        pre = Some((phase, n));
        i = next;
    }

    let mut post = None;
    let n = if b.get(i) == Some(&b'-') {
        digits_len(&b[i + 1..])
    } else {
        0
    };
    if n > 0 {
        // The implicit post release: "1.0-1".
        post = Some(s[i + 1..i + 1 + n].into());
        i += 1 + n;
    } else {
        let j = i + sep(b, i);
        if let Some((len, ())) = word(b, j, &[("post", ()), ("rev", ()), ("r", ())]) {
            let (n, next) = number_after(s, j + len);
            post = Some(n);
            i = next;
        }
    }

    let mut dev = None;
    let j = i + sep(b, i);
    if let Some((len, ())) = word(b, j, &[("dev", ())]) {
        let (n, next) = number_after(s, j + len);
        dev = Some(n);
        i = next;
    }

    let mut local = None;
    if b.get(i) == Some(&b'+') {
        let text = &s[i + 1..];
        let parts: Option<Vec<LocalPart>> = text
            .split(['.', '-', '_'])
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric()) {
                    None
                } else if p.bytes().all(|c| c.is_ascii_digit()) {
                    Some(LocalPart::Num(p.into()))
                } else {
                    Some(LocalPart::Str(p.into()))
                }
            })
            .collect();
        local = Some(parts?);
        i = b.len();
    }

    (i == b.len()).then_some(Pep440 {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// osv-scalibr's key for a legacy (non-PEP 440) version: the tokens of
/// `\d+|[a-z]+|\.|-` plus a final "final", numbers zero-padded to 8, words prefixed with
/// `*` (with `pre`/`preview`/`rc` → `c`, `dev` → `@`, `-` → `final-`), trailing zeros and
/// `final-` markers dropped before a word, and all joined into one string.
fn legacy_key(lower: &str) -> String {
    let b = lower.as_bytes();
    let mut tokens: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let len = if c.is_ascii_digit() {
            digits_len(&b[i..])
        } else if c.is_ascii_lowercase() {
            b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count()
        } else if c == b'.' || c == b'-' {
            1
        } else {
            // Anything else is dropped (byte by byte; no token starts mid-character).
            i += 1;
            continue;
        };
        tokens.push(&lower[i..i + len]);
        i += len;
    }
    tokens.push("final");

    let mut parts: Vec<String> = Vec::new();
    for token in tokens {
        if token == "." {
            continue;
        }
        let part = match token {
            "pre" | "preview" | "rc" => "*c".to_string(),
            "-" => "*final-".to_string(),
            "dev" => "*@".to_string(),
            t if t.starts_with(|c: char| c.is_ascii_digit()) => format!("{t:0>8}"),
            t => format!("*{t}"),
        };
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts.concat()
}
