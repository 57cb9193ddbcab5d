//! CSAF 2.0 security advisories (`csaf_security_advisory`, and `csaf_vex`
//! documents that say affected / fixed) as OSV records, which the OSV import
//! reads like any database's: one record per vulnerability naming a product
//! whose purl (`product_identification_helper.purl` / `purls`, or that of the
//! component a relationship's `product_reference` names) Cairn matches.
//!
//! - `known_affected` / `last_affected` at purl version `v`: `versions: [v]`,
//!   plus `introduced 0, fixed F` when `fixed` / `first_fixed` name the same
//!   package (ecosystem, name, release) only at versions ordered above `v`, F
//!   the lowest. A fix below `v` is another release line, which a range from
//!   0 would call affected: then only the version is listed.
//! - `first_affected` at `v`: `versions: [v]` and `introduced v, fixed F`, F
//!   the lowest fix above `v` (when every fix orders).
//! - under a `product_version_range` branch: its `vers:` spec as events (`>=`
//!   introduced, `<` fixed, `<=` last_affected, `=` a version, `*` all);
//!   ECOSYSTEM for `vers:<purl type>`, SEMVER for `vers:semver`.
//!
//! Fixed, not-affected and under-investigation statuses alone make no record.
//! Relationships are followed and purls parsed once per product; the purls
//! all statuses name together are capped ([`MAX_PURL_REFERENCES`]).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::osv::MAX_RECORD;
use super::purl::{Package, Purl};
use super::severity::SeverityScore;
use super::version::{Ecosystem, Version};

/// The largest document a caller should read (checked on the bytes).
pub const MAX_DOCUMENT: usize = 16 << 20;
pub const MAX_PRODUCTS: usize = 100_000;
pub const MAX_VULNERABILITIES: usize = 10_000;
pub const MAX_TREE_DEPTH: usize = 32;
/// Purls named through the affected and fixed statuses of all vulnerabilities.
pub const MAX_PURL_REFERENCES: usize = 1_000_000;
const MAX_ID: usize = 128;
const MAX_AFFECTED: usize = 10_000;
/// Product problems listed per vulnerability; the rest are counted.
const MAX_LISTED: usize = 20;
const AFFECTED: [&str; 3] = ["known_affected", "first_affected", "last_affected"];
const STATUSES: [&str; 5] = [
    "known_affected",
    "first_affected",
    "last_affected",
    "fixed",
    "first_fixed",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    pub records: Vec<Value>,
    /// (the vulnerability's CVE, first id or `vulnerabilities[i]`, reason).
    pub skipped: Vec<(String, String)>,
}

/// True when the JSON looks like a CSAF document (`document.csaf_version`).
pub fn is_csaf(v: &Value) -> bool {
    v["document"]["csaf_version"].is_string()
}

/// An array that must be one (absent and null are empty).
fn arr<'a>(v: &'a Value, key: &str, ptr: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{ptr}/{key}: expected an array")),
    }
}

/// An array read leniently: anything else is empty.
fn list<'a>(v: &'a Value, key: &str) -> std::slice::Iter<'a, Value> {
    let a = v.get(key).and_then(Value::as_array);
    a.map_or([].iter(), |a| a.iter())
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    let s = v.get(key).and_then(Value::as_str).map(str::trim);
    s.filter(|s| !s.is_empty())
}

/// A purl Cairn matches: the purl, its package and the ecosystem OSV names.
type Matchable = Result<(Purl, Package, String), String>;

struct Product {
    name: String,
    purls: Vec<(String, Matchable)>,
    /// The name of the `product_version_range` branch holding it.
    range: Option<String>,
}

#[derive(Default)]
struct Tree {
    products: HashMap<String, Product>,
    /// Relationship product id → its `product_reference` (the component).
    components: HashMap<String, String>,
    /// Relationship product id → the product whose purls it means.
    resolved: HashMap<String, Result<String, String>>,
    count: usize,
}

