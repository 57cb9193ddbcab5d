//! What rules judge: an artifact's evidence, assembled by
//! `policies::store::load_input`. Serialised, this is also the `input` of
//! custom Rego rules (documented in docs/policies.md and the OpenAPI spec as
//! `RuleInput`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::attestations::core::{Identity, Provenance};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RuleInput {
    pub artifact: ArtifactFacts,
    pub project: ProjectFacts,
    /// The artifact's latest SBOM; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomFacts>,
    /// Verified signatures and attestations (unverified attempts are never
    /// evidence and are not listed).
    #[serde(default)]
    pub signatures: Vec<SignatureFacts>,
    /// Verified SLSA provenance statements.
    #[serde(default)]
    pub provenance: Vec<ProvenanceFacts>,
    /// CI runs (webhook build records) that built the artifact's source
    /// commit or signed it.
    #[serde(default)]
    pub builds: Vec<BuildFacts>,
    /// Go build info of the artifact (latest upload) with its SBOM
    /// comparison, go.mod and go.sum; absent when none was uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<crate::go::core::GoFacts>,
    /// The project's CI definitions (latest of each file: workflows,
    /// .gitlab-ci.yml, Dockerfiles); absent when none was uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_definitions: Option<Vec<crate::ci::core::CiDefinitionFacts>>,
    /// Known vulnerabilities of the latest SBOM's components, with their
    /// triage state; absent when the artifact has no SBOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<Vec<VulnerabilityFacts>>,
    /// Evaluation time (rules use it, not the clock, so results are
    /// reproducible).
    pub now: DateTime<Utc>,
}

/// One vulnerability × component of the artifact (as
/// `GET /api/v1/artifacts/{id}/vulnerabilities` lists it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VulnerabilityFacts {
    pub id: String,
    pub aliases: Vec<String>,
    pub purl: String,
    pub version: String,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    pub cvss_score: Option<f64>,
    pub kev: bool,
    pub fixed_versions: Vec<String>,
    /// Triage state: `in_triage`, `affected`, `not_affected`, `fixed`,
    /// `under_investigation`, `false_positive`.
    pub state: String,
    pub justification: Option<String>,
    pub published: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ArtifactFacts {
    pub id: i64,
    pub name: String,
    pub version: String,
    /// `sha256:<hex>` when known.
    pub digest: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectFacts {
    pub id: i64,
    pub name: String,
    pub repository_url: Option<String>,
    /// Project tags (policy scopes select by them too).
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Hash, Serialize, Deserialize, ToSchema)]
pub struct SbomFacts {
    pub id: i64,
    /// `cyclonedx` or `spdx`.
    pub format: String,
    pub spec_version: String,
    pub tool: Option<String>,
    pub authors: Vec<String>,
    /// The document's creation timestamp, as written.
    pub document_created: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub dependency_count: i32,
    pub edge_count: i32,
    /// Quality scores per profile (`ntia`, `cisa-2025`, `bsi-tr-03183-2`):
    /// score 0-100 and weakest fields. Stored at ingestion rather than
    /// computed here, which would mean decompressing and parsing the whole
    /// document on every evaluation; absent for an SBOM stored before
    /// scores existed until the start-up backfill has scored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<crate::sboms::core::quality::QualitySummary>,
    /// Shared: a stored SBOM never changes, so the loader keeps its list.
    #[serde(serialize_with = "components_unless_skipped")]
    #[schema(value_type = Vec<ComponentFacts>)]
    pub components: Arc<Vec<ComponentFacts>>,
}

#[derive(Debug, Clone, Default, Hash, Serialize, Deserialize, ToSchema)]
pub struct ComponentFacts {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub supplier: Option<String>,
    /// SPDX licence expression (or names), as normalised at ingestion.
    pub licenses: Option<String>,
    /// Has at least one hash.
    pub hashed: bool,
    /// The SBOM's described subject.
    pub is_root: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignatureFacts {
    /// Attestation id.
    pub id: i64,
    pub kind: String,
    pub identity: Option<Identity>,
    pub predicate_type: Option<String>,
    pub trusted_by: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    /// When the transparency log recorded the signature (Rekor's integrated
    /// time, verified with the bundle); absent without a log entry.
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
}

impl SignatureFacts {
    /// When the signature was made, as well as Cairn can tell: the log's
    /// time, else when it was uploaded.
    pub fn time(&self) -> DateTime<Utc> {
        self.signed_at.unwrap_or(self.uploaded_at)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProvenanceFacts {
    /// Attestation id.
    pub id: i64,
    /// The statement was signed by a certificate identity (keyless) rather
    /// than a key.
    pub signer: Option<Identity>,
    /// The trust root or key that verified the signature.
    #[serde(default)]
    pub trusted_by: Option<String>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct BuildFacts {
    /// ci_runs id.
    pub id: i64,
    pub provider: String,
    pub repository: String,
    pub head_sha: Option<String>,
    pub conclusion: Option<String>,
    pub jobs: Vec<JobFacts>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct JobFacts {
    pub name: Option<String>,
    /// `hosted` or `self-hosted` (absent when unknown).
    pub runner_kind: Option<String>,
    pub runner_group: Option<String>,
    pub runner_name: Option<String>,
    pub runner_labels: Vec<String>,
}

impl SbomFacts {
    /// From a parsed document (tests, benchmarks, dry-runs of a document not
    /// stored yet); the store loader builds the same from rows.
    pub fn from_parsed(
        id: i64,
        p: &crate::sboms::core::ParsedSbom<'_>,
        uploaded_at: DateTime<Utc>,
    ) -> Self {
        SbomFacts {
            id,
            format: p.format.as_str().to_owned(),
            spec_version: p.spec_version.clone(),
            tool: p.tool.clone(),
            authors: p.authors.clone(),
            document_created: p.created.clone(),
            uploaded_at,
            dependency_count: p.dependency_count() as i32,
            edge_count: p.edges.len() as i32,
            quality: Some(crate::sboms::core::quality::score(p).summary()),
            components: Arc::new(
                p.nodes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ComponentFacts {
                        name: c.name.to_string(),
                        version: c.version.as_ref().map(|v| v.to_string()),
                        purl: c.purl.as_ref().map(|v| v.to_string()),
                        supplier: c.supplier.as_ref().map(|v| v.to_string()),
                        licenses: c.licenses.clone(),
                        hashed: !c.hashes.is_empty(),
                        is_root: p.root == Some(i),
                    })
                    .collect(),
            ),
        }
    }
}

thread_local! {
    /// Set by `without_components`: the Rego input builds the components
    /// itself (much faster than through JSON), everything else is serialised.
    static SKIP_COMPONENTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn components_unless_skipped<S: serde::Serializer>(
    c: &Arc<Vec<ComponentFacts>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    if SKIP_COMPONENTS.with(|f| f.get()) {
        s.collect_seq(std::iter::empty::<&ComponentFacts>())
    } else {
        s.collect_seq(c.iter())
    }
}

/// Runs `f` (a serialisation) with `sbom.components` serialised as `[]`.
pub(crate) fn without_components<T>(f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SKIP_COMPONENTS.with(|flag| flag.set(false));
        }
    }
    SKIP_COMPONENTS.with(|flag| flag.set(true));
    let _reset = Reset;
    f()
}
