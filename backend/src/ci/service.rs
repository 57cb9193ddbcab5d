//! Use cases of CI-hardening evidence: check a definition and store it with
//! its findings.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::domain::ProjectName;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::pagination::{Page, PageParams};

use super::core::{self as cidef, Finding, HardeningParams, Kind};
use super::store::{self as cistore, CiDefinition, NewCiDefinition};

/// Checks and stores one CI definition (default rule parameters).
pub async fn ingest_ci_definition(
    pool: &PgPool,
    project: &ProjectName,
    kind: Option<Kind>,
    file: Option<&str>,
    body: &[u8],
    caller: &Caller,
) -> ApiResult<(CiDefinition, bool)> {
    if body.len() > cidef::MAX_DEFINITION {
        return Err(ApiError::too_large(format!(
            "a CI definition may be at most {} bytes",
            cidef::MAX_DEFINITION
        )));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_definition("the CI definition is not UTF-8 text"))?;
    let kind = match kind {
        Some(k) => k,
        None => {
            cidef::detect(file, text).map_err(|e| ApiError::invalid_definition(e.to_string()))?
        }
    };
    let file = file.unwrap_or(kind.default_file());
    let findings: Vec<Finding> =
        tokio::task::block_in_place(|| cidef::check(kind, file, text, &HardeningParams::default()))
            .map_err(|e| ApiError::invalid_definition(format!("{file}: {e}")))?;
    let sha = Sha256::digest(body);
    let mut tx = pool.begin().await?;
    let (stored, created) = cistore::insert_ci_definition(
        &mut tx,
        &NewCiDefinition {
            project: project.as_str(),
            kind: kind.as_str(),
            file,
            content: text,
            content_sha256: &sha,
            findings: &findings,
            uploaded_by: Some(caller.token_id),
        },
    )
    .await?;
    if created {
        // Every artifact of the project is judged on its CI definitions.
        let artifacts =
            crate::inventory::store::project_artifacts(&mut *tx, project.as_str()).await?;
        crate::queue::evaluate(&mut tx, &artifacts, "ci definition").await?;
    }
    tx.commit().await?;
    Ok((stored, created))
}

/// The latest definition of each file of `project`, by file name.
pub async fn definition_page(
    pool: &PgPool,
    project: &str,
    page: &PageParams,
) -> ApiResult<Page<CiDefinition>> {
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let project = crate::inventory::store::get_project(pool, project)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no project {project:?}")))?;
    let rows =
        cistore::latest_ci_definitions(pool, project.id, after.as_deref(), limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |d| d.file.clone()))
}
