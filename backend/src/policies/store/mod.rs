//! Policy sets and their versions, waivers, the evaluation queue, and
//! evaluation history; plus `load_input`, the ONE place a `RuleInput` is
//! assembled from an artifact's evidence.
//!
//! One file per seam, all re-exported here (callers name
//! `policies::store::X`):
//! - `input`: the evidence rules read (`load_input`);
//! - `queue`: what waits for evaluation, claims, retries, dead letters
//!   (asking for an evaluation is `crate::queue::evaluate`'s);
//! - `sets`: policy sets and their versions;
//! - `waivers`: waivers, and those in force for an artifact;
//! - `evaluations`: stored evaluations, the artifacts the gate judges, and
//!   the dashboard's matrix and trend.
//!
//! Rows are read into `sqlx::FromRow` structs with named fields.

mod evaluations;
mod input;
mod queue;
mod sets;
mod waivers;

pub use evaluations::{
    artifact_exists, artifacts_by_digest, history, insert_evaluation, latest, matrix, project_id,
    project_latest, set_project_tags, trend, EvaluationRecord, GateTarget, MatrixCell,
    NewEvaluation, TrendPoint,
};
pub use input::{load_input, load_input_with};
pub use queue::{
    claim, claim_one, dead_evaluations, dead_letter, dead_reason, dequeue, enqueue_aged,
    enqueue_expired_waivers, enqueue_for_set, queue_length, queued, replay_dead, retry_later,
    DeadEvaluation,
};
pub use sets::{
    delete_set, get_set, insert_set, list_sets, lock_set, name_taken, new_version, set_exists,
    set_id_by_name, set_page, versions, PolicySet, PolicyVersion,
};
pub use waivers::{
    get_waiver, insert_waiver, list_waivers, revoke_waiver, waiver_artifacts, waivers_for,
    NewWaiver, WaiverRecord,
};
