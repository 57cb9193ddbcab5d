//! SBOMs: the stored documents, their component lists and edges.

pub mod components;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::sboms::core::quality::QualitySummary;
use crate::sboms::core::{Component, EdgeKind, ParsedSbom};

/// What Cairn knows about one stored SBOM.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SbomSummary {
    pub id: i64,
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub artifact_version: String,
    /// The artifact's digest (`sha256:<hex>`), when known.
    pub artifact_digest: Option<String>,
    /// `cyclonedx` or `spdx`.
    pub format: String,
    /// `json`, or `xml` for CycloneDX XML: how the stored document is written.
    pub syntax: String,
    /// e.g. `1.5` (CycloneDX) or `2.3` (SPDX).
    pub spec_version: String,
    /// Generating tool(s), e.g. `syft 1.4.1`.
    pub tool: Option<String>,
    /// CycloneDX serialNumber or SPDX documentNamespace.
    pub serial: Option<String>,
    /// Creation time the document states.
    pub document_created: Option<String>,
    pub authors: Vec<String>,
    /// Components listed, not counting the described subject.
    pub component_count: i32,
    /// Dependency edges (depends-on) between listed components.
    pub dependency_count: i32,
    /// All stored edges (depends-on and contains).
    pub edge_count: i32,
    /// In-toto predicate type when the SBOM came in a DSSE envelope.
    pub envelope_predicate: Option<String>,
    /// Problems found that did not prevent ingestion.
    #[schema(value_type = Vec<String>)]
    pub warnings: sqlx::types::Json<Vec<String>>,
    /// Size in bytes of the original (decoded) document.
    pub document_size: i64,
    /// SHA-256 of the original document, hex.
    pub content_sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

const SBOM_SUMMARY: &str = "
    SELECT s.id, s.artifact_id, p.name AS project, a.name AS artifact,
           a.version AS artifact_version, a.digest AS artifact_digest, s.format, s.syntax, s.spec_version, s.tool, s.serial,
           s.document_created, s.authors, s.component_count, s.dependency_count, s.edge_count,
           s.envelope_predicate, s.warnings, s.document_size,
           encode(s.content_sha256, 'hex') AS content_sha256, s.uploaded_at
    FROM sboms s JOIN artifacts a ON a.id = s.artifact_id JOIN projects p ON p.id = a.project_id";

