//! Go evidence: build info embedded in binaries, go.mod / go.sum, and the
//! cross-checks against SBOMs and provenance. Pure domain code: no HTTP, no SQL.

pub mod buildinfo;
pub mod crosscheck;
pub mod gomod;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Go evidence of an artifact as policy rules read it (`RuleInput.go`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GoFacts {
    /// go_builds id of the latest build info.
    pub build_id: i64,
    pub build: buildinfo::BuildInfo,
    /// The binary against the artifact's latest SBOM (`None` without an
    /// SBOM); the commit comparison is left to the rules, which see the
    /// provenance and CI runs.
    pub sbom_check: Option<Vec<crosscheck::Mismatch>>,
    /// The latest uploaded go.mod, parsed.
    pub go_mod: Option<gomod::GoMod>,
    /// The latest uploaded go.sum, parsed.
    pub go_sum: Option<Vec<gomod::SumEntry>>,
}

/// Whether a Go environment setting switches off module verification;
/// the reason when it does.
pub fn disables_verification(key: &str, value: &str) -> Option<String> {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let public_hosts = [
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "golang.org",
        "go.googlesource.com",
    ];
    match key {
        "GOSUMDB" if value == "off" => Some("GOSUMDB=off turns off the checksum database".into()),
        "GONOSUMDB" | "GONOSUMCHECK" | "GOINSECURE" if !value.is_empty() => Some(format!(
            "{key}={value} skips checksum verification for those modules"
        )),
        "GOFLAGS" if value.split_whitespace().any(|f| f == "-insecure") => {
            Some("GOFLAGS=-insecure allows insecure module fetches".into())
        }
        "GOPRIVATE"
            if value.split(',').any(|p| {
                let p = p.trim();
                p.starts_with('*') || public_hosts.contains(&p.trim_end_matches('/'))
            }) =>
        {
            Some(format!(
                "GOPRIVATE={value} is so broad that public modules skip the checksum database"
            ))
        }
        _ => None,
    }
}

/// Verification-disabling settings written in a text (CI definition or
/// provenance parameters): `(line, reason)`. Reads `KEY=value`, `KEY: value`
/// and `"KEY": "value"` forms; comment lines are skipped.
pub fn verification_switches(text: &str) -> Vec<(usize, String)> {
    const KEYS: &[&str] = &[
        "GOSUMDB",
        "GONOSUMDB",
        "GONOSUMCHECK",
        "GOINSECURE",
        "GOFLAGS",
        "GOPRIVATE",
    ];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        if l.starts_with('#') {
            continue;
        }
        for key in KEYS {
            let mut from = 0;
            while let Some(at) = l[from..].find(key) {
                let start = from + at;
                from = start + key.len();
                let before_ok = start == 0
                    || !l.as_bytes()[start - 1].is_ascii_alphanumeric()
                        && l.as_bytes()[start - 1] != b'_';
                let rest = l[from..].trim_start_matches(['"', '\'']);
                let Some(rest) = rest
                    .strip_prefix('=')
                    .or_else(|| rest.trim_start().strip_prefix(':'))
                else {
                    continue;
                };
                if !before_ok {
                    continue;
                }
                let rest = rest.trim_start();
                let value: String = if let Some(q) = rest.strip_prefix(['"', '\'']) {
                    q.chars().take_while(|c| *c != '"' && *c != '\'').collect()
                } else {
                    rest.chars()
                        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != '}')
                        .collect()
                };
                if let Some(why) = disables_verification(key, &value) {
                    out.push((i + 1, why));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_settings() {
        let text = "env:\n  GOSUMDB: off\n  GOPROXY: direct\n  GOPRIVATE: corp.example.com\nrun: GOFLAGS=-insecure go build\n# GOSUMDB=off\n{\"GONOSUMDB\": \"github.com/acme\"}\nGOPRIVATE=*\n";
        let lines: Vec<usize> = verification_switches(text).iter().map(|h| h.0).collect();
        assert_eq!(lines, [2, 5, 7, 8]);
        assert!(disables_verification("GOSUMDB", "sum.golang.org").is_none());
        assert!(disables_verification("GOPRIVATE", "github.com").is_some());
    }
}