impl Tree {
    fn add(&mut self, fpn: &Value, range: Option<&str>) -> Result<(), String> {
        self.count += 1;
        if self.count > MAX_PRODUCTS {
            return Err(format!("more than {MAX_PRODUCTS} products (the limit)"));
        }
        let Some(id) = text(fpn, "product_id") else {
            return Ok(());
        };
        let helper = &fpn["product_identification_helper"];
        let purls = helper.get("purl").into_iter().chain(list(helper, "purls"));
        let purls = purls.filter_map(|p| Some((p.as_str()?.to_string(), matchable(p.as_str()?))));
        let name = text(fpn, "name").unwrap_or(id).to_string();
        let (purls, range) = (purls.collect(), range.map(str::to_string));
        let product = Product { name, purls, range };
        self.products.insert(id.into(), product);
        Ok(())
    }

    fn read(doc: &Value) -> Result<Tree, String> {
        let (mut tree, t, p) = (Tree::default(), &doc["product_tree"], "/product_tree");
        let mut stack: Vec<(&Value, usize, String)> = Vec::new();
        for (i, b) in arr(t, "branches", p)?.iter().enumerate() {
            stack.push((b, 1, format!("{p}/branches/{i}")));
        }
        while let Some((b, depth, ptr)) = stack.pop() {
            if depth > MAX_TREE_DEPTH {
                return Err(format!("{ptr}: deeper than {MAX_TREE_DEPTH} (the limit)"));
            }
            if let Some(fpn) = b.get("product").filter(|x| x.is_object()) {
                let ranged = text(b, "category") == Some("product_version_range");
                tree.add(fpn, text(b, "name").filter(|_| ranged))?;
            }
            for (i, sub) in arr(b, "branches", &ptr)?.iter().enumerate() {
                stack.push((sub, depth + 1, format!("{ptr}/branches/{i}")));
            }
        }
        for f in arr(t, "full_product_names", p)? {
            tree.add(f, None)?;
        }
        for r in arr(t, "relationships", p)? {
            let fpn = &r["full_product_name"];
            let (id, x) = (text(fpn, "product_id"), text(r, "product_reference"));
            if let (Some(id), Some(x)) = (id, x) {
                tree.components.insert(id.into(), x.into());
            }
            tree.add(fpn, None)?;
        }
        for id in tree.components.keys() {
            tree.resolved.insert(id.clone(), tree.follow(id));
        }
        Ok(tree)
    }

    /// The product a relationship means: followed to the component while the
    /// relationship's own name carries no purl.
    fn follow(&self, id: &str) -> Result<String, String> {
        let mut at = id;
        for _ in 0..=MAX_TREE_DEPTH {
            match (self.products.get(at), self.components.get(at)) {
                (Some(p), _) if !p.purls.is_empty() => return Ok(at.into()),
                (_, Some(next)) => at = next,
                (Some(_), None) => return Ok(at.into()),
                (None, None) => return Err(format!("{at:?} is not in the product tree")),
            }
        }
        Err("relationships nest deeper than 32 (or loop)".into())
    }

    fn resolve(&self, id: &str) -> Result<&Product, String> {
        let at = match self.resolved.get(id) {
            Some(r) => r.as_deref().map_err(Clone::clone)?,
            None => id,
        };
        (self.products.get(at)).ok_or_else(|| format!("{at:?} is not in the product tree"))
    }
}

/// A purl Cairn matches: the purl, its package as an OSV record names it back
/// (`Package::from_osv`), and that record's ecosystem.
fn matchable(purl: &str) -> Matchable {
    let p = Purl::parse(purl).ok_or_else(|| format!("{purl:?} is not a purl"))?;
    let why = || format!("purl type {:?} is not one Cairn matches", p.kind);
    let pkg = p.package().ok_or_else(why)?;
    let ns = p.namespace.as_deref().map(str::to_ascii_lowercase);
    let base = match (pkg.ecosystem, ns.as_deref()) {
        (Ecosystem::Rpm, Some("suse")) => "SUSE",
        (Ecosystem::Rpm, Some("opensuse")) => "openSUSE",
        (e, _) => e.osv_name(),
    };
    // A release OSV cannot spell ("debian-bookworm") is dropped: all releases.
    let with = pkg.release.as_ref().map(|r| format!("{base}:{r}"));
    for eco in with.into_iter().chain([base.to_string()]) {
        if let Some(back) = Package::from_osv(&eco, &pkg.name) {
            let same = back.ecosystem == pkg.ecosystem && back.name == pkg.name;
            if same && (back.release.is_none() || back.release == pkg.release) {
                return Ok((p, back, eco));
            }
        }
    }
    Err(format!("{purl}: no OSV package names it as Cairn reads it"))
}

