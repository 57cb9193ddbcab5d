//! VEX documents read and written, in the three formats in use:
//! CycloneDX 1.4–1.6 (`vulnerabilities[].analysis` / `affects`), OpenVEX
//! 0.2.0 (and its 0.0.x drafts: `@context` `https://openvex.dev/ns…`, string
//! products) and CSAF 2.0 with the VEX profile (`csaf_vex`, CSAF 2.0 §4.5).
//!
//! Justifications are given the OpenVEX / CSAF names (the two share them) as
//! CISA's "Minimum Requirements for VEX" (2023) relates them; the document's
//! own word stays in `original_justification`:
//!
//! | CycloneDX `analysis.justification`     | OpenVEX / CSAF                                      |
//! |----------------------------------------|-----------------------------------------------------|
//! | `code_not_present`                     | `vulnerable_code_not_present`                       |
//! | `code_not_reachable`                   | `vulnerable_code_not_in_execute_path`               |
//! | `requires_configuration`, `requires_dependency`, `requires_environment` | `vulnerable_code_cannot_be_controlled_by_adversary` |
//! | `protected_by_compiler`, `protected_at_runtime`, `protected_at_perimeter`, `protected_by_mitigating_control` | `inline_mitigations_already_exist` |
//!
//! Writing CycloneDX maps back (`component_not_present` also becomes
//! `code_not_present`, `…cannot_be_controlled…` `requires_environment`, and
//! `inline_mitigations_already_exist` `protected_by_mitigating_control`).
//!
//! Products are what can be matched: a digest (`sha256:<hex>`) or a purl.
//! A statement naming neither (a product known only by name, a BOM-Link to
//! another BOM) is kept with no products, so it can be reported unmatched.
//! CycloneDX: a ref to the BOM's `metadata.component` is the product; a ref
//! to any other component is a subcomponent of `metadata.component` (of
//! itself when the BOM has none).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

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

/// What a statement is about: an artifact by digest ("sha256:<64 lowercase hex>") or a package by purl.
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
    /// OpenVEX name where one is equivalent (see the module table).
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
    } else if doc.get("document").and_then(|d| d.get("csaf_version")).is_some() {
        csaf(&doc)?
    } else {
        return Err("not a VEX document: expected CycloneDX (`bomFormat`), OpenVEX \
                    (`@context` https://openvex.dev/ns) or CSAF (`document.csaf_version`)"
            .into());
    };
    if parsed.statements.is_empty() {
        return Err(format!(
            "not a VEX document: this {} document makes no VEX statement",
            match parsed.format {
                VexFormat::CycloneDx => "CycloneDX (no vulnerabilities[].analysis.state)",
                VexFormat::OpenVex => "OpenVEX (no statements)",
                VexFormat::Csaf => "CSAF (no vulnerabilities[].product_status)",
            }
        ));
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
        return Err(format!("{}: more than {MAX_STATEMENTS} statements", s.pointer));
    }
    out.push(s);
    Ok(())
}

// ---- product identification

