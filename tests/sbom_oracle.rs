//! The SBOM oracle shared by the parser's unit tests
//! (`backend/src/sboms/core/tests/`) and the upload's integration tests
//! (`tests/api/sbom_upload.rs`): what every real fixture says, read straight
//! from its JSON with `serde_json::Value`, independently of Cairn's parser.
//! Included by path in both test crates.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde_json::Value;

/// The real SBOMs under `tests/fixtures/sbom/` that must parse.
pub const SBOM_FIXTURES: &[&str] = &[
    "bom-shelter__jx-darwin-arm64.syft-0.60.1.spdx.json",
    "bom-shelter__kawipiko.cyclonedx-gomod.cdx.json",
    "bom-shelter__spdx-trivy-bitnami_etcd-522db465.spdx.json",
    "guac__alpine-cyclonedx.json",
    "guac__distroless-cyclonedx.json",
    "guac__oci-kubectl-linux-amd64-spdx.json",
    "syft__TestCycloneDxImageEncoder.golden.cdx.json",
    "syft__TestSPDXJSONImageEncoder.golden.spdx.json",
    "trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl",
    "trivy__fixtures_sbom_centos-7-cyclonedx.json",
    "trivy__fixtures_sbom_centos-7-spdx.json",
    "trivy__fixtures_sbom_minikube-kbom.cdx.json",
    "trivy__npm-cyclonedx.json.golden",
];

/// What the document says, computed straight from its JSON.
#[derive(Debug, Default)]
pub struct Expected {
    pub format: &'static str,
    pub spec_version: String,
    pub component_count: usize,
    /// Purls of every node, the described subject included.
    pub purls: BTreeSet<String>,
    /// (from ref, to ref) depends-on pairs between known nodes.
    pub depends: BTreeSet<(String, String)>,
    /// (parent ref, child ref) containment pairs.
    pub contains: BTreeSet<(String, String)>,
    /// bom-ref → licence expression, where the document states a single one.
    pub licences: BTreeMap<String, String>,
    /// bom-ref → sha256 hex.
    pub sha256: BTreeMap<String, String>,
}

pub fn document(raw: &[u8]) -> Value {
    let doc: Value = serde_json::from_slice(raw).unwrap();
    match doc.get("payload").and_then(Value::as_str) {
        Some(payload) => {
            let stmt = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .unwrap();
            let stmt: Value = serde_json::from_slice(&stmt).unwrap();
            stmt["predicate"].clone()
        }
        None => doc,
    }
}

pub fn expected(raw: &[u8]) -> Expected {
    let doc = document(raw);
    if doc.get("bomFormat").is_some() {
        expected_cyclonedx(&doc)
    } else {
        expected_spdx(&doc)
    }
}

fn expected_cyclonedx(doc: &Value) -> Expected {
    let mut e = Expected {
        format: "cyclonedx",
        spec_version: doc["specVersion"].as_str().unwrap().to_owned(),
        ..Default::default()
    };
    let mut refs = BTreeSet::new();
    let mut all = Vec::new();
    fn walk<'a>(list: Option<&'a Value>, out: &mut Vec<&'a Value>) {
        for c in list.and_then(Value::as_array).into_iter().flatten() {
            out.push(c);
            walk(c.get("components"), out);
        }
    }
    walk(doc.get("components"), &mut all);
    e.component_count = all.len();
    if let Some(root) = doc.pointer("/metadata/component") {
        all.push(root);
        walk(root.get("components"), &mut all);
    }
    for c in &all {
        if let Some(p) = c["purl"].as_str() {
            e.purls.insert(p.to_owned());
        }
        for child in c["components"].as_array().into_iter().flatten() {
            if let (Some(a), Some(b)) = (c["bom-ref"].as_str(), child["bom-ref"].as_str()) {
                if a != b {
                    e.contains.insert((a.to_owned(), b.to_owned()));
                }
            }
        }
        let Some(r) = c["bom-ref"].as_str() else {
            continue;
        };
        refs.insert(r.to_owned());
        if let Some([lic]) = c["licenses"].as_array().map(Vec::as_slice) {
            let l = lic["expression"]
                .as_str()
                .or(lic.pointer("/license/id").and_then(Value::as_str));
            if let Some(l) = l {
                e.licences.insert(r.to_owned(), l.to_owned());
            }
        }
        for h in c["hashes"].as_array().into_iter().flatten() {
            if h["alg"] == "SHA-256" {
                e.sha256
                    .insert(r.to_owned(), h["content"].as_str().unwrap().to_lowercase());
            }
        }
    }
    for d in doc["dependencies"].as_array().into_iter().flatten() {
        let from = d["ref"].as_str().unwrap();
        for to in d["dependsOn"].as_array().into_iter().flatten() {
            let to = to.as_str().unwrap();
            if from != to && refs.contains(from) && refs.contains(to) {
                e.depends.insert((from.to_owned(), to.to_owned()));
            }
        }
    }
    e
}

