//! Go build info, its function tables, go.mod and go.sum.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

use super::core::buildinfo::BuildInfo;
use super::core::crosscheck::SbomGoComponent;
use super::core::symbols::Symbols;

pub struct NewGoBuild<'a> {
    pub artifact_id: i64,
    pub source: &'a str,
    pub binary_digest: Option<&'a str>,
    pub binary_size: Option<i64>,
    pub info: &'a BuildInfo,
    /// The binary's function names, or why they could not be read.
    pub symbols: Option<&'a Result<Symbols, String>>,
    pub uploaded_by: Option<i64>,
}

/// A stored build-info record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GoBuildRow {
    pub id: i64,
    pub artifact_id: i64,
    pub source: String,
    pub binary_digest: Option<String>,
    pub binary_size: Option<i64>,
    pub build_info: Json<BuildInfo>,
    /// Function names read from the binary (NULL: none were read).
    pub symbols_count: Option<i32>,
    /// Why the binary's function table could not be read.
    pub symbols_error: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

pub async fn insert_build(tx: &mut PgConnection, new: &NewGoBuild<'_>) -> sqlx::Result<GoBuildRow> {
    sqlx::query_as(
        "INSERT INTO go_builds (artifact_id, source, binary_digest, binary_size, go_version,
                                main_path, main_version, build_info, module_count, uploaded_by,
                                symbols_count, symbols_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING id, artifact_id, source, binary_digest, binary_size, build_info,
                   symbols_count, symbols_error, uploaded_at",
    )
    .bind(new.artifact_id)
    .bind(new.source)
    .bind(new.binary_digest)
    .bind(new.binary_size)
    .bind(&new.info.go_version)
    .bind(new.info.main_module.as_ref().map(|m| m.path.as_str()))
    .bind(new.info.main_module.as_ref().map(|m| m.version.as_str()))
    .bind(Json(new.info))
    .bind(new.info.modules.len() as i32)
    .bind(new.uploaded_by)
    .bind(match new.symbols {
        Some(Ok(s)) => Some(s.function_count().min(i32::MAX as usize) as i32),
        _ => None,
    })
    .bind(new.symbols.and_then(|r| r.as_ref().err()))
    .fetch_one(&mut *tx)
    .await
}

/// Stores a build's function names, one row per package.
pub async fn insert_symbols(
    tx: &mut PgConnection,
    go_build_id: i64,
    symbols: &Symbols,
) -> sqlx::Result<()> {
    let (mut packages, mut names): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for (package, symbol) in symbols.entries() {
        // A name with a newline cannot be stored in the list (none is real).
        if symbol.contains('\n') {
            continue;
        }
        if packages.last().map(String::as_str) != Some(package) {
            packages.push(package.to_owned());
            names.push(String::new());
        }
        let list = names.last_mut().expect("pushed with its package");
        if !list.is_empty() {
            list.push('\n');
        }
        list.push_str(symbol);
    }
    for (p, n) in packages.chunks(1000).zip(names.chunks(1000)) {
        sqlx::query(
            "INSERT INTO go_build_symbols (go_build_id, package, names)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[])",
        )
        .bind(go_build_id)
        .bind(p)
        .bind(n)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The binary whose function names stand for each artifact: its latest
/// build's, when that build came from a binary whose table was read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SymbolSource {
    pub artifact_id: i64,
    pub go_build_id: i64,
    pub binary_digest: Option<String>,
}

pub async fn symbol_sources(
    db: &mut PgConnection,
    artifact_ids: &[i64],
) -> sqlx::Result<Vec<SymbolSource>> {
    sqlx::query_as(
        "SELECT b.artifact_id, b.id AS go_build_id, b.binary_digest
           FROM UNNEST($1::bigint[]) a(id)
           CROSS JOIN LATERAL (SELECT * FROM go_builds g WHERE g.artifact_id = a.id
                                ORDER BY g.id DESC LIMIT 1) b
          WHERE b.symbols_count IS NOT NULL",
    )
    .bind(artifact_ids)
    .fetch_all(&mut *db)
    .await
}

/// The named packages' symbols in one build (packages it lacks are absent).
pub async fn symbols_in(
    db: &mut PgConnection,
    go_build_id: i64,
    packages: &[String],
) -> sqlx::Result<Symbols> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT package, names FROM go_build_symbols
          WHERE go_build_id = $1 AND package = ANY($2::text[])",
    )
    .bind(go_build_id)
    .bind(packages)
    .fetch_all(&mut *db)
    .await?;
    Ok(Symbols::from_entries(rows.into_iter().flat_map(
        |(p, names)| {
            names
                .split('\n')
                .map(|n| (p.clone(), n.to_owned()))
                .collect::<Vec<_>>()
        },
    )))
}

