//! Debian and Ubuntu versions, ordered as dpkg orders them (`dpkg --compare-versions`:
//! `parseversion` and `verrevcmp` in lib/dpkg/version.c, deb-version(7)).
//!
//! `[epoch:]upstream[-revision]`: the epoch is the number before the first `:` (missing =
//! 0), the revision what follows the last `-` (missing = "", which compares equal to "0",
//! so `0.0.0` == `0.0.0-0`). Upstream and revision compare with `verrevcmp`: alternately a
//! run of non-digits, character by character with `~` before the end of the string,
//! before letters, before everything else; then a run of digits by numeric value.
//!
//! What dpkg rejects with an error is not a version here (empty parts, a non-numeric,
//! negative or too big epoch, embedded spaces); what it only warns about (a version not
//! starting with a digit, unusual ASCII characters) is still ordered, as dpkg does.
//! Non-ASCII versions are refused: dpkg's order for them depends on the platform's `char`.

use std::cmp::Ordering;

use super::{cmp_digits, digits_len, is_digits};

#[derive(Debug, Clone)]
pub(super) struct DpkgVersion {
    epoch: Box<str>,
    upstream: Box<str>,
    revision: Box<str>,
}

impl DpkgVersion {
    pub(super) fn compare(&self, other: &DpkgVersion) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

/// dpkg's `order()`: the weight of one character of a non-digit run (`None` = end).
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefixes, character by character.
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            // At the end (or a digit) one side stays put, as dpkg's pointer does at NUL.
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        // Then the digit runs, by value.
        let (n, m) = (digits_len(&a[i..]), digits_len(&b[j..]));
        let o = cmp_digits(ascii(&a[i..i + n]), ascii(&b[j..j + m]));
        if o != Ordering::Equal {
            return o;
        }
        i += n;
        j += m;
    }
    Ordering::Equal
}

/// The input is checked to be ASCII, so every slice is valid UTF-8.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

pub(super) fn parse(s: &str) -> Option<DpkgVersion> {
    if !s.is_ascii() || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((epoch, rest)) => {
            // dpkg reads the epoch with strtol: an optional sign, then digits; empty,
            // not a number, negative or above INT_MAX are errors.
            let (negative, digits) = match epoch.as_bytes().first() {
                Some(b'+') => (false, &epoch[1..]),
                Some(b'-') => (true, &epoch[1..]),
                _ => (false, epoch),
            };
            let zero = digits.bytes().all(|b| b == b'0');
            if !is_digits(digits)
                || (negative && !zero)
                || cmp_digits(digits, "2147483647") == Ordering::Greater
            {
                return None;
            }
            (digits, rest)
        }
        None => ("0", s),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    if upstream.is_empty() || (rest.contains('-') && revision.is_empty()) {
        return None;
    }
    Some(DpkgVersion {
        epoch: epoch.into(),
        upstream: upstream.into(),
        revision: revision.into(),
    })
}
