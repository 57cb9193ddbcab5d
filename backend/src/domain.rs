//! Validated names and identifiers. Each `parse` says exactly what is wrong.

use std::fmt;

fn check_text(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if s.len() > max {
        return Err(format!("{what} is longer than {max} bytes"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
