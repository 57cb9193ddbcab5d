//! The deploy decisions: the gate for CI (`allow`/`deny` a digest) and
//! Kubernetes admission, both from stored results brought up to date on
//! the spot.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::policies::core::admission::{self, Review};
use crate::policies::core::engine::{EvalLimits, Mode};
use crate::policies::core::{Decision, Effective};
use crate::policies::store::{self as store, EvaluationRecord, PolicySet};
use crate::queue::{self, Queue};

use super::evaluate_and_store;

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
    /// The time the decision is made at (waiver expiry, freshness).
    pub now: DateTime<Utc>,
}

/// The reason an uncovered artifact is denied.
pub const UNCOVERED: &str = "no policy covers this artifact";

/// Whether `e` is a current result of `s`: its version, and no waiver it
/// rests on has expired since.
fn current(e: &EvaluationRecord, s: &PolicySet, now: DateTime<Utc>) -> bool {
    e.version == s.version
        && e.waivers_expire_at.is_none_or(|t| t > now)
        && e.holds_until.is_none_or(|t| t > now)
}

/// The deploy decision for a digest. Uses the stored latest evaluations;
/// with `options.evaluate`, evaluates on the spot when one is missing,
/// stale (set changed, evidence queued), rests on a waiver that has
/// expired since or on evidence that has aged past a freshness rule.
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
    let now = options.now;
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
    let done = evaluate_and_store(&mut tx, artifact_id, "gate", options.limits, options.now).await;
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
