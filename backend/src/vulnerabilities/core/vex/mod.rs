//! VEX documents read and written, in the three formats in use:
//! CycloneDX 1.4–1.6 (`vulnerabilities[].analysis` / `affects`), OpenVEX
//! 0.2.0 (and its 0.0.x drafts: `@context` `https://openvex.dev/ns…`, string
//! products) and CSAF 2.0 with the VEX profile (`csaf_vex`, CSAF 2.0 §4.5).
//!
//! Justifications are given the OpenVEX / CSAF names (the two share them) as
//! CISA's "Minimum Requirements for VEX" (2023) relates them; the document's
//! own word stays in `original_justification`:
//!
//! - `code_not_present` → `vulnerable_code_not_present`
//! - `code_not_reachable` → `vulnerable_code_not_in_execute_path`
//! - `requires_configuration`, `requires_dependency`, `requires_environment` →
//!   `vulnerable_code_cannot_be_controlled_by_adversary`
//! - `protected_by_compiler`, `protected_at_runtime`, `protected_at_perimeter`,
//!   `protected_by_mitigating_control` → `inline_mitigations_already_exist`
//!
//! Writing CycloneDX maps back (`component_not_present` also becomes
//! `code_not_present`, `…cannot_be_controlled…` `requires_environment`, and
//! `inline_mitigations_already_exist` `protected_by_mitigating_control`).
//!
//! Products are what can be matched: a digest (`sha256:<hex>`) or a purl.
//! A statement naming neither (a product known only by name, a BOM-Link to
//! another BOM) is kept with no products, so it can be reported unmatched;
//! so is a claim about a subcomponent that has no purl (it is never widened
//! to the whole product).
//! CycloneDX: a ref to the BOM's `metadata.component` is the product; a ref
//! to any other component is a subcomponent of `metadata.component` (of
//! itself when the BOM has none).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

mod csaf;
mod cyclonedx;
mod export;
mod openvex;
#[cfg(test)]
mod tests;

use csaf::csaf;
use cyclonedx::cyclonedx;
pub use export::{to_csaf, to_cyclonedx, to_openvex, ExportDocument, ExportStatement};
use openvex::openvex;

/// Statements (after CSAF's product × status expansion) a document may hold.
pub const MAX_STATEMENTS: usize = 100_000;
/// How deep nested components / CSAF branches are followed.
const MAX_TREE_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VexFormat {
    CycloneDx,
    OpenVex,
    Csaf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    /// The OpenVEX name.
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// What a statement is about: an artifact by digest ("sha256:<64 lowercase hex>")
/// or a package by purl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    Digest(String),
    Purl(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct VexStatement {
    /// The id the document uses (CVE-…, GHSA-…).
    pub vulnerability: String,
    /// Other ids it names for the same vulnerability.
    pub aliases: Vec<String>,
    pub products: Vec<ProductRef>,
    /// Purls of components within the products the statement is about.
    pub subcomponents: Vec<String>,
    pub status: VexStatus,
    /// OpenVEX name where one is equivalent (see the module doc).
    pub justification: Option<String>,
    pub original_justification: Option<String>,
    /// Impact statement / detail.
    pub detail: Option<String>,
    /// Action statement / response.
    pub action: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    /// Where in the document (JSON pointer), for error and "unmatched" reports.
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VexDocument {
    pub format: VexFormat,
    pub id: Option<String>,
    pub author: Option<String>,
    pub statements: Vec<VexStatement>,
}

/// Detects the format and reads every statement; an error names what is wrong (and where).
pub fn parse(json: &[u8]) -> Result<VexDocument, String> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| format!("not valid JSON: {e}"))?;
    if !doc.is_object() {
        return Err("not a VEX document: expected a JSON object".into());
    }
    let parsed = if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        cyclonedx(&doc)?
    } else if str_at(&doc, "@context").is_some_and(|c| c.starts_with("https://openvex.dev/ns")) {
        openvex(&doc)?
    } else if doc
        .get("document")
        .and_then(|d| d.get("csaf_version"))
        .is_some()
    {
        csaf(&doc)?
    } else {
        return Err(
            "not a VEX document: expected CycloneDX (`bomFormat`), OpenVEX \
                    (`@context` https://openvex.dev/ns) or CSAF (`document.csaf_version`)"
                .into(),
        );
    };
    if parsed.statements.is_empty() {
        let what = match parsed.format {
            VexFormat::CycloneDx => "a CycloneDX BOM without vulnerabilities[].analysis.state",
            VexFormat::OpenVex => "an OpenVEX document without statements",
            VexFormat::Csaf => "a CSAF document without vulnerabilities[].product_status",
        };
        return Err(format!("not a VEX document: {what}"));
    }
    Ok(parsed)
}

