//! Trusted publishing, pure: which claims a publisher may constrain, how a
//! verified token's claims are matched against them, token verification.
//! No HTTP, no SQL.

pub mod token;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::identity::glob_match;

/// Why an exchange was refused: the check that failed (a claim name such
/// as `aud` or `repository`, or `signature`, `kid`, `alg`, `token`) and a
/// sentence for the pipeline's log.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub check: String,
    pub reason: String,
}

impl Refusal {
    pub fn new(check: impl Into<String>, reason: impl Into<String>) -> Self {
        Refusal {
            check: check.into(),
            reason: reason.into(),
        }
    }
}

/// The CI system whose ID tokens a publisher trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = PublisherProvider)]
pub enum Provider {
    /// GitHub Actions.
    Github,
    /// GitLab CI (gitlab.com or a self-managed instance).
    Gitlab,
}

/// GitHub Actions' issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "github" => Some(Provider::Github),
            "gitlab" => Some(Provider::Gitlab),
            _ => None,
        }
    }

    /// The claims a publisher of this provider may constrain.
    pub fn claims(self) -> &'static [&'static str] {
        match self {
            Provider::Github => &[
                "repository",
                "repository_owner",
                "repository_owner_id",
                "repository_id",
                "job_workflow_ref",
                "workflow_ref",
                "environment",
                "ref",
                "ref_type",
                "event_name",
                "runner_environment",
            ],
            Provider::Gitlab => &[
                "project_path",
                "project_id",
                "namespace_path",
                "namespace_id",
                "ref",
                "ref_type",
                "ref_protected",
                "environment",
                "environment_protected",
                "ci_config_ref_uri",
                "pipeline_source",
            ],
        }
    }

    /// At least one of these must be constrained to an exact value: without
    /// them every repository of the issuer would be trusted.
    pub fn identity_claims(self) -> &'static [&'static str] {
        match self {
            Provider::Github => &["repository", "repository_id", "repository_owner_id"],
            Provider::Gitlab => &["project_path", "project_id", "namespace_id"],
        }
    }

    /// The issuer when the publisher names none (GitLab has one per instance).
    pub fn default_issuer(self) -> Option<&'static str> {
        match self {
            Provider::Github => Some(GITHUB_ISSUER),
            Provider::Gitlab => Some("https://gitlab.com"),
        }
    }
}

/// Checks a publisher's claim constraints as configured: known claim names,
/// non-empty values, an exact identity claim.
pub fn check_constraints(
    provider: Provider,
    constraints: &BTreeMap<String, String>,
) -> Result<(), String> {
    for (name, value) in constraints {
        if !provider.claims().contains(&name.as_str()) {
            return Err(format!(
                "claims.{name}: not a {} claim a publisher can constrain (use {})",
                provider.as_str(),
                provider.claims().join(", ")
            ));
        }
        if value.is_empty() || value.len() > 512 {
            return Err(format!("claims.{name}: 1 to 512 characters"));
        }
    }
    let exact_identity = provider
        .identity_claims()
        .iter()
        .any(|c| constraints.get(*c).is_some_and(|v| !v.contains('*')));
    if !exact_identity {
        return Err(format!(
            "claims: constrain at least one of {} to an exact value, or every {} pipeline could publish",
            provider.identity_claims().join(", "),
            provider.as_str()
        ));
    }
    Ok(())
}

