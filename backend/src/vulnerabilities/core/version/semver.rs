//! SemVer 2.0.0 precedence (<https://semver.org/spec/v2.0.0.html>, §11) as node-semver
//! implements it, for npm, crates.io, Hex and the generic SEMVER ecosystems; and Dart's
//! `pub_semver` variant for Pub, which also orders build metadata.
//!
//! Precedence: numeric release components, then a pre-release sorts before the release;
//! pre-release identifiers compare numerically when all digits, otherwise in ASCII order,
//! numeric before alphanumeric, a longer list wins a tie. Build metadata (`+…`) is
//! ignored, except for Pub where a build sorts after no build and builds compare like
//! pre-releases.
//!
//! The grammar is a little wider than strict SemVer, as OSV data and node-semver's loose
//! mode are: a leading `v` or `=` is dropped, leading zeros are tolerated, a short release
//! ("1.2") is zero-padded, components past the third compare as further numbers, and a
//! pre-release may start without its `-` when it starts with a letter ("1.0.0beta").

use std::cmp::Ordering;

use super::{cmp_digits, digits_len, is_digits};

/// A parsed semver-like version (also what Go versions are turned into).
#[derive(Debug, Clone)]
pub(super) struct Semver {
    release: Vec<Box<str>>,
    pre: Vec<Ident>,
    build: Vec<Ident>,
    /// Pub orders build metadata; everyone else ignores it.
    ordered_build: bool,
}

/// A dot-separated identifier of a pre-release (or build) label.
#[derive(Debug, Clone)]
pub(super) enum Ident {
    Num(Box<str>),
    Alnum(Box<str>),
}

impl Ident {
    pub(super) fn new(s: &str) -> Ident {
        if is_digits(s) {
            Ident::Num(s.into())
        } else {
            Ident::Alnum(s.into())
        }
    }
}

impl Semver {
    pub(super) fn new(release: Vec<Box<str>>, pre: Vec<Ident>) -> Semver {
        Semver {
            release,
            pre,
            build: Vec::new(),
            ordered_build: false,
        }
    }

    pub(super) fn compare(&self, other: &Semver) -> Ordering {
        cmp_release(&self.release, &other.release)
            .then_with(|| cmp_pre(&self.pre, &other.pre))
            .then_with(|| {
                if !(self.ordered_build && other.ordered_build) {
                    return Ordering::Equal;
                }
                // pub_semver: no build sorts before any build.
                match (self.build.is_empty(), other.build.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => cmp_idents(&self.build, &other.build),
                }
            })
    }
}

/// Numeric release components, the shorter padded with zeros.
pub(super) fn cmp_release(a: &[Box<str>], b: &[Box<str>]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).map_or("0", |s| s);
        let y = b.get(i).map_or("0", |s| s);
        let o = cmp_digits(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A version without pre-release sorts after every pre-release of it.
pub(super) fn cmp_pre(a: &[Ident], b: &[Ident]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => cmp_idents(a, b),
    }
}

/// SemVer §11.4: identifier by identifier, then the longer list wins.
pub(super) fn cmp_idents(a: &[Ident], b: &[Ident]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Ident::Num(x), Ident::Num(y)) => cmp_digits(x, y),
            (Ident::Num(_), Ident::Alnum(_)) => Ordering::Less,
            (Ident::Alnum(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alnum(x), Ident::Alnum(y)) => x.as_bytes().cmp(y.as_bytes()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Splits a dot-separated label into identifiers of `[0-9A-Za-z-]`, none empty.
pub(super) fn parse_idents(s: &str) -> Option<Vec<Ident>> {
    s.split('.')
        .map(|id| {
            let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            ok.then(|| Ident::new(id))
        })
        .collect()
}

/// Dot-separated numeric components at the start of `s`: the components and the rest.
/// `None` if `s` does not start with a digit or a dot is not followed by one.
pub(super) fn parse_release(s: &str) -> Option<(Vec<Box<str>>, &str)> {
    let mut release = Vec::new();
    let mut rest = s;
    loop {
        let n = digits_len(rest.as_bytes());
        if n == 0 {
            return None;
        }
        release.push(rest[..n].into());
        rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => return Some((release, rest)),
        }
    }
}

/// Parses a semver-family version; `ordered_build` selects Pub's build ordering.
pub(super) fn parse(s: &str, ordered_build: bool) -> Option<Semver> {
    // node-semver's clean(): leading "v" and "=" are decoration.
    let s = s.trim_start_matches(['v', '=']);
    let (release, rest) = parse_release(s)?;
    let (rest, build) = match rest.split_once('+') {
        Some((rest, build)) => (rest, parse_idents(build)?),
        None => (rest, Vec::new()),
    };
    let pre = if rest.is_empty() {
        Vec::new()
    } else if let Some(pre) = rest.strip_prefix('-') {
        parse_idents(pre)?
    } else if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        parse_idents(rest)?
    } else {
        return None;
    };
    Some(Semver {
        release,
        pre,
        build,
        ordered_build,
    })
}
