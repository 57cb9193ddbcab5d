//! Packagist (Composer) versions, ordered as PHP's `version_compare` orders them after the
//! normalisation osv-scalibr's fixtures were generated with (`ltrim($v, "vV")`).
//!
//! `php_canonicalize_version`: `-`, `_`, `+` and other non-alphanumeric characters become
//! one `.`, and a `.` is put at every digit/non-digit transition ("1.0rc1" → "1.0.rc.1";
//! a non-alphanumeric character right after a digit is kept as a part, as in PHP). The parts then compare pairwise: numbers by value; words by
//! their special form, matched by prefix: `dev` < `alpha` = `a` < `beta` = `b` <
//! `RC` = `rc` < `#` (a number against a word) < `pl` = `p`, and any other word below
//! them all; a number against a word compares as `#`. When one side has parts left: a
//! number there makes it greater, otherwise its remaining parts compare against `#`.
//!
//! Deliberate departures from the C code, as in osv-scalibr: `#` counts as alphanumeric
//! (the fixtures' `1.2.3.# = 1.2.3.1` relies on it); numbers are not clamped to PHP's
//! `LONG_MAX`; and a trailing `.`, which PHP handles asymmetrically
//! (`version_compare("1.", "1.")` is -1, and "d." is below both "d.e" and "d.e" below
//! "d."), is read as a last part below every other, so the order is total.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub(super) struct PackagistVersion {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Num(Box<str>),
    /// A word and its special-form weight.
    Word(i8),
}

/// `#` in PHP's table: what a number weighs against a word.
const NUMBER_WEIGHT: i8 = 4;
/// Below every word, including the unknown ones (-1).
const TRAILING_DOT_WEIGHT: i8 = -2;

/// `compare_special_version_forms`: the first form the word starts with.
fn special_weight(word: &[u8]) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", NUMBER_WEIGHT),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form.as_bytes()))
        .map_or(-1, |(_, w)| *w)
}

fn weight(p: &Part) -> i8 {
    match p {
        Part::Num(_) => NUMBER_WEIGHT,
        Part::Word(w) => *w,
    }
}

impl PackagistVersion {
    pub(super) fn compare(&self, other: &PackagistVersion) -> Ordering {
        let (a, b) = (&self.parts, &other.parts);
        for (x, y) in a.iter().zip(b) {
            let o = match (x, y) {
                (Part::Num(x), Part::Num(y)) => cmp_digits(x, y),
                _ => weight(x).cmp(&weight(y)),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        let n = a.len().min(b.len());
        match a.len().cmp(&b.len()) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => cmp_rest(&a[n..]),
            Ordering::Less => cmp_rest(&b[n..]).reverse(),
        }
    }
}

/// The longer side's remaining parts against PHP's `#N#`: a number first means greater;
/// otherwise each word is weighed against `#` until one differs or a number follows.
fn cmp_rest(rest: &[Part]) -> Ordering {
    if let Some(Part::Num(_)) = rest.first() {
        return Ordering::Greater;
    }
    for p in rest {
        match p {
            Part::Num(_) => return Ordering::Greater,
            Part::Word(w) => {
                let o = w.cmp(&NUMBER_WEIGHT);
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
    Ordering::Equal
}

pub(super) fn parse(s: &str) -> Option<PackagistVersion> {
    let s = s.trim_start_matches(['v', 'V']);
    let b = s.as_bytes();
    let (&first, rest) = b.split_first()?;
    // php_canonicalize_version, on bytes as the C code works (C locale classes), except
    // that '#' counts as alphanumeric.
    let is_dig = |c: u8| c.is_ascii_digit();
    let is_ndig = |c: u8| !c.is_ascii_digit() && c != b'.';
    let is_alnum = |c: u8| c.is_ascii_alphanumeric() || c == b'#';
    let mut canon: Vec<u8> = Vec::with_capacity(b.len() * 2);
    canon.push(first); // copied as it is, whatever it is
    let mut lp = first;
    for &c in rest {
        let lq_is_dot = canon.last() == Some(&b'.');
        if matches!(c, b'-' | b'_' | b'+') {
            if !lq_is_dot {
                canon.push(b'.');
            }
        } else if (is_ndig(lp) && is_dig(c)) || (is_dig(lp) && is_ndig(c)) {
            // A transition keeps the character, even a non-alphanumeric one ("1~" → "1.~").
            if !lq_is_dot {
                canon.push(b'.');
            }
            canon.push(c);
        } else if !is_alnum(c) {
            if !lq_is_dot {
                canon.push(b'.');
            }
        } else {
            canon.push(c);
        }
        lp = c;
    }
    let trailing_dot = canon.ends_with(b".");
    if trailing_dot {
        canon.pop();
    }
    let mut parts: Vec<Part> = canon
        .split(|&c| c == b'.')
        .map(|p| {
            if !p.is_empty() && p.iter().all(u8::is_ascii_digit) {
                Part::Num(String::from_utf8_lossy(p).into())
            } else {
                Part::Word(special_weight(p))
            }
        })
        .collect();
    if trailing_dot {
        // PHP stops at a trailing '.' and then ranks the side that has it below
        // anything, even the end of the other side ("1." < "1" < "1.0").
        parts.push(Part::Word(TRAILING_DOT_WEIGHT));
    }
    Some(PackagistVersion { parts })
}
