//! The only SQL of the vulnerabilities capability.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

mod decisions;
pub mod findings;
mod scans;

pub use decisions::{
    current_decisions, decision_history, insert_decision, DecisionRow, NewDecision,
};
pub use scans::{
    insert_scan_findings, insert_scan_report, latest_scan_findings, NewScanReport, ScanFindingRow,
    ScanFindingRows,
};

/// Imports run one at a time: alias groups are merged from what the
/// previous import left.
pub async fn lock_imports(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(7263801542)")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Marks the advisories as changed (in the writing transaction): the
/// in-memory advisory index reloads what it holds.
pub async fn advisories_changed(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("UPDATE advisory_generation SET generation = nextval('advisory_generation_seq')")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The database's id and the value [`advisories_changed`] last set, as
/// this connection sees them.
pub async fn advisory_generation(db: impl PgExecutor<'_>) -> sqlx::Result<(String, i64)> {
    sqlx::query_as("SELECT database_id::text, generation FROM advisory_generation")
        .fetch_one(db)
        .await
}

#[derive(sqlx::FromRow)]
pub struct StoredHash {
    pub id: String,
    pub content_sha256: Vec<u8>,
}

pub async fn stored_hashes(tx: &mut PgConnection, ids: &[String]) -> sqlx::Result<Vec<StoredHash>> {
    sqlx::query_as("SELECT id, content_sha256 FROM advisories WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
}

#[derive(sqlx::FromRow)]
pub struct IdGroup {
    pub id: String,
    pub vulnerability_id: i64,
}

pub async fn groups_of(tx: &mut PgConnection, ids: &[String]) -> sqlx::Result<Vec<IdGroup>> {
    sqlx::query_as("SELECT id, vulnerability_id FROM vulnerability_ids WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
}

/// `n` new vulnerability ids.
pub async fn new_vulnerabilities(tx: &mut PgConnection, n: usize) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "INSERT INTO vulnerabilities (id) OVERRIDING SYSTEM VALUE
         SELECT nextval(pg_get_serial_sequence('vulnerabilities', 'id'))
           FROM generate_series(1, $1) RETURNING id",
    )
    .bind(n as i64)
    .fetch_all(&mut *tx)
    .await
}

/// Folds the groups `from` into `into` (an import found they share an alias).
pub async fn merge_groups(tx: &mut PgConnection, into: i64, from: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE vulnerability_ids SET vulnerability_id = $1 WHERE vulnerability_id = ANY($2)",
    )
    .bind(into)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE advisories SET vulnerability_id = $1 WHERE vulnerability_id = ANY($2)")
        .bind(into)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    // What refers to the groups follows them. Findings are keyed by
    // (artifact, vulnerability, package): where the merged groups each
    // had one for the same package, one row stays, seen from the earliest
    // first sighting to the latest, open if any was.
    sqlx::query(
        "WITH g AS (
            SELECT artifact_id, purl, package, min(first_seen) AS first_seen,
                   max(last_seen) AS last_seen, bool_or(resolved_at IS NULL) AS open,
                   (array_agg(vulnerability_id ORDER BY vulnerability_id = $1 DESC,
                                                        vulnerability_id))[1] AS keep
              FROM findings WHERE vulnerability_id = $1 OR vulnerability_id = ANY($2)
             GROUP BY artifact_id, purl, package HAVING count(*) > 1)
         UPDATE findings f SET first_seen = g.first_seen, last_seen = g.last_seen,
                resolved_at = CASE WHEN g.open THEN NULL ELSE f.resolved_at END
           FROM g WHERE f.artifact_id = g.artifact_id AND f.purl = g.purl
            AND f.package = g.package AND f.vulnerability_id = g.keep",
    )
    .bind(into)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH g AS (
            SELECT artifact_id, purl, package,
                   (array_agg(vulnerability_id ORDER BY vulnerability_id = $1 DESC,
                                                        vulnerability_id))[1] AS keep
              FROM findings WHERE vulnerability_id = $1 OR vulnerability_id = ANY($2)
             GROUP BY artifact_id, purl, package HAVING count(*) > 1)
         DELETE FROM findings f USING g
          WHERE f.artifact_id = g.artifact_id AND f.purl = g.purl AND f.package = g.package
            AND (f.vulnerability_id = $1 OR f.vulnerability_id = ANY($2))
            AND f.vulnerability_id <> g.keep",
    )
    .bind(into)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    for table in ["findings", "finding_history", "triage_decisions"] {
        sqlx::query(&format!(
            "UPDATE {table} SET vulnerability_id = $1 WHERE vulnerability_id = ANY($2)"
        ))
        .bind(into)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    }
    crate::cra::store::follow_merge(&mut *tx, into, from).await?;
    sqlx::query("DELETE FROM vulnerabilities WHERE id = ANY($1)")
        .bind(from)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn insert_ids(tx: &mut PgConnection, ids: &[String], groups: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO vulnerability_ids (id, vulnerability_id)
         SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (id) DO NOTHING",
    )
    .bind(ids)
    .bind(groups)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Column arrays of advisories to write (bound with `unnest`).
