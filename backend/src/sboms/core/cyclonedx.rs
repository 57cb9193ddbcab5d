//! CycloneDX JSON (1.2 to 1.7) into a [`ParsedSbom`]; CycloneDX XML is read
//! into the same structs by [`xml`] and normalised here too.
//!
//! Normalisation:
//! - `metadata.component` is the root and comes first in `nodes`; then the
//!   top-level `components` in document order. Nested `components` are
//!   flattened depth-first, each with a `Contains` edge from its parent.
//! - A repeated `bom-ref` keeps the first component (warning); the repeat's
//!   nested components hang under that first one.
//! - `dependencies[].ref` -> `dependsOn[]` become `DependsOn` edges; refs
//!   matching no component are dropped with a warning.
//! - `type` is lower-cased (`library` when absent), `supplier.name` is the
//!   supplier, `licenses` become one SPDX expression, hash algorithms are
//!   normalised (`SHA-256` -> `sha256`) and digests lower-cased.
//! - Tool: `metadata.tools` (1.2-1.4 array of `{vendor,name,version}`, or
//!   1.5+ `{components,services}`) as `name version`, joined with `, `.
//!   `metadata.timestamp` -> created, `metadata.authors[].name` -> authors,
//!   `serialNumber` -> serial.
//! - For quality scoring only (presence, whatever the type):
//!   `metadata.manufacturer`/`manufacture`, `metadata.lifecycles`; per
//!   component `manufacturer`, `authors`, `author`, `cpe`, `swid`,
//!   `omniborId`, `swhid`, the `bsi:component:*` properties, and whether it
//!   has its own `dependencies` entry.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;

use super::model::{
    Component, ComponentExtra, DocumentExtra, EdgeKind, ParsedSbom, SbomFormat, SourcePackage,
    Syntax,
};
use super::normalize::{
    hash, is_no_assertion, join_licenses, license_name, lower, non_empty, EdgeSet, ForEach,
    Present, Str, Warnings,
};

pub(crate) mod xml;

/// A CycloneDX BOM as read: top-level components go straight into the
/// graph while the document is parsed (unless they come before `metadata`,
/// whose component must be node 0); everything we do not use is skipped.
pub(crate) struct Bom<'a> {
    serial_number: Option<Str<'a>>,
    timestamp: Option<Str<'a>>,
    tools: Option<Tools<'a>>,
    authors: Vec<Contact<'a>>,
    extra: DocumentExtra,
    graph: Graph<'a>,
    root: Option<usize>,
    /// Top-level components met before `metadata`, added after the root.
    pending: Vec<CdxComponent<'a>>,
    /// Dependencies met before the components, resolved at the end.
    dependencies: Vec<Dependency<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Bom<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BomVisitor(PhantomData))
    }
}

struct BomVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BomVisitor<'a> {
    type Value = Bom<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX BOM object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bom<'a>, A::Error> {
        let mut bom = Bom {
            serial_number: None,
            timestamp: None,
            tools: None,
            authors: Vec::new(),
            extra: DocumentExtra::default(),
            graph: Graph::default(),
            root: None,
            pending: Vec::new(),
            dependencies: Vec::new(),
        };
        let (mut metadata_seen, mut components_seen) = (false, false);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.as_str() {
                "serialNumber" => bom.serial_number = map.next_value()?,
                "metadata" => {
                    metadata_seen = true;
                    let Some(metadata) = map.next_value::<Option<Metadata<'a>>>()? else {
                        continue;
                    };
                    bom.timestamp = metadata.timestamp;
                    bom.tools = metadata.tools;
                    bom.authors = metadata.authors.unwrap_or_default();
                    bom.extra = DocumentExtra {
                        manufacturer: Present::given(metadata.manufacturer)
                            || Present::given(metadata.manufacture),
                        lifecycles: Present::given(metadata.lifecycles),
                    };
                    if let Some(component) = metadata.component {
                        bom.root = Some(bom.graph.add(component, None) as usize);
                    }
                }
                "components" if metadata_seen => {
                    components_seen = true;
                    let graph = &mut bom.graph;
                    map.next_value_seed(ForEach::new(|c| {
                        graph.add(c, None);
                    }))?;
                }
                "components" => {
                    let pending = &mut bom.pending;
                    map.next_value_seed(ForEach::new(|c| pending.push(c)))?;
                }
                // Usually after the components: resolve refs right away.
                "dependencies" if components_seen && bom.pending.is_empty() => {
                    let (graph, mut i) = (&mut bom.graph, 0);
                    map.next_value_seed(ForEach::new(|d| {
                        graph.add_dependencies(i, d);
                        i += 1;
                    }))?;
                }
                "dependencies" => {
                    let dependencies = &mut bom.dependencies;
                    map.next_value_seed(ForEach::new(|d| dependencies.push(d)))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(bom)
    }
}