/// `sha256:<64 hex>` lowercased, or None.
fn digest(s: &str) -> Option<String> {
    let hex = s.strip_prefix("sha256:").or_else(|| s.strip_prefix("SHA256:"))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
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

const OPENVEX_JUSTIFICATIONS: [&str; 5] = [
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

/// The CycloneDX word for a justification (CycloneDX words are kept).
fn cyclonedx_justification(j: &str) -> Option<&'static str> {
    const CDX: [&str; 9] = [
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
    if let Some(c) = CDX.iter().copied().find(|c| *c == j) {
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

// ---- CycloneDX

fn cdx_ids(c: &Value) -> Vec<ProductRef> {
    let mut out = Vec::new();
    if let Some(p) = str_at(c, "purl") {
        ident(p, &mut out);
    }
    for h in c.get("hashes").and_then(Value::as_array).into_iter().flatten() {
        if str_at(h, "alg") == Some("SHA-256") {
            if let Some(d) = str_at(h, "content").and_then(|x| digest(&format!("sha256:{x}"))) {
                push_unique(&mut out, ProductRef::Digest(d));
            }
        }
    }
    out
}

fn cyclonedx(doc: &Value) -> Result<VexDocument, String> {
    let spec = opt_str(doc, "specVersion", "")?.unwrap_or("");
    if let Some(minor) = spec.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok()) {
        if minor < 4 {
            return Err(format!(
                "/specVersion: CycloneDX {spec} has no vulnerabilities; VEX needs 1.4 or later"
            ));
        }
    }
    let meta = doc.get("metadata").unwrap_or(&Value::Null);
    let product = meta.get("component").filter(|c| c.is_object());
    // bom-ref → component, walking nested components without recursion.
    let mut refs: HashMap<&str, &Value> = HashMap::new();
    let mut stack: Vec<(&Value, usize, String)> = Vec::new();
    if let Some(p) = product {
        stack.push((p, 0, "/metadata/component".into()));
    }
    for (i, c) in arr(doc, "components", "")?.iter().enumerate() {
        stack.push((c, 0, format!("/components/{i}")));
    }
    while let Some((c, depth, ptr)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(format!("{ptr}: components nested deeper than {MAX_TREE_DEPTH}"));
        }
        if let Some(r) = opt_str(c, "bom-ref", &ptr)? {
            refs.entry(r).or_insert(c);
        }
        for (i, sub) in arr(c, "components", &ptr)?.iter().enumerate() {
            stack.push((sub, depth + 1, format!("{ptr}/components/{i}")));
        }
    }
    // A BOM-Link (urn:cdx:serial/version#ref) into this very BOM resolves locally.
    let serial = str_at(doc, "serialNumber").and_then(|s| s.strip_prefix("urn:uuid:"));
    let resolve = |r: &str| -> Option<&Value> {
        let local = match r.strip_prefix("urn:cdx:") {
            Some(link) => {
                let (bom, frag) = link.split_once('#')?;
                if Some(bom.split('/').next()?) != serial {
                    return None;
                }
                pct_decode(frag)
            }
            None => r.to_string(),
        };
        refs.get(local.as_str()).copied()
    };
    let product_ids = product.map(cdx_ids).unwrap_or_default();
    let doc_time = time(meta, "timestamp", "/metadata")?;
    let mut out = Vec::new();
    for (i, v) in arr(doc, "vulnerabilities", "")?.iter().enumerate() {
        let vptr = format!("/vulnerabilities/{i}");
        let Some(analysis) = v.get("analysis").filter(|a| !a.is_null()) else {
            continue;
        };
        let aptr = format!("{vptr}/analysis");
        let Some(state) = opt_str(analysis, "state", &aptr)? else {
            continue;
        };
        let status = match state {
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            "exploitable" => VexStatus::Affected,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "in_triage" => VexStatus::UnderInvestigation,
            other => return Err(format!("{aptr}/state: unknown analysis state {other:?}")),
        };
        let id = req_str(v, "id", &vptr)?;
        let mut aliases = Vec::new();
        for (k, r) in arr(v, "references", &vptr)?.iter().enumerate() {
            let a = req_str(r, "id", &format!("{vptr}/references/{k}"))?;
            if a != id {
                push_unique(&mut aliases, a.to_string());
            }
        }
        let original = opt_str(analysis, "justification", &aptr)?.map(str::to_string);
        let responses = strings(analysis, "response", &aptr)?;
        let action = opt_str(v, "recommendation", &vptr)?
            .or(opt_str(v, "workaround", &vptr)?)
            .map(str::to_string)
            .or((!responses.is_empty()).then(|| responses.join(", ")));
        let mut timestamp = None;
        for (obj, key, ptr) in [
            (analysis, "lastUpdated", &aptr),
            (analysis, "firstIssued", &aptr),
            (v, "updated", &vptr),
            (v, "published", &vptr),
        ] {
            timestamp = timestamp.or(time(obj, key, ptr)?);
        }
        let base = VexStatement {
            vulnerability: id.to_string(),
            aliases,
            products: Vec::new(),
            subcomponents: Vec::new(),
            status,
            justification: original.as_deref().map(openvex_justification),
            original_justification: original.clone(),
            detail: opt_str(analysis, "detail", &aptr)?.map(str::to_string),
            action,
            timestamp: timestamp.or(doc_time),
            pointer: vptr.clone(),
        };
        let affects = arr(v, "affects", &vptr)?;
        if affects.is_empty() {
            push(&mut out, base.clone())?;
        }
        for (j, a) in affects.iter().enumerate() {
            let ptr = format!("{vptr}/affects/{j}");
            let r = req_str(a, "ref", &ptr)?;
            let (products, subcomponents) = match resolve(r) {
                Some(c) if product.is_some_and(|p| std::ptr::eq(p, c)) => (cdx_ids(c), vec![]),
                Some(c) if product.is_some() => {
                    (product_ids.clone(), purls(&cdx_ids(c)).cloned().collect())
                }
                Some(c) => (cdx_ids(c), vec![]),
                // Some producers use the purl itself as the ref.
                None if r.starts_with("pkg:") && product.is_some() => {
                    (product_ids.clone(), vec![r.to_string()])
                }
                None => {
                    let mut ids = Vec::new();
                    ident(r, &mut ids);
                    (ids, vec![])
                }
            };
            let s = VexStatement { products, subcomponents, pointer: ptr, ..base.clone() };
            push(&mut out, s)?;
        }
    }
    Ok(VexDocument {
        format: VexFormat::CycloneDx,
        id: str_at(doc, "serialNumber").map(str::to_string),
        author: None,
        statements: out,
    })
}

// ---- OpenVEX

/// A product or subcomponent: a string (0.0.x) or an object (0.2).
fn openvex_ids(p: &Value, ptr: &str) -> Result<Vec<ProductRef>, String> {
    let mut out = Vec::new();
    match p {
        Value::String(s) => ident(s, &mut out),
        Value::Object(_) => {
            if let Some(id) = opt_str(p, "@id", ptr)? {
                ident(id, &mut out);
            }
            if let Some(purl) = p.get("identifiers").and_then(|i| str_at(i, "purl")) {
                ident(purl, &mut out);
            }
            if let Some(h) = p.get("hashes").and_then(|h| str_at(h, "sha-256")) {
                if let Some(d) = digest(&format!("sha256:{h}")) {
                    push_unique(&mut out, ProductRef::Digest(d));
                }
            }
        }
        _ => return Err(format!("{ptr}: expected a string or an object")),
    }
    Ok(out)
}

fn openvex_subs(v: &Value, ptr: &str, out: &mut Vec<String>) -> Result<(), String> {
    for (k, s) in arr(v, "subcomponents", ptr)?.iter().enumerate() {
        for p in purls(&openvex_ids(s, &format!("{ptr}/subcomponents/{k}"))?) {
            push_unique(out, p.clone());
        }
    }
    Ok(())
}

fn openvex(doc: &Value) -> Result<VexDocument, String> {
    let doc_time = time(doc, "last_updated", "")?.or(time(doc, "timestamp", "")?);
    let mut out = Vec::new();
    for (k, s) in arr(doc, "statements", "")?.iter().enumerate() {
        let ptr = format!("/statements/{k}");
        let (vulnerability, aliases) = match s.get("vulnerability") {
            Some(Value::String(name)) if !name.is_empty() => (name.clone(), vec![]),
            Some(v @ Value::Object(_)) => {
                let vptr = format!("{ptr}/vulnerability");
                let name = req_str(v, "name", &vptr)?.to_string();
                let mut aliases = strings(v, "aliases", &vptr)?;
                aliases.retain(|a| *a != name);
                (name, aliases)
            }
            _ => return Err(format!("{ptr}/vulnerability: missing")),
        };
        let status = match req_str(s, "status", &ptr)? {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            other => return Err(format!("{ptr}/status: unknown status {other:?}")),
        };
        let original = opt_str(s, "justification", &ptr)?.map(str::to_string);
        let detail = opt_str(s, "impact_statement", &ptr)?
            .or(opt_str(s, "status_notes", &ptr)?)
            .filter(|d| !d.is_empty());
        let timestamp = time(s, "last_updated", &ptr)?.or(time(s, "timestamp", &ptr)?);
        let mut common_subs = Vec::new();
        openvex_subs(s, &ptr, &mut common_subs)?; // 0.0.x: on the statement
        let mut per_product = Vec::new();
        for (p, prod) in arr(s, "products", &ptr)?.iter().enumerate() {
            let pptr = format!("{ptr}/products/{p}");
            let mut subs = common_subs.clone();
            if prod.is_object() {
                openvex_subs(prod, &pptr, &mut subs)?;
            }
            per_product.push((openvex_ids(prod, &pptr)?, subs, pptr));
        }
        let base = VexStatement {
            vulnerability,
            aliases,
            products: Vec::new(),
            subcomponents: common_subs,
            status,
            justification: original.as_deref().map(openvex_justification),
            original_justification: original,
            detail: detail.map(str::to_string),
            action: opt_str(s, "action_statement", &ptr)?.map(str::to_string),
            timestamp: timestamp.or(doc_time),
            pointer: ptr,
        };
        // Products with different subcomponents are separate claims.
        if per_product.windows(2).all(|w| w[0].1 == w[1].1) {
            let mut s = base;
            for (ids, subs, _) in per_product {
                ids.into_iter().for_each(|i| push_unique(&mut s.products, i));
                s.subcomponents = subs;
            }
            push(&mut out, s)?;
        } else {
            for (products, subcomponents, pointer) in per_product {
                let s = VexStatement { products, subcomponents, pointer, ..base.clone() };
                push(&mut out, s)?;
            }
        }
    }
    Ok(VexDocument {
        format: VexFormat::OpenVex,
        id: str_at(doc, "@id").map(str::to_string),
        author: str_at(doc, "author").map(str::to_string),
        statements: out,
    })
}

// ---- CSAF

#[derive(Default, Clone)]
struct CsafProduct {
    ids: Vec<ProductRef>,
    subs: Vec<String>,
}

fn csaf_ids(fpn: &Value) -> Vec<ProductRef> {
    let mut out = Vec::new();
    let Some(h) = fpn.get("product_identification_helper") else {
        return out;
    };
    let listed = h.get("purls").and_then(Value::as_array).into_iter().flatten();
    for p in h.get("purl").into_iter().chain(listed).filter_map(Value::as_str) {
        ident(p, &mut out);
    }
    for hash in h.get("hashes").and_then(Value::as_array).into_iter().flatten() {
        for fh in hash.get("file_hashes").and_then(Value::as_array).into_iter().flatten() {
            if str_at(fh, "algorithm").is_some_and(|a| a.eq_ignore_ascii_case("sha256")) {
                if let Some(d) = str_at(fh, "value").and_then(|x| digest(&format!("sha256:{x}"))) {
                    push_unique(&mut out, ProductRef::Digest(d));
                }
            }
        }
    }
    out
}

fn csaf_tree(tree: &Value) -> Result<HashMap<String, CsafProduct>, String> {
    let mut map: HashMap<String, CsafProduct> = HashMap::new();
    let mut add = |fpn: &Value, ptr: &str| -> Result<(), String> {
        let id = req_str(fpn, "product_id", ptr)?;
        map.insert(id.to_string(), CsafProduct { ids: csaf_ids(fpn), subs: vec![] });
        Ok(())
    };
    let mut stack: Vec<(&Value, usize, String)> = Vec::new();
    for (i, b) in arr(tree, "branches", "/product_tree")?.iter().enumerate() {
        stack.push((b, 0, format!("/product_tree/branches/{i}")));
    }
    while let Some((b, depth, ptr)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(format!("{ptr}: branches nested deeper than {MAX_TREE_DEPTH}"));
        }
        if let Some(p) = b.get("product").filter(|p| !p.is_null()) {
            add(p, &format!("{ptr}/product"))?;
        }
        for (i, sub) in arr(b, "branches", &ptr)?.iter().enumerate() {
            stack.push((sub, depth + 1, format!("{ptr}/branches/{i}")));
        }
    }
    for (i, f) in arr(tree, "full_product_names", "/product_tree")?.iter().enumerate() {
        add(f, &format!("/product_tree/full_product_names/{i}"))?;
    }
    for (i, r) in arr(tree, "relationships", "/product_tree")?.iter().enumerate() {
        let ptr = format!("/product_tree/relationships/{i}");
        let fpn = r.get("full_product_name").unwrap_or(&Value::Null);
        let id = req_str(fpn, "product_id", &format!("{ptr}/full_product_name"))?;
        let x = map.get(req_str(r, "product_reference", &ptr)?).cloned().unwrap_or_default();
        let y = map.get(req_str(r, "relates_to_product_reference", &ptr)?).cloned();
        let mut p = match req_str(r, "category", &ptr)? {
            // X within Y: Y is the product, X the subcomponent.
            "default_component_of" | "optional_component_of" | "external_component_of" => {
                let mut subs = x.subs.clone();
                purls(&x.ids).for_each(|p| push_unique(&mut subs, p.clone()));
                CsafProduct { ids: y.unwrap_or_default().ids, subs }
            }
            // X installed on/with Y: still X.
            _ => x,
        };
        csaf_ids(fpn).into_iter().for_each(|i| push_unique(&mut p.ids, i));
        map.insert(id.to_string(), p);
    }
    Ok(map)
}

/// product_ids plus the members of group_ids of a flag / threat / remediation.
fn csaf_targets<'a>(
    v: &'a Value,
    groups: &'a HashMap<String, Vec<String>>,
    ptr: &str,
) -> Result<Vec<String>, String> {
    let mut out = strings(v, "product_ids", ptr)?;
    for g in strings(v, "group_ids", ptr)? {
        out.extend(groups.get(&g).into_iter().flatten().cloned());
    }
    Ok(out)
}

