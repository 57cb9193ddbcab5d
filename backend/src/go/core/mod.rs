//! Go evidence: build info embedded in binaries, go.mod / go.sum, and the
//! cross-checks against SBOMs and provenance. Pure domain code: no HTTP, no SQL.

pub mod buildinfo;
pub mod crosscheck;
pub mod executable;
pub mod gomod;
pub mod symbols;

use std::borrow::Cow;

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

/// The longest setting value judged and shown, in bytes. Real values are
/// short lists of module patterns or flags; reading no more keeps a line
/// like `GONOSUMDB=GONOSUMDB=GONOSUMDB=…` (where each match would copy the
/// rest of the line) linear. A longer value is judged on its first
/// `MAX_VALUE` bytes and shown cut, with `…`.
pub const MAX_VALUE: usize = 256;

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether a Go environment setting switches off module verification;
/// the reason when it does.
pub fn disables_verification(key: &str, value: &str) -> Option<String> {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let shown = if value.len() > MAX_VALUE {
        Cow::Owned(format!("{}…", cut(value, MAX_VALUE)))
    } else {
        Cow::Borrowed(value)
    };
    let value = cut(value, MAX_VALUE);
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
            "{key}={shown} skips checksum verification for those modules"
        )),
        "GOFLAGS" if value.split_whitespace().any(|f| f == "-insecure") => {
            Some("GOFLAGS=-insecure allows insecure module fetches".into())
        }
        // Not read past the bound: fail closed rather than miss a flag.
        "GOFLAGS" if shown.len() > value.len() => Some(format!(
            "GOFLAGS is longer than {MAX_VALUE} bytes: Cairn does not read past them and cannot tell whether it allows insecure module fetches"
        )),
        "GOPRIVATE"
            if value.split(',').any(|p| {
                let p = p.trim();
                p.starts_with('*') || public_hosts.contains(&p.trim_end_matches('/'))
            }) =>
        {
            Some(format!(
                "GOPRIVATE={shown} is so broad that public modules skip the checksum database"
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
                let (quoted, rest) = match rest.strip_prefix(['"', '\'']) {
                    Some(q) => (true, q),
                    None => (false, rest),
                };
                // One byte more than is judged, so a longer value shows as cut.
                let rest = cut(rest, MAX_VALUE + 1);
                let value = if quoted {
                    rest.split(['"', '\'']).next()
                } else {
                    rest.split(|c: char| c.is_whitespace() || c == ',' || c == '}')
                        .next()
                }
                .unwrap_or_default();
                if let Some(why) = disables_verification(key, value) {
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

    #[test]
    fn values_are_bounded() {
        let at = "a".repeat(MAX_VALUE);
        let why = |text: &str| verification_switches(text).pop().unwrap().1;
        assert_eq!(
            why(&format!("GONOSUMDB={at}")),
            format!("GONOSUMDB={at} skips checksum verification for those modules")
        );
        assert_eq!(
            why(&format!("GONOSUMDB: \"{at}b\"")),
            format!("GONOSUMDB={at}… skips checksum verification for those modules")
        );
        assert_eq!(
            disables_verification("GOPRIVATE", &format!("*,{at}")).unwrap(),
            format!(
                "GOPRIVATE=*,{}… is so broad that public modules skip the checksum database",
                &at[2..]
            )
        );
        // A flag list too long to judge is reported, not passed.
        let long = format!("{} -insecure", "-trimpath ".repeat(30));
        assert!(disables_verification("GOFLAGS", &long)
            .unwrap()
            .starts_with("GOFLAGS is longer than 256 bytes"));
        assert!(disables_verification("GOFLAGS", &"-trimpath ".repeat(25)).is_none());
        // Every match used to copy the rest of the line: 500 MB from 100 KB.
        let line = "GONOSUMDB=".repeat(10_000);
        let found = verification_switches(&line);
        // The last one has an empty value.
        assert_eq!(found.len(), 10_000 - 1);
        assert!(found
            .iter()
            .all(|(l, why)| *l == 1 && why.len() < MAX_VALUE + 64));
    }
}
