//! CycloneDX XML (1.2 to 1.6) read into the structs the JSON reader fills
//! ([`Bom`], [`CdxComponent`], ...), so normalisation ([`super::normalize`],
//! [`Graph::add`]) is the same code for both: an XML SBOM gives the
//! [`ParsedSbom`] its JSON twin gives.
//!
//! - The root must be `<bom>` in the namespace
//!   `http://cyclonedx.org/schema/bom/1.N`; N is the spec version.
//! - Read as the JSON reader reads: `serialNumber` (attribute),
//!   `metadata/{timestamp, tools, authors, component, manufacture,
//!   manufacturer, lifecycles}`, `components/component` (nested
//!   `components` too), `dependencies/dependency[@ref]/dependency[@ref]`.
//!   Per component: the `type` and `bom-ref` attributes, `supplier/name`,
//!   `name`, `version`, `purl`, `licenses/{license/{id,name}, expression}`,
//!   `hashes/hash[@alg]`, `properties/property[@name]`, and for quality
//!   scoring the presence of `manufacturer`, `authors`, `author`, `cpe`,
//!   `swid`, `omniborId`, `swhid`. Legacy `tools/tool` and 1.5+
//!   `tools/components/component`, `tools/services/service` are tools.
//!   Everything else, and elements of other namespaces (extensions), is
//!   skipped, as unknown JSON members are.
//! - Streaming (quick-xml): memory is the open element path and the model
//!   being built (one top-level component at a time, as in JSON), whatever
//!   the size of the document. Text borrows from the upload unless it holds
//!   references or CDATA next to text.
//! - Refused: a DTD (`<!DOCTYPE`), hence every entity but the five
//!   predefined ones and character references (no external entities, no
//!   entity expansion bombs); nesting deeper than [`MAX_DEPTH`] elements;
//!   an encoding other than UTF-8; anything not well-formed.
//! - Errors name the element path (`/bom/components/component[3]/name`,
//!   positions count same-named siblings from 1, as XPath does) in
//!   `pointer`, and the line and column in the detail.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::{
    Bom, CdxComponent, Contact, Dependency, Graph, Hash, License, LicenseChoice, Property, Tool,
    Tools,
};
use crate::sboms::core::error::{SbomError, SbomErrorKind};
use crate::sboms::core::model::DocumentExtra;
use crate::sboms::core::normalize::{is_no_assertion, Present, Str};

/// The CycloneDX versions read from XML.
pub(crate) const VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6"];

/// `http://cyclonedx.org/schema/bom/<version>`.
const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";

/// Elements open at once, at most: the nesting the JSON reader allows
/// (serde_json's recursion limit), far beyond any real SBOM.
pub(crate) const MAX_DEPTH: usize = 128;

/// Whether `bytes` (a BOM already stripped) start like an XML document.
pub(crate) fn looks_like_xml(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// The document as text: XML is read as UTF-8 only.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, SbomError> {
    std::str::from_utf8(bytes).map_err(|e| {
        SbomError::new(
            SbomErrorKind::MalformedXml,
            format!(
                "The upload is not valid UTF-8 text (bad byte at offset {}); XML SBOMs are read as UTF-8.",
                e.valid_up_to()
            ),
        )
    })
}

fn blank(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_whitespace())
}

/// The CycloneDX version named by the root element's namespace. Fails with
/// `MalformedXml` when the prolog is not well-formed XML, `Invalid` for a
/// DTD or a non-UTF-8 encoding, `NotAnSbom` for another root element or
/// namespace, `UnsupportedVersion` for a CycloneDX namespace of another
/// version. Reads only up to the root's start tag.
pub(crate) fn detect(text: &str) -> Result<String, SbomError> {
    let mut r = Reader::new(text);
    let (namespace, _) = r.root()?;
    Ok(namespace.version)
}