fn csaf(doc: &Value) -> Result<VexDocument, String> {
    let document = &doc["document"];
    let tracking = document.get("tracking").unwrap_or(&Value::Null);
    let doc_time = time(tracking, "current_release_date", "/document/tracking")?;
    let tree_v = doc.get("product_tree").unwrap_or(&Value::Null);
    let tree = csaf_tree(tree_v)?;
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    for (i, g) in arr(tree_v, "product_groups", "/product_tree")?.iter().enumerate() {
        let ptr = format!("/product_tree/product_groups/{i}");
        groups.insert(req_str(g, "group_id", &ptr)?.into(), strings(g, "product_ids", &ptr)?);
    }
    const STATUSES: [(&str, VexStatus); 7] = [
        ("known_not_affected", VexStatus::NotAffected),
        ("known_affected", VexStatus::Affected),
        ("first_affected", VexStatus::Affected),
        ("last_affected", VexStatus::Affected),
        ("fixed", VexStatus::Fixed),
        ("first_fixed", VexStatus::Fixed),
        ("under_investigation", VexStatus::UnderInvestigation),
    ];
    let mut out = Vec::new();
    for (i, v) in arr(doc, "vulnerabilities", "")?.iter().enumerate() {
        let vptr = format!("/vulnerabilities/{i}");
        let mut names: Vec<String> = opt_str(v, "cve", &vptr)?.map(str::to_string).into_iter().collect();
        for (k, id) in arr(v, "ids", &vptr)?.iter().enumerate() {
            push_unique(&mut names, req_str(id, "text", &format!("{vptr}/ids/{k}"))?.to_string());
        }
        if names.is_empty() {
            return Err(format!("{vptr}: neither `cve` nor `ids` names the vulnerability"));
        }
        let vulnerability = names.remove(0);
        let mut flags: HashMap<String, (String, Option<DateTime<Utc>>)> = HashMap::new();
        for (k, f) in arr(v, "flags", &vptr)?.iter().enumerate() {
            let fptr = format!("{vptr}/flags/{k}");
            let label = req_str(f, "label", &fptr)?;
            let date = time(f, "date", &fptr)?;
            for p in csaf_targets(f, &groups, &fptr)? {
                flags.entry(p).or_insert((label.to_string(), date));
            }
        }
        // product id → texts of the threats / remediations naming it.
        let texts = |key: &str, only: Option<&str>| -> Result<HashMap<String, String>, String> {
            let mut m: HashMap<String, String> = HashMap::new();
            for (k, t) in arr(v, key, &vptr)?.iter().enumerate() {
                let tptr = format!("{vptr}/{key}/{k}");
                if only.is_some_and(|c| str_at(t, "category") != Some(c)) {
                    continue;
                }
                let Some(d) = opt_str(t, "details", &tptr)?.map(str::trim) else { continue };
                for p in csaf_targets(t, &groups, &tptr)? {
                    let e = m.entry(p).or_default();
                    if !e.split('\n').any(|x| x == d) {
                        if !e.is_empty() {
                            e.push('\n');
                        }
                        e.push_str(d);
                    }
                }
            }
            Ok(m)
        };
        let impacts = texts("threats", Some("impact"))?;
        let actions = texts("remediations", None)?;
        let released = time(v, "release_date", &vptr)?;
        let status_v = v.get("product_status").unwrap_or(&Value::Null);
        let mut seen = HashSet::new();
        for (key, status) in STATUSES {
            let sptr = format!("{vptr}/product_status");
            for (n, pid) in strings(status_v, key, &sptr)?.into_iter().enumerate() {
                if !seen.insert((status, pid.clone())) {
                    continue;
                }
                let p = tree.get(&pid).cloned().unwrap_or_default();
                let flag = flags.get(&pid);
                let s = VexStatement {
                    vulnerability: vulnerability.clone(),
                    aliases: names.clone(),
                    products: p.ids,
                    subcomponents: p.subs,
                    status,
                    justification: flag.map(|f| openvex_justification(&f.0)),
                    original_justification: flag.map(|f| f.0.clone()),
                    detail: impacts.get(&pid).cloned(),
                    action: actions.get(&pid).cloned(),
                    timestamp: flag.and_then(|f| f.1).or(released).or(doc_time),
                    pointer: format!("{sptr}/{key}/{n}"),
                };
                push(&mut out, s)?;
            }
        }
    }
    Ok(VexDocument {
        format: VexFormat::Csaf,
        id: str_at(tracking, "id").map(str::to_string),
        author: document.get("publisher").and_then(|p| str_at(p, "name")).map(str::to_string),
        statements: out,
    })
}

