//! Build records: CI runs and their jobs. Upserts converge whatever the
//! order of events: descriptive fields fill in, and status only moves
//! forward (queued → in progress → completed; later event on a tie).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::builds::core::normalize::{JobRecord, RunRecord};

/// Whether the incoming row's status beats the stored one.
const RUN_WINS: &str = "(EXCLUDED.status_rank > ci_runs.status_rank
    OR (EXCLUDED.status_rank = ci_runs.status_rank AND EXCLUDED.status_rank > 0
        AND (ci_runs.status_at IS NULL OR EXCLUDED.status_at >= ci_runs.status_at)))";
const JOB_WINS: &str = "(EXCLUDED.status_rank > ci_jobs.status_rank
    OR (EXCLUDED.status_rank = ci_jobs.status_rank
        AND (ci_jobs.status_at IS NULL OR EXCLUDED.status_at >= ci_jobs.status_at)))";

/// Finds the project a repository feeds: by name (`owner/repo`) or by
/// repository URL; creates it, named after the repository, if none.
pub async fn project_for_repository(
    db: &mut PgConnection,
    repository: &str,
    repository_url: Option<&str>,
) -> sqlx::Result<Option<i64>> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM projects
         WHERE lower(name) = lower($1)
            OR ($2::text IS NOT NULL AND lower(rtrim(repository_url, '/')) = lower(rtrim($2, '/')))
         ORDER BY (name = $1) DESC, id LIMIT 1",
    )
    .bind(repository)
    .bind(repository_url)
    .fetch_optional(&mut *db)
    .await?;
    if found.is_some() {
        return Ok(found);
    }
    if crate::domain::ProjectName::parse(repository).is_err() {
        return Ok(None);
    }
    sqlx::query_scalar(
        "INSERT INTO projects (name, repository_url) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE
            SET repository_url = coalesce(projects.repository_url, EXCLUDED.repository_url)
         RETURNING id",
    )
    .bind(repository)
    .bind(repository_url)
    .fetch_one(db)
    .await
    .map(Some)
}

/// Inserts or merges a run; returns its id.
pub async fn upsert_run(
    db: &mut PgConnection,
    provider: &str,
    source_id: i64,
    project_id: Option<i64>,
    r: &RunRecord,
) -> sqlx::Result<i64> {
    let sql = format!(
        "INSERT INTO ci_runs (provider, provider_run_id, run_attempt, source_id, repository,
            repository_url, project_id, workflow_name, workflow_file, event, ref, head_sha,
            actor, status, conclusion, status_rank, status_at, started_at, completed_at, url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20)
         ON CONFLICT (provider, provider_run_id, run_attempt) DO UPDATE SET
            source_id = coalesce(ci_runs.source_id, EXCLUDED.source_id),
            repository_url = coalesce(ci_runs.repository_url, EXCLUDED.repository_url),
            project_id = coalesce(ci_runs.project_id, EXCLUDED.project_id),
            workflow_name = coalesce(EXCLUDED.workflow_name, ci_runs.workflow_name),
            workflow_file = coalesce(EXCLUDED.workflow_file, ci_runs.workflow_file),
            event = coalesce(EXCLUDED.event, ci_runs.event),
            ref = coalesce(ci_runs.ref, EXCLUDED.ref),
            head_sha = coalesce(ci_runs.head_sha, EXCLUDED.head_sha),
            actor = coalesce(EXCLUDED.actor, ci_runs.actor),
            url = CASE WHEN EXCLUDED.status_rank > 0
                       THEN coalesce(EXCLUDED.url, ci_runs.url)
                       ELSE coalesce(ci_runs.url, EXCLUDED.url) END,
            started_at = coalesce(ci_runs.started_at, EXCLUDED.started_at),
            status = CASE WHEN {RUN_WINS} THEN EXCLUDED.status ELSE ci_runs.status END,
            conclusion = CASE WHEN {RUN_WINS} THEN EXCLUDED.conclusion ELSE ci_runs.conclusion END,
            completed_at = CASE WHEN {RUN_WINS} THEN EXCLUDED.completed_at
                                ELSE ci_runs.completed_at END,
            status_at = CASE WHEN {RUN_WINS} THEN EXCLUDED.status_at ELSE ci_runs.status_at END,
            status_rank = greatest(ci_runs.status_rank, EXCLUDED.status_rank),
            updated_at = now()
         RETURNING id"
    );
    sqlx::query_scalar(&sql)
        .bind(provider)
        .bind(r.provider_run_id)
        .bind(r.run_attempt)
        .bind(source_id)
        .bind(&r.repository)
        .bind(&r.repository_url)
        .bind(project_id)
        .bind(&r.workflow_name)
        .bind(&r.workflow_file)
        .bind(&r.event)
        .bind(&r.git_ref)
        .bind(&r.head_sha)
        .bind(&r.actor)
        .bind(&r.status)
        .bind(&r.conclusion)
        .bind(r.status_rank)
        .bind(r.status_at)
        .bind(r.started_at)
        .bind(r.completed_at)
        .bind(&r.url)
        .fetch_one(db)
        .await
}

