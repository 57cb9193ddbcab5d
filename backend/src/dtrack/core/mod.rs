//! Pure parts of the Dependency-Track compatibility: name mapping, UUIDs,
//! DT's lenient booleans, and (in `shapes`) the DT JSON shapes.

pub mod shapes;

use sha2::{Digest, Sha256};

use crate::domain::{Label, ProjectName};

/// The most a DT name or version may be (Cairn's `Label` limit).
pub const MAX_NAME: usize = 256;

/// A DT project name as a Cairn project name: each run of characters
/// other than letters, digits, `.`, `_`, `-` and `/` becomes one `-`
/// (DT allows spaces, `:` of Maven coordinates, `@` of npm scopes, …);
/// leading and trailing white space is refused, as is a name that still is
/// no valid project name (an empty, `.` or `..` segment). `field` names the
/// request field in the error.
pub fn project_name(field: &str, dt: &str) -> Result<ProjectName, String> {
    let label = Label::parse(field, dt)?;
    let mut mapped = String::with_capacity(dt.len());
    let mut replaced = false;
    for c in label.as_str().chars() {
        if c.is_ascii_alphanumeric() || "._-/".contains(c) {
            mapped.push(c);
            replaced = false;
        } else if !replaced {
            mapped.push('-');
            replaced = true;
        }
    }
    ProjectName::parse(&mapped).map_err(|_| {
        format!(
            "{field} {dt:?} cannot be a Cairn project name: it maps to {mapped:?}, which is not \
             segments of letters, digits, '.', '_' or '-' separated by '/' (no empty, '.' or '..' segment)"
        )
    })
}

/// A DT name, version or artifact name kept as written (Cairn's artifact
/// names and versions are free text): no control characters, no leading or
/// trailing white space, at most 256 characters.
pub fn label(field: &str, dt: &str) -> Result<Label, String> {
    Label::parse(field, dt)
}

/// What a DT upload names: Cairn's project, artifact and version, and the
/// DT name and version it is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub project: ProjectName,
    pub artifact: Label,
    pub version: Label,
    /// The DT project name (the artifact's name, as sent).
    pub dt_name: String,
    pub dt_version: String,
    /// The DT parent's name, when there is one.
    pub parent: Option<String>,
}

/// `projectName`/`projectVersion`, optionally under `parentName`: without
/// a parent the Cairn project is the (mapped) DT name and the artifact the
/// DT name as written; with one, the project is the (mapped) parent name
/// and the artifact the DT name.
pub fn map_names(name: &str, version: &str, parent: Option<&str>) -> Result<Mapping, String> {
    let artifact = label("projectName", name)?;
    let version = label("projectVersion", version)?;
    let project = match parent {
        Some(p) => project_name("parentName", p)?,
        None => project_name("projectName", name)?,
    };
    Ok(Mapping {
        project,
        dt_name: artifact.as_str().to_owned(),
        dt_version: version.as_str().to_owned(),
        artifact,
        version,
        parent: parent.map(str::to_owned),
    })
}

/// A UUID in its canonical form (lower case), or why it is not one.
pub fn parse_uuid(field: &str, s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "{field} {s:?} is not a UUID (8-4-4-4-12 hex digits, e.g. 3f2a0c1e-9b7d-4e21-a1c3-5d6e7f809a1b)"
        ))
    }
}

/// A stable UUID for a thing DT has a UUID for and Cairn does not (a
/// component, a vulnerability, a violation): the first 128 bits of
/// SHA-256 over kind and key, marked as an RFC 9562 version 8 UUID.
pub fn derived_uuid(kind: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// DT's booleans as its clients send them: JSON `true`/`false`, or the
/// strings `"true"`/`"false"` (multipart fields, and the GitHub Action's
/// `isLatestProjectVersion`), exactly so.
pub fn parse_bool(field: &str, s: &str) -> Result<bool, String> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{field} must be true or false, not {s:?}")),
    }
}

/// The most bytes base64 text of `encoded_len` characters can decode to:
/// checked against CAIRN_MAX_UPLOAD before anything is decoded.
pub fn max_decoded_len(encoded_len: usize) -> usize {
    encoded_len.div_ceil(4) * 3
}

