//! Every real SBOM fixture goes through the real upload, and what Cairn
//! stored is checked against the document itself (read here independently,
//! with serde_json::Value, not with Cairn's parser).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde_json::Value;

use crate::support::{fixture, gzip, spawn_app, urlencode, ADMIN_TOKEN};

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
struct Expected {
    format: &'static str,
    spec_version: String,
    component_count: usize,
    /// Purls of every node, the described subject included.
    purls: BTreeSet<String>,
    /// (from ref, to ref) depends-on pairs between known nodes.
    depends: BTreeSet<(String, String)>,
    /// (parent ref, child ref) containment pairs.
    contains: BTreeSet<(String, String)>,
    /// bom-ref → licence expression, where the document states a single one.
    licences: BTreeMap<String, String>,
    /// bom-ref → sha256 hex.
    sha256: BTreeMap<String, String>,
}

fn unwrap_intoto(raw: &[u8]) -> Value {
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

fn expected(raw: &[u8]) -> Expected {
    let doc = unwrap_intoto(raw);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_is_stored_as_the_document_says() {
    let app = spawn_app().await;
    for (i, name) in SBOM_FIXTURES.iter().enumerate() {
        let raw = fixture(&format!("sbom/{name}"));
        let want = expected(&raw);
        let res = app
            .upload(
                &format!("project=fixtures/p{i}&artifact=a{i}&version=1.0.{i}"),
                raw.clone(),
            )
            .await;
        assert_eq!(res.status(), 201, "{name}: {}", res.text().await.unwrap());
        let got: Value = res.json().await.unwrap();
        assert_eq!(got["format"], want.format, "{name}");
        assert_eq!(got["spec_version"], want.spec_version.as_str(), "{name}");
        assert_eq!(got["component_count"], want.component_count, "{name}");
        assert_eq!(got["dependency_count"], want.depends.len(), "{name}");
        let id = got["id"].as_i64().unwrap();

        let stored = app.all_components(id).await;
        assert_eq!(
            stored.len(),
            want.component_count + stored.iter().filter(|c| c["is_root"] == true).count(),
            "{name}: stored components"
        );
        let purls: BTreeSet<String> = stored
            .iter()
            .filter_map(|c| c["purl"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(purls, want.purls, "{name}: purls");

        let by_ordinal: BTreeMap<i64, &Value> = stored
            .iter()
            .map(|c| (c["ordinal"].as_i64().unwrap(), c))
            .collect();
        let mut depends = BTreeSet::new();
        for c in &stored {
            let from = c["bom_ref"].as_str().unwrap_or_default();
            for to in c["depends_on"].as_array().unwrap() {
                let to = by_ordinal[&to.as_i64().unwrap()]["bom_ref"]
                    .as_str()
                    .unwrap();
                depends.insert((from.to_owned(), to.to_owned()));
            }
        }
        assert_eq!(depends, want.depends, "{name}: dependency edges");
        let mut contains = BTreeSet::new();
        for c in &stored {
            let from = c["bom_ref"].as_str().unwrap_or_default();
            for to in c["contains"].as_array().unwrap() {
                let to = by_ordinal[&to.as_i64().unwrap()]["bom_ref"]
                    .as_str()
                    .unwrap();
                contains.insert((from.to_owned(), to.to_owned()));
            }
        }
        assert_eq!(contains, want.contains, "{name}: containment edges");

        let by_ref: BTreeMap<&str, &Value> = stored
            .iter()
            .filter_map(|c| Some((c["bom_ref"].as_str()?, c)))
            .collect();
        for (r, licence) in &want.licences {
            assert_eq!(
                by_ref[r.as_str()]["licenses"],
                licence.as_str(),
                "{name}: licence of {r}"
            );
        }
        for (r, hex) in &want.sha256 {
            let hashes = by_ref[r.as_str()]["hashes"].as_array().unwrap();
            assert!(
                hashes
                    .iter()
                    .any(|h| h[0] == "sha256" && h[1] == hex.as_str()),
                "{name}: sha256 of {r}"
            );
        }

        // The original comes back byte for byte.
        let doc = app
            .get(&format!("/api/v1/sboms/{id}/document"), ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(doc.status(), 200);
        assert_eq!(
            doc.bytes().await.unwrap().as_ref(),
            raw.as_slice(),
            "{name}: document"
        );

        // And every purl is found by portfolio search.
        if let Some(purl) = want.purls.iter().find(|p| p.starts_with("pkg:")) {
            let hits = app
                .get_json(&format!("/api/v1/components?purl={}", urlencode(purl)))
                .await;
            let found = hits["items"].as_array().unwrap().iter().any(|h| {
                h["purl"] == purl.as_str()
                    && h["artifacts"].as_array().unwrap().iter().any(|o| {
                        o["project"] == format!("fixtures/p{i}").as_str() && o["sbom_id"] == id
                    })
            });
            assert!(found, "{name}: search for {purl} → {hits}");
        }
    }
    // Components shared between documents are stored once.
    let (links, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT component_id) FROM sbom_components")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let components: i64 = sqlx::query_scalar("SELECT count(*) FROM components")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(components, distinct);
    assert!(
        distinct < links,
        "the centos-7 documents share components: {distinct} < {links}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_idempotent_by_content() {
    let app = spawn_app().await;
    let raw = fixture("sbom/guac__alpine-cyclonedx.json");
    let q = "project=acme/web&artifact=web&version=2.0.0";
    let first = app.upload(q, raw.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let before = app.counts().await;

    let again = app.upload(q, raw.clone()).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    // The same document gzip-compressed is the same content.
    let gz = app
        .client
        .post(app.url(&format!("/api/v1/sboms?{q}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-encoding", "gzip")
        .body(gzip(&raw))
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status(), 200);
    assert_eq!(gz.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(app.counts().await, before, "nothing new stored");

    // The same document for another artifact is a new SBOM that reuses every component.
    let other = app
        .upload("project=acme/web&artifact=web&version=2.0.1", raw)
        .await;
    assert_eq!(other.status(), 201);
    let after = app.counts().await;
    let get = |c: &[(String, i64)], t: &str| c.iter().find(|(n, _)| n == t).unwrap().1;
    assert_eq!(get(&after, "components"), get(&before, "components"));
    assert_eq!(get(&after, "sboms"), get(&before, "sboms") + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_upload_is_stored_and_returned_identically() {
    let app = spawn_app().await;
    let raw = fixture("sbom/trivy__npm-cyclonedx.json.golden");
    let res = app
        .client
        .post(app.url("/api/v1/sboms?project=acme/npm&artifact=app&version=1"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-encoding", "gzip")
        .body(gzip(&raw))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let plain = app
        .get(&format!("/api/v1/sboms/{id}/document"), ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        plain.headers()["content-type"],
        "application/vnd.cyclonedx+json"
    );
    assert_eq!(plain.bytes().await.unwrap().as_ref(), raw.as_slice());
    let zipped = app
        .get(&format!("/api/v1/sboms/{id}/document"), ADMIN_TOKEN)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(gunzip(&zipped.bytes().await.unwrap()), raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_of_one_document_store_it_once() {
    let app = spawn_app().await;
    let raw = fixture("sbom/bom-shelter__spdx-trivy-bitnami_etcd-522db465.spdx.json");
    let q = "project=acme/etcd&artifact=etcd&version=3.5";
    let (a, b) = tokio::join!(app.upload(q, raw.clone()), app.upload(q, raw.clone()));
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 201]);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    let sboms: i64 = sqlx::query_scalar("SELECT count(*) FROM sboms")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sboms, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intoto_subject_digest_identifies_the_artifact() {
    let app = spawn_app().await;
    let raw = fixture("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl");
    let res = app
        .upload("project=acme/centos&artifact=centos&version=7", raw)
        .await;
    assert_eq!(res.status(), 201);
    let sbom: Value = res.json().await.unwrap();
    assert_eq!(sbom["envelope_predicate"], "https://cyclonedx.org/bom");
    let artifact = app
        .get_json(&format!("/api/v1/artifacts/{}", sbom["artifact_id"]))
        .await;
    assert_eq!(
        artifact["digest"],
        "sha256:be65f488b7764ad3638f236b7b515b3678369a5124c47b8d32916d6487418ea4"
    );
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// CycloneDX XML: stored as its JSON twin is (the pairs of
/// tests/fixtures/sbom/README.md), downloaded byte for byte as XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cyclonedx_xml_is_stored_as_its_json_twin() {
    let app = spawn_app().await;
    let pick = |c: &Value| {
        let keys = [
            "ordinal",
            "name",
            "version",
            "purl",
            "bom_ref",
            "type",
            "licenses",
            "hashes",
            "supplier",
            "depends_on",
            "contains",
            "is_root",
        ];
        keys.map(|k| c[k].clone())
    };
    for (i, stem) in [
        "trivy__fixtures_sbom_centos-7-cyclonedx.cdxlib",
        "bom-shelter__kawipiko.cyclonedx-gomod.cdxlib",
    ]
    .iter()
    .enumerate()
    {
        let json = fixture(&format!("sbom/{stem}.json"));
        let xml = fixture(&format!("sbom/{stem}.xml"));
        let res = app
            .upload(&format!("project=xml/p{i}&artifact=json&version=1"), json)
            .await;
        assert_eq!(res.status(), 201);
        let j: Value = res.json().await.unwrap();
        // The XML one gzip-compressed, as uploaders may send it.
        let res = app
            .client
            .post(app.url(&format!(
                "/api/v1/sboms?project=xml/p{i}&artifact=xml&version=1"
            )))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/vnd.cyclonedx+xml")
            .header("content-encoding", "gzip")
            .body(gzip(&xml))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{stem}: {}", res.text().await.unwrap());
        let x: Value = res.json().await.unwrap();
        assert_eq!(
            (&j["syntax"], &x["syntax"]),
            (&"json".into(), &"xml".into())
        );
        for key in [
            "format",
            "spec_version",
            "tool",
            "serial",
            "document_created",
            "authors",
            "component_count",
            "dependency_count",
            "edge_count",
            "warnings",
        ] {
            assert_eq!(x[key], j[key], "{stem}: {key}");
        }
        let (jid, xid) = (j["id"].as_i64().unwrap(), x["id"].as_i64().unwrap());
        let (jc, xc) = (app.all_components(jid).await, app.all_components(xid).await);
        assert!(!xc.is_empty());
        assert_eq!(
            xc.iter().map(pick).collect::<Vec<_>>(),
            jc.iter().map(pick).collect::<Vec<_>>(),
            "{stem}: components"
        );
        // Quality from the stored XML document equals the JSON one's.
        let jq = app.get_json(&format!("/api/v1/sboms/{jid}/quality")).await;
        let xq = app.get_json(&format!("/api/v1/sboms/{xid}/quality")).await;
        assert_eq!(xq["profiles"], jq["profiles"], "{stem}: quality");

        let doc = app
            .get(&format!("/api/v1/sboms/{xid}/document"), ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(doc.status(), 200);
        assert_eq!(
            doc.headers()["content-type"],
            "application/vnd.cyclonedx+xml"
        );
        assert!(doc.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".xml\""));
        assert_eq!(doc.bytes().await.unwrap().as_ref(), xml.as_slice());
    }
}