#[derive(DeriveDeserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    tools: Option<Tools<'a>>,
    #[serde(borrow)]
    authors: Option<Vec<Contact<'a>>>,
    #[serde(borrow)]
    component: Option<CdxComponent<'a>>,
    manufacturer: Option<Present>,
    manufacture: Option<Present>,
    lifecycles: Option<Present>,
}

/// `organizationalContact` / `organizationalEntity`: only the name matters.
#[derive(DeriveDeserialize)]
struct Contact<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    email: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct CdxComponent<'a> {
    #[serde(rename = "bom-ref", borrow)]
    bom_ref: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    purl: Option<Str<'a>>,
    #[serde(borrow)]
    supplier: Option<Contact<'a>>,
    #[serde(borrow)]
    licenses: Option<Vec<LicenseChoice<'a>>>,
    #[serde(borrow)]
    hashes: Option<Vec<Hash<'a>>>,
    #[serde(borrow)]
    properties: Option<Vec<Property<'a>>>,
    #[serde(borrow)]
    components: Option<Vec<CdxComponent<'a>>>,
    manufacturer: Option<Present>,
    authors: Option<Present>,
    author: Option<Present>,
    cpe: Option<Present>,
    swid: Option<Present>,
    #[serde(rename = "omniborId")]
    omnibor_id: Option<Present>,
    swhid: Option<Present>,
}

#[derive(DeriveDeserialize)]
struct Property<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    value: Option<Str<'a>>,
}

/// The `bsi:component:*` properties (BSI TR-03183-2's CycloneDX taxonomy)
/// with a value: filename, executable, archive, structured.
fn bsi_properties(properties: &[Property<'_>], extra: &mut ComponentExtra) {
    for p in properties {
        let (Some(key), Some(value)) = (&p.name, &p.value) else {
            continue;
        };
        if value.as_str().trim().is_empty() {
            continue;
        }
        match key.as_str().trim() {
            "bsi:component:filename" => extra.filename = true,
            "bsi:component:executable" => extra.executable = true,
            "bsi:component:archive" => extra.archive = true,
            "bsi:component:structured" => extra.structured = true,
            _ => {}
        }
    }
}

/// Trivy's source-package properties: `SrcName`, and `SrcVersion` with
/// `SrcEpoch` / `SrcRelease` (RPM) composed as the distro writes versions.
fn source_package<'a>(properties: Option<Vec<Property<'a>>>) -> Option<SourcePackage<'a>> {
    let (mut name, mut version, mut epoch, mut release) = (None, None, None, None);
    for p in properties.into_iter().flatten() {
        let (Some(key), Some(value)) = (p.name, non_empty(p.value)) else {
            continue;
        };
        match key.0.strip_prefix("aquasecurity:trivy:") {
            Some("SrcName") => name = Some(value),
            Some("SrcVersion") => version = Some(value),
            Some("SrcEpoch") => epoch = Some(value),
            Some("SrcRelease") => release = Some(value),
            _ => {}
        }
    }
    let version = version.map(|v| {
        let mut out = String::new();
        if let Some(e) = epoch.filter(|e| e.as_ref() != "0") {
            out.push_str(&e);
            out.push(':');
        }
        out.push_str(&v);
        if let Some(r) = release {
            out.push('-');
            out.push_str(&r);
        }
        out
    });
    Some(SourcePackage {
        name: name?,
        version,
    })
}

