//! Use cases: importing advisories and the KEV catalog (one transaction
//! each), and matching them against the portfolio's SBOM components.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Seek};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use super::core::kev;
use super::core::matching;
use super::core::osv::{self, Advisory, Affected, RecordError};
use super::core::purl::{Package, Purl};
use super::core::severity::Severity;
pub use super::core::triage::State;
use super::core::triage::{self, Decision, Scope};
use super::core::version::Ecosystem;
use super::store;

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

/// Reads a JSON body (one record or an array) into items.
pub fn json_items(body: &[u8]) -> Result<Vec<Item>, ImportError> {
    let values = osv::records(body).map_err(ImportError::Unreadable)?;
    Ok(values.into_iter().map(|v| (None, osv::parse(v))).collect())
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
            Ok(_) => serde_json::from_slice(&buf)
                .map_err(|e| RecordError {
                    id: None,
                    reason: format!("not JSON: {e}"),
                })
                .and_then(osv::parse),
        };
        batch.push((Some(name), item));
        if batch.len() == BATCH && !sink(std::mem::take(&mut batch)) {
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
    crate::store::policies::enqueue(tx, &stale, "advisories changed").await?;
    Ok(())
}

/// What `advisory_packages.affected` holds: enough to evaluate a version.
/// (Go symbol lists stay in the record: they are large, matching does
/// not read them.)
fn stored_affected(a: &Affected) -> String {
    serde_json::json!({"ranges": a.ranges, "versions": a.versions}).to_string()
}

fn read_affected(package: Package, name: &str, v: &serde_json::Value) -> Option<Affected> {
    Some(Affected {
        package,
        osv_name: name.to_string(),
        ranges: serde_json::from_value(v.get("ranges")?.clone()).ok()?,
        versions: serde_json::from_value(v.get("versions")?.clone()).ok()?,
        symbols: Vec::new(),
    })
}

/// A PostgreSQL array literal of text (`{"a","b"}`).
fn pg_array(items: &[String]) -> String {
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
    }
    let mut tx = pool.begin().await?;
    let added = store::replace_kev(&mut tx, &rows).await?;
    // KEV membership can change any finding's verdict.
    let keys = store::advised_packages(&mut *tx).await?;
    let stale = store::artifacts_with_packages(&mut *tx, &keys).await?;
    crate::store::policies::enqueue(&mut tx, &stale, "KEV catalog changed").await?;
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
        let keys: Vec<String> = rows
            .iter()
            .map(|r| {
                r.purl
                    .as_deref()
                    .and_then(super::core::purl::package_key)
                    .unwrap_or_default()
            })
            .collect();
        store::set_package_keys(pool, &ids, &keys).await?;
        done += ids.len() as u64;
    }
}

/// One vulnerability × component of an artifact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Finding {
    /// One advisory id of the vulnerability, the ecosystem's own database
    /// first (`GO-…`, `PYSEC-…`, `RUSTSEC-…`), else GHSA, else the matched one.
    pub id: String,
    /// The vulnerability's other ids and aliases (CVE, GHSA, …), no repeats.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// The component's purl, as in the SBOM (or the scanner's report);
    /// empty for a scanner's package without one (see `package`).
    pub purl: String,
    /// A scanner-reported package that has no purl: type, name, version.
    pub package: Option<ScannedPackage>,
    /// The component version that was matched.
    pub version: String,
    /// The fix of each matched range interval (empty: no fix known).
    pub fixed_versions: Vec<String>,
    pub severity: Severity,
    /// CVSS base score, when an advisory of the vulnerability has a vector.
    pub cvss_score: Option<f64>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    /// When CISA added it to KEV.
    pub kev_date_added: Option<chrono::NaiveDate>,
    /// Triage state: `in_triage` until someone or some VEX decides.
    pub state: State,
    /// Why it is not affected (CycloneDX/OpenVEX justification), or null.
    pub justification: Option<String>,
    /// The triage decision that sets `state`, when one does.
    pub decision_id: Option<i64>,
    /// Who reported it: `osv` for Cairn's own match.
    pub sources: Vec<String>,
    /// The advisories that matched.
    pub advisories: Vec<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    pub vulnerability_id: i64,
    #[serde(skip)]
    pub package_key: String,
    #[serde(skip)]
    pub artifact: ArtifactRef,
}

/// A package as a scanner names it when it gives no purl.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScannedPackage {
    /// The scanner's package type (`gomod`, `apk`, `java-archive` …).
    #[serde(rename = "type")]
    pub package_type: String,
    pub name: String,
    pub version: String,
}