/// The artifact's latest build when it is this one again: the same source,
/// binary digest and build info (a re-upload stores nothing new).
pub async fn latest_build_if_same(
    tx: &mut PgConnection,
    new: &NewGoBuild<'_>,
) -> sqlx::Result<Option<GoBuildRow>> {
    sqlx::query_as(
        "SELECT id, artifact_id, source, binary_digest, binary_size, build_info,
                symbols_count, symbols_error, uploaded_at
           FROM (SELECT * FROM go_builds WHERE artifact_id = $1 ORDER BY id DESC LIMIT 1) b
          WHERE source = $2 AND binary_digest IS NOT DISTINCT FROM $3 AND build_info = $4
            -- a binary stored before its function table was read is read now
            AND (source <> 'binary' OR symbols_count IS NOT NULL OR symbols_error IS NOT NULL)",
    )
    .bind(new.artifact_id)
    .bind(new.source)
    .bind(new.binary_digest)
    .bind(Json(new.info))
    .fetch_optional(&mut *tx)
    .await
}

/// The artifact's latest build info.
pub async fn latest_build(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Option<GoBuildRow>> {
    sqlx::query_as(
        "SELECT id, artifact_id, source, binary_digest, binary_size, build_info,
                symbols_count, symbols_error, uploaded_at
         FROM go_builds WHERE artifact_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(artifact_id)
    .fetch_optional(db)
    .await
}

/// The Go components (`pkg:golang/...`) of the artifact's latest SBOM;
/// `None` when the artifact has no SBOM.
pub async fn sbom_go_components(
    db: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<Option<Vec<SbomGoComponent>>> {
    let sbom: Option<i64> =
        sqlx::query_scalar("SELECT id FROM sboms WHERE artifact_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(artifact_id)
            .fetch_optional(&mut *db)
            .await?;
    let Some(sbom) = sbom else { return Ok(None) };
    type Row = (String, Json<Vec<(String, String)>>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.purl, c.hashes FROM sbom_components sc JOIN components c ON c.id = sc.component_id
         WHERE sc.sbom_id = $1 AND c.purl LIKE 'pkg:golang/%'",
    )
    .bind(sbom)
    .fetch_all(&mut *db)
    .await?;
    Ok(Some(
        rows.into_iter()
            .filter_map(|(purl, hashes)| SbomGoComponent::from_purl(&purl, hashes.0))
            .collect(),
    ))
}

pub async fn insert_module_file(
    tx: &mut PgConnection,
    artifact_id: i64,
    kind: &str,
    content_sha256: &[u8],
    parsed: &serde_json::Value,
    uploaded_by: Option<i64>,
) -> sqlx::Result<(i64, DateTime<Utc>)> {
    sqlx::query_as(
        "INSERT INTO go_module_files (artifact_id, kind, content_sha256, parsed, uploaded_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, uploaded_at",
    )
    .bind(artifact_id)
    .bind(kind)
    .bind(content_sha256)
    .bind(Json(parsed))
    .bind(uploaded_by)
    .fetch_one(&mut *tx)
    .await
}

/// The artifact's latest go.mod / go.sum when it has these bytes (a
/// re-upload): its id and upload time.
pub async fn latest_module_file_if_same(
    tx: &mut PgConnection,
    artifact_id: i64,
    kind: &str,
    content_sha256: &[u8],
) -> sqlx::Result<Option<(i64, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT id, uploaded_at
           FROM (SELECT * FROM go_module_files WHERE artifact_id = $1 AND kind = $2
                  ORDER BY id DESC LIMIT 1) f
          WHERE content_sha256 = $3",
    )
    .bind(artifact_id)
    .bind(kind)
    .bind(content_sha256)
    .fetch_optional(&mut *tx)
    .await
}

/// The artifact's latest go.mod or go.sum, parsed.
pub async fn latest_module_file(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    kind: &str,
) -> sqlx::Result<Option<(i64, serde_json::Value)>> {
    let row: Option<(i64, Json<serde_json::Value>)> = sqlx::query_as(
        "SELECT id, parsed FROM go_module_files WHERE artifact_id = $1 AND kind = $2
         ORDER BY id DESC LIMIT 1",
    )
    .bind(artifact_id)
    .bind(kind)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, p)| (id, p.0)))
}

/// The artifact's Go evidence for policy rules; `None` without build info.
pub async fn go_facts(
    conn: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<Option<super::core::GoFacts>> {
    let Some(row) = latest_build(&mut *conn, artifact_id).await? else {
        return Ok(None);
    };
    let build = row.build_info.0;
    let sbom = sbom_go_components(&mut *conn, artifact_id).await?;
    let sbom_check = sbom.map(|c| super::core::crosscheck::check(&build, Some(&c), &[]).mismatches);
    let go_mod = latest_module_file(&mut *conn, artifact_id, "go.mod")
        .await?
        .and_then(|(_, v)| serde_json::from_value(v).ok());
    let go_sum = latest_module_file(&mut *conn, artifact_id, "go.sum")
        .await?
        .and_then(|(_, v)| serde_json::from_value(v).ok());
    Ok(Some(super::core::GoFacts {
        build_id: row.id,
        build,
        sbom_check,
        go_mod,
        go_sum,
    }))
}