/// OSV writes Go versions without the `v`.
fn osv_version(eco: Ecosystem, v: &str) -> String {
    let digit = |r: &&str| r.starts_with(|c: char| c.is_ascii_digit());
    match v.strip_prefix('v').filter(digit) {
        Some(rest) if eco == Ecosystem::Go => rest.to_string(),
        _ => v.to_string(),
    }
}

/// The purl without version, qualifiers and subpath.
fn base_purl(s: &str) -> &str {
    let s = s.split(['?', '#']).next().unwrap_or(s);
    let last = s.rfind('/').map_or(0, |i| i + 1);
    s[last..].rfind('@').map_or(s, |at| &s[..last + at])
}

/// A package's fixed versions in order; None when one does not order.
type Fixes = HashMap<Package, Option<Vec<(Version, String)>>>;

fn fixes(tree: &Tree, ids: Vec<&str>) -> Fixes {
    let mut fixes = Fixes::new();
    let products = ids.into_iter().filter_map(|id| tree.resolve(id).ok());
    let purls = products.flat_map(|p| &p.purls);
    for (pu, pkg, _) in purls.filter_map(|p| p.1.as_ref().ok()) {
        let Some(ver) = pu.match_version() else {
            continue;
        };
        let parsed = Version::parse(pkg.ecosystem, &ver);
        let v = osv_version(pkg.ecosystem, &ver);
        let f = fixes.entry(pkg.clone()).or_insert(Some(vec![]));
        match (f.as_mut(), parsed) {
            (Some(list), Some(x)) => list.push((x, v)),
            _ => *f = None,
        }
    }
    for f in fixes.values_mut().flatten() {
        f.sort_by(|a, b| a.0.cmp_to(&b.0).unwrap_or(Ordering::Equal));
    }
    fixes
}

/// The range the fixes give an affected version `v` (see the module doc).
fn fix_range(fixes: &Fixes, pkg: &Package, v: &str, from_v: bool) -> Option<Value> {
    let sorted = fixes.get(pkg)?.as_ref()?;
    let at = Version::parse(pkg.ecosystem, v)?;
    let above = sorted.partition_point(|(x, _)| x.cmp_to(&at) != Some(Ordering::Greater));
    let (_, fixed) = sorted.get(above)?;
    let introduced = match (from_v, above) {
        (true, _) => v,
        (false, 0) => "0",
        (false, _) => return None,
    };
    let events = json!([{ "introduced": introduced }, { "fixed": fixed }]);
    Some(json!({"type": "ECOSYSTEM", "events": events}))
}

