//! Does the SBOM describe what was shipped? The SBOM's Go components
//! (`pkg:golang/...` purls) against the binary's build info, and the build's
//! `vcs.revision` against the commit provenance or the CI run records.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::buildinfo::BuildInfo;

/// A Go component as an SBOM lists it.
#[derive(Debug, Clone)]
pub struct SbomGoComponent {
    pub path: String,
    pub version: Option<String>,
    /// `[[algorithm, hex], ...]` as stored.
    pub hashes: Vec<(String, String)>,
}

impl SbomGoComponent {
    /// From a purl `pkg:golang/<path>@<version>`; `None` for other types.
    pub fn from_purl(purl: &str, hashes: Vec<(String, String)>) -> Option<Self> {
        let rest = purl.strip_prefix("pkg:golang/")?;
        let rest = rest.split(['?', '#']).next()?;
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) => (p, Some(pct_decode(v))),
            None => (rest, None),
        };
        Some(SbomGoComponent {
            path: pct_decode(path),
            version,
            hashes,
        })
    }
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Mismatch {
    /// `missing-from-sbom`, `version-differs`, `sum-differs`, `revision-differs`.
    pub kind: String,
    /// The module path (or `vcs.revision`).
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CrossCheck {
    /// Whether an SBOM with Go components was there to compare with.
    pub sbom_compared: bool,
    /// Whether a source commit (provenance or CI run) was there to compare with.
    pub commit_compared: bool,
    pub mismatches: Vec<Mismatch>,
}

impl CrossCheck {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// The module a binary actually linked: a replacement wins.
fn effective(m: &super::buildinfo::Module) -> &super::buildinfo::Module {
    m.replace.as_deref().unwrap_or(m)
}

/// `h1:<base64 sha256>` as lower-case hex.
pub fn h1_hex(sum: &str) -> Option<String> {
    let b64 = sum.strip_prefix("h1:")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (raw.len() == 32).then(|| hex::encode(raw))
}

/// At most this many of the SBOM's versions of a module are listed in a
/// `version-differs` message; the rest are counted (`and N more`).
pub const MAX_VERSIONS_SHOWN: usize = 10;

/// SBOM versions longer than this (in chars) are cut, with `…`, in
/// messages: they are repeated in the message of every dependency entry
/// of the module, however many the build info lists.
const MAX_VERSION_CHARS: usize = 100;

fn shown_version(v: &str) -> Cow<'_, str> {
    match v.char_indices().nth(MAX_VERSION_CHARS) {
        Some((at, _)) => Cow::Owned(format!("{}…", &v[..at])),
        None => Cow::Borrowed(v),
    }
}

/// What the SBOM lists under one module path, in SBOM order.
#[derive(Default)]
struct Listed<'a> {
    /// (SBOM position, component) of each.
    all: Vec<(usize, &'a SbomGoComponent)>,
    /// The first component of each version, with its SHA-256 hashes in
    /// lower case: one lookup per dependency, however many the SBOM repeats.
    first: HashMap<Option<&'a str>, (usize, HashSet<String>)>,
}

pub fn check(info: &BuildInfo, sbom: Option<&[SbomGoComponent]>, commits: &[String]) -> CrossCheck {
    let mut mismatches = Vec::new();
    let sbom_compared = sbom.is_some();
    if let Some(components) = sbom {
        // Built once, so a dependency costs lookups, not a pass over the SBOM.
        let mut by_path: HashMap<&str, Listed<'_>> = HashMap::new();
        for (i, c) in components.iter().enumerate() {
            let listed = by_path.entry(c.path.as_str()).or_default();
            listed.all.push((i, c));
            listed.first.entry(c.version.as_deref()).or_insert_with(|| {
                let sha = c
                    .hashes
                    .iter()
                    .filter(|(a, _)| {
                        a.eq_ignore_ascii_case("sha-256") || a.eq_ignore_ascii_case("sha256")
                    })
                    .map(|(_, h)| h.to_ascii_lowercase())
                    .collect();
                (i, sha)
            });
        }
        for dep in &info.modules {
            let m = effective(dep);
            // A local-directory replacement has no module identity to list.
            if m.version == "(devel)" {
                continue;
            }
            // Listed under the dependency's path or its replacement's.
            let mut listed: Vec<&Listed<'_>> = by_path.get(dep.path.as_str()).into_iter().collect();
            if m.path != dep.path {
                listed.extend(by_path.get(m.path.as_str()));
            }
            if listed.is_empty() {
                mismatches.push(Mismatch {
                    kind: "missing-from-sbom".into(),
                    subject: dep.path.clone(),
                    message: format!(
                        "the binary links {} {} but the SBOM does not list it",
                        m.path, m.version
                    ),
                });
                continue;
            }
            let Some((_, sbom_sha)) = listed
                .iter()
                .filter_map(|l| l.first.get(&Some(m.version.as_str())))
                .min_by_key(|(i, _)| *i)
            else {
                // In SBOM order, across both paths.
                let mut all: Vec<(usize, &SbomGoComponent)> = listed
                    .iter()
                    .flat_map(|l| l.all.iter().take(MAX_VERSIONS_SHOWN).copied())
                    .collect();
                all.sort_unstable_by_key(|(i, _)| *i);
                let total: usize = listed.iter().map(|l| l.all.len()).sum();
                let mut versions = all
                    .iter()
                    .take(MAX_VERSIONS_SHOWN)
                    .map(|(_, c)| shown_version(c.version.as_deref().unwrap_or("(none)")))
                    .collect::<Vec<_>>()
                    .join(", ");
                if total > MAX_VERSIONS_SHOWN {
                    versions.push_str(&format!(" and {} more", total - MAX_VERSIONS_SHOWN));
                }
                mismatches.push(Mismatch {
                    kind: "version-differs".into(),
                    subject: dep.path.clone(),
                    message: format!(
                        "the binary links {} {} but the SBOM lists version {versions}",
                        m.path, m.version,
                    ),
                });
                continue;
            };
            if let Some(want) = m.sum.as_deref().and_then(h1_hex) {
                // `want` is lower-case hex.
                if !sbom_sha.is_empty() && !sbom_sha.contains(&want) {
                    mismatches.push(Mismatch {
                        kind: "sum-differs".into(),
                        subject: dep.path.clone(),
                        message: format!(
                            "the binary's {} {} has go.sum hash {} but the SBOM records another SHA-256",
                            m.path,
                            m.version,
                            m.sum.as_deref().unwrap_or_default()
                        ),
                    });
                }
            }
        }
    }
    let commit_compared = !commits.is_empty();
    if commit_compared {
        match info.setting("vcs.revision") {
            Some(rev) if commits.iter().any(|c| c.eq_ignore_ascii_case(rev)) => {}
            Some(rev) => mismatches.push(Mismatch {
                kind: "revision-differs".into(),
                subject: "vcs.revision".into(),
                message: format!(
                    "the binary was built from {rev} but provenance / CI records {}",
                    commits.join(", ")
                ),
            }),
            None => mismatches.push(Mismatch {
                kind: "revision-missing".into(),
                subject: "vcs.revision".into(),
                message: "the binary records no vcs.revision to compare with the source commit (build with -buildvcs=true from a checkout)".into(),
            }),
        }
    }
    CrossCheck {
        sbom_compared,
        commit_compared,
        mismatches,
    }
}

#[cfg(test)]
mod tests {
    use super::super::buildinfo::parse_modinfo;
    use super::*;

    #[test]
    fn sbom_against_binary() {
        let sum = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32])
        );
        let info = parse_modinfo(
            "go1.22.0".into(),
            &format!(
                "path\tx\nmod\tx\t(devel)\t\ndep\ta.com/a\tv1.0.0\t{sum}\ndep\tb.com/b\tv2.0.0\th1:x\ndep\tc.com/c\tv1.0.0\t\nbuild\tvcs.revision=abc\n"
            ),
        )
        .unwrap();
        let sbom = vec![
            SbomGoComponent::from_purl(
                "pkg:golang/a.com/a@v1.0.0",
                vec![("SHA-256".into(), hex::encode([8u8; 32]))],
            )
            .unwrap(),
            SbomGoComponent::from_purl("pkg:golang/b.com/b@v2.0.1", vec![]).unwrap(),
        ];
        let r = check(&info, Some(&sbom), &["def".into()]);
        let kinds: Vec<&str> = r.mismatches.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "sum-differs",
                "version-differs",
                "missing-from-sbom",
                "revision-differs"
            ]
        );
        let ok = vec![
            SbomGoComponent::from_purl(
                "pkg:golang/a.com/a@v1.0.0",
                vec![("SHA-256".into(), hex::encode([7u8; 32]))],
            )
            .unwrap(),
            SbomGoComponent::from_purl("pkg:golang/b.com/b@v2.0.0", vec![]).unwrap(),
            SbomGoComponent::from_purl("pkg:golang/c.com/c@v1.0.0?type=module", vec![]).unwrap(),
        ];
        assert!(check(&info, Some(&ok), &["ABC".into()]).passed());
        assert!(SbomGoComponent::from_purl("pkg:npm/a@1", vec![]).is_none());
    }

    fn deps(lines: &str) -> BuildInfo {
        parse_modinfo("go1.22.0".into(), &format!("path\tx\n{lines}")).unwrap()
    }

    fn versions_of(path: &str, versions: impl Iterator<Item = String>) -> Vec<SbomGoComponent> {
        versions
            .map(|v| SbomGoComponent::from_purl(&format!("pkg:golang/{path}@{v}"), vec![]).unwrap())
            .collect()
    }

    #[test]
    fn versions_listed_are_capped() {
        let info = deps("dep\ta.com/a\tv9.9.9\t\n");
        let n = MAX_VERSIONS_SHOWN;
        let shown: Vec<String> = (0..n).map(|i| format!("v1.0.{i}")).collect();
        let shown = shown.join(", ");
        let sbom = versions_of("a.com/a", (0..n).map(|i| format!("v1.0.{i}")));
        let r = check(&info, Some(&sbom), &[]);
        assert_eq!(
            r.mismatches[0].message,
            format!("the binary links a.com/a v9.9.9 but the SBOM lists version {shown}")
        );
        let sbom = versions_of("a.com/a", (0..=n).map(|i| format!("v1.0.{i}")));
        let r = check(&info, Some(&sbom), &[]);
        assert_eq!(
            r.mismatches[0].message,
            format!(
                "the binary links a.com/a v9.9.9 but the SBOM lists version {shown} and 1 more"
            )
        );
        let long = "v".repeat(MAX_VERSION_CHARS + 1);
        let sbom = versions_of("a.com/a", [long[1..].to_owned(), long.clone()].into_iter());
        let r = check(&info, Some(&sbom), &[]);
        assert_eq!(
            r.mismatches[0].message,
            format!(
                "the binary links a.com/a v9.9.9 but the SBOM lists version {}, {}…",
                &long[1..],
                &long[1..]
            )
        );
    }

    #[test]
    fn replaced_modules_in_sbom_order() {
        let info = deps("dep\tx.com/x\tv1.0.0\t\n=>\ty.com/y\tv9.0.0\t\n");
        let mut sbom = versions_of("y.com/y", ["v2".to_owned()].into_iter());
        sbom.extend(versions_of("x.com/x", ["v3".to_owned()].into_iter()));
        sbom.extend(versions_of("y.com/y", ["v4".to_owned()].into_iter()));
        let r = check(&info, Some(&sbom), &[]);
        assert_eq!(
            r.mismatches[0].message,
            "the binary links y.com/y v9.0.0 but the SBOM lists version v2, v3, v4"
        );
        sbom.extend(versions_of("x.com/x", ["v9.0.0".to_owned()].into_iter()));
        assert!(check(&info, Some(&sbom), &[]).passed());
    }

    #[test]
    fn many_deps_against_many_components() {
        // 10 000 entries of one module against 10 000 SBOM versions of it:
        // once 1e8 comparisons and messages listing all 10 000 versions.
        let n = 10_000;
        let info = deps(&"dep\ta.com/a\tv9.9.9\t\n".repeat(n));
        let sbom = versions_of("a.com/a", (0..n).map(|i| format!("v1.0.{i}")));
        let r = check(&info, Some(&sbom), &[]);
        assert_eq!(r.mismatches.len(), n);
        let more = format!(" and {} more", n - MAX_VERSIONS_SHOWN);
        assert!(r.mismatches.iter().all(|m| m.message.ends_with(&more)));
        // Distinct modules, each listed once, with its hash.
        let sum = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32])
        );
        let lines: String = (0..n)
            .map(|i| format!("dep\tm.com/m{i}\tv1.0.0\t{sum}\n"))
            .collect();
        let sbom: Vec<SbomGoComponent> = (0..n)
            .map(|i| {
                SbomGoComponent::from_purl(
                    &format!("pkg:golang/m.com/m{i}@v1.0.0"),
                    vec![("sha256".into(), hex::encode_upper([7u8; 32]))],
                )
                .unwrap()
            })
            .collect();
        assert!(check(&deps(&lines), Some(&sbom), &[]).passed());
    }
}
