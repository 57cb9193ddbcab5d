//! SPDX JSON (2.2, 2.3) into a [`ParsedSbom`].
//!
//! Normalisation:
//! - `packages[]` are the nodes, in document order (files and snippets are
//!   not components). `SPDXID` -> bom_ref; a repeated SPDXID keeps the first
//!   package (warning).
//! - purl: the first `externalRefs[]` entry with `referenceType` `purl`;
//!   supplier without its `Organization:`/`Person:` prefix; licence:
//!   `licenseConcluded`, else `licenseDeclared` (NOASSERTION/NONE count as
//!   absent); kind: `primaryPackagePurpose` lower-cased with `_` as `-`,
//!   else `library`; checksums as normalised hashes.
//! - Root: the packages the document describes (`documentDescribes`,
//!   `SPDXRef-DOCUMENT DESCRIBES X`, `X DESCRIBED_BY SPDXRef-DOCUMENT`; old
//!   Trivy's `DESCRIBE` too); the root only when that is exactly one package.
//! - `A DEPENDS_ON B` -> DependsOn A->B, `A DEPENDENCY_OF B` -> DependsOn B->A,
//!   `A CONTAINS B` -> Contains A->B, `A CONTAINED_BY B` -> Contains B->A;
//!   other relationship types are ignored. Ends that are files, snippets, the
//!   document, `DocumentRef-...`, NONE/NOASSERTION are ignored silently; an
//!   id defined nowhere gives one warning per id.
//! - `creationInfo.creators`: `Tool: x` -> tool (joined with `, `),
//!   `Organization: X`/`Person: Y` -> authors; `creationInfo.created` ->
//!   created; `documentNamespace` -> serial.
//! - For quality scoring only: `originator` (the component's creator),
//!   `packageFileName`, and identifiers other than the purl in
//!   `externalRefs` (`cpe22Type`, `cpe23Type`, `swid`, `swh`, `gitoid`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;

use super::model::{
    Component, ComponentExtra, DocumentExtra, EdgeKind, ParsedSbom, SbomFormat, Syntax,
};
use super::normalize::{
    hash, is_no_assertion, lower, non_empty, spdx_value, split_actor, EdgeSet, ForEach, Present,
    Str, Warnings,
};

/// An SPDX document as read: packages become nodes while the document is
/// parsed, files and snippets leave only their ids; the rest is skipped.
pub(crate) struct Document<'a> {
    spdx_id: Option<Str<'a>>,
    namespace: Option<Str<'a>>,
    creation_info: Option<CreationInfo<'a>>,
    describes: Vec<Str<'a>>,
    nodes: Vec<Component<'a>>,
    by_id: HashMap<Cow<'a, str>, u32>,
    /// Ids of files and snippets.
    other_ids: HashSet<Cow<'a, str>>,
    relationships: Vec<Relationship<'a>>,
    warnings: Warnings,
}

impl<'a> Document<'a> {
    fn add_package(&mut self, package: Package<'a>) {
        let id = package.spdx_id.0.clone();
        if self.by_id.contains_key(&id) {
            self.warnings.push(|| {
                format!(
                    "Duplicate SPDXID \"{id}\": kept the first package, ignored the one named \"{}\".",
                    package.name.0
                )
            });
            return;
        }
        self.by_id.insert(id, self.nodes.len() as u32);
        self.nodes.push(component(package));
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Document<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor(PhantomData))
    }
}

