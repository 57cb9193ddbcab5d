//! Policy sets and their versions, waivers, the evaluation queue, and
//! evaluation history; plus `load_input`, the ONE place a `RuleInput` is
//! assembled from an artifact's evidence.

// Rows are read as tuples (sqlx::query_as), some of them wide.
#![allow(clippy::type_complexity)]

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::bounded::Bounded;
use crate::policy::engine::{AppliedWaiver, PolicyDefinition, RuleResult, Scope, Waiver};
use crate::policy::input::{
    ArtifactFacts, BuildFacts, ComponentFacts, JobFacts, ProjectFacts, ProvenanceFacts, SbomFacts,
    SignatureFacts,
};
use crate::policy::RuleInput;

// --- evidence -----------------------------------------------------------------

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
    let row: Option<(
        i64,
        String,
        String,
        Option<String>,
        DateTime<Utc>,
        i64,
        String,
        Option<String>,
        Vec<String>,
    )> = sqlx::query_as(
        "SELECT a.id, a.name, a.version, a.digest, a.created_at, p.id, p.name, p.repository_url,
                coalesce((SELECT array_agg(t.tag ORDER BY t.tag) FROM project_tags t
                           WHERE t.project_id = p.id), '{}')
           FROM artifacts a JOIN projects p ON p.id = a.project_id WHERE a.id = $1",
    )
    .bind(artifact_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, name, version, digest, created_at, pid, pname, repo, tags)) = row else {
        return Ok(None);
    };

    let sbom: Option<(
        i64,
        String,
        String,
        Option<String>,
        Vec<String>,
        Option<String>,
        DateTime<Utc>,
        i32,
        i32,
        Vec<u8>,
        Option<sqlx::types::Json<crate::sbom::quality::QualitySummary>>,
    )> = sqlx::query_as(
        "SELECT id, format, spec_version, tool, authors, document_created, uploaded_at,
                dependency_count, edge_count, content_sha256, quality
           FROM sboms WHERE artifact_id = $1 ORDER BY uploaded_at DESC, id DESC LIMIT 1",
    )
    .bind(artifact_id)
    .fetch_optional(&mut *conn)
    .await?;
    let sbom = match sbom {
        None => None,
        Some((
            sid,
            format,
            spec_version,
            tool,
            authors,
            created,
            uploaded_at,
            deps,
            edges,
            sha,
            quality,
        )) => Some(SbomFacts {
            id: sid,
            format,
            spec_version,
            tool,
            authors,
            document_created: created,
            uploaded_at,
            dependency_count: deps,
            edge_count: edges,
            // Stored at ingestion (migrations/0022_sbom_quality.sql): scoring
            // here would decompress and parse the document every time.
            quality: quality.map(|q| q.0),
            components: sbom_components(conn, sid, sha).await?,
        }),
    };

    // Evidence counts only for the digest it covers: an artifact without
    // a digest has no signature and no provenance.
    let records = match &digest {
        Some(d) => crate::store::attestations::verified_for_digest(&mut *conn, d).await?,
        None => Vec::new(),
    };
    let mut signatures = Vec::new();
    let mut provenance = Vec::new();
    let mut commits = BTreeSet::new();
    let mut run_ids = BTreeSet::new();
    for r in records.into_iter().filter(|r| r.verified) {
        if let Some(i) = &r.identity {
            commits.extend(i.workflow_sha.clone());
            run_ids.extend(i.run_url.as_deref().and_then(github_run_id));
        }
        if let Some(p) = &r.provenance {
            commits.extend(p.source_commit.clone());
            run_ids.extend(p.invocation_id.as_deref().and_then(github_run_id));
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
            id: pid,
            name: pname,
            repository_url: repo,
            tags,
        },
        sbom,
        signatures,
        provenance,
        builds,
        go: super::goci::go_facts(conn, id).await?,
        ci_definitions: super::goci::ci_facts(conn, pid).await?,
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
    let rows: Vec<(
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        bool,
    )> = sqlx::query_as(
        "SELECT c.name, c.version, c.purl, c.supplier, c.licenses,
                jsonb_array_length(c.hashes) > 0, sc.is_root
           FROM sbom_components sc JOIN components c ON c.id = sc.component_id
          WHERE sc.sbom_id = $1 ORDER BY sc.ordinal",
    )
    .bind(sbom_id)
    .fetch_all(&mut *conn)
    .await?;
    let list: Arc<Vec<ComponentFacts>> = Arc::new(
        rows.into_iter()
            .map(
                |(name, version, purl, supplier, licenses, hashed, is_root)| ComponentFacts {
                    name,
                    version,
                    purl,
                    supplier,
                    licenses,
                    hashed,
                    is_root,
                },
            )
            .collect(),
    );
    CACHE
        .lock()
        .expect("not poisoned")
        .insert(key, list.clone(), list.len());
    Ok(list)
}

