//! Use cases of the policy engine: evaluate an artifact (and store the
//! result), the deploy gate, Kubernetes admission, dry-runs, and the policy
//! set / waiver changes that queue re-evaluations.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use crate::bounded::Bounded;
use crate::error::{ApiError, ApiResult};
use crate::notifications::service as notify;
use crate::policies::core::admission::{self, Review};
use crate::policies::core::engine::{
    self, compile_rules, denies, CompiledSet, DefinitionError, EvalContext, EvalLimits, Mode,
    PolicyDefinition, RuleResult, RuleSpec, Waiver,
};
use crate::policies::core::{Decision, Effective, RuleInput};
use crate::policies::store::{
    self as store, EvaluationRecord, NewEvaluation, PolicySet, WaiverRecord,
};
use crate::queue::{self, Queue};

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
) -> sqlx::Result<Option<usize>> {
    let now = Utc::now();
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

// --- gate ------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct GateReason {
    /// The artifact concerned (absent for "no evidence").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_set: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GateArtifact {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub version: String,
    pub decision: Decision,
}

/// The gate's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct GateDecision {
    pub digest: String,
    pub decision: Decision,
    /// Why it is denied: failing rules of enforce-mode sets, or "no evidence".
    pub reasons: Vec<GateReason>,
    /// Failures of warn-mode sets (they do not deny).
    pub warnings: Vec<GateReason>,
    pub artifacts: Vec<GateArtifact>,
    /// The evaluations the decision rests on, `{set: version}`.
    pub policy_sets: HashMap<String, i32>,
}

/// How the gate decides.
#[derive(Debug, Clone, Copy)]
pub struct GateOptions {
    pub limits: EvalLimits,
    /// Claims without completion before an evaluation is dead-lettered.
    pub max_claims: i32,
    /// Evaluate on the spot when a result is missing or stale (callers
    /// with a token). Otherwise (anonymous callers) the decision rests on
    /// stored results, and a missing or stale one denies.
    pub evaluate: bool,
    /// Allow an artifact that no enforce-mode set covers
    /// (`CAIRN_GATE_UNCOVERED=allow`); by default it is denied.
    pub allow_uncovered: bool,
}

/// The reason an uncovered artifact is denied.
pub const UNCOVERED: &str = "no policy covers this artifact";

/// Whether `e` is a current result of `s`: its version, and no waiver it
/// rests on has expired since.
fn current(e: &EvaluationRecord, s: &PolicySet, now: DateTime<Utc>) -> bool {
    e.version == s.version && e.waivers_expire_at.is_none_or(|t| t > now)
}

/// The deploy decision for a digest. Uses the stored latest evaluations;
/// with `options.evaluate`, evaluates on the spot when one is missing,
/// stale (set changed, evidence queued) or rests on a waiver that has
/// expired since.
///
/// An on-the-spot evaluation is guarded like a worker's (`crate::queue`):
/// one that took the process down `max_claims` times is dead-lettered
/// instead of run again.
pub async fn gate(pool: &PgPool, digest: &str, options: GateOptions) -> ApiResult<GateDecision> {
    let mut arts = store::artifacts_by_digest(pool, digest).await?;
    if arts.is_empty() {
        return Ok(GateDecision {
            digest: digest.to_owned(),
            decision: Decision::Deny,
            reasons: vec![GateReason {
                artifact_id: None,
                policy_set: None,
                rule: None,
                reason: "no evidence".into(),
            }],
            warnings: Vec::new(),
            artifacts: Vec::new(),
            policy_sets: HashMap::new(),
        });
    }
    let sets = store::list_sets(pool).await?;
    let ids: Vec<i64> = arts.iter().map(|a| a.id).collect();
    let mut latest = store::latest(pool, &ids).await?;
    let now = Utc::now();
    let mut evaluated = false;
    let index = latest_index(&latest);
    for a in &mut arts {
        let fresh = sets
            .iter()
            .filter(|s| s.definition.scope.matches(&a.project, &a.tags))
            .all(|s| index.get(&(a.id, s.id)).is_some_and(|e| current(e, s, now)));
        // A dead-lettered evaluation is never run on the spot: it is what
        // took a worker down. The artifact is denied until it is replayed.
        if options.evaluate && a.dead.is_none() && (a.queued || !fresh) {
            evaluated = true;
            if let Some(why) = evaluate_guarded(pool, a.id, options).await? {
                a.dead = Some(why);
            } else {
                a.queued = false;
            }
        }
    }
    drop(index);
    if evaluated {
        latest = store::latest(pool, &ids).await?;
    }
    Ok(decide(digest, &arts, &sets, &latest, now, options))
}

