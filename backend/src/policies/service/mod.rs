//! Use cases of the policy engine: evaluate an artifact (and store the
//! result), dry-runs, and the policy set / waiver changes that queue
//! re-evaluations. The deploy gate and Kubernetes admission are in `gate`,
//! the paged listings in `listings`.

use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use crate::bounded::Bounded;
use crate::error::{ApiError, ApiResult};
use crate::notifications::service as notify;
use crate::policies::core::engine::{
    self, compile_rules, denies, CompiledSet, DefinitionError, EvalContext, EvalLimits, Mode,
    PolicyDefinition, RuleResult, RuleSpec, Waiver,
};
use crate::policies::core::{Decision, Effective, RuleInput};
use crate::policies::store::{
    self as store, EvaluationRecord, NewEvaluation, PolicySet, WaiverRecord,
};

mod gate;
mod listings;
pub use gate::{
    admit, gate, AdmissionOptions, GateArtifact, GateDecision, GateOptions, GateReason,
    MAX_ADMISSION_IMAGES, UNCOVERED,
};
pub use listings::{history_page, project_page, set_page, version_page};

/// A definition error as a 422 with its pointer.
pub fn definition_error(e: DefinitionError) -> ApiError {
    ApiError::invalid_policy(e.detail).with_pointer(Some(e.pointer))
}

// --- evaluation ------------------------------------------------------------------

/// One set's verdict on an artifact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SetVerdict {
    pub policy_set_id: i64,
    pub policy_set: String,
    pub version: i32,
    pub mode: Mode,
    pub decision: Decision,
    pub results: Vec<RuleResult>,
}

/// A stored version compiled once (its Rego modules parsed and compiled to
/// VM programs), not on every evaluation. Keyed by the definition's digest:
/// a version never changes, and the key means the same in every database.
fn compiled(set: &PolicySet) -> Result<Arc<CompiledSet>, DefinitionError> {
    static CACHE: LazyLock<Mutex<Bounded<String, Arc<CompiledSet>>>> =
        LazyLock::new(|| Mutex::new(Bounded::new(256)));
    if let Some(c) = CACHE.lock().expect("not poisoned").get(&set.digest) {
        return Ok(c.clone());
    }
    let c = Arc::new(set.definition.compile()?);
    CACHE
        .lock()
        .expect("not poisoned")
        .insert(set.digest.clone(), c.clone(), 1);
    Ok(c)
}

/// Evaluates `input` against every set that applies (blocking: Rego runs,
/// on a thread with a stack sized for the engine's recursion).
pub fn judge_input(
    input: &RuleInput,
    sets: &[PolicySet],
    waivers: &[Waiver],
    limits: EvalLimits,
) -> Vec<SetVerdict> {
    crate::policies::core::rego::on_large_stack(|| judge(input, sets, waivers, limits))
}

fn judge(
    input: &RuleInput,
    sets: &[PolicySet],
    waivers: &[Waiver],
    limits: EvalLimits,
) -> Vec<SetVerdict> {
    let ctx = EvalContext::new(input, limits);
    sets.iter()
        .filter(|s| {
            s.definition
                .scope
                .matches(&input.project.name, &input.project.tags)
        })
        .map(|s| {
            let results = match compiled(s) {
                Ok(compiled) => {
                    engine::evaluate(&compiled, s.definition.mode, &ctx, Some(s.id), waivers)
                }
                // A stored version no longer compiles (a built-in rule was
                // removed): every rule errors, nothing passes silently.
                Err(e) => vec![RuleResult {
                    rule: "policy-set".into(),
                    kind: "builtin".into(),
                    status: crate::policies::core::Status::Error,
                    effective: Effective::Error,
                    message: format!(
                        "the policy set no longer compiles: {} ({})",
                        e.detail, e.pointer
                    ),
                    violations: Vec::new(),
                    waived_violations: Vec::new(),
                    evidence: Vec::new(),
                    waivers: Vec::new(),
                    holds_until: None,
                }],
            };
            let deny = denies(s.definition.mode, &results);
            SetVerdict {
                policy_set_id: s.id,
                policy_set: s.name.clone(),
                version: s.version,
                mode: s.definition.mode,
                decision: Decision::of(deny),
                results,
            }
        })
        .collect()
}

