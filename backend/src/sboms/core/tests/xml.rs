//! CycloneDX XML: each XML fixture gives what its JSON twin gives.

use super::*;

fn xml_doc(version: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/{version}\" serialNumber=\"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79\" version=\"1\">{body}</bom>\n")
}

const XML_BODY: &str = r#"
  <metadata>
    <timestamp>2024-05-01T10:00:00Z</timestamp>
    <tools><tool><vendor>acme</vendor><name>gen</name><version>1.0</version></tool></tools>
    <authors><author><name>Jane</name></author></authors>
    <component type="application" bom-ref="app"><name>app</name><version>2.0</version></component>
  </metadata>
  <components>
    <component type="library" bom-ref="pkg:rpm/centos/bash@4.2?arch=x86_64&amp;distro=centos-7">
      <supplier><name>CentOS</name></supplier>
      <group>ignored</group>
      <name>bash</name>
      <version>4.2</version>
      <hashes><hash alg="SHA-256">ABCDEF</hash></hashes>
      <licenses><license><id>GPL-3.0-or-later</id></license><license><name>Custom Thing</name></license></licenses>
      <cpe>cpe:2.3:a:gnu:bash:4.2:*:*:*:*:*:*:*</cpe>
      <purl>pkg:rpm/centos/bash@4.2?arch=x86_64&amp;distro=centos-7</purl>
      <properties>
        <property name="aquasecurity:trivy:SrcName">bash</property>
        <property name="aquasecurity:trivy:SrcVersion">4.2</property>
        <property name="aquasecurity:trivy:SrcRelease">31.el7</property>
      </properties>
      <components>
        <component type="file" bom-ref="inner"><name><![CDATA[in<ner]]></name></component>
      </components>
    </component>
    <component bom-ref="lib"><name>lib</name><licenses><expression>MIT OR Apache-2.0</expression></licenses></component>
    <ext:component xmlns:ext="urn:example"><name>not cyclonedx</name></ext:component>
  </components>
  <dependencies>
    <dependency ref="app"><dependency ref="pkg:rpm/centos/bash@4.2?arch=x86_64&amp;distro=centos-7"/></dependency>
    <dependency ref="pkg:rpm/centos/bash@4.2?arch=x86_64&amp;distro=centos-7"><dependency ref="lib"/><dependency ref="missing"/></dependency>
  </dependencies>
"#;

