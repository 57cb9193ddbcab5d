//! Alpine (apk) versions, ordered as apk-tools 2.x (`apk version -t`, src/version.c)
//! orders them, in the structured form osv-scalibr uses, which agrees with apk on its
//! test vectors:
//!
//! `number{.number}…{letter}{_suffix{number}}…{~hash}{-r#}`
//!
//! - numbers compare by value, except that from the second one on, a number with a
//!   leading zero compares as a string (apk's Gentoo-style rule: 1.01 < 1.1);
//! - an optional single letter a–z (none < any);
//! - suffixes `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` <
//!   `_hg` < `_p`, each with an optional number;
//! - the commit hash `~…` is ignored;
//! - then the `-rN` revision (missing = 0).
//!
//! What does not fit the grammar is "invalid": apk still orders it (`apk version -t`
//! accepts anything), so it is kept: two invalid versions compare as strings, and an
//! invalid version sorts below a valid one that is otherwise equal.

use std::cmp::Ordering;

use super::{cmp_digits, digits_len};

#[derive(Debug, Clone)]
pub(super) struct ApkVersion {
    original: Box<str>,
    invalid: bool,
    remainder_empty: bool,
    /// Number components as written ("" only after a trailing dot).
    numbers: Vec<Box<str>>,
    letter: Option<u8>,
    /// (weight, number) — see [`SUFFIXES`].
    suffixes: Vec<(u8, Box<str>)>,
    revision: Box<str>,
}

/// In sort order; "" (no suffix) sits between the pre- and the post-release ones.
const SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const NO_SUFFIX: u8 = 4;

impl ApkVersion {
    pub(super) fn compare(&self, other: &ApkVersion) -> Ordering {
        if self.invalid && other.invalid {
            return self.original.cmp(&other.original);
        }
        self.cmp_numbers(other)
            .then_with(|| self.letter.cmp(&other.letter))
            .then_with(|| {
                let none = (NO_SUFFIX, "".into());
                for i in 0..self.suffixes.len().max(other.suffixes.len()) {
                    let (wa, na) = self.suffixes.get(i).unwrap_or(&none);
                    let (wb, nb) = other.suffixes.get(i).unwrap_or(&none);
                    let o = wa.cmp(wb).then_with(|| cmp_digits(na, nb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            })
            .then_with(|| cmp_digits(&self.revision, &other.revision))
            // A version with unparsed leftovers sorts below the same version without.
            .then_with(|| self.remainder_empty.cmp(&other.remainder_empty))
    }

    fn cmp_numbers(&self, other: &ApkVersion) -> Ordering {
        for i in 0..self.numbers.len().max(other.numbers.len()) {
            // A missing number is 0 and, like the first number, compares by value.
            let (a, b) = match (self.numbers.get(i), other.numbers.get(i)) {
                (Some(a), Some(b)) => (a.as_ref(), b.as_ref()),
                (a, b) => {
                    let o = cmp_digits(a.map_or("0", |s| s), b.map_or("0", |s| s));
                    if o != Ordering::Equal {
                        return o;
                    }
                    continue;
                }
            };
            let o = if i > 0 && (a.starts_with('0') || b.starts_with('0')) {
                a.cmp(b)
            } else {
                cmp_digits(a, b)
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

pub(super) fn parse(s: &str) -> Option<ApkVersion> {
    let b = s.as_bytes();
    // ^((\d+)\.?)*
    let mut i = 0;
    loop {
        let n = digits_len(&b[i..]);
        if n == 0 {
            break;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1;
        }
    }
    let numbers: Vec<Box<str>> = if i == 0 {
        Vec::new()
    } else {
        s[..i].split('.').map(Into::into).collect()
    };
    let mut rest = &s[i..];

    let mut letter = None;
    if let Some(&c) = rest.as_bytes().first() {
        if c.is_ascii_lowercase() {
            letter = Some(c);
            rest = &rest[1..];
        }
    }

    // Every `_suffix{number}` found in the rest is taken (as osv-scalibr's unanchored
    // regex does), but only those at the front are consumed.
    let mut suffixes = Vec::new();
    let scan = rest;
    let sb = scan.as_bytes();
    let mut matched: Vec<&str> = Vec::new();
    let mut k = 0;
    while k < sb.len() {
        if sb[k] == b'_' {
            let tail = &sb[k + 1..];
            let hit = (0u8..)
                .zip(SUFFIXES)
                .find(|(_, name)| !name.is_empty() && tail.starts_with(name.as_bytes()));
            if let Some((weight, name)) = hit {
                let num_start = k + 1 + name.len();
                let end = num_start + digits_len(&sb[num_start..]);
                suffixes.push((weight, scan[num_start..end].into()));
                matched.push(&scan[k..end]);
                k = end;
                continue;
            }
        }
        k += 1;
    }
    for m in matched {
        if let Some(r) = rest.strip_prefix(m) {
            rest = r;
        }
    }

    // ~hash
    if let Some(h) = rest.strip_prefix('~') {
        let n = h
            .bytes()
            .take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            .count();
        if n > 0 {
            rest = &h[n..];
        }
    }

    let mut invalid = false;
    let mut revision: Box<str> = "0".into();
    if !rest.is_empty() {
        match rest.strip_prefix("-r") {
            Some(r) => {
                let n = digits_len(r.as_bytes());
                if n > 0 {
                    revision = r[..n].into();
                }
                rest = &r[n..];
            }
            None => invalid = true,
        }
    }

    Some(ApkVersion {
        original: s.into(),
        invalid,
        remainder_empty: rest.is_empty(),
        numbers,
        letter,
        suffixes,
        revision,
    })
}