#[derive(Default)]
pub struct AdvisoryRows {
    pub id: Vec<String>,
    /// `osv` or `csaf`.
    pub source: Vec<&'static str>,
    pub vulnerability_id: Vec<i64>,
    /// Each record's aliases, as a PostgreSQL array literal.
    pub aliases: Vec<String>,
    pub summary: Vec<Option<String>>,
    pub details: Vec<Option<String>>,
    pub published: Vec<Option<DateTime<Utc>>>,
    pub modified: Vec<Option<DateTime<Utc>>>,
    pub withdrawn: Vec<Option<DateTime<Utc>>>,
    pub severity: Vec<&'static str>,
    pub cvss_score: Vec<Option<f64>>,
    pub cvss_vector: Vec<Option<String>>,
    pub notes: Vec<String>,
    pub content_sha256: Vec<Vec<u8>>,
    pub record: Vec<String>,
}

pub async fn upsert_advisories(tx: &mut PgConnection, r: &AdvisoryRows) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO advisories (id, vulnerability_id, source, aliases, summary, details, published,
                                 modified, withdrawn, severity, cvss_score, cvss_vector, notes,
                                 content_sha256, record)
         SELECT t.id, t.vid, t.source, t.aliases::text[], t.summary, t.details, t.published, t.modified,
                t.withdrawn, t.severity, t.score, t.vector, t.notes::text[], t.sha, t.record::jsonb
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                       $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[],
                       $10::float8[], $11::text[], $12::text[], $13::bytea[], $14::text[],
                       $15::text[])
             AS t(id, vid, aliases, summary, details, published, modified, withdrawn, severity,
                  score, vector, notes, sha, record, source)
         ON CONFLICT (id) DO UPDATE SET
             vulnerability_id = EXCLUDED.vulnerability_id, source = EXCLUDED.source,
             aliases = EXCLUDED.aliases,
             summary = EXCLUDED.summary, details = EXCLUDED.details,
             published = EXCLUDED.published, modified = EXCLUDED.modified,
             withdrawn = EXCLUDED.withdrawn, severity = EXCLUDED.severity,
             cvss_score = EXCLUDED.cvss_score, cvss_vector = EXCLUDED.cvss_vector,
             notes = EXCLUDED.notes, content_sha256 = EXCLUDED.content_sha256,
             record = EXCLUDED.record, updated_at = now()",
    )
    .bind(&r.id)
    .bind(&r.vulnerability_id)
    .bind(&r.aliases)
    .bind(&r.summary)
    .bind(&r.details)
    .bind(&r.published)
    .bind(&r.modified)
    .bind(&r.withdrawn)
    .bind(&r.severity)
    .bind(&r.cvss_score)
    .bind(&r.cvss_vector)
    .bind(&r.notes)
    .bind(&r.content_sha256)
    .bind(&r.record)
    .bind(&r.source)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Default)]