#[test]
fn cyclonedx_xml_every_version() {
    for version in ["1.2", "1.3", "1.4", "1.5", "1.6"] {
        let sbom = parse(xml_doc(version, XML_BODY).as_bytes()).unwrap();
        assert_eq!(sbom.format, SbomFormat::CycloneDx);
        assert_eq!(sbom.syntax, Syntax::Xml);
        assert_eq!(sbom.media_type(), "application/vnd.cyclonedx+xml");
        assert_eq!(sbom.spec_version, version);
        assert_eq!(sbom.tool.as_deref(), Some("gen 1.0"));
        assert_eq!(sbom.created.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(sbom.authors, ["Jane"]);
        assert_eq!(
            sbom.serial.as_deref(),
            Some("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")
        );
        let names: Vec<&str> = sbom.nodes.iter().map(|c| c.name.as_ref()).collect();
        assert_eq!(names, ["app", "bash", "in<ner", "lib"], "{version}");
        assert_eq!(sbom.root, Some(0));
        let bash = node(&sbom, "bash");
        assert_eq!(
            bash.purl.as_deref(),
            Some("pkg:rpm/centos/bash@4.2?arch=x86_64&distro=centos-7")
        );
        assert_eq!(bash.supplier.as_deref(), Some("CentOS"));
        assert_eq!(bash.hashes, [("sha256".to_owned(), "abcdef".to_owned())]);
        assert_eq!(
            bash.licenses.as_deref(),
            Some("GPL-3.0-or-later AND LicenseRef-Custom-Thing")
        );
        let source = bash.source.as_ref().unwrap();
        assert_eq!(source.name, "bash");
        assert_eq!(source.version.as_deref(), Some("4.2-31.el7"));
        assert!(bash.extra.other_identifier);
        assert!(bash.extra.dependencies_listed);
        assert_eq!(node(&sbom, "in<ner").kind, "file");
        assert_eq!(node(&sbom, "lib").kind, "library");
        assert_eq!(
            node(&sbom, "lib").licenses.as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            edge_set(&sbom.edges),
            BTreeSet::from([
                (1, 2, "contains"),
                (0, 1, "depends_on"),
                (1, 3, "depends_on")
            ])
        );
        assert_eq!(sbom.warnings.len(), 1, "{:?}", sbom.warnings);
        assert!(sbom.warnings[0].contains("missing"));
    }
}

#[test]
fn cyclonedx_xml_tools_of_1_5_and_presence_fields() {
    let doc = xml_doc(
        "1.6",
        r#"<metadata><lifecycles><lifecycle><phase>build</phase></lifecycle></lifecycles>
        <tools><components><component type="application"><name>syft</name><version>1.4.1</version></component></components>
        <services><service><name>scanner</name></service></services></tools>
        <manufacturer><name>Acme</name></manufacturer></metadata>
        <components><component type="library"><authors><author><name>A</name></author></authors><name>x</name>
        <swid tagId="t" name="x"/><properties><property name="bsi:component:filename">x.jar</property></properties></component>
        <component type="library"><name>y</name><author>  NOASSERTION </author></component></components>"#,
    );
    let sbom = parse(doc.as_bytes()).unwrap();
    assert_eq!(sbom.tool.as_deref(), Some("syft 1.4.1, scanner"));
    assert!(sbom.extra.lifecycles && sbom.extra.manufacturer);
    let x = node(&sbom, "x");
    assert!(x.extra.creator && x.extra.other_identifier && x.extra.filename);
    assert!(!node(&sbom, "y").extra.creator);
}

#[test]
fn cyclonedx_xml_refusals() {
    let kind = |doc: &str| parse_err(doc.as_bytes());
    // Wrong namespace or root: named in the message.
    let e = kind("<bom xmlns=\"http://example.com/bom\"/>");
    assert_eq!(e.kind, SbomErrorKind::NotAnSbom);
    assert!(e.detail.contains("http://example.com/bom"), "{}", e.detail);
    let e = kind("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>");
    assert_eq!(e.kind, SbomErrorKind::NotAnSbom);
    for version in ["1.0", "1.1", "1.7", "2.0"] {
        let e = kind(&xml_doc(version, ""));
        assert_eq!(e.kind, SbomErrorKind::UnsupportedVersion, "{version}");
        assert!(
            e.detail
                .contains(&format!("http://cyclonedx.org/schema/bom/{version}")),
            "{}",
            e.detail
        );
    }
    // DTDs: XXE and entity expansion never get a chance.
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components><component><name>&xxe;</name></component></components></bom>";
    let e = kind(xxe);
    assert_eq!(e.kind, SbomErrorKind::Invalid);
    assert!(e.detail.contains("DTD"), "{}", e.detail);
    assert!(e.detail.contains("line 2, column 1"), "{}", e.detail);
    let laughs = "<!DOCTYPE bom [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">&b;</bom>";
    assert_eq!(kind(laughs).kind, SbomErrorKind::Invalid);
    // An undeclared entity is not well-formed.
    let e = kind(&xml_doc(
        "1.5",
        "<components><component><name>&xxe;</name></component></components>",
    ));
    assert_eq!(e.kind, SbomErrorKind::MalformedXml);
    assert!(e.detail.contains("&xxe;"), "{}", e.detail);
    // Malformed: a mismatched end tag, truncation, a second root; with a position.
    let e = kind(&xml_doc(
        "1.5",
        "<components><component><name>a</nam></component></components>",
    ));
    assert_eq!(e.kind, SbomErrorKind::MalformedXml);
    assert!(e.detail.contains("line 2"), "{}", e.detail);
    let full = xml_doc("1.5", XML_BODY);
    let e = kind(&full[..full.len() / 2]);
    assert_eq!(e.kind, SbomErrorKind::MalformedXml, "{}", e.detail);
    assert_eq!(
        kind(&format!("{full}<bom/>")).kind,
        SbomErrorKind::MalformedXml
    );
    assert_eq!(
        kind("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\" a=\"1\" a=\"2\"/>").kind,
        SbomErrorKind::MalformedXml
    );
    // Invalid: a component without a name, with its element path.
    let e = kind(&xml_doc(
        "1.4",
        "<components><component><name>a</name></component><component><version>1</version></component></components>",
    ));
    assert_eq!(e.kind, SbomErrorKind::Invalid);
    assert_eq!(
        e.pointer.as_deref(),
        Some("/bom/components[1]/component[2]")
    );
    let e = kind(&xml_doc(
        "1.4",
        "<components><component><name>a<b/></name></component></components>",
    ));
    assert_eq!(e.kind, SbomErrorKind::Invalid);
    assert_eq!(
        e.pointer.as_deref(),
        Some("/bom/components[1]/component[1]/name[1]")
    );
    // Depth: elements nested beyond the bound, even where nothing is read.
    let deep = format!("{}{}", "<x>".repeat(200), "</x>".repeat(200));
    let e = kind(&xml_doc("1.5", &deep));
    assert_eq!(e.kind, SbomErrorKind::Invalid);
    assert!(e.detail.contains("128"), "{}", e.detail);
    let nested = format!(
        "<components>{}{}</components>",
        "<component><name>n</name><components>".repeat(70),
        "</components></component>".repeat(70)
    );
    assert_eq!(kind(&xml_doc("1.5", &nested)).kind, SbomErrorKind::Invalid);
    // Encodings other than UTF-8.
    let e = kind("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>");
    assert_eq!(e.kind, SbomErrorKind::Invalid);
    assert_eq!(
        kind("<bom>\u{0}\u{ff}</bom>").kind,
        SbomErrorKind::NotAnSbom
    );
    let mut latin1 = xml_doc(
        "1.5",
        "<components><component><name>x</name></component></components>",
    )
    .into_bytes();
    latin1.insert(latin1.len() - 40, 0xe9);
    assert_eq!(parse_err(&latin1).kind, SbomErrorKind::MalformedXml);
}

#[test]
fn cyclonedx_xml_gives_what_its_json_twin_gives() {
    for (xml, json) in [
        (
            &include_bytes!(
                "../../../../../tests/fixtures/sbom/trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib.xml"
            )[..],
            &include_bytes!(
                "../../../../../tests/fixtures/sbom/trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib.json"
            )[..],
        ),
        (
            include_bytes!(
                "../../../../../tests/fixtures/sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdxlib.xml"
            ),
            include_bytes!(
                "../../../../../tests/fixtures/sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdxlib.json"
            ),
        ),
    ] {
        let (x, j) = (parse(xml).unwrap(), parse(json).unwrap());
        assert_eq!(x.syntax, Syntax::Xml);
        assert_eq!(x.nodes, j.nodes);
        assert_eq!(x.edges, j.edges);
        assert_eq!(x.root, j.root);
        assert_eq!(
            (
                &x.spec_version,
                &x.tool,
                &x.created,
                &x.authors,
                &x.serial,
                &x.warnings,
                x.extra
            ),
            (
                &j.spec_version,
                &j.tool,
                &j.created,
                &j.authors,
                &j.serial,
                &j.warnings,
                j.extra
            )
        );
        assert!(!x.nodes.is_empty());
        assert_eq!(quality::score(&x), quality::score(&j));
    }
}
