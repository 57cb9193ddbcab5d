//! Cheap first look at an upload: is it a DSSE envelope / in-toto statement,
//! and which SBOM format and version does it claim? Reads only a handful of
//! top-level members (serde skips everything else without building it).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::cyclonedx::xml;
use super::error::{SbomError, SbomErrorKind};
use super::from_slice;
use super::model::{SbomFormat, Syntax};

pub(crate) const CYCLONEDX_VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
pub(crate) const SPDX_VERSIONS: &[&str] = &["2.2", "2.3"];

const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Format and version (`1.5`, `2.3`) of a supported SBOM, or why it is not one.
pub(crate) type Detected = Result<(SbomFormat, String), SbomError>;

/// What [`probe`] found out about an upload.
pub(crate) struct Probed<'a> {
    /// The JSON to parse: the upload, or the statement decoded from a DSSE envelope.
    pub bytes: Cow<'a, [u8]>,
    /// `Some(predicateType)` when `bytes` is an in-toto statement whose
    /// `predicate` is the SBOM.
    pub predicate_type: Option<String>,
    pub detected: Detected,
    pub syntax: Syntax,
}

/// Looks at an upload: unwraps a DSSE envelope around an SBOM statement and
/// detects the SBOM format. Fails only when the upload is neither JSON nor
/// well-formed XML, or the envelope is broken; "not an SBOM" and
/// "unsupported version" are recorded in [`Probed::detected`] and reported
/// by `parse`. An upload starting with `<` is read as CycloneDX XML.
pub(crate) fn probe(raw: &[u8]) -> Result<Probed<'_>, SbomError> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    if xml::looks_like_xml(raw) {
        let detected = match xml::detect(xml::utf8(raw)?) {
            Ok(version) => Ok((SbomFormat::CycloneDx, version)),
            Err(e) if e.kind == SbomErrorKind::MalformedXml => return Err(e),
            Err(e) => Err(e),
        };
        return Ok(Probed {
            bytes: Cow::Borrowed(raw),
            predicate_type: None,
            detected,
            syntax: Syntax::Xml,
        });
    }
    let borrowed = |detected| Probed {
        bytes: Cow::Borrowed(raw),
        predicate_type: None,
        detected,
        syntax: Syntax::Json,
    };
    if let Some(not_object) = check_object(raw, "upload", SbomErrorKind::Malformed)? {
        return Ok(borrowed(Err(not_object)));
    }
    let top: Probe<'_> = from_slice(raw, "upload")?;

    if top.payload_type.is_some() || top.payload.is_some() {
        let payload_type = top
            .payload_type
            .as_ref()
            .and_then(Loose::as_str)
            .unwrap_or("");
        if payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Ok(borrowed(Err(SbomError::new(
                SbomErrorKind::NotAnSbom,
                format!(
                    "The upload is a DSSE envelope with payloadType \"{payload_type}\", not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})."
                ),
            )
            .at("/payloadType"))));
        }
        let statement = decode_payload(top.payload.as_ref())?;
        // A payload that is not JSON makes the whole upload invalid.
        if let Some(not_object) = check_object(&statement, "DSSE payload", SbomErrorKind::Invalid)
            .map_err(|e| e.at("/payload"))?
        {
            return Ok(borrowed(Err(not_object)));
        }
        let st: Probe<'_> = from_slice(&statement, "DSSE payload").map_err(|mut e| {
            if e.kind == SbomErrorKind::Malformed {
                e.kind = SbomErrorKind::Invalid;
                e.pointer = Some("/payload".to_owned());
            }
            e
        })?;
        let Some(detected) = detect_statement(&st, "DSSE envelope") else {
            return Ok(borrowed(Err(not_sbom_statement(&st, "DSSE envelope"))));
        };
        let predicate_type = st
            .predicate_type
            .as_ref()
            .and_then(Loose::as_str)
            .map(str::to_owned);
        drop(st);
        return Ok(Probed {
            bytes: Cow::Owned(statement),
            predicate_type,
            detected,
            syntax: Syntax::Json,
        });
    }

    if top.predicate_type.is_some() && top.predicate.is_some() {
        // A bare in-toto statement (no DSSE envelope around it).
        let detected = match detect_statement(&top, "in-toto statement") {
            Some(detected) => detected,
            None => Err(not_sbom_statement(&top, "in-toto statement")),
        };
        let predicate_type = top
            .predicate_type
            .as_ref()
            .and_then(Loose::as_str)
            .map(str::to_owned);
        return Ok(Probed {
            bytes: Cow::Borrowed(raw),
            predicate_type,
            detected,
            syntax: Syntax::Json,
        });
    }

    Ok(borrowed(detect(&top, "")))
}