// ---- export

/// One decided finding of an artifact, for export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportStatement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// The component (or the product itself) the finding is about.
    pub purl: String,
    pub status: VexStatus,
    /// An OpenVEX name (CycloneDX names are accepted and mapped).
    pub justification: Option<String>,
    pub detail: Option<String>,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportDocument {
    /// A URL-ish unique id.
    pub id: String,
    pub author: String,
    pub product_name: String,
    pub product_version: String,
    /// `sha256:<hex>`.
    pub product_digest: Option<String>,
    pub product_purl: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub statements: Vec<ExportStatement>,
}

const NOT_AFFECTED_NOTE: &str = "Assessed as not affected; no further detail was recorded.";
const AFFECTED_ACTION: &str = "Update to a version that fixes the vulnerability.";
const NO_FIX: &str = "No fix is known to be available yet.";

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn pct_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn product_digest(doc: &ExportDocument) -> Option<String> {
    doc.product_digest.as_deref().and_then(digest)
}

/// The product's purl; a product with neither purl nor digest is named
/// `pkg:generic/<name>@<version>` so that every format can identify it.
fn product_purl(doc: &ExportDocument) -> Option<String> {
    doc.product_purl.clone().or_else(|| {
        product_digest(doc).is_none().then(|| {
            let v = &doc.product_version;
            let at = if v.is_empty() { String::new() } else { format!("@{}", pct_encode(v)) };
            format!("pkg:generic/{}{at}", pct_encode(&doc.product_name))
        })
    })
}

fn product_key(doc: &ExportDocument) -> String {
    product_digest(doc).or_else(|| product_purl(doc)).unwrap_or_default()
}

fn about_product(doc: &ExportDocument, s: &ExportStatement) -> bool {
    s.purl.is_empty() || Some(&s.purl) == product_purl(doc).as_ref()
}

fn aliases(s: &ExportStatement) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::new();
    for a in s.aliases.iter().filter(|a| **a != s.vulnerability) {
        push_unique(&mut out, a);
    }
    out
}

fn product_title(doc: &ExportDocument) -> String {
    format!("{} {}", doc.product_name, doc.product_version).trim().to_string()
}

fn component_title(purl: &str) -> (String, String) {
    let (n, v) = purl_parts(purl);
    (if n.is_empty() { purl.to_string() } else { n }, v)
}

