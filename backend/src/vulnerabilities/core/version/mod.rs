//! Per-ecosystem version ordering, used to match OSV advisories (`affected[].ranges`,
//! `versions`) against the component versions found in SBOMs.
//!
//! Each OSV ecosystem orders versions by its own tool's rules, so there is one module per
//! family of rules:
//!
//! | module        | ecosystems                                | reference                                  |
//! |---------------|-------------------------------------------|--------------------------------------------|
//! | `semver`    | npm, crates.io, Hex, Pub, generic SEMVER  | SemVer 2.0.0 as node-semver orders it; Pub as `pub_semver` |
//! | `go`        | Go (modules and `stdlib`/`toolchain`)     | `golang.org/x/mod/semver`                  |
//! | `pypi`      | PyPI                                      | PEP 440 (`packaging`), legacy as osv-scalibr |
//! | `maven`     | Maven                                     | Maven 3.8.7 `ComparableVersion`            |
//! | `rubygems`  | RubyGems                                  | `Gem::Version`                             |
//! | `nuget`     | NuGet                                     | NuGet SemVer 2 (`NuGetVersion`)            |
//! | `packagist` | Packagist                                 | PHP `version_compare`                      |
//! | `dpkg`      | Debian, Ubuntu                            | dpkg `verrevcmp`                           |
//! | `apk`       | Alpine (and apk-based Wolfi, Chainguard, MinimOS) | apk-tools 2.x, as osv-scalibr orders it |
//! | `rpm`       | Red Hat and the other RPM distributions   | `rpmvercmp`                                |
//!
//! The behaviour was checked against the test vectors of google/osv-scalibr
//! (`semantic/testdata/`, copied to `tests/fixtures/osv-versions/`) and, for pairs the
//! ecosystem's grammar accepts, against the real tools.
//!
//! Hostile input is bounded: a version longer than [`MAX_VERSION_LEN`] bytes is refused,
//! parsing and comparison are linear loops (no recursion on input), numbers are compared
//! as digit strings (so they never overflow), and nothing panics on any input.
//! A version that is not one of its ecosystem's gives `None`; callers treat that as
//! "unknown", never as a match.

use std::cmp::Ordering;

mod apk;
mod dpkg;
mod go;
mod maven;
mod nuget;
mod packagist;
mod pypi;
mod rpm;
mod rubygems;
mod semver;

#[cfg(test)]
mod tests;

/// Versions longer than this many bytes are refused: no real version comes close, and it
/// bounds the work an advisory or SBOM can make us do.
pub const MAX_VERSION_LEN: usize = 256;

/// An OSV ecosystem whose versions Cairn can order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Go,
    Npm,
    PyPI,
    Maven,
    CratesIo,
    RubyGems,
    NuGet,
    Packagist,
    Hex,
    Pub,
    Debian,
    Ubuntu,
    Alpine,
    /// Every RPM-based distribution (Red Hat, Rocky Linux, AlmaLinux, SUSE, …).
    Rpm,
    /// Generic SemVer 2.0.0, for ecosystems whose versions are plain semver
    /// (SwiftURL, Bitnami, GitHub Actions).
    Semver,
}

impl Ecosystem {
    /// From an OSV `affected[].package.ecosystem` value. Case-sensitive, as OSV writes
    /// them; the distribution ecosystems (and Maven, whose suffix names a repository)
    /// may carry a `:release` suffix ("Debian:12", "Alpine:v3.19",
    /// "Red Hat:enterprise_linux:9::appstream"). Unknown names give `None`.
    pub fn from_osv(s: &str) -> Option<Ecosystem> {
        let (base, suffix) = match s.split_once(':') {
            Some((base, suffix)) => (base, Some(suffix)),
            None => (s, None),
        };
        let ecosystem = match base {
            "Go" => Ecosystem::Go,
            "npm" => Ecosystem::Npm,
            "PyPI" => Ecosystem::PyPI,
            "Maven" => Ecosystem::Maven,
            "crates.io" => Ecosystem::CratesIo,
            "RubyGems" => Ecosystem::RubyGems,
            "NuGet" => Ecosystem::NuGet,
            "Packagist" => Ecosystem::Packagist,
            "Hex" => Ecosystem::Hex,
            "Pub" => Ecosystem::Pub,
            "Debian" => Ecosystem::Debian,
            "Ubuntu" => Ecosystem::Ubuntu,
            // Wolfi, Chainguard and MinimOS publish apk packages with apk versions.
            "Alpine" | "Wolfi" | "Chainguard" | "MinimOS" => Ecosystem::Alpine,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" | "Azure Linux" | "Mariner" | "Photon OS" => Ecosystem::Rpm,
            "SwiftURL" | "Bitnami" | "GitHub Actions" | "SEMVER" => Ecosystem::Semver,
            _ => return None,
        };
        match suffix {
            None => Some(ecosystem),
            Some(release) if !release.is_empty() && ecosystem.takes_release_suffix() => {
                Some(ecosystem)
            }
            Some(_) => None,
        }
    }