/// A claim's value as text: strings as they are, booleans and numbers
/// written out (GitLab sends `ref_protected` as `"true"`, some issuers as
/// `true`).
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first constraint the claims do not satisfy.
pub fn match_claims(
    constraints: &BTreeMap<String, String>,
    claims: &Map<String, Value>,
) -> Result<(), Refusal> {
    for (name, pattern) in constraints {
        match claims.get(name).and_then(claim_text) {
            None => {
                return Err(Refusal::new(
                    name.clone(),
                    format!("the token has no `{name}` claim, which the publisher requires"),
                ))
            }
            Some(value) if !glob_match(pattern, &value) => {
                return Err(Refusal::new(
                    name.clone(),
                    format!("claim `{name}` ({value:?}) is not one this publisher trusts"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A publisher as the matcher sees it.
pub struct Candidate<'a> {
    pub id: i64,
    pub audience: &'a str,
    pub claims: &'a BTreeMap<String, String>,
}

/// The first publisher (by id) whose audience the token carries and whose
/// constraints its claims satisfy; otherwise the most telling refusal: a
/// claim mismatch of a publisher the audience fits, else the audience.
pub fn choose(
    candidates: &[Candidate<'_>],
    audiences: &[String],
    claims: &Map<String, Value>,
) -> Result<i64, Refusal> {
    let mut refusal = None;
    for c in candidates {
        if !audiences.iter().any(|a| a == c.audience) {
            continue;
        }
        match match_claims(c.claims, claims) {
            Ok(()) => return Ok(c.id),
            Err(r) => {
                refusal.get_or_insert(r);
            }
        }
    }
    Err(refusal.unwrap_or_else(|| {
        Refusal::new(
            "aud",
            format!(
                "the token's audience ({}) is not one a publisher of this issuer expects",
                audiences.join(", ")
            ),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn github_claims() -> Map<String, Value> {
        serde_json::from_str(include_str!(
            "../../../../tests/fixtures/oidc/github-docs__oidc-example-claims.json"
        ))
        .unwrap()
    }

    #[test]
    fn constraints_need_an_exact_identity_and_known_claims() {
        assert!(check_constraints(
            Provider::Github,
            &map(&[("repository", "octo-org/octo-repo")])
        )
        .is_ok());
        assert!(check_constraints(
            Provider::Github,
            &map(&[("repository_owner_id", "65"), ("repository", "octo-org/*")])
        )
        .is_ok());
        let e =
            check_constraints(Provider::Github, &map(&[("ref", "refs/heads/main")])).unwrap_err();
        assert!(e.contains("every github pipeline"), "{e}");
        assert!(check_constraints(Provider::Github, &map(&[("repository", "*")])).is_err());
        let e = check_constraints(
            Provider::Github,
            &map(&[("repository", "a/b"), ("project_path", "x")]),
        )
        .unwrap_err();
        assert!(e.starts_with("claims.project_path"), "{e}");
        assert!(check_constraints(
            Provider::Gitlab,
            &map(&[("project_path", "grp/app"), ("ref_protected", "true")])
        )
        .is_ok());
    }

    #[test]
    fn claims_match_exactly_or_by_glob() {
        let claims = github_claims();
        let ok = map(&[
            ("repository", "octo-org/octo-repo"),
            ("repository_owner_id", "65"),
            (
                "job_workflow_ref",
                "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/*",
            ),
            ("environment", "prod"),
            ("event_name", "workflow_dispatch"),
        ]);
        assert!(match_claims(&ok, &claims).is_ok());
        let other_repo = map(&[("repository", "octo-org/other")]);
        assert_eq!(
            match_claims(&other_repo, &claims).unwrap_err().check,
            "repository"
        );
        let other_workflow = map(&[
            ("repository", "octo-org/octo-repo"),
            (
                "job_workflow_ref",
                "octo-org/octo-repo/.github/workflows/release.yml@*",
            ),
        ]);
        assert_eq!(
            match_claims(&other_workflow, &claims).unwrap_err().check,
            "job_workflow_ref"
        );
        // A claim the token lacks fails the constraint.
        let missing = map(&[("repository", "octo-org/octo-repo"), ("workflow_ref", "*")]);
        assert_eq!(
            match_claims(&missing, &claims).unwrap_err().check,
            "workflow_ref"
        );
    }

    #[test]
    fn gitlab_protected_refs_are_required_as_configured() {
        let protected = map(&[("project_path", "grp/app"), ("ref_protected", "true")]);
        let claims = json!({"project_path": "grp/app", "ref_protected": "false"});
        let r = match_claims(&protected, claims.as_object().unwrap()).unwrap_err();
        assert_eq!(r.check, "ref_protected");
        let claims = json!({"project_path": "grp/app", "ref_protected": true});
        assert!(match_claims(&protected, claims.as_object().unwrap()).is_ok());
    }

    #[test]
    fn the_first_fitting_publisher_wins_and_refusals_say_why() {
        let claims = github_claims();
        let a = map(&[("repository", "octo-org/other")]);
        let b = map(&[("repository", "octo-org/octo-repo")]);
        let cands = [
            Candidate {
                id: 1,
                audience: "cairn",
                claims: &a,
            },
            Candidate {
                id: 2,
                audience: "other-aud",
                claims: &b,
            },
            Candidate {
                id: 3,
                audience: "cairn",
                claims: &b,
            },
        ];
        assert_eq!(choose(&cands, &["cairn".into()], &claims), Ok(3));
        assert_eq!(
            choose(&cands[..2], &["cairn".into()], &claims)
                .unwrap_err()
                .check,
            "repository"
        );
        assert_eq!(
            choose(&cands, &["nobody".into()], &claims)
                .unwrap_err()
                .check,
            "aud"
        );
    }
}
