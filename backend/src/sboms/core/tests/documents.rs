//! Hand-made documents: the normalisation rules one by one.

use super::*;

#[test]
fn cyclonedx_normalisation_rules() {
    let doc = br#"{
      "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:x",
      "metadata": {
        "timestamp": "2024-01-01T00:00:00Z",
        "authors": [{"name": "Alice"}, {"email": "bob@example.com"}],
        "tools": {"components": [{"name": "syft", "version": "1.0"}], "services": [{"name": "scanner"}]},
        "component": {"bom-ref": "app", "type": "Application", "name": "app",
                      "components": [{"bom-ref": "sub", "name": "sub"}]}
      },
      "components": [
        {"bom-ref": "a", "name": "a", "supplier": {"name": "ACME"},
         "licenses": [{"license": {"id": "MIT"}}, {"license": {"name": "Apache License 2.0"}},
                      {"expression": "GPL-2.0-only OR BSD-3-Clause"}],
         "hashes": [{"alg": "SHA-256", "content": "ABCDEF"}, {"alg": "SHA3-512", "content": "00"},
                    {"alg": "BLAKE2b-256", "content": "11"}, {"alg": "MD5", "content": "22"}],
         "components": [{"bom-ref": "a1", "name": "a1", "components": [{"bom-ref": "a2", "name": "a2"}]}]},
        {"bom-ref": "a", "name": "duplicate-of-a"},
        {"name": "no-ref", "licenses": [{"expression": "MIT OR Apache-2.0"}]},
        {"bom-ref": "b", "name": "b\u00e9"}
      ],
      "dependencies": [
        {"ref": "app", "dependsOn": ["a", "b", "a", "app", "ghost"]},
        {"ref": "a", "dependsOn": ["a1"]},
        {"ref": "phantom", "dependsOn": ["a"]}
      ]
    }"#;
    let sbom = parse(doc).unwrap();
    let names: Vec<&str> = sbom.nodes.iter().map(|n| n.name.as_ref()).collect();
    assert_eq!(names, ["app", "sub", "a", "a1", "a2", "no-ref", "bé"]);
    assert_eq!(sbom.root, Some(0));
    assert_eq!(sbom.nodes[0].kind, "application");
    assert_eq!(sbom.nodes[1].kind, "library");
    assert_eq!(sbom.tool.as_deref(), Some("syft 1.0, scanner"));
    assert_eq!(sbom.authors, ["Alice", "bob@example.com"]);
    assert_eq!(sbom.serial.as_deref(), Some("urn:uuid:x"));
    let a = &sbom.nodes[2];
    assert_eq!(a.supplier.as_deref(), Some("ACME"));
    assert_eq!(
        a.licenses.as_deref(),
        Some("MIT AND LicenseRef-Apache-License-2.0 AND (GPL-2.0-only OR BSD-3-Clause)")
    );
    let hashes: Vec<(&str, &str)> = a
        .hashes
        .iter()
        .map(|(x, y)| (x.as_str(), y.as_str()))
        .collect();
    assert_eq!(
        hashes,
        [
            ("sha256", "abcdef"),
            ("sha3-512", "00"),
            ("blake2b-256", "11"),
            ("md5", "22")
        ]
    );
    assert_eq!(sbom.nodes[5].licenses.as_deref(), Some("MIT OR Apache-2.0"));
    let e = |from, to, kind| Edge { from, to, kind };
    use EdgeKind::*;
    assert_eq!(
        sbom.edges,
        [
            e(0, 1, Contains),
            e(2, 3, Contains),
            e(3, 4, Contains),
            e(0, 2, DependsOn),
            e(0, 6, DependsOn),
            e(2, 3, DependsOn),
        ]
    );
    assert_eq!(sbom.warnings.len(), 3, "{:?}", sbom.warnings);
    assert!(sbom.warnings[0].contains("Duplicate bom-ref \"a\""));
    assert!(sbom.warnings[1].contains("\"ghost\""));
    assert!(sbom.warnings[2].contains("\"phantom\""));
}

