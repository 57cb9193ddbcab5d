//! CycloneDX XML uploads: `sbom::Input::new` then `Input::parse` on input
//! that starts like XML (`<`), exactly what `POST /api/v1/sboms` runs on
//! such a body (the XML reader of `sbom/cyclonedx/xml.rs`: namespace
//! detection, DTD refusal, depth bound, entity and attribute checks).
//! The `sbom` target reaches it too; this one starts from XML seeds only.
//! Checks what `ParsedSbom` documents (edges and root within `nodes`,
//! bounded warnings) and that the result says XML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = cairn::sboms::core::Input::new(data) else {
        return;
    };
    let Ok(sbom) = input.parse() else {
        return;
    };
    let starts_like_xml = data
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(data)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        == Some(&b'<');
    assert_eq!(
        sbom.syntax == cairn::sboms::core::Syntax::Xml,
        starts_like_xml,
        "syntax {:?}",
        sbom.syntax
    );
    let n = sbom.nodes.len();
    if let Some(root) = sbom.root {
        assert!(root < n, "root {root} outside {n} nodes");
    }
    for e in &sbom.edges {
        assert!(
            (e.from as usize) < n && (e.to as usize) < n,
            "edge {e:?} outside {n} nodes"
        );
    }
    assert!(sbom.warnings.len() <= 21, "{} warnings", sbom.warnings.len());
    let _ = cairn::sboms::core::quality::score(&sbom).summary();
});
