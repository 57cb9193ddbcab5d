//! What a file is, from its content (and its name where content is
//! ambiguous), and where it goes. No I/O: callers pass the first bytes and
//! a reader over the whole file; JSON is probed with a streaming parser that
//! keeps only a few top-level strings, so a large SBOM is never held whole.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// How many bytes of a file detection looks at (magic numbers, text kinds).
pub const HEAD_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CycloneDx,
    Spdx,
    CycloneDxXml,
    /// An unsigned in-toto statement whose predicate is an SBOM.
    SbomStatement,
    SigstoreBundle,
    CosignBundle,
    /// DSSE envelope(s), e.g. `.intoto.jsonl`; `sbom` when the statement's
    /// predicate is an SBOM (then it is stored as an SBOM too).
    InToto {
        sbom: bool,
    },
    DetachedSignature,
    GoBinary,
    /// `go version -m` output.
    GoVersionM,
    GoMod,
    GoSum,
    GithubWorkflow,
    GitlabCi,
    Dockerfile,
    Grype,
    Trivy,
    OpenVex,
    CycloneDxVex,
    CsafVex,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CycloneDx => "cyclonedx",
            Kind::Spdx => "spdx",
            Kind::CycloneDxXml => "cyclonedx-xml",
            Kind::SbomStatement => "in-toto-sbom",
            Kind::SigstoreBundle => "sigstore-bundle",
            Kind::CosignBundle => "cosign-bundle",
            Kind::InToto { sbom: false } => "in-toto",
            Kind::InToto { sbom: true } => "in-toto-sbom",
            Kind::DetachedSignature => "detached-signature",
            Kind::GoBinary => "go-binary",
            Kind::GoVersionM => "go-version-m",
            Kind::GoMod => "go.mod",
            Kind::GoSum => "go.sum",
            Kind::GithubWorkflow => "github-workflow",
            Kind::GitlabCi => "gitlab-ci",
            Kind::Dockerfile => "dockerfile",
            Kind::Grype => "grype-report",
            Kind::Trivy => "trivy-report",
            Kind::OpenVex => "openvex",
            Kind::CycloneDxVex => "cyclonedx-vex",
            Kind::CsafVex => "csaf-vex",
        }
    }

    /// The endpoints this kind is uploaded to, in order.
    pub fn endpoints(self) -> Vec<Endpoint> {
        let e = |path, content_type, target, kind: Option<&'static str>| Endpoint {
            path,
            content_type,
            target,
            kind,
        };
        use Target::*;
        const JSON: &str = "application/json";
        const TEXT: &str = "text/plain";
        match self {
            Kind::CycloneDx | Kind::Spdx | Kind::SbomStatement => {
                vec![e("/api/v1/sboms", JSON, Artifact, None)]
            }
            Kind::CycloneDxXml => vec![e("/api/v1/sboms", "application/xml", Artifact, None)],
            Kind::InToto { sbom: true } => vec![
                e("/api/v1/sboms", JSON, Artifact, None),
                e("/api/v1/attestations", JSON, Optional, None),
            ],
            Kind::SigstoreBundle
            | Kind::CosignBundle
            | Kind::InToto { sbom: false }
            | Kind::DetachedSignature => vec![e("/api/v1/attestations", JSON, Optional, None)],
            Kind::GoBinary => vec![e(
                "/api/v1/go-binaries",
                "application/octet-stream",
                Artifact,
                None,
            )],
            Kind::GoVersionM => vec![e("/api/v1/go-binaries", TEXT, Artifact, None)],
            Kind::GoMod => vec![e("/api/v1/go-modules", TEXT, Artifact, Some("go.mod"))],
            Kind::GoSum => vec![e("/api/v1/go-modules", TEXT, Artifact, Some("go.sum"))],
            Kind::GithubWorkflow => vec![e(
                "/api/v1/ci-definitions",
                TEXT,
                Project,
                Some("github-workflow"),
            )],
            Kind::GitlabCi => vec![e(
                "/api/v1/ci-definitions",
                TEXT,
                Project,
                Some("gitlab-ci"),
            )],
            Kind::Dockerfile => vec![e(
                "/api/v1/ci-definitions",
                TEXT,
                Project,
                Some("dockerfile"),
            )],
            Kind::Grype | Kind::Trivy => vec![e("/api/v1/scan-reports", JSON, Artifact, None)],
            Kind::OpenVex | Kind::CycloneDxVex | Kind::CsafVex => {
                vec![e("/api/v1/vex", JSON, Nothing, None)]
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an endpoint needs to know about the artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// project, artifact, version (required) and digest (optional).
    Artifact,
    /// The same, all optional: the upload may link by subject digest.
    Optional,
    /// project only (CI definitions) plus the file's path.
    Project,
    /// Nothing: the document names its products (VEX).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub path: &'static str,
    pub content_type: &'static str,
    pub target: Target,
    /// The `kind` query parameter, where the endpoint takes one.
    pub kind: Option<&'static str>,
}

/// Detects `name`'s kind: `head` is its first [`HEAD_LEN`] bytes (or all of
/// it), `whole` reads it from the start (used only for JSON).
pub fn detect(name: &str, head: &[u8], whole: impl Read) -> Result<Kind, String> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if is_executable(head) {
        return Ok(Kind::GoBinary);
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err("the file is empty".into()),
        Some(b'{') => return detect_json(name, whole),
        Some(b'<') => return detect_xml(head),
        _ => {}
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the head.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).expect("valid up to there")
        }
        Err(_) => return Err("a binary file that is not an executable (ELF, Mach-O, PE)".into()),
    };
    detect_text(name, text)
}

