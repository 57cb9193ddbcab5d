//! Go module versions, ordered as `golang.org/x/mod/semver` orders them (SemVer 2.0.0
//! precedence, build metadata such as `+incompatible` ignored), plus the forms Go SBOMs
//! and OSV's Go data use:
//!
//! - with or without the `v` prefix (OSV writes `1.2.3`, `go.mod` writes `v1.2.3`);
//! - Go's shorthands `v1` = `v1.0.0` and `v1.2` = `v1.2.0` (only without pre-release or
//!   build, as in x/mod);
//! - pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.2019…-abcdef`),
//!   which are ordinary pre-releases to x/mod, so they need no special case;
//! - the `stdlib`/`toolchain` versions `go1.21.3`, `go1.21`, `go1.21rc1`, `go1.20beta1`,
//!   read as 1.21.3, 1.21.0, 1.21.0-rc.1 and 1.20.0-beta.1 (OSV's Go data treats `go1.21`
//!   as 1.21.0).
//!
//! As in x/mod, a leading zero in a number ("v1.02.0", "v1.0.0-01") is not a version.

use super::semver::{Ident, Semver};
use super::{digits_len, is_digits};

pub(super) fn parse(s: &str) -> Option<Semver> {
    if let Some(toolchain) = s.strip_prefix("go") {
        return parse_toolchain(toolchain);
    }
    let s = s.strip_prefix('v').unwrap_or(s);

    let (major, rest) = number(s)?;
    let mut release = vec![major.into()];
    let Some(rest) = rest.strip_prefix('.') else {
        // "v1" is only a shorthand when nothing follows.
        return rest
            .is_empty()
            .then(|| Semver::new(pad(release), Vec::new()));
    };
    let (minor, rest) = number(rest)?;
    release.push(minor.into());
    let Some(rest) = rest.strip_prefix('.') else {
        return rest
            .is_empty()
            .then(|| Semver::new(pad(release), Vec::new()));
    };
    let (patch, rest) = number(rest)?;
    release.push(patch.into());

    let (rest, build) = match rest.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (rest, None),
    };
    if let Some(build) = build {
        // Validated, then ignored in ordering (that is what makes +incompatible harmless).
        if !build.split('.').all(is_ident) {
            return None;
        }
    }
    let pre = match rest.strip_prefix('-') {
        Some(pre) => {
            let ok = pre.split('.').all(|id| is_ident(id) && !is_bad_num(id));
            if !ok {
                return None;
            }
            pre.split('.').map(Ident::new).collect()
        }
        None if rest.is_empty() => Vec::new(),
        None => return None,
    };
    Some(Semver::new(release, pre))
}

/// `go1.21.3`, `go1.21`, `go1`, `go1.21rc1`, `go1.20beta1` (after the `go`).
fn parse_toolchain(s: &str) -> Option<Semver> {
    let mut release: Vec<Box<str>> = Vec::new();
    let mut rest = s;
    loop {
        let n = digits_len(rest.as_bytes());
        if n == 0 || release.len() == 3 {
            return None;
        }
        release.push(rest[..n].into());
        rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => break,
        }
    }
    let mut pre = Vec::new();
    if !rest.is_empty() {
        let kind = ["alpha", "beta", "rc"]
            .into_iter()
            .find(|k| rest.starts_with(k))?;
        let n = &rest[kind.len()..];
        if !is_digits(n) {
            return None;
        }
        pre.push(Ident::Alnum(kind.into()));
        pre.push(Ident::Num(n.into()));
    }
    Some(Semver::new(pad(release), pre))
}

fn pad(mut release: Vec<Box<str>>) -> Vec<Box<str>> {
    while release.len() < 3 {
        release.push("0".into());
    }
    release
}

/// A decimal number without leading zeros ("0" itself is fine), and the rest of `s`.
fn number(s: &str) -> Option<(&str, &str)> {
    let n = digits_len(s.as_bytes());
    if n == 0 || (n > 1 && s.starts_with('0')) {
        return None;
    }
    Some(s.split_at(n))
}

fn is_ident(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// x/mod rejects numeric pre-release identifiers with leading zeros.
fn is_bad_num(id: &str) -> bool {
    id.len() > 1 && is_digits(id) && id.starts_with('0')
}
