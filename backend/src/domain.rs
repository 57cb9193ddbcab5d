//! Validated names and identifiers. Each `parse` says exactly what is wrong.

use std::fmt;

fn check_text(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if s.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    if s.trim() != s {
        return Err(format!("{what} must not start or end with white space"));
    }
    Ok(())
}

/// `a/b/c` where every segment is letters, digits, `.`, `_` or `-` (and
/// neither `.` nor `..`): project names and repository paths.
pub fn is_path_of_segments(s: &str) -> bool {
    s.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    })
}

/// `*` matches any run of characters (including `/`); everything else is
/// literal. Case-sensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A project name such as `acme/payments-api`: segments of letters, digits,
/// `.`, `_` and `-`, separated by `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(s: &str) -> Result<Self, String> {
        check_text("project", s, 200)?;
        if !is_path_of_segments(s) {
            return Err(format!(
                "project {s:?} must be segments of letters, digits, '.', '_' or '-' separated by '/' (e.g. acme/payments-api)"
            ));
        }
        Ok(ProjectName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An artifact name (e.g. an image or binary name) or version: free text
/// without control characters, at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub fn parse(what: &str, s: &str) -> Result<Self, String> {
        check_text(what, s, 256)?;
        Ok(Label(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `sha256:` followed by 64 lower-case hex digits (upper case is accepted
/// and normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Digest(String);

impl Sha256Digest {
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("digest {s:?} must be of the form sha256:<64 hex digits>"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "digest {s:?} must have exactly 64 hex digits after sha256:"
            ));
        }
        Ok(Sha256Digest(format!("sha256:{}", hex.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// --- The same rules as JSON Schema, for the API description. Each pattern
// accepts exactly what the `parse` above accepts (tested below), so a client
// generating requests from the schema sends only what the server takes.

/// One path segment: letters, digits, `.`, `_`, `-`, but not `.` or `..`.
const SEGMENT: &str =
    r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]*|\.[A-Za-z0-9_-][A-Za-z0-9._-]*|\.\.[A-Za-z0-9._-]+)";

/// [`ProjectName::parse`] as a pattern.
pub fn project_pattern() -> String {
    format!("^{SEGMENT}(?:/{SEGMENT})*$")
}

/// White space that is not a control character (controls are refused
/// anywhere): what `str::trim` removes besides controls.
const SPACES: &str = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
const CONTROLS: &str = r"\x00-\x1f\x7f-\x9f";

/// [`Label::parse`] as a pattern (the length is `maxLength`).
pub fn label_pattern() -> String {
    format!("^[^{CONTROLS}{SPACES}](?:[^{CONTROLS}]*[^{CONTROLS}{SPACES}])?$")
}

pub const DIGEST_PATTERN: &str = "^sha256:[0-9a-fA-F]{64}$";

fn string_schema(pattern: String, max: usize) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .build()
}

/// The schema of a project name.
pub fn project_schema() -> utoipa::openapi::Object {
    string_schema(project_pattern(), 200)
}

/// The schema of an artifact name or version.
pub fn label_schema() -> utoipa::openapi::Object {
    string_schema(label_pattern(), 256)
}

/// The schema of a `sha256:` digest.
pub fn digest_schema() -> utoipa::openapi::Object {
    string_schema(DIGEST_PATTERN.into(), 71)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns the API documents accept exactly what the parsers do.
    #[test]
    fn schemas_agree_with_the_parsers() {
        let project = regex::Regex::new(&project_pattern()).unwrap();
        for s in [
            "acme/payments-api",
            "solo",
            "",
            "acme//x",
            "/acme",
            "acme/",
            "a b",
            "acme/../x",
            "x\n",
            ".",
            "..",
            "...",
            ".a",
            "..a",
            "a/.",
            "a/..",
            "a/.b",
            "_",
            "-",
            "A.B_c-d/e",
            "é",
            "a/b/c/d",
        ] {
            assert_eq!(
                project.is_match(s),
                ProjectName::parse(s).is_ok(),
                "project {s:?}"
            );
        }
        let label = regex::Regex::new(&label_pattern()).unwrap();
        for s in [
            "app",
            "1.0.0",
            "",
            " ",
            " a",
            "a ",
            "a b",
            "\u{a0}a",
            "a\u{3000}",
            "a\tb",
            "\u{85}",
            "x\u{7f}",
            "日本",
            "\u{2028}",
            "a\u{200b}",
            "v1 (beta)",
            "\u{1680}x",
        ] {
            assert_eq!(
                label.is_match(s),
                Label::parse("version", s).is_ok(),
                "label {s:?}"
            );
        }
        assert!(Label::parse("version", &"é".repeat(256)).is_ok());
        assert!(Label::parse("version", &"é".repeat(257)).is_err());
        let digest = regex::Regex::new(DIGEST_PATTERN).unwrap();
        for s in [
            &format!("sha256:{}", "a".repeat(64)),
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:{}", "a".repeat(63)),
            &format!("sha512:{}", "a".repeat(64)),
            "sha256:",
        ] {
            assert_eq!(digest.is_match(s), Sha256Digest::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn project_names() {
        assert!(ProjectName::parse("acme/payments-api").is_ok());
        assert!(ProjectName::parse("solo").is_ok());
        for bad in ["", "acme//x", "/acme", "acme/", "a b", "acme/../x", "x\n"] {
            assert!(ProjectName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn digests() {
        let hex = "AB".repeat(32);
        assert_eq!(
            Sha256Digest::parse(&format!("sha256:{hex}"))
                .unwrap()
                .as_str(),
            format!("sha256:{}", hex.to_lowercase())
        );
        assert!(Sha256Digest::parse(&hex).is_err());
        assert!(Sha256Digest::parse("sha256:abc").is_err());
        assert!(Sha256Digest::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
    }

    #[test]
    fn labels() {
        assert!(Label::parse("version", "1.2.3").is_ok());
        assert!(Label::parse("version", " ").is_err());
        assert!(Label::parse("artifact", &"x".repeat(300)).is_err());
    }
}