    /// The OSV ecosystem name without release suffix ("Go", "npm", "PyPI", "Debian", …).
    /// [`Ecosystem::Rpm`] stands for several OSV ecosystems and answers "Red Hat";
    /// [`Ecosystem::Semver`] answers "SEMVER" (OSV's name for the generic semver order).
    /// `from_osv(e.osv_name()) == Some(e)` for every `e`.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Go => "Go",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Maven => "Maven",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "Red Hat",
            Ecosystem::Semver => "SEMVER",
        }
    }

    fn takes_release_suffix(self) -> bool {
        matches!(
            self,
            Ecosystem::Debian
                | Ecosystem::Ubuntu
                | Ecosystem::Alpine
                | Ecosystem::Rpm
                | Ecosystem::Maven
        )
    }
}

/// Compares two versions under the ecosystem's rules; `None` when either is not a version
/// of that ecosystem (callers then treat the comparison as unknown, never as a match).
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    Version::parse(ecosystem, a)?.cmp_to(&Version::parse(ecosystem, b)?)
}

/// A parsed version for repeated comparisons (ranges compare one component version
/// against many bounds): parse once, compare many.
#[derive(Debug, Clone)]
pub struct Version {
    ecosystem: Ecosystem,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    Semver(semver::Semver),
    Go(semver::Semver),
    PyPI(pypi::PyPIVersion),
    Maven(maven::MavenVersion),
    RubyGems(rubygems::GemVersion),
    NuGet(nuget::NuGetVersion),
    Packagist(packagist::PackagistVersion),
    Dpkg(dpkg::DpkgVersion),
    Apk(apk::ApkVersion),
    Rpm(rpm::RpmVersion),
}

impl Version {
    /// Parses `s` as a version of `ecosystem`; `None` when it is not one (or is longer
    /// than [`MAX_VERSION_LEN`]). Surrounding ASCII whitespace is ignored.
    pub fn parse(ecosystem: Ecosystem, s: &str) -> Option<Version> {
        if s.len() > MAX_VERSION_LEN {
            return None;
        }
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        if s.is_empty() {
            return None;
        }
        let parsed = match ecosystem {
            Ecosystem::Npm | Ecosystem::CratesIo | Ecosystem::Hex | Ecosystem::Semver => {
                Parsed::Semver(semver::parse(s, false)?)
            }
            Ecosystem::Pub => Parsed::Semver(semver::parse(s, true)?),
            Ecosystem::Go => Parsed::Go(go::parse(s)?),
            Ecosystem::PyPI => Parsed::PyPI(pypi::parse(s)?),
            Ecosystem::Maven => Parsed::Maven(maven::parse(s)?),
            Ecosystem::RubyGems => Parsed::RubyGems(rubygems::parse(s)?),
            Ecosystem::NuGet => Parsed::NuGet(nuget::parse(s)?),
            Ecosystem::Packagist => Parsed::Packagist(packagist::parse(s)?),
            Ecosystem::Debian | Ecosystem::Ubuntu => Parsed::Dpkg(dpkg::parse(s)?),
            Ecosystem::Alpine => Parsed::Apk(apk::parse(s)?),
            Ecosystem::Rpm => Parsed::Rpm(rpm::parse(s)?),
        };
        Some(Version { ecosystem, parsed })
    }

    /// The ecosystem this version was parsed for.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Orders `self` against `other`; `None` if they belong to different ecosystems.
    pub fn cmp_to(&self, other: &Version) -> Option<Ordering> {
        if self.ecosystem != other.ecosystem {
            return None;
        }
        Some(match (&self.parsed, &other.parsed) {
            (Parsed::Semver(a), Parsed::Semver(b)) => a.compare(b),
            (Parsed::Go(a), Parsed::Go(b)) => a.compare(b),
            (Parsed::PyPI(a), Parsed::PyPI(b)) => a.compare(b),
            (Parsed::Maven(a), Parsed::Maven(b)) => a.compare(b),
            (Parsed::RubyGems(a), Parsed::RubyGems(b)) => a.compare(b),
            (Parsed::NuGet(a), Parsed::NuGet(b)) => a.compare(b),
            (Parsed::Packagist(a), Parsed::Packagist(b)) => a.compare(b),
            (Parsed::Dpkg(a), Parsed::Dpkg(b)) => a.compare(b),
            (Parsed::Apk(a), Parsed::Apk(b)) => a.compare(b),
            (Parsed::Rpm(a), Parsed::Rpm(b)) => a.compare(b),
            // Same ecosystem always means the same parser.
            _ => return None,
        })
    }
}

/// Compares two runs of ASCII digits by numeric value without parsing them, so numbers of
/// any length work: strip leading zeros, then the longer is larger, then lexical order.
/// An empty run counts as zero.
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A non-empty run of ASCII digits.
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Length of the leading run of ASCII digits in `s`.
fn digits_len(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}
