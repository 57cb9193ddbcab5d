//! SBOM parsing: format detection and normalisation of CycloneDX (JSON and
//! XML) and SPDX JSON documents into [`ParsedSbom`]. Free of HTTP and SQL.
//!
//! ```text
//! let input = Input::new(&upload)?; // unwraps a DSSE envelope if there is one
//! let sbom = input.parse()?;        // borrows strings from `input`
//! ```
//!
//! The document is read at most twice: once by a tiny probe that looks only
//! at the format markers (serde skips the rest), once into typed structs
//! that borrow their strings from the input. No `serde_json::Value` is built.
//! Nesting depth is bounded by serde_json's recursion limit (128).
//! CycloneDX XML is streamed once (quick-xml) into the structs the JSON
//! reader fills, with the same depth bound and no DTD (`cyclonedx/xml.rs`).
//! Normalisation rules: see the docs of `cyclonedx.rs` and `spdx.rs`.

mod cyclonedx;
mod detect;
mod error;
mod model;
mod normalize;
pub mod quality;
mod spdx;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde::Deserialize;

pub use error::{SbomError, SbomErrorKind};
pub use model::*;

use normalize::{non_empty, Str};

/// Bytes ready to parse: the upload itself, or the statement decoded from a
/// DSSE envelope.
pub struct Input<'a> {
    bytes: Cow<'a, [u8]>,
    /// `Some(predicateType)` when `bytes` is an in-toto statement wrapping the SBOM.
    predicate_type: Option<String>,
    detected: detect::Detected,
    syntax: Syntax,
}

impl<'a> Input<'a> {
    /// Looks at the uploaded (already gunzipped) bytes. If they are a DSSE
    /// envelope (`{"payloadType":"application/vnd.in-toto+json","payload":"<base64>",
    /// "signatures":[...]}`, possibly the single line of a `.intoto.jsonl`
    /// file) whose in-toto statement has a CycloneDX (`https://cyclonedx.org/bom`,
    /// also `.../bom/v1.x`) or SPDX (`https://spdx.dev/Document`, also
    /// versioned) predicateType, it decodes the payload (owned). Otherwise it
    /// borrows `raw` (a bare in-toto statement is unwrapped the same way).
    ///
    /// Bytes starting with `<` are CycloneDX XML; the root element's
    /// namespace gives the version.
    ///
    /// Fails when `raw` is not JSON (Malformed), not well-formed XML in its
    /// prolog (MalformedXml) or the envelope's payload cannot be decoded
    /// (Invalid). "Not an SBOM" and "unsupported version" are reported by
    /// [`Input::parse`].
    pub fn new(raw: &'a [u8]) -> Result<Input<'a>, SbomError> {
        let probed = detect::probe(raw)?;
        Ok(Input {
            bytes: probed.bytes,
            predicate_type: probed.predicate_type,
            detected: probed.detected,
            syntax: probed.syntax,
        })
    }

    /// The JSON or XML that [`Input::parse`] reads (the decoded statement
    /// for a DSSE envelope).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Parse and normalise. The format is detected from the content
    /// (CycloneDX: `"bomFormat":"CycloneDX"` or `<bom xmlns="http://cyclonedx.org/schema/bom/1.x">`;
    /// SPDX: `"spdxVersion":"SPDX-2.x"`).
    pub fn parse(&self) -> Result<ParsedSbom<'_>, SbomError> {
        let (format, spec_version) = self.detected.clone()?;
        let (mut parsed, subjects) = match format {
            SbomFormat::CycloneDx if self.syntax == Syntax::Xml => {
                let bom = cyclonedx::xml::read(cyclonedx::xml::utf8(&self.bytes)?)?;
                let mut parsed = cyclonedx::normalize(bom, spec_version);
                parsed.syntax = Syntax::Xml;
                (parsed, Vec::new())
            }
            SbomFormat::CycloneDx => {
                let (bom, subjects) = self.load::<cyclonedx::Bom<'_>>()?;
                (cyclonedx::normalize(bom, spec_version), subjects)
            }
            SbomFormat::Spdx => {
                let (doc, subjects) = self.load::<spdx::Document<'_>>()?;
                (spdx::normalize(doc, spec_version), subjects)
            }
        };
        check_licence_limits(&parsed)?;
        parsed.envelope = self
            .predicate_type
            .clone()
            .map(|predicate_type| EnvelopeInfo {
                predicate_type,
                subjects,
            });
        Ok(parsed)
    }

    /// Deserialises the SBOM, from the `predicate` of an in-toto statement
    /// if there is one (then also returning the statement's subjects).
    fn load<'b, T: Deserialize<'b>>(&'b self) -> Result<(T, Subjects), SbomError> {
        if self.predicate_type.is_none() {
            return Ok((from_slice(&self.bytes, "SBOM")?, Vec::new()));
        }
        let statement: Statement<'b, T> = from_slice(&self.bytes, "in-toto statement")?;
        // Only subjects that name a sha256 digest (see `EnvelopeInfo::subjects`).
        let subjects = statement
            .subject
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| {
                let sha256 = non_empty(s.digest?.sha256)?.to_ascii_lowercase();
                let name = non_empty(s.name).map(Cow::into_owned).unwrap_or_default();
                Some((name, Some(sha256)))
            })
            .collect();
        Ok((statement.predicate, subjects))
    }
}

/// Licence expressions are stored as written and parsed when policies judge
/// them: one beyond the parser's bounds is refused here, at upload, naming
/// the component (the policy rule reports such a stored one as an error).
fn check_licence_limits(parsed: &ParsedSbom<'_>) -> Result<(), SbomError> {
    for c in &parsed.nodes {
        let Some(expr) = &c.licenses else { continue };
        if let Err(e) = crate::policies::core::licenses::check_limits(expr) {
            let version = c
                .version
                .as_deref()
                .map(|v| format!("@{v}"))
                .unwrap_or_default();
            let which = match (&c.purl, &c.bom_ref) {
                (Some(purl), _) => format!("`{purl}`"),
                (None, Some(r)) => format!("`{}{version}` (ref `{r}`)", c.name),
                (None, None) => format!("`{}{version}`", c.name),
            };
            return Err(SbomError::new(
                SbomErrorKind::Invalid,
                format!("The licences of component {which}: {e}."),
            ));
        }
    }
    Ok(())
}

/// `(name, sha256)` of an in-toto statement's subjects that have a sha256.
type Subjects = Vec<(String, Option<String>)>;

/// An in-toto statement (v0.1 or v1) around an SBOM.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>, 'de: 'a"))]
struct Statement<'a, T> {
    predicate: T,
    subject: Option<Vec<Subject<'a>>>,
}

#[derive(Deserialize)]
struct Subject<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    digest: Option<Digest<'a>>,
}

#[derive(Deserialize)]
struct Digest<'a> {
    #[serde(borrow)]
    sha256: Option<Str<'a>>,
}

/// Deserialises `bytes`. The fast path runs serde_json alone; only when that
/// fails on a wrong type or missing field is the document read again with
/// serde_path_to_error to find the JSON pointer of the culprit.
pub(crate) fn from_slice<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    what: &str,
) -> Result<T, SbomError> {
    let err = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let mut pointer = String::new();
    if err.classify() == serde_json::error::Category::Data {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        if let Err(located) = serde_path_to_error::deserialize::<_, T>(&mut de) {
            pointer = error::json_pointer(located.path());
        }
    }
    Err(SbomError::from_json(&err, pointer, what))
}