/// The run a job event belongs to: created or completed with what the
/// event tells of it when needed; otherwise only looked up, so that job
/// events of one run (the bulk of the traffic) do not lock the run row.
pub async fn run_for_job(
    db: &mut PgConnection,
    provider: &str,
    source_id: i64,
    project_id: Option<i64>,
    r: &RunRecord,
) -> sqlx::Result<i64> {
    #[derive(sqlx::FromRow)]
    struct Known {
        id: i64,
        no_url: bool,
        no_project: bool,
        no_workflow: bool,
        no_ref: bool,
        no_sha: bool,
        no_run_url: bool,
    }
    let known: Option<Known> = sqlx::query_as(
        "SELECT id, repository_url IS NULL AS no_url, project_id IS NULL AS no_project,
                workflow_name IS NULL AS no_workflow, ref IS NULL AS no_ref,
                head_sha IS NULL AS no_sha, url IS NULL AS no_run_url
         FROM ci_runs WHERE provider = $1 AND provider_run_id = $2 AND run_attempt = $3",
    )
    .bind(provider)
    .bind(r.provider_run_id)
    .bind(r.run_attempt)
    .fetch_optional(&mut *db)
    .await?;
    match known {
        Some(k)
            if !(k.no_url && r.repository_url.is_some()
                || k.no_project && project_id.is_some()
                || k.no_workflow && r.workflow_name.is_some()
                || k.no_ref && r.git_ref.is_some()
                || k.no_sha && r.head_sha.is_some()
                || k.no_run_url && r.url.is_some()) =>
        {
            Ok(k.id)
        }
        _ => upsert_run(db, provider, source_id, project_id, r).await,
    }
}