// ---- JSON access: absent and null are the same; a wrong type is an error naming where.

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn opt_str<'a>(v: &'a Value, key: &str, ptr: &str) -> Result<Option<&'a str>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("{ptr}/{key}: expected a string")),
    }
}

fn req_str<'a>(v: &'a Value, key: &str, ptr: &str) -> Result<&'a str, String> {
    opt_str(v, key, ptr)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{ptr}/{key}: missing"))
}

fn arr<'a>(v: &'a Value, key: &str, ptr: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{ptr}/{key}: expected an array")),
    }
}

fn strings(v: &Value, key: &str, ptr: &str) -> Result<Vec<String>, String> {
    arr(v, key, ptr)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{ptr}/{key}/{i}: expected a string"))
        })
        .collect()
}

fn time(v: &Value, key: &str, ptr: &str) -> Result<Option<DateTime<Utc>>, String> {
    opt_str(v, key, ptr)?
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("{ptr}/{key}: not an RFC 3339 date-time ({e})"))
        })
        .transpose()
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn push(out: &mut Vec<VexStatement>, s: VexStatement) -> Result<(), String> {
    if out.len() >= MAX_STATEMENTS {
        return Err(format!(
            "{}: more than {MAX_STATEMENTS} statements",
            s.pointer
        ));
    }
    out.push(s);
    Ok(())
}

// ---- product identification

/// `sha256:<64 hex>` lowercased, or None.
fn digest(s: &str) -> Option<String> {
    let hex = s
        .strip_prefix("sha256:")
        .or_else(|| s.strip_prefix("SHA256:"))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(c) if b[i] == b'%' => {
                out.push(c);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A purl's (name, version), percent-decoded.
fn purl_parts(purl: &str) -> (String, String) {
    let p = purl.strip_prefix("pkg:").unwrap_or(purl);
    let p = p.split(['?', '#']).next().unwrap_or(p);
    let last = p.rfind('/').map_or(0, |i| i + 1);
    let (path, version) = match p[last..].rfind('@') {
        Some(at) => (&p[..last + at], &p[last + at + 1..]),
        None => (p, ""),
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    (pct_decode(name), pct_decode(version))
}

/// An identifier string: a digest, a purl (with the digest an OCI purl's
/// version carries), or an image reference `name@sha256:…`. Others name
/// nothing matchable.
fn ident(s: &str, out: &mut Vec<ProductRef>) {
    if let Some(d) = digest(s) {
        push_unique(out, ProductRef::Digest(d));
    } else if s.starts_with("pkg:") && s.contains('/') {
        if let Some(d) = digest(&purl_parts(s).1) {
            push_unique(out, ProductRef::Digest(d));
        }
        push_unique(out, ProductRef::Purl(s.to_string()));
    } else if let Some(d) = s.rsplit_once('@').and_then(|(_, d)| digest(d)) {
        push_unique(out, ProductRef::Digest(d));
    }
}

fn purls(ids: &[ProductRef]) -> impl Iterator<Item = &String> {
    ids.iter().filter_map(|p| match p {
        ProductRef::Purl(p) => Some(p),
        ProductRef::Digest(_) => None,
    })
}

/// CISA's mapping (module table) to OpenVEX names; other words are kept.
fn openvex_justification(j: &str) -> String {
    match j {
        "code_not_present" => "vulnerable_code_not_present",
        "code_not_reachable" => "vulnerable_code_not_in_execute_path",
        "requires_configuration" | "requires_dependency" | "requires_environment" => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        "protected_by_compiler"
        | "protected_at_runtime"
        | "protected_at_perimeter"
        | "protected_by_mitigating_control" => "inline_mitigations_already_exist",
        other => other,
    }
    .to_string()
}

/// OpenVEX's justifications (also CSAF's flag labels).
pub const OPENVEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

fn known_openvex_justification(j: &str) -> Option<&'static str> {
    let j = openvex_justification(j);
    OPENVEX_JUSTIFICATIONS.iter().copied().find(|k| *k == j)
}

/// CycloneDX's analysis justifications.
pub const CYCLONEDX_JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// The CycloneDX word for a justification (CycloneDX words are kept).
fn cyclonedx_justification(j: &str) -> Option<&'static str> {
    if let Some(c) = CYCLONEDX_JUSTIFICATIONS.iter().copied().find(|c| *c == j) {
        return Some(c);
    }
    Some(match j {
        "component_not_present" | "vulnerable_code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "requires_environment",
        "inline_mitigations_already_exist" => "protected_by_mitigating_control",
        _ => return None,
    })
}