#[test]
fn cyclonedx_legacy_tools_and_warning_cap() {
    let mut doc = String::from(
        r#"{"bomFormat":"CycloneDX","specVersion":"1.2","metadata":{"tools":[{"vendor":"v","name":"t","version":"1"},{"name":"u"}]},"components":[{"bom-ref":"x","name":"x"}],"dependencies":[{"ref":"x","dependsOn":["#,
    );
    let missing: Vec<String> = (0..30).map(|i| format!("\"missing-{i}\"")).collect();
    doc.push_str(&missing.join(","));
    doc.push_str("]}]}");
    let sbom = parse(doc.as_bytes()).unwrap();
    assert_eq!(sbom.tool.as_deref(), Some("t 1, u"));
    assert_eq!(sbom.root, None);
    assert_eq!(sbom.component_count(), 1);
    assert_eq!(sbom.warnings.len(), 21);
    assert_eq!(sbom.warnings[20], "... and 10 more");
}

#[test]
fn cyclonedx_member_order_does_not_matter() {
    // Dependencies first, components before metadata: the root still comes first.
    let doc = br#"{"dependencies":[{"ref":"a","dependsOn":["r"]}],"bomFormat":"CycloneDX",
      "components":[{"bom-ref":"a","name":"a"}],"specVersion":"1.4",
      "metadata":{"component":{"bom-ref":"r","name":"r"}}}"#;
    let sbom = parse(doc).unwrap();
    let names: Vec<&str> = sbom.nodes.iter().map(|n| n.name.as_ref()).collect();
    assert_eq!(names, ["r", "a"]);
    assert_eq!(sbom.root, Some(0));
    assert_eq!(
        sbom.edges,
        [Edge {
            from: 1,
            to: 0,
            kind: EdgeKind::DependsOn
        }]
    );

    let empty = parse(br#"{"bomFormat":"CycloneDX","specVersion":"1.3","metadata":null,"components":null,"dependencies":null}"#).unwrap();
    assert_eq!(
        (empty.nodes.len(), empty.root, empty.tool.as_deref()),
        (0, None, None)
    );
}

