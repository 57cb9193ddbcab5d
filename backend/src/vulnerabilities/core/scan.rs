//! Scanner reports read: Grype JSON (`grype -o json`: `matches[]`,
//! `source`, `descriptor`; grype's `explain` command reads the same shape)
//! and Trivy JSON (`trivy -f json`, `SchemaVersion` 2: `Results[]` with
//! `Vulnerabilities[]`).
//!
//! - aliases: Grype `relatedVulnerabilities[].id` (e.g. the NVD record of a
//!   GHSA match); Trivy `VendorIDs` (the distribution's advisory ids, e.g.
//!   `DSA-…`, `RHSA-…`, `ALAS-…`: Trivy names no other database's ids).
//!   The finding's own id is never among them.
//! - cvss_vector: the newest CVSS version present, v4.0 before v3.1 before
//!   v3.0; v2 vectors are not taken. Grype: the match's own `cvss[]`, then
//!   its related vulnerabilities'; Trivy: the `SeveritySource` vendor's, then
//!   NVD's, then any.
//! - target_digest: the digest the image is referenced by — the first
//!   `RepoDigests` entry (Grype `source.target.repoDigests`, Trivy
//!   `Metadata.RepoDigests`), else a `name@sha256:…` in the scanned reference
//!   (Grype `userInput`, Trivy `ArtifactName`), else Grype's
//!   `manifestDigest` (the platform manifest) or a file source's sha256. Never
//!   the image ID: that is the config blob's digest, which no registry
//!   reference, signature or attestation names.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// Findings a report may hold (all results together).
pub const MAX_FINDINGS: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanner {
    Grype,
    Trivy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanFinding {
    /// Grype `vulnerability.id` / Trivy `VulnerabilityID`.
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// Grype `artifact.purl`; Trivy `PkgIdentifier.PURL`.
    pub purl: Option<String>,
    /// Grype `artifact.type`; Trivy `Result.Type` (e.g. "gomod", "alpine").
    pub package_type: String,
    pub name: String,
    pub version: String,
    /// Grype `vulnerability.fix.versions`; Trivy `FixedVersion` split on ",".
    pub fixed_versions: Vec<String>,
    /// Lowercase, as the scanner says: critical/high/medium/low/negligible/unknown.
    pub severity: Option<String>,
    pub cvss_vector: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanReport {
    pub scanner: Scanner,
    pub scanner_version: Option<String>,
    pub target: Option<String>,
    /// `sha256:<hex>` of the scanned image/file (see the module doc).
    pub target_digest: Option<String>,
    pub findings: Vec<ScanFinding>,
}

/// Detects Grype (top-level `matches`) or Trivy (`SchemaVersion` with
/// `Results` / `ArtifactName`) and reads every finding.
pub fn parse(json: &[u8]) -> Result<ScanReport, String> {
    parse_with_limit(json, MAX_FINDINGS)
}

fn parse_with_limit(json: &[u8], limit: usize) -> Result<ScanReport, String> {
    #[derive(Deserialize)]
    struct Probe {
        matches: Option<IgnoredAny>,
        #[serde(rename = "SchemaVersion")]
        schema_version: Option<Value>,
        #[serde(rename = "Results")]
        results: Option<IgnoredAny>,
        #[serde(rename = "ArtifactName")]
        artifact_name: Option<IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(json).map_err(|e| {
        format!("not a scanner report (expected a Grype or Trivy JSON object): {e}")
    })?;
    BUDGET.with(|b| b.set(limit));
    if probe.matches.is_some() {
        let raw: Grype = serde_json::from_slice(json).map_err(|e| format!("Grype report: {e}"))?;
        return Ok(grype(raw));
    }
    match probe.schema_version {
        Some(v) if probe.results.is_some() || probe.artifact_name.is_some() => {
            if v.as_u64() != Some(2) {
                return Err(format!(
                    "Trivy report: SchemaVersion {v} is not supported (2 is)"
                ));
            }
            let raw: Trivy =
                serde_json::from_slice(json).map_err(|e| format!("Trivy report: {e}"))?;
            Ok(trivy(raw))
        }
        _ => Err(
            "not a scanner report: expected Grype JSON (`matches`) or Trivy JSON \
                  (`SchemaVersion` and `Results`)"
                .into(),
        ),
    }
}

// ---- bounded, null-tolerant deserialisation

thread_local! {
    /// Findings still allowed in the report being read (reports are read on one thread).
    static BUDGET: Cell<usize> = const { Cell::new(0) };
}

/// An array whose elements count against the report's finding budget
/// (`SHARED`) or against a cap of their own; `null` reads as empty.
struct Capped<T, const SHARED: bool>(Vec<T>);

impl<T, const S: bool> Default for Capped<T, S> {
    fn default() -> Self {
        Capped(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const S: bool> Deserialize<'de> for Capped<T, S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const S: bool>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const S: bool> Visitor<'de> for V<T, S> {
            type Value = Capped<T, S>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Capped(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element()? {
                    let over = if S {
                        BUDGET.with(|b| b.replace(b.get().saturating_sub(1))) == 0
                    } else {
                        out.len() >= MAX_FINDINGS
                    };
                    if over {
                        let limit = if S {
                            "the finding limit"
                        } else {
                            "1000000 entries"
                        };
                        return Err(de::Error::custom(format!("more than {limit}")));
                    }
                    out.push(x);
                }
                Ok(Capped(out))
            }
        }
        d.deserialize_any(V::<T, S>(PhantomData))
    }
}

/// Go writes empty slices and maps as `null`.
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn digest(s: &str) -> Option<String> {
    let hex = s.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// The digest of a `name@sha256:…` reference.
fn ref_digest(s: &str) -> Option<String> {
    s.rsplit_once('@').and_then(|(_, d)| digest(d))
}

fn severity(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// The best of `vectors` (first wins among equals): CVSS 4.0 > 3.1 > 3.0.
fn best_vector<'a>(vectors: impl Iterator<Item = &'a str>) -> Option<String> {
    let rank = |v: &str| match v.get(..9) {
        Some("CVSS:4.0/") => 3,
        Some("CVSS:3.1/") => 2,
        Some("CVSS:3.0/") => 1,
        _ => 0,
    };
    let mut best: Option<(u8, &str)> = None;
    for v in vectors {
        let r = rank(v);
        if r > 0 && best.is_none_or(|(b, _)| r > b) {
            best = Some((r, v));
        }
    }
    best.map(|(_, v)| v.to_string())
}

// ---- Grype

#[derive(Deserialize)]
struct Grype {
    #[serde(default)]
    matches: Capped<GMatch, true>,
    source: Option<GSource>,
    descriptor: Option<GDescriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GMatch {
    vulnerability: GVuln,
    #[serde(default, deserialize_with = "nullable")]
    related_vulnerabilities: Vec<GRelated>,
    artifact: GArtifact,
}

#[derive(Deserialize)]
struct GVuln {
    id: String,
    severity: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    cvss: Vec<GCvss>,
    fix: Option<GFix>,
}

#[derive(Deserialize)]
struct GRelated {
    id: String,
    #[serde(default, deserialize_with = "nullable")]
    cvss: Vec<GCvss>,
}

#[derive(Deserialize)]
struct GCvss {
    version: Option<String>,
    vector: Option<String>,
}

impl GCvss {
    /// Some producers leave the `CVSS:3.x/` prefix off and say the version apart.
    fn vector(&self) -> Option<String> {
        let v = self.vector.as_deref()?;
        match self.version.as_deref() {
            Some(ver)
                if !v.starts_with("CVSS:") && (ver.starts_with('3') || ver.starts_with('4')) =>
            {
                Some(format!("CVSS:{ver}/{v}"))
            }
            _ => Some(v.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct GFix {
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct GArtifact {
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    version: String,
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    kind: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct GSource {
    target: Option<Value>,
}

#[derive(Deserialize)]
struct GDescriptor {
    version: Option<String>,
}

fn grype(raw: Grype) -> ScanReport {
    let target = raw.source.and_then(|s| s.target).unwrap_or(Value::Null);
    let text = |k: &str| target.get(k).and_then(Value::as_str);
    let repo_digest = target
        .get("repoDigests")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().filter_map(Value::as_str).find_map(ref_digest));
    let file_digest = || {
        let digests = target.get("digests").and_then(Value::as_array)?;
        let sha = digests
            .iter()
            .find(|d| d.get("algorithm").and_then(Value::as_str) == Some("sha256"))?;
        digest(&format!("sha256:{}", sha.get("value")?.as_str()?))
    };
    let target_digest = repo_digest
        .or_else(|| text("userInput").and_then(ref_digest))
        .or_else(|| text("manifestDigest").and_then(digest))
        .or_else(file_digest);
    let target_name = target
        .as_str()
        .or(text("userInput"))
        .or(text("path"))
        .map(str::to_string);
    let findings = raw
        .matches
        .0
        .into_iter()
        .map(|m| {
            let id = m.vulnerability.id;
            let mut aliases: Vec<String> = Vec::new();
            for r in &m.related_vulnerabilities {
                if r.id != id && !aliases.contains(&r.id) {
                    aliases.push(r.id.clone());
                }
            }
            let vectors: Vec<String> = m
                .vulnerability
                .cvss
                .iter()
                .chain(m.related_vulnerabilities.iter().flat_map(|r| &r.cvss))
                .filter_map(GCvss::vector)
                .collect();
            ScanFinding {
                vulnerability: id,
                aliases,
                purl: non_empty(m.artifact.purl),
                package_type: m.artifact.kind,
                name: m.artifact.name,
                version: m.artifact.version,
                fixed_versions: m.vulnerability.fix.map(|f| f.versions).unwrap_or_default(),
                severity: severity(m.vulnerability.severity),
                cvss_vector: best_vector(vectors.iter().map(String::as_str)),
            }
        })
        .collect();
    ScanReport {
        scanner: Scanner::Grype,
        // Grype's own tests write a placeholder.
        scanner_version: non_empty(raw.descriptor.and_then(|d| d.version))
            .filter(|v| v != "[not provided]"),
        target: target_name,
        target_digest,
        findings,
    }
}

// ---- Trivy

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Trivy {
    artifact_name: Option<String>,
    trivy: Option<TTrivy>,
    metadata: Option<TMetadata>,
    #[serde(default)]
    results: Capped<TResult, false>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TTrivy {
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TMetadata {
    #[serde(default, deserialize_with = "nullable")]
    repo_digests: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TResult {
    #[serde(default, deserialize_with = "nullable")]
    r#type: String,
    #[serde(default)]
    vulnerabilities: Capped<TVuln, true>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TVuln {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    #[serde(rename = "VendorIDs", default, deserialize_with = "nullable")]
    vendor_ids: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pkg_name: String,
    pkg_identifier: Option<TPkgIdentifier>,
    #[serde(default, deserialize_with = "nullable")]
    installed_version: String,
    fixed_version: Option<String>,
    severity: Option<String>,
    severity_source: Option<String>,
    #[serde(rename = "CVSS", default, deserialize_with = "nullable")]
    cvss: BTreeMap<String, TCvss>,
}

#[derive(Deserialize)]
struct TPkgIdentifier {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct TCvss {
    #[serde(rename = "V3Vector")]
    v3: Option<String>,
    #[serde(rename = "V40Vector")]
    v40: Option<String>,
}

fn trivy(raw: Trivy) -> ScanReport {
    let target_digest = raw
        .metadata
        .as_ref()
        .and_then(|m| m.repo_digests.iter().find_map(|r| ref_digest(r)))
        .or_else(|| raw.artifact_name.as_deref().and_then(ref_digest));
    let mut findings = Vec::new();
    for result in raw.results.0 {
        for v in result.vulnerabilities.0 {
            let source = v.severity_source.as_deref();
            let mut sources: Vec<&TCvss> = Vec::new();
            for key in source.into_iter().chain(["nvd"]) {
                sources.extend(v.cvss.get(key));
            }
            sources.extend(
                v.cvss
                    .iter()
                    .filter(|(k, _)| Some(k.as_str()) != source && *k != "nvd")
                    .map(|(_, c)| c),
            );
            let vectors = sources
                .iter()
                .flat_map(|c| [c.v40.as_deref(), c.v3.as_deref()])
                .flatten();
            let id = v.vulnerability_id;
            let mut aliases: Vec<String> = Vec::new();
            for a in v.vendor_ids {
                if a != id && !aliases.contains(&a) {
                    aliases.push(a);
                }
            }
            findings.push(ScanFinding {
                cvss_vector: best_vector(vectors),
                vulnerability: id,
                aliases,
                purl: non_empty(v.pkg_identifier.and_then(|p| p.purl)),
                package_type: result.r#type.clone(),
                name: v.pkg_name,
                version: v.installed_version,
                fixed_versions: v
                    .fixed_version
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
                severity: severity(v.severity),
            });
        }
    }
    ScanReport {
        scanner: Scanner::Trivy,
        scanner_version: non_empty(raw.trivy.and_then(|t| t.version)),
        target: raw.artifact_name,
        target_digest,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{}/../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// `version | target | digest`, then one line a finding:
    /// `id [aliases] type name@version purl [fixed] severity cvss`.
    fn lines(json: &[u8]) -> Vec<String> {
        let r = parse(json).unwrap();
        let or = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        let mut out = vec![format!(
            "{:?} {} | {} | {}",
            r.scanner,
            or(&r.scanner_version),
            or(&r.target),
            or(&r.target_digest)
        )];
        for f in &r.findings {
            let (id, aliases, kind) = (&f.vulnerability, f.aliases.join(" "), &f.package_type);
            let (fixed, sev, cvss) = (
                f.fixed_versions.join(" "),
                or(&f.severity),
                or(&f.cvss_vector),
            );
            let (name, version, purl) = (&f.name, &f.version, or(&f.purl));
            out.push(format!(
                "{id} [{aliases}] {kind} {name}@{version} {purl} [{fixed}] {sev} {cvss}"
            ));
        }
        out
    }

    #[test]
    fn fixture_findings() {
        let presenter = "Grype - | user-input | sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5
CVE-1999-0001 [] rpm package-1@1.1.1 - [1.2.1 2.1.3 3.4.0] low CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:H
CVE-1999-0002 [] deb package-2@2.2.2 pkg:deb/package-2@2.2.2 [] critical CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H";
        // The related record of the first is itself: no alias. The GHSA has no
        // vector of its own: its related NVD record's.
        let ruby = "Grype 0.61.1 | cgr.dev/chainguard/ruby:latest-3.0 | sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978
CVE-2023-28755 [] apk ruby-3.0@3.0.4-r1 pkg:apk/wolfi/ruby-3.0@3.0.4-r1?arch=aarch64&distro=wolfi-20221118 [3.0.6-r0] high CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H
CVE-2023-28755 [] gem uri@0.10.1 pkg:gem/uri@0.10.1 [] high CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H
GHSA-hv5j-3h9f-99c2 [CVE-2023-28755] gem uri@0.10.1 pkg:gem/uri@0.10.1 [0.10.2] high CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
        // Only CVSS v2 vectors: none taken.
        let ghsa = "Grype 0.65.1 | anchore/test_images@sha256:10008791acbc5866de04108746a02a0c4029ce3a4400a9b3dad45d7f2245f9da | sha256:10008791acbc5866de04108746a02a0c4029ce3a4400a9b3dad45d7f2245f9da
GHSA-cfh5-3ghh-wfjx [CVE-2014-3577] java-archive httpclient@4.1.1 pkg:maven/org.apache.httpcomponents/httpclient@4.1.1 [4.3.5] medium -
CVE-2014-3577 [] java-archive httpclient@4.1.1 pkg:maven/org.apache.httpcomponents/httpclient@4.1.1 [] medium -";
        let keycloak = "Grype 0.66.0 | docker.io/keycloak/keycloak:21.0.2@sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50 | sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50
CVE-2020-12413 [] rpm nspr@4.34.0-17.el9_1 pkg:rpm/rhel/nspr@4.34.0-17.el9_1?arch=x86_64&upstream=nss-3.79.0-17.el9_1.src.rpm&distro=rhel-9.1 [] low CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N";
        // No repo digest for an image loaded from a tarball (and never the image ID);
        // NVD's (the SeveritySource) v3.1 vector before Red Hat's v3.0 one.
        let alpine = "Trivy dev | testdata/fixtures/images/alpine-310.tar.gz | -
CVE-2019-1549 [] alpine libcrypto1.1@1.1.1c-r0 pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2 [1.1.1d-r0] medium CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N
CVE-2019-1551 [] alpine libcrypto1.1@1.1.1c-r0 pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2 [1.1.1d-r2] medium CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N";
        let gomod = "Trivy dev | testdata/fixtures/repo/gomod | -
GMS-2022-20 [] gomod github.com/docker/distribution@v2.7.1+incompatible pkg:golang/github.com/docker/distribution@v2.7.1%2Bincompatible [v2.8.0] unknown -
CVE-2022-23628 [] gomod github.com/open-policy-agent/opa@v0.35.0 pkg:golang/github.com/open-policy-agent/opa@v0.35.0 [0.37.0] medium CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N
CVE-2021-38561 [] gomod golang.org/x/text@v0.3.6 pkg:golang/golang.org/x/text@v0.3.6 [0.3.7] unknown -";
        let vex = "Trivy dev | testdata/fixtures/repo/gomod | -
GMS-2022-20 [] gomod github.com/docker/distribution@v2.7.1+incompatible pkg:golang/github.com/docker/distribution@v2.7.1%2Bincompatible [v2.8.0] unknown -
CVE-2021-38561 [] gomod golang.org/x/text@v0.3.6 pkg:golang/golang.org/x/text@v0.3.6 [0.3.7] unknown -";
        for (name, findings, want) in [
            ("grype__TestJsonImgsPresenter.golden.json", 2, presenter),
            ("grype__explain_chainguard-ruby-test.json", 3, ruby),
            ("grype__explain_ghsa-test.json", 2, ghsa),
            ("grype__explain_keycloak-test.json", 6, keycloak),
            ("trivy__alpine-310.json.golden", 4, alpine),
            ("trivy__gomod.json.golden", 5, gomod),
            ("trivy__gomod-vex.json.golden", 4, vex),
        ] {
            let got = lines(&fixture(&format!("scan/{name}")));
            assert_eq!(got.len(), findings + 1, "{name}");
            let want: Vec<&str> = want.lines().collect();
            assert_eq!(got[..want.len()], want, "{name}");
        }
    }

    #[test]
    fn versions_vectors_and_aliases() {
        let a = "a".repeat(64);
        let trivy = format!(
            r#"{{"SchemaVersion":2,"ArtifactName":"x@sha256:{a}","Metadata":{{"RepoDigests":null}},
            "Results":[{{"Type":"debian","Vulnerabilities":[{{"VulnerabilityID":"CVE-1",
            "VendorIDs":["DSA-1","CVE-1"],"FixedVersion":"1.2, 1.3","SeveritySource":"nvd",
            "CVSS":{{"ghsa":{{"V40Vector":"CVSS:4.0/AV:N"}},"nvd":{{"V3Vector":"CVSS:3.1/AV:L"}}}}}}]}},
            {{"Type":"gomod","Vulnerabilities":null}}]}}"#
        );
        assert_eq!(
            lines(trivy.as_bytes()),
            [
                format!("Trivy - | x@sha256:{a} | sha256:{a}"),
                "CVE-1 [DSA-1] debian @ - [1.2 1.3] - CVSS:4.0/AV:N".into(),
            ]
        );
        // A file source's digest; a v3 vector without its prefix; Go's nulls.
        let grype = format!(
            r#"{{"matches":[{{"vulnerability":{{"id":"X","cvss":[{{"version":"3.0","vector":"AV:N"}}],"fix":null}},
            "relatedVulnerabilities":null,"artifact":{{"name":"a","purl":""}}}}],"source":{{"type":"file",
            "target":{{"path":"/a.tar","digests":[{{"algorithm":"sha256","value":"{}"}}]}}}}}}"#,
            "B".repeat(64)
        );
        assert_eq!(
            lines(grype.as_bytes()),
            [
                format!("Grype - | /a.tar | sha256:{}", "b".repeat(64)),
                "X []  a@ - [] - CVSS:3.0/AV:N".into(),
            ]
        );
    }

    #[test]
    fn hostile_input_is_refused() {
        for (input, want) in [
            (
                &br#"{"matches":[{"vulnerability":{"id":"X"#[..],
                "not a scanner report",
            ),
            (b"[]", "not a scanner report"),
            (br#"{"bomFormat":"CycloneDX"}"#, "expected Grype JSON"),
            (
                br#"{"matches":5}"#,
                "Grype report: invalid type: integer `5`, expected an array",
            ),
            (
                br#"{"matches":[{"vulnerability":{"id":1},"artifact":{"name":"a"}}]}"#,
                "Grype report: invalid type",
            ),
            (
                br#"{"SchemaVersion":1,"Results":[]}"#,
                "SchemaVersion 1 is not supported",
            ),
            (
                br#"{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"PkgName":"a"}]}]}"#,
                "missing field `VulnerabilityID`",
            ),
        ] {
            let err = parse(input).expect_err(want);
            assert!(err.contains(want), "{err} ∌ {want}");
        }
        let one = r#"{"VulnerabilityID":"CVE-1"}"#;
        let report = |n: usize| {
            let first = vec![one; n].join(",");
            format!(
                r#"{{"SchemaVersion":2,"Results":[{{"Vulnerabilities":[{first}]}},{{"Vulnerabilities":[{one}]}}]}}"#
            )
        };
        assert_eq!(
            parse_with_limit(report(9).as_bytes(), 10)
                .unwrap()
                .findings
                .len(),
            10
        );
        // The limit holds across results.
        let err = parse_with_limit(report(10).as_bytes(), 10).unwrap_err();
        assert!(err.contains("more than the finding limit"), "{err}");
        let full = fixture("scan/trivy__alpine-310.json.golden");
        for n in (0..full.len()).step_by(101) {
            assert!(parse(&full[..n]).is_err());
        }
    }
}