/// Inserts or merges a run's jobs, and raises the run's runner kind when
/// they say more (self-hosted if any job ran self-hosted), in one statement.
pub async fn upsert_jobs(
    db: &mut PgConnection,
    run_id: i64,
    jobs: &[JobRecord],
) -> sqlx::Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    // One row per job id: a statement may not update the same row twice.
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<serde_json::Value> = jobs
        .iter()
        .rev()
        .filter(|j| seen.insert(j.provider_job_id))
        .map(|j| {
            serde_json::json!({
                "provider_job_id": j.provider_job_id,
                "name": j.name,
                "stage": j.stage,
                "status": j.status,
                "conclusion": j.conclusion,
                "status_rank": j.status_rank,
                "status_at": j.status_at,
                "started_at": j.started_at,
                "completed_at": j.completed_at,
                "runner_name": j.runner_name,
                "runner_labels": j.runner_labels,
                "runner_group": j.runner_group,
                "runner_kind": j.runner_kind.map(|k| k.as_str()),
                "environment": j.environment,
                "url": j.url,
            })
        })
        .collect();
    let sql = format!(
        "WITH ins AS (INSERT INTO ci_jobs (run_id, provider_job_id, name, stage, status, conclusion,
            status_rank, status_at, started_at, completed_at, runner_name, runner_labels,
            runner_group, runner_kind, environment, url)
         SELECT $1, j.provider_job_id, j.name, j.stage, j.status, j.conclusion, j.status_rank,
                j.status_at, j.started_at, j.completed_at, j.runner_name,
                ARRAY(SELECT jsonb_array_elements_text(coalesce(j.runner_labels, '[]'))),
                j.runner_group, j.runner_kind, j.environment, j.url
         FROM jsonb_to_recordset($2) AS j(provider_job_id bigint, name text, stage text,
              status text, conclusion text, status_rank smallint, status_at timestamptz,
              started_at timestamptz, completed_at timestamptz, runner_name text,
              runner_labels jsonb, runner_group text, runner_kind text, environment text,
              url text)
         ON CONFLICT (run_id, provider_job_id) DO UPDATE SET
            name = coalesce(EXCLUDED.name, ci_jobs.name),
            stage = coalesce(EXCLUDED.stage, ci_jobs.stage),
            started_at = coalesce(ci_jobs.started_at, EXCLUDED.started_at),
            runner_name = coalesce(EXCLUDED.runner_name, ci_jobs.runner_name),
            runner_labels = CASE WHEN cardinality(EXCLUDED.runner_labels) > 0
                                 THEN EXCLUDED.runner_labels ELSE ci_jobs.runner_labels END,
            runner_group = coalesce(EXCLUDED.runner_group, ci_jobs.runner_group),
            runner_kind = coalesce(EXCLUDED.runner_kind, ci_jobs.runner_kind),
            environment = coalesce(EXCLUDED.environment, ci_jobs.environment),
            url = coalesce(EXCLUDED.url, ci_jobs.url),
            status = CASE WHEN {JOB_WINS} THEN EXCLUDED.status ELSE ci_jobs.status END,
            conclusion = CASE WHEN {JOB_WINS} THEN EXCLUDED.conclusion ELSE ci_jobs.conclusion END,
            completed_at = CASE WHEN {JOB_WINS} THEN coalesce(EXCLUDED.completed_at, ci_jobs.completed_at)
                                ELSE ci_jobs.completed_at END,
            status_at = CASE WHEN {JOB_WINS} THEN EXCLUDED.status_at ELSE ci_jobs.status_at END,
            status_rank = greatest(ci_jobs.status_rank, EXCLUDED.status_rank),
            updated_at = now()
         RETURNING runner_kind),
         k AS (SELECT CASE WHEN bool_or(runner_kind = 'self-hosted') THEN 'self-hosted'
                           WHEN bool_or(runner_kind = 'hosted') THEN 'hosted' END AS kind
               FROM ins),
         merged AS (SELECT CASE WHEN r.runner_kind = 'self-hosted' OR k.kind = 'self-hosted'
                                THEN 'self-hosted' ELSE coalesce(k.kind, r.runner_kind) END AS kind
                    FROM ci_runs r, k WHERE r.id = $1)
         UPDATE ci_runs r SET runner_kind = merged.kind FROM merged
         WHERE r.id = $1 AND r.runner_kind IS DISTINCT FROM merged.kind"
    );
    sqlx::query(&sql)
        .bind(run_id)
        .bind(serde_json::Value::Array(rows))
        .execute(db)
        .await?;
    Ok(())
}

/// A run as listed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RunSummary {
    pub id: i64,
    /// `github` or `gitlab`.
    pub provider: String,
    /// The provider's run id (GitHub workflow run id, GitLab pipeline id).
    pub provider_run_id: i64,
    pub run_attempt: i32,
    /// `owner/name` (GitLab: the project path).
    pub repository: String,
    pub repository_url: Option<String>,
    /// The Cairn project the run feeds.
    pub project: Option<String>,
    pub workflow_name: Option<String>,
    /// Workflow file (GitHub), e.g. `.github/workflows/build.yml`.
    pub workflow_file: Option<String>,
    /// What triggered the run (push, pull_request, merge_request_event, ...).
    pub event: Option<String>,
    #[serde(rename = "ref")]
    #[sqlx(rename = "ref")]
    pub git_ref: Option<String>,
    /// The commit the run built.
    #[serde(rename = "commit_sha")]
    pub head_sha: Option<String>,
    pub actor: Option<String>,
    /// `queued`, `in_progress`, `completed`; null while only jobs are known.
    pub status: Option<String>,
    /// When completed: success, failure, cancelled, skipped, ...
    pub conclusion: Option<String>,
    /// `hosted` or `self-hosted` (self-hosted if any job was); null until a
    /// job's runner is known.
    pub runner_kind: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Seconds from start to completion, when both are known.
    pub duration_secs: Option<i64>,
    pub url: Option<String>,
    pub job_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const RUN_SUMMARY: &str = "SELECT r.id, r.provider, r.provider_run_id, r.run_attempt,
    r.repository, r.repository_url, p.name AS project, r.workflow_name, r.workflow_file,
    r.event, r.ref, r.head_sha, r.actor, r.status, r.conclusion, r.runner_kind,
    r.started_at, r.completed_at,
    extract(epoch FROM r.completed_at - r.started_at)::bigint AS duration_secs,
    r.url, (SELECT count(*) FROM ci_jobs j WHERE j.run_id = r.id) AS job_count,
    r.created_at, r.updated_at
    FROM ci_runs r LEFT JOIN projects p ON p.id = r.project_id";

