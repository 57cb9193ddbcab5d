//! Documents that must be refused, and how.

use super::*;

#[test]
fn not_json_is_malformed() {
    for doc in [
        &b"hello"[..],
        b"",
        b"   ",
        b"SPDXVersion: SPDX-2.3\n",
        b"{\"bomFormat\": CycloneDX}",
        b"\xff\xfe{}",
    ] {
        let err = Input::new(doc)
            .err()
            .unwrap_or_else(|| panic!("{:?}", String::from_utf8_lossy(doc)));
        assert_eq!(err.kind, SbomErrorKind::Malformed, "{err:?}");
        assert!(!err.detail.is_empty());
    }
    // XML without the CycloneDX namespace: not an SBOM, said when parsing.
    let xml = parse_err(b"<?xml version=\"1.0\"?><bom/>");
    assert_eq!(xml.kind, SbomErrorKind::NotAnSbom);
    assert!(xml.detail.contains("XML"), "{}", xml.detail);
}

#[test]
fn truncated_document_is_malformed() {
    let full = fixture("guac__alpine-cyclonedx.json");
    let err = parse_err(&full[..full.len() / 2]);
    assert_eq!(err.kind, SbomErrorKind::Malformed);
    assert!(err.detail.contains("truncated"), "{}", err.detail);
    // Trailing garbage after the document too.
    let mut extra = full.to_vec();
    extra.extend_from_slice(b"}");
    assert_eq!(parse_err(&extra).kind, SbomErrorKind::Malformed);
}

#[test]
fn json_that_is_not_an_sbom() {
    for doc in [
        &br#"{"hello": "world", "payload": {"x": 1}, "specVersion": 3}"#[..],
        br#"[1, 2, 3]"#,
        br#""CycloneDX""#,
        br#"null"#,
        br#"{"bomFormat": "SWID"}"#,
        br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#,
    ] {
        let err = parse_err(doc);
        assert_eq!(err.kind, SbomErrorKind::NotAnSbom, "{err:?}");
    }
}

