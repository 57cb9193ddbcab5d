//! Does the SBOM describe what was shipped? The SBOM's Go components
//! (`pkg:golang/...` purls) against the binary's build info, and the build's
//! `vcs.revision` against the commit provenance or the CI run records.

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

pub fn check(info: &BuildInfo, sbom: Option<&[SbomGoComponent]>, commits: &[String]) -> CrossCheck {
    let mut mismatches = Vec::new();
    let sbom_compared = sbom.is_some();
    if let Some(components) = sbom {
        for dep in &info.modules {
            let m = effective(dep);
            // A local-directory replacement has no module identity to list.
            if m.version == "(devel)" {
                continue;
            }
            let listed: Vec<&SbomGoComponent> = components
                .iter()
                .filter(|c| c.path == dep.path || c.path == m.path)
                .collect();
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
            let Some(c) = listed
                .iter()
                .find(|c| c.version.as_deref() == Some(m.version.as_str()))
            else {
                let versions: Vec<&str> = listed
                    .iter()
                    .map(|c| c.version.as_deref().unwrap_or("(none)"))
                    .collect();
                mismatches.push(Mismatch {
                    kind: "version-differs".into(),
                    subject: dep.path.clone(),
                    message: format!(
                        "the binary links {} {} but the SBOM lists version {}",
                        m.path,
                        m.version,
                        versions.join(", ")
                    ),
                });
                continue;
            };
            if let Some(want) = m.sum.as_deref().and_then(h1_hex) {
                let sbom_sha: Vec<&str> = c
                    .hashes
                    .iter()
                    .filter(|(a, _)| {
                        a.eq_ignore_ascii_case("sha-256") || a.eq_ignore_ascii_case("sha256")
                    })
                    .map(|(_, h)| h.as_str())
                    .collect();
                if !sbom_sha.is_empty() && !sbom_sha.iter().any(|h| h.eq_ignore_ascii_case(&want)) {
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
}
