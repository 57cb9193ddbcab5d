//! Builds' pure core: providers and source names, delivery verification
//! (`verify`), payload normalisation into build records (`normalize`).

pub mod normalize;
pub mod verify;

use std::net::{IpAddr, Ipv6Addr};

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

/// The address a refusal is audited under: IPv4 as it is, IPv6 as its /64
/// network (one host commonly holds a whole /64, so per-address rows would
/// let one sender grow the audit at will).
pub fn audit_address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_audited_per_ipv4_address_and_ipv6_network() {
        let a = |s: &str| audit_address(s.parse().unwrap());
        assert_eq!(a("203.0.113.7"), "203.0.113.7");
        assert_eq!(a("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(a("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(a("2001:db8:1:2:ffff:1:2:3"), a("2001:db8:1:2::9"));
        assert_ne!(a("2001:db8:1:2::1"), a("2001:db8:1:3::1"));
    }
}
