//! Evidence loading: `load_input`, the ONE place a `RuleInput` is assembled
//! from an artifact's evidence.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::bounded::Bounded;
use crate::policies::core::input::{
    ArtifactFacts, BuildFacts, ComponentFacts, JobFacts, ProjectFacts, ProvenanceFacts, SbomFacts,
    SignatureFacts,
};
use crate::policies::core::RuleInput;
use crate::sboms::core::quality::QualitySummary;

/// The artifact's evidence as rules read it; `None` if there is no such
/// artifact.
pub async fn load_input(
    conn: &mut PgConnection,
    artifact_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<RuleInput>> {
    load_input_with(conn, artifact_id, now, None).await
}

/// `load_input` with the artifact's findings already matched (the worker
/// matches once, to record them and to judge them).
pub async fn load_input_with(
    conn: &mut PgConnection,
    artifact_id: i64,
    now: DateTime<Utc>,
    findings: Option<Vec<crate::vulnerabilities::service::Finding>>,
) -> sqlx::Result<Option<RuleInput>> {
    let row: Option<ArtifactRow> = sqlx::query_as(
        "SELECT a.id, a.name, a.version, a.digest, a.created_at,
                p.id AS project_id, p.name AS project_name, p.repository_url,
                coalesce((SELECT array_agg(t.tag ORDER BY t.tag) FROM project_tags t
                           WHERE t.project_id = p.id), '{}') AS tags
           FROM artifacts a JOIN projects p ON p.id = a.project_id WHERE a.id = $1",
    )
    .bind(artifact_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(ArtifactRow {
        id,
        name,
        version,
        digest,
        created_at,
        project_id,
        project_name,
        repository_url,
        tags,
    }) = row
    else {
        return Ok(None);
    };

    let sbom: Option<SbomRow> = sqlx::query_as(
        "SELECT id, format, spec_version, tool, authors, document_created, uploaded_at,
                dependency_count, edge_count, content_sha256, quality
           FROM sboms WHERE artifact_id = $1 ORDER BY uploaded_at DESC, id DESC LIMIT 1",
    )
    .bind(artifact_id)
    .fetch_optional(&mut *conn)
    .await?;
    let sbom = match sbom {
        None => None,
        Some(s) => Some(SbomFacts {
            id: s.id,
            format: s.format,
            spec_version: s.spec_version,
            tool: s.tool,
            authors: s.authors,
            document_created: s.document_created,
            uploaded_at: s.uploaded_at,
            dependency_count: s.dependency_count,
            edge_count: s.edge_count,
            // Stored at ingestion (migrations/0022_sbom_quality.sql): scoring
            // here would decompress and parse the document every time.
            quality: s.quality.map(|q| q.0),
            components: sbom_components(conn, s.id, s.content_sha256).await?,
        }),
    };

    // Evidence counts only for the digest it covers: an artifact without
    // a digest has no signature and no provenance.
    let records = match &digest {
        Some(d) => crate::attestations::store::verified_for_digest(&mut *conn, d).await?,
        None => Vec::new(),
    };
    let mut signatures = Vec::new();
    let mut provenance = Vec::new();
    let mut commits = BTreeSet::new();
    let mut run_ids = BTreeSet::new();
    for r in records.into_iter().filter(|r| r.verified) {
        if let Some(i) = &r.identity {
            commits.extend(i.workflow_sha.clone());
            run_ids.extend(
                i.run_url
                    .as_deref()
                    .and_then(crate::attestations::core::statement::github_run_id),
            );
        }
        if let Some(p) = &r.provenance {
            commits.extend(p.source_commit.clone());
            run_ids.extend(
                p.invocation_id
                    .as_deref()
                    .and_then(crate::attestations::core::statement::github_run_id),
            );
            provenance.push(ProvenanceFacts {
                id: r.id,
                signer: r.identity.clone(),
                trusted_by: r.trusted_by.clone(),
                provenance: p.clone(),
            });
        }
        signatures.push(SignatureFacts {
            id: r.id,
            kind: r.kind,
            identity: r.identity,
            predicate_type: r.predicate_type,
            trusted_by: r.trusted_by,
            uploaded_at: r.uploaded_at,
            signed_at: r.rekor_integrated_time,
        });
    }
    signatures.sort_by_key(|s| s.id);
    provenance.sort_by_key(|p| p.id);
    let builds = load_builds(
        conn,
        &commits.into_iter().collect::<Vec<_>>(),
        &run_ids.into_iter().collect::<Vec<_>>(),
    )
    .await?;

    let vulnerabilities = match (&sbom, findings) {
        (None, _) => None,
        (Some(_), Some(found)) => Some(found.into_iter().map(|f| f.facts()).collect()),
        (Some(_), None) => Some(
            crate::vulnerabilities::service::artifact_findings(&mut *conn, id)
                .await?
                .into_iter()
                .map(|f| f.facts())
                .collect(),
        ),
    };
    Ok(Some(RuleInput {
        artifact: ArtifactFacts {
            id,
            name,
            version,
            digest,
            created_at: Some(created_at),
        },
        project: ProjectFacts {
            id: project_id,
            name: project_name,
            repository_url,
            tags,
        },
        sbom,
        signatures,
        provenance,
        builds,
        go: crate::go::store::go_facts(conn, id).await?,
        ci_definitions: crate::ci::store::ci_facts(conn, project_id).await?,
        vulnerabilities,
        now,
    }))
}

/// An SBOM's components as rules read them. A stored SBOM never changes,
/// and loading 10,000 components costs tens of milliseconds, so the lists
/// of recently judged SBOMs are kept (keyed by id and document SHA-256, so
/// a key means the same list in any database; at most 200,000 components
/// held, oldest out first).
async fn sbom_components(
    conn: &mut PgConnection,
    sbom_id: i64,
    content_sha256: Vec<u8>,
) -> sqlx::Result<Arc<Vec<ComponentFacts>>> {
    type Lists = Bounded<(i64, Vec<u8>), Arc<Vec<ComponentFacts>>>;
    static CACHE: LazyLock<Mutex<Lists>> = LazyLock::new(|| Mutex::new(Bounded::new(200_000)));

    let key = (sbom_id, content_sha256);
    if let Some(list) = CACHE.lock().expect("not poisoned").get(&key) {
        return Ok(list.clone());
    }
    let rows: Vec<ComponentRow> = sqlx::query_as(
        "SELECT c.name, c.version, c.purl, c.supplier, c.licenses,
                jsonb_array_length(c.hashes) > 0 AS hashed, sc.is_root
           FROM sbom_components sc JOIN components c ON c.id = sc.component_id
          WHERE sc.sbom_id = $1 ORDER BY sc.ordinal",
    )
    .bind(sbom_id)
    .fetch_all(&mut *conn)
    .await?;
    let list: Arc<Vec<ComponentFacts>> = Arc::new(rows.into_iter().map(Into::into).collect());
    CACHE
        .lock()
        .expect("not poisoned")
        .insert(key, list.clone(), list.len());
    Ok(list)
}

async fn load_builds(
    conn: &mut PgConnection,
    commits: &[String],
    run_ids: &[i64],
) -> sqlx::Result<Vec<BuildFacts>> {
    if commits.is_empty() && run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let runs: Vec<RunRow> = sqlx::query_as(
        "SELECT id, provider, repository, head_sha, conclusion FROM ci_runs
          WHERE head_sha = ANY($1) OR provider_run_id = ANY($2) ORDER BY id LIMIT 50",
    )
    .bind(commits)
    .bind(run_ids)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let jobs: Vec<JobRow> = sqlx::query_as(
        "SELECT run_id, name, runner_kind, runner_group, runner_name, runner_labels
               FROM ci_jobs WHERE run_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(runs
        .into_iter()
        .map(|r| BuildFacts {
            id: r.id,
            provider: r.provider,
            repository: r.repository,
            head_sha: r.head_sha,
            conclusion: r.conclusion,
            jobs: jobs
                .iter()
                .filter(|j| j.run_id == r.id)
                .map(|j| JobFacts {
                    name: j.name.clone(),
                    runner_kind: j.runner_kind.clone(),
                    runner_group: j.runner_group.clone(),
                    runner_name: j.runner_name.clone(),
                    runner_labels: j.runner_labels.clone(),
                })
                .collect(),
        })
        .collect())
}

// --- rows ---------------------------------------------------------------------

/// The artifact and its project.
#[derive(sqlx::FromRow)]
struct ArtifactRow {
    id: i64,
    name: String,
    version: String,
    digest: Option<String>,
    created_at: DateTime<Utc>,
    project_id: i64,
    project_name: String,
    repository_url: Option<String>,
    tags: Vec<String>,
}

/// The artifact's latest SBOM (its components are loaded apart).
#[derive(sqlx::FromRow)]
struct SbomRow {
    id: i64,
    format: String,
    spec_version: String,
    tool: Option<String>,
    authors: Vec<String>,
    document_created: Option<String>,
    uploaded_at: DateTime<Utc>,
    dependency_count: i32,
    edge_count: i32,
    content_sha256: Vec<u8>,
    quality: Option<sqlx::types::Json<QualitySummary>>,
}

#[derive(sqlx::FromRow)]
struct ComponentRow {
    name: String,
    version: Option<String>,
    purl: Option<String>,
    supplier: Option<String>,
    licenses: Option<String>,
    hashed: bool,
    is_root: bool,
}

impl From<ComponentRow> for ComponentFacts {
    fn from(r: ComponentRow) -> Self {
        ComponentFacts {
            name: r.name,
            version: r.version,
            purl: r.purl,
            supplier: r.supplier,
            licenses: r.licenses,
            hashed: r.hashed,
            is_root: r.is_root,
        }
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    provider: String,
    repository: String,
    head_sha: Option<String>,
    conclusion: Option<String>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    run_id: i64,
    name: Option<String>,
    runner_kind: Option<String>,
    runner_group: Option<String>,
    runner_name: Option<String>,
    runner_labels: Vec<String>,
}