#[derive(DeriveDeserialize)]
struct LicenseChoice<'a> {
    #[serde(borrow)]
    license: Option<License<'a>>,
    #[serde(borrow)]
    expression: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct License<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    alg: Option<Str<'a>>,
    #[serde(borrow)]
    content: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct Dependency<'a> {
    #[serde(rename = "ref", borrow)]
    dep_ref: Option<Str<'a>>,
    #[serde(rename = "dependsOn", borrow)]
    depends_on: Option<Vec<Str<'a>>>,
}

/// A tool, service or tool component: name and version are all we use.
#[derive(DeriveDeserialize)]
struct Tool<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
}

#[derive(DeriveDeserialize)]
struct ToolsObject<'a> {
    #[serde(borrow)]
    components: Option<Vec<Tool<'a>>>,
    #[serde(borrow)]
    services: Option<Vec<Tool<'a>>>,
}

/// `metadata.tools`: an array (1.2-1.4, deprecated later) or an object (1.5+).
enum Tools<'a> {
    List(Vec<Tool<'a>>),
    Object(ToolsObject<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Tools<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ToolsVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ToolsVisitor<'a> {
            type Value = Tools<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tools or an object with \"components\"/\"services\"")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Tools<'a>, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(Tools::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Tools<'a>, A::Error> {
                ToolsObject::deserialize(MapAccessDeserializer::new(map)).map(Tools::Object)
            }
        }

        deserializer.deserialize_any(ToolsVisitor(PhantomData))
    }
}

/// Finishes a BOM read by [`Bom::deserialize`] (see the module documentation).
pub(crate) fn normalize(bom: Bom<'_>, spec_version: String) -> ParsedSbom<'_> {
    let Bom {
        serial_number,
        timestamp,
        tools,
        authors,
        extra,
        mut graph,
        root,
        pending,
        dependencies,
    } = bom;
    for c in pending {
        graph.add(c, None);
    }
    for (i, dep) in dependencies.into_iter().enumerate() {
        graph.add_dependencies(i, dep);
    }
    let authors = authors
        .into_iter()
        .filter_map(|a| non_empty(a.name).or_else(|| non_empty(a.email)))
        .map(Cow::into_owned)
        .collect();

    ParsedSbom {
        format: SbomFormat::CycloneDx,
        syntax: Syntax::Json,
        spec_version,
        tool: tool_names(tools),
        created: non_empty(timestamp).map(Cow::into_owned),
        authors,
        serial: non_empty(serial_number).map(Cow::into_owned),
        nodes: graph.nodes,
        root,
        edges: graph.edges.finish(),
        warnings: graph.warnings.finish(),
        envelope: None,
        extra,
    }
}

#[derive(Default)]
struct Graph<'a> {
    nodes: Vec<Component<'a>>,
    by_ref: HashMap<Cow<'a, str>, u32>,
    edges: EdgeSet,
    warnings: Warnings,
}

