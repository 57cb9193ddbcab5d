//! Building blocks shared by the CycloneDX and SPDX readers: borrowed
//! strings, bounded warnings, deduplicated edges, hash and licence spelling.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::model::{Edge, EdgeKind};

/// A JSON string that borrows from the input unless it contains escapes.
/// (`Option<Cow<str>>` would always allocate: serde only borrows a bare
/// `Cow<str>` field.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
            type Value = Str<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(StrVisitor(PhantomData))
    }
}

/// Reads a JSON array (or `null`) element by element, handing each element
/// to a closure instead of collecting them: large arrays (components,
/// packages) never exist twice in memory.
pub(crate) struct ForEach<T, F>(pub F, pub PhantomData<fn(T)>);

impl<T, F> ForEach<T, F> {
    pub fn new(f: F) -> Self {
        ForEach(f, PhantomData)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for ForEach<T, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for ForEach<T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element()? {
            (self.0)(element);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Whether a JSON value says something: not null, not a blank string nor
/// `NOASSERTION`/`NONE`, not an empty array or object (nor one holding only
/// such values). Accepts any type, so a field read only for quality scoring
/// can never make a document unreadable; keeps nothing, allocates nothing
/// (depth is bounded by serde_json's recursion limit). `Option<Present>`
/// is `None` when the field is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Present(pub bool);

impl Present {
    pub fn given(p: Option<Present>) -> bool {
        p.is_some_and(|p| p.0)
    }
}

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PresentVisitor;

        impl<'de> Visitor<'de> for PresentVisitor {
            type Value = Present;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Present, E> {
                Ok(Present(true))
            }
            fn visit_str<E>(self, v: &str) -> Result<Present, E> {
                let v = v.trim();
                Ok(Present(!v.is_empty() && !is_no_assertion(v)))
            }
            fn visit_unit<E>(self) -> Result<Present, E> {
                Ok(Present(false))
            }
            fn visit_none<E>(self) -> Result<Present, E> {
                Ok(Present(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Present, D::Error> {
                Present::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Present, A::Error> {
                let mut any = false;
                while let Some(Present(p)) = seq.next_element()? {
                    any |= p;
                }
                Ok(Present(any))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Present, A::Error> {
                let mut any = false;
                while let Some((IgnoredAny, Present(p))) = map.next_entry()? {
                    any |= p;
                }
                Ok(Present(any))
            }
        }

        deserializer.deserialize_any(PresentVisitor)
    }
}

/// Optional string with surrounding blanks removed; empty means absent.
pub(crate) fn non_empty(s: Option<Str<'_>>) -> Option<Cow<'_, str>> {
    let s = s?.0;
    let trimmed = s.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == s.len() {
        Some(s)
    } else {
        Some(Cow::Owned(trimmed.to_owned()))
    }
}

/// At most [`Warnings::MAX`] messages, then one "... and N more".
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    pub const MAX: usize = 20;

    pub fn push(&mut self, message: impl FnOnce() -> String) {
        if self.list.len() < Self::MAX {
            self.list.push(message());
        } else {
            self.dropped += 1;
        }
    }

    pub fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!("... and {} more", self.dropped));
        }
        self.list
    }
}

/// Edges in insertion order without duplicates or self-loops.
#[derive(Debug, Default)]
pub(crate) struct EdgeSet {
    edges: Vec<Edge>,
    seen: HashSet<Edge>,
}

impl EdgeSet {
    pub fn add(&mut self, from: u32, to: u32, kind: EdgeKind) {
        let edge = Edge { from, to, kind };
        if from != to && self.seen.insert(edge) {
            self.edges.push(edge);
        }
    }

    pub fn finish(self) -> Vec<Edge> {
        self.edges
    }
}

/// Hash algorithm as `sha256`, `sha1`, `sha512`, `md5`, `sha3-256`,
/// `blake2b-256`, `blake3`: lower-case; dashes dropped inside SHA-1/SHA-2
/// names, one dash kept between SHA3/BLAKE2 family and digest size.
pub(crate) fn hash_algorithm(alg: &str) -> String {
    let lower = alg.trim().to_ascii_lowercase().replace('_', "-");
    for family in ["sha3", "blake2b", "blake2s"] {
        if let Some(size) = lower.strip_prefix(family) {
            let size = size.trim_start_matches('-');
            return if size.is_empty() {
                family.to_owned()
            } else {
                format!("{family}-{size}")
            };
        }
    }
    if lower.starts_with("sha") {
        return lower.replace('-', "");
    }
    lower
}

/// `(algorithm, lower-case digest)` or `None` when either part is missing.
pub(crate) fn hash(alg: Option<Str<'_>>, content: Option<Str<'_>>) -> Option<(String, String)> {
    let alg = non_empty(alg)?;
    let content = non_empty(content)?;
    Some((hash_algorithm(&alg), content.to_ascii_lowercase()))
}

/// Whether `name` can stand in an SPDX expression as it is: one token of
/// letters, digits, `.`, `-`, optionally ending with the `+` operator.
fn is_plain_license_token(name: &str) -> bool {
    let body = name.strip_suffix('+').unwrap_or(name);
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// A free-text licence name as an SPDX term: plain tokens (`MIT`, `GPLv2+`)
/// as they are, anything else as `LicenseRef-<name>` with characters outside
/// `[A-Za-z0-9.-]` replaced by `-`.
pub(crate) fn license_name(name: &str) -> String {
    if is_plain_license_token(name) {
        return name.to_owned();
    }
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{id}")
}

/// Joins licence terms into one expression: a single term as it is, several
/// (duplicates removed) with ` AND `, compound ones in parentheses.
pub(crate) fn join_licenses(terms: Vec<String>) -> Option<String> {
    // A set, not `Vec::contains`: a component may list thousands.
    let mut seen = std::collections::HashSet::with_capacity(terms.len());
    let mut unique: Vec<String> = terms
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect();
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(
            unique
                .iter()
                .map(|t| {
                    if t.contains(char::is_whitespace) && !is_parenthesised(t) {
                        format!("({t})")
                    } else {
                        t.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

/// `(A OR B)` but not `(A) OR (B)`.
fn is_parenthesised(expr: &str) -> bool {
    let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) else {
        return false;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// `NOASSERTION`, `NONE` and blanks mean "nothing known" in SPDX fields.
pub(crate) fn spdx_value<'a>(value: Option<Str<'a>>) -> Option<Cow<'a, str>> {
    non_empty(value).filter(|v| !is_no_assertion(v))
}

pub(crate) fn is_no_assertion(v: &str) -> bool {
    v.eq_ignore_ascii_case("NOASSERTION") || v.eq_ignore_ascii_case("NONE")
}

/// SPDX `Organization: X` / `Person: Y` / `Tool: Z` split into prefix and
/// value; text without a known prefix is returned whole with an empty prefix.
pub(crate) fn split_actor(actor: &str) -> (&str, &str) {
    for prefix in ["Organization", "Person", "Tool"] {
        if let Some(rest) = actor.strip_prefix(prefix) {
            if let Some(rest) = rest.trim_start().strip_prefix(':') {
                return (prefix, rest.trim());
            }
        }
    }
    ("", actor.trim())
}

/// Borrowed lower-case version of `s` (allocates only when needed).
pub(crate) fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_algorithms() {
        for (given, want) in [
            ("SHA-256", "sha256"),
            ("SHA256", "sha256"),
            ("SHA-1", "sha1"),
            ("SHA1", "sha1"),
            ("SHA-512", "sha512"),
            ("SHA-384", "sha384"),
            ("MD5", "md5"),
            ("SHA3-256", "sha3-256"),
            ("SHA3_512", "sha3-512"),
            ("BLAKE2b-256", "blake2b-256"),
            ("BLAKE3", "blake3"),
            ("ADLER32", "adler32"),
        ] {
            assert_eq!(hash_algorithm(given), want, "{given}");
        }
    }

    #[test]
    fn licence_names() {
        assert_eq!(license_name("MIT"), "MIT");
        assert_eq!(license_name("GPLv3+"), "GPLv3+");
        assert_eq!(
            license_name("Apache License 2.0"),
            "LicenseRef-Apache-License-2.0"
        );
        assert_eq!(license_name("BSD/MIT (dual)"), "LicenseRef-BSD-MIT--dual-");
        assert_eq!(license_name("+"), "LicenseRef--");
    }

    #[test]
    fn licence_joining() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_licenses(s(&[])), None);
        assert_eq!(
            join_licenses(s(&["MIT OR Apache-2.0"])).unwrap(),
            "MIT OR Apache-2.0"
        );
        assert_eq!(
            join_licenses(s(&["MIT", "BSD-3-Clause", "MIT"])).unwrap(),
            "MIT AND BSD-3-Clause"
        );
        assert_eq!(
            join_licenses(s(&["MIT OR Apache-2.0", "(A AND B)", "(A) OR (B)", "Zlib"])).unwrap(),
            "(MIT OR Apache-2.0) AND (A AND B) AND ((A) OR (B)) AND Zlib"
        );
    }

    #[test]
    fn actors_and_warnings() {
        assert_eq!(
            split_actor("Organization: Anchore, Inc"),
            ("Organization", "Anchore, Inc")
        );
        assert_eq!(split_actor("Tool: syft-0.60.1"), ("Tool", "syft-0.60.1"));
        assert_eq!(split_actor("Jane"), ("", "Jane"));
        let mut w = Warnings::default();
        for i in 0..25 {
            w.push(|| format!("w{i}"));
        }
        let list = w.finish();
        assert_eq!(list.len(), Warnings::MAX + 1);
        assert_eq!(list.last().unwrap(), "... and 5 more");
    }
}
