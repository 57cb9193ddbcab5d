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
mod tests {
    use super::*;
    use crate::vulnerabilities::core::matching;
    use crate::vulnerabilities::core::osv::{self, Advisory, Event, Range};

    const LODASH: &str = r#"{"document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
      "title": "lodash advisory", "publisher": {"category": "vendor", "name": "Example PSIRT"},
      "tracking": {"id": "EXCO-SA-2021-0007", "status": "final", "version": "1",
        "initial_release_date": "2021-02-15T08:00:00+01:00", "current_release_date": "2021-03-01T10:30:00.000Z"}},
     "product_tree": {"branches": [{"category": "vendor", "name": "Example Company", "branches": [
       {"category": "product_name", "name": "lodash", "branches": [
         {"category": "product_version", "name": "4.17.20", "product": {"name": "lodash 4.17.20", "product_id": "CSAFPID-1",
           "product_identification_helper": {"purl": "pkg:npm/lodash@4.17.20"}}},
         {"category": "product_version", "name": "4.17.21", "product": {"name": "lodash 4.17.21", "product_id": "CSAFPID-2",
           "product_identification_helper": {"purl": "pkg:npm/lodash@4.17.21"}}}]}]}]},
     "vulnerabilities": [{"cve": "CVE-2021-23337", "title": "Command injection in lodash",
       "ids": [{"system_name": "GitHub", "text": "GHSA-35jh-r3h4-6jhm"}],
       "notes": [{"category": "description", "text": "Lodash before 4.17.21: command injection via template."},
                 {"category": "general", "text": "not copied"}],
       "product_status": {"known_affected": ["CSAFPID-1"], "fixed": ["CSAFPID-2"]},
       "scores": [{"products": ["CSAFPID-1"], "cvss_v3": {"version": "3.1", "baseScore": 7.2,
         "vectorString": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}}]}]}"#;

    const LODASH_OSV: &str = r#"{"id": "EXCO-SA-2021-0007",
      "aliases": ["CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"], "summary": "Command injection in lodash",
      "details": "Lodash before 4.17.21: command injection via template.",
      "published": "2021-02-15T07:00:00Z", "modified": "2021-03-01T10:30:00Z",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
      "affected": [{"package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
        "versions": ["4.17.20"], "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}],
      "database_specific": {"source": "csaf", "document": "EXCO-SA-2021-0007", "publisher": "Example PSIRT"}}"#;

    /// Modelled on Red Hat's openssl advisories: components in architecture
    /// branches, joined to products by `default_component_of` relationships.
    const RHSA: &str = r#"{"document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
      "title": "Important: openssl security update", "publisher": {"category": "vendor", "name": "Red Hat Product Security"},
      "tracking": {"id": "RHSA-2023:1405", "status": "final", "version": "1",
        "initial_release_date": "2023-03-23T08:00:00+00:00", "current_release_date": "2023-03-23T08:00:00+00:00"}},
     "product_tree": {"branches": [{"category": "vendor", "name": "Red Hat", "branches": [
       {"category": "product_family", "name": "Red Hat Enterprise Linux", "branches": [
         {"category": "product_name", "name": "RHEL AppStream EUS (v.8.6)", "product": {"name": "RHEL AppStream EUS (v.8.6)",
           "product_id": "EUS", "product_identification_helper": {"cpe": "cpe:/a:redhat:rhel_eus:8.6::appstream"}}},
         {"category": "product_name", "name": "Red Hat Enterprise Linux 6", "product": {"name": "RHEL 6", "product_id": "rhel6"}}]},
       {"category": "architecture", "name": "src", "branches": [
         {"category": "product_version", "name": "openssl-1:1.1.1k-7.el8_6.src", "product": {"name": "openssl-1:1.1.1k-7.el8_6.src",
           "product_id": "o-1.1.1k-7", "product_identification_helper": {"purl": "pkg:rpm/redhat/openssl@1.1.1k-7.el8_6?arch=src&epoch=1"}}},
         {"category": "product_version", "name": "openssl-1:1.1.1k-9.el8_6.src", "product": {"name": "openssl-1:1.1.1k-9.el8_6.src",
           "product_id": "o-1.1.1k-9", "product_identification_helper": {"purl": "pkg:rpm/redhat/openssl@1.1.1k-9.el8_6?arch=src&epoch=1"}}},
         {"category": "product_version", "name": "openssl-1:3.0.7-6.el9_2.src", "product": {"name": "openssl-1:3.0.7-6.el9_2.src",
           "product_id": "o-3.0.7-6", "product_identification_helper": {"purl": "pkg:rpm/redhat/openssl@3.0.7-6.el9_2?arch=src&epoch=1"}}},
         {"category": "product_version", "name": "openssl-1:3.0.7-18.el9_2.src", "product": {"name": "openssl-1:3.0.7-18.el9_2.src",
           "product_id": "o-3.0.7-18", "product_identification_helper": {"purl": "pkg:rpm/redhat/openssl@3.0.7-18.el9_2?arch=src&epoch=1"}}},
         {"category": "product_version", "name": "openssl", "product": {"name": "openssl", "product_id": "openssl",
           "product_identification_helper": {"purl": "pkg:rpm/redhat/openssl?arch=src"}}}]}]}],
       "relationships": [
         {"category": "default_component_of", "product_reference": "o-1.1.1k-7", "relates_to_product_reference": "EUS",
          "full_product_name": {"name": "openssl-1:1.1.1k-7.el8_6.src as a component of RHEL EUS", "product_id": "EUS:o-1.1.1k-7"}},
         {"category": "default_component_of", "product_reference": "o-1.1.1k-9", "relates_to_product_reference": "EUS",
          "full_product_name": {"name": "openssl-1:1.1.1k-9.el8_6.src as a component of RHEL EUS", "product_id": "EUS:o-1.1.1k-9"}},
         {"category": "default_component_of", "product_reference": "o-3.0.7-6", "relates_to_product_reference": "EUS",
          "full_product_name": {"name": "openssl-1:3.0.7-6.el9_2.src as a component of RHEL EUS", "product_id": "EUS:o-3.0.7-6"}},
         {"category": "default_component_of", "product_reference": "o-3.0.7-18", "relates_to_product_reference": "EUS",
          "full_product_name": {"name": "openssl-1:3.0.7-18.el9_2.src as a component of RHEL EUS", "product_id": "EUS:o-3.0.7-18"}},
         {"category": "default_component_of", "product_reference": "openssl", "relates_to_product_reference": "rhel6",
          "full_product_name": {"name": "openssl as a component of Red Hat Enterprise Linux 6", "product_id": "rhel6:openssl"}}]},
     "vulnerabilities": [
       {"cve": "CVE-2023-0286", "ids": [{"system_name": "Red Hat Bugzilla ID", "text": "2164440"}],
        "notes": [{"category": "summary", "text": "openssl: X.400 address type confusion"}],
        "product_status": {"known_affected": ["EUS:o-1.1.1k-7", "EUS:o-3.0.7-6", "rhel6:openssl"],
                           "fixed": ["EUS:o-1.1.1k-9", "EUS:o-3.0.7-18"]},
        "scores": [{"cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"}, "products": []}]},
       {"cve": "CVE-2022-4304", "product_status": {"fixed": ["EUS:o-1.1.1k-9"]}}]}"#;

    /// Modelled on Siemens ProductCERT advisories: `product_version_range`
    /// branches, firmware without purls beside third-party components.
    const SSA: &str = r#"{"document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
      "title": "SSA-123456: Vulnerabilities in Industrial Edge", "publisher": {"category": "vendor", "name": "Siemens ProductCERT"},
      "tracking": {"id": "SSA-123456", "status": "final", "version": "1",
        "initial_release_date": "2024-02-13T00:00:00Z", "current_release_date": "2024-02-13T00:00:00Z"}},
     "product_tree": {"branches": [{"category": "vendor", "name": "Siemens", "branches": [
       {"category": "product_name", "name": "SIMATIC S7-1500 CPU family", "branches": [{"category": "product_version_range",
         "name": "vers:intdot/<3.1", "product": {"name": "SIMATIC S7-1500 CPU family < V3.1", "product_id": "1"}}]},
       {"category": "product_name", "name": "Edge UI", "branches": [{"category": "product_version_range",
         "name": "vers:npm/>=1.0.0|<2.0.0|>=3.0.0|<=3.1.4", "product": {"name": "Edge UI", "product_id": "2",
         "product_identification_helper": {"purl": "pkg:npm/%40siemens/edge-ui"}}}]},
       {"category": "product_name", "name": "Edge Agent", "branches": [{"category": "product_version_range",
         "name": "vers:golang/>=v1.2.0|<v1.2.5", "product": {"name": "Edge Agent", "product_id": "3",
         "product_identification_helper": {"purl": "pkg:golang/github.com/Siemens/Agent"}}}]},
       {"category": "product_name", "name": "Edge Core", "branches": [{"category": "product_version_range",
         "name": "vers:semver/<2.0.0", "product": {"name": "Edge Core", "product_id": "4",
         "product_identification_helper": {"purls": ["pkg:cargo/edge_core"]}}}]},
       {"category": "product_name", "name": "Edge Legacy", "branches": [{"category": "product_version_range",
         "name": "vers:npm/>1.0.0", "product": {"name": "Edge Legacy", "product_id": "5",
         "product_identification_helper": {"purl": "pkg:npm/edge-legacy"}}}]},
       {"category": "product_name", "name": "Edge Tools", "branches": [{"category": "product_version_range",
         "name": "vers:intdot/<4.0", "product": {"name": "Edge Tools", "product_id": "6",
         "product_identification_helper": {"purl": "pkg:npm/edge-tools"}}}]}]}]},
     "vulnerabilities": [{"cve": "CVE-2024-12345",
       "product_status": {"known_affected": ["1", "2", "3", "4", "5", "6", "7"]},
       "scores": [{"products": ["1", "2", "3"], "cvss_v3": {"version": "3.1", "baseScore": 9.8,
                     "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                   "cvss_v4": {"version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}},
                  {"products": ["4"], "cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/garbage"}}]}]}"#;

    const DSA: &str = r#"{"document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "openssl",
      "publisher": {"category": "vendor", "name": "Debian"}, "tracking": {"id": "DSA-5532-1", "status": "final",
        "version": "1", "initial_release_date": "2023-10-24T00:00:00Z", "current_release_date": "2023-10-24T00:00:00Z"}},
     "product_tree": {"full_product_names": [
       {"name": "openssl 3.0.9-1", "product_id": "A", "product_identification_helper":
         {"purl": "pkg:deb/debian/openssl@3.0.9-1?arch=source&distro=debian-12"}},
       {"name": "openssl 3.0.11-1~deb12u1", "product_id": "F12", "product_identification_helper":
         {"purl": "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12"}},
       {"name": "openssl 1.1.1n-0+deb11u5", "product_id": "F11", "product_identification_helper":
         {"purl": "pkg:deb/debian/openssl@1.1.1n-0+deb11u5?distro=debian-11"}}]},
     "vulnerabilities": [{"ids": [{"system_name": "Debian", "text": "DSA-5532-1"}],
       "product_status": {"first_affected": ["A"], "first_fixed": ["F12", "F11"]}}]}"#;

    /// Converts; every record must be one `osv::parse` reads.
    fn convert(doc: &str) -> (Vec<Advisory>, Vec<(String, String)>) {
        let c = to_osv(&serde_json::from_str(doc).unwrap()).unwrap();
        let parsed = c.records.into_iter().map(|r| osv::parse(r).unwrap());
        (parsed.collect(), c.skipped)
    }

    /// Each parsed `affected[]`: `key[@release] [versions] Kind(events)…`.
    fn shape(a: &Advisory) -> String {
        let event = |e: &Event| match e {
            Event::Introduced(v) => format!(">={v}"),
            Event::Fixed(v) => format!("<{v}"),
            Event::LastAffected(v) => format!("<={v}"),
            Event::Limit(v) => format!("limit {v}"),
        };
        let range = |r: &Range| {
            let events: Vec<String> = r.events.iter().map(event).collect();
            format!(" {:?}({})", r.kind, events.join(" "))
        };
        let entry = |x: &osv::Affected| {
            let release = x.package.release.as_ref().map(|r| format!("@{r}"));
            let (key, release) = (x.package.key(), release.unwrap_or_default());
            let ranges: String = x.ranges.iter().map(range).collect();
            format!("{key}{release} {:?}{ranges}", x.versions)
        };
        a.affected.iter().map(entry).collect::<Vec<_>>().join("\n")
    }

    /// Matches as findings do: each purl affected ("!purl": not affected).
    fn check(a: &Advisory, purls: &str) {
        for purl in purls.split_whitespace() {
            let (want, purl) = purl.strip_prefix('!').map_or((true, purl), |p| (false, p));
            let p = Purl::parse(purl).unwrap();
            let (pkg, v) = (p.package().unwrap(), p.match_version().unwrap());
            let hit = |x: &osv::Affected| matching::evaluate(x, &v).affected;
            let hit = a.affected.iter().any(|x| x.package.covers(&pkg) && hit(x));
            assert_eq!(hit, want, "{purl}");
        }
    }

    /// Each line of `whys` is part of a reason given for `key`.
    fn said(skipped: &[(String, String)], key: &str, whys: &str) {
        for why in whys.lines().map(str::trim) {
            let found = skipped.iter().any(|(k, r)| k == key && r.contains(why));
            assert!(found, "{key}: {why:?} not in {skipped:?}");
        }
    }

    #[test]
    fn npm_advisory_with_a_fix_gives_versions_and_a_range() {
        let d: Value = serde_json::from_str(LODASH).unwrap();
        let c = to_osv(&d).unwrap();
        assert!(is_csaf(&d) && c.skipped.is_empty(), "{c:?}");
        assert_eq!(
            c.records,
            [serde_json::from_str::<Value>(LODASH_OSV).unwrap()]
        );
        let (recs, _) = convert(LODASH);
        assert_eq!(recs[0].severity.score, Some(7.2));
        let want = r#"npm:lodash ["4.17.20"] Ecosystem(>=0 <4.17.21)"#;
        assert_eq!(shape(&recs[0]), want);
        check(&recs[0], "pkg:npm/lodash@4.17.20 pkg:npm/lodash@4.17.15");
        check(&recs[0], "!pkg:npm/lodash@4.17.21 !pkg:npm/lodash@4.18.0");
    }

    #[test]
    fn red_hat_relationships_epochs_and_release_lines() {
        let (recs, skipped) = convert(RHSA);
        let a = &recs[0];
        assert_eq!(
            (recs.len(), a.id.as_str()),
            (1, "RHSA-2023:1405/CVE-2023-0286")
        );
        assert_eq!(
            a.aliases,
            ["CVE-2023-0286"],
            "a bare Bugzilla number is no alias"
        );
        let details = Some("openssl: X.400 address type confusion");
        assert_eq!(
            (a.details.as_deref(), a.severity.score),
            (details, Some(7.4))
        );
        // 3.0.7-6 has a fix (el8) below it: no range from 0 for it.
        let versions = r#"["1:1.1.1k-7.el8_6", "1:3.0.7-6.el9_2"]"#;
        let want = format!("Red Hat:openssl {versions} Ecosystem(>=0 <1:1.1.1k-9.el8_6)");
        assert_eq!(shape(a), want);
        check(a, "pkg:rpm/redhat/openssl@1.1.1k-7.el8_6?arch=x86_64&epoch=1
            pkg:rpm/redhat/openssl@1.1.1k-5.el8_5?epoch=1 pkg:rpm/redhat/openssl@3.0.7-6.el9_2?epoch=1
            !pkg:rpm/redhat/openssl@3.0.7-5.el9?epoch=1 !pkg:rpm/redhat/openssl@1.1.1k-9.el8_6?epoch=1");
        said(
            &skipped,
            "CVE-2023-0286",
            "\"rhel6:openssl\": pkg:rpm/redhat/openssl?arch=src names no version",
        );
        said(
            &skipped,
            "CVE-2022-4304",
            "no record: no product is known_affected",
        );
    }

    #[test]
    fn siemens_vers_ranges() {
        let (recs, skipped) = convert(SSA);
        let a = &recs[0];
        assert_eq!((a.id.as_str(), a.severity.score), ("SSA-123456", Some(9.8)));
        assert_eq!(a.record["severity"][1]["type"], "CVSS_V4");
        let want = "npm:@siemens/edge-ui [] Ecosystem(>=1.0.0 <2.0.0 >=3.0.0 <=3.1.4)
            Go:github.com/siemens/agent [] Ecosystem(>=1.2.0 <1.2.5)
            crates.io:edge-core [] Semver(>=0 <2.0.0)";
        assert_eq!(
            shape(a),
            want.replace("\n            ", "\n"),
            "OSV Go versions lack the v"
        );
        check(
            a,
            "pkg:npm/%40siemens/edge-ui@1.5.0 pkg:npm/@siemens/edge-ui@3.0.0
            pkg:npm/@siemens/edge-ui@3.1.4 !pkg:npm/@siemens/edge-ui@3.1.5
            !pkg:npm/@siemens/edge-ui@2.0.0 !pkg:npm/@siemens/edge-ui@0.9.0
            pkg:golang/github.com/siemens/agent@v1.2.0 pkg:golang/github.com/siemens/agent@v1.2.4
            !pkg:golang/github.com/siemens/agent@v1.2.5 !pkg:golang/github.com/siemens/agent@v1.1.9
            pkg:cargo/edge-core@1.9.0 !pkg:cargo/edge-core@2.0.0",
        );
        said(
            &skipped,
            "CVE-2024-12345",
            "product \"1\": (SIMATIC S7-1500 CPU family < V3.1) has no purl
            comparator \">\" has no OSV event
            scheme \"intdot\" is not how npm versions order
            \"7\" is not in the product tree
            cvss_v3 \"CVSS:3.1/garbage\" does not parse",
        );
    }

    #[test]
    fn first_affected_starts_the_range_and_releases_stay_apart() {
        let (recs, _) = convert(DSA);
        let ecosystem = &recs[0].record["affected"][0]["package"]["ecosystem"];
        assert_eq!(ecosystem, "Debian:12");
        let want = r#"Debian:openssl@12 ["3.0.9-1"] Ecosystem(>=3.0.9-1 <3.0.11-1~deb12u1)"#;
        assert_eq!(shape(&recs[0]), want);
        check(
            &recs[0],
            "pkg:deb/debian/openssl@3.0.10-1?distro=debian-12
            !pkg:deb/debian/openssl@3.0.8-1?distro=debian-12
            !pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12
            !pkg:deb/debian/openssl@3.0.10-1?distro=debian-11",
        );
    }

    #[test]
    fn vex_fixtures_without_purls_are_skipped_with_reasons() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/vex");
        let mut seen = 0;
        for f in std::fs::read_dir(dir).unwrap().map(|f| f.unwrap().path()) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if !(name.starts_with("csaf__") && name.ends_with(".json")) {
                continue;
            }
            seen += 1;
            let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
            let c = to_osv(&v).unwrap_or_else(|e| panic!("{name}: {e}"));
            let nothing = c.records.is_empty() && !c.skipped.is_empty();
            assert!(is_csaf(&v) && nothing, "{name}");
            let no_purl = c.skipped.iter().any(|(_, r)| r.contains("has no purl"));
            assert_eq!(no_purl, v.to_string().contains("known_affected"), "{name}");
        }
        assert!(seen >= 13, "{seen} fixtures");
    }

    fn doc(id: &str, tree: &str, vulns: &str) -> Value {
        let head = r#""csaf_version": "2.0", "tracking": {"id": "$ID"}"#.replace("$ID", id);
        let d = format!(
            r#"{{"document": {{{head}}}, "product_tree": {tree}, "vulnerabilities": {vulns}}}"#
        );
        serde_json::from_str(&d).unwrap()
    }

    #[test]
    fn limits_and_malformed_documents() {
        let err = |tree: &str, vulns: &str| to_osv(&doc("X-1", tree, vulns)).unwrap_err();
        assert!(!is_csaf(&json!({"bomFormat": "CycloneDX"})));
        assert!(to_osv(&json!({"id": "GHSA-x"})).is_err());
        let mut d = doc("X-1", "{}", "[]");
        d["document"]["tracking"]["initial_release_date"] = json!("yesterday");
        assert!(to_osv(&d).unwrap_err().contains("initial_release_date"));
        assert!(to_osv(&doc(" ", "{}", "[]"))
            .unwrap_err()
            .contains("tracking/id"));
        let deep = r#"{"category": "product_family", "name": "f", "branches": ["#.repeat(40);
        let deep = format!(r#"{{"branches": [{deep}{{}}{}]}}"#, "]}".repeat(40));
        assert!(err(&deep, "[]").contains("deeper than 32 (the limit)"));
        let many = vec![r#"{"product_id": "P"}"#; MAX_PRODUCTS + 1].join(",");
        let many = format!(r#"{{"full_product_names": [{many}]}}"#);
        assert!(err(&many, "[]").contains("more than 100000 products (the limit)"));
        let vulns = format!("[{}{{}}]", "{},".repeat(MAX_VULNERABILITIES));
        assert!(err("{}", &vulns).contains("more than 10000 vulnerabilities"));
        let e = err(r#"{"branches": {}}"#, "[]");
        assert!(
            e.contains("/product_tree/branches: expected an array"),
            "{e}"
        );
        // A relationship loop, a mistyped status, a non-object: skipped, not fatal.
        let tree = r#"{"relationships": [
            {"product_reference": "B", "full_product_name": {"name": "a", "product_id": "A"}},
            {"product_reference": "A", "full_product_name": {"name": "b", "product_id": "B"}}]}"#;
        let vulns = r#"[{"cve": "CVE-1", "product_status": {"known_affected": ["A"]}},
            {"cve": "CVE-2", "product_status": {"known_affected": "A"}}, 7]"#;
        let c = to_osv(&doc("X-1", tree, vulns)).unwrap();
        assert!(c.records.is_empty());
        said(&c.skipped, "CVE-1", "(or loop)");
        said(&c.skipped, "CVE-2", "expected an array");
        said(&c.skipped, "vulnerabilities[2]", "not an object");
        let missing: Vec<String> = (0..25).map(|i| format!("\"M{i}\"")).collect();
        let vulns = format!(
            r#"[{{"cve": "CVE-3", "product_status": {{"known_affected": [{}]}}}}]"#,
            missing.join(",")
        );
        let c = to_osv(&doc("X-1", "{}", &vulns)).unwrap();
        assert_eq!(
            c.skipped.len(),
            22,
            "20 products, the rest counted, then the record"
        );
        said(&c.skipped, "CVE-3", "… and 5 more products skipped");
        let tree = r#"{"full_product_names": [{"product_id": "P", "product_identification_helper": {"purl": "pkg:npm/a@1"}}]}"#;
        let vulns = format!(
            r#"[{{"product_status": {{"fixed": [{}"P"]}}}}]"#,
            "\"P\",".repeat(MAX_PURL_REFERENCES)
        );
        assert!(err(tree, &vulns).contains("more than 1000000 purls (the limit)"));
    }

    #[test]
    fn ids_stay_osv_safe_and_distinct() {
        let tree = r#"{"full_product_names": [{"name": "Django 4.2.1", "product_id": "P",
            "product_identification_helper": {"purl": "pkg:pypi/Django@4.2.1"}}]}"#;
        let vuln = r#"{"cve": "$C", "ids": [{"text": "a b"}],
            "product_status": {"known_affected": ["P"]}}"#;
        let long = "y".repeat(100);
        let cve = |i| if i < 2 { "CVE-2023-36053" } else { &long };
        let vulns: Vec<String> = (0..60).map(|i| vuln.replace("$C", cve(i))).collect();
        let title = format!("Example Advisory {}", "x".repeat(300));
        let c = to_osv(&doc(&title, tree, &format!("[{}]", vulns.join(",")))).unwrap();
        let recs: Vec<Advisory> = c
            .records
            .into_iter()
            .map(|r| osv::parse(r).unwrap())
            .collect();
        let ids: HashSet<&str> = recs.iter().map(|a| a.id.as_str()).collect();
        let safe = |i: &&str| i.len() <= 128 && i.starts_with("Example-Advisory-xx");
        assert!(ids.len() == 60 && ids.iter().all(safe), "{ids:?}");
        assert!(
            recs.iter().all(|a| a.aliases.len() <= 1),
            "\"a b\" is no alias"
        );
    }
}
