//! RubyGems versions, ordered as `Gem::Version#<=>` orders them.
//!
//! A version must match Gem's `VERSION_PATTERN`
//! (`[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`), except that letters may
//! follow the first digits ("1beta", which osv-scalibr's vectors use). A `-` reads as
//! `.pre.`; the segments are the runs of digits and of letters (so `1.0.a2` == `1.0.a.2`);
//! trailing zeros are dropped from the numeric prefix and from the part after the first
//! letter segment (`canonical_segments`). Segments compare pairwise, a missing one as 0:
//! numbers by value, letters bytewise, and a letter segment sorts before a number, which
//! is what makes any version with letters a pre-release of its numeric prefix.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub(super) struct GemVersion {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// Digits without leading zeros ("" is zero).
    Num(Box<str>),
    Str(Box<str>),
}

impl GemVersion {
    pub(super) fn compare(&self, other: &GemVersion) -> Ordering {
        let zero = Segment::Num("".into());
        let (a, b) = (&self.segments, &other.segments);
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).unwrap_or(&zero);
            let y = b.get(i).unwrap_or(&zero);
            let o = match (x, y) {
                (Segment::Num(x), Segment::Num(y)) => cmp_digits(x, y),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
                (Segment::Str(x), Segment::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// Gem's `VERSION_PATTERN`, checked by hand.
fn is_gem_version(s: &str) -> bool {
    let (main, pre) = match s.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (s, None),
    };
    let mut parts = main.split('.');
    // Gem wants digits only in the first segment; "1beta" is accepted as osv-scalibr's
    // vectors expect (ordered as Gem would order "1.beta").
    let alnum = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric());
    let first_ok = parts
        .next()
        .is_some_and(|p| alnum(p) && p.starts_with(|c: char| c.is_ascii_digit()));
    let rest_ok = parts.all(alnum);
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

pub(super) fn parse(s: &str) -> Option<GemVersion> {
    if !is_gem_version(s) {
        return None;
    }
    // `@version.gsub("-", ".pre.")` then `scan(/[0-9]+|[a-z]+/i)`: every '-' is a "pre"
    // segment, and runs of digits / letters are the segments.
    let mut raw: Vec<Segment> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' {
            raw.push(Segment::Str("pre".into()));
            i += 1;
        } else if c.is_ascii_digit() {
            let n = b[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            raw.push(Segment::Num(s[i..i + n].trim_start_matches('0').into()));
            i += n;
        } else if c.is_ascii_alphabetic() {
            let n = b[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            raw.push(Segment::Str(s[i..i + n].into()));
            i += n;
        } else {
            i += 1;
        }
    }
    // canonical_segments: drop trailing zeros of the numeric prefix and of the rest.
    let split = raw
        .iter()
        .position(|s| matches!(s, Segment::Str(_)))
        .unwrap_or(raw.len());
    let mut rest = raw.split_off(split);
    let zero = Segment::Num("".into());
    while raw.last() == Some(&zero) {
        raw.pop();
    }
    while rest.last() == Some(&zero) {
        rest.pop();
    }
    raw.extend(rest);
    Some(GemVersion { segments: raw })
}
