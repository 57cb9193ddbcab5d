//! Why an upload could not be turned into a [`ParsedSbom`](super::ParsedSbom).

use std::fmt;

/// What kind of problem an [`SbomError`] is; decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomErrorKind {
    /// Not JSON at all: syntax error, truncated document, bad UTF-8 (HTTP 400).
    Malformed,
    /// Starts like XML but is not well-formed XML (HTTP 400).
    MalformedXml,
    /// Valid JSON, but neither a CycloneDX nor an SPDX document (HTTP 422).
    NotAnSbom,
    /// A CycloneDX/SPDX version we do not read (HTTP 422).
    UnsupportedVersion,
    /// Wrong JSON types, missing required fields, undecodable DSSE payload,
    /// absurd nesting depth, a DTD in an XML document (HTTP 422).
    Invalid,
}

/// An SBOM that could not be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomError {
    pub kind: SbomErrorKind,
    /// RFC 6901 JSON pointer to the offending value, e.g. `/components/3/name`
    /// (for a DSSE envelope: into the decoded in-toto statement, or `/payload`);
    /// for CycloneDX XML the element path, e.g. `/bom/components/component[4]/name`.
    pub pointer: Option<String>,
    /// One sentence for a human.
    pub detail: String,
}

impl SbomError {
    pub(crate) fn new(kind: SbomErrorKind, detail: impl Into<String>) -> Self {
        SbomError {
            kind,
            pointer: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Maps a serde_json error to an [`SbomError`]; `pointer` is where
    /// serde_path_to_error says it happened (may be empty), `what` names the
    /// document ("SBOM", "DSSE payload").
    pub(crate) fn from_json(err: &serde_json::Error, pointer: String, what: &str) -> Self {
        let message = message_without_position(err);
        let position = format!("line {}, column {}", err.line(), err.column());
        if message.starts_with("recursion limit exceeded") {
            return SbomError::new(
                SbomErrorKind::Invalid,
                format!("The {what} nests arrays/objects more than 128 levels deep ({position}); no real SBOM does."),
            );
        }
        if message.starts_with("trailing characters") {
            return SbomError::new(
                SbomErrorKind::Malformed,
                format!("The {what} holds more than one JSON value ({position}); upload a single document (a .jsonl file must hold one line)."),
            );
        }
        match err.classify() {
            serde_json::error::Category::Eof => SbomError::new(
                SbomErrorKind::Malformed,
                format!("The {what} is not valid JSON: it ends unexpectedly ({position}); was it truncated?"),
            ),
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => SbomError::new(
                SbomErrorKind::Malformed,
                format!("The {what} is not valid JSON: {message} ({position})."),
            ),
            serde_json::error::Category::Data => {
                // serde reports a missing field at the enclosing object; point
                // at the member that should be there instead.
                let pointer = match missing_field(&message) {
                    Some(field) => format!("{pointer}/{}", escape_token(field)),
                    None => pointer,
                };
                let shown = if pointer.is_empty() { "/" } else { &pointer };
                SbomError::new(
                    SbomErrorKind::Invalid,
                    format!("Invalid {what} at {shown}: {message} ({position})."),
                )
                .at(pointer)
            }
        }
    }
}

impl fmt::Display for SbomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for SbomError {}

/// `components[3].name` as the RFC 6901 pointer `/components/3/name`.
pub(crate) fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&escape_token(key)),
            Segment::Enum { variant } => out.push_str(&escape_token(variant)),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// serde_json's message without its " at line L column C" suffix.
fn message_without_position(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match full.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => full,
    }
}

/// The field name in serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tokens() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        assert_eq!(missing_field("missing field `name`"), Some("name"));
        assert_eq!(missing_field("invalid type"), None);
    }
}