/// `https://github.com/o/r/actions/runs/123/attempts/1` → 123.
fn github_run_id(url: &str) -> Option<i64> {
    let rest = url.split("/actions/runs/").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

async fn load_builds(
    conn: &mut PgConnection,
    commits: &[String],
    run_ids: &[i64],
) -> sqlx::Result<Vec<BuildFacts>> {
    if commits.is_empty() && run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let runs: Vec<(i64, String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, provider, repository, head_sha, conclusion FROM ci_runs
          WHERE head_sha = ANY($1) OR provider_run_id = ANY($2) ORDER BY id LIMIT 50",
    )
    .bind(commits)
    .bind(run_ids)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = runs.iter().map(|r| r.0).collect();
    let jobs: Vec<(
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Vec<String>,
    )> = sqlx::query_as(
        "SELECT run_id, name, runner_kind, runner_group, runner_name, runner_labels
               FROM ci_jobs WHERE run_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(runs
        .into_iter()
        .map(
            |(id, provider, repository, head_sha, conclusion)| BuildFacts {
                id,
                provider,
                repository,
                head_sha,
                conclusion,
                jobs: jobs
                    .iter()
                    .filter(|j| j.0 == id)
                    .map(|j| JobFacts {
                        name: j.1.clone(),
                        runner_kind: j.2.clone(),
                        runner_group: j.3.clone(),
                        runner_name: j.4.clone(),
                        runner_labels: j.5.clone(),
                    })
                    .collect(),
            },
        )
        .collect())
}

// --- queue ----------------------------------------------------------------------

/// Queues artifacts for evaluation (idempotent: one row per artifact).
/// Call it inside the transaction that stores the evidence.
pub async fn enqueue(
    conn: &mut PgConnection,
    artifact_ids: &[i64],
    reason: &str,
) -> sqlx::Result<()> {
    if artifact_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason)
         SELECT DISTINCT unnest($1::bigint[]), $2
         ON CONFLICT (artifact_id) DO UPDATE
            SET next_attempt_at = least(policy_queue.next_attempt_at, now()),
                reason = EXCLUDED.reason",
    )
    .bind(artifact_ids)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues every artifact with this digest (attestations link by digest).
pub async fn enqueue_digests(
    conn: &mut PgConnection,
    digests: &[String],
    reason: &str,
) -> sqlx::Result<()> {
    if digests.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM artifacts WHERE digest = ANY($1)")
        .bind(digests)
        .fetch_all(&mut *conn)
        .await?;
    enqueue(conn, &ids, reason).await
}

/// Queues the artifacts CI runs are evidence for: those with a verified
/// attestation naming one of their commits or GitHub run ids (the links
/// `load_input` follows). One statement for a whole webhook batch; uses the
/// partial indexes of migration 0006.
pub async fn enqueue_for_runs(
    conn: &mut PgConnection,
    head_shas: &[String],
    github_run_ids: &[i64],
) -> sqlx::Result<()> {
    if head_shas.is_empty() && github_run_ids.is_empty() {
        return Ok(());
    }
    let runs: Vec<String> = github_run_ids.iter().map(i64::to_string).collect();
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH hit AS (
            SELECT id, artifact_id FROM attestations
             WHERE verified AND source_commit = ANY($1)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND identity IS NOT NULL AND identity ->> 'workflow_sha' = ANY($1)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND identity IS NOT NULL
               AND split_part(split_part(identity ->> 'run_url', '/actions/runs/', 2), '/', 1)
                   = ANY($2)
            UNION SELECT id, artifact_id FROM attestations
             WHERE verified AND provenance IS NOT NULL
               AND split_part(split_part(provenance ->> 'invocation_id', '/actions/runs/', 2), '/', 1)
                   = ANY($2))
         SELECT artifact_id FROM hit WHERE artifact_id IS NOT NULL
         UNION
         SELECT a.id FROM hit JOIN attestation_subjects s ON s.attestation_id = hit.id
                              JOIN artifacts a ON a.digest = s.digest",
    )
    .bind(head_shas)
    .bind(&runs)
    .fetch_all(&mut *conn)
    .await?;
    enqueue(conn, &ids, "build").await
}

