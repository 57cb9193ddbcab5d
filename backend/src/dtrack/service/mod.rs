//! Dependency-Track use cases: a BOM upload (resolved onto a Cairn
//! artifact, stored by `sboms::service::ingest_sbom_with` with its token in the
//! same transaction), token status, project lookup, findings and
//! violations in DT's shape.

use std::sync::Mutex;

use sqlx::{PgConnection, PgPool};

use super::core::shapes::{self, DtFinding, DtProject, DtProjectRef, DtViolation};
use super::core::{self, Mapping};
use super::store::{self, ProjectRow};
use crate::error::{ApiError, ApiResult};
use crate::identity::{Caller, Role};
use crate::inventory::service::ArtifactTarget;
use crate::inventory::store as inventory;
use crate::sboms::service::{self as ingest, AfterIngest};
use crate::upload::Upload;

/// A BOM upload as DT clients send it (JSON or multipart), fields checked.
#[derive(Debug, Default)]
pub struct Submission {
    /// `project`: an existing DT project's UUID.
    pub project: Option<String>,
    pub project_name: Option<String>,
    pub project_version: Option<String>,
    pub auto_create: bool,
    pub parent_name: Option<String>,
    /// Accepted and not used: a Cairn project has no version.
    pub parent_version: Option<String>,
    pub parent_uuid: Option<String>,
    pub project_tags: Option<Vec<String>>,
    pub is_latest: Option<bool>,
}

/// The artifact an upload goes to, and the DT names it is addressed by.
struct Resolved {
    target: ArtifactTarget,
    dt_name: String,
    dt_version: String,
    parent: Option<String>,
}

fn bad(e: String) -> ApiError {
    ApiError::bad_request(e)
}

fn no_project(uuid: &str, field: &str) -> ApiError {
    ApiError::not_found(format!("{field}: there is no project with UUID {uuid}"))
}

fn target_of(row: &ProjectRow) -> ApiResult<ArtifactTarget> {
    ArtifactTarget::parse(&row.project, &row.artifact, &row.version, None)
}

async fn resolve(pool: &PgPool, s: &Submission) -> ApiResult<Resolved> {
    if let Some(uuid) = &s.project {
        let uuid = core::parse_uuid("project", uuid).map_err(bad)?;
        let row = store::by_uuid(pool, &uuid)
            .await?
            .ok_or_else(|| no_project(&uuid, "project"))?;
        return Ok(Resolved {
            target: target_of(&row)?,
            dt_name: row.dt_name,
            dt_version: row.dt_version,
            parent: row.parent_name,
        });
    }
    let (Some(name), Some(version)) = (&s.project_name, &s.project_version) else {
        return Err(ApiError::bad_request(format!(
            "{} is missing: name the project by `project` (its UUID) or by `projectName` and `projectVersion`",
            if s.project_name.is_none() { "projectName" } else { "projectVersion" }
        )));
    };
    // The parent is Cairn's project: by UUID (that DT project's Cairn
    // project) or by name.
    let parent = match (&s.parent_uuid, &s.parent_name) {
        (Some(uuid), _) => {
            let uuid = core::parse_uuid("parentUUID", uuid).map_err(bad)?;
            let row = store::by_uuid(pool, &uuid)
                .await?
                .ok_or_else(|| no_project(&uuid, "parentUUID"))?;
            Some(row.project)
        }
        (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    let Mapping {
        project,
        artifact,
        version: v,
        dt_name,
        dt_version,
        ..
    } = core::map_names(name, version, parent.as_deref()).map_err(bad)?;
    if let Some(row) = store::by_name(pool, &dt_name, &dt_version).await? {
        // DT names a project version once: it stays where it was created.
        if parent.is_some() && row.project != project.as_str() {
            return Err(ApiError::conflict(format!(
                "projectName {dt_name:?} version {dt_version:?} is already artifact {:?} of project {:?}, not of {:?}",
                row.artifact,
                row.project,
                project.as_str()
            )));
        }
        return Ok(Resolved {
            target: target_of(&row)?,
            dt_name,
            dt_version,
            parent: row.parent_name,
        });
    }
    if !s.auto_create
        && inventory::find_artifact(pool, project.as_str(), artifact.as_str(), v.as_str())
            .await?
            .is_none()
    {
        return Err(ApiError::not_found(format!(
            "there is no project {dt_name:?} version {dt_version:?} (Cairn project {:?}); send autoCreate=true to create it",
            project.as_str()
        )));
    }
    Ok(Resolved {
        target: ArtifactTarget {
            project,
            artifact,
            version: v,
            digest: None,
        },
        dt_name,
        dt_version,
        parent,
    })
}

/// Records the DT project and the upload token with the SBOM.
struct Record<'a> {
    resolved: &'a Resolved,
    submission: &'a Submission,
    caller: &'a Caller,
    token: Mutex<Option<String>>,
}

impl AfterIngest for Record<'_> {
    async fn stored(&self, tx: &mut PgConnection, artifact_id: i64, sbom_id: i64) -> ApiResult<()> {
        let r = self.resolved;
        let upload = store::Upload {
            artifact_id,
            sbom_id,
            dt_name: &r.dt_name,
            dt_version: &r.dt_version,
            parent: r.parent.as_deref(),
            tags: self.submission.project_tags.as_deref(),
            is_latest: self.submission.is_latest,
            uploaded_by: self.caller.token_id,
        };
        let token = store::record_upload(tx, &upload).await.map_err(|e| {
            let taken = e
                .as_database_error()
                .and_then(|d| d.constraint())
                .is_some_and(|c| c == "dtrack_projects_dt_name_dt_version_key");
            if taken {
                ApiError::conflict(format!(
                    "projectName {:?} version {:?} names another Cairn artifact already",
                    r.dt_name, r.dt_version
                ))
            } else {
                e.into()
            }
        })?;
        *self.token.lock().expect("not poisoned") = Some(token);
        Ok(())
    }
}