#[test]
fn unsupported_versions() {
    let err = parse_err(br#"{"bomFormat":"CycloneDX","specVersion":"1.1","components":[]}"#);
    assert_eq!(err.kind, SbomErrorKind::UnsupportedVersion);
    assert!(
        err.detail.contains("\"1.1\"") && err.detail.contains("1.2, 1.3, 1.4, 1.5, 1.6, 1.7"),
        "{}",
        err.detail
    );
    assert_eq!(err.pointer.as_deref(), Some("/specVersion"));

    let err = parse_err(br#"{"bomFormat":"CycloneDX","specVersion":"2.0"}"#);
    assert_eq!(err.kind, SbomErrorKind::UnsupportedVersion);

    let err = parse_err(br#"{"spdxVersion":"SPDX-3.0","SPDXID":"SPDXRef-DOCUMENT"}"#);
    assert_eq!(err.kind, SbomErrorKind::UnsupportedVersion);
    assert!(
        err.detail.contains("SPDX-3.0") && err.detail.contains("SPDX-2.2, SPDX-2.3"),
        "{}",
        err.detail
    );
}

#[test]
fn wrong_types_point_at_the_value() {
    let cases: &[(&[u8], &str)] = &[
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":"x"}"#, "/components"),
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":5}]}"#, "/components/0/name"),
        (
            br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a"},{"name":"b","components":[{"type":"library"}]}]}"#,
            "/components/1/components/0/name",
        ),
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"tools":"syft"}}"#, "/metadata/tools"),
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.5","dependencies":[{"ref":"a","dependsOn":[1]}]}"#, "/dependencies/0/dependsOn/0"),
        (br#"{"bomFormat":"CycloneDX","specVersion":1.5}"#, "/specVersion"),
        (br#"{"bomFormat":"CycloneDX"}"#, "/specVersion"),
        (br#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a"}]}"#, "/packages/0/name"),
        (br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"a"}]}"#, "/packages/0/SPDXID"),
        (br#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"x","name":"a","checksums":{}}]}"#, "/packages/0/checksums"),
        (br#"{"spdxVersion":"SPDX-2.3","relationships":[{"spdxElementId":["a/b"]}]}"#, "/relationships/0/spdxElementId"),
    ];
    for (doc, pointer) in cases {
        let err = parse_err(doc);
        assert_eq!(err.kind, SbomErrorKind::Invalid, "{err:?}");
        assert_eq!(err.pointer.as_deref(), Some(*pointer), "{err:?}");
        let field = pointer.rsplit('/').next().unwrap();
        assert!(err.detail.contains(field), "{}", err.detail);
    }
}

#[test]
fn envelope_errors() {
    // Not an SBOM predicate: the upload is kept as it is, parse says why.
    let statement = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildType":"x"}}"#;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement);
    let dsse = format!(
        r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{payload}","signatures":[]}}"#
    );
    let input = Input::new(dsse.as_bytes()).unwrap();
    assert_eq!(input.bytes(), dsse.as_bytes());
    let err = input.parse().unwrap_err();
    assert_eq!(err.kind, SbomErrorKind::NotAnSbom);
    assert!(
        err.detail.contains("https://slsa.dev/provenance/v1"),
        "{}",
        err.detail
    );

    let other_type = br#"{"payloadType":"text/plain","payload":"aGk=","signatures":[]}"#;
    assert_eq!(parse_err(other_type).kind, SbomErrorKind::NotAnSbom);

    for (dsse, why) in [
        (&br#"{"payloadType":"application/vnd.in-toto+json","payload":"not base64!!","signatures":[]}"#[..], "base64"),
        (br#"{"payloadType":"application/vnd.in-toto+json","payload":5,"signatures":[]}"#, "string"),
        (br#"{"payloadType":"application/vnd.in-toto+json","signatures":[]}"#, "no payload"),
        // base64 of "{not json"
        (br#"{"payloadType":"application/vnd.in-toto+json","payload":"e25vdCBqc29u","signatures":[]}"#, "JSON"),
    ] {
        let err = Input::new(dsse).err().unwrap();
        assert_eq!((err.kind, err.pointer.as_deref()), (SbomErrorKind::Invalid, Some("/payload")), "{err:?}");
        assert!(err.detail.contains(why), "{}", err.detail);
    }

    // An SBOM predicate type whose predicate is not an SBOM of a supported version.
    let statement = r#"{"predicateType":"https://cyclonedx.org/bom/v1.1","predicate":{"bomFormat":"CycloneDX","specVersion":"1.1"}}"#;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement);
    let dsse = format!(r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{payload}"}}"#);
    let err = parse_err(dsse.as_bytes());
    assert_eq!(
        (err.kind, err.pointer.as_deref()),
        (
            SbomErrorKind::UnsupportedVersion,
            Some("/predicate/specVersion")
        )
    );

    // Wrong types inside the wrapped SBOM point into the statement.
    let statement = r#"{"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":1}]}}"#;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement);
    let dsse = format!(r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{payload}"}}"#);
    let err = parse_err(dsse.as_bytes());
    assert_eq!(err.pointer.as_deref(), Some("/predicate/components/0/name"));
}

#[test]
fn depth_bombs_are_rejected_without_overflowing_the_stack() {
    // Unclosed: serde_json skips nesting iteratively, so this is just truncated JSON.
    let bomb = "[".repeat(10_000);
    let err = parse_err(bomb.as_bytes());
    assert_eq!(err.kind, SbomErrorKind::Malformed, "{err:?}");
    assert!(err.detail.contains("ends unexpectedly"), "{}", err.detail);
    // Closed: valid JSON, but not an SBOM.
    let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(parse_err(closed.as_bytes()).kind, SbomErrorKind::NotAnSbom);
    // Inside members we skip: harmless.
    let skipped = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","x":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(parse(skipped.as_bytes()).unwrap().nodes.len(), 0);
    // Inside members we read: a wrong type, found without recursing deeply.
    let read = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = parse_err(read.as_bytes());
    assert_eq!(
        (err.kind, err.pointer.as_deref()),
        (SbomErrorKind::Invalid, Some("/components/0/0")),
        "{err:?}"
    );

    // Deeply nested components: fine up to the limit, an error beyond it.
    let nested = |depth: usize| {
        let mut doc = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":"#);
        for i in 0..depth {
            doc.push_str(&format!(
                r#"[{{"bom-ref":"c{i}","name":"c{i}","components":"#
            ));
        }
        doc.push_str("[]");
        doc.push_str(&"}]".repeat(depth));
        doc.push('}');
        doc
    };
    let sbom = parse(nested(62).as_bytes()).unwrap();
    assert_eq!(sbom.nodes.len(), 62);
    assert_eq!(sbom.edges.len(), 61);
    // An error at the deepest level is located by a second, path-tracking read.
    let deep_error = nested(62).replacen(r#""name":"c61","#, "", 1);
    let err = parse_err(deep_error.as_bytes());
    assert_eq!(err.kind, SbomErrorKind::Invalid, "{err:?}");
    assert!(err.pointer.unwrap().ends_with("/components/0/name"));
    // ... beyond it serde_json's recursion limit (128) stops the reader.
    let err = parse_err(nested(5_000).as_bytes());
    assert_eq!(err.kind, SbomErrorKind::Invalid, "{err:?}");
    assert!(err.detail.contains("128 levels"), "{}", err.detail);
}

#[test]
fn errors_display_their_detail() {
    let err =
        parse_err(br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":5}]}"#);
    assert_eq!(err.to_string(), err.detail);
    assert!(
        err.detail.starts_with(
            "Invalid SBOM at /components/0/name: invalid type: integer `5`, expected a string"
        ),
        "{}",
        err.detail
    );
    let _: &dyn std::error::Error = &err;
}