/// Evaluates an artifact against the live sets and stores the results (in
/// the caller's transaction). Returns how many sets applied; `None` if the
/// artifact does not exist.
pub async fn evaluate_and_store(
    conn: &mut PgConnection,
    artifact_id: i64,
    trigger: &str,
    limits: EvalLimits,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<usize>> {
    let started = std::time::Instant::now();
    // Findings are matched once: recorded (first/last seen, history) and
    // judged by the `vulnerabilities` rule.
    let (findings, synced) =
        crate::vulnerabilities::service::sync_findings(&mut *conn, artifact_id, now).await?;
    crate::cra::service::sync_artifact(&mut *conn, artifact_id, now).await?;
    let Some(input) = store::load_input_with(conn, artifact_id, now, Some(findings)).await? else {
        return Ok(None);
    };
    let sets = store::list_sets(&mut *conn).await?;
    let waivers = store::waivers_for(&mut *conn, artifact_id, input.project.id, now).await?;
    let loaded = started.elapsed();
    let (verdicts, digest) = tokio::task::block_in_place(|| {
        let v = judge_input(&input, &sets, &waivers, limits);
        let d = if v.is_empty() {
            String::new()
        } else {
            engine::input_digest(&input)
        };
        (v, d)
    });
    let judged = started.elapsed();
    // Notifications are queued in this transaction: nothing is sent for an
    // evaluation that rolls back.
    let previous = notify::previous_decisions(&mut *conn, artifact_id, &verdicts).await?;
    for v in &verdicts {
        store::insert_evaluation(
            conn,
            &NewEvaluation {
                artifact_id,
                policy_set_id: v.policy_set_id,
                version: v.version,
                mode: v.mode,
                decision: v.decision,
                results: &v.results,
                input_digest: &digest,
                trigger,
                evaluated_at: now,
            },
        )
        .await?;
    }
    let subject = notify::Subject {
        artifact_id,
        project: input.project.name.clone(),
        artifact: input.artifact.name.clone(),
        version: input.artifact.version.clone(),
        digest: input.artifact.digest.clone(),
    };
    notify::findings_appeared(&mut *conn, &subject, &synced.appeared, now).await?;
    notify::verdicts_stored(&mut *conn, &subject, &verdicts, &previous, now).await?;
    tracing::debug!(
        artifact = artifact_id,
        load_ms = loaded.as_secs_f64() * 1e3,
        judge_ms = (judged - loaded).as_secs_f64() * 1e3,
        store_ms = (started.elapsed() - judged).as_secs_f64() * 1e3,
        "evaluated"
    );
    Ok(Some(verdicts.len()))
}

// --- dry-run --------------------------------------------------------------------

/// `POST /api/v1/policy-dry-run`: a stored set, or unsaved rules, against an
/// artifact. Nothing is stored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    pub artifact_id: i64,
    /// A stored set, by name ...
    #[serde(default)]
    pub policy_set: Option<String>,
    /// ... or unsaved rules (built-in or Rego).
    #[serde(default)]
    pub rules: Option<Vec<RuleSpec>>,
    #[serde(default)]
    pub mode: Option<Mode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunResult {
    pub artifact_id: i64,
    pub decision: Decision,
    pub results: Vec<RuleResult>,
    /// SHA-256 of the evidence evaluated.
    pub input_digest: String,
    /// The input rules (and Rego's `input`) saw.
    pub input: RuleInput,
}

pub async fn dry_run(
    pool: &PgPool,
    req: &DryRun,
    limits: EvalLimits,
    now: DateTime<Utc>,
) -> ApiResult<DryRunResult> {
    let (mode, rules, set_id) = match (&req.policy_set, &req.rules) {
        (Some(name), None) => {
            let id = store::set_id_by_name(pool, name).await?.ok_or_else(|| {
                ApiError::not_found(format!("there is no policy set named {name:?}"))
            })?;
            let set = store::get_set(pool, id).await?.ok_or_else(|| {
                ApiError::not_found(format!("there is no policy set named {name:?}"))
            })?;
            (
                req.mode.unwrap_or(set.definition.mode),
                set.definition.rules,
                Some(id),
            )
        }
        (None, Some(rules)) if !rules.is_empty() => {
            (req.mode.unwrap_or(Mode::Enforce), rules.clone(), None)
        }
        _ => {
            return Err(ApiError::bad_request(
                "give either \"policy_set\" (a name) or a non-empty \"rules\" list",
            ))
        }
    };
    let compiled = compile_rules(&rules, "/rules").map_err(definition_error)?;
    let mut conn = pool.acquire().await?;
    let input = store::load_input(&mut conn, req.artifact_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no artifact {}", req.artifact_id)))?;
    let waivers = store::waivers_for(&mut *conn, req.artifact_id, input.project.id, now).await?;
    drop(conn);
    let (results, digest) = tokio::task::block_in_place(|| {
        crate::policies::core::rego::on_large_stack(|| {
            let ctx = EvalContext::new(&input, limits);
            (
                engine::evaluate(&compiled, mode, &ctx, set_id, &waivers),
                engine::input_digest(&input),
            )
        })
    });
    Ok(DryRunResult {
        artifact_id: req.artifact_id,
        decision: Decision::of(denies(mode, &results)),
        results,
        input_digest: digest,
        input,
    })
}

// --- policy sets -------------------------------------------------------------------

pub async fn create_set(pool: &PgPool, def: &PolicyDefinition, by: i64) -> ApiResult<PolicySet> {
    def.compile().map_err(definition_error)?;
    let mut tx = pool.begin().await?;
    let id = store::insert_set(&mut tx, def, by)
        .await?
        .ok_or_else(|| ApiError::conflict(format!("a policy set named {:?} exists", def.name)))?;
    store::enqueue_for_set(&mut tx, id, &def.scope, "policy-set").await?;
    tx.commit().await?;
    store::get_set(pool, id)
        .await?
        .ok_or_else(ApiError::internal)
}

/// A new version (unless nothing changed: then the current one).
pub async fn update_set(
    pool: &PgPool,
    id: i64,
    def: &PolicyDefinition,
    by: i64,
) -> ApiResult<PolicySet> {
    def.compile().map_err(definition_error)?;
    let mut tx = pool.begin().await?;
    let (version, digest) = store::lock_set(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no policy set {id}")))?;
    if digest != def.digest() {
        if store::name_taken(&mut *tx, &def.name, id).await? {
            return Err(ApiError::conflict(format!(
                "a policy set named {:?} exists",
                def.name
            )));
        }
        let old = store::get_set(&mut *tx, id)
            .await?
            .ok_or_else(ApiError::internal)?;
        store::new_version(&mut tx, id, version + 1, def, by).await?;
        store::enqueue_for_set(&mut tx, id, &old.definition.scope, "policy-set").await?;
        store::enqueue_for_set(&mut tx, id, &def.scope, "policy-set").await?;
    }
    tx.commit().await?;
    store::get_set(pool, id)
        .await?
        .ok_or_else(ApiError::internal)
}

pub async fn delete_set(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    if !store::delete_set(&mut tx, id).await? {
        return Err(ApiError::not_found(format!("there is no policy set {id}")));
    }
    tx.commit().await?;
    Ok(())
}

// --- waivers ------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWaiverRequest {
    /// The rule id (as in results), e.g. `licenses` or `rego:acme.nogpl`.
    pub rule: String,
    /// Only this violation key (from `violations[].key`).
    #[serde(default)]
    pub violation: Option<String>,
    /// Limit to one policy set (by name); default: the rule in any set.
    #[serde(default)]
    pub policy_set: Option<String>,
    /// Either an artifact ...
    #[serde(default)]
    pub artifact_id: Option<i64>,
    /// ... or a project (by name).
    #[serde(default)]
    pub project: Option<String>,
    pub justification: String,
    /// Ignored, accepted for compatibility: the approver recorded is always
    /// the authenticated caller (the token's name), never a name the request
    /// chooses.
    #[serde(default)]
    pub approver: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Creates a waiver approved by `by`, the authenticated caller: its token's
/// name is the recorded `approver` (and its id `created_by`), whatever the
/// request's free-text `approver` says.
pub async fn create_waiver(
    pool: &PgPool,
    w: &NewWaiverRequest,
    by: &crate::identity::Caller,
    now: DateTime<Utc>,
) -> ApiResult<store::WaiverRecord> {
    let text = |what: &str, v: &str, max: usize| -> ApiResult<()> {
        if v.trim().is_empty() || v.len() > max {
            Err(
                ApiError::invalid_policy(format!("{what} must be 1-{max} characters"))
                    .with_pointer(Some(format!("/{what}"))),
            )
        } else {
            Ok(())
        }
    };
    text("rule", &w.rule, 200)?;
    text("justification", &w.justification, 4000)?;
    if w.approver.as_deref().is_some_and(|a| a.trim() != by.name) {
        tracing::info!(
            token_id = by.token_id,
            "waiver: the request's approver field is ignored; the caller is the approver"
        );
    }
    if let Some(v) = &w.violation {
        text("violation", v, 2000)?;
    }
    if w.expires_at <= now {
        return Err(ApiError::invalid_policy("expires_at must be in the future")
            .with_pointer(Some("/expires_at".into())));
    }
    if w.expires_at > now + chrono::Duration::days(366 * 3) {
        return Err(ApiError::invalid_policy("a waiver lasts at most 3 years")
            .with_pointer(Some("/expires_at".into())));
    }
    let mut tx = pool.begin().await?;
    let (artifact_id, project_id) = match (w.artifact_id, &w.project) {
        (Some(a), None) => {
            if !store::artifact_exists(&mut *tx, a).await? {
                return Err(ApiError::not_found(format!("there is no artifact {a}")));
            }
            (Some(a), None)
        }
        (None, Some(p)) => {
            let id = store::project_id(&mut *tx, p)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("there is no project named {p:?}")))?;
            (None, Some(id))
        }
        _ => {
            return Err(ApiError::invalid_policy(
                "a waiver is for exactly one of artifact_id or project",
            ))
        }
    };
    let policy_set_id = match &w.policy_set {
        None => None,
        Some(name) => Some(
            store::set_id_by_name(&mut *tx, name)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("there is no policy set named {name:?}"))
                })?,
        ),
    };
    let id = store::insert_waiver(
        &mut tx,
        &store::NewWaiver {
            policy_set_id,
            rule: w.rule.trim(),
            violation: w.violation.as_deref(),
            artifact_id,
            project_id,
            justification: w.justification.trim(),
            approver: &by.name,
            expires_at: w.expires_at,
            created_by: by.token_id,
        },
    )
    .await?;
    let affected = store::waiver_artifacts(&mut tx, artifact_id, project_id).await?;
    crate::queue::evaluate(&mut tx, &affected, "waiver").await?;
    tx.commit().await?;
    store::get_waiver(pool, id, now)
        .await?
        .ok_or_else(ApiError::internal)
}