/// `Ok(None)` if `bytes` hold a JSON object; `Ok(Some(NotAnSbom))` for other
/// valid JSON; an error (of `syntax_kind` for bad syntax) for non-JSON.
fn check_object(
    bytes: &[u8],
    what: &str,
    syntax_kind: SbomErrorKind,
) -> Result<Option<SbomError>, SbomError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(SbomError::new(
            syntax_kind,
            format!(
                "The {what} is not valid UTF-8 text (bad byte at offset {}).",
                e.valid_up_to()
            ),
        ));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let found = match first {
        Some(b'{') => return Ok(None),
        None => return Err(SbomError::new(syntax_kind, format!("The {what} is empty."))),
        Some(b'<') => {
            return Err(SbomError::new(
                syntax_kind,
                format!("The {what} looks like XML; only JSON is read here (CycloneDX XML is read as an upload of its own, not inside an envelope)."),
            ))
        }
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(_) => "a number, boolean or null",
    };
    from_slice::<IgnoredAny>(bytes, what).map_err(|mut e| {
        if e.kind == SbomErrorKind::Malformed {
            e.kind = syntax_kind;
        }
        if bytes.starts_with(b"SPDXVersion:") {
            e.detail =
                format!("The {what} looks like SPDX tag-value; only JSON SBOMs are supported.");
        }
        e
    })?;
    Ok(Some(SbomError::new(
        SbomErrorKind::NotAnSbom,
        format!("The {what} is JSON but {found}, not a CycloneDX or SPDX document (an object)."),
    )))
}

fn decode_payload(payload: Option<&Loose<'_>>) -> Result<Vec<u8>, SbomError> {
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

    let invalid = |detail: String| SbomError::new(SbomErrorKind::Invalid, detail).at("/payload");
    let payload = match payload {
        Some(Loose::Str(s)) => s.trim(),
        Some(Loose::Other(kind)) => {
            return Err(invalid(format!(
                "The DSSE payload must be a base64 string, found {kind}."
            )))
        }
        None => return Err(invalid("The DSSE envelope has no payload.".to_owned())),
    };
    // DSSE allows both base64 alphabets.
    let engine = if payload.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine.decode(payload).map_err(|e| {
        let e = e.to_string();
        invalid(format!(
            "The DSSE payload is not valid base64: {}.",
            e.trim_end_matches('.')
        ))
    })
}

/// `None` when the statement's predicateType is not an SBOM one.
fn detect_statement(st: &Probe<'_>, what: &str) -> Option<Detected> {
    let predicate_type = st.predicate_type.as_ref().and_then(Loose::as_str)?;
    if !is_sbom_predicate(predicate_type) {
        return None;
    }
    Some(match &st.predicate {
        Some(LooseProbe(Some(predicate))) => detect(predicate, "/predicate"),
        _ => Err(SbomError::new(
            SbomErrorKind::Invalid,
            format!("The {what}'s in-toto statement has no predicate object holding the SBOM."),
        )
        .at("/predicate")),
    })
}

fn not_sbom_statement(st: &Probe<'_>, what: &str) -> SbomError {
    let found = match &st.predicate_type {
        Some(Loose::Str(s)) => format!("predicateType \"{s}\""),
        _ => "no predicateType".to_owned(),
    };
    SbomError::new(
        SbomErrorKind::NotAnSbom,
        format!(
            "The {what} holds an in-toto statement with {found}, not a CycloneDX or SPDX SBOM."
        ),
    )
}

/// `https://cyclonedx.org/bom`, `https://spdx.dev/Document`, or either
/// followed by a version path (`/v1.5`).
fn is_sbom_predicate(predicate_type: &str) -> bool {
    ["https://cyclonedx.org/bom", "https://spdx.dev/Document"]
        .iter()
        .any(|base| match predicate_type.strip_prefix(base) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        })
}

