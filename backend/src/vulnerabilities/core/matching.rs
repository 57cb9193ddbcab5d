//! OSV range semantics (the schema's "evaluation" section): events sorted
//! by version, `introduced` opens an interval, `fixed` closes it (that
//! version is not affected), `last_affected` closes it after that version,
//! `limit` caps the whole range; an enumerated `versions` entry always
//! matches. A version the ecosystem cannot order never matches a range:
//! unknown is not affected, and the caller says so.

use std::cmp::Ordering;

use super::osv::{Affected, Event, Range, RangeKind};
use super::version::{Ecosystem, Version};

/// What one `affected` entry says about one version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub affected: bool,
    /// The `fixed` version of each range interval that holds the version.
    pub fixed: Vec<String>,
    /// True when some bound or the version itself could not be ordered.
    pub undecidable: bool,
}

/// Whether `version` of `affected.package` is affected.
pub fn evaluate(affected: &Affected, version: &str) -> Verdict {
    Prepared::new(affected.clone()).evaluate(version)
}

/// An `affected` entry ready to judge many versions: each range's bounds
/// are parsed and sorted once (a portfolio evaluates one entry for
/// thousands of components).
pub struct Prepared {
    pub affected: Affected,
    /// Per range: its ordering and sorted bounds, or None when a bound
    /// cannot be read (every version is then undecidable for it).
    ranges: Vec<(Ecosystem, Option<Vec<Bound>>)>,
}

/// `None` is `introduced: "0"`, below every version.
type Bound = (Option<Version>, Event);

impl Prepared {
    pub fn new(affected: Affected) -> Self {
        let ranges = affected
            .ranges
            .iter()
            .map(|r| {
                let eco = ordering_for(affected.package.ecosystem, r.kind);
                (eco, bounds(eco, r))
            })
            .collect();
        Prepared { affected, ranges }
    }

    pub fn evaluate(&self, version: &str) -> Verdict {
        self.judge(&mut Subject::new(version))
    }

    /// [`Prepared::evaluate`] for a version judged against many entries:
    /// the subject keeps each ordering's parse.
    pub fn judge(&self, subject: &mut Subject) -> Verdict {
        let affected = &self.affected;
        let mut verdict = Verdict::default();
        if affected
            .versions
            .iter()
            .any(|v| same_version(affected.package.ecosystem, v, &subject.text))
        {
            verdict.affected = true;
        }
        for (eco, bounds) in &self.ranges {
            let (Some(v), Some(bounds)) = (subject.parsed(*eco), bounds) else {
                verdict.undecidable = true;
                continue;
            };
            match in_range(bounds, v) {
                Some((true, fixed)) => {
                    verdict.affected = true;
                    verdict.fixed.extend(fixed);
                }
                Some((false, _)) => {}
                None => verdict.undecidable = true,
            }
        }
        verdict.fixed.sort();
        verdict.fixed.dedup();
        verdict
    }
}

/// A component's version with its parse per ordering, made once.
pub struct Subject {
    pub text: String,
    parsed: Vec<(Ecosystem, Option<Version>)>,
}

impl Subject {
    pub fn new(text: &str) -> Self {
        Subject {
            text: text.to_string(),
            parsed: Vec::with_capacity(2),
        }
    }

    fn parsed(&mut self, eco: Ecosystem) -> Option<&Version> {
        let at = match self.parsed.iter().position(|(e, _)| *e == eco) {
            Some(at) => at,
            None => {
                self.parsed.push((eco, Version::parse(eco, &self.text)));
                self.parsed.len() - 1
            }
        };
        self.parsed[at].1.as_ref()
    }
}

/// SEMVER ranges use SemVer 2.0 — except Go, whose SEMVER ranges are read
/// with Go's own rules (`v` prefix, `go1.x` toolchain versions).
fn ordering_for(eco: Ecosystem, kind: RangeKind) -> Ecosystem {
    match (kind, eco) {
        (RangeKind::Semver, Ecosystem::Go) => Ecosystem::Go,
        (RangeKind::Semver, _) => Ecosystem::Semver,
        (RangeKind::Ecosystem, e) => e,
    }
}

fn same_version(eco: Ecosystem, a: &str, b: &str) -> bool {
    a == b || super::version::compare(eco, a, b) == Some(Ordering::Equal)
}

/// The range's events with their versions parsed, sorted by version; None
/// when a bound cannot be read.
fn bounds(eco: Ecosystem, range: &Range) -> Option<Vec<Bound>> {
    // "0" (introduced) means "since the first version" in every ecosystem.
    let mut events: Vec<Bound> = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let text = event_version(e);
        if matches!(e, Event::Introduced(_)) && text == "0" {
            events.push((None, e.clone()));
        } else {
            events.push((Some(Version::parse(eco, text)?), e.clone()));
        }
    }
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.cmp_to(b).unwrap_or(Ordering::Equal),
    });
    Some(events)
}

