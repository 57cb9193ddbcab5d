//! Every real SBOM fixture goes through the real upload, and what Cairn
//! stored is checked against the document itself, as the shared oracle
//! (`tests/sbom_oracle.rs`, also the parser's) reads it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::sbom_oracle::{expected, SBOM_FIXTURES};
use crate::support::{fixture, gzip, spawn_app, urlencode, ADMIN_TOKEN};

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
