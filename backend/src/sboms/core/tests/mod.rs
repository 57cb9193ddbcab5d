//! Fixture and error tests for SBOM parsing. Expected values are computed
//! from the documents with `serde_json::Value`, independently of the parser:
//! by the oracle the upload's integration tests share
//! (`tests/sbom_oracle.rs`), by the node-by-node checks below, and by
//! hand-checked concrete values for each fixture.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde_json::Value;

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../../../tests/fixtures/sbom/", $name)) as &[u8],
        )
    };
}

const FIXTURES: &[(&str, &[u8])] = &[
    fixture!("bom-shelter__jx-darwin-arm64.syft-0.60.1.spdx.json"),
    fixture!("bom-shelter__kawipiko.cyclonedx-gomod.cdx.json"),
    fixture!("bom-shelter__spdx-trivy-bitnami_etcd-522db465.spdx.json"),
    fixture!("guac__alpine-cyclonedx.json"),
    fixture!("guac__distroless-cyclonedx.json"),
    fixture!("guac__oci-kubectl-linux-amd64-spdx.json"),
    fixture!("syft__TestCycloneDxImageEncoder.golden.cdx.json"),
    fixture!("syft__TestSPDXJSONImageEncoder.golden.spdx.json"),
    fixture!("trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl"),
    fixture!("trivy__fixtures_sbom_centos-7-cyclonedx.json"),
    fixture!("trivy__fixtures_sbom_centos-7-spdx.json"),
    fixture!("trivy__fixtures_sbom_minikube-kbom.cdx.json"),
    fixture!("trivy__npm-cyclonedx.json.golden"),
];

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

/// Parses `bytes`; the [`Input`] is leaked so the result can be `'static`.
fn parse(bytes: &[u8]) -> Result<ParsedSbom<'static>, SbomError> {
    let bytes: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
    let input: &'static Input<'static> = Box::leak(Box::new(Input::new(bytes)?));
    input.parse()
}

fn parse_fixture(name: &str) -> ParsedSbom<'static> {
    parse(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn parse_err(bytes: &[u8]) -> SbomError {
    match parse(bytes) {
        Ok(p) => panic!("expected an error, parsed {} nodes", p.nodes.len()),
        Err(e) => e,
    }
}

fn node<'p, 'a>(sbom: &'p ParsedSbom<'a>, name: &str) -> &'p Component<'a> {
    sbom.nodes
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no node named {name}"))
}

/// The SBOM document as a `Value`, unwrapping the DSSE envelope by hand
/// (the shared oracle's reading).
use oracle::document;

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Edges as (from index, to index, kind) in a set.
fn edge_set(edges: &[Edge]) -> BTreeSet<(u32, u32, &'static str)> {
    edges
        .iter()
        .map(|e| (e.from, e.to, e.kind.as_str()))
        .collect()
}

// ---------------------------------------------------------------- CycloneDX

/// Pre-order walk: the root first, then the top-level components, each
/// followed by its nested components; `parents[i]` is i's parent index.
fn cdx_flatten(doc: &Value) -> (Vec<&Value>, Vec<Option<usize>>) {
    fn walk<'v>(
        c: &'v Value,
        parent: Option<usize>,
        out: &mut Vec<&'v Value>,
        parents: &mut Vec<Option<usize>>,
    ) {
        let index = out.len();
        out.push(c);
        parents.push(parent);
        for child in arr(&c["components"]) {
            walk(child, Some(index), out, parents);
        }
    }
    let (mut out, mut parents) = (Vec::new(), Vec::new());
    if doc["metadata"]["component"].is_object() {
        walk(&doc["metadata"]["component"], None, &mut out, &mut parents);
    }
    for c in arr(&doc["components"]) {
        walk(c, None, &mut out, &mut parents);
    }
    (out, parents)
}

