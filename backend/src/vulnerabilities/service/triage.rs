//! Triage decisions: validated, scoped, kept as history.

use crate::vulnerabilities::core::purl::Purl;
use crate::vulnerabilities::core::triage::State;
use crate::vulnerabilities::core::triage::{self, Scope};
use crate::vulnerabilities::store;

use super::*;

/// What a triage decision is about and says.
pub struct TriageRequest<'a> {
    /// Any id or alias of the vulnerability.
    pub vulnerability: &'a str,
    /// The component's purl.
    pub purl: &'a str,
    /// Whether the decision is about this version only (else every version).
    pub this_version_only: bool,
    pub scope: Scope,
    pub artifact_id: Option<i64>,
    pub project: Option<&'a str>,
    pub state: State,
    pub justification: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub source: &'a str,
    pub author: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records a decision (superseding the current one for the same target).
pub async fn triage(
    tx: &mut sqlx::PgConnection,
    r: &TriageRequest<'_>,
) -> Result<store::DecisionRow, TriageError> {
    triage::check(r.state, r.justification).map_err(TriageError::Invalid)?;
    if r.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
        return Err(TriageError::Invalid("expires_at is in the past".into()));
    }
    let group = vulnerability_group(&mut *tx, r.vulnerability)
        .await?
        .ok_or_else(|| {
            TriageError::NotFound(format!("no imported advisory knows {:?}", r.vulnerability))
        })?;
    let purl = Purl::parse(r.purl)
        .ok_or_else(|| TriageError::Invalid(format!("{:?} is not a purl", r.purl)))?;
    let package = purl.package().ok_or_else(|| {
        TriageError::Invalid(format!(
            "no advisory can name {:?}: its type is not one Cairn matches",
            r.purl
        ))
    })?;
    let (artifact_id, project_id) = match r.scope {
        Scope::Portfolio => {
            if r.artifact_id.is_some() || r.project.is_some() {
                return Err(TriageError::Invalid(
                    "a portfolio decision names no artifact_id and no project".into(),
                ));
            }
            (None, None)
        }
        Scope::Project => {
            let name = r
                .project
                .ok_or_else(|| TriageError::Invalid("a project decision needs `project`".into()))?;
            let id = crate::policies::store::project_id(&mut *tx, name)
                .await?
                .ok_or_else(|| TriageError::NotFound(format!("there is no project {name:?}")))?;
            (None, Some(id))
        }
        Scope::Artifact => {
            let id = r.artifact_id.ok_or_else(|| {
                TriageError::Invalid("an artifact decision needs `artifact_id`".into())
            })?;
            if store::artifact_project(&mut *tx, id).await?.is_none() {
                return Err(TriageError::NotFound(format!("there is no artifact {id}")));
            }
            (Some(id), None)
        }
    };
    if r.this_version_only && purl.version.is_none() {
        return Err(TriageError::Invalid(
            "this_version_only needs a purl with a version".into(),
        ));
    }
    let key = package.key();
    let stale = store::artifacts_with_packages(&mut *tx, std::slice::from_ref(&key)).await?;
    crate::queue::evaluate(tx, &stale, "triage decision").await?;
    Ok(store::insert_decision(
        tx,
        &store::NewDecision {
            vulnerability_id: group,
            package_key: &key,
            purl: r.this_version_only.then_some(r.purl),
            scope: r.scope.as_str(),
            artifact_id,
            project_id,
            state: r.state.as_str(),
            justification: r.justification,
            comment: r.comment,
            source: r.source,
            author: r.author,
            expires_at: r.expires_at,
        },
    )
    .await?)
}