/// ELF, Mach-O (32/64-bit, either byte order, universal) or PE.
fn is_executable(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 7] = [
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
        b"MZ",
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn detect_xml(head: &[u8]) -> Result<Kind, String> {
    let text = String::from_utf8_lossy(head);
    if text.contains("<bom") && text.contains("cyclonedx.org/schema/bom") {
        Ok(Kind::CycloneDxXml)
    } else {
        Err("XML that is not a CycloneDX BOM (no <bom xmlns=\"http://cyclonedx.org/schema/bom/…\">)".into())
    }
}

fn detect_text(name: &str, text: &str) -> Result<Kind, String> {
    let base = base_name(name);
    if base == "go.mod" {
        return Ok(Kind::GoMod);
    }
    if base == "go.sum" {
        return Ok(Kind::GoSum);
    }
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"));
    let first = lines.next().unwrap_or_default();
    if first.starts_with("module ") {
        return Ok(Kind::GoMod);
    }
    let go_sum_line = |l: &str| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() == 3 && f[1].starts_with('v') && f[2].starts_with("h1:")
    };
    if go_sum_line(first) {
        return Ok(Kind::GoSum);
    }
    // `go version -m`: "<file>: go1.x" then "\tpath\t<main package>".
    if first.contains(": go1.")
        && text
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("\tpath\t"))
    {
        return Ok(Kind::GoVersionM);
    }
    match crate::ci::core::detect(Some(name), text) {
        Ok(crate::ci::core::Kind::GithubWorkflow) => Ok(Kind::GithubWorkflow),
        Ok(crate::ci::core::Kind::GitlabCi) => Ok(Kind::GitlabCi),
        Ok(crate::ci::core::Kind::Dockerfile) => Ok(Kind::Dockerfile),
        Err(_) => Err("not a kind Cairn reads (SBOM, bundle, in-toto, Go binary, go.mod/go.sum, CI definition, scan report, VEX)".into()),
    }
}

/// A JSON value reduced to what detection needs: strings kept, objects
/// and arrays skipped (never built).
enum Shallow {
    Str(String),
    Other,
}

