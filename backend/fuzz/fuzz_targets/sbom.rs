//! SBOM upload parsing: `sbom::Input::new` (format probe, DSSE / in-toto
//! unwrapping) then `Input::parse` (CycloneDX or SPDX JSON, normalised),
//! exactly what `POST /api/v1/sboms` runs on the (gunzipped) body.
//! Also checks what `ParsedSbom` documents: every edge and the root index
//! resolve to entries of `nodes`, warnings are bounded; and scores its
//! quality (`sbom::quality`): scores within 0-100, every count adds up,
//! the lists of components lacking a field bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = cairn::sboms::core::Input::new(data) else {
        return;
    };
    let _ = input.bytes().len();
    let Ok(sbom) = input.parse() else {
        return;
    };
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
    // 20 messages plus one "... and N more" (sbom/normalize.rs `Warnings`).
    assert!(sbom.warnings.len() <= 21, "{} warnings", sbom.warnings.len());
    let _ = (sbom.component_count(), sbom.dependency_count());
    let report = cairn::sboms::core::quality::score(&sbom);
    for (id, p) in report.profiles() {
        assert!((0.0..=100.0).contains(&p.score), "{id} score {}", p.score);
        for f in &p.fields {
            assert_eq!(f.covered + f.missing_count, f.total, "{id} {}", f.field);
            assert!(f.missing.len() <= cairn::sboms::core::quality::MISSING_LIMIT);
        }
    }
    let _ = report.summary();
});
