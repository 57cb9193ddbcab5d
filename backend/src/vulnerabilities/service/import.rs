//! Importing advisories (OSV JSON or zip) and the KEV catalog: one
//! transaction each, incremental by content hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Seek};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::vulnerabilities::core::csaf_advisory;
use crate::vulnerabilities::core::kev;
use crate::vulnerabilities::core::osv::{self, Advisory, Affected, RecordError};
use crate::vulnerabilities::core::purl::Package;
use crate::vulnerabilities::store;

/// Records written per statement batch: big enough to amortise round
/// trips, small enough to bound memory on a whole-database zip.
const BATCH: usize = 1000;
/// Errors listed in an import report (the count is always complete).
const MAX_LISTED_ERRORS: usize = 1000;
/// A zip of OSV records: at most this many entries and decompressed bytes.
const MAX_ZIP_ENTRIES: usize = 2_000_000;
const MAX_ZIP_BYTES: u64 = 8 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The body as a whole is not an advisory feed (nothing was imported).
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The outcome of one import.
#[derive(Debug, Default, Serialize, ToSchema, PartialEq)]
pub struct ImportReport {
    /// Records read from the body.
    pub records: u64,
    /// Records stored now: new, or changed since their last import.
    pub imported: u64,
    /// Records identical to the stored ones (nothing written).
    pub unchanged: u64,
    /// Imported records marked `withdrawn` (they no longer match).
    pub withdrawn: u64,
    /// How many records could not be read (all of them).
    pub error_count: u64,
    /// The records that could not be read, by id and reason (the first 1,000).
    pub errors: Vec<RecordProblem>,
    /// Advisories stored after the import.
    pub advisories: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct RecordProblem {
    /// The record's id, or null when it has none; for a zip, `entry` names it.
    pub id: Option<String>,
    /// The zip entry, for zips.
    pub entry: Option<String>,
    pub reason: String,
}

impl ImportReport {
    fn error(&mut self, entry: Option<String>, e: RecordError) {
        self.error_count += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(RecordProblem {
                id: e.id,
                entry,
                reason: e.reason,
            });
        }
    }
}

/// A parsed record, or why it could not be, with where it came from.
type Item = (Option<String>, Result<Advisory, RecordError>);

/// Reads a JSON body (one record, an array of records, or a CSAF
/// advisory) into items.
pub fn json_items(body: &[u8]) -> Result<Vec<Item>, ImportError> {
    let values = osv::records(body).map_err(ImportError::Unreadable)?;
    if let [doc] = values.as_slice() {
        if csaf_advisory::is_csaf(doc) {
            if body.len() > csaf_advisory::MAX_DOCUMENT {
                return Err(ImportError::Unreadable(format!(
                    "the CSAF document is larger than {} bytes",
                    csaf_advisory::MAX_DOCUMENT
                )));
            }
            return csaf_items(doc, None).map_err(ImportError::Unreadable);
        }
    }
    Ok(values.into_iter().map(|v| (None, osv::parse(v))).collect())
}

/// A CSAF advisory's vulnerabilities as OSV items (source `csaf`); those
/// that name no product Cairn can match are reported with the reason.
fn csaf_items(doc: &serde_json::Value, entry: Option<&str>) -> Result<Vec<Item>, String> {
    let converted = csaf_advisory::to_osv(doc)?;
    let parsed = converted.records.into_iter().map(|r| {
        let mut a = osv::parse(r);
        if let Ok(a) = &mut a {
            a.source = "csaf";
        }
        (entry.map(str::to_string), a)
    });
    // One problem per vulnerability (its product problems joined).
    let mut skipped: Vec<(String, String)> = Vec::new();
    for (id, reason) in converted.skipped {
        match skipped.last_mut() {
            Some((last, joined)) if *last == id => *joined = format!("{joined}; {reason}"),
            _ => skipped.push((id, format!("CSAF: {reason}"))),
        }
    }
    let skipped = skipped.into_iter().map(|(id, reason)| {
        let id = Some(id);
        (entry.map(str::to_string), Err(RecordError { id, reason }))
    });
    Ok(parsed.chain(skipped).collect())
}

