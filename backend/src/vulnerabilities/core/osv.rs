//! OSV records (ossf/osv-schema 1.x) read into what Cairn keeps: identity,
//! aliases, severity, and each affected package with its ranges. A record
//! that cannot be read says why; it never stops the records beside it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::purl::Package;
use super::severity::SeverityScore;

/// One record, at most this large (the largest in the Go and PyPI databases
/// is under 200 KiB).
pub const MAX_RECORD: usize = 4 << 20;
/// Ids and aliases: OSV ids are short (`GHSA-xxxx-xxxx-xxxx`, `PYSEC-2021-123`).
const MAX_ID: usize = 128;
const MAX_ALIASES: usize = 1000;
const MAX_AFFECTED: usize = 10_000;

/// A record as stored: what matching needs, plus its normalised JSON.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    /// Other ids of the same vulnerability, without `id` and without repeats.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub withdrawn: Option<DateTime<Utc>>,
    pub severity: SeverityScore,
    pub affected: Vec<Affected>,
    /// Ranges Cairn does not evaluate (GIT), noted for the reader.
    pub notes: Vec<String>,
    /// The record as received (re-serialised: the stored form).
    pub record: Value,
    /// Where the record came from: `osv`, or `csaf` for one converted from
    /// a CSAF advisory.
    pub source: &'static str,
}

/// One `affected[]` entry of a package Cairn can match.
#[derive(Debug, Clone, PartialEq)]
pub struct Affected {
    pub package: Package,
    /// The package name as the advisory writes it.
    pub osv_name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// Vulnerable Go symbols per package path (`ecosystem_specific.imports`).
    pub symbols: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Range {
    /// `SEMVER` or `ECOSYSTEM` (GIT ranges are not kept).
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    Semver,
    Ecosystem,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    summary: Option<String>,
    details: Option<String>,
    published: Option<String>,
    modified: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    ecosystem_specific: Option<Value>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, Value>>,
}

/// `ecosystem_specific.imports` of a Go database entry: (package path,
/// vulnerable symbols; none listed: the whole package).
pub fn go_imports(ecosystem_specific: Option<&Value>) -> Vec<(String, Vec<String>)> {
    let Some(imports) = ecosystem_specific
        .and_then(|e| e.get("imports"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    imports
        .iter()
        .filter_map(|imp| {
            let path = imp.get("path")?.as_str()?.to_string();
            let symbols = (imp.get("symbols").and_then(Value::as_array))
                .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)));
            Some((path, symbols.into_iter().flatten().collect()))
        })
        .collect()
}

/// The vulnerable Go imports a stored record's `affected` array lists for
/// `component` (every entry covering it that lists any).
pub fn imports_for(affected: &Value, component: &Package) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in affected.as_array().into_iter().flatten() {
        let package = a.get("package");
        let field = |k: &str| package.and_then(|p| p.get(k)).and_then(Value::as_str);
        let (Some(eco), Some(name)) = (field("ecosystem"), field("name")) else {
            continue;
        };
        if !Package::from_osv(eco, name).is_some_and(|p| p.covers(component)) {
            continue;
        }
        for import in go_imports(a.get("ecosystem_specific")) {
            if !out.contains(&import) {
                out.push(import);
            }
        }
    }
    out
}

/// Why a record was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The record's id when it could be read.
    pub id: Option<String>,
    pub reason: String,
}

impl RecordError {
    fn new(id: Option<&str>, reason: impl Into<String>) -> Self {
        RecordError {
            id: id.map(str::to_string),
            reason: reason.into(),
        }
    }
}

/// Splits a body into records: one JSON object, or an array of them.
pub fn records(json: &[u8]) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
    match value {
        Value::Array(items) => match items.iter().position(|i| !i.is_object()) {
            Some(i) => Err(format!(
                "item {i} of the array is not an OSV record (a JSON object)"
            )),
            None => Ok(items),
        },
        v @ Value::Object(_) => Ok(vec![v]),
        _ => Err("an OSV body is a record (a JSON object) or an array of records".into()),
    }
}