/// Decodes DT's `bom` field: standard base64, padding optional, white
/// space (line breaks of `base64` tools) ignored; at most `max` bytes, or
/// `Err(None)` when the text is too long to decode within `max`.
pub fn decode_bom(encoded: &str, max: usize) -> Result<Vec<u8>, Option<String>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: std::borrow::Cow<str> = if encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        encoded
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>()
            .into()
    } else {
        encoded.into()
    };
    if max_decoded_len(compact.len()) > max + 2 {
        return Err(None);
    }
    let doc = ENGINE
        .decode(compact.as_bytes())
        .map_err(|e| Some(format!("bom is not base64: {e}")))?;
    if doc.len() > max {
        return Err(None);
    }
    if doc.is_empty() {
        return Err(Some("bom is empty".into()));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dt_names_map_onto_project_names() {
        let ok = |s: &str| project_name("projectName", s).unwrap().as_str().to_owned();
        assert_eq!(ok("acme/payments-api"), "acme/payments-api");
        assert_eq!(ok("My Web App"), "My-Web-App");
        assert_eq!(ok("com.example:my-app"), "com.example-my-app");
        assert_eq!(ok("@scope/pkg"), "-scope/pkg");
        assert_eq!(ok("a  :: b"), "a-b");
        assert_eq!(ok("Überweisung"), "-berweisung");
        for bad in ["", " lead", "trail ", "a//b", "a/./b", "../x", "tab\there"] {
            let e = project_name("projectName", bad).unwrap_err();
            assert!(e.contains("projectName"), "{bad:?}: {e}");
        }
        assert!(project_name("projectName", &"x".repeat(257)).is_err());
    }

    #[test]
    fn parent_is_the_project_and_the_child_the_artifact() {
        let m = map_names("My App", "1.0 beta", None).unwrap();
        assert_eq!(
            (m.project.as_str(), m.artifact.as_str(), m.version.as_str()),
            ("My-App", "My App", "1.0 beta")
        );
        assert_eq!(
            (m.dt_name.as_str(), m.dt_version.as_str()),
            ("My App", "1.0 beta")
        );
        let m = map_names("payments api", "2.0", Some("Acme Platform")).unwrap();
        assert_eq!(
            (m.project.as_str(), m.artifact.as_str()),
            ("Acme-Platform", "payments api")
        );
        assert_eq!(m.parent.as_deref(), Some("Acme Platform"));
        assert!(map_names("x", " 1", None)
            .unwrap_err()
            .contains("projectVersion"));
        assert!(map_names("x", "1", Some("a//b"))
            .unwrap_err()
            .contains("parentName"));
    }

    #[test]
    fn uuids_parse_and_derive() {
        let u = "3F2A0C1E-9B7D-4E21-A1C3-5D6E7F809A1B";
        assert_eq!(parse_uuid("project", u).unwrap(), u.to_ascii_lowercase());
        for bad in [
            "",
            "x",
            "3f2a0c1e9b7d4e21a1c35d6e7f809a1b",
            "3f2a0c1e-9b7d-4e21-a1c3-5d6e7f809a1g",
        ] {
            assert!(parse_uuid("project", bad).unwrap_err().contains("project"));
        }
        let a = derived_uuid("component", "pkg:golang/x@1");
        assert_eq!(a, derived_uuid("component", "pkg:golang/x@1"));
        assert_ne!(a, derived_uuid("vulnerability", "pkg:golang/x@1"));
        assert!(parse_uuid("u", &a).is_ok());
        assert_eq!(&a[14..15], "8", "version 8");
        assert!("89ab".contains(&a[19..20]), "RFC 9562 variant");
    }

    #[test]
    fn lenient_booleans() {
        assert_eq!(parse_bool("autoCreate", "true"), Ok(true));
        assert_eq!(parse_bool("autoCreate", "false"), Ok(false));
        for bad in ["yes", "True", " true", ""] {
            assert!(parse_bool("autoCreate", bad)
                .unwrap_err()
                .contains("autoCreate"));
        }
    }

    #[test]
    fn bom_base64_is_bounded_before_decoding() {
        use base64::Engine;
        let doc = br#"{"bomFormat":"CycloneDX"}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(doc);
        assert_eq!(decode_bom(&b64, 1 << 20).unwrap(), doc);
        assert_eq!(decode_bom(b64.trim_end_matches('='), 1 << 20).unwrap(), doc);
        let wrapped: String = b64
            .as_bytes()
            .chunks(8)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(decode_bom(&wrapped, 1 << 20).unwrap(), doc);
        // Exactly at the limit is fine, one byte over is not.
        assert_eq!(decode_bom(&b64, doc.len()).unwrap(), doc);
        assert_eq!(decode_bom(&b64, doc.len() - 1), Err(None));
        // Far too long: refused by length alone.
        assert_eq!(decode_bom(&"A".repeat(4000), 100), Err(None));
        assert!(decode_bom("not base64!", 100)
            .unwrap_err()
            .unwrap()
            .contains("base64"));
        assert!(decode_bom("", 100).unwrap_err().unwrap().contains("empty"));
    }
}