/// The artifact a finding is about.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ArtifactRef {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
}

/// The artifact's findings, every one (filtering and paging are the caller's).
pub async fn artifact_findings(
    conn: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<Vec<Finding>> {
    let candidates = store::artifact_candidates(&mut *conn, artifact_id).await?;
    let mut out = findings(&mut *conn, candidates).await?;
    let scans = store::latest_scan_findings(&mut *conn, artifact_id).await?;
    if !scans.is_empty() {
        merge_scans(conn, artifact_id, &mut out, scans).await?;
    }
    Ok(out)
}

/// Adds scanner reports' findings: one that names a vulnerability (by id or
/// alias) and a package Cairn matched too only adds its scanner to
/// `sources`; the rest are findings of their own.
async fn merge_scans(
    conn: &mut PgConnection,
    artifact_id: i64,
    out: &mut Vec<Finding>,
    scans: Vec<store::ScanFindingRow>,
) -> sqlx::Result<()> {
    let Some(who) = store::artifact_identity(&mut *conn, artifact_id).await? else {
        return Ok(());
    };
    let project_id = store::artifact_project(&mut *conn, artifact_id)
        .await?
        .unwrap_or_default();
    let groups: Vec<i64> = scans
        .iter()
        .filter_map(|s| s.vulnerability_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let advisories = store::group_advisories(&mut *conn, &groups).await?;
    let ids = store::group_ids(&mut *conn, &groups).await?;
    let decisions: Vec<(i64, String, Decision)> = store::current_decisions(&mut *conn, &groups)
        .await?
        .iter()
        .filter_map(|r| Some((r.vulnerability_id, r.package_key.clone(), decision_of(r)?)))
        .collect();
    let now = chrono::Utc::now();
    // (vulnerability or scanner id, package key or type/name@version) → index in `out`.
    let key_of = |group: Option<i64>, vuln: &str, pkg: Option<&str>, s: &store::ScanFindingRow| {
        (
            group.map_or_else(|| vuln.to_string(), |g| format!("#{g}")),
            pkg.map_or_else(
                || format!("{}/{}@{}", s.package_type, s.name, s.version),
                str::to_string,
            ),
        )
    };
    let mut index: HashMap<(String, String), usize> = out
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                (format!("#{}", f.vulnerability_id), f.package_key.clone()),
                i,
            )
        })
        .collect();
    for s in scans {
        let key = key_of(
            s.vulnerability_id,
            &s.vulnerability,
            s.package_key.as_deref(),
            &s,
        );
        if let Some(&i) = index.get(&key) {
            let f = &mut out[i];
            if !f.sources.contains(&s.scanner) {
                f.sources.push(s.scanner.clone());
            }
            for v in &s.fixed_versions {
                if !f.fixed_versions.contains(v) {
                    f.fixed_versions.push(v.clone());
                }
            }
            continue;
        }
        let purl = s.purl.clone();
        let (described, group) = match s.vulnerability_id {
            Some(g) => {
                let adv: Vec<&store::GroupAdvisory> = advisories
                    .iter()
                    .filter(|a| a.vulnerability_id == g)
                    .collect();
                let gids: Vec<&store::GroupId> =
                    ids.iter().filter(|i| i.vulnerability_id == g).collect();
                let eco = purl
                    .as_deref()
                    .and_then(Purl::parse)
                    .and_then(|p| p.package())
                    .map(|p| p.ecosystem);
                (Some(describe(&adv, &gids, eco, &BTreeSet::new())), g)
            }
            None => (None, 0),
        };
        let decided = s.package_key.as_deref().and_then(|k| {
            let ds = decisions
                .iter()
                .filter(|(g, pk, _)| *g == group && pk == k)
                .map(|(_, _, d)| d);
            triage::decide(
                ds,
                artifact_id,
                project_id,
                purl.as_deref().unwrap_or_default(),
                now,
            )
        });
        let scanner_severity = match s.severity.as_deref() {
            Some("negligible") => Severity::Low,
            Some(x) => Severity::parse(x).unwrap_or(Severity::Unknown),
            None => Severity::Unknown,
        };
        let (id, aliases, summary, severity, cvss_score, kev_date_added, published) =
            match described {
                Some(d) => (
                    d.id,
                    d.aliases,
                    d.summary,
                    if d.severity == Severity::Unknown {
                        scanner_severity
                    } else {
                        d.severity
                    },
                    d.cvss_score,
                    d.kev_date_added,
                    d.published,
                ),
                None => (
                    s.vulnerability.clone(),
                    s.aliases.clone(),
                    None,
                    scanner_severity,
                    None,
                    None,
                    None,
                ),
            };
        index.insert(key, out.len());
        out.push(Finding {
            id,
            aliases,
            summary,
            package: purl.is_none().then(|| ScannedPackage {
                package_type: s.package_type.clone(),
                name: s.name.clone(),
                version: s.version.clone(),
            }),
            purl: purl.unwrap_or_default(),
            version: s.version,
            fixed_versions: s.fixed_versions,
            severity,
            cvss_score,
            kev: kev_date_added.is_some(),
            kev_date_added,
            state: decided.map_or(State::InTriage, |d| d.state),
            justification: decided.and_then(|d| d.justification.clone()),
            decision_id: decided.map(|d| d.id),
            sources: vec![s.scanner],
            advisories: Vec::new(),
            published,
            vulnerability_id: group,
            package_key: s.package_key.unwrap_or_default(),
            artifact: ArtifactRef {
                artifact_id,
                project: who.project.clone(),
                artifact: who.name.clone(),
                version: who.version.clone(),
            },
        });
    }
    Ok(())
}

