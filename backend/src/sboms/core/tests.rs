//! Fixture and error tests for SBOM parsing. Expected values are computed
//! from the documents with `serde_json::Value`, independently of the parser,
//! plus hand-checked concrete values for each fixture.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde_json::Value;

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../../tests/fixtures/sbom/", $name)) as &[u8],
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

/// The SBOM document as a `Value`, unwrapping the DSSE envelope by hand.
fn document(bytes: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(bytes).unwrap();
    match v.get("payload").and_then(Value::as_str) {
        Some(payload) => {
            let statement = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .unwrap();
            let mut statement: Value = serde_json::from_slice(&statement).unwrap();
            statement["predicate"].take()
        }
        None => v,
    }
}

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

// ------------------------------------------------- concrete values by hand

#[test]
fn kawipiko_cyclonedx_gomod() {
    let sbom = parse_fixture("bom-shelter__kawipiko.cyclonedx-gomod.cdx.json");
    assert_eq!(sbom.spec_version, "1.4");
    assert_eq!(sbom.tool.as_deref(), Some("cyclonedx-gomod v1.2.0"));
    assert_eq!(sbom.nodes.len(), 28);
    assert_eq!(sbom.component_count(), 27);
    assert_eq!(sbom.root, Some(0));
    assert_eq!(sbom.nodes[0].name, "github.com/volution/kawipiko");
    assert_eq!(sbom.nodes[0].kind, "application");
    assert_eq!(sbom.dependency_count(), 55);
    let brotli = node(&sbom, "github.com/andybalholm/brotli");
    assert_eq!(brotli.version.as_deref(), Some("v1.0.4"));
    assert_eq!(
        brotli.purl.as_deref(),
        Some("pkg:golang/github.com/andybalholm/brotli@v1.0.4?type=module")
    );
    assert_eq!(
        brotli.hashes,
        vec![(
            "sha256".to_owned(),
            "57b0dd5de26d66c71aa9f36e01d491b91173ba22a51d20bf661df397da98dc96".to_owned()
        )]
    );
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
    assert!(
        matches!(sbom.nodes[0].name, std::borrow::Cow::Borrowed(_)),
        "strings borrow"
    );
}

#[test]
fn alpine_syft_cyclonedx() {
    let sbom = parse_fixture("guac__alpine-cyclonedx.json");
    assert_eq!(sbom.tool.as_deref(), Some("syft 0.58.0"));
    assert_eq!(sbom.created.as_deref(), Some("2022-10-07T10:41:07-04:00"));
    assert_eq!(
        sbom.serial.as_deref(),
        Some("urn:uuid:90630c1e-1df2-4d35-85fa-a4e8ebd22d70")
    );
    assert_eq!(sbom.component_count(), 15);
    let root = &sbom.nodes[sbom.root.unwrap()];
    assert_eq!(
        (root.name.as_ref(), root.kind.as_ref()),
        ("docker.io/library/alpine:latest", "container")
    );
    let base = node(&sbom, "alpine-baselayout");
    assert_eq!(base.licenses.as_deref(), Some("GPL-2.0-only"));
    assert_eq!(
        base.purl.as_deref(),
        Some("pkg:alpine/alpine-baselayout@3.2.0-r22?arch=x86_64&upstream=alpine-baselayout&distro=alpine-3.16.2")
    );
    assert_eq!(
        node(&sbom, "ca-certificates-bundle").licenses.as_deref(),
        Some("MPL-2.0 AND MIT")
    );
    assert!(sbom.edges.is_empty());
}

#[test]
fn distroless_syft_cyclonedx() {
    let sbom = parse_fixture("guac__distroless-cyclonedx.json");
    assert_eq!(sbom.nodes.len(), 4);
    assert_eq!(
        node(&sbom, "netbase").licenses.as_deref(),
        Some("GPL-2.0-only")
    );
    assert_eq!(sbom.nodes[0].name, "gcr.io/distroless/static:nonroot");
}

#[test]
fn syft_cyclonedx_1_7_tools_object() {
    let sbom = parse_fixture("syft__TestCycloneDxImageEncoder.golden.cdx.json");
    assert_eq!(sbom.spec_version, "1.7");
    assert_eq!(sbom.tool.as_deref(), Some("syft v0.42.0-bogus"));
    let p = node(&sbom, "package-1");
    assert_eq!(
        (p.purl.as_deref(), p.licenses.as_deref()),
        (Some("a-purl-1"), Some("MIT"))
    );
}