/// Format and version from the format markers of a document at `prefix`.
fn detect(p: &Probe<'_>, prefix: &str) -> Detected {
    let wrong_type = |field: &str, kind: &str, example: &str| {
        SbomError::new(
            SbomErrorKind::Invalid,
            format!("\"{field}\" must be a string such as \"{example}\", found {kind}."),
        )
        .at(format!("{prefix}/{field}"))
    };
    let unsupported = |field: &str, found: &str, format: &str, supported: String| {
        SbomError::new(
            SbomErrorKind::UnsupportedVersion,
            format!(
                "{format} version \"{found}\" is not supported; supported versions: {supported}."
            ),
        )
        .at(format!("{prefix}/{field}"))
    };

    match &p.bom_format {
        Some(Loose::Str(f)) if f.eq_ignore_ascii_case("CycloneDX") => {
            return match &p.spec_version {
                Some(Loose::Str(v)) if CYCLONEDX_VERSIONS.contains(&v.as_ref()) => {
                    Ok((SbomFormat::CycloneDx, v.to_string()))
                }
                Some(Loose::Str(v)) => Err(unsupported(
                    "specVersion",
                    v,
                    "CycloneDX",
                    CYCLONEDX_VERSIONS.join(", "),
                )),
                Some(Loose::Other(kind)) => Err(wrong_type("specVersion", kind, "1.5")),
                None => Err(SbomError::new(
                    SbomErrorKind::Invalid,
                    "The CycloneDX document has no \"specVersion\".",
                )
                .at(format!("{prefix}/specVersion"))),
            };
        }
        Some(Loose::Str(f)) if p.spdx_version.is_none() => {
            return Err(SbomError::new(
                SbomErrorKind::NotAnSbom,
                format!("\"bomFormat\" is \"{f}\"; only \"CycloneDX\" is known."),
            )
            .at(format!("{prefix}/bomFormat")))
        }
        Some(Loose::Other(kind)) => return Err(wrong_type("bomFormat", kind, "CycloneDX")),
        _ => {}
    }
    match &p.spdx_version {
        Some(Loose::Str(v)) => match v.strip_prefix("SPDX-") {
            Some(n) if SPDX_VERSIONS.contains(&n) => Ok((SbomFormat::Spdx, n.to_owned())),
            _ => Err(unsupported(
                "spdxVersion",
                v,
                "SPDX",
                SPDX_VERSIONS.iter().map(|n| format!("SPDX-{n}")).collect::<Vec<_>>().join(", "),
            )),
        },
        Some(Loose::Other(kind)) => Err(wrong_type("spdxVersion", kind, "SPDX-2.3")),
        None => Err(SbomError::new(
            SbomErrorKind::NotAnSbom,
            "The JSON document is neither CycloneDX (no \"bomFormat\": \"CycloneDX\") nor SPDX (no \"spdxVersion\").",
        )),
    }
}

/// The members of an upload that tell what it is. Every field accepts any
/// JSON type, so arbitrary JSON is "not an SBOM" rather than "invalid".
#[derive(serde::Deserialize)]
struct Probe<'a> {
    #[serde(rename = "bomFormat", borrow)]
    bom_format: Option<Loose<'a>>,
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<Loose<'a>>,
    #[serde(rename = "spdxVersion", borrow)]
    spdx_version: Option<Loose<'a>>,
    // DSSE envelope
    #[serde(rename = "payloadType", borrow)]
    payload_type: Option<Loose<'a>>,
    #[serde(borrow)]
    payload: Option<Loose<'a>>,
    // in-toto statement
    #[serde(rename = "predicateType", borrow)]
    predicate_type: Option<Loose<'a>>,
    #[serde(borrow)]
    predicate: Option<LooseProbe<'a>>,
}

/// A string, or the name of the other JSON type found instead.
enum Loose<'a> {
    Str(Cow<'a, str>),
    Other(&'static str),
}

impl Loose<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            Loose::Other(_) => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
            type Value = Loose<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Loose<'a>, E> {
                Ok(Loose::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Loose<'a>, E> {
                Ok(Loose::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Loose<'a>, E> {
                Ok(Loose::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Loose<'a>, E> {
                Ok(Loose::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Loose<'a>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Loose<'a>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Loose<'a>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_unit<E>(self) -> Result<Loose<'a>, E> {
                Ok(Loose::Other("null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an object"))
            }
        }

        deserializer.deserialize_any(LooseVisitor(PhantomData))
    }
}

/// A nested [`Probe`] if the value is an object, else `None`.
struct LooseProbe<'a>(Option<Box<Probe<'a>>>);

impl<'de: 'a, 'a> Deserialize<'de> for LooseProbe<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProbeVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ProbeVisitor<'a> {
            type Value = LooseProbe<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LooseProbe<'a>, A::Error> {
                let probe = Probe::deserialize(MapAccessDeserializer::new(map))?;
                Ok(LooseProbe(Some(Box::new(probe))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LooseProbe<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LooseProbe(None))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
            fn visit_unit<E>(self) -> Result<LooseProbe<'a>, E> {
                Ok(LooseProbe(None))
            }
        }

        deserializer.deserialize_any(ProbeVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_predicate_types() {
        assert!(is_sbom_predicate("https://cyclonedx.org/bom"));
        assert!(is_sbom_predicate("https://cyclonedx.org/bom/v1.5"));
        assert!(is_sbom_predicate("https://spdx.dev/Document"));
        assert!(is_sbom_predicate("https://spdx.dev/Document/v2.3"));
        assert!(!is_sbom_predicate("https://slsa.dev/provenance/v1"));
        assert!(!is_sbom_predicate("https://cyclonedx.org/bomb"));
    }
}