#[test]
fn spdx_normalisation_rules() {
    let doc = br#"{
      "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "documentNamespace": "https://example.com/ns",
      "creationInfo": {"created": "2024-01-01T00:00:00Z",
                       "creators": ["Tool: syft-1.2.3", "Tool: cairn", "Organization: ACME Corp", "Person: Jane (jane@example.com)"]},
      "documentDescribes": ["SPDXRef-app"],
      "packages": [
        {"SPDXID": "SPDXRef-lib", "name": "lib", "versionInfo": "1.0", "supplier": "Organization: Lib Org",
         "licenseConcluded": "NOASSERTION", "licenseDeclared": "MIT OR Apache-2.0",
         "checksums": [{"algorithm": "SHA1", "checksumValue": "AA"}, {"algorithm": "SHA256", "checksumValue": "BB"}],
         "externalRefs": [{"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:a"},
                          {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/lib@1.0"},
                          {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/other@1.0"}]},
        {"SPDXID": "SPDXRef-app", "name": "app", "primaryPackagePurpose": "OPERATING_SYSTEM", "supplier": "Person: Bob",
         "licenseConcluded": "Apache-2.0"},
        {"SPDXID": "SPDXRef-lib", "name": "lib-again"},
        {"SPDXID": "SPDXRef-dep", "name": "dep", "supplier": "NOASSERTION", "licenseConcluded": "NONE"}
      ],
      "files": [{"SPDXID": "SPDXRef-file", "fileName": "a.txt"}],
      "relationships": [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-app"},
        {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-lib"},
        {"spdxElementId": "SPDXRef-dep", "relationshipType": "DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-lib"},
        {"spdxElementId": "SPDXRef-app", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-lib"},
        {"spdxElementId": "SPDXRef-dep", "relationshipType": "CONTAINED_BY", "relatedSpdxElement": "SPDXRef-app"},
        {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-lib"},
        {"spdxElementId": "SPDXRef-app", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-app"},
        {"spdxElementId": "SPDXRef-lib", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-file"},
        {"spdxElementId": "SPDXRef-lib", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "DocumentRef-other:SPDXRef-x"},
        {"spdxElementId": "SPDXRef-lib", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "NOASSERTION"},
        {"spdxElementId": "SPDXRef-app", "relationshipType": "GENERATED_FROM", "relatedSpdxElement": "SPDXRef-lib"},
        {"spdxElementId": "SPDXRef-lib", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-ghost"}
      ]
    }"#;
    let sbom = parse(doc).unwrap();
    let names: Vec<&str> = sbom.nodes.iter().map(|n| n.name.as_ref()).collect();
    assert_eq!(names, ["lib", "app", "dep"]);
    assert_eq!(sbom.root, Some(1));
    assert_eq!(sbom.tool.as_deref(), Some("syft-1.2.3, cairn"));
    assert_eq!(sbom.authors, ["ACME Corp", "Jane (jane@example.com)"]);
    assert_eq!(sbom.serial.as_deref(), Some("https://example.com/ns"));
    let lib = &sbom.nodes[0];
    assert_eq!(lib.purl.as_deref(), Some("pkg:npm/lib@1.0"));
    assert_eq!(lib.supplier.as_deref(), Some("Lib Org"));
    assert_eq!(lib.licenses.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(lib.kind, "library");
    assert_eq!(
        lib.hashes,
        [
            ("sha1".to_owned(), "aa".to_owned()),
            ("sha256".to_owned(), "bb".to_owned())
        ]
    );
    let app = &sbom.nodes[1];
    assert_eq!(app.kind, "operating-system");
    assert_eq!(app.supplier.as_deref(), Some("Bob"));
    assert_eq!(app.licenses.as_deref(), Some("Apache-2.0"));
    let dep = &sbom.nodes[2];
    assert_eq!(
        (dep.supplier.as_deref(), dep.licenses.as_deref()),
        (None, None)
    );
    let e = |from, to, kind| Edge { from, to, kind };
    use EdgeKind::*;
    assert_eq!(
        sbom.edges,
        [
            e(1, 0, DependsOn),
            e(0, 2, DependsOn),
            e(1, 0, Contains),
            e(1, 2, Contains)
        ]
    );
    assert_eq!(sbom.warnings.len(), 2, "{:?}", sbom.warnings);
    assert!(sbom.warnings[0].contains("Duplicate SPDXID \"SPDXRef-lib\""));
    assert!(sbom.warnings[1].contains("SPDXRef-ghost"));
}

#[test]
fn spdx_several_described_packages_means_no_root() {
    let doc = br#"{"spdxVersion":"SPDX-2.2","packages":[{"SPDXID":"SPDXRef-a","name":"a"},{"SPDXID":"SPDXRef-b","name":"b"}],
      "relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-a"},
                       {"spdxElementId":"SPDXRef-b","relationshipType":"DESCRIBED_BY","relatedSpdxElement":"SPDXRef-DOCUMENT"}]}"#;
    let sbom = parse(doc).unwrap();
    assert_eq!(sbom.root, None);
    assert_eq!(sbom.component_count(), 2);
}

#[test]
fn bare_in_toto_statement_and_spdx_envelope() {
    let statement = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"img","digest":{{"sha256":"ABC"}}}},{{"name":"other","digest":{{"sha512":"00"}}}}],
            "predicateType":"https://spdx.dev/Document/v2.3","predicate":{}}}"#,
        r#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a"}]}"#
    );
    let bare = parse(statement.as_bytes()).unwrap();
    assert_eq!(bare.nodes.len(), 1);
    let envelope = bare.envelope.unwrap();
    assert_eq!(envelope.predicate_type, "https://spdx.dev/Document/v2.3");
    assert_eq!(
        envelope.subjects,
        [("img".to_owned(), Some("abc".to_owned()))],
        "subjects without a sha256 digest are left out"
    );

    // The same statement in a DSSE envelope, URL-safe base64 without padding.
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(statement.as_bytes());
    let dsse = format!(
        r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{payload}","signatures":[]}}"#
    );
    let wrapped = parse(dsse.as_bytes()).unwrap();
    assert_eq!(wrapped.format, SbomFormat::Spdx);
    assert_eq!(wrapped.envelope.unwrap().subjects.len(), 1);
}

#[test]
fn utf8_bom_and_escaped_strings() {
    let doc = "\u{feff}{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"name\":\"a\\\"b\",\"type\":\"LIBRARY\"}]}";
    let sbom = parse(doc.as_bytes()).unwrap();
    assert_eq!(sbom.nodes[0].name, "a\"b");
    assert_eq!(sbom.nodes[0].kind, "library");
}