impl<'a> Graph<'a> {
    /// Adds `c` and, depth-first, its nested components; returns its index.
    fn add(&mut self, c: CdxComponent<'a>, parent: Option<u32>) -> u32 {
        let CdxComponent {
            bom_ref,
            kind,
            name,
            version,
            purl,
            supplier,
            licenses: license_choices,
            hashes,
            properties,
            components,
            manufacturer,
            authors,
            author,
            cpe,
            swid,
            omnibor_id,
            swhid,
        } = c;
        let bom_ref = non_empty(bom_ref);
        let first = bom_ref.as_deref().and_then(|r| self.by_ref.get(r).copied());
        let index = if let Some(first) = first {
            let r = bom_ref.as_deref().unwrap_or_default();
            self.warnings.push(|| {
                format!("Duplicate bom-ref \"{r}\": kept the first component, ignored the one named \"{}\".", name.0)
            });
            first
        } else {
            let index = self.nodes.len() as u32;
            if let Some(r) = &bom_ref {
                self.by_ref.insert(r.clone(), index);
            }
            let mut extra = ComponentExtra {
                creator: Present::given(manufacturer)
                    || Present::given(authors)
                    || Present::given(author),
                other_identifier: [cpe, swid, omnibor_id, swhid]
                    .into_iter()
                    .any(Present::given),
                ..ComponentExtra::default()
            };
            bsi_properties(properties.as_deref().unwrap_or_default(), &mut extra);
            self.nodes.push(Component {
                bom_ref,
                kind: non_empty(kind).map_or(Cow::Borrowed("library"), lower),
                name: name.0,
                version: non_empty(version),
                purl: non_empty(purl),
                supplier: supplier.and_then(|s| non_empty(s.name)),
                licenses: licenses(license_choices),
                hashes: hashes
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|h| hash(h.alg, h.content))
                    .collect(),
                source: source_package(properties),
                extra,
            });
            index
        };
        if let Some(parent) = parent {
            self.edges.add(parent, index, EdgeKind::Contains);
        }
        for child in components.unwrap_or_default() {
            self.add(child, Some(index));
        }
        index
    }

    /// `dependencies[i]`: `ref` depends on each of `dependsOn`.
    fn add_dependencies(&mut self, i: usize, dep: Dependency<'a>) {
        let targets = dep.depends_on.unwrap_or_default();
        let Some(from_ref) = non_empty(dep.dep_ref) else {
            self.warnings
                .push(|| format!("dependencies/{i} has no \"ref\"; ignored."));
            return;
        };
        let Some(&from) = self.by_ref.get(from_ref.as_ref()) else {
            self.warnings.push(|| {
                format!("Dependency ref \"{from_ref}\" matches no component; its {} dependencies were dropped.", targets.len())
            });
            return;
        };
        self.nodes[from as usize].extra.dependencies_listed = true;
        for target in targets {
            match self.by_ref.get(target.as_str()) {
                Some(&to) => self.edges.add(from, to, EdgeKind::DependsOn),
                None => self.warnings.push(|| {
                    format!(
                        "Dependency of \"{from_ref}\" on \"{}\" dropped: no component has that bom-ref.",
                        target.as_str()
                    )
                }),
            }
        }
    }
}

/// `licenses` as one expression: `expression` entries as written, `license.id`
/// as is, `license.name` through [`license_name`]; several joined with AND.
fn licenses(choices: Option<Vec<LicenseChoice<'_>>>) -> Option<String> {
    let terms = choices
        .unwrap_or_default()
        .into_iter()
        .filter_map(|choice| {
            if let Some(expression) = non_empty(choice.expression) {
                return Some(expression.into_owned());
            }
            let license = choice.license?;
            if let Some(id) = non_empty(license.id) {
                return Some(id.into_owned());
            }
            non_empty(license.name)
                .filter(|n| !is_no_assertion(n))
                .map(|n| license_name(&n))
        })
        .collect();
    join_licenses(terms)
}

/// `name version` of each tool, tool component and service, joined with `, `.
fn tool_names(tools: Option<Tools<'_>>) -> Option<String> {
    let list = match tools {
        None => Vec::new(),
        Some(Tools::List(list)) => list,
        Some(Tools::Object(o)) => {
            let mut list = o.components.unwrap_or_default();
            list.extend(o.services.unwrap_or_default());
            list
        }
    };
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for tool in list {
        let Some(name) = non_empty(tool.name) else {
            continue;
        };
        let entry = match non_empty(tool.version) {
            Some(version) => format!("{name} {version}"),
            None => name.into_owned(),
        };
        if seen.insert(entry.clone()) {
            names.push(entry);
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}
