//! RPM versions (Red Hat, Rocky, Alma, SUSE, …), ordered as rpm orders EVRs: `parseEVR`
//! then `rpmvercmp` (rpmio/rpmvercmp.c, rpm 4.15+) on epoch, version and release.
//!
//! `[epoch:]version[-release]`: the epoch is the leading digits before a `:` (missing =
//! 0), the release what follows the last `-`. A missing release sorts before any release
//! (OSV data always carries one; rpm's own "match any release" is not an order).
//!
//! `rpmvercmp`: characters other than ASCII letters, digits, `~` and `^` only separate
//! segments; `~` sorts before everything, even the end (`1.0~rc1` < `1.0`); `^` sorts
//! after the end but before anything else (`1.0` < `1.0^git1` < `1.0.1`); a numeric
//! segment is newer than an alphabetic one; numbers compare by value, letters bytewise;
//! when all segments are equal, the side with characters left is newer.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone)]
pub(super) struct RpmVersion {
    epoch: Box<str>,
    version: Box<str>,
    release: Option<Box<str>>,
}

impl RpmVersion {
    pub(super) fn compare(&self, other: &RpmVersion) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| rpmvercmp(self.version.as_bytes(), other.version.as_bytes()))
            .then_with(|| match (&self.release, &other.release) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => rpmvercmp(a.as_bytes(), b.as_bytes()),
            })
    }
}

fn is_separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && is_separator(a[i]) {
            i += 1;
        }
        while j < b.len() && is_separator(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());

        // Tilde: sorts before everything else.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret: like tilde, except that the end of the other side sorts before it.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };

        // The next segment of `a`'s kind from both sides.
        let numeric = ca.is_ascii_digit();
        let kind = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let sa = &a[i..i + a[i..].iter().take_while(|c| kind(c)).count()];
        let sb = &b[j..j + b[j..].iter().take_while(|c| kind(c)).count()];
        i += sa.len();
        j += sb.len();
        if sb.is_empty() {
            // Different kinds: numeric is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if numeric {
            cmp_digits(ascii(sa), ascii(sb))
        } else {
            sa.cmp(sb)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    // Equal segments but separators differed: whoever has characters left wins.
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

/// Digit runs are ASCII, so this never fails.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

pub(super) fn parse(s: &str) -> Option<RpmVersion> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match s[digits..].strip_prefix(':') {
        Some(rest) => (&s[..digits], rest),
        None => ("0", s),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((version, release)) => (version, Some(release)),
        None => (rest, None),
    };
    if version.is_empty() {
        return None;
    }
    Some(RpmVersion {
        epoch: epoch.into(),
        version: version.into(),
        release: release.map(Into::into),
    })
}
