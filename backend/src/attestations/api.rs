//! Signatures, attestations and provenance: upload and reading; trust roots;
//! an artifact's evidence (chain of custody).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::{ApiPath, ApiQuery};
use crate::domain::{Label, ProjectName, Sha256Digest};
use crate::error::{ApiError, ApiResult, Problem};
use crate::identity::{Caller, Role};
use crate::inventory::store::ArtifactSummary;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::upload;

use super::core::Expect;
use super::service::{self, Evidence, Target, UploadResult};
use super::store::{self, AttestationRecord, TrustRootSummary, TrustScope};

/// Attestation documents are small; this bounds the work of a bad upload.
const MAX_ATTESTATION: usize = 16 << 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttestationParams {
    /// Project name; with `artifact` and `version`, names the artifact
    /// (created on first use). Omit all three to link by subject digest only.
    pub project: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
    /// The artifact's digest, `sha256:<64 hex>`: what a signature must cover
    /// and an attestation must name as a subject.
    pub digest: Option<String>,
    /// Require this signer identity (certificate SAN, exact), e.g. the
    /// workflow `https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1`.
    pub identity: Option<String>,
    /// Require this OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

impl AttestationParams {
    fn target(&self) -> ApiResult<Target> {
        let artifact = match (
            nonempty(&self.project),
            nonempty(&self.artifact),
            nonempty(&self.version),
        ) {
            (None, None, None) => None,
            (Some(p), Some(a), Some(v)) => Some((
                ProjectName::parse(p).map_err(ApiError::bad_request)?,
                Label::parse("artifact", a).map_err(ApiError::bad_request)?,
                Label::parse("version", v).map_err(ApiError::bad_request)?,
            )),
            _ => {
                return Err(ApiError::bad_request(
                    "project, artifact and version go together: give all three or none",
                ))
            }
        };
        Ok(Target {
            artifact,
            digest: nonempty(&self.digest)
                .map(Sha256Digest::parse)
                .transpose()
                .map_err(ApiError::bad_request)?,
            expect: Expect {
                identity: nonempty(&self.identity).map(str::to_owned),
                issuer: nonempty(&self.issuer).map(str::to_owned),
            },
        })
    }
}

/// Upload a signature or attestation; Cairn verifies it and keeps the result.
///
/// The body is a Sigstore bundle (v0.1–v0.3, message signature or DSSE,
/// keyless or public key), a legacy cosign `sign-blob --bundle` file, a DSSE
/// envelope or `.intoto.jsonl` (one envelope or bundle per line), or a
/// detached signature `{"signature": "<base64>", "publicKey": "<PEM>"}`
/// (cosign `sign-blob --key`; the key must be trusted). The kind is detected
/// from the content. Verification is offline, against the Sigstore
/// public-good root and the roots and keys added with
/// `POST /api/v1/trust-roots`. A document that does not verify is answered
/// 201 with `"verified": false` and the exact `reason`, is kept (at most 100
/// such attempts per artifact) and never counts as a signature. A verified
/// document counts only for the digests it covers (its subjects, or the
/// signed digest); `notes` says when it does not cover the artifact it was
/// sent for. The same document sent again is stored once: 200 with the
/// stored record.
#[utoipa::path(
    post, path = "/api/v1/attestations", tag = "attestations",
    extensions(("x-cairn-role" = json!("uploader"))),
    params(AttestationParams),
    request_body(content = Object, description = "The bundle, envelope, JSON lines or detached signature", content_type = "application/json"),
    responses(
        (status = 200, description = "Every document was stored already: the stored records", body = UploadResult),
        (status = 201, description = "Verified (or not: see `verified` and `reason`) and stored", body = UploadResult),
        (status = 400, description = "Malformed JSON or invalid parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role below uploader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The artifact is recorded with another digest", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 16 MiB (or CAIRN_MAX_UPLOAD)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a signature or attestation Cairn accepts", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AttestationParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    // A project-scoped token must say which of its projects the upload is for.
    match nonempty(&params.project) {
        Some(project) => caller.require_for(Role::Uploader, project)?,
        None => caller.require(Role::Uploader)?,
    }
    let target = params.target()?;
    let max = state.config.max_upload.min(MAX_ATTESTATION);
    let body = upload::read_body(&headers, body, max).await?;
    let result = service::upload(&state.pool, &target, &body.document, &caller).await?;
    let status = if result.stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttestationFilter {
    /// Only verified (`true`) or only failed (`false`) attempts.
    pub verified: Option<bool>,
    /// Only attestations with (`true`) or without (`false`) a subject no
    /// artifact has yet.
    pub pending: Option<bool>,
}

/// List attestations, newest first.
#[utoipa::path(
    get, path = "/api/v1/attestations", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(AttestationFilter, PageParams),
    responses(
        (status = 200, body = Page<AttestationRecord>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<AttestationFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AttestationRecord>>> {
    caller.require(Role::Viewer)?;
    let limit = page.limit()?;
    let rows = store::list(
        &state.pool,
        filter.verified,
        filter.pending,
        page.after()?,
        limit,
    )
    .await?;
    Ok(Json(Page::from_rows(rows, limit, |r| r.id)))
}

/// Get an attestation (one verification attempt).
#[utoipa::path(
    get, path = "/api/v1/attestations/{id}", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Attestation id")),
    responses(
        (status = 200, body = AttestationRecord),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AttestationRecord>> {
    caller.require(Role::Viewer)?;
    store::get(&state.pool, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("there is no attestation {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrustRootParams {
    /// A name to show (default: derived from the fingerprint).
    pub name: Option<String>,
    /// Sigstore roots: the OIDC issuers whose certificates the root may
    /// vouch for, comma-separated. Absent: any issuer except the public-good
    /// instance's (GitHub Actions, GitLab.com, Google, Microsoft, GitHub,
    /// Sigstore's own, Buildkite), which a private root must be given
    /// explicitly to vouch for.
    pub issuers: Option<String>,
    /// Sigstore roots: certificate SAN globs (`*` any run of characters)
    /// the root may vouch for, comma-separated. Absent: any.
    pub identities: Option<String>,
    /// Public keys: the SLSA builder id whose key this is; provenance the
    /// key signs then earns that builder identity (else none).
    pub builder: Option<String>,
}

/// `a,b , c` as a list without blanks; `None` when absent or empty.
fn comma_list(param: &Option<String>) -> Option<Vec<String>> {
    let items: Vec<String> = param
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// Add trust: a Sigstore `trusted_root.json` or a PEM public key (admin).
///
/// `Content-Type: application/json` for a trusted root (private Sigstore
/// deployment, staging), `application/x-pem-file` for a public key
/// (cosign `--key`, managed-key bundles, DSSE). The Sigstore public-good
/// root is trusted without this. Adding the same material again answers 200
/// with the stored entry.
#[utoipa::path(
    post, path = "/api/v1/trust-roots", tag = "attestations",
    extensions(("x-cairn-role" = json!("admin"))),
    params(TrustRootParams),
    request_body(content = Object, description = "trusted_root.json, or a PEM public key with Content-Type application/x-pem-file", content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = TrustRootSummary),
        (status = 200, description = "Already trusted", body = TrustRootSummary),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role below admin", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor PEM", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a usable trusted root or public key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_trust_root(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<TrustRootParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<TrustRootSummary>)> {
    caller.require(Role::Admin)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let pem = match content_type.as_str() {
        "application/json" => false,
        "application/x-pem-file" | "application/pem-certificate-chain" | "application/x-pem" => {
            true
        }
        other => {
            return Err(ApiError::unsupported_media(format!(
                "Content-Type {other:?}: send a trusted_root.json as application/json or a PEM public key as application/x-pem-file"
            )))
        }
    };
    let body = upload::read_body(&headers, body, 4 << 20).await?;
    let scope = TrustScope {
        issuers: comma_list(&params.issuers),
        identities: comma_list(&params.identities),
        builder_id: nonempty(&params.builder).map(str::to_owned),
    };
    let (summary, created) = service::add_trust(
        &state.pool,
        pem,
        nonempty(&params.name),
        &scope,
        &body.document,
        &caller,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary)))
}

/// List trust: the built-in Sigstore public-good root, then added roots and keys.
#[utoipa::path(
    get, path = "/api/v1/trust-roots", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(PageParams),
    responses(
        (status = 200, body = Page<TrustRootSummary>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_trust_roots(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<TrustRootSummary>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::trust_root_page(&state.pool, &page).await?))
}

/// An artifact's evidence: its chain of custody.
///
/// Source commit → CI run → artifact digest → SBOMs → verified signatures
/// (with signer identity) → verified provenance (with builder), plus every
/// attempt that failed and why.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/evidence", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("id" = i64, Path, description = "Artifact id")),
    responses(
        (status = 200, body = Evidence),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn artifact_evidence(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Evidence>> {
    caller.require(Role::Viewer)?;
    Ok(Json(service::evidence_for_artifact(&state.pool, id).await?))
}

fn parse_digest(d: &str) -> ApiResult<Sha256Digest> {
    Sha256Digest::parse(d).map_err(ApiError::bad_request)
}

/// Artifacts with this digest.
#[utoipa::path(
    get, path = "/api/v1/artifacts/by-digest/{digest}", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("digest" = String, Path, description = "`sha256:<64 hex>`")),
    responses(
        (status = 200, body = Vec<ArtifactSummary>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn by_digest(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(digest): ApiPath<String>,
) -> ApiResult<Json<Vec<ArtifactSummary>>> {
    caller.require(Role::Viewer)?;
    let digest = parse_digest(&digest)?;
    let found = service::artifacts_by_digest(&state.pool, &digest).await?;
    if found.is_empty() {
        return Err(ApiError::not_found(format!(
            "no artifact has digest {digest}"
        )));
    }
    Ok(Json(found))
}

/// Evidence about a digest: every artifact with it, and every attestation
/// whose subject it is (also before any artifact has it).
#[utoipa::path(
    get, path = "/api/v1/artifacts/by-digest/{digest}/evidence", tag = "attestations",
    extensions(("x-cairn-role" = json!("viewer"))),
    params(("digest" = String, Path, description = "`sha256:<64 hex>`")),
    responses(
        (status = 200, body = Evidence),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn digest_evidence(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(digest): ApiPath<String>,
) -> ApiResult<Json<Evidence>> {
    caller.require(Role::Viewer)?;
    let digest = parse_digest(&digest)?;
    Ok(Json(
        service::evidence_for_digest(&state.pool, &digest).await?,
    ))
}