/// `*` globs as LIKE patterns.
fn like_patterns(globs: &[String]) -> Vec<String> {
    globs
        .iter()
        .map(|g| {
            g.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
                .replace('*', "%")
        })
        .collect()
}

/// Queues the artifacts a set (now) applies to, and those it was evaluated on.
pub async fn enqueue_for_set(
    conn: &mut PgConnection,
    policy_set_id: i64,
    scope: &Scope,
    reason: &str,
) -> sqlx::Result<u64> {
    let all = scope.projects.is_empty() && scope.tags.is_empty();
    let r = sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason)
         SELECT a.id, $5 FROM artifacts a JOIN projects p ON p.id = a.project_id
          WHERE $1
             OR p.name LIKE ANY($2)
             OR EXISTS (SELECT 1 FROM project_tags t WHERE t.project_id = p.id AND t.tag = ANY($3))
             OR EXISTS (SELECT 1 FROM policy_latest l WHERE l.artifact_id = a.id AND l.policy_set_id = $4)
         ON CONFLICT (artifact_id) DO UPDATE SET next_attempt_at = now(), reason = EXCLUDED.reason",
    )
    .bind(all)
    .bind(like_patterns(&scope.projects))
    .bind(&scope.tags)
    .bind(policy_set_id)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Claims due artifacts; the caller's transaction holds them.