pub struct PackageRows {
    pub advisory_id: Vec<String>,
    pub ordinal: Vec<i32>,
    pub package_key: Vec<String>,
    pub ecosystem: Vec<String>,
    pub name: Vec<String>,
    pub release: Vec<Option<String>>,
    pub affected: Vec<String>,
}

/// The packages the advisories `ids` name now (before a replace).
pub async fn package_keys_of(tx: &mut PgConnection, ids: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT package_key FROM advisory_packages WHERE advisory_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
}

/// Replaces the affected packages of the advisories `ids`.
pub async fn replace_packages(
    tx: &mut PgConnection,
    ids: &[String],
    r: &PackageRows,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM advisory_packages WHERE advisory_id = ANY($1)")
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO advisory_packages (advisory_id, ordinal, package_key, ecosystem, name, release, affected)
         SELECT t.a, t.o, t.k, t.e, t.n, t.r, t.j::jsonb
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS t(a, o, k, e, n, r, j)",
    )
    .bind(&r.advisory_id)
    .bind(&r.ordinal)
    .bind(&r.package_key)
    .bind(&r.ecosystem)
    .bind(&r.name)
    .bind(&r.release)
    .bind(&r.affected)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn advisory_count(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM advisories")
        .fetch_one(db)
        .await
}

/// Replaces the KEV catalog; answers how many entries were new.
pub async fn replace_kev(tx: &mut PgConnection, e: &KevRows) -> sqlx::Result<i64> {
    let before: Vec<String> = sqlx::query_scalar("SELECT cve_id FROM kev_entries")
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM kev_entries")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO kev_entries (cve_id, vendor_project, product, name, date_added, due_date,
                                  known_ransomware_use, required_action, short_description, notes,
                                  cwes)
         SELECT c, vp, p, n, da, dd, kr, ra, sd, nt, cw::text[]
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[],
                       $6::date[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             AS t(c, vp, p, n, da, dd, kr, ra, sd, nt, cw)
         ON CONFLICT (cve_id) DO NOTHING",
    )
    .bind(&e.cve_id)
    .bind(&e.vendor_project)
    .bind(&e.product)
    .bind(&e.name)
    .bind(&e.date_added)
    .bind(&e.due_date)
    .bind(&e.known_ransomware_use)
    .bind(&e.required_action)
    .bind(&e.short_description)
    .bind(&e.notes)
    .bind(&e.cwes)
    .execute(&mut *tx)
    .await?;
    let before: std::collections::HashSet<String> = before.into_iter().collect();
    Ok(e.cve_id.iter().filter(|c| !before.contains(*c)).count() as i64)
}

#[derive(Default)]
pub struct KevRows {
    pub cve_id: Vec<String>,
    pub vendor_project: Vec<String>,
    pub product: Vec<String>,
    pub name: Vec<String>,
    pub date_added: Vec<NaiveDate>,
    pub due_date: Vec<Option<NaiveDate>>,
    pub known_ransomware_use: Vec<Option<String>>,
    pub required_action: Vec<Option<String>>,
    pub short_description: Vec<Option<String>>,
    pub notes: Vec<Option<String>>,
    /// Each entry's CWEs, as a PostgreSQL array literal.
    pub cwes: Vec<String>,
}

/// Components stored before package keys existed (NULL), a batch at a time.
#[derive(sqlx::FromRow)]
pub struct UnkeyedComponent {
    pub id: i64,
    pub purl: Option<String>,
}