pub async fn revoke_waiver(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let affected = store::revoke_waiver(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no active waiver {id}")))?;
    crate::queue::evaluate(&mut tx, &affected, "waiver").await?;
    tx.commit().await?;
    Ok(())
}

/// An artifact's decision over every live set: `pending` until it has
/// been evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactDecision {
    Allow,
    Deny,
    Pending,
}

impl std::fmt::Display for ArtifactDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArtifactDecision::Allow => "allow",
            ArtifactDecision::Deny => "deny",
            ArtifactDecision::Pending => "pending",
        })
    }
}

/// An artifact's policy status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactPolicy {
    pub artifact_id: i64,
    pub decision: ArtifactDecision,
    /// New evidence or a change waits for evaluation.
    pub queued: bool,
    /// Why the artifact's evaluation was dead-lettered (it never completed):
    /// the gate denies the artifact until it is replayed.
    pub dead_lettered: Option<String>,
    /// Latest evaluation per live set.
    pub evaluations: Vec<EvaluationRecord>,
    /// Waivers of the artifact or its project in force.
    pub waivers: Vec<WaiverRecord>,
}

/// The artifact's decision from its latest evaluations, whether it waits
/// for one, and the waivers in force for it.
pub async fn artifact_status(
    pool: &PgPool,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<ArtifactPolicy> {
    if !store::artifact_exists(pool, id).await? {
        return Err(ApiError::not_found(format!("there is no artifact {id}")));
    }
    let evaluations = store::latest(pool, &[id]).await?;
    let decision = if evaluations.is_empty() {
        ArtifactDecision::Pending
    } else if evaluations.iter().any(|e| e.decision == Decision::Deny) {
        ArtifactDecision::Deny
    } else {
        ArtifactDecision::Allow
    };
    Ok(ArtifactPolicy {
        artifact_id: id,
        decision,
        queued: store::queued(pool, id).await?,
        dead_lettered: store::dead_reason(pool, id).await?,
        evaluations,
        // Every waiver in force for it: they are what the decision rests on.
        waivers: store::list_waivers(pool, now, true, Some(id), None, i64::MAX).await?,
    })
}