/// Stores an uploaded BOM; returns the upload token.
pub async fn upload(
    pool: &PgPool,
    submission: &Submission,
    bom: Upload,
    caller: &Caller,
) -> ApiResult<String> {
    let resolved = resolve(pool, submission).await?;
    caller.require_for(Role::Uploader, resolved.target.project.as_str())?;
    let record = Record {
        resolved: &resolved,
        submission,
        caller,
        token: Mutex::new(None),
    };
    ingest::ingest_sbom_with(pool, &resolved.target, bom, caller, &record).await?;
    let token = record.token.lock().expect("not poisoned").take();
    tracing::info!(
        project = resolved.target.project.as_str(),
        artifact = resolved.target.artifact.as_str(),
        dt_name = resolved.dt_name,
        "BOM uploaded through the Dependency-Track API"
    );
    token.ok_or_else(ApiError::internal)
}

/// Whether an upload is still being processed; an unknown token is not
/// (as in DT: `false` does not confirm the token exists).
pub async fn processing(pool: &PgPool, token: &str) -> ApiResult<bool> {
    let token = core::parse_uuid("uuid", token).map_err(bad)?;
    let Some(artifact_id) = store::upload_artifact(pool, &token).await? else {
        return Ok(false);
    };
    Ok(store::evaluation_queued(pool, artifact_id).await?
        || crate::vulnerabilities::store::artifact_pending(pool, artifact_id).await?)
}

fn project_of(row: ProjectRow) -> DtProject {
    shapes::project(shapes::ProjectFacts {
        uuid: row.uuid,
        dt_name: row.dt_name,
        dt_version: row.dt_version,
        parent: row.parent_name,
        tags: row.tags,
        is_latest: row.is_latest,
        last_bom_import: row.last_bom_import,
        format: row.format.zip(row.spec_version),
        cairn: shapes::CairnRef {
            artifact_id: row.artifact_id,
            project: row.project,
            artifact: row.artifact,
            version: row.version,
        },
    })
}

