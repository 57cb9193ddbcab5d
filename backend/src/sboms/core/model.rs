//! The normalised view of an SBOM that the rest of Cairn works with,
//! whatever the source format. Strings borrow from the uploaded bytes
//! where the JSON allows it, so a large SBOM is not copied again.

use std::borrow::Cow;

/// Which standard an SBOM follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDx,
    Spdx,
}

impl SbomFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::CycloneDx => "cyclonedx",
            SbomFormat::Spdx => "spdx",
        }
    }
}

/// How the document is written: CycloneDX comes as JSON or XML, SPDX as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Xml,
}

impl Syntax {
    pub fn as_str(self) -> &'static str {
        match self {
            Syntax::Json => "json",
            Syntax::Xml => "xml",
        }
    }
}

/// How two nodes of the SBOM are related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// `from` depends on `to` (CycloneDX `dependencies`, SPDX `DEPENDS_ON`,
    /// reversed `DEPENDENCY_OF`).
    DependsOn,
    /// `from` contains `to` (CycloneDX nested components, SPDX `CONTAINS`,
    /// reversed `CONTAINED_BY`).
    Contains,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::DependsOn => "depends_on",
            EdgeKind::Contains => "contains",
        }
    }
}

/// An edge between two entries of [`ParsedSbom::nodes`], by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub kind: EdgeKind,
}

/// One package/component, normalised across formats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component<'a> {
    /// CycloneDX `bom-ref` or SPDX `SPDXID`.
    pub bom_ref: Option<Cow<'a, str>>,
    /// Lower-case type: CycloneDX `type` (library, application, container,
    /// operating-system, framework, file, ...), SPDX `primaryPackagePurpose`
    /// lower-cased with `_` as `-`; `library` when the document says nothing.
    pub kind: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub version: Option<Cow<'a, str>>,
    /// Package URL exactly as the document gives it.
    pub purl: Option<Cow<'a, str>>,
    /// Supplier name without SPDX's `Organization:`/`Person:` prefix.
    pub supplier: Option<Cow<'a, str>>,
    /// One SPDX licence expression (several licences joined with ` AND `,
    /// non-SPDX names as `LicenseRef-...`); `None` when unknown/NOASSERTION.
    pub licenses: Option<String>,
    /// (algorithm, lower-case hex), algorithm lower-case without dashes:
    /// `sha256`, `sha1`, `sha512`, `md5`, `sha3-256` keeps its dash.
    pub hashes: Vec<(String, String)>,
    /// The distro source package it was built from, when the document says
    /// (Trivy's `aquasecurity:trivy:SrcName` / `SrcVersion` properties).
    pub source: Option<SourcePackage<'a>>,
    /// What the document says beyond the stored fields, read only to judge
    /// the SBOM's quality (`sbom::quality`); not part of the identity.
    pub extra: ComponentExtra,
}

/// Per-component facts the quality profiles need and nothing else stores.
/// Presence only: values are not kept (a few bytes per component).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ComponentExtra {
    /// The component's creator is named: CycloneDX `manufacturer`,
    /// `authors` or (1.2-1.5) `author`; SPDX `originator`.
    pub creator: bool,
    /// An identifier other than the purl: CycloneDX `cpe`, `swid`,
    /// `omniborId`, `swhid`; SPDX `externalRefs` of type `cpe22Type`,
    /// `cpe23Type`, `swid`, `swh`, `gitoid`.
    pub other_identifier: bool,
    /// BSI TR-03183-2 filename: CycloneDX property `bsi:component:filename`;
    /// SPDX `packageFileName`.
    pub filename: bool,
    /// CycloneDX property `bsi:component:executable`.
    pub executable: bool,
    /// CycloneDX property `bsi:component:archive`.
    pub archive: bool,
    /// CycloneDX property `bsi:component:structured`.
    pub structured: bool,
    /// The component has its own entry in CycloneDX `dependencies` (an
    /// empty `dependsOn` states it has none).
    pub dependencies_listed: bool,
}

/// Document-level facts the quality profiles need and nothing else stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DocumentExtra {
    /// CycloneDX `metadata.manufacturer` (1.6+) or `metadata.manufacture`
    /// (1.5) names who made the SBOM's subject.
    pub manufacturer: bool,
    /// The generation context is stated: CycloneDX `metadata.lifecycles`
    /// (1.5+) is not empty. SPDX 2.x has no such field.
    pub lifecycles: bool,
}

/// A binary package's source package: name, and version when it differs
/// or is given (`epoch:version-release` as the distro writes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePackage<'a> {
    pub name: Cow<'a, str>,
    pub version: Option<String>,
}

/// A parsed SBOM. `nodes` holds every component of the document
/// (nested CycloneDX components flattened, SPDX packages) and the described
/// subject, if any, at index `root`.
#[derive(Debug, Clone)]
pub struct ParsedSbom<'a> {
    pub format: SbomFormat,
    /// JSON, or XML for CycloneDX XML.
    pub syntax: Syntax,
    /// `1.5`, `2.3`, ...
    pub spec_version: String,
    /// Generating tool(s), e.g. `syft 0.60.1`; several joined with `, `.
    pub tool: Option<String>,
    /// Document creation time as written (RFC 3339).
    pub created: Option<String>,
    /// Authors/creators that are not tools (NTIA "author" element).
    pub authors: Vec<String>,
    /// CycloneDX `serialNumber` or SPDX `documentNamespace`.
    pub serial: Option<String>,
    pub nodes: Vec<Component<'a>>,
    /// Index into `nodes` of the described subject (CycloneDX
    /// `metadata.component`, SPDX's single described package).
    pub root: Option<usize>,
    /// Deduplicated edges; both ends resolve to entries of `nodes`.
    pub edges: Vec<Edge>,
    /// Things a user should know that did not prevent ingestion (dangling
    /// references, duplicate bom-refs, ...). Bounded in number.
    pub warnings: Vec<String>,
    /// Set when the SBOM came wrapped in an in-toto statement (DSSE).
    pub envelope: Option<EnvelopeInfo>,
    /// Document facts read only for quality scoring.
    pub extra: DocumentExtra,
}

impl ParsedSbom<'_> {
    /// The media type of the document as uploaded (for its download).
    pub fn media_type(&self) -> &'static str {
        media_type(self.envelope.is_some(), self.format, self.syntax)
    }

    /// Components of the document, not counting the described subject.
    pub fn component_count(&self) -> usize {
        self.nodes.len() - usize::from(self.root.is_some())
    }

    pub fn dependency_count(&self) -> usize {
        self.edges
            .iter()
            .filter(|e| e.kind == EdgeKind::DependsOn)
            .count()
    }
}

/// The media type of a stored document: an in-toto statement (DSSE
/// envelope), CycloneDX JSON or XML, SPDX JSON.
pub fn media_type(enveloped: bool, format: SbomFormat, syntax: Syntax) -> &'static str {
    match (enveloped, format, syntax) {
        (true, _, _) => "application/vnd.in-toto+json",
        (false, SbomFormat::CycloneDx, Syntax::Xml) => "application/vnd.cyclonedx+xml",
        (false, SbomFormat::CycloneDx, Syntax::Json) => "application/vnd.cyclonedx+json",
        (false, SbomFormat::Spdx, _) => "application/spdx+json",
    }
}

/// What the in-toto statement around an SBOM said. Its signature is not
/// verified here: that is the attestation pipeline's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeInfo {
    pub predicate_type: String,
    /// (name, sha256 hex) of each subject that names a sha256 digest.
    pub subjects: Vec<(String, Option<String>)>,
}