pub async fn unkeyed_components(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<UnkeyedComponent>> {
    sqlx::query_as("SELECT id, purl FROM components WHERE package_key IS NULL ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await
}

pub async fn set_package_keys(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    keys: &[String],
    source_keys: &[String],
    source_versions: &[Option<String>],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE components c SET package_key = t.k, source_key = t.sk, source_version = t.sv
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS t(id, k, sk, sv)
          WHERE c.id = t.id",
    )
    .bind(ids)
    .bind(keys)
    .bind(source_keys)
    .bind(source_versions)
    .execute(db)
    .await?;
    Ok(())
}

/// What matching reads for a set of artifacts: the components of their
/// latest SBOMs that advisories could name, the advisory entries of those
/// packages, and which artifact holds which component. Each row is read
/// once and the service pairs them by index: a 100,000-component SBOM
/// pairs each component with every entry of its package, and a fleet
/// shares one component across 10,000 artifacts, so one joined row per
/// pair would copy each entry (and each artifact's names) thousands of times.
#[derive(Default)]
pub struct Candidates {
    pub artifacts: Vec<CandidateArtifact>,
    pub components: Vec<KeyedComponent>,
    pub entries: Vec<AdvisoryEntry>,
    /// (index into `artifacts`, index into `components`).
    pub holdings: Vec<(usize, usize)>,
}

#[derive(sqlx::FromRow)]
pub struct CandidateArtifact {
    pub artifact_id: i64,
    pub project_id: i64,
    pub project: String,
    pub artifact: String,
    pub artifact_version: String,
}

/// A component that advisories could name (a package or source key).
#[derive(sqlx::FromRow)]
pub struct KeyedComponent {
    pub component_id: i64,
    pub package_key: String,
    /// The component's source package key ('' without one) and version.
    pub source_key: String,
    pub source_version: Option<String>,
    pub purl: String,
    pub component_version: Option<String>,
}

/// An advisory's `affected[]` entry (advisory not withdrawn) for one key.
#[derive(sqlx::FromRow)]
pub struct AdvisoryEntry {
    pub package_key: String,
    pub advisory_id: String,
    pub ordinal: i32,
    pub vulnerability_id: i64,
    pub ecosystem: String,
    pub name: String,
    pub release: Option<String>,
    /// Read straight into its shape.
    pub affected: Json<StoredAffected>,
}

/// `advisory_packages.affected`: what evaluating a version needs.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct StoredAffected {
    pub ranges: Vec<crate::vulnerabilities::core::osv::Range>,
    pub versions: Vec<String>,
}

const ENTRY_COLUMNS: &str = "ap.package_key, ap.advisory_id, ap.ordinal, adv.vulnerability_id,
    ap.ecosystem, ap.name, ap.release, ap.affected";

const ARTIFACT_COLUMNS: &str = "a.id AS artifact_id, p.id AS project_id, p.name AS project,
    a.name AS artifact, a.version AS artifact_version";

/// The artifact and the keyed components of its latest SBOM; `None` if
/// there is no such artifact.
pub async fn artifact_components(
    db: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<Option<(CandidateArtifact, Vec<KeyedComponent>)>> {
    let Some(artifact): Option<CandidateArtifact> = sqlx::query_as(&format!(
        "SELECT {ARTIFACT_COLUMNS} FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE a.id = $1"
    ))
    .bind(artifact_id)
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(None);
    };
    let components: Vec<KeyedComponent> = sqlx::query_as(
        "SELECT DISTINCT c.id AS component_id, c.package_key, c.source_key, c.source_version,
                c.purl, c.version AS component_version
           FROM sbom_components sc JOIN components c ON c.id = sc.component_id
          WHERE sc.sbom_id = (SELECT s.id FROM sboms s WHERE s.artifact_id = $1
                               ORDER BY s.id DESC LIMIT 1)
            AND (c.package_key <> '' OR c.source_key <> '') AND c.purl IS NOT NULL",
    )
    .bind(artifact_id)
    .fetch_all(&mut *db)
    .await?;
    Ok(Some((artifact, components)))
}

/// Every advisory entry (advisory not withdrawn) naming one of the keys.
pub async fn entries_for_keys(
    db: impl PgExecutor<'_>,
    keys: &[&str],
) -> sqlx::Result<Vec<AdvisoryEntry>> {
    sqlx::query_as(&format!(
        "SELECT {ENTRY_COLUMNS}
           FROM advisory_packages ap
           JOIN advisories adv ON adv.id = ap.advisory_id AND adv.withdrawn IS NULL
          WHERE ap.package_key = ANY($1)"
    ))
    .bind(keys)
    .fetch_all(db)
    .await
}