/// Streams a zip of records (osv.dev's `all.zip`) to `sink` in batches:
/// one entry at a time, each capped at `osv::MAX_RECORD` bytes.
pub fn zip_items<R: Read + Seek>(
    reader: R,
    mut sink: impl FnMut(Vec<Item>) -> bool,
) -> Result<(), ImportError> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| ImportError::Unreadable(format!("not a readable zip archive: {e}")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(ImportError::Unreadable(format!(
            "the zip holds {} entries; at most {MAX_ZIP_ENTRIES} are read",
            zip.len()
        )));
    }
    let mut total = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                batch.push((
                    Some(format!("#{i}")),
                    Err(RecordError {
                        id: None,
                        reason: format!("unreadable zip entry: {e}"),
                    }),
                ));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let mut buf = Vec::with_capacity((entry.size() as usize).min(osv::MAX_RECORD));
        let read = (&mut entry)
            .take(osv::MAX_RECORD as u64 + 1)
            .read_to_end(&mut buf);
        total += buf.len() as u64;
        if total > MAX_ZIP_BYTES {
            return Err(ImportError::Unreadable(format!(
                "the zip decompresses to more than {MAX_ZIP_BYTES} bytes"
            )));
        }
        let item = match read {
            Err(e) => Err(RecordError {
                id: None,
                reason: format!("unreadable zip entry: {e}"),
            }),
            Ok(_) if buf.len() > osv::MAX_RECORD => Err(RecordError {
                id: None,
                reason: format!("larger than {} bytes", osv::MAX_RECORD),
            }),
            Ok(_) => serde_json::from_slice::<serde_json::Value>(&buf).map_err(|e| RecordError {
                id: None,
                reason: format!("not JSON: {e}"),
            }),
        };
        match item {
            // A CSAF provider's archive: each document holds many records.
            Ok(doc) if csaf_advisory::is_csaf(&doc) => match csaf_items(&doc, Some(&name)) {
                Ok(items) => batch.extend(items),
                Err(reason) => batch.push((Some(name), Err(RecordError { id: None, reason }))),
            },
            item => batch.push((Some(name), item.and_then(osv::parse))),
        }
        if batch.len() >= BATCH && !sink(std::mem::take(&mut batch)) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        sink(batch);
    }
    Ok(())
}

/// Where an import's records come from.
pub enum Source {
    Json(bytes::Bytes),
    Zip(Box<dyn ReadSeek + Send>),
}

pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Imports every readable record in one transaction; `progress` is told
/// the running count of records read.
pub async fn import(
    pool: &PgPool,
    source: Source,
    progress: impl Fn(u64) + Send,
) -> Result<ImportReport, ImportError> {
    let (tx_items, mut rx_items) = tokio::sync::mpsc::channel::<Vec<Item>>(2);
    let reader = tokio::task::spawn_blocking(move || match source {
        Source::Json(body) => {
            let items = json_items(&body)?;
            for chunk in items.chunks(BATCH) {
                if tx_items.blocking_send(chunk.to_vec()).is_err() {
                    break;
                }
            }
            Ok(())
        }
        Source::Zip(r) => zip_items(r, |batch| tx_items.blocking_send(batch).is_ok()),
    });
    let mut report = ImportReport::default();
    let mut tx = pool.begin().await?;
    store::lock_imports(&mut tx).await?;
    while let Some(batch) = rx_items.recv().await {
        write_batch(&mut tx, batch, &mut report).await?;
        progress(report.records);
    }
    reader
        .await
        .map_err(|e| ImportError::Unreadable(format!("reading the records failed: {e}")))??;
    report.advisories = store::advisory_count(&mut *tx).await?;
    tx.commit().await?;
    Ok(report)
}