impl<'de> Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shallow;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Shallow, E> {
                Ok(Shallow::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Shallow, E> {
                Ok(Shallow::Str(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_unit<E>(self) -> Result<Shallow, E> {
                Ok(Shallow::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Shallow, A::Error> {
                // `@context` may be an array: its first string is enough.
                let mut first = None;
                while let Some(v) = a.next_element::<Shallow>()? {
                    if let (true, Shallow::Str(s)) = (first.is_none(), v) {
                        first = Some(s);
                    }
                }
                Ok(first.map_or(Shallow::Other, Shallow::Str))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Shallow, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Shallow::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The top-level members of a JSON object: every key, and string values.
#[derive(Default)]
struct Top(HashMap<String, Option<String>>);

impl Top {
    fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
    fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k)?.as_deref()
    }
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: HashMap<String, Shallow> = HashMap::deserialize(d)?;
        Ok(Top(map
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Shallow::Str(s) => Some(s),
                    Shallow::Other => None,
                };
                (k, s)
            })
            .collect()))
    }
}

fn is_sbom_predicate(predicate_type: &str) -> bool {
    predicate_type.contains("cyclonedx") || predicate_type.contains("spdx")
}

fn detect_json(name: &str, whole: impl Read) -> Result<Kind, String> {
    // The first document: the whole file, or the first line of JSON lines.
    let top = serde_json::Deserializer::from_reader(std::io::BufReader::new(whole))
        .into_iter::<Top>()
        .next()
        .ok_or("the file is empty")?
        .map_err(|e| format!("not valid JSON: {e}"))?;
    if let Some(format) = top.str("bomFormat") {
        if format != "CycloneDX" {
            return Err(format!("bomFormat {format:?} is not CycloneDX"));
        }
        let vex_name = base_name(name).to_ascii_lowercase().contains("vex");
        return Ok(
            if top.has("vulnerabilities") && (!top.has("components") || vex_name) {
                Kind::CycloneDxVex
            } else {
                Kind::CycloneDx
            },
        );
    }
    if top.has("spdxVersion") {
        return Ok(Kind::Spdx);
    }
    if let Some(mt) = top.str("mediaType") {
        return if mt.starts_with("application/vnd.dev.sigstore.bundle") {
            Ok(Kind::SigstoreBundle)
        } else {
            Err(format!("mediaType {mt:?} is not a Sigstore bundle"))
        };
    }
    if top.has("base64Signature") && top.has("rekorBundle") {
        return Ok(Kind::CosignBundle);
    }
    if top.has("payloadType") {
        let sbom = top
            .str("payload")
            .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
            .and_then(|st| serde_json::from_slice::<Top>(&st).ok())
            .and_then(|st| st.str("predicateType").map(is_sbom_predicate))
            .unwrap_or(false);
        return Ok(Kind::InToto { sbom });
    }
    if let Some(pt) = top.str("predicateType") {
        // Unsigned: only the SBOM endpoint reads a bare statement.
        return if is_sbom_predicate(pt) {
            Ok(Kind::SbomStatement)
        } else {
            Err(format!(
                "an unsigned in-toto statement ({pt}): sign it (e.g. cosign attest) and push the bundle"
            ))
        };
    }
    if top.has("signature") && !top.has("matches") {
        return Ok(Kind::DetachedSignature);
    }
    if top.str("@context").is_some_and(|c| c.contains("openvex")) {
        return Ok(Kind::OpenVex);
    }
    if top.has("document") && top.has("vulnerabilities") {
        return Ok(Kind::CsafVex);
    }
    if top.has("matches") && top.has("descriptor") {
        return Ok(Kind::Grype);
    }
    if top.has("SchemaVersion") && (top.has("Results") || top.has("ArtifactName")) {
        return Ok(Kind::Trivy);
    }
    Err("JSON that is not a kind Cairn reads (CycloneDX, SPDX, Sigstore/cosign bundle, DSSE, Grype/Trivy report, OpenVEX/CycloneDX/CSAF VEX)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str, bytes: &[u8]) -> Result<Kind, String> {
        let head = &bytes[..bytes.len().min(HEAD_LEN)];
        detect(name, head, bytes)
    }

    fn fixture(path: &str) -> Vec<u8> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../");
        let p = std::path::Path::new(root).join(path);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn real_documents() {
        let shared = "../shared/fixtures/";
        let cases = [
            (
                "tests/fixtures/sbom/guac__alpine-cyclonedx.json",
                Kind::CycloneDx,
            ),
            ("tests/fixtures/go/go.mod", Kind::GoMod),
            ("tests/fixtures/go/go.sum", Kind::GoSum),
            ("tests/fixtures/go/version-m.txt", Kind::GoVersionM),
            (
                "tests/fixtures/ci/release-hardened.yml",
                Kind::GithubWorkflow,
            ),
            ("tests/fixtures/ci/gitlab-ci.yml", Kind::GitlabCi),
            ("tests/fixtures/ci/Dockerfile.pinned", Kind::Dockerfile),
            (
                "tests/fixtures/sigstore/conformance/happy-path-v0.3__bundle.sigstore.json",
                Kind::SigstoreBundle,
            ),
        ];
        for (path, kind) in cases {
            assert_eq!(of(path, &fixture(path)), Ok(kind), "{path}");
        }
        let shared_cases = [
            ("sbom/trivy__fixtures_sbom_centos-7-spdx.json", Kind::Spdx),
            (
                "sbom/trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl",
                Kind::InToto { sbom: true },
            ),
            (
                "sigstore/cosign-legacy/sigstore-rs__src_cosign_bundle.rs__artifact.bundle",
                Kind::CosignBundle,
            ),
            ("scan/grype__TestJsonImgsPresenter.golden.json", Kind::Grype),
            ("scan/trivy__alpine-310.json.golden", Kind::Trivy),
            ("vex/vexctl__examples_openvex_demo.vex.json", Kind::OpenVex),
            (
                "vex/cyclonedx-bom-examples__CISA-Use-Cases_Case-1_vex-affected.json",
                Kind::CycloneDxVex,
            ),
            ("vex/csaf__2022-evd-uc-01-a-001.json", Kind::CsafVex),
        ];
        for (path, kind) in shared_cases {
            let full = format!("{shared}{path}");
            if !std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../"))
                .join(&full)
                .exists()
            {
                continue; // the shared fixtures are not in every checkout
            }
            assert_eq!(of(path, &fixture(&full)), Ok(kind), "{path}");
        }
    }

    #[test]
    fn content_decides_and_names_break_ties() {
        // Executables by magic number (the server reads the build info).
        for magic in [
            &b"\x7fELF\x02\x01\x01\x00"[..],
            b"\xcf\xfa\xed\xfe\x07",
            b"MZ\x90\x00",
        ] {
            assert_eq!(of("app", magic), Ok(Kind::GoBinary));
        }
        // A workflow outside .github/workflows is still recognised by content.
        let wf = b"on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n";
        assert_eq!(of("ci.yml", wf), Ok(Kind::GithubWorkflow));
        assert_eq!(
            of("Containerfile", b"# base\nFROM scratch\n"),
            Ok(Kind::Dockerfile)
        );
        // go.mod/go.sum by name even when empty-ish or odd.
        assert_eq!(of("x/go.sum", b"\n// nothing pinned\n"), Ok(Kind::GoSum));
        assert_eq!(
            of("deps.txt", b"golang.org/x/text v0.3.0 h1:abc=\n"),
            Ok(Kind::GoSum)
        );
        // A CycloneDX document with components and vulnerabilities is an
        // SBOM, unless its name says VEX.
        let both = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[],"vulnerabilities":[]}"#;
        assert_eq!(of("bom.json", both), Ok(Kind::CycloneDx));
        assert_eq!(of("app.vex.json", both), Ok(Kind::CycloneDxVex));
        let xml = br#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"></bom>"#;
        assert_eq!(of("bom.xml", xml), Ok(Kind::CycloneDxXml));
        let detached = br#"{"signature":"MEUC","publicKey":"-----BEGIN PUBLIC KEY-----"}"#;
        assert_eq!(of("a.sig.json", detached), Ok(Kind::DetachedSignature));
        let openvex = br#"{"@context":["https://openvex.dev/ns/v0.2.0"],"statements":[]}"#;
        assert_eq!(of("x.json", openvex), Ok(Kind::OpenVex));
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{}}"#;
        assert_eq!(of("s.json", statement), Ok(Kind::SbomStatement));
    }

    #[test]
    fn refusals_say_why() {
        assert!(of("a", b"").unwrap_err().contains("empty"));
        assert!(of("a", b"   \n").unwrap_err().contains("empty"));
        assert!(of("a.json", b"{\"a\": 1}")
            .unwrap_err()
            .contains("not a kind"));
        assert!(of("a.json", b"{\"a\": ")
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(of("a.xml", b"<html></html>")
            .unwrap_err()
            .contains("not a CycloneDX"));
        assert!(of("a.bin", b"\x00\x01\x02\xff\xfe")
            .unwrap_err()
            .contains("binary"));
        let provenance = br#"{"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;
        assert!(of("p.json", provenance).unwrap_err().contains("unsigned"));
        assert!(of("notes.md", b"# Hello\n\nworld\n").is_err());
    }

    #[test]
    fn endpoints() {
        assert_eq!(Kind::GoMod.endpoints()[0].kind, Some("go.mod"));
        assert_eq!(
            Kind::GoBinary.endpoints()[0].content_type,
            "application/octet-stream"
        );
        let both: Vec<&str> = Kind::InToto { sbom: true }
            .endpoints()
            .iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(both, ["/api/v1/sboms", "/api/v1/attestations"]);
        assert_eq!(Kind::Dockerfile.endpoints()[0].target, Target::Project);
        assert_eq!(Kind::OpenVex.endpoints()[0].target, Target::Nothing);
    }
}