/// OpenVEX 0.2.0, one statement per finding.
pub fn to_openvex(doc: &ExportDocument) -> Value {
    let key = product_key(doc);
    let statements: Vec<Value> = doc
        .statements
        .iter()
        .map(|s| {
            let mut product = json!({ "@id": key });
            if let Some(d) = product_digest(doc) {
                product["hashes"] = json!({ "sha-256": &d[7..] });
                if let Some(p) = product_purl(doc) {
                    product["identifiers"] = json!({ "purl": p });
                }
            }
            if !about_product(doc, s) {
                product["subcomponents"] = json!([{ "@id": s.purl }]);
            }
            let mut vuln = json!({ "name": s.vulnerability });
            if !aliases(s).is_empty() {
                vuln["aliases"] = json!(aliases(s));
            }
            let mut st = json!({
                "vulnerability": vuln,
                "timestamp": ts(&s.timestamp),
                "products": [product],
                "status": s.status.as_str(),
            });
            let justification = s.justification.as_deref().and_then(known_openvex_justification);
            match s.status {
                // The spec needs a justification or an impact statement.
                VexStatus::NotAffected => {
                    if let Some(j) = justification {
                        st["justification"] = json!(j);
                    }
                    if s.detail.is_some() || justification.is_none() {
                        st["impact_statement"] = json!(s.detail.as_deref().unwrap_or(NOT_AFFECTED_NOTE));
                    }
                }
                // …and an action statement for affected.
                VexStatus::Affected => {
                    st["action_statement"] = json!(s.detail.as_deref().unwrap_or(AFFECTED_ACTION))
                }
                _ => {
                    if let Some(d) = &s.detail {
                        st["status_notes"] = json!(d);
                    }
                }
            }
            st
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": doc.id,
        "author": doc.author,
        "timestamp": ts(&doc.timestamp),
        "version": 1,
        "tooling": "Cairn",
        "statements": statements,
    })
}

fn vuln_source(id: &str) -> Value {
    let (name, url) = if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        ("GitHub", format!("https://github.com/advisories/{id}"))
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{}", pct_encode(id)))
    };
    json!({ "name": name, "url": url })
}

