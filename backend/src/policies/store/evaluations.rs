//! Evaluations (stored, the latest per set, history), the artifacts the
//! gate judges, and the dashboard's reads over them (matrix, trend).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use utoipa::ToSchema;

use crate::policies::core::engine::{Mode, RuleResult};
use crate::policies::core::{Decision, Effective};

// --- evaluations -------------------------------------------------------------------

pub struct NewEvaluation<'a> {
    pub artifact_id: i64,
    pub policy_set_id: i64,
    pub version: i32,
    pub mode: Mode,
    pub decision: Decision,
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
    // Errors are listed with the failures: both deny.
    let by = |what: Effective| -> Vec<String> {
        e.results
            .iter()
            .filter(|r| r.effective == what || (what == Effective::Fail && r.effective.fails()))
            .map(|r| r.rule.clone())
            .collect()
    };
    let expiry = e
        .results
        .iter()
        .flat_map(|r| r.waivers.iter().map(|w| w.expires_at))
        .min();
    let holds_until = e.results.iter().filter_map(|r| r.holds_until).min();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO policy_evaluations (artifact_id, policy_set_id, version, mode, decision,
             failed_rules, warned_rules, waived_rules, waivers_expire_at, results, input_digest,
             trigger, evaluated_at, holds_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(e.artifact_id)
    .bind(e.policy_set_id)
    .bind(e.version)
    .bind(e.mode.as_str())
    .bind(e.decision.as_str())
    .bind(by(Effective::Fail))
    .bind(by(Effective::Warn))
    .bind(by(Effective::Waived))
    .bind(expiry)
    .bind(sqlx::types::Json(e.results))
    .bind(e.input_digest)
    .bind(e.trigger)
    .bind(e.evaluated_at)
    .bind(holds_until)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO policy_latest (artifact_id, policy_set_id, evaluation_id, holds_until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (artifact_id, policy_set_id)
         DO UPDATE SET evaluation_id = EXCLUDED.evaluation_id, holds_until = EXCLUDED.holds_until",
    )
    .bind(e.artifact_id)
    .bind(e.policy_set_id)
    .bind(id)
    .bind(holds_until)
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
    #[sqlx(try_from = "String")]
    pub mode: Mode,
    #[sqlx(try_from = "String")]
    pub decision: Decision,
    pub failed_rules: Vec<String>,
    pub warned_rules: Vec<String>,
    pub waived_rules: Vec<String>,
    pub waivers_expire_at: Option<DateTime<Utc>>,
    #[sqlx(json)]
    pub results: Vec<RuleResult>,
    pub input_digest: String,
    /// What caused it: `sbom`, `attestation`, `policy-set`, `waiver`,
    /// `waiver-expired`, `evidence-aged`, `gate`, ...
    pub trigger: String,
    pub evaluated_at: DateTime<Utc>,
    /// The results rest on evidence that ages (`evidence-fresh`): they hold
    /// until then, and the artifact is judged again after.
    pub holds_until: Option<DateTime<Utc>>,
    /// The set's current version is newer than the evaluated one.
    pub stale: bool,
}

const EVALUATION: &str =
    "SELECT e.id, e.artifact_id, e.policy_set_id, s.name AS policy_set, e.version,
           e.mode, e.decision, e.failed_rules, e.warned_rules, e.waived_rules, e.waivers_expire_at,
           e.results, e.input_digest, e.trigger, e.evaluated_at, e.holds_until,
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

/// The latest evaluation of each live set for the artifacts of a project,
/// by artifact and set name, those after `after`; at most `limit`.
pub async fn project_latest(
    db: impl PgExecutor<'_>,
    project_id: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> sqlx::Result<Vec<EvaluationRecord>> {
    let (after_artifact, after_set) = after.unzip();
    sqlx::query_as(&format!(
        "{EVALUATION} JOIN policy_latest l ON l.evaluation_id = e.id
          JOIN artifacts a ON a.id = l.artifact_id
          WHERE a.project_id = $1 AND s.deleted_at IS NULL
            AND ($2::bigint IS NULL OR (e.artifact_id, s.name) > ($2, $3))
          ORDER BY e.artifact_id, s.name LIMIT $4"
    ))
    .bind(project_id)
    .bind(after_artifact)
    .bind(after_set)
    .bind(limit)
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

// --- artifacts and projects -------------------------------------------------------

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

pub async fn project_id(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM projects WHERE name = $1")
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
