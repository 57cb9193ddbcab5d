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
                return Err(format!("Trivy report: SchemaVersion {v} is not supported (2 is)"));
            }
            let raw: Trivy =
                serde_json::from_slice(json).map_err(|e| format!("Trivy report: {e}"))?;
            Ok(trivy(raw))
        }
        _ => Err("not a scanner report: expected Grype JSON (`matches`) or Trivy JSON \
                  (`SchemaVersion` and `Results`)"
            .into()),
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
                        let limit = if S { "the finding limit" } else { "1000000 entries" };
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
    s.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty())
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
            Some(ver) if !v.starts_with("CVSS:") && (ver.starts_with('3') || ver.starts_with('4')) => {
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
        let sha = digests.iter().find(|d| d.get("algorithm").and_then(Value::as_str) == Some("sha256"))?;
        digest(&format!("sha256:{}", sha.get("value")?.as_str()?))
    };
    let target_digest = repo_digest
        .or_else(|| text("userInput").and_then(ref_digest))
        .or_else(|| text("manifestDigest").and_then(digest))
        .or_else(file_digest);
    let target_name = target.as_str().or(text("userInput")).or(text("path")).map(str::to_string);
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
            sources.extend(v.cvss.iter().filter(|(k, _)| Some(k.as_str()) != source && *k != "nvd").map(|(_, c)| c));
            let vectors = sources.iter().flat_map(|c| [c.v40.as_deref(), c.v3.as_deref()]).flatten();
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
        let here = format!("{}/../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        // Fallback for a scratch crate outside the repository.
        std::fs::read(&here)
            .or_else(|_| std::fs::read(format!("/work/main/tests/fixtures/{rel}")))
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn scan(rel: &str) -> ScanReport {
        parse(&fixture(&format!("scan/{rel}"))).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grype_presenter_golden() {
        let r = scan("grype__TestJsonImgsPresenter.golden.json");
        assert_eq!((r.scanner, r.scanner_version.as_deref()), (Scanner::Grype, None));
        assert_eq!(r.target.as_deref(), Some("user-input"));
        // No repo digest nor digest in the reference: the manifest digest, not the image ID.
        assert_eq!(
            r.target_digest.as_deref(),
            Some("sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5")
        );
        assert_eq!(r.findings.len(), 2);
        let f = &r.findings[0];
        assert_eq!((f.vulnerability.as_str(), f.purl.as_deref()), ("CVE-1999-0001", None));
        assert_eq!((f.package_type.as_str(), f.name.as_str(), f.version.as_str()), ("rpm", "package-1", "1.1.1"));
        assert_eq!(f.fixed_versions, strings(&["1.2.1", "2.1.3", "3.4.0"]));
        assert_eq!(f.severity.as_deref(), Some("low"));
        assert_eq!(f.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:H"));
        let f = &r.findings[1];
        assert_eq!(f.purl.as_deref(), Some("pkg:deb/package-2@2.2.2"));
        assert_eq!((f.severity.as_deref(), f.fixed_versions.len()), (Some("critical"), 0));
    }

    #[test]
    fn grype_explain_inputs_are_grype_json() {
        let r = scan("grype__explain_chainguard-ruby-test.json");
        assert_eq!(r.scanner_version.as_deref(), Some("0.61.1"));
        assert_eq!(r.target.as_deref(), Some("cgr.dev/chainguard/ruby:latest-3.0"));
        assert_eq!(
            r.target_digest.as_deref(),
            Some("sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978")
        );
        assert_eq!(r.findings.len(), 3);
        assert!(r.findings[0].aliases.is_empty(), "its related record is itself");
        assert_eq!(r.findings[0].purl.as_deref(), Some("pkg:apk/wolfi/ruby-3.0@3.0.4-r1?arch=aarch64&distro=wolfi-20221118"));
        assert_eq!(r.findings[0].fixed_versions, strings(&["3.0.6-r0"]));
        let f = &r.findings[2];
        assert_eq!((f.vulnerability.as_str(), f.aliases.clone()), ("GHSA-hv5j-3h9f-99c2", strings(&["CVE-2023-28755"])));
        assert_eq!((f.package_type.as_str(), f.fixed_versions.clone()), ("gem", strings(&["0.10.2"])));
        // The GHSA carries no vector of its own: the related NVD record's.
        assert_eq!(f.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"));

        let r = scan("grype__explain_ghsa-test.json");
        assert_eq!(r.findings.len(), 2);
        let f = &r.findings[0];
        assert_eq!(f.purl.as_deref(), Some("pkg:maven/org.apache.httpcomponents/httpclient@4.1.1"));
        assert_eq!((f.package_type.as_str(), f.severity.as_deref()), ("java-archive", Some("medium")));
        assert_eq!(f.cvss_vector, None, "only a CVSS v2 vector");
        assert_eq!(
            r.target_digest.as_deref(),
            Some("sha256:10008791acbc5866de04108746a02a0c4029ce3a4400a9b3dad45d7f2245f9da")
        );

        let r = scan("grype__explain_keycloak-test.json");
        assert_eq!(r.findings.len(), 6);
        assert!(r.findings.iter().all(|f| f.vulnerability == "CVE-2020-12413"
            && f.severity.as_deref() == Some("low")
            && f.fixed_versions.is_empty()));
        assert_eq!(r.findings[1].name, "nss");
    }

    #[test]
    fn trivy_reports() {
        let r = scan("trivy__alpine-310.json.golden");
        assert_eq!((r.scanner, r.scanner_version.as_deref()), (Scanner::Trivy, Some("dev")));
        assert_eq!(r.target.as_deref(), Some("testdata/fixtures/images/alpine-310.tar.gz"));
        assert_eq!(r.target_digest, None, "an image loaded from a tarball has no repo digest");
        assert_eq!(r.findings.len(), 4);
        let f = &r.findings[0];
        assert_eq!((f.vulnerability.as_str(), f.name.as_str(), f.version.as_str()), ("CVE-2019-1549", "libcrypto1.1", "1.1.1c-r0"));
        assert_eq!(f.purl.as_deref(), Some("pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2"));
        assert_eq!((f.package_type.as_str(), f.severity.as_deref()), ("alpine", Some("medium")));
        assert_eq!(f.fixed_versions, strings(&["1.1.1d-r0"]));
        // SeveritySource nvd's v3.1 vector, not Red Hat's v3.0 one.
        assert_eq!(f.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"));
        assert_eq!(r.findings[3].fixed_versions, strings(&["1.1.1d-r2"]));

        let r = scan("trivy__gomod.json.golden");
        assert_eq!(r.findings.len(), 5);
        let f = &r.findings[0];
        assert_eq!((f.vulnerability.as_str(), f.severity.as_deref()), ("GMS-2022-20", Some("unknown")));
        assert_eq!(f.purl.as_deref(), Some("pkg:golang/github.com/docker/distribution@v2.7.1%2Bincompatible"));
        assert_eq!((f.package_type.as_str(), f.fixed_versions.clone(), f.cvss_vector.clone()), ("gomod", strings(&["v2.8.0"]), None));
        let f = &r.findings[1];
        assert_eq!((f.vulnerability.as_str(), f.fixed_versions.clone()), ("CVE-2022-23628", strings(&["0.37.0"])));
        assert!(f.cvss_vector.as_deref().unwrap().starts_with("CVSS:3.1/"));
        assert_eq!(scan("trivy__gomod-vex.json.golden").findings.len(), 4);
    }

    #[test]
    fn versions_vectors_and_aliases() {
        let t = br#"{"SchemaVersion":2,"ArtifactName":"x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "Metadata":{"RepoDigests":null},"Results":[{"Type":"debian","Vulnerabilities":[{"VulnerabilityID":"CVE-1",
          "VendorIDs":["DSA-1","CVE-1"],"FixedVersion":"1.2, 1.3","CVSS":{"ghsa":{"V40Vector":"CVSS:4.0/AV:N"},
          "nvd":{"V3Vector":"CVSS:3.1/AV:L"}},"SeveritySource":"nvd"}]},{"Type":"gomod","Vulnerabilities":null}]}"#;
        let r = parse(t).unwrap();
        let f = &r.findings[0];
        assert_eq!((f.aliases.clone(), f.fixed_versions.clone()), (strings(&["DSA-1"]), strings(&["1.2", "1.3"])));
        assert_eq!(f.cvss_vector.as_deref(), Some("CVSS:4.0/AV:N"));
        assert_eq!(r.target_digest.as_deref(), Some(&format!("sha256:{}", "a".repeat(64))[..]));
        let g = br#"{"matches":[{"vulnerability":{"id":"X","cvss":[{"version":"3.0","vector":"AV:N/AC:L"}],"fix":null},
          "relatedVulnerabilities":null,"artifact":{"name":"a","purl":""}}],"source":{"type":"file","target":{"path":"/a.tar",
          "digests":[{"algorithm":"sha256","value":"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}]}}}"#;
        let r = parse(g).unwrap();
        assert_eq!(r.findings[0].cvss_vector.as_deref(), Some("CVSS:3.0/AV:N/AC:L"));
        assert_eq!((r.findings[0].purl.clone(), r.target.as_deref()), (None, Some("/a.tar")));
        assert_eq!(r.target_digest.as_deref(), Some(&format!("sha256:{}", "b".repeat(64))[..]));
    }

    #[test]
    fn hostile_input_is_refused() {
        for (input, want) in [
            (&br#"{"matches":[{"vulnerability":{"id":"X"#[..], "not a scanner report"),
            (b"[]", "not a scanner report"),
            (br#"{"bomFormat":"CycloneDX"}"#, "expected Grype JSON"),
            (br#"{"matches":5}"#, "Grype report: invalid type: integer `5`, expected an array"),
            (br#"{"matches":[{"vulnerability":{"id":1},"artifact":{"name":"a"}}]}"#, "Grype report: invalid type"),
            (br#"{"SchemaVersion":1,"Results":[]}"#, "SchemaVersion 1 is not supported"),
            (br#"{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"PkgName":"a"}]}]}"#, "missing field `VulnerabilityID`"),
        ] {
            let err = parse(input).expect_err(want);
            assert!(err.contains(want), "{err} ∌ {want}");
        }
        let one = r#"{"VulnerabilityID":"CVE-1"}"#;
        let results = |n: usize| format!(r#"{{"SchemaVersion":2,"Results":[{{"Vulnerabilities":[{}]}},{{"Vulnerabilities":[{one}]}}]}}"#, vec![one; n].join(","));
        assert_eq!(parse_with_limit(results(9).as_bytes(), 10).unwrap().findings.len(), 10);
        // The limit holds across results.
        assert!(parse_with_limit(results(10).as_bytes(), 10).unwrap_err().contains("more than the finding limit"));
        let full = fixture("scan/trivy__alpine-310.json.golden");
        for n in (0..full.len()).step_by(101) {
            assert!(parse(&full[..n]).is_err());
        }
    }
}