/// Reads a document [`detect`] accepted.
pub(crate) fn read(text: &str) -> Result<Bom<'_>, SbomError> {
    let mut r = Reader::new(text);
    let (_, root) = r.root()?;
    let mut bom = Bom {
        serial_number: r.attr(&root.start, "serialNumber")?,
        timestamp: None,
        tools: None,
        authors: Vec::new(),
        extra: DocumentExtra::default(),
        graph: Graph::default(),
        root: None,
        pending: Vec::new(),
        dependencies: Vec::new(),
    };
    let mut metadata_seen = false;
    r.each_child(&root, |r, child| match child.tag {
        "metadata" => {
            metadata_seen = true;
            r.metadata(&child, &mut bom)
        }
        "components" => r.each_child(&child, |r, c| match c.tag {
            "component" => {
                let c = r.component(&c)?;
                if metadata_seen {
                    bom.graph.add(c, None);
                } else {
                    bom.pending.push(c);
                }
                Ok(())
            }
            _ => r.skip(&c),
        }),
        // Resolved by `normalize`, once every component is known.
        "dependencies" => r.each_child(&child, |r, d| match d.tag {
            "dependency" => {
                let dependency = r.dependency(&d)?;
                bom.dependencies.push(dependency);
                Ok(())
            }
            _ => r.skip(&d),
        }),
        _ => r.skip(&child),
    })?;
    r.epilogue()?;
    Ok(bom)
}

/// The root's namespace, split.
struct Namespace {
    version: String,
}

/// A child element met by [`Reader::each_child`].
struct Child<'a> {
    /// Its local name when it is a CycloneDX element Cairn reads, else "".
    tag: &'static str,
    start: BytesStart<'a>,
    /// `<x/>`: nothing to read after the start tag.
    empty: bool,
}

/// Local names of the CycloneDX elements read anywhere.
const KNOWN: &[&str] = &[
    "metadata",
    "components",
    "component",
    "dependencies",
    "dependency",
    "timestamp",
    "tools",
    "tool",
    "services",
    "service",
    "authors",
    "author",
    "manufacture",
    "manufacturer",
    "lifecycles",
    "supplier",
    "name",
    "email",
    "version",
    "purl",
    "cpe",
    "swid",
    "omniborId",
    "swhid",
    "licenses",
    "license",
    "id",
    "expression",
    "hashes",
    "hash",
    "properties",
    "property",
];