/// Evaluates one artifact for the gate, guarded like a worker's claim;
/// `Some(reason)` when it was dead-lettered instead.
async fn evaluate_guarded(
    pool: &PgPool,
    artifact_id: i64,
    options: GateOptions,
) -> ApiResult<Option<String>> {
    let mut tx = pool.begin().await?;
    let prior = queue::prior(&mut tx, Queue::Policy, &[artifact_id]).await?;
    let claims = prior.get(&artifact_id).copied().unwrap_or(0);
    if claims >= options.max_claims {
        let why = queue::dead_reason(claims);
        store::dead_letter(&mut tx, artifact_id, &why).await?;
        queue::clear(&mut *tx, Queue::Policy, &[artifact_id]).await?;
        tx.commit().await?;
        return Ok(Some(why));
    }
    queue::record(pool, Queue::Policy, &[artifact_id]).await?;
    // Takes the queue entry unless a worker is on it right now.
    let claimed = store::claim_one(&mut tx, artifact_id).await?;
    let done = evaluate_and_store(&mut tx, artifact_id, "gate", options.limits).await;
    if done.is_err() {
        // A failure, not a death.
        queue::clear(pool, Queue::Policy, &[artifact_id]).await?;
    }
    done?;
    if claimed {
        store::dequeue(&mut tx, &[artifact_id]).await?;
    }
    queue::clear(&mut *tx, Queue::Policy, &[artifact_id]).await?;
    tx.commit().await?;
    Ok(None)
}

/// The latest evaluations by (artifact, set): many artifacts may share a
/// digest, and each is looked up once per set.
fn latest_index(latest: &[EvaluationRecord]) -> HashMap<(i64, i64), &EvaluationRecord> {
    latest
        .iter()
        .map(|e| ((e.artifact_id, e.policy_set_id), e))
        .collect()
}

/// Fail closed: an artifact is allowed only when an enforce-mode set
/// covers it (unless uncovered artifacts are allowed), every set that
/// covers it has a current result, and no enforce-mode result fails.
fn decide(
    digest: &str,
    arts: &[store::GateTarget],
    sets: &[PolicySet],
    latest: &[EvaluationRecord],
    now: DateTime<Utc>,
    options: GateOptions,
) -> GateDecision {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let mut artifacts = Vec::new();
    let mut used = HashMap::new();
    let index = latest_index(latest);
    for a in arts {
        let mut deny = false;
        let mut reason = |deny: &mut bool, policy_set: Option<String>, reason: String| {
            *deny = true;
            reasons.push(GateReason {
                artifact_id: Some(a.id),
                policy_set,
                rule: None,
                reason,
            });
        };
        if let Some(why) = &a.dead {
            reason(
                &mut deny,
                None,
                format!("its policy evaluation was dead-lettered: {why}"),
            );
        }
        let covering: Vec<&PolicySet> = sets
            .iter()
            .filter(|s| s.definition.scope.matches(&a.project, &a.tags))
            .collect();
        if !options.allow_uncovered && !covering.iter().any(|s| s.definition.mode == Mode::Enforce)
        {
            reason(&mut deny, None, UNCOVERED.into());
        }
        if a.queued && a.dead.is_none() {
            reason(&mut deny, None, "new evidence awaits evaluation".into());
        }
        let mut failing = Vec::new();
        for s in covering {
            let Some(e) = index.get(&(a.id, s.id)).filter(|e| current(e, s, now)) else {
                if s.definition.mode == Mode::Enforce {
                    reason(
                        &mut deny,
                        Some(s.name.clone()),
                        format!(
                            "not evaluated against version {} of this set yet",
                            s.version
                        ),
                    );
                }
                continue;
            };
            used.insert(e.policy_set.clone(), e.version);
            for r in &e.results {
                let item = || GateReason {
                    artifact_id: Some(a.id),
                    policy_set: Some(e.policy_set.clone()),
                    rule: Some(r.rule.clone()),
                    reason: r.message.clone(),
                };
                match (e.mode, r.effective) {
                    (Mode::Enforce, x) if x.fails() => failing.push(item()),
                    (_, Effective::Warn | Effective::Fail | Effective::Error) => {
                        warnings.push(item())
                    }
                    _ => {}
                }
            }
        }
        deny |= !failing.is_empty();
        reasons.extend(failing);
        artifacts.push(GateArtifact {
            id: a.id,
            project: a.project.clone(),
            name: a.name.clone(),
            version: a.version.clone(),
            decision: Decision::of(deny),
        });
    }
    let deny = artifacts.iter().any(|a| a.decision == Decision::Deny);
    GateDecision {
        digest: digest.to_owned(),
        decision: Decision::of(deny),
        reasons,
        warnings,
        artifacts,
        policy_sets: used,
    }
}

