//! Draft reports: the facts of a case gathered from the product settings,
//! the findings (affected versions from the artifacts' latest SBOMs), the
//! advisories and the KEV catalog, then shaped per stage by the core.

use std::collections::BTreeSet;

use chrono::Utc;
use sqlx::PgPool;

use super::{get, Case};
use crate::cra::core::report::{
    self, AffectedComponent, AffectedVersion, Draft, Facts, KevFacts, VulnerabilityFacts,
};
use crate::cra::core::Stage;
use crate::cra::store;
use crate::error::ApiResult;

pub async fn draft(pool: &PgPool, id: i64, stage: Stage) -> ApiResult<(Case, Draft)> {
    let case = get(pool, id).await?;
    let mut conn = pool.acquire().await?;
    let product = store::product(&mut *conn, case.project_id).await?;
    let (mut vulnerability, mut kev, mut affected) = (None, None, Vec::new());
    if let Some(group) = case.vulnerability_id {
        let advisories = store::advisories(&mut *conn, group).await?;
        let (described, _) = crate::vulnerabilities::service::describe_group(pool, group).await?;
        let own = advisories
            .iter()
            .find(|a| a.id == described.id)
            .or(advisories.first());
        let scored = advisories
            .iter()
            .filter(|a| a.cvss_score.is_some())
            .max_by(|a, b| {
                a.cvss_score
                    .partial_cmp(&b.cvss_score)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        vulnerability = Some(VulnerabilityFacts {
            id: case.vulnerability.clone().unwrap_or(described.id.clone()),
            aliases: case.aliases.clone(),
            summary: described.summary.clone(),
            details: own.and_then(|a| a.details.clone()),
            severity: described.severity.as_str().to_string(),
            cvss_score: described.cvss_score,
            cvss_vector: scored.and_then(|a| a.cvss_vector.clone()),
            advisories: advisories.iter().map(|a| a.id.clone()).collect(),
        });
        kev = store::kev_of(&mut *conn, group)
            .await?
            .into_iter()
            .next()
            .map(|k| KevFacts {
                cve_id: k.cve_id,
                name: k.name,
                vendor_project: k.vendor_project,
                product: k.product,
                date_added: k.date_added,
                short_description: k.short_description,
                notes: k.notes,
                known_ransomware_campaign_use: k.known_ransomware_use,
                required_action: k.required_action,
                cwes: k.cwes,
            });
        for r in store::affected(&mut *conn, case.project_id, group).await? {
            if affected
                .last()
                .is_none_or(|a: &AffectedVersion| a.artifact_id != r.artifact_id)
            {
                affected.push(AffectedVersion {
                    artifact_id: r.artifact_id,
                    artifact: r.artifact.clone(),
                    version: r.version.clone(),
                    digest: r.digest.clone(),
                    components: Vec::new(),
                });
            }
            let fixed: BTreeSet<String> = r.fixed_versions.into_iter().collect();
            affected
                .last_mut()
                .expect("pushed above")
                .components
                .push(AffectedComponent {
                    purl: r.purl,
                    version: r.component_version,
                    fixed_versions: fixed.into_iter().collect(),
                });
        }
    }
    let facts = Facts {
        case_id: case.id,
        kind: case.kind,
        project: case.project.clone(),
        member_states: product
            .as_ref()
            .map(|p| p.member_states.clone())
            .unwrap_or_default(),
        support_period_end: product.as_ref().and_then(|p| p.support_period_end),
        aware_at: case.aware_at,
        deadline: case.deadlines.of(stage),
        title: case.title.clone(),
        vulnerability,
        kev,
        opened_by: case.opened_by.clone(),
        affected,
        corrective_measure: case.corrective_measure.clone(),
    };
    let draft = report::draft(stage, &facts, Utc::now());
    Ok((case, draft))
}