fn expected_spdx(doc: &Value) -> Expected {
    let mut e = Expected {
        format: "spdx",
        spec_version: doc["spdxVersion"]
            .as_str()
            .unwrap()
            .trim_start_matches("SPDX-")
            .to_owned(),
        ..Default::default()
    };
    let packages = doc["packages"].as_array().unwrap();
    let ids: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let mut described: BTreeSet<&str> = doc["documentDescribes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let rels = doc["relationships"].as_array().cloned().unwrap_or_default();
    for r in &rels {
        // Older Trivy wrote "DESCRIBE"; Cairn reads it as DESCRIBES.
        let describes = r["relationshipType"] == "DESCRIBES" || r["relationshipType"] == "DESCRIBE";
        if r["spdxElementId"] == "SPDXRef-DOCUMENT" && describes {
            described.insert(r["relatedSpdxElement"].as_str().unwrap());
        }
    }
    let described_packages = described.iter().filter(|d| ids.contains(*d)).count();
    e.component_count = packages.len() - usize::from(described_packages == 1);
    for p in packages {
        let id = p["SPDXID"].as_str().unwrap().to_owned();
        for r in p["externalRefs"].as_array().into_iter().flatten() {
            if r["referenceType"] == "purl" {
                e.purls
                    .insert(r["referenceLocator"].as_str().unwrap().to_owned());
                break;
            }
        }
        let stated = |k: &str| {
            p[k].as_str()
                .filter(|l| *l != "NOASSERTION" && *l != "NONE")
        };
        if let Some(l) = stated("licenseConcluded").or(stated("licenseDeclared")) {
            e.licences.insert(id.clone(), l.to_owned());
        }
        for c in p["checksums"].as_array().into_iter().flatten() {
            if c["algorithm"] == "SHA256" {
                e.sha256.insert(
                    id.clone(),
                    c["checksumValue"].as_str().unwrap().to_lowercase(),
                );
            }
        }
    }
    for r in &rels {
        let (a, b) = (
            r["spdxElementId"].as_str().unwrap(),
            r["relatedSpdxElement"].as_str().unwrap(),
        );
        let pair = match r["relationshipType"].as_str().unwrap() {
            "DEPENDS_ON" => (a, b),
            "DEPENDENCY_OF" => (b, a),
            "CONTAINS" => {
                if a != b && ids.contains(a) && ids.contains(b) {
                    e.contains.insert((a.to_owned(), b.to_owned()));
                }
                continue;
            }
            "CONTAINED_BY" => {
                if a != b && ids.contains(a) && ids.contains(b) {
                    e.contains.insert((b.to_owned(), a.to_owned()));
                }
                continue;
            }
            _ => continue,
        };
        if pair.0 != pair.1 && ids.contains(pair.0) && ids.contains(pair.1) {
            e.depends.insert((pair.0.to_owned(), pair.1.to_owned()));
        }
    }
    e
}