/// Some((affected, fix of the interval)) or None when the version and a
/// bound cannot be compared.
fn in_range(events: &[Bound], v: &Version) -> Option<(bool, Option<String>)> {
    for (bound, e) in events {
        if let (Event::Limit(_), Some(b)) = (e, bound) {
            if v.cmp_to(b)? != Ordering::Less {
                return Some((false, None));
            }
        }
    }
    let mut affected = false;
    let mut fix = None;
    for (bound, e) in events {
        let order = match bound {
            None => Ordering::Greater,
            Some(b) => v.cmp_to(b)?,
        };
        match e {
            Event::Introduced(_) if order != Ordering::Less => affected = true,
            Event::Fixed(_) if order != Ordering::Less => affected = false,
            Event::LastAffected(_) if order == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    if affected {
        // The first fix above the version closes its interval.
        fix = events.iter().find_map(|(bound, e)| match (e, bound) {
            (Event::Fixed(f), Some(b)) if v.cmp_to(b) == Some(Ordering::Less) => Some(f.clone()),
            _ => None,
        });
    }
    Some((affected, fix))
}

fn event_version(e: &Event) -> &str {
    match e {
        Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vulnerabilities::core::purl::Package;

    fn affected(
        eco: &str,
        kind: RangeKind,
        events: &[(&str, &str)],
        versions: &[&str],
    ) -> Affected {
        Affected {
            package: Package::from_osv(eco, "m").unwrap(),
            osv_name: "m".into(),
            ranges: vec![Range {
                kind,
                events: events
                    .iter()
                    .map(|(k, v)| match *k {
                        "introduced" => Event::Introduced(v.to_string()),
                        "fixed" => Event::Fixed(v.to_string()),
                        "last_affected" => Event::LastAffected(v.to_string()),
                        _ => Event::Limit(v.to_string()),
                    })
                    .collect(),
            }],
            versions: versions.iter().map(|s| s.to_string()).collect(),
            symbols: vec![],
        }
    }

    #[test]
    fn go_stdlib_ranges_with_two_intervals() {
        // GO-2023-1571's stdlib range.
        let a = affected(
            "Go",
            RangeKind::Semver,
            &[
                ("introduced", "0"),
                ("fixed", "1.19.6"),
                ("introduced", "1.20.0-0"),
                ("fixed", "1.20.1"),
            ],
            &[],
        );
        let check = |v: &str| evaluate(&a, v);
        assert_eq!(
            check("go1.19.5"),
            Verdict {
                affected: true,
                fixed: vec!["1.19.6".into()],
                undecidable: false
            }
        );
        assert!(!check("go1.19.6").affected, "fixed is not affected");
        assert!(!check("v1.19.10").affected);
        assert_eq!(check("go1.20").fixed, ["1.20.1"]);
        assert!(check("go1.20rc1").affected, "1.20.0-rc.1 ≥ 1.20.0-0");
        assert!(!check("go1.20.1").affected);
        assert!(!check("go1.21.0").affected);
        let bad = check("(devel)");
        assert!(!bad.affected && bad.undecidable);
    }

    #[test]
    fn last_affected_limit_and_versions() {
        let a = affected(
            "npm",
            RangeKind::Semver,
            &[("introduced", "1.0.0"), ("last_affected", "1.4.0")],
            &[],
        );
        assert!(evaluate(&a, "1.4.0").affected);
        assert!(!evaluate(&a, "1.4.1").affected);
        assert!(!evaluate(&a, "0.9.0").affected);
        assert!(evaluate(&a, "1.4.0").fixed.is_empty(), "no fix is known");
        let l = affected(
            "npm",
            RangeKind::Semver,
            &[("introduced", "0"), ("limit", "2.0.0")],
            &[],
        );
        assert!(evaluate(&l, "1.9.9").affected);
        assert!(!evaluate(&l, "2.0.0").affected);
        let e = affected("PyPI", RangeKind::Ecosystem, &[], &["2.0.1", "2.1"]);
        assert!(evaluate(&e, "2.1.0").affected, "PEP 440: 2.1 == 2.1.0");
        assert!(!evaluate(&e, "2.2").affected);
    }

    #[test]
    fn ecosystem_ranges_use_the_ecosystems_order() {
        let a = affected(
            "PyPI",
            RangeKind::Ecosystem,
            &[("introduced", "0"), ("fixed", "2.0.0rc1")],
            &[],
        );
        assert!(evaluate(&a, "2.0.0b2").affected);
        assert!(!evaluate(&a, "2.0.0").affected);
        let d = affected(
            "Debian:12",
            RangeKind::Ecosystem,
            &[("introduced", "0"), ("fixed", "1:1.2-1")],
            &[],
        );
        assert!(!evaluate(&d, "1:1.2-1").affected);
        assert!(evaluate(&d, "1.9-1").affected, "no epoch is epoch 0");
        assert!(evaluate(&d, "1:1.2~rc1-1").affected, "~ sorts first");
    }

    #[test]
    fn one_subject_judged_against_many_entries_agrees_with_each_alone() {
        // The subject keeps one parse per ordering: a Go entry (Go's rules)
        // and an npm one (SemVer) must each still read the version their way.
        let go = Prepared::new(affected(
            "Go",
            RangeKind::Semver,
            &[("introduced", "0"), ("fixed", "1.19.6")],
            &[],
        ));
        let npm = Prepared::new(affected(
            "npm",
            RangeKind::Semver,
            &[("introduced", "1.0.0"), ("fixed", "1.19.6")],
            &["1.19.5"],
        ));
        for v in ["go1.19.5", "1.19.5", "v1.19.5", "1.19.6", "(devel)"] {
            let mut subject = Subject::new(v);
            assert_eq!(go.judge(&mut subject), go.evaluate(v), "{v}");
            assert_eq!(npm.judge(&mut subject), npm.evaluate(v), "{v}");
            assert_eq!(go.judge(&mut subject), go.evaluate(v), "{v} again");
        }
        assert!(go.evaluate("go1.19.5").affected);
        assert!(!npm.evaluate("go1.19.5").affected, "not SemVer");
        assert!(npm.evaluate("1.19.5").affected);
    }
}
