//! Portfolio search: which artifacts, in which projects, contain a component.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use utoipa::ToSchema;

/// Where a component occurs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Occurrence {
    pub project: String,
    pub artifact_id: i64,
    pub artifact: String,
    pub version: String,
    pub digest: Option<String>,
    /// The latest SBOM of the artifact that lists the component.
    pub sbom_id: i64,
}

/// A component and the artifacts that contain it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ComponentHit {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub supplier: Option<String>,
    pub licenses: Option<String>,
    /// Number of artifacts containing the component.
    pub artifact_count: i64,
    /// Up to 100 of those artifacts, most recent first.
    #[schema(value_type = Vec<Occurrence>)]
    pub artifacts: sqlx::types::Json<Vec<Occurrence>>,
}

/// What to look for.
pub enum ComponentQuery<'a> {
    /// Components whose purl starts with this prefix.
    PurlPrefix(&'a str),
    /// Components with this exact name, and version if given.
    Name {
        name: &'a str,
        version: Option<&'a str>,
    },
}

/// Sort key of the results: (purl or "", id).
pub type SearchCursor = (String, i64);

const HIT_COLUMNS: &str = "
    SELECT c.id, c.kind, c.name, c.version, c.purl, c.supplier, c.licenses,
           (SELECT count(DISTINCT s.artifact_id) FROM sbom_components sc
              JOIN sboms s ON s.id = sc.sbom_id WHERE sc.component_id = c.id) AS artifact_count,
           (SELECT coalesce(json_agg(o ORDER BY o.artifact_id DESC), '[]') FROM (
               SELECT DISTINCT ON (a.id) p.name AS project, a.id AS artifact_id,
                      a.name AS artifact, a.version, a.digest, s.id AS sbom_id
               FROM sbom_components sc JOIN sboms s ON s.id = sc.sbom_id
               JOIN artifacts a ON a.id = s.artifact_id JOIN projects p ON p.id = a.project_id
               WHERE sc.component_id = c.id
               ORDER BY a.id DESC, s.id DESC LIMIT 100) o) AS artifacts
    FROM components c";

pub async fn search(
    db: impl PgExecutor<'_>,
    query: ComponentQuery<'_>,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<ComponentHit>> {
    let (after_purl, after_id) = after.map_or((None, None), |(p, i)| (Some(p), Some(i)));
    match query {
        ComponentQuery::PurlPrefix(prefix) => {
            // A btree range on the "C"-collated purl; U+10FFFF sorts after
            // every character that can follow the prefix.
            let upper = format!("{prefix}\u{10FFFF}");
            sqlx::query_as(&format!(
                "{HIT_COLUMNS}
                 WHERE c.purl >= $1 AND c.purl < $2 AND starts_with(c.purl, $1)
                   AND ($3::text IS NULL OR (c.purl, c.id) > ($3, $4))
                   AND EXISTS (SELECT 1 FROM sbom_components sc WHERE sc.component_id = c.id)
                 ORDER BY c.purl, c.id LIMIT $5"
            ))
            .bind(prefix)
            .bind(upper)
            .bind(after_purl)
            .bind(after_id)
            .bind(limit + 1)
            .fetch_all(db)
            .await
        }
        ComponentQuery::Name { name, version } => {
            sqlx::query_as(&format!(
                // Materialised so the planner always starts from the
                // (name, version) index, even before statistics exist.
                "WITH named AS MATERIALIZED (
                     SELECT id FROM components
                     WHERE name = $1 AND ($2::text IS NULL OR version = $2))
                 {HIT_COLUMNS} JOIN named ON named.id = c.id
                 WHERE ($3::text IS NULL OR (coalesce(c.purl, ''), c.id) > ($3, $4))
                   AND EXISTS (SELECT 1 FROM sbom_components sc WHERE sc.component_id = c.id)
                 ORDER BY coalesce(c.purl, ''), c.id LIMIT $5"
            ))
            .bind(name)
            .bind(version)
            .bind(after_purl)
            .bind(after_id)
            .bind(limit + 1)
            .fetch_all(db)
            .await
        }
    }
}