/// Every finding of one vulnerability across the portfolio.
pub async fn vulnerability_findings(
    conn: &mut PgConnection,
    vulnerability_id: i64,
) -> sqlx::Result<Vec<Finding>> {
    let candidates = store::vulnerability_candidates(&mut *conn, vulnerability_id).await?;
    findings(conn, candidates).await
}

async fn findings(
    conn: &mut PgConnection,
    candidates: Vec<store::Candidate>,
) -> sqlx::Result<Vec<Finding>> {
    // (artifact, vulnerability, component) → what matched.
    let mut matched: BTreeMap<(i64, i64, i64), Hit> = BTreeMap::new();
    // One advisory entry is read once however many artifacts it is
    // evaluated for ("are we affected" walks the whole portfolio).
    let mut read: HashMap<(String, i32), Option<Affected>> = HashMap::new();
    for c in candidates {
        let Some(purl) = Purl::parse(&c.purl) else {
            continue;
        };
        let Some(component) = purl.package() else {
            continue;
        };
        let Some(version) = purl.match_version().or_else(|| c.component_version.clone()) else {
            continue;
        };
        let entry = read
            .entry((c.advisory_id.clone(), c.ordinal))
            .or_insert_with(|| {
                let pkg = Package::from_osv(&advisory_ecosystem(&c), &c.name)?;
                read_affected(pkg, &c.name, &c.affected.0)
            });
        let Some(affected) = entry.as_ref() else {
            continue;
        };
        if !affected.package.covers(&component) {
            continue;
        }
        let verdict = matching::evaluate(affected, &version);
        if !verdict.affected {
            continue;
        }
        let hit = matched
            .entry((c.artifact_id, c.vulnerability_id, c.component_id))
            .or_insert_with(|| Hit {
                project_id: c.project_id,
                package_key: c.package_key,
                artifact: ArtifactRef {
                    artifact_id: c.artifact_id,
                    project: c.project,
                    artifact: c.artifact,
                    version: c.artifact_version,
                },
                ecosystem: component.ecosystem,
                purl: c.purl,
                version,
                advisories: BTreeSet::new(),
                fixed: BTreeSet::new(),
            });
        hit.advisories.insert(c.advisory_id);
        hit.fixed.extend(verdict.fixed);
    }
    let groups: Vec<i64> = matched
        .keys()
        .map(|k| k.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let advisories = store::group_advisories(&mut *conn, &groups).await?;
    let ids = store::group_ids(&mut *conn, &groups).await?;
    let mut by_group: HashMap<i64, Vec<&store::GroupAdvisory>> = HashMap::new();
    for a in &advisories {
        by_group.entry(a.vulnerability_id).or_default().push(a);
    }
    let mut decisions: HashMap<(i64, String), Vec<Decision>> = HashMap::new();
    for row in store::current_decisions(&mut *conn, &groups).await? {
        let key = (row.vulnerability_id, row.package_key.clone());
        if let Some(d) = decision_of(&row) {
            decisions.entry(key).or_default().push(d);
        }
    }
    let now = chrono::Utc::now();
    let mut ids_by_group: HashMap<i64, Vec<&store::GroupId>> = HashMap::new();
    for i in &ids {
        ids_by_group.entry(i.vulnerability_id).or_default().push(i);
    }
    let mut out = Vec::with_capacity(matched.len());
    for ((_, group, _), hit) in matched {
        let group_advisories = by_group.get(&group).map(Vec::as_slice).unwrap_or_default();
        let group_ids = ids_by_group
            .get(&group)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let v = describe(
            group_advisories,
            group_ids,
            Some(hit.ecosystem),
            &hit.advisories,
        );
        let decided = decisions
            .get(&(group, hit.package_key.clone()))
            .and_then(|ds| {
                triage::decide(ds, hit.artifact.artifact_id, hit.project_id, &hit.purl, now)
            });
        out.push(Finding {
            id: v.id,
            aliases: v.aliases,
            summary: v.summary,
            package: None,
            purl: hit.purl,
            version: hit.version,
            fixed_versions: hit.fixed.into_iter().collect(),
            severity: v.severity,
            cvss_score: v.cvss_score,
            kev: v.kev_date_added.is_some(),
            kev_date_added: v.kev_date_added,
            state: decided.map_or(State::InTriage, |d| d.state),
            justification: decided.and_then(|d| d.justification.clone()),
            decision_id: decided.map(|d| d.id),
            sources: vec!["osv".into()],
            advisories: hit.advisories.into_iter().collect(),
            published: v.published,
            vulnerability_id: group,
            package_key: hit.package_key,
            artifact: hit.artifact,
        });
    }
    Ok(out)
}

impl Finding {
    /// The finding as policy rules read it.
    pub fn facts(self) -> crate::policy::input::VulnerabilityFacts {
        crate::policy::input::VulnerabilityFacts {
            id: self.id,
            aliases: self.aliases,
            purl: self.purl,
            version: self.version,
            severity: self.severity.as_str().into(),
            cvss_score: self.cvss_score,
            kev: self.kev,
            fixed_versions: self.fixed_versions,
            state: self.state.as_str().into(),
            justification: self.justification,
            published: self.published,
        }
    }
}

struct Hit {
    artifact: ArtifactRef,
    project_id: i64,
    package_key: String,
    ecosystem: Ecosystem,
    purl: String,
    version: String,
    advisories: BTreeSet<String>,
    fixed: BTreeSet<String>,
}

/// The OSV ecosystem string again (`Debian:12`) from the stored parts.
fn advisory_ecosystem(c: &store::Candidate) -> String {
    match &c.release {
        Some(r) => format!("{}:{r}", c.ecosystem),
        None => c.ecosystem.clone(),
    }
}

/// What names and scores a vulnerability.
pub struct Described {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub kev_date_added: Option<chrono::NaiveDate>,
    pub kev_due_date: Option<chrono::NaiveDate>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn describe(
    advisories: &[&store::GroupAdvisory],
    ids: &[&store::GroupId],
    ecosystem: Option<Ecosystem>,
    matched: &BTreeSet<String>,
) -> Described {
    let pick = |prefix: &str| {
        advisories
            .iter()
            .map(|a| a.id.as_str())
            .find(|id| id.starts_with(prefix))
    };
    // Without a component to name the ecosystem, any ecosystem's own
    // database still beats GHSA.
    let own = match ecosystem {
        Some(e) => pick(own_database_prefix(e)),
        None => ["GO-", "PYSEC-", "RUSTSEC-"].into_iter().find_map(pick),
    };
    let id = own
        .or_else(|| pick("GHSA-"))
        .or_else(|| matched.iter().next().map(String::as_str))
        .or_else(|| advisories.first().map(|a| a.id.as_str()))
        .unwrap_or_default()
        .to_string();
    let aliases = ids
        .iter()
        .map(|i| i.id.clone())
        .filter(|i| *i != id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The best-founded severity of any advisory: a CVSS score over a rating.
    let scored = advisories
        .iter()
        .filter(|a| a.cvss_score.is_some())
        .max_by(|a, b| {
            a.cvss_score
                .partial_cmp(&b.cvss_score)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let (severity, cvss_score) = match scored {
        Some(a) => (
            Severity::parse(&a.severity).unwrap_or(Severity::Unknown),
            a.cvss_score,
        ),
        None => (
            advisories
                .iter()
                .filter_map(|a| Severity::parse(&a.severity))
                .max()
                .unwrap_or(Severity::Unknown),
            None,
        ),
    };
    let kev = ids.iter().find(|i| i.kev_date_added.is_some());
    let summary = advisories
        .iter()
        .find(|a| a.id == id && a.summary.is_some())
        .or_else(|| advisories.iter().find(|a| a.summary.is_some()))
        .and_then(|a| a.summary.clone());
    Described {
        id,
        aliases,
        summary,
        severity,
        cvss_score,
        kev_date_added: kev.and_then(|k| k.kev_date_added),
        kev_due_date: kev.and_then(|k| k.kev_due_date),
        published: advisories
            .iter()
            .filter_map(|a| a.published)
            .filter(|p| p.timestamp() > -62_000_000_000)
            .min(),
    }
}

fn decision_of(row: &store::DecisionRow) -> Option<Decision> {
    Some(Decision {
        id: row.id,
        scope: Scope::parse(&row.scope)?,
        artifact_id: row.artifact_id,
        project_id: row.project_id,
        purl: row.purl.clone(),
        state: State::parse(&row.state)?,
        justification: row.justification.clone(),
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

/// What a triage decision is about and says.
pub struct TriageRequest<'a> {
    /// Any id or alias of the vulnerability.
    pub vulnerability: &'a str,
    /// The component's purl.
    pub purl: &'a str,
    /// Whether the decision is about this version only (else every version).
    pub this_version_only: bool,
    pub scope: Scope,
    pub artifact_id: Option<i64>,
    pub project: Option<&'a str>,
    pub state: State,
    pub justification: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub source: &'a str,
    pub author: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records a decision (superseding the current one for the same target).
pub async fn triage(
    tx: &mut sqlx::PgConnection,
    r: &TriageRequest<'_>,
) -> Result<store::DecisionRow, TriageError> {
    triage::check(r.state, r.justification).map_err(TriageError::Invalid)?;
    if r.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
        return Err(TriageError::Invalid("expires_at is in the past".into()));
    }
    let group = vulnerability_group(&mut *tx, r.vulnerability)
        .await?
        .ok_or_else(|| {
            TriageError::NotFound(format!("no imported advisory knows {:?}", r.vulnerability))
        })?;
    let purl = Purl::parse(r.purl)
        .ok_or_else(|| TriageError::Invalid(format!("{:?} is not a purl", r.purl)))?;
    let package = purl.package().ok_or_else(|| {
        TriageError::Invalid(format!(
            "no advisory can name {:?}: its type is not one Cairn matches",
            r.purl
        ))
    })?;
    let (artifact_id, project_id) = match r.scope {
        Scope::Portfolio => {
            if r.artifact_id.is_some() || r.project.is_some() {
                return Err(TriageError::Invalid(
                    "a portfolio decision names no artifact_id and no project".into(),
                ));
            }
            (None, None)
        }
        Scope::Project => {
            let name = r
                .project
                .ok_or_else(|| TriageError::Invalid("a project decision needs `project`".into()))?;
            let id = crate::store::policies::project_id(&mut *tx, name)
                .await?
                .ok_or_else(|| TriageError::NotFound(format!("there is no project {name:?}")))?;
            (None, Some(id))
        }
        Scope::Artifact => {
            let id = r.artifact_id.ok_or_else(|| {
                TriageError::Invalid("an artifact decision needs `artifact_id`".into())
            })?;
            if store::artifact_project(&mut *tx, id).await?.is_none() {
                return Err(TriageError::NotFound(format!("there is no artifact {id}")));
            }
            (Some(id), None)
        }
    };
    if r.this_version_only && purl.version.is_none() {
        return Err(TriageError::Invalid(
            "this_version_only needs a purl with a version".into(),
        ));
    }
    let key = package.key();
    let stale = store::artifacts_with_packages(&mut *tx, std::slice::from_ref(&key)).await?;
    crate::store::policies::enqueue(tx, &stale, "triage decision").await?;
    Ok(store::insert_decision(
        tx,
        &store::NewDecision {
            vulnerability_id: group,
            package_key: &key,
            purl: r.this_version_only.then_some(r.purl),
            scope: r.scope.as_str(),
            artifact_id,
            project_id,
            state: r.state.as_str(),
            justification: r.justification,
            comment: r.comment,
            source: r.source,
            author: r.author,
            expires_at: r.expires_at,
        },
    )
    .await?)
}

/// The vulnerability an id or alias names (exactly, then upper-cased).
pub async fn vulnerability_group(
    db: &mut sqlx::PgConnection,
    id: &str,
) -> sqlx::Result<Option<i64>> {
    let id = id.trim();
    if let Some(g) = store::vulnerability_of(&mut *db, id).await? {
        return Ok(Some(g));
    }
    store::vulnerability_of(&mut *db, &id.to_ascii_uppercase()).await
}

/// A vulnerability with every finding of it across the portfolio.
pub struct VulnerabilityView {
    pub described: Described,
    pub advisories: Vec<String>,
    pub findings: Vec<Finding>,
}

pub async fn vulnerability(pool: &PgPool, group: i64) -> sqlx::Result<VulnerabilityView> {
    let (described, advisories) = describe_group(pool, group).await?;
    let mut conn = pool.acquire().await?;
    let mut findings = vulnerability_findings(&mut conn, group).await?;
    findings.sort_by(|a, b| {
        (
            &a.artifact.project,
            &a.artifact.artifact,
            &a.artifact.version,
            &a.purl,
        )
            .cmp(&(
                &b.artifact.project,
                &b.artifact.artifact,
                &b.artifact.version,
                &b.purl,
            ))
    });
    Ok(VulnerabilityView {
        described,
        advisories,
        findings,
    })
}

/// How a vulnerability is named and scored, and its advisories' ids.
pub async fn describe_group(pool: &PgPool, group: i64) -> sqlx::Result<(Described, Vec<String>)> {
    let advisories = store::group_advisories(pool, &[group]).await?;
    let ids = store::group_ids(pool, &[group]).await?;
    let refs: Vec<&store::GroupAdvisory> = advisories.iter().collect();
    let id_refs: Vec<&store::GroupId> = ids.iter().collect();
    let described = describe(&refs, &id_refs, None, &BTreeSet::new());
    Ok((described, advisories.into_iter().map(|a| a.id).collect()))
}

/// The prefix of each ecosystem's own advisory database.
fn own_database_prefix(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Go => "GO-",
        Ecosystem::PyPI => "PYSEC-",
        Ecosystem::CratesIo => "RUSTSEC-",
        Ecosystem::Debian => "DSA-",
        Ecosystem::Ubuntu => "USN-",
        Ecosystem::Alpine => "ALPINE-",
        _ => "GHSA-",
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

/// The outcome of a VEX import.
#[derive(Debug, Serialize, ToSchema)]
pub struct VexReport {
    /// `openvex`, `cyclonedx` or `csaf`.
    pub format: String,
    /// Statements read from the document.
    pub statements: usize,
    /// Triage decisions recorded from them.
    pub applied: usize,
    /// Statements that matched nothing Cairn knows.
    pub unmatched: usize,
    /// Each unmatched statement: where it is, what it names, why.
    pub unmatched_statements: Vec<UnmatchedStatement>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedStatement {
    /// JSON pointer to the statement in the document.
    pub pointer: String,
    pub vulnerability: String,
    pub reason: String,
}

/// Applies a VEX document's statements as triage decisions (one
/// transaction). A product is an artifact by digest, or by the purl its
/// SBOM describes; a purl naming no artifact is the package itself
/// (a portfolio decision). Subcomponents name the packages within.
pub async fn import_vex(
    tx: &mut PgConnection,
    doc: &super::core::vex::VexDocument,
    author: &str,
) -> sqlx::Result<VexReport> {
    use super::core::vex::{ProductRef, VexFormat, VexStatus};
    let source = match doc.format {
        VexFormat::OpenVex => "openvex",
        VexFormat::CycloneDx => "cyclonedx",
        VexFormat::Csaf => "csaf",
    };
    let mut report = VexReport {
        format: source.into(),
        statements: doc.statements.len(),
        applied: 0,
        unmatched: 0,
        unmatched_statements: Vec::new(),
    };
    for st in &doc.statements {
        let mut unmatched = |reason: String| {
            report.unmatched_statements.push(UnmatchedStatement {
                pointer: st.pointer.clone(),
                vulnerability: st.vulnerability.clone(),
                reason,
            });
        };
        let mut group = None;
        for id in std::iter::once(&st.vulnerability).chain(&st.aliases) {
            if let Some(g) = vulnerability_group(&mut *tx, id).await? {
                group = Some(g);
                break;
            }
        }
        let Some(group) = group else {
            unmatched(format!(
                "no imported advisory knows {} or its aliases",
                st.vulnerability
            ));
            continue;
        };
        let state = match st.status {
            VexStatus::NotAffected => State::NotAffected,
            VexStatus::Affected => State::Affected,
            VexStatus::Fixed => State::Fixed,
            VexStatus::UnderInvestigation => State::UnderInvestigation,
        };
        let justification = st
            .justification
            .as_deref()
            .filter(|j| state == State::NotAffected && triage::is_justification(j));
        let comment = st.detail.as_deref().or(st.action.as_deref());
        // (artifact, package key, purl) targets; artifact None = portfolio.
        let mut targets: Vec<(Option<i64>, String, Option<String>)> = Vec::new();
        for product in &st.products {
            let artifacts = match product {
                ProductRef::Digest(d) => {
                    crate::store::attestations::artifacts_with_digest(&mut *tx, d).await?
                }
                ProductRef::Purl(p) => store::artifacts_with_root_purl(&mut *tx, p).await?,
            };
            if artifacts.is_empty() {
                if let ProductRef::Purl(p) = product {
                    if let Some(pkg) = Purl::parse(p).and_then(|x| x.package()) {
                        let key = pkg.key();
                        if !store::artifacts_with_packages(&mut *tx, std::slice::from_ref(&key))
                            .await?
                            .is_empty()
                        {
                            let versioned = Purl::parse(p).is_some_and(|x| x.version.is_some());
                            targets.push((None, key, versioned.then(|| p.clone())));
                        }
                    }
                }
                continue;
            }
            for a in artifacts {
                if st.subcomponents.is_empty() {
                    // About the whole product: every component it is affected through.
                    for f in artifact_findings(&mut *tx, a).await? {
                        if f.vulnerability_id == group {
                            targets.push((Some(a), f.package_key.clone(), None));
                        }
                    }
                } else {
                    for sub in &st.subcomponents {
                        let Some(purl) = Purl::parse(sub) else {
                            continue;
                        };
                        let Some(pkg) = purl.package() else { continue };
                        targets.push((
                            Some(a),
                            pkg.key(),
                            purl.version.is_some().then(|| sub.clone()),
                        ));
                    }
                }
            }
        }
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            unmatched("no artifact or component of the portfolio matches its products".into());
            continue;
        }
        for (artifact, key, purl) in &targets {
            let stale = match artifact {
                Some(a) => vec![*a],
                None => store::artifacts_with_packages(&mut *tx, std::slice::from_ref(key)).await?,
            };
            crate::store::policies::enqueue(&mut *tx, &stale, "VEX imported").await?;
            store::insert_decision(
                &mut *tx,
                &store::NewDecision {
                    vulnerability_id: group,
                    package_key: key,
                    purl: purl.as_deref(),
                    scope: if artifact.is_some() {
                        "artifact"
                    } else {
                        "portfolio"
                    },
                    artifact_id: *artifact,
                    project_id: None,
                    state: state.as_str(),
                    justification,
                    comment,
                    source,
                    author,
                    expires_at: None,
                },
            )
            .await?;
            report.applied += 1;
        }
    }
    report.unmatched = report.unmatched_statements.len();
    Ok(report)
}

/// The artifact's findings as a VEX document of `format`.
pub async fn export_vex(
    conn: &mut PgConnection,
    artifact_id: i64,
    format: super::core::vex::VexFormat,
) -> sqlx::Result<Option<serde_json::Value>> {
    use super::core::vex::{self, ExportDocument, ExportStatement, VexFormat, VexStatus};
    let Some(a) = store::artifact_identity(&mut *conn, artifact_id).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    let mut statements: Vec<ExportStatement> = artifact_findings(&mut *conn, artifact_id)
        .await?
        .into_iter()
        // VEX names packages by purl: a scanner's package without one is left out.
        .filter(|f| !f.purl.is_empty())
        .map(|f| {
            let (status, justification, detail) = match f.state {
                State::NotAffected => (VexStatus::NotAffected, f.justification, None),
                // The match was wrong: the vulnerable code is not there.
                State::FalsePositive => (
                    VexStatus::NotAffected,
                    Some("vulnerable_code_not_present".to_string()),
                    Some("triaged as a false positive".to_string()),
                ),
                State::Affected => (VexStatus::Affected, None, None),
                State::Fixed => (VexStatus::Fixed, None, None),
                State::InTriage | State::UnderInvestigation => {
                    (VexStatus::UnderInvestigation, None, None)
                }
            };
            ExportStatement {
                vulnerability: f.id,
                aliases: f.aliases,
                purl: f.purl,
                status,
                justification,
                detail,
                timestamp: now,
            }
        })
        .collect();
    statements.sort_by(|x, y| (&x.vulnerability, &x.purl).cmp(&(&y.vulnerability, &y.purl)));
    let doc = ExportDocument {
        id: format!(
            "https://cairn.invalid/vex/artifacts/{artifact_id}/{}",
            now.timestamp()
        ),
        author: "Cairn".into(),
        product_name: format!("{}/{}", a.project, a.name),
        product_version: a.version,
        product_digest: a.digest,
        product_purl: None,
        timestamp: now,
        statements,
    };
    Ok(Some(match format {
        VexFormat::OpenVex => vex::to_openvex(&doc),
        VexFormat::CycloneDx => vex::to_cyclonedx(&doc),
        VexFormat::Csaf => vex::to_csaf(&doc),
    }))
}

/// What a scanner report upload stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanIngested {
    pub artifact_id: i64,
    /// The stored report; null when this artifact already had it.
    pub report_id: Option<i64>,
    /// `grype` or `trivy`.
    pub scanner: String,
    pub scanner_version: Option<String>,
    /// What the scanner scanned, as it says.
    pub target: Option<String>,
    /// The digest the report says it scanned, when it says.
    pub target_digest: Option<String>,
    /// Findings in the report.
    pub findings: usize,
    /// Of them, with a purl (the rest are kept by type, name and version).
    pub with_purl: usize,
    /// Of them, naming a vulnerability an imported advisory knows.
    pub known: usize,
    /// False when this artifact already had this exact report.
    pub created: bool,
}

/// Stores a Grype or Trivy report as the artifact's findings of that
/// scanner (one transaction; the artifact is created like an SBOM upload's).
pub async fn ingest_scan(
    pool: &PgPool,
    target: &crate::ingest::ArtifactTarget,
    document: &[u8],
    uploaded_by: i64,
) -> crate::error::ApiResult<ScanIngested> {
    use super::core::scan::{self, Scanner};
    use crate::error::ApiError;
    let report = tokio::task::block_in_place(|| scan::parse(document)).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-scan-report",
            "Not a Grype or Trivy JSON report",
            e,
        )
    })?;
    if let (Some(given), Some(scanned)) = (&target.digest, &report.target_digest) {
        if given.as_str() != scanned {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-scan-report",
                "Not a Grype or Trivy JSON report",
                format!(
                    "the report scanned {scanned}, not the digest given ({})",
                    given.as_str()
                ),
            ));
        }
    }
    let scanner = match report.scanner {
        Scanner::Grype => "grype",
        Scanner::Trivy => "trivy",
    };
    let sha = Sha256::digest(document).to_vec();
    let mut tx = pool.begin().await?;
    let artifact_id = target
        .artifact_id(&mut tx, target.digest.as_ref().map(|d| d.as_str()))
        .await?;
    let mut rows = store::ScanFindingRows::default();
    for (i, f) in report.findings.iter().enumerate() {
        rows.ordinal.push(i as i32);
        rows.vulnerability.push(f.vulnerability.clone());
        rows.aliases.push(pg_array(&f.aliases));
        rows.purl.push(f.purl.clone());
        rows.package_key
            .push(f.purl.as_deref().and_then(super::core::purl::package_key));
        rows.package_type.push(f.package_type.clone());
        rows.name.push(f.name.clone());
        rows.version.push(f.version.clone());
        rows.fixed_versions.push(pg_array(&f.fixed_versions));
        rows.severity.push(f.severity.clone());
        rows.cvss_vector.push(f.cvss_vector.clone());
    }
    let report_id = store::insert_scan_report(
        &mut tx,
        &store::NewScanReport {
            artifact_id,
            scanner,
            scanner_version: report.scanner_version.as_deref(),
            target: report.target.as_deref(),
            target_digest: report.target_digest.as_deref(),
            content_sha256: &sha,
            finding_count: report.findings.len() as i32,
            uploaded_by,
        },
    )
    .await?;
    if let Some(id) = report_id {
        store::insert_scan_findings(&mut tx, id, &rows).await?;
        crate::store::policies::enqueue(&mut tx, &[artifact_id], "scan report").await?;
    }
    let named: Vec<String> = report
        .findings
        .iter()
        .flat_map(|f| std::iter::once(&f.vulnerability).chain(&f.aliases).cloned())
        .collect();
    let known_ids: std::collections::HashSet<String> = store::groups_of(&mut tx, &named)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    let known = report
        .findings
        .iter()
        .filter(|f| {
            std::iter::once(&f.vulnerability)
                .chain(&f.aliases)
                .any(|i| known_ids.contains(i))
        })
        .count();
    tx.commit().await?;
    Ok(ScanIngested {
        artifact_id,
        report_id,
        scanner: scanner.into(),
        scanner_version: report.scanner_version,
        target: report.target,
        target_digest: report.target_digest,
        findings: report.findings.len(),
        with_purl: report.findings.iter().filter(|f| f.purl.is_some()).count(),
        known,
        created: report_id.is_some(),
    })
}