pub async fn claim(conn: &mut PgConnection, batch: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT artifact_id, reason FROM policy_queue
          WHERE next_attempt_at <= now() AND dead_at IS NULL
          ORDER BY next_attempt_at, artifact_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// Locks this artifact's queue entry if it has one no one else holds.
pub async fn claim_one(conn: &mut PgConnection, artifact_id: i64) -> sqlx::Result<bool> {
    let row: Option<i64> = sqlx::query_scalar(
        "SELECT artifact_id FROM policy_queue WHERE artifact_id = $1 AND dead_at IS NULL
            FOR UPDATE SKIP LOCKED",
    )
    .bind(artifact_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

pub async fn dequeue(conn: &mut PgConnection, artifact_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM policy_queue WHERE artifact_id = ANY($1)")
        .bind(artifact_ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Dead-letters an evaluation that never completes: it stays queued (the
/// gate reports it) but is not claimed again until replayed.
pub async fn dead_letter(
    conn: &mut PgConnection,
    artifact_id: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO policy_queue (artifact_id, reason, attempts, dead_at, last_error)
         VALUES ($1, 'gate', 1, now(), $2)
         ON CONFLICT (artifact_id) DO UPDATE
            SET dead_at = now(), last_error = $2, attempts = policy_queue.attempts + 1",
    )
    .bind(artifact_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// A queued evaluation that was dead-lettered.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct DeadEvaluation {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
    /// What last queued it.
    pub reason: String,
    pub attempts: i32,
    pub dead_at: DateTime<Utc>,
    /// Why it was dead-lettered.
    pub error: Option<String>,
}

/// Dead-lettered evaluations, newest first, after the keyset cursor
/// `(dead_at, artifact_id)`.
pub async fn dead_evaluations(
    db: impl PgExecutor<'_>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<DeadEvaluation>> {
    sqlx::query_as(
        "SELECT q.artifact_id, p.name AS project, a.name AS artifact, a.version, q.reason,
                q.attempts, q.dead_at, q.last_error AS error
           FROM policy_queue q JOIN artifacts a ON a.id = q.artifact_id
           JOIN projects p ON p.id = a.project_id
          WHERE q.dead_at IS NOT NULL
            AND ($1::timestamptz IS NULL OR (q.dead_at, q.artifact_id) < ($1, $2))
          ORDER BY q.dead_at DESC, q.artifact_id DESC LIMIT $3",
    )
    .bind(after.map(|a| a.0))
    .bind(after.map_or(0, |a| a.1))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Puts a dead-lettered evaluation back in the queue with fresh attempts.
/// False when the artifact has no dead-lettered evaluation.
pub async fn replay_dead(conn: &mut PgConnection, artifact_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE policy_queue SET dead_at = NULL, attempts = 0, last_error = NULL,
                next_attempt_at = now(), reason = 'replay'
          WHERE artifact_id = $1 AND dead_at IS NOT NULL",
    )
    .bind(artifact_id)
    .execute(&mut *conn)
    .await?;
    crate::queue::clear(&mut *conn, crate::queue::Queue::Policy, &[artifact_id]).await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: retried after `backoff_secs`.
pub async fn retry_later(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
    error: &str,
    backoff_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE policy_queue SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3 * power(2, least(attempts, 10)))
          WHERE artifact_id = ANY($1)",
    )
    .bind(artifact_ids)
    .bind(error)
    .bind(backoff_secs)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn queued(db: impl PgExecutor<'_>, artifact_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_queue WHERE artifact_id = $1)")
        .bind(artifact_id)
        .fetch_one(db)
        .await
}

/// Why this artifact's evaluation was dead-lettered, if it was.
pub async fn dead_reason(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT coalesce(last_error, 'dead-lettered') FROM policy_queue
          WHERE artifact_id = $1 AND dead_at IS NOT NULL",
    )
    .bind(artifact_id)
    .fetch_optional(db)
    .await
}

pub async fn queue_length(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM policy_queue")
        .fetch_one(db)
        .await
}

/// Queues the artifacts of waivers that expired, once.
pub async fn enqueue_expired_waivers(conn: &mut PgConnection) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "WITH expired AS (
            UPDATE waivers SET expiry_queued = true
             WHERE expires_at <= now() AND NOT expiry_queued AND revoked_at IS NULL
         RETURNING artifact_id, project_id)
         INSERT INTO policy_queue (artifact_id, reason)
         SELECT a.id, 'waiver-expired' FROM artifacts a, expired e
          WHERE a.id = e.artifact_id OR a.project_id = e.project_id
         ON CONFLICT (artifact_id) DO UPDATE SET next_attempt_at = now(), reason = EXCLUDED.reason",
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

// --- policy sets -------------------------------------------------------------------

/// A set's current version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicySet {
    pub id: i64,
    pub name: String,
    pub version: i32,
    /// SHA-256 of this version's definition.
    pub digest: String,
    pub definition: PolicyDefinition,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SetRow {
    id: i64,
    name: String,
    version: i32,
    digest: String,
    #[sqlx(json)]
    definition: PolicyDefinition,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SetRow> for PolicySet {
    fn from(r: SetRow) -> Self {
        PolicySet {
            id: r.id,
            name: r.name,
            version: r.version,
            digest: r.digest,
            definition: r.definition,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const SET: &str = "SELECT s.id, s.name, v.version, v.digest, v.definition, s.created_at, s.updated_at
                     FROM policy_sets s
                     JOIN policy_set_versions v ON v.policy_set_id = s.id AND v.version = s.current_version";

/// Creates a set at version 1; `None` if the name is taken.
pub async fn insert_set(
    conn: &mut PgConnection,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO policy_sets (name, current_version) VALUES ($1, 1)
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(&def.name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    insert_version(conn, id, 1, def, created_by).await?;
    Ok(Some(id))
}

async fn insert_version(
    conn: &mut PgConnection,
    id: i64,
    version: i32,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO policy_set_versions (policy_set_id, version, definition, digest, created_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(sqlx::types::Json(def))
    .bind(def.digest())
    .bind(created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the (live) set for a change.
pub async fn lock_set(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<(i32, String)>> {
    sqlx::query_as(
        "SELECT s.current_version, v.digest FROM policy_sets s
           JOIN policy_set_versions v ON v.policy_set_id = s.id AND v.version = s.current_version
          WHERE s.id = $1 AND s.deleted_at IS NULL FOR UPDATE OF s",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Adds a version and makes it current.
pub async fn new_version(
    conn: &mut PgConnection,
    id: i64,
    version: i32,
    def: &PolicyDefinition,
    created_by: i64,
) -> sqlx::Result<()> {
    insert_version(conn, id, version, def, created_by).await?;
    sqlx::query(
        "UPDATE policy_sets SET current_version = $2, name = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .bind(&def.name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn name_taken(db: impl PgExecutor<'_>, name: &str, except: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM policy_sets WHERE name = $1 AND id <> $2)")
        .bind(name)
        .bind(except)
        .fetch_one(db)
        .await
}

pub async fn delete_set(conn: &mut PgConnection, id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE policy_sets SET deleted_at = now(), name = name || '~deleted-' || id
          WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM policy_latest WHERE policy_set_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get_set(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<PolicySet>> {
    let row: Option<SetRow> =
        sqlx::query_as(&format!("{SET} WHERE s.id = $1 AND s.deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Into::into))
}

/// Live sets, by name.
pub async fn list_sets(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PolicySet>> {
    let rows: Vec<SetRow> =
        sqlx::query_as(&format!("{SET} WHERE s.deleted_at IS NULL ORDER BY s.name"))
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One version of a set.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PolicyVersion {
    pub version: i32,
    pub digest: String,
    #[sqlx(json)]
    pub definition: PolicyDefinition,
    pub created_at: DateTime<Utc>,
}

pub async fn versions(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Vec<PolicyVersion>> {
    sqlx::query_as(
        "SELECT version, digest, definition, created_at FROM policy_set_versions
          WHERE policy_set_id = $1 ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(db)
    .await
}

// --- waivers ---------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WaiverRecord {
    pub id: i64,
    pub policy_set: Option<String>,
    pub rule: String,
    pub violation: Option<String>,
    pub artifact_id: Option<i64>,
    pub project: Option<String>,
    pub justification: String,
    pub approver: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Not revoked and not expired.
    pub active: bool,
}

const WAIVER: &str = "SELECT w.id, s.name AS policy_set, w.rule, w.violation, w.artifact_id,
           p.name AS project, w.justification, w.approver, w.expires_at, w.created_at,
           w.revoked_at, (w.revoked_at IS NULL AND w.expires_at > now()) AS active
      FROM waivers w
      LEFT JOIN policy_sets s ON s.id = w.policy_set_id
      LEFT JOIN projects p ON p.id = w.project_id";

pub struct NewWaiver<'a> {
    pub policy_set_id: Option<i64>,
    pub rule: &'a str,
    pub violation: Option<&'a str>,
    pub artifact_id: Option<i64>,
    pub project_id: Option<i64>,
    pub justification: &'a str,
    pub approver: &'a str,
    pub expires_at: DateTime<Utc>,
    pub created_by: i64,
}

pub async fn insert_waiver(conn: &mut PgConnection, w: &NewWaiver<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO waivers (policy_set_id, rule, violation, artifact_id, project_id,
                              justification, approver, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(w.policy_set_id)
    .bind(w.rule)
    .bind(w.violation)
    .bind(w.artifact_id)
    .bind(w.project_id)
    .bind(w.justification)
    .bind(w.approver)
    .bind(w.expires_at)
    .bind(w.created_by)
    .fetch_one(conn)
    .await
}

pub async fn get_waiver(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<WaiverRecord>> {
    sqlx::query_as(&format!("{WAIVER} WHERE w.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Waivers newest first, `limit` of them from before id `before`.
pub async fn list_waivers(
    db: impl PgExecutor<'_>,
    active_only: bool,
    artifact_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<WaiverRecord>> {
    sqlx::query_as(&format!(
        "{WAIVER} WHERE (NOT $1 OR (w.revoked_at IS NULL AND w.expires_at > now()))
           AND ($2::bigint IS NULL OR w.artifact_id = $2
                OR w.project_id = (SELECT project_id FROM artifacts WHERE id = $2))
           AND ($3::bigint IS NULL OR w.id < $3)
         ORDER BY w.id DESC LIMIT $4"
    ))
    .bind(active_only)
    .bind(artifact_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Revokes; returns the artifacts to re-evaluate (None: no such live waiver).
pub async fn revoke_waiver(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Vec<i64>>> {
    let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "UPDATE waivers SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
         RETURNING artifact_id, project_id",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((artifact, project)) = row else {
        return Ok(None);
    };
    Ok(Some(waiver_artifacts(conn, artifact, project).await?))
}

pub async fn waiver_artifacts(
    conn: &mut PgConnection,
    artifact: Option<i64>,
    project: Option<i64>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM artifacts WHERE id = $1 OR project_id = $2")
        .bind(artifact)
        .bind(project)
        .fetch_all(conn)
        .await
}

/// Waivers in force now for an artifact (its own and its project's).
pub async fn waivers_for(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    project_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Waiver>> {
    let rows: Vec<(
        i64,
        Option<i64>,
        String,
        Option<String>,
        String,
        String,
        DateTime<Utc>,
    )> = sqlx::query_as(
        "SELECT id, policy_set_id, rule, violation, justification, approver, expires_at
               FROM waivers
              WHERE (artifact_id = $1 OR project_id = $2) AND revoked_at IS NULL AND expires_at > $3
              ORDER BY id",
    )
    .bind(artifact_id)
    .bind(project_id)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, set, rule, violation, justification, approver, expires_at)| Waiver {
                policy_set_id: set,
                rule,
                applied: AppliedWaiver {
                    id,
                    violation,
                    justification,
                    approver,
                    expires_at,
                },
            },
        )
        .collect())
}

pub async fn project_id(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM projects WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn set_id_by_name(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM policy_sets WHERE name = $1 AND deleted_at IS NULL")
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn artifact_exists(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

// --- evaluations -------------------------------------------------------------------

pub struct NewEvaluation<'a> {
    pub artifact_id: i64,
    pub policy_set_id: i64,
    pub version: i32,
    pub mode: &'a str,
    pub decision: &'a str,
    pub results: &'a [RuleResult],
    pub input_digest: &'a str,
    pub trigger: &'a str,
    pub evaluated_at: DateTime<Utc>,
}

/// Stores one evaluation and makes it the latest for (artifact, set).
pub async fn insert_evaluation(
    conn: &mut PgConnection,
    e: &NewEvaluation<'_>,
) -> sqlx::Result<i64> {
    let by = |what: &str| -> Vec<String> {
        e.results
            .iter()
            .filter(|r| r.effective == what || (what == "fail" && r.effective == "error"))
            .map(|r| r.rule.clone())
            .collect()
    };
    let expiry = e
        .results
        .iter()
        .flat_map(|r| r.waivers.iter().map(|w| w.expires_at))
        .min();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO policy_evaluations (artifact_id, policy_set_id, version, mode, decision,
             failed_rules, warned_rules, waived_rules, waivers_expire_at, results, input_digest,
             trigger, evaluated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(e.artifact_id)
    .bind(e.policy_set_id)
    .bind(e.version)
    .bind(e.mode)
    .bind(e.decision)
    .bind(by("fail"))
    .bind(by("warn"))
    .bind(by("waived"))
    .bind(expiry)
    .bind(sqlx::types::Json(e.results))
    .bind(e.input_digest)
    .bind(e.trigger)
    .bind(e.evaluated_at)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO policy_latest (artifact_id, policy_set_id, evaluation_id) VALUES ($1, $2, $3)
         ON CONFLICT (artifact_id, policy_set_id) DO UPDATE SET evaluation_id = EXCLUDED.evaluation_id",
    )
    .bind(e.artifact_id)
    .bind(e.policy_set_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A stored evaluation.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct EvaluationRecord {
    pub id: i64,
    pub artifact_id: i64,
    pub policy_set_id: i64,
    pub policy_set: String,
    pub version: i32,
    /// `enforce` or `warn`.
    pub mode: String,
    /// `allow` or `deny`.
    pub decision: String,
    pub failed_rules: Vec<String>,
    pub warned_rules: Vec<String>,
    pub waived_rules: Vec<String>,
    pub waivers_expire_at: Option<DateTime<Utc>>,
    #[sqlx(json)]
    pub results: Vec<RuleResult>,
    pub input_digest: String,
    /// What caused it: `sbom`, `attestation`, `policy-set`, `waiver`,
    /// `waiver-expired`, `gate`, ...
    pub trigger: String,
    pub evaluated_at: DateTime<Utc>,
    /// The set's current version is newer than the evaluated one.
    pub stale: bool,
}

const EVALUATION: &str =
    "SELECT e.id, e.artifact_id, e.policy_set_id, s.name AS policy_set, e.version,
           e.mode, e.decision, e.failed_rules, e.warned_rules, e.waived_rules, e.waivers_expire_at,
           e.results, e.input_digest, e.trigger, e.evaluated_at,
           (s.current_version <> e.version) AS stale
      FROM policy_evaluations e JOIN policy_sets s ON s.id = e.policy_set_id";

/// The latest evaluation of each live set for these artifacts.
pub async fn latest(
    db: impl PgExecutor<'_>,
    artifact_ids: &[i64],
) -> sqlx::Result<Vec<EvaluationRecord>> {
    sqlx::query_as(&format!(
        "{EVALUATION} JOIN policy_latest l ON l.evaluation_id = e.id
          WHERE l.artifact_id = ANY($1) AND s.deleted_at IS NULL
          ORDER BY e.artifact_id, s.name"
    ))
    .bind(artifact_ids)
    .fetch_all(db)
    .await
}

pub async fn history(
    db: impl PgExecutor<'_>,
    artifact_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<EvaluationRecord>> {
    sqlx::query_as(&format!(
        "{EVALUATION} WHERE e.artifact_id = $1 AND ($2::bigint IS NULL OR e.id < $2)
          ORDER BY e.id DESC LIMIT $3"
    ))
    .bind(artifact_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The artifacts with this digest, with their project.
pub async fn artifacts_by_digest(
    db: impl PgExecutor<'_>,
    digest: &str,
) -> sqlx::Result<Vec<GateTarget>> {
    sqlx::query_as(
        "SELECT a.id, p.name AS project, a.name, a.version,
                coalesce((SELECT array_agg(t.tag) FROM project_tags t WHERE t.project_id = p.id), '{}') AS tags,
                q.artifact_id IS NOT NULL AS queued,
                CASE WHEN q.dead_at IS NOT NULL THEN coalesce(q.last_error, 'dead-lettered') END AS dead
           FROM artifacts a JOIN projects p ON p.id = a.project_id
           LEFT JOIN policy_queue q ON q.artifact_id = a.id
          WHERE a.digest = $1 ORDER BY a.id",
    )
    .bind(digest)
    .fetch_all(db)
    .await
}

/// An artifact the gate judges.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GateTarget {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub version: String,
    pub tags: Vec<String>,
    /// An evaluation is queued (evidence changed since the last one).
    pub queued: bool,
    /// Why its evaluation was dead-lettered, if it was.
    pub dead: Option<String>,
}

/// Sets project tags (replaces them).
pub async fn set_project_tags(
    conn: &mut PgConnection,
    project_id: i64,
    tags: &[String],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM project_tags WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO project_tags (project_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(project_id)
    .bind(tags)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- policy-results overview --------------------------------------------------------------

/// One cell of the projects × rules matrix: counts of artifacts (latest
/// evaluations of live sets, at their current version).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MatrixCell {
    pub project: String,
    pub rule: String,
    pub pass: i64,
    pub fail: i64,
    pub warn: i64,
    pub waived: i64,
    pub not_applicable: i64,
}

pub async fn matrix(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<MatrixCell>> {
    sqlx::query_as(
        "SELECT p.name AS project, r->>'rule' AS rule,
                count(*) FILTER (WHERE r->>'effective' = 'pass') AS pass,
                count(*) FILTER (WHERE r->>'effective' IN ('fail', 'error')) AS fail,
                count(*) FILTER (WHERE r->>'effective' = 'warn') AS warn,
                count(*) FILTER (WHERE r->>'effective' = 'waived') AS waived,
                count(*) FILTER (WHERE r->>'effective' = 'not-applicable') AS not_applicable
           FROM policy_latest l
           JOIN policy_evaluations e ON e.id = l.evaluation_id
           JOIN policy_sets s ON s.id = e.policy_set_id AND s.deleted_at IS NULL
           JOIN artifacts a ON a.id = l.artifact_id
           JOIN projects p ON p.id = a.project_id
           CROSS JOIN LATERAL jsonb_array_elements(e.results) r
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(db)
    .await
}

/// Compliance per day: of the artifacts evaluated up to that day, the share
/// whose latest evaluation (per set) as of that day allowed.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct TrendPoint {
    pub day: chrono::NaiveDate,
    pub allowed: i64,
    pub total: i64,
}

pub async fn trend(db: impl PgExecutor<'_>, days: i32) -> sqlx::Result<Vec<TrendPoint>> {
    sqlx::query_as(
        "WITH days AS (
             SELECT d::date AS day FROM generate_series(current_date - ($1 - 1), current_date, '1 day') d)
         SELECT days.day,
                count(*) FILTER (WHERE x.decision = 'allow') AS allowed,
                count(x.decision) AS total
           FROM days
           LEFT JOIN LATERAL (
                SELECT DISTINCT ON (e.artifact_id, e.policy_set_id) e.decision
                  FROM policy_evaluations e JOIN policy_sets s ON s.id = e.policy_set_id AND s.deleted_at IS NULL
                 WHERE e.evaluated_at < days.day + 1
                 ORDER BY e.artifact_id, e.policy_set_id, e.id DESC) x ON true
          GROUP BY days.day ORDER BY days.day",
    )
    .bind(days)
    .fetch_all(db)
    .await
}