/// A UUID-shaped string (version 8: custom) derived from `s` by FNV-1a,
/// so that exporting the same document twice gives the same serial.
fn uuid_of(s: &str) -> String {
    let fnv = |seed: u64| s.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let a = fnv(0xcbf2_9ce4_8422_2325);
    let b = fnv(a ^ 0x9e37_79b9_7f4a_7c15);
    let a = (a & !0xf000) | 0x8000;
    let b = (b & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// CycloneDX 1.6: the product is `metadata.component`, each component a
/// `components[]` entry (bom-ref = purl), one vulnerability per finding.
pub fn to_cyclonedx(doc: &ExportDocument) -> Value {
    let key = product_key(doc);
    let purl = product_purl(doc);
    let kind = if purl.as_deref().is_some_and(|p| p.starts_with("pkg:oci/")) { "container" } else { "application" };
    let mut product = json!({
        "type": kind, "bom-ref": key, "name": doc.product_name, "version": doc.product_version,
    });
    if let Some(p) = &purl {
        product["purl"] = json!(p);
    }
    if let Some(d) = product_digest(doc) {
        product["hashes"] = json!([{ "alg": "SHA-256", "content": &d[7..] }]);
    }
    let mut components = Vec::new();
    let mut seen = HashSet::new();
    let mut vulnerabilities = Vec::new();
    for s in &doc.statements {
        let r = if about_product(doc, s) {
            key.clone()
        } else {
            if seen.insert(s.purl.as_str()) {
                let (name, version) = component_title(&s.purl);
                components.push(json!({
                    "type": "library", "bom-ref": s.purl, "name": name, "version": version, "purl": s.purl,
                }));
            }
            s.purl.clone()
        };
        let state = match s.status {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "exploitable",
            VexStatus::Fixed => "resolved",
            VexStatus::UnderInvestigation => "in_triage",
        };
        let mut analysis = json!({ "state": state, "lastUpdated": ts(&s.timestamp) });
        if s.status == VexStatus::NotAffected {
            if let Some(j) = s.justification.as_deref().and_then(cyclonedx_justification) {
                analysis["justification"] = json!(j);
            }
        }
        if let Some(d) = &s.detail {
            analysis["detail"] = json!(d);
        }
        let mut v = json!({
            "id": s.vulnerability, "source": vuln_source(&s.vulnerability),
            "analysis": analysis, "affects": [{ "ref": r }],
        });
        let refs: Vec<Value> =
            aliases(s).iter().map(|a| json!({ "id": a, "source": vuln_source(a) })).collect();
        if !refs.is_empty() {
            v["references"] = json!(refs);
        }
        vulnerabilities.push(v);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_of(&doc.id)),
        "version": 1,
        "metadata": {
            "timestamp": ts(&doc.timestamp),
            "tools": { "components": [{ "type": "application", "name": "Cairn" }] },
            "authors": [{ "name": doc.author }],
            "component": product,
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

fn is_cve(id: &str) -> bool {
    let mut parts = id.splitn(3, '-');
    parts.next() == Some("CVE")
        && parts.next().is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn id_system(id: &str) -> &'static str {
    [
        ("GHSA-", "GitHub Security Advisory"),
        ("GO-", "Go Vulnerability Database"),
        ("RUSTSEC-", "RustSec Advisory Database"),
        ("PYSEC-", "PyPA Advisory Database"),
        ("CVE-", "CVE"),
    ]
    .iter()
    .find(|(p, _)| id.starts_with(p))
    .map_or("OSV", |(_, s)| s)
}

/// The publisher namespace: the scheme and host of an https id, else a
/// reserved (never resolving) name.
fn namespace(id: &str) -> String {
    id.strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .filter(|host| !host.is_empty())
        .map_or_else(|| "https://cairn.invalid".into(), |host| format!("https://{host}"))
}

/// CSAF 2.0, profile `csaf_vex`: the product and each component are full
/// product names, a component within the product a `default_component_of`
/// relationship; one vulnerability entry per vulnerability id.
pub fn to_csaf(doc: &ExportDocument) -> Value {
    const PRODUCT: &str = "CAIRN-PRODUCT";
    let title = product_title(doc);
    let mut helper = json!({});
    if let Some(p) = product_purl(doc) {
        helper["purl"] = json!(p);
    }
    if let Some(d) = product_digest(doc) {
        helper["hashes"] = json!([{
            "file_hashes": [{ "algorithm": "sha256", "value": &d[7..] }],
            "filename": doc.product_name,
        }]);
    }
    let mut names = vec![json!({ "name": title, "product_id": PRODUCT, "product_identification_helper": helper })];
    let mut relationships = Vec::new();
    let mut component_ids: HashMap<&str, String> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut by_vuln: HashMap<&str, Vec<(&ExportStatement, String)>> = HashMap::new();
    for s in &doc.statements {
        let pid = if about_product(doc, s) {
            PRODUCT.to_string()
        } else {
            let n = component_ids.len() + 1;
            component_ids
                .entry(&s.purl)
                .or_insert_with(|| {
                    let cid = format!("CAIRN-COMPONENT-{n}");
                    let (name, version) = component_title(&s.purl);
                    let ctitle = format!("{name} {version}").trim().to_string();
                    names.push(json!({
                        "name": ctitle, "product_id": cid,
                        "product_identification_helper": { "purl": s.purl },
                    }));
                    relationships.push(json!({
                        "category": "default_component_of",
                        "product_reference": cid,
                        "relates_to_product_reference": PRODUCT,
                        "full_product_name": {
                            "name": format!("{ctitle} as a component of {title}"),
                            "product_id": format!("{PRODUCT}:{cid}"),
                        },
                    }));
                    format!("{PRODUCT}:{cid}")
                })
                .clone()
        };
        let list = by_vuln.entry(&s.vulnerability).or_default();
        if list.is_empty() {
            order.push(&s.vulnerability);
        }
        list.push((s, pid));
    }
    let vulnerabilities: Vec<Value> = order
        .iter()
        .map(|id| {
            let list = &by_vuln[id];
            let mut all: Vec<&str> = vec![id];
            for (s, _) in list {
                aliases(s).into_iter().for_each(|a| push_unique(&mut all, a.as_str()));
            }
            let cve = all.iter().copied().find(|n| is_cve(n));
            let ids: Vec<Value> = all
                .iter()
                .filter(|n| Some(**n) != cve)
                .map(|n| json!({ "system_name": id_system(n), "text": n }))
                .collect();
            let mut status: serde_json::Map<String, Value> = serde_json::Map::new();
            let (mut flags, mut threats, mut remediations) = (vec![], vec![], vec![]);
            for (s, pid) in list {
                let key = match s.status {
                    VexStatus::NotAffected => "known_not_affected",
                    VexStatus::Affected => "known_affected",
                    VexStatus::Fixed => "fixed",
                    VexStatus::UnderInvestigation => "under_investigation",
                };
                let entry = status.entry(key).or_insert_with(|| json!([]));
                if let Some(a) = entry.as_array_mut().filter(|a| !a.contains(&json!(pid))) {
                    a.push(json!(pid));
                }
                let justification = s.justification.as_deref().and_then(known_openvex_justification);
                match (s.status, justification) {
                    (VexStatus::NotAffected, Some(j)) => flags.push(json!({
                        "label": j, "date": ts(&s.timestamp), "product_ids": [pid],
                    })),
                    (VexStatus::Affected, _) => remediations.push(json!({
                        "category": if s.detail.is_some() { "vendor_fix" } else { "none_available" },
                        "details": s.detail.as_deref().unwrap_or(NO_FIX),
                        "product_ids": [pid],
                    })),
                    _ => {}
                }
                // The profile wants an impact statement for every not-affected product.
                if s.status != VexStatus::Affected && (s.detail.is_some() || s.status == VexStatus::NotAffected) {
                    threats.push(json!({
                        "category": "impact",
                        "details": s.detail.as_deref().unwrap_or(NOT_AFFECTED_NOTE),
                        "product_ids": [pid],
                    }));
                }
            }
            let mut v = json!({
                "notes": [{
                    "category": "description", "title": "Vulnerability",
                    "text": format!("{id}, as assessed for {title} by {}.", doc.author),
                }],
                "product_status": status,
            });
            if let Some(c) = cve {
                v["cve"] = json!(c);
            }
            for (k, x) in [("ids", ids), ("flags", flags), ("threats", threats), ("remediations", remediations)] {
                if !x.is_empty() {
                    v[k] = json!(x);
                }
            }
            v
        })
        .collect();
    let when = ts(&doc.timestamp);
    let mut tree = json!({ "full_product_names": names });
    if !relationships.is_empty() {
        tree["relationships"] = json!(relationships);
    }
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "notes": [{
                "category": "summary", "title": "Summary",
                "text": format!("VEX statements for {title}, exported by Cairn."),
            }],
            "publisher": { "category": "vendor", "name": doc.author, "namespace": namespace(&doc.id) },
            "title": format!("VEX for {title}"),
            "tracking": {
                "id": doc.id,
                "status": "final",
                "version": "1",
                "initial_release_date": when,
                "current_release_date": when,
                "revision_history": [{ "number": "1", "date": when, "summary": "Initial version." }],
                "generator": { "engine": { "name": "Cairn" } },
            },
        },
        "product_tree": tree,
        "vulnerabilities": vulnerabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture_path(rel: &str) -> PathBuf {
        let here = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/")).join(rel);
        // Fallback for a scratch crate outside the repository.
        if here.exists() { here } else { PathBuf::from("/work/main/tests/fixtures/").join(rel) }
    }

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn purl(p: &str) -> ProductRef {
        ProductRef::Purl(p.into())
    }

    #[test]
    fn every_fixture_parses_and_boms_are_refused() {
        let mut n = 0;
        for e in std::fs::read_dir(fixture_path("vex")).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".json") || name.contains("json_schema") {
                continue;
            }
            let r = parse(&fixture(&format!("vex/{name}")));
            if name.contains("_bom-") || name.ends_with("sbom.spdx.json") {
                let err = r.expect_err(&name);
                assert!(err.contains("not a VEX document"), "{name}: {err}");
            } else {
                let d = r.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!d.statements.is_empty(), "{name}");
                n += 1;
            }
        }
        assert_eq!(n, 30);
    }

    #[test]
    fn cisa_case_1_not_affected() {
        let d = parse(&fixture("vex/cyclonedx-bom-examples__CISA-Use-Cases_Case-1_vex-not_affected.json")).unwrap();
        assert_eq!(d.format, VexFormat::CycloneDx);
        let [s] = &d.statements[..] else { panic!("{:?}", d.statements) };
        assert_eq!(s.vulnerability, "CVE-2021-44228");
        assert_eq!(s.status, VexStatus::NotAffected);
        assert_eq!(s.justification.as_deref(), Some("vulnerable_code_not_present"));
        assert_eq!(s.original_justification.as_deref(), Some("code_not_present"));
        assert!(s.detail.as_deref().unwrap().ends_with("Class with vulnerable code was removed before shipping."));
        assert_eq!(s.action.as_deref(), Some("will_not_fix"));
        assert!(s.products.is_empty(), "product ABC has neither purl nor hash");
        assert_eq!(s.pointer, "/vulnerabilities/0/affects/0");
        assert_eq!(s.timestamp, at("2022-03-03T00:00:00Z"));
        // Case 8 points at other BOMs by BOM-Link: one statement per affects entry, unmatched.
        let d = parse(&fixture("vex/cyclonedx-bom-examples__CISA-Use-Cases_Case-8_vex.json")).unwrap();
        assert_eq!(d.statements.len(), 11);
        assert!(d.statements.iter().all(|s| s.products.is_empty()));
        assert_eq!(d.statements[1].pointer, "/vulnerabilities/0/affects/1");
        assert_eq!(d.statements[1].status, VexStatus::Affected);
        let d = parse(&fixture("vex/cyclonedx-bom-examples__CISA-Use-Cases_Case-2_vex.json")).unwrap();
        assert_eq!(d.statements.len(), 19);
        assert_eq!(d.statements[0].justification.as_deref(), Some("vulnerable_code_not_in_execute_path"));
    }

    #[test]
    fn csaf_examples() {
        let d = parse(&fixture("vex/csaf__2022-evd-uc-01-na-001.json")).unwrap();
        assert_eq!((d.format, d.id.as_deref()), (VexFormat::Csaf, Some("2022-EVD-UC-01-NA-001")));
        assert_eq!(d.author.as_deref(), Some("Example Company ProductCERT"));
        let [s] = &d.statements[..] else { panic!() };
        assert_eq!((s.vulnerability.as_str(), s.status), ("CVE-2021-44228", VexStatus::NotAffected));
        assert_eq!(s.detail.as_deref(), Some("Class with vulnerable code was removed before shipping."));
        assert_eq!(s.justification, None);
        assert_eq!(s.pointer, "/vulnerabilities/0/product_status/known_not_affected/0");
        assert_eq!(s.timestamp, at("2022-03-03T11:00:00Z"));
        let d = parse(&fixture("vex/csaf__sec-vex-2022-0001.json")).unwrap();
        assert_eq!(d.statements.len(), 3);
        assert_eq!(d.statements[1].vulnerability, "CVE-2021-45046");
        assert_eq!(d.statements[1].justification.as_deref(), Some("component_not_present"));
        assert_eq!(d.statements[1].timestamp, at("2022-05-27T10:00:00Z"));
        let d = parse(&fixture("vex/csaf__2022-evd-uc-07-001.json")).unwrap();
        assert_eq!(d.statements.len(), 10);
        let s = d.statements.iter().find(|s| s.pointer.ends_with("known_affected/3")).unwrap();
        assert_eq!(s.action.as_deref(), Some("Update to the new version 5.1 or later."));
        let d = parse(&fixture("vex/vexctl__examples_csaf_csaf.json")).unwrap();
        assert_eq!(d.statements[0].products, vec![purl("pkg:generic/component1@1.3.4")]);
    }

    #[test]
    fn openvex_examples() {
        let d = parse(&fixture("vex/vexctl__examples_openvex_demo.vex.json")).unwrap();
        assert_eq!(d.format, VexFormat::OpenVex);
        assert_eq!(d.author.as_deref(), Some("Wolfi J Inkinson"));
        let [s] = &d.statements[..] else { panic!() };
        assert_eq!((s.vulnerability.as_str(), s.status), ("CVE-2014-123456", VexStatus::Fixed));
        assert_eq!(
            s.products,
            vec![purl("pkg:apk/distro/git@2.39.0-r1?arch=armv7"), purl("pkg:apk/distro/git@2.39.0-r1?arch=x86_64")]
        );
        assert_eq!(s.timestamp, at("2023-12-04T21:55:19.945015302-06:00"));
        // 0.0.x: string vulnerability and products; an OCI purl carries a digest.
        let d = parse(&fixture("vex/vexctl__pkg_ctl_testdata_images.vex.json")).unwrap();
        assert_eq!(d.statements.len(), 4);
        let hex = "f271e74b17ced29b915d351685fd4644785c6d1559dd1f2d4189a5e851ef753a";
        assert_eq!(
            d.statements[0].products,
            vec![ProductRef::Digest(format!("sha256:{hex}")), purl(&format!("pkg:oci/alpine@sha256%3A{hex}"))]
        );
        assert!(d.statements[1].products.is_empty(), "`nginx` names nothing matchable");
        assert_eq!(d.statements[3].status, VexStatus::UnderInvestigation);
    }

    #[test]
    fn cyclonedx_components_are_subcomponents_of_the_product() {
        let hex = "a".repeat(64);
        let bom = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:1",
            "metadata": { "component": { "bom-ref": "app", "name": "app",
                "purl": "pkg:oci/app@sha256%3A".to_string() + &hex,
                "hashes": [{ "alg": "SHA-256", "content": hex }] } },
            "components": [{ "bom-ref": "outer", "name": "o",
                "components": [{ "bom-ref": "lib", "name": "lib", "purl": "pkg:cargo/lib@1.0.0" }] }],
            "vulnerabilities": [{ "id": "GHSA-xxxx", "references": [{ "id": "CVE-2024-1", "source": {} }],
                "analysis": { "state": "not_affected", "justification": "requires_environment",
                    "lastUpdated": "2024-01-02T03:04:05Z" },
                "affects": [{ "ref": "urn:cdx:1/1#lib" }, { "ref": "app" }] }],
        });
        let d = parse(bom.to_string().as_bytes()).unwrap();
        let s = &d.statements[0];
        assert_eq!(s.products[0], ProductRef::Digest(format!("sha256:{hex}")));
        assert_eq!(s.products.len(), 2);
        assert_eq!(s.subcomponents, vec!["pkg:cargo/lib@1.0.0".to_string()]);
        assert_eq!(s.aliases, vec!["CVE-2024-1".to_string()]);
        assert_eq!(s.justification.as_deref(), Some("vulnerable_code_cannot_be_controlled_by_adversary"));
        assert_eq!(s.timestamp, at("2024-01-02T03:04:05Z"));
        assert!(d.statements[1].subcomponents.is_empty());
    }

    fn sample() -> ExportDocument {
        let t = at("2024-05-06T07:08:09Z").unwrap();
        let st = |v: &str, a: &[&str], p: &str, status, j: Option<&str>, d: Option<&str>| ExportStatement {
            vulnerability: v.into(),
            aliases: a.iter().map(|s| s.to_string()).collect(),
            purl: p.into(),
            status,
            justification: j.map(str::to_string),
            detail: d.map(str::to_string),
            timestamp: t,
        };
        ExportDocument {
            id: "https://cairn.example.com/vex/artifacts/7".into(),
            author: "Example Org".into(),
            product_name: "shop".into(),
            product_version: "1.2.3".into(),
            product_digest: Some(format!("sha256:{}", "b".repeat(64))),
            product_purl: Some("pkg:oci/shop@sha256%3A".to_string() + &"b".repeat(64)),
            timestamp: t,
            statements: vec![
                st("CVE-2023-0001", &["GHSA-aaaa-bbbb-cccc"], "pkg:cargo/left-pad@0.1.0", VexStatus::NotAffected,
                    Some("vulnerable_code_not_present"), Some("The parser is not built.")),
                st("GHSA-xxxx-yyyy-zzzz", &[], "pkg:cargo/serde@1.0.0", VexStatus::NotAffected, None, None),
                st("CVE-2023-0002", &[], "pkg:golang/golang.org/x/net@v0.1.0", VexStatus::Affected, None, None),
                st("CVE-2023-0003", &[], "pkg:cargo/left-pad@0.1.0", VexStatus::Fixed, None, None),
                st("CVE-2023-0004", &[], "pkg:cargo/left-pad@0.1.0", VexStatus::UnderInvestigation, None,
                    Some("Looking.")),
            ],
        }
    }

    #[test]
    fn exports_round_trip() {
        let doc = sample();
        let digest = ProductRef::Digest(doc.product_digest.clone().unwrap());
        let dir = std::env::var_os("VEX_EXPORT_DIR");
        for (format, v) in [
            (VexFormat::OpenVex, to_openvex(&doc)),
            (VexFormat::CycloneDx, to_cyclonedx(&doc)),
            (VexFormat::Csaf, to_csaf(&doc)),
        ] {
            if let Some(dir) = &dir {
                let name = serde_json::to_value(format).unwrap();
                let path = PathBuf::from(dir).join(format!("{}.json", name.as_str().unwrap()));
                std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
            }
            let back = parse(v.to_string().as_bytes()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(back.format, format);
            assert_eq!(back.statements.len(), doc.statements.len(), "{format:?}");
            for (want, got) in doc.statements.iter().zip(&back.statements) {
                let names = |v: &String, a: &[String]| {
                    let mut n: Vec<String> = a.iter().chain([v]).cloned().collect();
                    n.sort();
                    n
                };
                assert_eq!(names(&want.vulnerability, &want.aliases), names(&got.vulnerability, &got.aliases));
                assert_eq!(want.status, got.status, "{format:?} {}", got.pointer);
                assert_eq!(want.justification, got.justification, "{format:?} {}", got.pointer);
                assert_eq!(got.subcomponents, vec![want.purl.clone()], "{format:?}");
                assert!(got.products.contains(&digest), "{format:?}");
                assert!(got.products.contains(&purl(doc.product_purl.as_deref().unwrap())));
            }
        }
        // Without digest or purl the product is named by a generic purl.
        let mut bare = sample();
        (bare.product_digest, bare.product_purl) = (None, None);
        let back = parse(to_openvex(&bare).to_string().as_bytes()).unwrap();
        assert_eq!(back.statements[0].products, vec![purl("pkg:generic/shop@1.2.3")]);
        assert_eq!(to_cyclonedx(&bare)["serialNumber"], to_cyclonedx(&sample())["serialNumber"]);
    }

    #[test]
    fn hostile_input_is_refused() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vuln"#.to_vec(), "not valid JSON"),
            (b"[1,2]".to_vec(), "not a VEX document"),
            (br#"{"@context":"https://openvex.dev/ns","statements":{}}"#.to_vec(), "/statements: expected an array"),
            (br#"{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":{"name":"X"},"status":"maybe"}]}"#
                .to_vec(), "/statements/0/status: unknown status"),
            (br#"{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":7,"status":"fixed"}]}"#.to_vec(),
                "/statements/0/vulnerability: missing"),
            (br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","analysis":{"state":1}}]}"#.to_vec(),
                "/vulnerabilities/0/analysis/state: expected a string"),
            (br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","analysis":{"state":"in_triage","lastUpdated":"yesterday"}}]}"#
                .to_vec(), "lastUpdated: not an RFC 3339"),
            (br#"{"document":{"csaf_version":"2.0"},"vulnerabilities":[{"product_status":{"fixed":["A"]}}]}"#.to_vec(),
                "/vulnerabilities/0: neither `cve` nor `ids`"),
            (br#"{"document":{"csaf_version":"2.0"},"product_tree":{"branches":[{"product":{}}]}}"#.to_vec(),
                "/product_tree/branches/0/product/product_id: missing"),
        ];
        for (input, want) in cases {
            let err = parse(&input).expect_err(want);
            assert!(err.contains(want), "{err} ∌ {want}");
        }
        let st = json!({ "vulnerability": { "name": "CVE-1" }, "status": "fixed" });
        let many = json!({ "@context": "https://openvex.dev/ns", "statements": vec![st; MAX_STATEMENTS + 1] });
        assert!(parse(many.to_string().as_bytes()).unwrap_err().contains("more than 100000"));
        let mut deep = json!({ "bom-ref": "x" });
        for _ in 0..40 {
            deep = json!({ "components": [deep] });
        }
        let bom = json!({ "bomFormat": "CycloneDX", "components": [deep] });
        assert!(parse(bom.to_string().as_bytes()).unwrap_err().contains("nested deeper"));
        let mut branch = json!({});
        for _ in 0..40 {
            branch = json!({ "branches": [branch] });
        }
        let csaf = json!({ "document": { "csaf_version": "2.0" }, "product_tree": { "branches": [branch] } });
        assert!(parse(csaf.to_string().as_bytes()).unwrap_err().contains("nested deeper"));
        // Truncations of a real document never panic.
        let full = fixture("vex/csaf__2022-evd-uc-07-001.json");
        for n in (0..full.len()).step_by(97) {
            assert!(parse(&full[..n]).is_err());
        }
    }
}