/// A `vers:` spec as OSV ranges and enumerated versions.
fn vers(spec: &str, purl: &Purl, eco: Ecosystem) -> Result<(Vec<Value>, Vec<String>), String> {
    let rest = spec.trim().strip_prefix("vers:").ok_or("is not vers:")?;
    let (scheme, constraints) = rest.split_once('/').ok_or("names no scheme")?;
    let scheme = scheme.to_ascii_lowercase();
    let kind = purl.kind.as_str();
    let (range_type, order) = match scheme.as_str() {
        s if s == kind || (s, kind) == ("alpine", "apk") => ("ECOSYSTEM", eco),
        "semver" if eco == Ecosystem::Go => ("SEMVER", eco),
        "semver" => ("SEMVER", Ecosystem::Semver),
        s => return Err(format!("scheme {s:?} is not how {kind} versions order")),
    };
    let (mut events, mut versions) = (Vec::new(), Vec::new());
    for c in constraints.split('|').map(str::trim) {
        let ops = [">=", "<=", "!=", "<", ">", "="];
        let op = ops.iter().find(|op| c.starts_with(*op)).copied();
        let v = c[op.map_or(0, str::len)..].trim();
        if c == "*" {
            events.push(json!({"introduced": "0"}));
            continue;
        } else if Version::parse(order, v).is_none() {
            return Err(format!("{v:?} is not a {scheme} version Cairn orders"));
        }
        let v = osv_version(eco, v);
        match op {
            Some(">=") => events.push(json!({ "introduced": v })),
            Some("<") => events.push(json!({ "fixed": v })),
            Some("<=") => events.push(json!({ "last_affected": v })),
            None | Some("=") => versions.push(v),
            Some(op) => return Err(format!("comparator {op:?} has no OSV event")),
        }
    }
    if events.first().is_some_and(|e| e["introduced"].is_null()) {
        events.insert(0, json!({"introduced": "0"}));
    }
    let range = (!events.is_empty()).then(|| json!({"type": range_type, "events": events}));
    Ok((range.into_iter().collect(), versions))
}

/// The `affected[]` entries of a record, one per package.
#[derive(Default)]
struct Affected {
    entries: Vec<Value>,
    index: HashMap<Package, usize>,
    seen: HashSet<(usize, String)>,
}

impl Affected {
    /// One purl of an affected product into its package's entry.
    fn add(
        &mut self,
        purl: &(String, Matchable),
        p: &Product,
        from_v: bool,
        fixes: &Fixes,
    ) -> Result<(), String> {
        let (purl, (pu, pkg, eco)) = (&purl.0, purl.1.as_ref().map_err(Clone::clone)?);
        let version = pu.match_version().map(|v| osv_version(pkg.ecosystem, &v));
        let (ranges, versions) = match (&p.range, version) {
            (Some(spec), _) => {
                let why = |why| format!("product_version_range {spec:?} {why}");
                vers(spec, pu, pkg.ecosystem).map_err(why)?
            }
            (None, Some(v)) => (
                fix_range(fixes, pkg, &v, from_v).into_iter().collect(),
                vec![v],
            ),
            (None, None) => return Err(format!("{purl} names no version (nor range)")),
        };
        let name = pkg.name.clone();
        let i = *self.index.entry(pkg.clone()).or_insert(self.entries.len());
        if i == self.entries.len() {
            let package = json!({"ecosystem": eco, "name": name, "purl": base_purl(purl)});
            let entry = json!({"package": package, "versions": [], "ranges": []});
            self.entries.push(entry);
        }
        let versions = versions.into_iter().map(|v| ("versions", json!(v)));
        for (key, x) in versions.chain(ranges.into_iter().map(|r| ("ranges", r))) {
            if self.seen.insert((i, format!("{key}{x}"))) {
                let list = self.entries[i][key].as_array_mut();
                list.into_iter().for_each(|a| a.push(x.clone()));
            }
        }
        Ok(())
    }

    /// An affected product's purls into entries; what could not be matched.
    fn product(&mut self, p: &Product, from_v: bool, fixes: &Fixes) -> Vec<String> {
        if p.purls.is_empty() {
            return vec![format!("({}) has no purl: Cairn cannot match it", p.name)];
        }
        let added = p.purls.iter().map(|u| self.add(u, p, from_v, fixes));
        added.filter_map(Result::err).collect()
    }
}

fn notes(v: &Value) -> Option<String> {
    let kinds = |n: &&Value| matches!(text(n, "category"), Some("description" | "summary"));
    let texts: Vec<&str> = list(v, "notes")
        .filter(kinds)
        .flat_map(|n| text(n, "text"))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}