struct DocumentVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for DocumentVisitor<'a> {
    type Value = Document<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SPDX document object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document<'a>, A::Error> {
        let mut doc = Document {
            spdx_id: None,
            namespace: None,
            creation_info: None,
            describes: Vec::new(),
            nodes: Vec::new(),
            by_id: HashMap::new(),
            other_ids: HashSet::new(),
            relationships: Vec::new(),
            warnings: Warnings::default(),
        };
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.as_str() {
                "SPDXID" => doc.spdx_id = map.next_value()?,
                "documentNamespace" => doc.namespace = map.next_value()?,
                "creationInfo" => doc.creation_info = map.next_value()?,
                "documentDescribes" => {
                    let describes = &mut doc.describes;
                    map.next_value_seed(ForEach::new(|id| describes.push(id)))?;
                }
                "packages" => map.next_value_seed(ForEach::new(|p| doc.add_package(p)))?,
                "files" | "snippets" => {
                    let ids = &mut doc.other_ids;
                    map.next_value_seed(ForEach::new(|e: Element<'a>| {
                        ids.extend(e.spdx_id.map(|id| id.0));
                    }))?;
                }
                "relationships" => {
                    let relationships = &mut doc.relationships;
                    map.next_value_seed(ForEach::new(|r| relationships.push(r)))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(doc)
    }
}

#[derive(DeriveDeserialize)]
struct CreationInfo<'a> {
    #[serde(borrow)]
    created: Option<Str<'a>>,
    #[serde(borrow)]
    creators: Option<Vec<Str<'a>>>,
}

#[derive(DeriveDeserialize)]
struct Package<'a> {
    #[serde(rename = "SPDXID", borrow)]
    spdx_id: Str<'a>,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(rename = "versionInfo", borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    supplier: Option<Str<'a>>,
    #[serde(rename = "licenseConcluded", borrow)]
    license_concluded: Option<Str<'a>>,
    #[serde(rename = "licenseDeclared", borrow)]
    license_declared: Option<Str<'a>>,
    #[serde(borrow)]
    checksums: Option<Vec<Checksum<'a>>>,
    #[serde(rename = "externalRefs", borrow)]
    external_refs: Option<Vec<ExternalRef<'a>>>,
    #[serde(rename = "primaryPackagePurpose", borrow)]
    purpose: Option<Str<'a>>,
    originator: Option<Present>,
    #[serde(rename = "packageFileName")]
    file_name: Option<Present>,
}

#[derive(DeriveDeserialize)]
struct Checksum<'a> {
    #[serde(borrow)]
    algorithm: Option<Str<'a>>,
    #[serde(rename = "checksumValue", borrow)]
    value: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct ExternalRef<'a> {
    #[serde(rename = "referenceType", borrow)]
    reference_type: Option<Str<'a>>,
    #[serde(rename = "referenceLocator", borrow)]
    locator: Option<Str<'a>>,
}

/// A file or snippet: only its id matters (to tell it from an unknown id).
#[derive(DeriveDeserialize)]
struct Element<'a> {
    #[serde(rename = "SPDXID", borrow)]
    spdx_id: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct Relationship<'a> {
    #[serde(rename = "spdxElementId", borrow)]
    element: Option<Str<'a>>,
    #[serde(rename = "relationshipType", borrow)]
    kind: Option<Str<'a>>,
    #[serde(rename = "relatedSpdxElement", borrow)]
    related: Option<Str<'a>>,
}

/// What a relationship means for the graph.
enum Meaning {
    /// An edge of this kind; `true` when it points from related to element.
    Edge(EdgeKind, bool),
    /// The element describes the related one (or, `true`, the reverse).
    Describes(bool),
}

fn meaning(relationship_type: &str) -> Option<Meaning> {
    let is = |name: &str| relationship_type.eq_ignore_ascii_case(name);
    Some(if is("DEPENDS_ON") {
        Meaning::Edge(EdgeKind::DependsOn, false)
    } else if is("DEPENDENCY_OF") {
        Meaning::Edge(EdgeKind::DependsOn, true)
    } else if is("CONTAINS") {
        Meaning::Edge(EdgeKind::Contains, false)
    } else if is("CONTAINED_BY") {
        Meaning::Edge(EdgeKind::Contains, true)
    } else if is("DESCRIBES") || is("DESCRIBE") {
        Meaning::Describes(false)
    } else if is("DESCRIBED_BY") {
        Meaning::Describes(true)
    } else {
        return None;
    })
}