/// Every artifact whose latest SBOM holds a package (or source package)
/// the vulnerability's advisories name, with those advisories' entries.
pub async fn vulnerability_candidates(
    db: &mut PgConnection,
    vulnerability_id: i64,
) -> sqlx::Result<Candidates> {
    let entries: Vec<AdvisoryEntry> = sqlx::query_as(&format!(
        "SELECT {ENTRY_COLUMNS}
           FROM advisories adv JOIN advisory_packages ap ON ap.advisory_id = adv.id
          WHERE adv.vulnerability_id = $1 AND adv.withdrawn IS NULL"
    ))
    .bind(vulnerability_id)
    .fetch_all(&mut *db)
    .await?;
    let mut keys: Vec<&str> = entries.iter().map(|e| e.package_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(Candidates::default());
    }
    let components: Vec<KeyedComponent> = sqlx::query_as(
        "SELECT c.id AS component_id, c.package_key, c.source_key, c.source_version,
                c.purl, c.version AS component_version
           FROM components c
          WHERE (c.package_key = ANY($1) OR c.source_key = ANY($1)) AND c.purl IS NOT NULL",
    )
    .bind(&keys)
    .fetch_all(&mut *db)
    .await?;
    let ids: Vec<i64> = components.iter().map(|c| c.component_id).collect();
    // An artifact counts with its latest SBOM only.
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT s.artifact_id, sc.component_id
           FROM sbom_components sc JOIN sboms s ON s.id = sc.sbom_id
          WHERE sc.component_id = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM sboms s2
                             WHERE s2.artifact_id = s.artifact_id AND s2.id > s.id)",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    let mut artifact_ids: Vec<i64> = held.iter().map(|h| h.0).collect();
    artifact_ids.sort_unstable();
    artifact_ids.dedup();
    let artifacts: Vec<CandidateArtifact> = sqlx::query_as(&format!(
        "SELECT {ARTIFACT_COLUMNS} FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE a.id = ANY($1)"
    ))
    .bind(&artifact_ids)
    .fetch_all(&mut *db)
    .await?;
    let artifact_at: HashMap<i64, usize> = (artifacts.iter().enumerate())
        .map(|(i, a)| (a.artifact_id, i))
        .collect();
    let component_at: HashMap<i64, usize> = (components.iter().enumerate())
        .map(|(i, c)| (c.component_id, i))
        .collect();
    let holdings = held
        .iter()
        .filter_map(|(a, c)| Some((*artifact_at.get(a)?, *component_at.get(c)?)))
        .collect();
    Ok(Candidates {
        artifacts,
        components,
        entries,
        holdings,
    })
}

/// An advisory of a vulnerability, for naming and scoring it.
#[derive(sqlx::FromRow, Clone)]
pub struct GroupAdvisory {
    pub vulnerability_id: i64,
    pub id: String,
    pub summary: Option<String>,
    pub severity: String,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub withdrawn: Option<DateTime<Utc>>,
}

pub async fn group_advisories(
    db: impl PgExecutor<'_>,
    groups: &[i64],
) -> sqlx::Result<Vec<GroupAdvisory>> {
    sqlx::query_as(
        "SELECT vulnerability_id, id, summary, severity, cvss_score, cvss_vector, published,
                modified, withdrawn
           FROM advisories WHERE vulnerability_id = ANY($1) ORDER BY id",
    )
    .bind(groups)
    .fetch_all(db)
    .await
}

/// Every id and alias of the vulnerabilities, and whether CISA KEV lists it.
#[derive(sqlx::FromRow, Clone)]
pub struct GroupId {
    pub vulnerability_id: i64,
    pub id: String,
    pub kev_date_added: Option<NaiveDate>,
    pub kev_due_date: Option<NaiveDate>,
}