/// The best-scored vector of each CVSS version; unreadable ones noted.
fn severity(v: &Value, problems: &mut Vec<String>) -> Vec<Value> {
    let mut best: Vec<(&str, f64, &str)> = Vec::new();
    for (field, kind) in [
        ("cvss_v2", "CVSS_V2"),
        ("cvss_v3", "CVSS_V3"),
        ("cvss_v4", "CVSS_V4"),
    ] {
        let vectors = list(v, "scores").filter_map(|s| text(&s[field], "vectorString"));
        for vector in vectors {
            match SeverityScore::from_osv(kind, vector).score {
                None => problems.push(format!("{field} {vector:?} does not parse: left out")),
                Some(x) if best.last().is_none_or(|b| b.0 != kind || x > b.1) => {
                    best.retain(|b| b.0 != kind);
                    best.push((kind, x, vector));
                }
                Some(_) => {}
            }
        }
    }
    best.iter()
        .map(|(kind, _, v)| json!({"type": kind, "score": v}))
        .collect()
}

type Fields = Map<String, Value>;

/// The fields that are there: not null, not an empty list.
fn present(fields: Value) -> Fields {
    let there = |x: &Value| !x.is_null() && x.as_array().is_none_or(|a| !a.is_empty());
    let fields = fields.as_object().into_iter().flatten();
    fields
        .filter(|(_, x)| there(x))
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect()
}

/// One vulnerability's own fields (no id), or why it makes no record.
fn record(tree: &Tree, v: &Value, problems: &mut Vec<String>) -> Result<Fields, String> {
    let status = &v["product_status"];
    let ids = |key: &str| -> Result<Vec<&str>, String> {
        let ids = arr(status, key, "product_status")?.iter();
        let ids: Option<Vec<&str>> = ids.map(Value::as_str).collect();
        ids.ok_or_else(|| format!("product_status/{key}: not ids"))
    };
    let fixes = fixes(tree, [ids("fixed")?, ids("first_fixed")?].concat());
    let (mut affected, mut named) = (Affected::default(), 0);
    for key in AFFECTED {
        for pid in ids(key)? {
            named += 1;
            let errors = match tree.resolve(pid) {
                Ok(p) => affected.product(p, key == "first_affected", &fixes),
                Err(why) => vec![why],
            };
            let errors = errors
                .into_iter()
                .map(|why| format!("product {pid:?}: {why}"));
            problems.extend(errors);
        }
    }
    let why = match affected.entries.len() {
        _ if named == 0 => "no product is known_affected, first_affected or last_affected",
        0 => "no affected product has a purl Cairn matches",
        n if n > MAX_AFFECTED => "more than 10000 affected packages (the limit)",
        _ => "",
    };
    if !why.is_empty() {
        return Err(format!("no record: {why}"));
    }
    // Bare numbers (bug tracker ids) would tie unrelated records together.
    let alias = |a: &&str| a.len() <= MAX_ID && a.bytes().all(|b| b.is_ascii_graphic());
    let listed = list(v, "ids").filter_map(|i| text(i, "text"));
    let listed = listed.filter(|a| !a.bytes().all(|b| b.is_ascii_digit()));
    let aliases = text(v, "cve").into_iter().chain(listed);
    let aliases: Vec<&str> = aliases.filter(alias).collect();
    let (title, details, severity) = (text(v, "title"), notes(v), severity(v, problems));
    let entries = affected.entries.into_iter().map(present);
    let affected: Vec<Value> = entries.map(Value::Object).collect();
    Ok(present(
        json!({"aliases": aliases, "summary": title, "details": details,
        "severity": severity, "affected": affected}),
    ))
}

/// `{document id}/{suffix}` within [`MAX_ID`] printable ASCII, unused before.
fn record_id(doc: &str, suffix: Option<String>, i: usize, used: &mut HashSet<String>) -> String {
    let safe = |s: &str| -> String {
        let ascii = |c| if char::is_ascii_graphic(&c) { c } else { '-' };
        s.trim().chars().map(ascii).collect()
    };
    let doc = safe(doc);
    let join = |s: &str| format!("{}/{s}", &doc[..doc.len().min(MAX_ID - 1 - s.len())]);
    let mut id = match suffix.map(|s| safe(&s)) {
        None => doc[..doc.len().min(MAX_ID)].to_string(),
        Some(s) if s.len() <= 64 => join(&s),
        Some(_) => join(&i.to_string()),
    };
    for k in 0.. {
        if used.insert(id.clone()) {
            break;
        }
        id = join(&format!("{i}.{k}"));
    }
    id
}