/// Reads one record.
pub fn parse(value: Value) -> Result<Advisory, RecordError> {
    let id_hint = value
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| s.len() <= MAX_ID)
        .map(str::to_string);
    let raw: RawRecord = serde_json::from_value(value.clone())
        .map_err(|e| RecordError::new(id_hint.as_deref(), format!("not an OSV record: {e}")))?;
    let id = raw.id.trim().to_string();
    check_id(&id).map_err(|r| RecordError::new(id_hint.as_deref(), r))?;
    let err = |reason: String| RecordError::new(Some(&id), reason);

    let mut seen = BTreeSet::from([id.clone()]);
    let mut aliases = Vec::new();
    let raw_aliases = raw.aliases.unwrap_or_default();
    if raw_aliases.len() > MAX_ALIASES {
        return Err(err(format!("more than {MAX_ALIASES} aliases")));
    }
    for a in raw_aliases {
        let a = a.trim().to_string();
        check_id(&a).map_err(|r| err(format!("alias {a:?}: {r}")))?;
        if seen.insert(a.clone()) {
            aliases.push(a);
        }
    }

    let time = |field: &str, v: Option<String>| -> Result<Option<DateTime<Utc>>, RecordError> {
        v.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| err(format!("`{field}` is not an RFC 3339 time: {s:?}")))
        })
        .transpose()
    };
    let published = time("published", raw.published)?;
    let modified = time("modified", raw.modified)?;
    let withdrawn = time("withdrawn", raw.withdrawn)?;

    let mut severity = SeverityScore::unknown();
    for s in raw.severity.iter().flatten() {
        severity = severity.max(SeverityScore::from_osv(&s.kind, &s.score));
    }
    let mut affected = Vec::new();
    let mut notes = Vec::new();
    let raw_affected = raw.affected.unwrap_or_default();
    if raw_affected.len() > MAX_AFFECTED {
        return Err(err(format!("more than {MAX_AFFECTED} affected entries")));
    }
    for (i, a) in raw_affected.into_iter().enumerate() {
        for s in a.severity.iter().flatten() {
            severity = severity.max(SeverityScore::from_osv(&s.kind, &s.score));
        }
        if let Some(rating) = a
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(Value::as_str)
        {
            severity = severity.max(SeverityScore::rating(rating));
        }
        let Some(pkg) = a.package else {
            continue; // a package-less entry names commits only
        };
        let Some(package) = Package::from_osv(&pkg.ecosystem, &pkg.name) else {
            notes.push(format!(
                "affected[{i}]: ecosystem {:?} is not one Cairn matches",
                pkg.ecosystem
            ));
            continue;
        };
        let mut ranges = Vec::new();
        for (j, r) in a.ranges.into_iter().flatten().enumerate() {
            let kind = match r.kind.as_str() {
                "SEMVER" => RangeKind::Semver,
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "GIT" => {
                    notes.push(format!(
                        "affected[{i}].ranges[{j}]: GIT ranges name commits and are not evaluated"
                    ));
                    continue;
                }
                other => {
                    return Err(err(format!(
                        "affected[{i}].ranges[{j}]: unknown range type {other:?}"
                    )))
                }
            };
            let mut events = Vec::new();
            for e in r.events {
                let (k, v) = e
                    .iter()
                    .next()
                    .ok_or_else(|| err(format!("affected[{i}].ranges[{j}]: an empty event")))?;
                let v = v
                    .as_str()
                    .ok_or_else(|| {
                        err(format!(
                            "affected[{i}].ranges[{j}]: event {k} is not a string"
                        ))
                    })?
                    .to_string();
                events.push(match k.as_str() {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    "limit" => Event::Limit(v),
                    other => {
                        return Err(err(format!(
                            "affected[{i}].ranges[{j}]: unknown event {other:?}"
                        )))
                    }
                });
            }
            ranges.push(Range { kind, events });
        }
        let symbols = go_imports(a.ecosystem_specific.as_ref());
        affected.push(Affected {
            package,
            osv_name: pkg.name,
            ranges,
            versions: a.versions.unwrap_or_default(),
            symbols,
        });
    }
    if let Some(rating) = raw
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
    {
        severity = severity.max(SeverityScore::rating(rating));
    }
    Ok(Advisory {
        id,
        aliases,
        summary: raw.summary.map(|s| clip(&s, 1000)),
        details: raw.details.map(|s| clip(&s, 20_000)),
        published,
        modified,
        withdrawn,
        severity,
        affected,
        notes,
        record: value,
        source: "osv",
    })
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the id is empty".into());
    }
    if id.len() > MAX_ID {
        return Err(format!("the id is longer than {MAX_ID} bytes"));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the id has characters other than printable ASCII".into());
    }
    Ok(())
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vulnerabilities::core::severity::Severity;
    use crate::vulnerabilities::core::version::Ecosystem;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../tests/fixtures/osv/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn go_vulndb_record() {
        let a = parse(fixture("golang-vulndb__GO-2023-1571.json")).unwrap();
        assert_eq!(a.id, "GO-2023-1571");
        assert_eq!(a.aliases, ["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"]);
        assert_eq!(a.severity.severity, Severity::Unknown);
        assert_eq!(a.affected.len(), 2);
        let std = &a.affected[0];
        assert_eq!(
            (std.package.ecosystem, std.package.name.as_str()),
            (Ecosystem::Go, "stdlib")
        );
        assert_eq!(std.ranges[0].kind, RangeKind::Semver);
        assert_eq!(
            std.ranges[0].events,
            [
                Event::Introduced("0".into()),
                Event::Fixed("1.19.6".into()),
                Event::Introduced("1.20.0-0".into()),
                Event::Fixed("1.20.1".into())
            ]
        );
        assert_eq!(std.symbols[0].0, "net/http");
        assert!(std.symbols[0]
            .1
            .contains(&"Transport.RoundTrip".to_string()));
    }

    #[test]
    fn ghsa_rating_is_a_severity() {
        let a = parse(fixture(
            "github-advisory-database__GHSA-vvpx-j8f3-3w6h.json",
        ))
        .unwrap();
        assert_eq!(a.severity.severity, Severity::Low);
        assert_eq!(a.severity.score, None);
    }

    #[test]
    fn unreadable_records_say_why() {
        let e = parse(serde_json::json!({"id": "X-1", "affected": [{"package": {"ecosystem": "Go", "name": "m"}, "ranges": [{"type": "SEMVER", "events": [{"broken": "1"}]}]}]})).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("X-1"));
        assert!(e.reason.contains("unknown event \"broken\""), "{e:?}");
        let e = parse(serde_json::json!({"summary": "no id"})).unwrap_err();
        assert_eq!(e.id, None);
        assert!(e.reason.contains("missing field `id`"), "{e:?}");
        let e = parse(serde_json::json!({"id": "X-2", "modified": "yesterday"})).unwrap_err();
        assert!(e.reason.contains("modified"), "{e:?}");
        let e = parse(serde_json::json!({"id": "bad id"})).unwrap_err();
        assert!(e.reason.contains("printable ASCII"), "{e:?}");
        assert!(records(b"42").is_err());
        assert_eq!(records(b"[{}, {}]").unwrap().len(), 2);
        assert!(records(b"[{}, 5]").unwrap_err().contains("item 1"));
    }

    #[test]
    fn git_ranges_are_noted_and_unknown_ecosystems_skipped() {
        let a = parse(serde_json::json!({"id": "X-3", "aliases": ["X-3", "CVE-1", "CVE-1"], "affected": [
            {"package": {"ecosystem": "Go", "name": "m"}, "ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "abc"}]}]},
            {"package": {"ecosystem": "Nonesuch", "name": "m"}, "versions": ["1"]}
        ]})).unwrap();
        assert_eq!(
            a.aliases,
            ["CVE-1"],
            "the id itself and repeats are dropped"
        );
        assert!(a.affected[0].ranges.is_empty());
        assert_eq!(a.affected.len(), 1);
        assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
    }
}