/// Compares a parsed CycloneDX document with what the JSON says.
fn check_cyclonedx(name: &str, bytes: &[u8], sbom: &ParsedSbom<'_>) {
    let doc = document(bytes);
    assert_eq!(sbom.format, SbomFormat::CycloneDx, "{name}");
    assert_eq!(
        sbom.spec_version,
        doc["specVersion"].as_str().unwrap(),
        "{name}"
    );
    assert_eq!(sbom.serial.as_deref(), s(&doc["serialNumber"]), "{name}");
    assert_eq!(
        sbom.created.as_deref(),
        s(&doc["metadata"]["timestamp"]),
        "{name}"
    );

    let (components, parents) = cdx_flatten(&doc);
    let refs: Vec<&str> = components.iter().filter_map(|c| s(&c["bom-ref"])).collect();
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(
        refs.len(),
        unique.len(),
        "{name}: fixture has duplicate bom-refs"
    );

    assert_eq!(sbom.nodes.len(), components.len(), "{name}: node count");
    assert_eq!(
        sbom.root,
        doc["metadata"]["component"].is_object().then_some(0),
        "{name}"
    );
    for (node, c) in sbom.nodes.iter().zip(&components) {
        assert_eq!(node.name, c["name"].as_str().unwrap(), "{name}");
        assert_eq!(node.bom_ref.as_deref(), s(&c["bom-ref"]), "{name}");
        assert_eq!(node.version.as_deref(), s(&c["version"]), "{name}");
        assert_eq!(node.purl.as_deref(), s(&c["purl"]), "{name}");
        assert_eq!(
            node.kind,
            c["type"].as_str().unwrap().to_lowercase(),
            "{name}"
        );
        assert_eq!(
            node.supplier.as_deref(),
            s(&c["supplier"]["name"]),
            "{name}"
        );
        // Every licence entry shows up in the expression, and only then is there one.
        let licenses = arr(&c["licenses"]);
        assert_eq!(
            node.licenses.is_some(),
            !licenses.is_empty(),
            "{name}: {}",
            node.name
        );
        for l in licenses {
            let term = s(&l["expression"])
                .or_else(|| s(&l["license"]["id"]))
                .or_else(|| s(&l["license"]["name"]))
                .unwrap();
            let expr = node.licenses.as_deref().unwrap();
            let plain = term
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
            if plain {
                assert!(expr.contains(term), "{name}: {expr} lacks {term}");
            } else {
                assert!(expr.contains("LicenseRef-"), "{name}: {expr}");
            }
        }
        let hashes = arr(&c["hashes"]);
        assert_eq!(node.hashes.len(), hashes.len(), "{name}");
        for (got, want) in node.hashes.iter().zip(hashes) {
            assert_eq!(got.1, want["content"].as_str().unwrap().to_lowercase());
            assert_eq!(
                got.0,
                want["alg"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .replace("sha-", "sha")
            );
        }
    }

    let index: HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((s(&c["bom-ref"])?, i)))
        .collect();
    let mut expected = BTreeSet::new();
    for (child, parent) in parents.iter().enumerate() {
        if let Some(parent) = parent {
            expected.insert((*parent as u32, child as u32, "contains"));
        }
    }
    let mut dangling = 0;
    for dep in arr(&doc["dependencies"]) {
        let from = index.get(dep["ref"].as_str().unwrap());
        for to in arr(&dep["dependsOn"]) {
            match (from, index.get(to.as_str().unwrap())) {
                (Some(&f), Some(&t)) if f != t => {
                    expected.insert((f as u32, t as u32, "depends_on"));
                }
                (Some(_), Some(_)) => {}
                _ => dangling += 1,
            }
        }
    }
    assert_eq!(edge_set(&sbom.edges), expected, "{name}: edges");
    assert_eq!(sbom.edges.len(), expected.len(), "{name}: duplicate edges");
    assert_eq!(
        dangling == 0,
        sbom.warnings.is_empty(),
        "{name}: {:?}",
        sbom.warnings
    );
}

// --------------------------------------------------------------------- SPDX

fn spdx_skip(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !matches!(*v, "NOASSERTION" | "NONE" | ""))
}

/// Compares a parsed SPDX document with what the JSON says.
fn check_spdx(name: &str, bytes: &[u8], sbom: &ParsedSbom<'_>) {
    let doc = document(bytes);
    assert_eq!(sbom.format, SbomFormat::Spdx, "{name}");
    assert_eq!(
        format!("SPDX-{}", sbom.spec_version),
        doc["spdxVersion"].as_str().unwrap(),
        "{name}"
    );
    assert_eq!(
        sbom.serial.as_deref(),
        s(&doc["documentNamespace"]),
        "{name}"
    );
    assert_eq!(
        sbom.created.as_deref(),
        s(&doc["creationInfo"]["created"]),
        "{name}"
    );
    let tools: Vec<&str> = arr(&doc["creationInfo"]["creators"])
        .iter()
        .filter_map(|c| c.as_str()?.strip_prefix("Tool: "))
        .collect();
    assert_eq!(
        sbom.tool,
        (!tools.is_empty()).then(|| tools.join(", ")),
        "{name}"
    );

    let packages = arr(&doc["packages"]);
    assert_eq!(sbom.nodes.len(), packages.len(), "{name}: node count");
    for (node, p) in sbom.nodes.iter().zip(packages) {
        assert_eq!(node.bom_ref.as_deref(), s(&p["SPDXID"]), "{name}");
        assert_eq!(node.name, p["name"].as_str().unwrap(), "{name}");
        assert_eq!(
            node.version.as_deref(),
            spdx_skip(s(&p["versionInfo"])),
            "{name}"
        );
        let purl = arr(&p["externalRefs"])
            .iter()
            .find(|r| r["referenceType"] == "purl")
            .and_then(|r| s(&r["referenceLocator"]));
        assert_eq!(node.purl.as_deref(), purl, "{name}");
        let license = spdx_skip(s(&p["licenseConcluded"])).or(spdx_skip(s(&p["licenseDeclared"])));
        assert_eq!(node.licenses.as_deref(), license, "{name}: {}", node.name);
        let checksums = arr(&p["checksums"]);
        assert_eq!(node.hashes.len(), checksums.len(), "{name}");
        for (got, want) in node.hashes.iter().zip(checksums) {
            assert_eq!(
                got.1,
                want["checksumValue"].as_str().unwrap().to_lowercase()
            );
            assert_eq!(got.0, want["algorithm"].as_str().unwrap().to_lowercase());
        }
        let kind = s(&p["primaryPackagePurpose"])
            .map_or("library".to_owned(), |k| k.to_lowercase().replace('_', "-"));
        assert_eq!(node.kind, kind, "{name}");
    }

    let index: HashMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p["SPDXID"].as_str().unwrap(), i))
        .collect();
    let mut expected = BTreeSet::new();
    let mut described = BTreeSet::new();
    for id in arr(&doc["documentDescribes"]) {
        if let Some(&i) = index.get(id.as_str().unwrap()) {
            described.insert(i);
        }
    }
    for r in arr(&doc["relationships"]) {
        let a = index
            .get(r["spdxElementId"].as_str().unwrap())
            .map(|&i| i as u32);
        let b = index
            .get(r["relatedSpdxElement"].as_str().unwrap())
            .map(|&i| i as u32);
        let t = r["relationshipType"].as_str().unwrap();
        if r["spdxElementId"] == "SPDXRef-DOCUMENT" && (t == "DESCRIBES" || t == "DESCRIBE") {
            described.extend(b.map(|b| b as usize));
        }
        let (Some(a), Some(b)) = (a, b) else { continue };
        let edge = match t {
            "DEPENDS_ON" => (a, b, "depends_on"),
            "DEPENDENCY_OF" => (b, a, "depends_on"),
            "CONTAINS" => (a, b, "contains"),
            "CONTAINED_BY" => (b, a, "contains"),
            _ => continue,
        };
        if a != b {
            expected.insert(edge);
        }
    }
    assert_eq!(edge_set(&sbom.edges), expected, "{name}: edges");
    assert_eq!(sbom.edges.len(), expected.len(), "{name}: duplicate edges");
    let root = (described.len() == 1).then(|| *described.first().unwrap());
    assert_eq!(sbom.root, root, "{name}: root");
}

