//! CI webhook ingestion: secrets at rest (`secrets`), delivery
//! verification (`verify`), payload normalisation into build records
//! (`normalize`), and the queue worker (`worker`). HTTP lives in
//! `api::webhooks`, SQL in `store::webhooks` and `store::builds`.

pub mod normalize;
pub mod secrets;
pub mod verify;
pub mod worker;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a GitHub delivery's body is remembered: within this window, a
/// byte-identical body sent to the same source again — under any
/// `X-GitHub-Delivery` — is a duplicate (GitHub signs the body alone, so a
/// captured delivery can be replayed with a new delivery id). 24 hours.
pub const GITHUB_BODY_REPLAY_WINDOW_SECS: i64 = 24 * 3600;

/// Which CI system a source belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "github" => Some(Provider::Github),
            "gitlab" => Some(Provider::Gitlab),
            _ => None,
        }
    }
}

/// A webhook source name: 1 to 100 letters, digits, `.`, `_` or `-`.
pub fn parse_source_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 100 {
        return Err("name must be 1 to 100 characters".into());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        || s.starts_with('.')
    {
        return Err(format!(
            "name {s:?} may only contain letters, digits, '.', '_' and '-' (it is part of the webhook URL)"
        ));
    }
    Ok(s.to_owned())
}

/// A repository path as a source restriction: `owner/name` (GitLab:
/// `group/subgroup/name`), compared case-insensitively.
pub fn parse_repository(s: &str) -> Result<String, String> {
    let ok = s.split('/').count() >= 2 && s.len() <= 300 && crate::domain::is_path_of_segments(s);
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "repository {s:?} must be a path such as octo-org/octo-repo"
        ))
    }
}