/// One OSV record (serde_json::Value) per CSAF vulnerability that names at least one
/// product with a purl Cairn can match; problems named per vulnerability.
pub fn to_osv(doc: &Value) -> Result<Converted, String> {
    let (document, tracking) = (&doc["document"], &doc["document"]["tracking"]);
    let version = text(document, "csaf_version").ok_or("not CSAF: no document.csaf_version")?;
    if !version.starts_with("2.") {
        return Err(format!("CSAF version {version:?} is not read (2.0 is)"));
    }
    let doc_id = text(tracking, "id").ok_or("/document/tracking/id: missing")?;
    let vulns = arr(doc, "vulnerabilities", "")?;
    if vulns.len() > MAX_VULNERABILITIES {
        return Err(format!(
            "more than {MAX_VULNERABILITIES} vulnerabilities (the limit)"
        ));
    }
    let publisher = text(&document["publisher"], "name");
    let database = json!({"source": "csaf", "document": doc_id, "publisher": publisher});
    let date = |key: &str| -> Result<Option<String>, String> {
        let Some(s) = text(tracking, key) else {
            return Ok(None);
        };
        let why = |e| format!("/document/tracking/{key}: {s:?} is not RFC 3339 ({e})");
        let t = DateTime::parse_from_rfc3339(s)
            .map_err(why)?
            .with_timezone(&Utc);
        Ok(Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
    };
    let (published, modified) = (date("initial_release_date")?, date("current_release_date")?);
    let (summary, details) = (text(document, "title"), notes(document));
    let shared = json!({"database_specific": database, "published": published,
        "modified": modified, "summary": summary, "details": details});
    let shared = present(shared);
    let (tree, single) = (Tree::read(doc)?, vulns.len() == 1);
    let named = vulns
        .iter()
        .flat_map(|v| STATUSES.map(|k| list(&v["product_status"], k)));
    let products = named
        .flatten()
        .filter_map(|id| tree.resolve(id.as_str()?).ok());
    if products.map(|p| p.purls.len()).sum::<usize>() > MAX_PURL_REFERENCES {
        let limit = MAX_PURL_REFERENCES;
        return Err(format!(
            "product_status names more than {limit} purls (the limit)"
        ));
    }
    let (mut out, mut used) = (Converted::default(), HashSet::new());
    for (i, v) in vulns.iter().enumerate() {
        let first_id = list(v, "ids").next().and_then(|x| text(x, "text"));
        let name = text(v, "cve").or(first_id);
        let key = name.map_or(format!("vulnerabilities[{i}]"), str::to_string);
        let suffix = (!single).then(|| name.map_or(i.to_string(), str::to_string));
        let mut problems = Vec::new();
        let rec = match v.is_object() {
            true => record(&tree, v, &mut problems),
            false => Err("not an object".into()),
        };
        let more = problems.len().saturating_sub(MAX_LISTED);
        problems.truncate(MAX_LISTED);
        problems.extend((more > 0).then(|| format!("… and {more} more products skipped")));
        let problems = problems.into_iter().map(|p| (key.clone(), p));
        out.skipped.extend(problems);
        let mut rec = match rec {
            Ok(own) => shared.clone().into_iter().chain(own).collect::<Fields>(),
            Err(why) => {
                out.skipped.push((key, why));
                continue;
            }
        };
        rec.insert("id".into(), json!(record_id(doc_id, suffix, i, &mut used)));
        match Value::Object(rec) {
            r if r.to_string().len() > MAX_RECORD => {
                let why = format!("no record: over {MAX_RECORD} bytes");
                out.skipped.push((key, why));
            }
            r => out.records.push(r),
        }
    }
    if vulns.is_empty() {
        let why = ("document".into(), "no vulnerabilities".into());
        out.skipped.push(why);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