#[test]
fn trivy_cyclonedx_centos() {
    let sbom = parse_fixture("trivy__fixtures_sbom_centos-7-cyclonedx.json");
    assert_eq!(sbom.spec_version, "1.5");
    assert_eq!(sbom.tool.as_deref(), Some("trivy dev"));
    assert_eq!(sbom.nodes.len(), 4);
    // `license.name` values that are plain tokens stay as they are.
    assert_eq!(node(&sbom, "bash").licenses.as_deref(), Some("GPLv3+"));
    assert_eq!(
        node(&sbom, "openssl-libs").licenses.as_deref(),
        Some("OpenSSL+")
    );
    assert_eq!(node(&sbom, "centos").kind, "operating-system");
    // root -> centos -> {bash, openssl-libs}
    assert_eq!(sbom.dependency_count(), 3);
    let centos = sbom.nodes.iter().position(|n| n.name == "centos").unwrap() as u32;
    assert!(sbom.edges.contains(&Edge {
        from: 0,
        to: centos,
        kind: EdgeKind::DependsOn
    }));
}

#[test]
fn trivy_cyclonedx_in_dsse_envelope() {
    let name = "trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl";
    let raw = fixture(name);
    assert!(raw.ends_with(b"\n"));
    let input = Input::new(raw).unwrap();
    assert!(input
        .bytes()
        .starts_with(b"{\"_type\":\"https://in-toto.io/Statement/v0.1\""));
    let sbom = input.parse().unwrap();
    assert_eq!(sbom.spec_version, "1.4");
    assert_eq!(
        sbom.envelope,
        Some(EnvelopeInfo {
            predicate_type: "https://cyclonedx.org/bom".to_owned(),
            subjects: vec![(
                "index.docker.io/library/centos".to_owned(),
                Some("be65f488b7764ad3638f236b7b515b3678369a5124c47b8d32916d6487418ea4".to_owned())
            )],
        })
    );
    assert_eq!(node(&sbom, "bash").licenses.as_deref(), Some("GPLv3+"));
    assert_eq!(sbom.nodes.len(), 4);
    assert_eq!(sbom.dependency_count(), 3);
}

#[test]
fn trivy_kbom_and_npm() {
    let kbom = parse_fixture("trivy__fixtures_sbom_minikube-kbom.cdx.json");
    assert_eq!(kbom.nodes.len(), 19);
    assert_eq!(kbom.nodes[0].kind, "platform");
    assert_eq!(
        kbom.nodes[0].purl.as_deref(),
        Some("pkg:k8s/k8s.io%2Fkubernetes@1.27.0")
    );
    assert_eq!(kbom.dependency_count(), 18);
    assert_eq!(kbom.tool.as_deref(), Some("trivy 0.45.1-15-g7bbd0d097"));

    let npm = parse_fixture("trivy__npm-cyclonedx.json.golden");
    assert_eq!(npm.spec_version, "1.7");
    assert_eq!(npm.tool.as_deref(), Some("trivy dev"));
    assert_eq!(npm.nodes.len(), 14);
    let jquery = node(&npm, "jquery");
    assert_eq!(
        (jquery.purl.as_deref(), jquery.licenses.as_deref()),
        (Some("pkg:npm/jquery@3.3.9"), Some("MIT"))
    );
    assert_eq!(npm.dependency_count(), 18);
}

#[test]
fn jx_syft_spdx() {
    let sbom = parse_fixture("bom-shelter__jx-darwin-arm64.syft-0.60.1.spdx.json");
    assert_eq!(
        (sbom.format, sbom.spec_version.as_str()),
        (SbomFormat::Spdx, "2.2")
    );
    assert_eq!(sbom.tool.as_deref(), Some("syft-0.60.1"));
    assert_eq!(sbom.authors, vec!["Anchore, Inc".to_owned()]);
    assert_eq!(
        sbom.created.as_deref(),
        Some("2022-11-22T06:18:08.11740122Z")
    );
    assert_eq!(sbom.nodes.len(), 84);
    assert_eq!(sbom.root, None);
    let compute = node(&sbom, "cloud.google.com/go/compute");
    assert_eq!(compute.bom_ref.as_deref(), Some("SPDXRef-79b68008455b29a7"));
    assert_eq!(compute.version.as_deref(), Some("v1.10.0"));
    assert_eq!(
        compute.purl.as_deref(),
        Some("pkg:golang/cloud.google.com/go/compute@v1.10.0")
    );
    assert_eq!(compute.licenses, None, "NONE means no licence information");
    assert_eq!(
        compute.hashes,
        vec![(
            "sha256".to_owned(),
            "6a82c861a0357d7df2c2286aa4193600f40a3a8db49d7b29d4611941bc79264e".to_owned()
        )]
    );
    // All 84 CONTAINS relationships start at an element syft never defined:
    // no edges, one warning naming it.
    assert!(sbom.edges.is_empty());
    assert_eq!(sbom.warnings.len(), 1, "{:?}", sbom.warnings);
    assert!(
        sbom.warnings[0].contains("SPDXRef-6f70465f231d20af") && sbom.warnings[0].contains("84")
    );
}