/// Each advisory's stored `affected` array (Go symbols live only there).
pub async fn advisory_affected(
    db: impl PgExecutor<'_>,
    ids: &[String],
) -> sqlx::Result<Vec<(String, serde_json::Value)>> {
    sqlx::query_as(
        "SELECT id, COALESCE(record->'affected', '[]'::jsonb) FROM advisories WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

pub async fn group_ids(db: impl PgExecutor<'_>, groups: &[i64]) -> sqlx::Result<Vec<GroupId>> {
    sqlx::query_as(
        "SELECT v.vulnerability_id, v.id, k.date_added AS kev_date_added, k.due_date AS kev_due_date
           FROM vulnerability_ids v LEFT JOIN kev_entries k ON k.cve_id = v.id
          WHERE v.vulnerability_id = ANY($1) ORDER BY v.id",
    )
    .bind(groups)
    .fetch_all(db)
    .await
}

/// The vulnerability an id or alias belongs to.
pub async fn vulnerability_of(db: impl PgExecutor<'_>, id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT v.vulnerability_id FROM vulnerability_ids v
          WHERE v.id = $1 AND EXISTS (SELECT 1 FROM advisories a WHERE a.vulnerability_id = v.vulnerability_id)",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Whether components of the artifact's latest SBOM still wait for their
/// package key (rows stored before the key existed, until the backfill).
pub async fn artifact_pending(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sbom_components sc JOIN components c ON c.id = sc.component_id
                         WHERE sc.sbom_id = (SELECT id FROM sboms WHERE artifact_id = $1
                                              ORDER BY id DESC LIMIT 1)
                           AND c.package_key IS NULL)",
    )
    .bind(artifact_id)
    .fetch_one(db)
    .await
}

/// The artifact's project id, when it exists.
pub async fn artifact_project(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT project_id FROM artifacts WHERE id = $1")
        .bind(artifact_id)
        .fetch_optional(db)
        .await
}

/// Artifacts whose latest SBOM holds one of these packages (their policy
/// results depend on the advisories and decisions about them).
pub async fn artifacts_with_packages(
    db: impl PgExecutor<'_>,
    keys: &[String],
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT DISTINCT s.artifact_id
           FROM components c
           JOIN sbom_components sc ON sc.component_id = c.id
           JOIN sboms s ON s.id = sc.sbom_id
          WHERE (c.package_key = ANY($1) OR (c.source_key <> '' AND c.source_key = ANY($1)))
            AND s.id = (SELECT s2.id FROM sboms s2 WHERE s2.artifact_id = s.artifact_id
                         ORDER BY s2.id DESC LIMIT 1)",
    )
    .bind(keys)
    .fetch_all(db)
    .await
}

/// Every package some advisory names.
pub async fn advised_packages(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT package_key FROM advisory_packages")
        .fetch_all(db)
        .await
}

/// Artifacts whose latest SBOM describes this purl (its root component).
pub async fn artifacts_with_root_purl(
    db: impl PgExecutor<'_>,
    purl: &str,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT DISTINCT s.artifact_id FROM components c
           JOIN sbom_components sc ON sc.component_id = c.id AND sc.is_root
           JOIN sboms s ON s.id = sc.sbom_id
          WHERE c.purl = $1
            AND s.id = (SELECT s2.id FROM sboms s2 WHERE s2.artifact_id = s.artifact_id
                         ORDER BY s2.id DESC LIMIT 1)",
    )
    .bind(purl)
    .fetch_all(db)
    .await
}

/// The artifact's identity for a VEX export.
#[derive(sqlx::FromRow)]
pub struct ArtifactIdentity {
    pub project: String,
    pub name: String,
    pub version: String,
    pub digest: Option<String>,
}

pub async fn artifact_identity(
    db: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<ArtifactIdentity>> {
    sqlx::query_as(
        "SELECT p.name AS project, a.name, a.version, a.digest
           FROM artifacts a JOIN projects p ON p.id = a.project_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}