async fn write_batch(
    tx: &mut sqlx::PgConnection,
    batch: Vec<Item>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    // The last copy of a record in the batch wins.
    let mut records: BTreeMap<String, (Advisory, Vec<u8>, String)> = BTreeMap::new();
    for (entry, item) in batch {
        report.records += 1;
        match item {
            Err(e) => report.error(entry, e),
            Ok(a) => {
                let json = serde_json::to_string(&a.record).expect("JSON values serialise");
                if json.contains("\\u0000") {
                    let id = Some(a.id.clone());
                    report.error(
                        entry,
                        RecordError {
                            id,
                            reason: "holds a NUL character (U+0000), which cannot be stored".into(),
                        },
                    );
                    continue;
                }
                let sha = Sha256::digest(json.as_bytes()).to_vec();
                records.insert(a.id.clone(), (a, sha, json));
            }
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = records.keys().cloned().collect();
    for stored in store::stored_hashes(tx, &ids).await? {
        if records
            .get(&stored.id)
            .is_some_and(|r| r.1 == stored.content_sha256)
        {
            records.remove(&stored.id);
            report.unchanged += 1;
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    store::advisories_changed(tx).await?;

    // Join ids and aliases into vulnerabilities: union-find over this
    // batch, then fold in the groups already stored.
    let mut uf = UnionFind::default();
    for (id, (a, _, _)) in &records {
        for alias in &a.aliases {
            uf.union(id, alias);
        }
        uf.find(id);
    }
    let all: Vec<String> = uf.keys();
    let mut stored_group: HashMap<String, i64> = store::groups_of(tx, &all)
        .await?
        .into_iter()
        .map(|g| (g.id, g.vulnerability_id))
        .collect();
    let mut components: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in &all {
        components.entry(uf.find(id)).or_default().push(id.clone());
    }
    let mut redirect: HashMap<i64, i64> = HashMap::new();
    let resolve = |redirect: &HashMap<i64, i64>, mut g: i64| {
        while let Some(&to) = redirect.get(&g) {
            g = to;
        }
        g
    };
    let mut needs_new = Vec::new();
    let mut group_of_root: HashMap<String, i64> = HashMap::new();
    for (root, members) in &components {
        let groups: BTreeSet<i64> = members
            .iter()
            .filter_map(|m| stored_group.get(m))
            .map(|&g| resolve(&redirect, g))
            .collect();
        let mut it = groups.into_iter();
        match it.next() {
            None => needs_new.push(root.clone()),
            Some(into) => {
                let from: Vec<i64> = it.collect();
                if !from.is_empty() {
                    store::merge_groups(tx, into, &from).await?;
                    for f in from {
                        redirect.insert(f, into);
                    }
                }
                group_of_root.insert(root.clone(), into);
            }
        }
    }
    let fresh = store::new_vulnerabilities(tx, needs_new.len()).await?;
    group_of_root.extend(needs_new.into_iter().zip(fresh));
    let (mut id_col, mut group_col) = (Vec::new(), Vec::new());
    for (root, members) in &components {
        let g = group_of_root[root];
        for m in members {
            stored_group.insert(m.clone(), g);
            id_col.push(m.clone());
            group_col.push(g);
        }
    }
    store::insert_ids(tx, &id_col, &group_col).await?;

    let previous_keys =
        store::package_keys_of(&mut *tx, &records.keys().cloned().collect::<Vec<_>>()).await?;
    let mut rows = store::AdvisoryRows::default();
    let mut packages = store::PackageRows::default();
    for (id, (a, sha, json)) in records {
        report.imported += 1;
        if a.withdrawn.is_some() {
            report.withdrawn += 1;
        }
        rows.id.push(id.clone());
        rows.source.push(a.source);
        rows.vulnerability_id
            .push(resolve(&redirect, stored_group[&id]));
        rows.aliases.push(pg_array(&a.aliases));
        rows.summary.push(a.summary);
        rows.details.push(a.details);
        rows.published.push(a.published);
        rows.modified.push(a.modified);
        rows.withdrawn.push(a.withdrawn);
        rows.severity.push(a.severity.severity.as_str());
        rows.cvss_score.push(a.severity.score);
        rows.cvss_vector.push(a.severity.vector);
        rows.notes.push(pg_array(&a.notes));
        rows.content_sha256.push(sha);
        rows.record.push(json);
        for (i, affected) in a.affected.iter().enumerate() {
            packages.advisory_id.push(id.clone());
            packages.ordinal.push(i as i32);
            packages.package_key.push(affected.package.key());
            packages
                .ecosystem
                .push(affected.package.ecosystem.osv_name().to_string());
            packages.name.push(affected.osv_name.clone());
            packages.release.push(affected.package.release.clone());
            packages.affected.push(stored_affected(affected));
        }
    }
    store::upsert_advisories(tx, &rows).await?;
    store::replace_packages(tx, &rows.id, &packages).await?;
    // Policy results of artifacts shipping these packages are now stale
    // (a replaced record may also have named packages it no longer does:
    // those were read before the replace).
    packages.package_key.extend(previous_keys);
    packages.package_key.sort();
    packages.package_key.dedup();
    let stale = store::artifacts_with_packages(&mut *tx, &packages.package_key).await?;
    crate::queue::evaluate(tx, &stale, "advisories changed").await?;
    Ok(())
}

/// What `advisory_packages.affected` holds: enough to evaluate a version.
/// (Go symbol lists stay in the record: they are large, matching does
/// not read them.)
fn stored_affected(a: &Affected) -> String {
    serde_json::json!({"ranges": a.ranges, "versions": a.versions}).to_string()
}

pub(super) fn read_affected(
    package: Package,
    name: &str,
    stored: store::StoredAffected,
) -> Affected {
    Affected {
        package,
        osv_name: name.to_string(),
        ranges: stored.ranges,
        versions: stored.versions,
        symbols: Vec::new(),
    }
}

/// A PostgreSQL array literal of text (`{"a","b"}`).
pub(super) fn pg_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

#[derive(Default)]
struct UnionFind {
    parent: HashMap<String, String>,
}

impl UnionFind {
    fn find(&mut self, x: &str) -> String {
        let mut root = x.to_string();
        loop {
            match self.parent.get(&root) {
                None => {
                    self.parent.insert(root.clone(), root.clone());
                    break;
                }
                Some(p) if *p == root => break,
                Some(p) => root = p.clone(),
            }
        }
        // Path compression keeps later finds short.
        let mut cur = x.to_string();
        while cur != root {
            let next = self
                .parent
                .insert(cur.clone(), root.clone())
                .expect("on the path");
            cur = next;
        }
        root
    }

    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller id becomes the root: deterministic.
            let (keep, fold) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent.insert(fold, keep);
        }
    }

    fn keys(&self) -> Vec<String> {
        self.parent.keys().cloned().collect()
    }
}

/// The outcome of a KEV import.
#[derive(Debug, Serialize, ToSchema)]
pub struct KevReport {
    /// `catalogVersion` of the imported catalog.
    pub catalog_version: Option<String>,
    /// Entries in the catalog (the stored catalog is replaced by it).
    pub entries: u64,
    /// Entries that were not in the previously stored catalog.
    pub added: i64,
}

pub async fn import_kev(pool: &PgPool, json: &[u8]) -> Result<KevReport, ImportError> {
    let catalog = kev::parse(json).map_err(ImportError::Unreadable)?;
    let mut rows = store::KevRows::default();
    for e in &catalog.entries {
        rows.cve_id.push(e.cve_id.clone());
        rows.vendor_project.push(e.vendor_project.clone());
        rows.product.push(e.product.clone());
        rows.name.push(e.name.clone());
        rows.date_added.push(e.date_added);
        rows.due_date.push(e.due_date);
        rows.known_ransomware_use
            .push(e.known_ransomware_campaign_use.clone());
        rows.required_action.push(e.required_action.clone());
        rows.short_description.push(e.short_description.clone());
        rows.notes.push(e.notes.clone());
        rows.cwes.push(pg_array(&e.cwes));
    }
    let mut tx = pool.begin().await?;
    let added = store::replace_kev(&mut tx, &rows).await?;
    store::advisories_changed(&mut tx).await?;
    // KEV membership can change any finding's verdict.
    let keys = store::advised_packages(&mut *tx).await?;
    let stale = store::artifacts_with_packages(&mut *tx, &keys).await?;
    crate::queue::evaluate(&mut tx, &stale, "KEV catalog changed").await?;
    // CRA products' exploited vulnerabilities open their reporting cases.
    crate::cra::service::kev_imported(&mut tx, &rows.cve_id, chrono::Utc::now()).await?;
    tx.commit().await?;
    Ok(KevReport {
        catalog_version: catalog.version,
        entries: catalog.entries.len() as u64,
        added,
    })
}

/// Fills `components.package_key` for rows stored before it existed.
pub async fn backfill_package_keys(pool: &PgPool) -> sqlx::Result<u64> {
    let mut done = 0;
    loop {
        let rows = store::unkeyed_components(pool, 5000).await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let (mut keys, mut source_keys, mut source_versions) = (Vec::new(), Vec::new(), Vec::new());
        for r in &rows {
            let k = (r.purl.as_deref())
                .map(|p| crate::vulnerabilities::core::purl::component_keys(p, None))
                .unwrap_or_default();
            keys.push(k.package);
            source_keys.push(k.source);
            source_versions.push(k.source_version);
        }
        store::set_package_keys(pool, &ids, &keys, &source_keys, &source_versions).await?;
        done += ids.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_transitively() {
        let mut uf = UnionFind::default();
        uf.union("GO-1", "CVE-1");
        uf.union("GHSA-1", "CVE-1");
        uf.union("PYSEC-9", "CVE-9");
        assert_eq!(uf.find("GO-1"), uf.find("GHSA-1"));
        assert_ne!(uf.find("GO-1"), uf.find("PYSEC-9"));
        assert_eq!(uf.keys().len(), 5);
    }

    #[test]
    fn pg_arrays_quote() {
        assert_eq!(pg_array(&["a".into(), "b\"c".into()]), r#"{"a","b\"c"}"#);
        assert_eq!(pg_array(&[]), "{}");
    }

    #[test]
    fn zips_of_records_stream_with_errors_named() {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opt = zip::write::SimpleFileOptions::default();
            w.start_file("GO-1.json", opt).unwrap();
            w.write_all(br#"{"id":"GO-1","affected":[]}"#).unwrap();
            w.start_file("broken.json", opt).unwrap();
            w.write_all(b"{not json").unwrap();
            w.finish().unwrap();
        }
        buf.set_position(0);
        let mut items = Vec::new();
        zip_items(buf, |b| {
            items.extend(b);
            true
        })
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].1.as_ref().unwrap().id, "GO-1");
        assert_eq!(items[1].0.as_deref(), Some("broken.json"));
        assert!(items[1]
            .1
            .as_ref()
            .unwrap_err()
            .reason
            .starts_with("not JSON"));
        assert!(matches!(
            zip_items(std::io::Cursor::new(b"PK no zip".to_vec()), |_| true),
            Err(ImportError::Unreadable(_))
        ));
    }
}