#[test]
fn every_fixture_matches_the_document() {
    for (name, bytes) in FIXTURES {
        let sbom = parse_fixture(name);
        if document(bytes).get("bomFormat").is_some() {
            check_cyclonedx(name, bytes, &sbom);
        } else {
            check_spdx(name, bytes, &sbom);
        }
        assert_eq!(
            sbom.envelope.is_some(),
            name.ends_with(".intoto.jsonl"),
            "{name}"
        );
        for edge in &sbom.edges {
            assert!(
                (edge.from as usize) < sbom.nodes.len() && (edge.to as usize) < sbom.nodes.len()
            );
        }
    }
}

/// What the shared oracle reads in each fixture, the parser reads too (the
/// integration tests check the same of what the upload stored).
#[test]
fn the_parser_agrees_with_the_shared_oracle() {
    let names: Vec<&str> = FIXTURES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, oracle::SBOM_FIXTURES, "one list of fixtures");
    for (name, bytes) in FIXTURES {
        let want = oracle::expected(bytes);
        let sbom = parse_fixture(name);
        let format = match sbom.format {
            SbomFormat::CycloneDx => "cyclonedx",
            SbomFormat::Spdx => "spdx",
        };
        assert_eq!(format, want.format, "{name}");
        assert_eq!(sbom.spec_version, want.spec_version, "{name}");
        assert_eq!(sbom.component_count(), want.component_count, "{name}");
        let purls: BTreeSet<String> = sbom
            .nodes
            .iter()
            .filter_map(|c| c.purl.as_deref().map(str::to_owned))
            .collect();
        assert_eq!(purls, want.purls, "{name}: purls");
        let bom_ref = |i: u32| {
            sbom.nodes[i as usize]
                .bom_ref
                .as_deref()
                .unwrap_or_default()
                .to_owned()
        };
        let pairs = |kind: EdgeKind| -> BTreeSet<(String, String)> {
            sbom.edges
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| (bom_ref(e.from), bom_ref(e.to)))
                .collect()
        };
        assert_eq!(pairs(EdgeKind::DependsOn), want.depends, "{name}: depends");
        assert_eq!(pairs(EdgeKind::Contains), want.contains, "{name}: contains");
        let by_ref: HashMap<&str, &Component> = sbom
            .nodes
            .iter()
            .filter_map(|c| Some((c.bom_ref.as_deref()?, c)))
            .collect();
        for (r, licence) in &want.licences {
            assert_eq!(
                by_ref[r.as_str()].licenses.as_deref(),
                Some(licence.as_str()),
                "{name}: licence of {r}"
            );
        }
        for (r, hex) in &want.sha256 {
            assert!(
                by_ref[r.as_str()]
                    .hashes
                    .iter()
                    .any(|(alg, h)| alg == "sha256" && h == hex),
                "{name}: sha256 of {r}"
            );
        }
    }
}

#[path = "../../../../../tests/sbom_oracle.rs"]
mod oracle;

mod documents;
mod errors;
mod fixtures;
mod xml;
