//! Writing an artifact's decided findings as OpenVEX, CycloneDX VEX or CSAF VEX.

use super::*;

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
            let at = if v.is_empty() {
                String::new()
            } else {
                format!("@{}", pct_encode(v))
            };
            format!("pkg:generic/{}{at}", pct_encode(&doc.product_name))
        })
    })
}

fn product_key(doc: &ExportDocument) -> String {
    product_digest(doc)
        .or_else(|| product_purl(doc))
        .unwrap_or_default()
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
    format!("{} {}", doc.product_name, doc.product_version)
        .trim()
        .to_string()
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
            let justification = s
                .justification
                .as_deref()
                .and_then(known_openvex_justification);
            match s.status {
                // The spec needs a justification or an impact statement.
                VexStatus::NotAffected => {
                    if let Some(j) = justification {
                        st["justification"] = json!(j);
                    }
                    if s.detail.is_some() || justification.is_none() {
                        st["impact_statement"] =
                            json!(s.detail.as_deref().unwrap_or(NOT_AFFECTED_NOTE));
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
        (
            "OSV",
            format!("https://osv.dev/vulnerability/{}", pct_encode(id)),
        )
    };
    json!({ "name": name, "url": url })
}

/// A UUID-shaped string (version 8: custom) derived from `s` by FNV-1a,
/// so that exporting the same document twice gives the same serial.
fn uuid_of(s: &str) -> String {
    let fnv = |seed: u64| {
        s.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
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
    let kind = if purl.as_deref().is_some_and(|p| p.starts_with("pkg:oci/")) {
        "container"
    } else {
        "application"
    };
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
                    "type": "library", "bom-ref": s.purl, "name": name, "version": version,
                    "purl": s.purl,
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
        let refs: Vec<Value> = aliases(s)
            .iter()
            .map(|a| json!({ "id": a, "source": vuln_source(a) }))
            .collect();
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
        && parts
            .next()
            .is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()))
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
        .map_or_else(
            || "https://cairn.invalid".into(),
            |host| format!("https://{host}"),
        )
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
    let mut names = vec![
        json!({ "name": title, "product_id": PRODUCT, "product_identification_helper": helper }),
    ];
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
                aliases(s)
                    .into_iter()
                    .for_each(|a| push_unique(&mut all, a.as_str()));
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
                let just = s
                    .justification
                    .as_deref()
                    .and_then(known_openvex_justification);
                let fix = if s.detail.is_some() {
                    "vendor_fix"
                } else {
                    "none_available"
                };
                match (s.status, just) {
                    (VexStatus::NotAffected, Some(j)) => flags.push(json!({
                        "label": j, "date": ts(&s.timestamp), "product_ids": [pid],
                    })),
                    (VexStatus::Affected, _) => remediations.push(json!({
                        "category": fix,
                        "details": s.detail.as_deref().unwrap_or(NO_FIX),
                        "product_ids": [pid],
                    })),
                    _ => {}
                }
                // The profile wants an impact statement for every not-affected product.
                let impact = match s.status {
                    VexStatus::NotAffected => true,
                    VexStatus::Affected => false,
                    _ => s.detail.is_some(),
                };
                if impact {
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
            let lists = [
                ("ids", ids),
                ("flags", flags),
                ("threats", threats),
                ("remediations", remediations),
            ];
            for (k, x) in lists {
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
            "publisher": {
                "category": "vendor", "name": doc.author, "namespace": namespace(&doc.id),
            },
            "title": format!("VEX for {title}"),
            "tracking": {
                "id": doc.id,
                "status": "final",
                "version": "1",
                "initial_release_date": when,
                "current_release_date": when,
                "revision_history": [{
                    "number": "1", "date": when, "summary": "Initial version.",
                }],
                "generator": { "engine": { "name": "Cairn" } },
            },
        },
        "product_tree": tree,
        "vulnerabilities": vulnerabilities,
    })
}