/// A DT project by name and version. An artifact stored through Cairn's
/// own API whose project and artifact are both the (mapped) name gets its
/// UUID on first lookup.
pub async fn lookup(pool: &PgPool, name: &str, version: &str) -> ApiResult<DtProject> {
    let unknown =
        || ApiError::not_found(format!("there is no project {name:?} version {version:?}"));
    if let Some(row) = store::by_name(pool, name, version).await? {
        return Ok(project_of(row));
    }
    let Ok(m) = core::map_names(name, version, None) else {
        return Err(unknown());
    };
    let Some(id) = inventory::find_artifact(
        pool,
        m.project.as_str(),
        m.artifact.as_str(),
        m.version.as_str(),
    )
    .await?
    .map(|a| a.id) else {
        return Err(unknown());
    };
    store::register(pool, id, &m.dt_name, &m.dt_version).await?;
    store::by_name(pool, name, version)
        .await?
        .map(project_of)
        .ok_or_else(unknown)
}

async fn row(pool: &PgPool, uuid: &str) -> ApiResult<ProjectRow> {
    let uuid = core::parse_uuid("uuid", uuid).map_err(bad)?;
    store::by_uuid(pool, &uuid)
        .await?
        .ok_or_else(|| no_project(&uuid, "uuid"))
}

pub async fn project(pool: &PgPool, uuid: &str) -> ApiResult<DtProject> {
    Ok(project_of(row(pool, uuid).await?))
}

/// The project's findings in DT's shape, most severe first; suppressed
/// ones (closed by triage) only when asked for, as in DT.
pub async fn findings(pool: &PgPool, uuid: &str, suppressed: bool) -> ApiResult<Vec<DtFinding>> {
    use crate::vulnerabilities::service;
    let row = row(pool, uuid).await?;
    let mut conn = pool.acquire().await?;
    let mut found = service::artifact_findings(&mut conn, row.artifact_id).await?;
    service::with_seen(&mut conn, row.artifact_id, &mut found).await?;
    let mut out: Vec<DtFinding> = found
        .iter()
        .map(|f| {
            shapes::finding(
                &row.uuid,
                &shapes::FindingFacts {
                    id: &f.id,
                    aliases: &f.aliases,
                    summary: f.summary.as_deref(),
                    purl: &f.purl,
                    package: f
                        .package
                        .as_ref()
                        .map(|p| (p.package_type.as_str(), p.name.as_str(), p.version.as_str())),
                    version: &f.version,
                    fixed_versions: &f.fixed_versions,
                    severity: f.severity,
                    cvss_score: f.cvss_score,
                    state: f.state,
                    decided: f.decision_id.is_some(),
                    sources: &f.sources,
                    published: f.published,
                    first_seen: f.first_seen,
                },
            )
        })
        .filter(|f| suppressed || !f.analysis.is_suppressed)
        .collect();
    out.sort_by(|a, b| {
        (
            a.vulnerability.severity_rank,
            &a.vulnerability.vuln_id,
            &a.component.purl,
        )
            .cmp(&(
                b.vulnerability.severity_rank,
                &b.vulnerability.vuln_id,
                &b.component.purl,
            ))
    });
    Ok(out)
}

/// The project's failing (or warning, or erroring) rules in the latest
/// evaluation of each live policy set, as DT policy violations; empty when
/// every rule passes, is waived or does not apply, and before the first
/// evaluation.
pub async fn violations(pool: &PgPool, uuid: &str) -> ApiResult<Vec<DtViolation>> {
    let row = row(pool, uuid).await?;
    let project = DtProjectRef {
        uuid: row.uuid.clone(),
        name: row.dt_name.clone(),
        version: row.dt_version.clone(),
    };
    let evaluations = crate::policies::store::latest(pool, &[row.artifact_id]).await?;
    let mut out = Vec::new();
    for e in &evaluations {
        for r in e
            .results
            .iter()
            .filter(|r| shapes::is_violation(r.effective.as_str()))
        {
            let facts = |key: Option<&str>, message: Option<&str>| {
                shapes::violation(&shapes::ViolationFacts {
                    project: &project,
                    artifact: &row.artifact,
                    policy_set: &e.policy_set,
                    rule: &r.rule,
                    effective: r.effective.as_str(),
                    rule_message: &r.message,
                    key,
                    message,
                    evaluated_at: e.evaluated_at,
                })
            };
            if r.violations.is_empty() {
                out.push(facts(None, None));
            } else {
                out.extend(
                    r.violations
                        .iter()
                        .map(|v| facts(Some(&v.key), Some(&v.message))),
                );
            }
        }
    }
    Ok(out)
}