#[derive(Debug, Default, Deserialize)]
pub struct RunFilter {
    pub project: Option<String>,
    pub status: Option<String>,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub runner_kind: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Runs, newest first, after the cursor id.
pub async fn list_runs(
    db: impl PgExecutor<'_>,
    f: &RunFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<RunSummary>> {
    sqlx::query_as(&format!(
        "{RUN_SUMMARY}
         WHERE ($1::text IS NULL OR p.name = $1 OR lower(r.repository) = lower($1))
           AND ($2::text IS NULL OR r.status = $2 OR r.conclusion = $2)
           AND ($3::text IS NULL OR r.ref = $3 OR 'refs/heads/' || r.ref = $3
                OR r.ref = 'refs/heads/' || $3)
           AND ($4::text IS NULL OR starts_with(r.head_sha, lower($4)))
           AND ($5::text IS NULL OR r.runner_kind = $5)
           AND ($6::timestamptz IS NULL OR coalesce(r.started_at, r.created_at) >= $6)
           AND ($7::timestamptz IS NULL OR coalesce(r.started_at, r.created_at) < $7)
           AND ($8::bigint IS NULL OR r.id < $8)
         ORDER BY r.id DESC LIMIT $9"
    ))
    .bind(&f.project)
    .bind(&f.status)
    .bind(&f.git_ref)
    .bind(&f.sha)
    .bind(&f.runner_kind)
    .bind(f.since)
    .bind(f.until)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await
}

pub async fn get_run(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<RunSummary>> {
    sqlx::query_as(&format!("{RUN_SUMMARY} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct JobInfo {
    pub id: i64,
    pub provider_job_id: i64,
    pub name: Option<String>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    pub runner_name: Option<String>,
    pub runner_labels: Vec<String>,
    pub runner_group: Option<String>,
    /// `hosted` (GitHub/GitLab-hosted, ephemeral) or `self-hosted`.
    pub runner_kind: Option<String>,
    pub environment: Option<String>,
    pub url: Option<String>,
}

pub async fn jobs_of_run(db: impl PgExecutor<'_>, run_id: i64) -> sqlx::Result<Vec<JobInfo>> {
    sqlx::query_as(
        "SELECT id, provider_job_id, name, stage, status, conclusion, started_at, completed_at,
                extract(epoch FROM completed_at - started_at)::bigint AS duration_secs,
                runner_name, runner_labels, runner_group, runner_kind, environment, url
         FROM ci_jobs WHERE run_id = $1 ORDER BY started_at NULLS LAST, provider_job_id",
    )
    .bind(run_id)
    .fetch_all(db)
    .await
}

/// An artifact a run built: same project, versioned by the run's commit.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LinkedArtifact {
    pub id: i64,
    pub name: String,
    pub version: String,
    pub digest: Option<String>,
}

pub async fn artifacts_of_run(
    db: impl PgExecutor<'_>,
    run_id: i64,
) -> sqlx::Result<Vec<LinkedArtifact>> {
    sqlx::query_as(
        "SELECT a.id, a.name, a.version, a.digest
         FROM ci_runs r JOIN artifacts a ON a.project_id = r.project_id
         WHERE r.id = $1 AND r.head_sha IS NOT NULL
           AND a.version ~ '^[0-9a-fA-F]{7,64}$'
           AND starts_with(r.head_sha, lower(a.version))
         ORDER BY a.id",
    )
    .bind(run_id)
    .fetch_all(db)
    .await
}