#[test]
fn bitnami_trivy_spdx() {
    let sbom = parse_fixture("bom-shelter__spdx-trivy-bitnami_etcd-522db465.spdx.json");
    assert_eq!(sbom.tool.as_deref(), Some("trivy"));
    assert_eq!(sbom.authors, vec!["aquasecurity".to_owned()]);
    assert_eq!(sbom.nodes.len(), 192);
    // Old Trivy wrote "DESCRIBE" for "DESCRIBES".
    let root = &sbom.nodes[sbom.root.expect("root")];
    assert_eq!(
        root.bom_ref.as_deref(),
        Some("SPDXRef-ContainerImage-63950c1d92356200")
    );
    let dpkg = node(&sbom, "dpkg");
    assert_eq!(
        dpkg.purl.as_deref(),
        Some("pkg:deb/debian/dpkg@1.20.12?distro=debian-11.6")
    );
    assert_eq!(
        dpkg.licenses.as_deref(),
        Some("GPL-2.0, BSD-2-Clause, public-domain-s-s-d, public-domain-md5")
    );
    assert_eq!(sbom.edges.len(), 279);
    assert!(sbom.edges.iter().all(|e| e.kind == EdgeKind::Contains));
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
}

#[test]
fn kubectl_syft_spdx() {
    let sbom = parse_fixture("guac__oci-kubectl-linux-amd64-spdx.json");
    assert_eq!(sbom.tool.as_deref(), Some("syft-0.58.0"));
    assert_eq!(sbom.nodes.len(), 88);
    assert_eq!(sbom.root, None);
    let netbase = node(&sbom, "netbase");
    assert_eq!(netbase.licenses.as_deref(), Some("GPL-2.0-only"));
    assert_eq!(
        netbase.purl.as_deref(),
        Some("pkg:deb/debian/netbase@6.3?arch=all&distro=debian-11")
    );
}

#[test]
fn syft_spdx_2_3() {
    let sbom = parse_fixture("syft__TestSPDXJSONImageEncoder.golden.spdx.json");
    assert_eq!(sbom.spec_version, "2.3");
    assert_eq!(sbom.tool.as_deref(), Some("syft-v0.42.0-bogus"));
    assert_eq!(sbom.nodes.len(), 3);
    let root = &sbom.nodes[sbom.root.expect("root")];
    assert_eq!(
        (root.name.as_ref(), root.kind.as_ref()),
        ("user-image-input", "container")
    );
    assert_eq!(sbom.component_count(), 2);
    let p = node(&sbom, "package-1");
    // licenseConcluded is NOASSERTION: licenseDeclared is used.
    assert_eq!(p.licenses.as_deref(), Some("MIT"));
    assert_eq!(p.supplier, None);
    assert_eq!(p.purl.as_deref(), Some("a-purl-1"));
}

#[test]
fn trivy_spdx_centos() {
    let sbom = parse_fixture("trivy__fixtures_sbom_centos-7-spdx.json");
    assert_eq!(sbom.tool.as_deref(), Some("trivy-dev"));
    assert_eq!(sbom.nodes.len(), 4);
    let bash = node(&sbom, "bash");
    assert_eq!(bash.licenses.as_deref(), Some("GPLv3+"));
    assert_eq!(bash.version.as_deref(), Some("4.2.46"));
    assert_eq!(
        bash.purl.as_deref(),
        Some("pkg:rpm/centos/bash@4.2.46-31.el7?arch=x86_64&distro=centos-7.6.1810")
    );
    assert_eq!(
        sbom.nodes[sbom.root.unwrap()].bom_ref.as_deref(),
        Some("SPDXRef-ContainerImage-dd5cad897c6263")
    );
    assert_eq!(sbom.edges.len(), 3);
}

// ------------------------------------------------------ hand-made documents

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

// -------------------------------------------------------------------- errors

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

// ------------------------------------------------------------ CycloneDX XML

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
                "../../../../tests/fixtures/sbom/trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib.xml"
            )[..],
            &include_bytes!(
                "../../../../tests/fixtures/sbom/trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib.json"
            )[..],
        ),
        (
            include_bytes!(
                "../../../../tests/fixtures/sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdxlib.xml"
            ),
            include_bytes!(
                "../../../../tests/fixtures/sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdxlib.json"
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