struct Reader<'a> {
    xml: NsReader<&'a [u8]>,
    text: &'a str,
    /// The root's namespace: elements in it are CycloneDX's.
    namespace: String,
    /// Elements open.
    depth: usize,
    /// The elements entered, with their position among same-named siblings.
    path: Vec<(&'static str, usize)>,
    /// Byte offset where the last event began.
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        let mut xml = NsReader::from_str(text);
        xml.config_mut().enable_all_checks(true);
        Reader {
            xml,
            text,
            namespace: String::new(),
            depth: 0,
            path: Vec::new(),
            at: 0,
        }
    }

    // --- errors -----------------------------------------------------------

    /// `line L, column C` of a byte offset (columns count characters).
    fn position(&self, offset: usize) -> String {
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("line {line}, column {column}")
    }

    fn pointer(&self) -> String {
        let mut out = String::new();
        for (i, (tag, n)) in self.path.iter().enumerate() {
            out.push('/');
            out.push_str(tag);
            if i > 0 {
                out.push_str(&format!("[{n}]"));
            }
        }
        out
    }

    /// Not well-formed XML at `offset`.
    fn malformed(&self, offset: usize, what: impl std::fmt::Display) -> SbomError {
        let mut e = SbomError::new(
            SbomErrorKind::MalformedXml,
            format!(
                "The SBOM is not well-formed XML: {what} ({}).",
                self.position(offset)
            ),
        );
        if !self.path.is_empty() {
            e = e.at(self.pointer());
        }
        e
    }

    /// Well-formed, but not a CycloneDX document Cairn reads.
    fn invalid(&self, what: impl std::fmt::Display) -> SbomError {
        let pointer = self.pointer();
        let shown = if pointer.is_empty() { "/" } else { &pointer };
        let e = SbomError::new(
            SbomErrorKind::Invalid,
            format!(
                "Invalid CycloneDX XML at {shown}: {what} ({}).",
                self.position(self.at)
            ),
        );
        if pointer.is_empty() {
            e
        } else {
            e.at(pointer)
        }
    }

    // --- events -------------------------------------------------------------

    /// The next event, with whether it is a start tag in the CycloneDX
    /// namespace. Keeps the depth, refuses DTDs, undeclared entities and
    /// broken attributes wherever they are (also in skipped elements).
    fn event(&mut self) -> Result<(bool, Event<'a>), SbomError> {
        self.at = self.xml.buffer_position() as usize;
        let (cdx, event) = match self.xml.read_resolved_event() {
            Ok((ResolveResult::Bound(ns), event)) => (ns.0 == self.namespace, event),
            Ok((_, event)) => (false, event),
            Err(e) => {
                let offset = self.xml.error_position() as usize;
                return Err(self.malformed(offset, e));
            }
        };
        match &event {
            Event::Start(start) | Event::Empty(start) => {
                if matches!(event, Event::Start(_)) {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.invalid(format!(
                            "elements nest more than {MAX_DEPTH} levels deep; no real SBOM does"
                        )));
                    }
                }
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| self.malformed(self.at, e))?;
                    if attr.value.contains('&') {
                        attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| self.malformed(self.at, entity_hint(e)))?;
                    }
                }
            }
            Event::End(_) => self.depth -= 1,
            Event::DocType(_) => {
                return Err(self.invalid(
                    "the document has a DTD (<!DOCTYPE ...>); DTDs and the entities they declare are refused",
                ))
            }
            Event::GeneralRef(r) => {
                if !r.is_char_ref() && quick_xml::escape::resolve_predefined_entity(r).is_none() {
                    return Err(self.malformed(
                        self.at,
                        format_args!(
                            "the entity &{}; is not declared (only &lt; &gt; &amp; &apos; &quot; and character references are; DTDs are refused)",
                            &**r
                        ),
                    ));
                }
                r.resolve_char_ref()
                    .map_err(|e| self.malformed(self.at, e))?;
            }
            Event::Decl(decl) => {
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|e| self.malformed(self.at, e))?;
                    let lower = encoding.to_ascii_lowercase();
                    if !matches!(lower.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                        return Err(self.invalid(format_args!(
                            "the document declares encoding \"{encoding}\"; only UTF-8 is read"
                        )));
                    }
                }
            }
            Event::Eof if self.depth > 0 => {
                return Err(self.malformed(
                    self.text.len(),
                    "it ends before all elements are closed; was it truncated?",
                ))
            }
            _ => {}
        }
        Ok((cdx, event))
    }

    /// Reads the prolog and the root's start tag: `<bom>` in a supported
    /// CycloneDX namespace.
    fn root(&mut self) -> Result<(Namespace, Child<'a>), SbomError> {
        loop {
            let (_, event) = self.event()?;
            let (start, empty) = match event {
                Event::Start(s) => (s, false),
                Event::Empty(s) => (s, true),
                Event::Text(t) if blank(&t) => continue,
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.malformed(self.at, "text before the root element"))
                }
                Event::Eof => return Err(self.malformed(self.at, "it has no root element")),
                _ => continue,
            };
            let (resolved, local) = self.xml.resolver().resolve_element(start.name());
            let namespace = match resolved {
                ResolveResult::Bound(ns) => ns.0.to_owned(),
                _ => String::new(),
            };
            let local = local.as_ref().to_owned();
            let version = namespace.strip_prefix(NAMESPACE).map(str::to_owned);
            let shown = if namespace.is_empty() {
                "no namespace".to_owned()
            } else {
                format!("namespace \"{namespace}\"")
            };
            let supported = || {
                format!(
                    "{NAMESPACE}{} to {NAMESPACE}{}",
                    VERSIONS[0],
                    VERSIONS[VERSIONS.len() - 1]
                )
            };
            if local != "bom" || version.is_none() {
                return Err(SbomError::new(
                    SbomErrorKind::NotAnSbom,
                    format!(
                        "The XML document's root element is <{local}> in {shown}, not a CycloneDX <bom> (namespace {}); only CycloneDX is read from XML.",
                        supported()
                    ),
                ));
            }
            let version = version.unwrap_or_default();
            if !VERSIONS.contains(&version.as_str()) {
                return Err(SbomError::new(
                    SbomErrorKind::UnsupportedVersion,
                    format!(
                        "CycloneDX XML {shown} (version \"{version}\") is not supported; supported: {}.",
                        supported()
                    ),
                )
                .at("/bom"));
            }
            self.namespace = namespace;
            self.path.push(("bom", 1));
            let child = Child {
                tag: "bom",
                start,
                empty,
            };
            return Ok((Namespace { version }, child));
        }
    }

    /// After the root: only comments, processing instructions and blanks.
    fn epilogue(&mut self) -> Result<(), SbomError> {
        loop {
            match self.event()?.1 {
                Event::Eof => return Ok(()),
                Event::Start(_) | Event::Empty(_) => {
                    return Err(self.malformed(self.at, "a second root element"))
                }
                Event::Text(t) if blank(&t) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.malformed(self.at, "text after the root element"))
                }
                _ => {}
            }
        }
    }

    // --- structure -------------------------------------------------------------

    /// Hands each child element of `parent` to `f`, which must read it to its
    /// end (`text`, `skip`, `each_child`, ...); text between children is
    /// ignored. Returns after `parent`'s end tag.
    fn each_child(
        &mut self,
        parent: &Child<'a>,
        mut f: impl FnMut(&mut Self, Child<'a>) -> Result<(), SbomError>,
    ) -> Result<(), SbomError> {
        if parent.empty {
            return Ok(());
        }
        let mut seen: Vec<(&'static str, usize)> = Vec::new();
        loop {
            let (cdx, event) = self.event()?;
            let (start, empty) = match event {
                Event::Start(s) => (s, false),
                Event::Empty(s) => (s, true),
                Event::End(_) => return Ok(()),
                _ => continue,
            };
            let tag = if cdx {
                let local = start.local_name();
                KNOWN
                    .iter()
                    .copied()
                    .find(|k| *k == local.as_ref())
                    .unwrap_or("")
            } else {
                ""
            };
            let child = Child { tag, start, empty };
            if tag.is_empty() {
                self.skip(&child)?;
                continue;
            }
            let n = match seen.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((tag, 1));
                    1
                }
            };
            self.path.push((tag, n));
            f(self, child)?;
            self.path.pop();
        }
    }

    /// Reads past the end of `child`.
    fn skip(&mut self, child: &Child<'a>) -> Result<(), SbomError> {
        if child.empty {
            return Ok(());
        }
        let depth = self.depth;
        while self.depth >= depth {
            self.event()?;
        }
        Ok(())
    }

    /// The text content of `child`, which must hold no elements.
    fn text(&mut self, child: &Child<'a>) -> Result<Str<'a>, SbomError> {
        let mut out: Option<Cow<'a, str>> = None;
        if child.empty {
            return Ok(Str(Cow::Borrowed("")));
        }
        loop {
            let piece = match self.event()?.1 {
                Event::Text(t) => t.xml10_content(),
                Event::CData(c) => c.xml10_content(),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&r)
                            .unwrap_or_default()
                            .to_owned(),
                    };
                    Cow::Owned(resolved)
                }
                Event::End(_) => break,
                Event::Start(s) | Event::Empty(s) => {
                    let name = String::from_utf8_lossy(s.name().as_ref().as_bytes()).into_owned();
                    return Err(self.invalid(format_args!(
                        "<{}> holds text, found the element <{name}> inside",
                        child.tag
                    )));
                }
                _ => continue,
            };
            out = Some(match out {
                None => piece,
                Some(before) => Cow::Owned(before.into_owned() + &piece),
            });
        }
        Ok(Str(out.unwrap_or(Cow::Borrowed(""))))
    }

    /// Whether `child` says anything: a non-blank attribute value or text
    /// (not `NOASSERTION`/`NONE`) anywhere inside, as [`Present`] judges JSON.
    fn present(&mut self, child: &Child<'a>) -> Result<Present, SbomError> {
        let says = |s: &str| {
            let s = s.trim();
            !s.is_empty() && !is_no_assertion(s)
        };
        let attrs_say = |start: &BytesStart<'_>| {
            start.attributes().flatten().any(|a| {
                a.key.as_namespace_binding().is_none()
                    && a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .is_ok_and(|v| says(&v))
            })
        };
        let mut any = attrs_say(&child.start);
        if child.empty {
            return Ok(Present(any));
        }
        let depth = self.depth;
        while self.depth >= depth {
            match self.event()?.1 {
                Event::Start(s) | Event::Empty(s) => any |= attrs_say(&s),
                Event::Text(t) => any |= says(&t.xml10_content()),
                Event::CData(c) => any |= says(&c.xml10_content()),
                Event::GeneralRef(_) => any = true,
                _ => {}
            }
        }
        Ok(Present(any))
    }

    /// The unprefixed attribute `name` of an element.
    fn attr(&self, start: &BytesStart<'a>, name: &str) -> Result<Option<Str<'a>>, SbomError> {
        for attr in start.attributes() {
            let attr = attr.map_err(|e| self.malformed(self.at, e))?;
            if attr.key.as_ref() == name {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| self.malformed(self.at, entity_hint(e)))?;
                return Ok(Some(Str(Cow::Owned(value.into_owned()))));
            }
        }
        Ok(None)
    }

    // --- CycloneDX ---------------------------------------------------------------

    fn metadata(&mut self, metadata: &Child<'a>, bom: &mut Bom<'a>) -> Result<(), SbomError> {
        let (mut manufacturer, mut lifecycles) = (false, false);
        self.each_child(metadata, |r, c| {
            match c.tag {
                "timestamp" => bom.timestamp = Some(r.text(&c)?),
                "tools" => bom.tools = Some(r.tools(&c)?),
                "authors" => r.each_child(&c, |r, a| match a.tag {
                    "author" => {
                        let contact = r.contact(&a)?;
                        bom.authors.push(contact);
                        Ok(())
                    }
                    _ => r.skip(&a),
                })?,
                "component" => {
                    let component = r.component(&c)?;
                    if bom.root.is_none() {
                        bom.root = Some(bom.graph.add(component, None) as usize);
                    }
                }
                "manufacture" | "manufacturer" => manufacturer |= r.present(&c)?.0,
                "lifecycles" => lifecycles |= r.present(&c)?.0,
                _ => r.skip(&c)?,
            }
            Ok(())
        })?;
        bom.extra = DocumentExtra {
            manufacturer,
            lifecycles,
        };
        Ok(())
    }

    /// `<tools>`: legacy `<tool>` entries and 1.5+ `<components>`/`<services>`,
    /// in document order.
    fn tools(&mut self, tools: &Child<'a>) -> Result<Tools<'a>, SbomError> {
        let mut list = Vec::new();
        self.each_child(tools, |r, c| match c.tag {
            "tool" => {
                list.push(r.tool(&c)?);
                Ok(())
            }
            "components" | "services" => r.each_child(&c, |r, t| match t.tag {
                "component" | "service" => {
                    list.push(r.tool(&t)?);
                    Ok(())
                }
                _ => r.skip(&t),
            }),
            _ => r.skip(&c),
        })?;
        Ok(Tools::List(list))
    }

    fn tool(&mut self, tool: &Child<'a>) -> Result<Tool<'a>, SbomError> {
        let (mut name, mut version) = (None, None);
        self.each_child(tool, |r, c| {
            match c.tag {
                "name" => name = Some(r.text(&c)?),
                "version" => version = Some(r.text(&c)?),
                _ => r.skip(&c)?,
            }
            Ok(())
        })?;
        Ok(Tool { name, version })
    }

    /// `organizationalContact` / `organizationalEntity`.
    fn contact(&mut self, contact: &Child<'a>) -> Result<Contact<'a>, SbomError> {
        let (mut name, mut email) = (None, None);
        self.each_child(contact, |r, c| {
            match c.tag {
                "name" => name = Some(r.text(&c)?),
                "email" => email = Some(r.text(&c)?),
                _ => r.skip(&c)?,
            }
            Ok(())
        })?;
        Ok(Contact { name, email })
    }

    fn component(&mut self, component: &Child<'a>) -> Result<CdxComponent<'a>, SbomError> {
        let mut c = CdxComponent {
            bom_ref: self.attr(&component.start, "bom-ref")?,
            kind: self.attr(&component.start, "type")?,
            name: Str(Cow::Borrowed("")),
            version: None,
            purl: None,
            supplier: None,
            licenses: None,
            hashes: None,
            properties: None,
            components: None,
            manufacturer: None,
            authors: None,
            author: None,
            cpe: None,
            swid: None,
            omnibor_id: None,
            swhid: None,
        };
        let mut name = None;
        // Several `omniborId`/`swhid` elements may appear: any one counts.
        let either = |a: Option<Present>, b: Present| Some(Present(Present::given(a) || b.0));
        self.each_child(component, |r, e| {
            match e.tag {
                "name" => name = Some(r.text(&e)?),
                "version" => c.version = Some(r.text(&e)?),
                "purl" => c.purl = Some(r.text(&e)?),
                "supplier" => c.supplier = Some(r.contact(&e)?),
                "licenses" => c.licenses = Some(r.licenses(&e)?),
                "hashes" => {
                    let mut hashes = Vec::new();
                    r.each_child(&e, |r, h| match h.tag {
                        "hash" => {
                            let alg = r.attr(&h.start, "alg")?;
                            let content = Some(r.text(&h)?);
                            hashes.push(Hash { alg, content });
                            Ok(())
                        }
                        _ => r.skip(&h),
                    })?;
                    c.hashes = Some(hashes);
                }
                "properties" => {
                    let mut properties = Vec::new();
                    r.each_child(&e, |r, p| match p.tag {
                        "property" => {
                            let name = r.attr(&p.start, "name")?;
                            let value = Some(r.text(&p)?);
                            properties.push(Property { name, value });
                            Ok(())
                        }
                        _ => r.skip(&p),
                    })?;
                    c.properties = Some(properties);
                }
                "components" => {
                    let mut children = Vec::new();
                    r.each_child(&e, |r, child| match child.tag {
                        "component" => {
                            children.push(r.component(&child)?);
                            Ok(())
                        }
                        _ => r.skip(&child),
                    })?;
                    c.components = Some(children);
                }
                "manufacturer" => c.manufacturer = either(c.manufacturer, r.present(&e)?),
                "authors" => c.authors = either(c.authors, r.present(&e)?),
                "author" => c.author = either(c.author, r.present(&e)?),
                "cpe" => c.cpe = either(c.cpe, r.present(&e)?),
                "swid" => c.swid = either(c.swid, r.present(&e)?),
                "omniborId" => c.omnibor_id = either(c.omnibor_id, r.present(&e)?),
                "swhid" => c.swhid = either(c.swhid, r.present(&e)?),
                _ => r.skip(&e)?,
            }
            Ok(())
        })?;
        match name {
            Some(name) => c.name = name,
            None => return Err(self.invalid("the component has no <name>")),
        }
        Ok(c)
    }

    /// `<licenses>`: `<license>` with `<id>` or `<name>`, and `<expression>`.
    fn licenses(&mut self, licenses: &Child<'a>) -> Result<Vec<LicenseChoice<'a>>, SbomError> {
        let mut choices = Vec::new();
        self.each_child(licenses, |r, l| {
            match l.tag {
                "license" => {
                    let (mut id, mut name) = (None, None);
                    r.each_child(&l, |r, e| {
                        match e.tag {
                            "id" => id = Some(r.text(&e)?),
                            "name" => name = Some(r.text(&e)?),
                            _ => r.skip(&e)?,
                        }
                        Ok(())
                    })?;
                    choices.push(LicenseChoice {
                        license: Some(License { id, name }),
                        expression: None,
                    });
                }
                "expression" => choices.push(LicenseChoice {
                    license: None,
                    expression: Some(r.text(&l)?),
                }),
                _ => r.skip(&l)?,
            }
            Ok(())
        })?;
        Ok(choices)
    }

    /// `<dependency ref="a"><dependency ref="b"/>...</dependency>`: `a`
    /// depends on each `b`; what nests deeper is not part of `a`'s entry.
    fn dependency(&mut self, dependency: &Child<'a>) -> Result<Dependency<'a>, SbomError> {
        let dep_ref = self.attr(&dependency.start, "ref")?;
        let mut depends_on = Vec::new();
        self.each_child(dependency, |r, d| {
            if d.tag == "dependency" {
                if let Some(target) = r.attr(&d.start, "ref")? {
                    depends_on.push(target);
                }
            }
            r.skip(&d)
        })?;
        Ok(Dependency {
            dep_ref,
            depends_on: Some(depends_on),
        })
    }
}

/// The largest char boundary at or before `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// quick-xml's message for an unknown entity in an attribute, with why.
fn entity_hint(e: impl std::fmt::Display) -> String {
    format!("{e} (only &lt; &gt; &amp; &apos; &quot; and character references are declared; DTDs are refused)")
}
