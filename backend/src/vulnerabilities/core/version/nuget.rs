//! NuGet versions, ordered by NuGet's SemVer 2 rules (`NuGetVersion` /
//! `VersionComparer.Default`): one to four numeric parts, missing parts are zero
//! (1.0 == 1.0.0 == 1.0.0.0, leading zeros allowed as `System.Version` allows them), then
//! a release label sorting before the release, its dot-separated parts compared
//! numerically when all digits and otherwise case-insensitively (`OrdinalIgnoreCase`),
//! numeric before alphanumeric, more parts winning a tie. Metadata after `+` is ignored.

use std::cmp::Ordering;

use super::semver::{cmp_pre, cmp_release, parse_idents, parse_release, Ident};

#[derive(Debug, Clone)]
pub(super) struct NuGetVersion {
    release: Vec<Box<str>>,
    /// Lower-cased, so that the plain ordinal order is NuGet's case-insensitive one.
    label: Vec<Ident>,
}

impl NuGetVersion {
    pub(super) fn compare(&self, other: &NuGetVersion) -> Ordering {
        cmp_release(&self.release, &other.release).then_with(|| cmp_pre(&self.label, &other.label))
    }
}

pub(super) fn parse(s: &str) -> Option<NuGetVersion> {
    let (release, rest) = parse_release(s)?;
    if release.len() > 4 {
        return None;
    }
    let (rest, metadata) = match rest.split_once('+') {
        Some((rest, metadata)) => (rest, Some(metadata)),
        None => (rest, None),
    };
    if let Some(metadata) = metadata {
        parse_idents(metadata)?;
    }
    let label = match rest.strip_prefix('-') {
        Some(label) => parse_idents(&label.to_ascii_lowercase())?,
        None if rest.is_empty() => Vec::new(),
        None => return None,
    };
    Some(NuGetVersion { release, label })
}