impl GateDecision {
    /// The decision alone, for anonymous callers: no project, artifact or
    /// rule text.
    pub fn without_detail(self) -> GateDecision {
        GateDecision {
            digest: self.digest,
            decision: self.decision,
            reasons: Vec::new(),
            warnings: Vec::new(),
            artifacts: Vec::new(),
            policy_sets: HashMap::new(),
        }
    }
}

// --- admission --------------------------------------------------------------------

/// How admission decides.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionOptions {
    pub gate: GateOptions,
    /// Admit kinds without a pod template (`CAIRN_ADMISSION_OTHER_KINDS=allow`).
    pub allow_other_kinds: bool,
    /// Give the reasons (an authenticated API server); anonymous callers
    /// get the decision alone.
    pub detail: bool,
}

/// Most images one AdmissionReview may name (a pod has a handful; each is
/// one gate decision).
pub const MAX_ADMISSION_IMAGES: usize = 256;

/// Answers an AdmissionReview body; never fails (a malformed review is a
/// denial naming the problem, with the request uid when there is one).
pub async fn admit(pool: &PgPool, body: &[u8], options: AdmissionOptions) -> serde_json::Value {
    let review = match admission::read(body) {
        Ok(r) => r,
        Err(m) => {
            return admission::response(
                &m.uid,
                false,
                &format!("Cairn cannot read this AdmissionReview: {}", m.reason),
                &[],
            )
        }
    };
    let (uid, kind, name, images) = match review {
        Review::Skip { uid, why } => return admission::response(&uid, true, &why, &[]),
        Review::OtherKind { uid, kind, name } => {
            let (allowed, why) = if options.allow_other_kinds {
                (
                    true,
                    format!("kind {kind:?} has no pod template (allowed by configuration)"),
                )
            } else {
                (false, format!(
                    "Cairn denies {kind} {name:?}: kind {kind:?} has no pod template, so Cairn cannot tell which images it runs (CAIRN_ADMISSION_OTHER_KINDS=allow admits such kinds)"
                ))
            };
            return admission::response(&uid, allowed, &why, &[]);
        }
        Review::Images {
            uid,
            kind,
            name,
            images,
        } => (uid, kind, name, images),
    };
    if images.len() > MAX_ADMISSION_IMAGES {
        let why = format!(
            "Cairn denies {kind} {name:?}: it names {} images, more than the {MAX_ADMISSION_IMAGES} one review may ask about",
            images.len()
        );
        return admission::response(&uid, false, &why, &[]);
    }
    let mut denials = Vec::new();
    let mut warnings = Vec::new();
    // Each digest is decided, and its denial text built, once.
    let mut decided: HashMap<String, (GateDecision, String)> = HashMap::new();
    for img in &images {
        let Some(digest) = &img.digest else {
            denials.push(format!(
                "{}: image {} is not referenced by digest (use name@sha256:...)",
                img.location, img.image
            ));
            continue;
        };
        if !decided.contains_key(digest) {
            match gate(pool, digest, options.gate).await {
                Ok(d) => {
                    let d = if options.detail {
                        d
                    } else {
                        d.without_detail()
                    };
                    let why = d
                        .reasons
                        .iter()
                        .map(|r| match &r.rule {
                            Some(rule) => format!("{rule}: {}", r.reason),
                            None => r.reason.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    decided.insert(digest.clone(), (d, why));
                }
                Err(e) => {
                    tracing::error!(error = %e, "admission: gate failed");
                    denials.push(format!(
                        "{}: image {} could not be checked (internal error)",
                        img.location, img.image
                    ));
                    continue;
                }
            }
        }
        let (d, why) = &decided[digest];
        if d.decision == Decision::Deny && options.detail {
            denials.push(format!(
                "{}: image {} denied: {why}",
                img.location, img.image
            ));
        } else if d.decision == Decision::Deny {
            denials.push(format!("{}: image {} denied", img.location, img.image));
        }
        for w in &d.warnings {
            warnings.push(format!(
                "{}: {}: {}",
                img.image,
                w.rule.as_deref().unwrap_or(""),
                w.reason
            ));
        }
    }
    warnings.dedup();
    if denials.is_empty() {
        admission::response(&uid, true, "", &warnings)
    } else {
        let message = format!("Cairn denies {kind} {name:?}: {}", denials.join(" | "));
        admission::response(&uid, false, &message, &warnings)
    }
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

pub async fn dry_run(pool: &PgPool, req: &DryRun, limits: EvalLimits) -> ApiResult<DryRunResult> {
    let (mode, rules, set_id) = match (&req.policy_set, &req.rules) {
        (Some(name), None) => {
            let id = store::set_id_by_name(pool, name)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no policy set named {name:?}")))?;
            let set = store::get_set(pool, id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no policy set named {name:?}")))?;
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
    let now = Utc::now();
    let input = store::load_input(&mut conn, req.artifact_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no artifact {}", req.artifact_id)))?;
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
        .ok_or_else(|| ApiError::not_found(format!("no policy set {id}")))?;
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
        return Err(ApiError::not_found(format!("no policy set {id}")));
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
    if w.expires_at <= Utc::now() {
        return Err(ApiError::invalid_policy("expires_at must be in the future")
            .with_pointer(Some("/expires_at".into())));
    }
    if w.expires_at > Utc::now() + chrono::Duration::days(366 * 3) {
        return Err(ApiError::invalid_policy("a waiver lasts at most 3 years")
            .with_pointer(Some("/expires_at".into())));
    }
    let mut tx = pool.begin().await?;
    let (artifact_id, project_id) = match (w.artifact_id, &w.project) {
        (Some(a), None) => {
            if !store::artifact_exists(&mut *tx, a).await? {
                return Err(ApiError::not_found(format!("no artifact {a}")));
            }
            (Some(a), None)
        }
        (None, Some(p)) => {
            let id = store::project_id(&mut *tx, p)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no project named {p:?}")))?;
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
                .ok_or_else(|| ApiError::not_found(format!("no policy set named {name:?}")))?,
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
    store::get_waiver(pool, id)
        .await?
        .ok_or_else(ApiError::internal)
}

pub async fn revoke_waiver(pool: &PgPool, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let affected = store::revoke_waiver(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no active waiver {id}")))?;
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
pub async fn artifact_status(pool: &PgPool, id: i64) -> ApiResult<ArtifactPolicy> {
    if !store::artifact_exists(pool, id).await? {
        return Err(ApiError::not_found(format!("no artifact {id}")));
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
        waivers: store::list_waivers(pool, true, Some(id), None, i64::MAX).await?,
    })
}