pub async fn get(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<SbomSummary>> {
    sqlx::query_as(&format!("{SBOM_SUMMARY} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The SBOM with this content already stored for this artifact, if any.
pub async fn find_by_content(
    db: impl PgExecutor<'_>,
    project: &str,
    artifact: &str,
    version: &str,
    content_sha256: &[u8],
) -> sqlx::Result<Option<SbomSummary>> {
    sqlx::query_as(&format!(
        "{SBOM_SUMMARY} WHERE p.name = $1 AND a.name = $2 AND a.version = $3
                          AND s.content_sha256 = $4"
    ))
    .bind(project)
    .bind(artifact)
    .bind(version)
    .bind(content_sha256)
    .fetch_optional(db)
    .await
}

/// SBOMs of an artifact, newest first.
pub async fn list_for_artifact(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Vec<SbomSummary>> {
    sqlx::query_as(&format!(
        "{SBOM_SUMMARY} WHERE s.artifact_id = $1 ORDER BY s.id DESC"
    ))
    .bind(artifact_id)
    .fetch_all(db)
    .await
}

/// The stored document, gzip-compressed.
pub async fn document_gzip(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT gzip FROM sbom_documents WHERE sbom_id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The SBOM's stored quality scores; `None` when there is no such SBOM or
/// it is not scored yet (stored before scores existed, see
/// migrations/0022_sbom_quality.sql).
pub async fn quality(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<QualitySummary>> {
    let row: Option<Option<sqlx::types::Json<QualitySummary>>> =
        sqlx::query_scalar("SELECT quality FROM sboms WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.flatten().map(|j| j.0))
}

/// An SBOM still without quality scores: (id, artifact id, document size).
pub async fn next_unscored(
    db: impl PgExecutor<'_>,
    after_id: i64,
) -> sqlx::Result<Option<(i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT id, artifact_id, document_size FROM sboms
          WHERE quality IS NULL AND id > $1 ORDER BY id LIMIT 1",
    )
    .bind(after_id)
    .fetch_optional(db)
    .await
}

/// Records the quality scores of an SBOM that had none.
pub async fn set_quality(
    db: impl PgExecutor<'_>,
    id: i64,
    quality: &QualitySummary,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE sboms SET quality = $2 WHERE id = $1 AND quality IS NULL")
        .bind(id)
        .bind(sqlx::types::Json(quality))
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Everything needed to store one parsed SBOM.
pub struct NewSbom<'a> {
    pub artifact_id: i64,
    pub content_sha256: &'a [u8],
    pub parsed: &'a ParsedSbom<'a>,
    pub document_size: i64,
    pub gzip: &'a [u8],
    pub uploaded_by: i64,
    /// The parsed document's quality scores (`sbom::quality`).
    pub quality: &'a QualitySummary,
}

/// Stores an SBOM with its document, components and edges. `None` when
/// this artifact already has an SBOM with the same content (a concurrent
/// upload won): the caller rolls back and reports the existing one.
pub async fn insert(tx: &mut PgConnection, new: &NewSbom<'_>) -> sqlx::Result<Option<i64>> {
    let p = new.parsed;
    let warnings = serde_json::to_value(&p.warnings).expect("strings serialise");
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO sboms (artifact_id, content_sha256, format, spec_version, tool, serial,
                            document_created, authors, component_count, dependency_count,
                            edge_count, envelope_predicate, warnings, document_size, uploaded_by,
                            quality, syntax)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (artifact_id, content_sha256) DO NOTHING
         RETURNING id",
    )
    .bind(new.artifact_id)
    .bind(new.content_sha256)
    .bind(p.format.as_str())
    .bind(&p.spec_version)
    .bind(&p.tool)
    .bind(&p.serial)
    .bind(&p.created)
    .bind(&p.authors)
    .bind(p.component_count() as i32)
    .bind(p.dependency_count() as i32)
    .bind(p.edges.len() as i32)
    .bind(p.envelope.as_ref().map(|e| e.predicate_type.as_str()))
    .bind(warnings)
    .bind(new.document_size)
    .bind(new.uploaded_by)
    .bind(sqlx::types::Json(new.quality))
    .bind(p.syntax.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(None) };

    sqlx::query("INSERT INTO sbom_documents (sbom_id, gzip) VALUES ($1, $2)")
        .bind(id)
        .bind(new.gzip)
        .execute(&mut *tx)
        .await?;
    insert_components(tx, id, p).await?;
    if p.nodes.len() > CHUNK {
        // sqlx keeps a connection's buffers at their largest size; don't
        // let one big SBOM pin tens of MiB per pooled connection.
        sqlx::Connection::shrink_buffers(&mut *tx);
    }
    Ok(Some(id))
}

/// The deduplication key of a component: SHA-256 over its normalised
/// fields, each length-prefixed so that no two field splits collide.
fn identity(c: &Component<'_>) -> [u8; 32] {
    fn field(h: &mut Sha256, v: Option<&str>) {
        match v {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    field(&mut h, Some(&c.kind));
    field(&mut h, Some(&c.name));
    field(&mut h, c.version.as_deref());
    field(&mut h, c.purl.as_deref());
    field(&mut h, c.supplier.as_deref());
    field(&mut h, c.licenses.as_deref());
    for (alg, value) in &c.hashes {
        field(&mut h, Some(alg));
        field(&mut h, Some(value));
    }
    h.finalize().into()
}

/// Rows per bulk statement: bounds the size of one encoded statement (and
/// so the server's memory) without costing round trips that matter.
const CHUNK: usize = 10_000;

/// Set-based whatever the SBOM's size: new components are inserted
/// (existing ones skipped), then the SBOM's rows are resolved by identity
/// inside PostgreSQL, a chunk of rows per statement.
async fn insert_components(
    tx: &mut PgConnection,
    sbom_id: i64,
    p: &ParsedSbom<'_>,
) -> sqlx::Result<()> {
    let identities: Vec<[u8; 32]> = p.nodes.iter().map(identity).collect();

    // Unique components, sorted by identity so that concurrent uploads
    // take index locks in the same order and cannot deadlock.
    let mut first_of: HashMap<&[u8; 32], usize> = HashMap::with_capacity(identities.len());
    for (i, id) in identities.iter().enumerate() {
        first_of.entry(id).or_insert(i);
    }
    let mut unique: Vec<(&[u8; 32], usize)> = first_of.into_iter().collect();
    unique.sort_unstable_by_key(|(id, _)| *id);
    for chunk in unique.chunks(CHUNK) {
        insert_new_components(tx, p, chunk).await?;
    }

    let (depends_on, contains) = adjacency(p);
    for start in (0..p.nodes.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(p.nodes.len());
        let ordinals: Vec<i32> = (start as i32..end as i32).collect();
        let ids: Vec<&[u8]> = identities[start..end].iter().map(|i| &i[..]).collect();
        let bom_refs: Vec<Option<&str>> = p.nodes[start..end]
            .iter()
            .map(|c| c.bom_ref.as_deref())
            .collect();
        let linked = sqlx::query(
            "INSERT INTO sbom_components
                 (sbom_id, ordinal, component_id, bom_ref, is_root, depends_on, contains)
             SELECT $1, t.ord, c.id, t.bom_ref, coalesce(t.ord = $5, false),
                    t.depends_on::int[], t.contains::int[]
             FROM unnest($2::int[], $3::bytea[], $4::text[], $6::text[], $7::text[])
                  AS t(ord, identity, bom_ref, depends_on, contains)
             JOIN components c ON c.identity = t.identity",
        )
        .bind(sbom_id)
        .bind(&ordinals)
        .bind(&ids)
        .bind(&bom_refs)
        .bind(p.root.map(|r| r as i32))
        .bind(&depends_on[start..end])
        .bind(&contains[start..end])
        .execute(&mut *tx)
        .await?;
        if linked.rows_affected() != (end - start) as u64 {
            return Err(sqlx::Error::Protocol(format!(
                "linked {} of {} components of SBOM {sbom_id}",
                linked.rows_affected(),
                end - start
            )));
        }
    }
    Ok(())
}

async fn insert_new_components(
    tx: &mut PgConnection,
    p: &ParsedSbom<'_>,
    chunk: &[(&[u8; 32], usize)],
) -> sqlx::Result<()> {
    let n = chunk.len();
    let mut ids: Vec<&[u8]> = Vec::with_capacity(n);
    let mut kinds: Vec<&str> = Vec::with_capacity(n);
    let mut names: Vec<&str> = Vec::with_capacity(n);
    let mut versions: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut purls: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut suppliers: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut licenses: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut hashes: Vec<String> = Vec::with_capacity(n);
    let mut keys: Vec<String> = Vec::with_capacity(n);
    let mut source_keys: Vec<String> = Vec::with_capacity(n);
    let mut source_versions: Vec<Option<String>> = Vec::with_capacity(n);
    for (id, i) in chunk {
        let c = &p.nodes[*i];
        ids.push(&id[..]);
        kinds.push(&c.kind);
        names.push(&c.name);
        versions.push(c.version.as_deref());
        purls.push(c.purl.as_deref());
        suppliers.push(c.supplier.as_deref());
        licenses.push(c.licenses.as_deref());
        hashes.push(serde_json::to_string(&c.hashes).expect("strings serialise"));
        // What advisories call it ('' when none can): matched by index;
        // and its distro source package, which some databases name instead.
        let stated = (c.source.as_ref()).map(|s| (s.name.as_ref(), s.version.as_deref()));
        let k = (c.purl.as_deref())
            .map(|p| crate::vulnerabilities::core::purl::component_keys(p, stated))
            .unwrap_or_default();
        keys.push(k.package);
        source_keys.push(k.source);
        source_versions.push(k.source_version);
    }
    sqlx::query(
        "INSERT INTO components (identity, kind, name, version, purl, supplier, licenses, hashes,
                                 package_key, source_key, source_version)
         SELECT t.identity, t.kind, t.name, t.version, t.purl, t.supplier, t.licenses, t.hashes::jsonb,
                t.package_key, t.source_key, t.source_version
         FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
              AS t(identity, kind, name, version, purl, supplier, licenses, hashes, package_key,
                   source_key, source_version)
         ON CONFLICT (identity) DO NOTHING",
    )
    .bind(&ids)
    .bind(&kinds)
    .bind(&names)
    .bind(&versions)
    .bind(&purls)
    .bind(&suppliers)
    .bind(&licenses)
    .bind(&hashes)
    .bind(&keys)
    .bind(&source_keys)
    .bind(&source_versions)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Each node's outgoing depends-on and contains edges, as PostgreSQL array
/// literals (`{3,7}`): ragged arrays cannot be bound directly.
fn adjacency(p: &ParsedSbom<'_>) -> (Vec<String>, Vec<String>) {
    let mut depends: Vec<Vec<u32>> = vec![Vec::new(); p.nodes.len()];
    let mut contains: Vec<Vec<u32>> = vec![Vec::new(); p.nodes.len()];
    for e in &p.edges {
        match e.kind {
            EdgeKind::DependsOn => depends[e.from as usize].push(e.to),
            EdgeKind::Contains => contains[e.from as usize].push(e.to),
        }
    }
    let literal = |mut v: Vec<u32>| {
        v.sort_unstable();
        let items: Vec<String> = v.iter().map(u32::to_string).collect();
        format!("{{{}}}", items.join(","))
    };
    (
        depends.into_iter().map(literal).collect(),
        contains.into_iter().map(literal).collect(),
    )
}

/// Refreshes the planner statistics of the inventory tables.
pub async fn analyze(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("ANALYZE components, sbom_components, sboms, artifacts")
        .execute(db)
        .await?;
    Ok(())
}

/// One component as listed in an SBOM.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SbomComponent {
    /// Position in the document (0-based; the described subject included).
    pub ordinal: i32,
    pub bom_ref: Option<String>,
    /// True for the SBOM's described subject.
    pub is_root: bool,
    pub component_id: i64,
    /// CycloneDX type / SPDX purpose, lower-case (`library`, `application`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub supplier: Option<String>,
    /// SPDX licence expression.
    pub licenses: Option<String>,
    /// `[[algorithm, hex], ...]`
    #[schema(value_type = Vec<Vec<String>>)]
    pub hashes: sqlx::types::Json<Vec<(String, String)>>,
    /// Ordinals of the components this one depends on.
    pub depends_on: Vec<i32>,
    /// Ordinals of the components this one contains (nested components,
    /// SPDX CONTAINS).
    pub contains: Vec<i32>,
}

/// Components of an SBOM in document order, filtered by `q` (in name or
/// purl, case-insensitive) and `kind`.
pub async fn list_components(
    db: impl PgExecutor<'_>,
    sbom_id: i64,
    q: Option<&str>,
    kind: Option<&str>,
    after_ordinal: Option<i32>,
    limit: i64,
) -> sqlx::Result<Vec<SbomComponent>> {
    sqlx::query_as(
        "SELECT sc.ordinal, sc.bom_ref, sc.is_root, c.id AS component_id, c.kind, c.name,
                c.version, c.purl, c.supplier, c.licenses, c.hashes,
                sc.depends_on, sc.contains
         FROM sbom_components sc JOIN components c ON c.id = sc.component_id
         WHERE sc.sbom_id = $1
           AND ($2::text IS NULL OR strpos(lower(c.name), lower($2)) > 0
                                 OR strpos(lower(coalesce(c.purl, '')), lower($2)) > 0)
           AND ($3::text IS NULL OR c.kind = $3)
           AND ($4::int IS NULL OR sc.ordinal > $4)
         ORDER BY sc.ordinal LIMIT $5",
    )
    .bind(sbom_id)
    .bind(q)
    .bind(kind)
    .bind(after_ordinal)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

/// A count of an SBOM's components by some property.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Tally {
    pub key: String,
    pub count: i64,
}

/// Components by ecosystem (the purl type; `unknown` without a purl).
pub async fn ecosystems(db: impl PgExecutor<'_>, sbom_id: i64) -> sqlx::Result<Vec<Tally>> {
    sqlx::query_as(
        "SELECT coalesce(nullif(split_part(substring(c.purl from 5), '/', 1), ''), 'unknown') AS key,
                count(*) AS count
         FROM sbom_components sc JOIN components c ON c.id = sc.component_id
         WHERE sc.sbom_id = $1 AND NOT sc.is_root GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .bind(sbom_id)
    .fetch_all(db)
    .await
}

/// Components by licence expression (`unknown` when none is stated).
pub async fn licenses(db: impl PgExecutor<'_>, sbom_id: i64) -> sqlx::Result<Vec<Tally>> {
    sqlx::query_as(
        "SELECT coalesce(c.licenses, 'unknown') AS key, count(*) AS count
         FROM sbom_components sc JOIN components c ON c.id = sc.component_id
         WHERE sc.sbom_id = $1 AND NOT sc.is_root GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .bind(sbom_id)
    .fetch_all(db)
    .await
}