/// What an SPDX id in a relationship refers to.
enum End {
    Package(u32),
    /// A file, snippet, the document itself, an external document, NONE...
    Ignored,
    Unknown,
}

/// Finishes a document read by [`Document::deserialize`] (see the module
/// documentation).
pub(crate) fn normalize(doc: Document<'_>, spec_version: String) -> ParsedSbom<'_> {
    let Document {
        spdx_id,
        namespace,
        creation_info,
        describes,
        nodes,
        by_id,
        other_ids,
        relationships,
        mut warnings,
    } = doc;
    let document_id = non_empty(spdx_id).unwrap_or(Cow::Borrowed("SPDXRef-DOCUMENT"));
    // Unknown ids in first-seen order, with how often each was used.
    let mut unknown: Vec<(String, usize)> = Vec::new();
    let mut unknown_index: HashMap<String, usize> = HashMap::new();
    let mut resolve = |id: &str| -> End {
        if let Some(&index) = by_id.get(id) {
            End::Package(index)
        } else if id == document_id
            || other_ids.contains(id)
            || id.starts_with("DocumentRef-")
            || is_no_assertion(id)
        {
            End::Ignored
        } else {
            match unknown_index.get(id) {
                Some(&i) => unknown[i].1 += 1,
                None => {
                    unknown_index.insert(id.to_owned(), unknown.len());
                    unknown.push((id.to_owned(), 1));
                }
            }
            End::Unknown
        }
    };

    let mut described: Vec<u32> = Vec::new();
    for id in describes {
        if let End::Package(index) = resolve(id.as_str()) {
            described.push(index);
        }
    }
    let mut edges = EdgeSet::default();
    for relationship in relationships {
        let (Some(element), Some(kind), Some(related)) = (
            relationship.element,
            relationship.kind,
            relationship.related,
        ) else {
            continue;
        };
        match meaning(kind.as_str()) {
            Some(Meaning::Edge(kind, reverse)) => {
                let (a, b) = (resolve(element.as_str()), resolve(related.as_str()));
                if let (End::Package(a), End::Package(b)) = (a, b) {
                    let (from, to) = if reverse { (b, a) } else { (a, b) };
                    edges.add(from, to, kind);
                }
            }
            Some(Meaning::Describes(reverse)) => {
                let (subject, object) = if reverse {
                    (related, element)
                } else {
                    (element, related)
                };
                if subject.as_str() == document_id {
                    if let End::Package(index) = resolve(object.as_str()) {
                        described.push(index);
                    }
                }
            }
            None => {}
        }
    }
    for (id, count) in unknown {
        warnings.push(|| {
            format!("SPDX id \"{id}\" is referenced {count} time(s) but defined nowhere in the document; those references were ignored.")
        });
    }
    described.sort_unstable();
    described.dedup();
    let root = match described[..] {
        [only] => Some(only as usize),
        _ => None,
    };

    let mut tools: Vec<String> = Vec::new();
    let mut authors: Vec<String> = Vec::new();
    let (created, creators) = match creation_info {
        Some(info) => (non_empty(info.created), info.creators.unwrap_or_default()),
        None => (None, Vec::new()),
    };
    // Each name once per list, in order of first occurrence.
    let (mut seen_tools, mut seen_authors) = (HashSet::new(), HashSet::new());
    for creator in &creators {
        let (kind, name) = split_actor(creator.as_str());
        let (list, seen) = if kind == "Tool" {
            (&mut tools, &mut seen_tools)
        } else {
            (&mut authors, &mut seen_authors)
        };
        if !name.is_empty() && !is_no_assertion(name) && seen.insert(name) {
            list.push(name.to_owned());
        }
    }

    ParsedSbom {
        format: SbomFormat::Spdx,
        syntax: Syntax::Json,
        spec_version,
        tool: (!tools.is_empty()).then(|| tools.join(", ")),
        created: created.map(Cow::into_owned),
        authors,
        serial: non_empty(namespace).map(Cow::into_owned),
        nodes,
        root,
        edges: edges.finish(),
        warnings: warnings.finish(),
        envelope: None,
        extra: DocumentExtra::default(),
    }
}

/// Not blank, not NOASSERTION/NONE.
fn says(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && !is_no_assertion(v)
}

/// `externalRefs` types that identify a package as a purl does.
const OTHER_IDENTIFIERS: [&str; 5] = ["cpe22Type", "cpe23Type", "swid", "swh", "gitoid"];

fn component(package: Package<'_>) -> Component<'_> {
    let external_refs = package.external_refs.unwrap_or_default();
    let other_identifier = external_refs.iter().any(|r| {
        let is_other = r.reference_type.as_ref().is_some_and(|t| {
            OTHER_IDENTIFIERS
                .iter()
                .any(|o| t.as_str().trim().eq_ignore_ascii_case(o))
        });
        is_other && r.locator.as_ref().is_some_and(|l| says(l.as_str()))
    });
    let purl = external_refs
        .into_iter()
        .find(|r| {
            r.reference_type
                .as_ref()
                .is_some_and(|t| t.as_str().eq_ignore_ascii_case("purl"))
        })
        .and_then(|r| non_empty(r.locator));
    Component {
        bom_ref: Some(package.spdx_id.0),
        kind: match non_empty(package.purpose) {
            Some(purpose) => Cow::Owned(lower(purpose).replace('_', "-")),
            None => Cow::Borrowed("library"),
        },
        name: package.name.0,
        version: spdx_value(package.version),
        purl,
        supplier: spdx_value(package.supplier).and_then(strip_actor),
        licenses: spdx_value(package.license_concluded)
            .or_else(|| spdx_value(package.license_declared))
            .map(Cow::into_owned),
        hashes: package
            .checksums
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| hash(c.algorithm, c.value))
            .collect(),
        source: None,
        extra: ComponentExtra {
            creator: Present::given(package.originator),
            other_identifier,
            filename: Present::given(package.file_name),
            ..ComponentExtra::default()
        },
    }
}

/// `Organization: X` -> `X`, `Person: Y` -> `Y`, borrowing when possible.
fn strip_actor(actor: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let name = match actor {
        Cow::Borrowed(s) => Cow::Borrowed(split_actor(s).1),
        Cow::Owned(s) => Cow::Owned(split_actor(&s).1.to_owned()),
    };
    (!name.is_empty() && !is_no_assertion(&name)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (tool, authors) of a document with these creators.
    fn creators(creators: &[String]) -> (Option<String>, Vec<String>) {
        let text = serde_json::json!({"SPDXID": "SPDXRef-DOCUMENT", "creationInfo": {"creators": creators}})
            .to_string();
        let parsed = normalize(serde_json::from_str(&text).unwrap(), "SPDX-2.3".into());
        (parsed.tool, parsed.authors)
    }

    #[test]
    fn creators_deduplicated_in_order() {
        let (tool, authors) = creators(
            &[
                "Tool: b",
                "Person: x",
                "Tool: a",
                "Tool: b",
                "Organization: x",
                "Tool: x",
                "Person: NOASSERTION",
            ]
            .map(String::from),
        );
        assert_eq!(tool.as_deref(), Some("b, a, x"));
        assert_eq!(authors, ["x"]);
        // 20 000 authors, each named twice: once some 6e8 comparisons.
        let n = 20_000;
        let many: Vec<String> = (0..2 * n).map(|i| format!("Person: p{}", i % n)).collect();
        let (_, authors) = creators(&many);
        assert_eq!(authors.len(), n);
        assert_eq!(authors[n - 1], format!("p{}", n - 1));
    }
}
