//! VEX reading and writing over the real documents in tests/fixtures/vex/.
use super::*;
use std::path::PathBuf;

fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/")).join(rel)
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read(name: &str) -> VexDocument {
    parse(&fixture(&format!("vex/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

/// One line a statement: `id status (justification) [products] [subcomponents] pointer`.
fn lines(d: &VexDocument) -> Vec<String> {
    let line = |s: &VexStatement| {
        let ids: Vec<&str> = (s.products.iter())
            .map(|(ProductRef::Digest(x) | ProductRef::Purl(x))| x.as_str())
            .collect();
        let j = s.justification.as_ref().map(|j| format!(" ({j})"));
        let (st, subs) = (s.status.as_str(), s.subcomponents.join(" "));
        let (id, ptr) = (&s.vulnerability, &s.pointer);
        format!(
            "{id} {st}{} [{}] [{subs}] {ptr}",
            j.unwrap_or_default(),
            ids.join(" ")
        )
    };
    d.statements.iter().map(line).collect()
}

#[test]
fn every_fixture_parses_and_boms_are_refused() {
    let mut n = 0;
    for e in std::fs::read_dir(fixture_path("vex")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") || name.contains("json_schema") {
            continue;
        }
        let r = parse(&fixture(&format!("vex/{name}")));
        if name.contains("_bom-") || name.ends_with("sbom.spdx.json") {
            let err = r.expect_err(&name);
            assert!(err.contains("not a VEX document"), "{name}: {err}");
        } else {
            assert!(!r
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .statements
                .is_empty());
            n += 1;
        }
    }
    assert_eq!(n, 30);
}

#[test]
fn fixture_statements() {
    let oci = "f271e74b17ced29b915d351685fd4644785c6d1559dd1f2d4189a5e851ef753a";
    let images = format!(
        "CVE-1234-5678 under_investigation [sha256:{oci} pkg:oci/alpine@sha256%3A{oci}] [] /statements/0
CVE-1234-5678 under_investigation [] [] /statements/1"
    );
    let cases: [(&str, usize, &str); 10] = [
        ("cyclonedx-bom-examples__CISA-Use-Cases_Case-1_vex-not_affected.json", 1,
"CVE-2021-44228 not_affected (vulnerable_code_not_present) [] [] /vulnerabilities/0/affects/0"),
        // Other BOMs' components by BOM-Link: one statement per affects entry, unmatched.
        ("cyclonedx-bom-examples__CISA-Use-Cases_Case-8_vex.json", 11,
"CVE-2021-44228 affected [] [] /vulnerabilities/0/affects/0
CVE-2021-44228 affected [] [] /vulnerabilities/0/affects/1
CVE-2021-44228 not_affected (vulnerable_code_not_present) [] [] /vulnerabilities/1/affects/0"),
        ("cyclonedx-bom-examples__CISA-Use-Cases_Case-2_vex.json", 19,
"CVE-2020-11896 not_affected (vulnerable_code_not_in_execute_path) [] [] /vulnerabilities/0/affects/0"),
        ("cyclonedx-bom-examples__CISA-Use-Cases_Case-3_vex.json", 19,
"CVE-2020-11896 under_investigation [] [] /vulnerabilities/0/affects/0
CVE-2020-11897 not_affected (vulnerable_code_not_present) [] [] /vulnerabilities/1/affects/0
CVE-2020-11898 affected [] [] /vulnerabilities/2/affects/0"),
        ("csaf__2022-evd-uc-01-na-001.json", 1,
"CVE-2021-44228 not_affected [] [] /vulnerabilities/0/product_status/known_not_affected/0"),
        ("csaf__sec-vex-2022-0001.json", 3,
"CVE-2021-44228 not_affected (component_not_present) [] [] /vulnerabilities/0/product_status/known_not_affected/0
CVE-2021-45046 not_affected (component_not_present) [] [] /vulnerabilities/1/product_status/known_not_affected/0"),
        ("csaf__2022-evd-uc-07-001.json", 10,
"CVE-2021-44228 not_affected [] [] /vulnerabilities/0/product_status/known_not_affected/0"),
        ("vexctl__examples_csaf_csaf.json", 1,
"CVE-2009-4487 not_affected [pkg:generic/component1@1.3.4] [] /vulnerabilities/0/product_status/known_not_affected/0"),
        ("vexctl__examples_openvex_demo.vex.json", 1,
"CVE-2014-123456 fixed [pkg:apk/distro/git@2.39.0-r1?arch=armv7 pkg:apk/distro/git@2.39.0-r1?arch=x86_64] [] /statements/0"),
        // 0.0.x: string products; an OCI purl carries a digest, `nginx` names nothing matchable.
        ("vexctl__pkg_ctl_testdata_images.vex.json", 4, &images),
    ];
    for (name, count, want) in cases {
        let got = lines(&read(name));
        assert_eq!(got.len(), count, "{name}");
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(got[..want.len()], want, "{name}");
    }
}

#[test]
fn fixture_details() {
    let d = read("cyclonedx-bom-examples__CISA-Use-Cases_Case-1_vex-not_affected.json");
    let s = &d.statements[0];
    assert_eq!(
        s.original_justification.as_deref(),
        Some("code_not_present")
    );
    assert!(s
        .detail
        .as_deref()
        .unwrap()
        .ends_with("was removed before shipping."));
    assert_eq!(
        (s.action.as_deref(), s.timestamp),
        (Some("will_not_fix"), at("2022-03-03T00:00:00Z"))
    );
    let d = read("csaf__2022-evd-uc-01-na-001.json");
    assert_eq!(
        (d.format, d.id.as_deref()),
        (VexFormat::Csaf, Some("2022-EVD-UC-01-NA-001"))
    );
    assert_eq!(d.author.as_deref(), Some("Example Company ProductCERT"));
    let s = &d.statements[0];
    assert_eq!(
        s.detail.as_deref(),
        Some("Class with vulnerable code was removed before shipping.")
    );
    assert_eq!(s.timestamp, at("2022-03-03T11:00:00Z"));
    let d = read("csaf__sec-vex-2022-0001.json");
    assert_eq!(
        d.statements[1].timestamp,
        at("2022-05-27T10:00:00Z"),
        "the flag's date"
    );
    let d = read("csaf__2022-evd-uc-07-001.json");
    let s = d
        .statements
        .iter()
        .find(|s| s.pointer.ends_with("known_affected/3"))
        .unwrap();
    assert_eq!(
        s.action.as_deref(),
        Some("Update to the new version 5.1 or later.")
    );
    let d = read("vexctl__examples_openvex_demo.vex.json");
    assert_eq!(
        (d.format, d.author.as_deref()),
        (VexFormat::OpenVex, Some("Wolfi J Inkinson"))
    );
    assert_eq!(
        d.statements[0].timestamp,
        at("2023-12-04T21:55:19.945015302-06:00")
    );
}

#[test]
fn subcomponents_and_products() {
    let hex = "a".repeat(64);
    let bom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:1",
        "metadata": { "component": { "bom-ref": "app", "name": "app",
            "purl": format!("pkg:oci/app@sha256%3A{hex}"), "hashes": [{ "alg": "SHA-256", "content": hex }] } },
        "components": [{ "bom-ref": "outer", "name": "o",
            "components": [{ "bom-ref": "lib", "name": "lib", "purl": "pkg:cargo/lib@1.0.0" }] }],
        "vulnerabilities": [{ "id": "GHSA-x", "references": [{ "id": "CVE-2024-1", "source": {} }],
            "analysis": { "state": "not_affected", "justification": "requires_environment" },
            "affects": [{ "ref": "urn:cdx:1/1#lib" }, { "ref": "app" }, { "ref": "outer" }] }],
    });
    let d = parse(bom.to_string().as_bytes()).unwrap();
    let (p, j) = (
        format!("sha256:{hex} pkg:oci/app@sha256%3A{hex}"),
        "vulnerable_code_cannot_be_controlled_by_adversary",
    );
    assert_eq!(lines(&d), [
        format!("GHSA-x not_affected ({j}) [{p}] [pkg:cargo/lib@1.0.0] /vulnerabilities/0/affects/0"),
        format!("GHSA-x not_affected ({j}) [{p}] [] /vulnerabilities/0/affects/1"),
        // A component without purl is not widened to the whole product.
        format!("GHSA-x not_affected ({j}) [] [] /vulnerabilities/0/affects/2"),
    ]);
    assert_eq!(d.statements[0].aliases, ["CVE-2024-1"]);
    let vex = json!({ "@context": "https://openvex.dev/ns/v0.2.0", "statements": [{
        "vulnerability": { "name": "CVE-1" }, "status": "affected", "products": [
            { "@id": "pkg:npm/a@1", "subcomponents": [{ "@id": "pkg:npm/b@2" }] },
            { "@id": "pkg:npm/c@1", "subcomponents": [{ "@id": "just a name" }] },
            { "@id": "pkg:npm/d@1" }] }] });
    assert_eq!(
        lines(&parse(vex.to_string().as_bytes()).unwrap()),
        [
            "CVE-1 affected [pkg:npm/a@1] [pkg:npm/b@2] /statements/0/products/0",
            "CVE-1 affected [] [] /statements/0/products/1",
            "CVE-1 affected [pkg:npm/d@1] [] /statements/0/products/2",
        ]
    );
}

fn sample() -> ExportDocument {
    let t = at("2024-05-06T07:08:09Z").unwrap();
    let st =
        |v: &str, a: &[&str], p: &str, status, j: Option<&str>, d: Option<&str>| ExportStatement {
            vulnerability: v.into(),
            aliases: a.iter().map(|s| s.to_string()).collect(),
            purl: p.into(),
            status,
            justification: j.map(str::to_string),
            detail: d.map(str::to_string),
            timestamp: t,
        };
    let (left_pad, na) = ("pkg:cargo/left-pad@0.1.0", VexStatus::NotAffected);
    ExportDocument {
        id: "https://cairn.example.com/vex/artifacts/7".into(),
        author: "Example Org".into(),
        product_name: "shop".into(),
        product_version: "1.2.3".into(),
        product_digest: Some(format!("sha256:{}", "b".repeat(64))),
        product_purl: Some(format!("pkg:oci/shop@sha256%3A{}", "b".repeat(64))),
        timestamp: t,
        statements: vec![
            st(
                "CVE-2023-0001",
                &["GHSA-aaaa-bbbb-cccc"],
                left_pad,
                na,
                Some("vulnerable_code_not_present"),
                Some("Not built."),
            ),
            st(
                "GHSA-xxxx-yyyy-zzzz",
                &[],
                "pkg:cargo/serde@1.0.0",
                na,
                None,
                None,
            ),
            st(
                "CVE-2023-0002",
                &[],
                "pkg:golang/golang.org/x/net@v0.1.0",
                VexStatus::Affected,
                None,
                None,
            ),
            st("CVE-2023-0003", &[], left_pad, VexStatus::Fixed, None, None),
            st(
                "CVE-2023-0004",
                &[],
                left_pad,
                VexStatus::UnderInvestigation,
                None,
                Some("Looking."),
            ),
        ],
    }
}

#[test]
fn exports_round_trip() {
    let doc = sample();
    let (digest, purl) = (
        doc.product_digest.clone().unwrap(),
        doc.product_purl.clone().unwrap(),
    );
    let dir = std::env::var_os("VEX_EXPORT_DIR");
    let exports = [
        (VexFormat::OpenVex, to_openvex(&doc)),
        (VexFormat::CycloneDx, to_cyclonedx(&doc)),
        (VexFormat::Csaf, to_csaf(&doc)),
    ];
    for (format, v) in exports {
        if let Some(dir) = &dir {
            let name = serde_json::to_value(format).unwrap();
            let path = PathBuf::from(dir).join(format!("{}.json", name.as_str().unwrap()));
            std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        }
        let back = parse(v.to_string().as_bytes()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(
            (back.format, back.statements.len()),
            (format, doc.statements.len())
        );
        assert_eq!(back.author.as_deref(), Some("Example Org"));
        for (want, got) in doc.statements.iter().zip(&back.statements) {
            let names = |v: &String, a: &[String]| {
                let mut n: Vec<String> = a.iter().chain([v]).cloned().collect();
                n.sort();
                n
            };
            let ctx = format!("{format:?} {}", got.pointer);
            assert_eq!(
                names(&want.vulnerability, &want.aliases),
                names(&got.vulnerability, &got.aliases),
                "{ctx}"
            );
            assert_eq!(
                (want.status, &want.justification),
                (got.status, &got.justification),
                "{ctx}"
            );
            assert_eq!(got.subcomponents, [want.purl.as_str()], "{ctx}");
            assert_eq!(
                got.products,
                [
                    ProductRef::Digest(digest.clone()),
                    ProductRef::Purl(purl.clone())
                ]
            );
        }
    }
    // Without digest or purl the product is named by a generic purl.
    let mut bare = sample();
    (bare.product_digest, bare.product_purl) = (None, None);
    let back = parse(to_csaf(&bare).to_string().as_bytes()).unwrap();
    assert_eq!(
        back.statements[0].products,
        [ProductRef::Purl("pkg:generic/shop@1.2.3".into())]
    );
    assert_eq!(
        to_cyclonedx(&bare)["serialNumber"],
        to_cyclonedx(&sample())["serialNumber"]
    );
}

#[test]
fn hostile_input_is_refused() {
    let cases: [(&[u8], &str); 9] = [
        (br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vuln"#, "not valid JSON"),
        (b"[1,2]", "not a VEX document"),
        (br#"{"@context":"https://openvex.dev/ns","statements":{}}"#, "/statements: expected an array"),
        (br#"{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":{"name":"X"},"status":"maybe"}]}"#,
            "/statements/0/status: unknown status"),
        (br#"{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":7,"status":"fixed"}]}"#,
            "/statements/0/vulnerability: missing"),
        (br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","analysis":{"state":1}}]}"#,
            "/vulnerabilities/0/analysis/state: expected a string"),
        (br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","analysis":{"state":"in_triage","lastUpdated":"May"}}]}"#,
            "/vulnerabilities/0/analysis/lastUpdated: not an RFC 3339"),
        (br#"{"document":{"csaf_version":"2.0"},"vulnerabilities":[{"product_status":{"fixed":["A"]}}]}"#,
            "/vulnerabilities/0: neither `cve` nor `ids`"),
        (br#"{"document":{"csaf_version":"2.0"},"product_tree":{"branches":[{"product":{}}]}}"#,
            "/product_tree/branches/0/product/product_id: missing"),
    ];
    for (input, want) in cases {
        let err = parse(input).expect_err(want);
        assert!(err.contains(want), "{err} ∌ {want}");
    }
    let st = json!({ "vulnerability": { "name": "CVE-1" }, "status": "fixed" });
    let many =
        json!({ "@context": "https://openvex.dev/ns", "statements": vec![st; MAX_STATEMENTS + 1] });
    assert!(parse(many.to_string().as_bytes())
        .unwrap_err()
        .contains("more than 100000"));
    let (mut component, mut branch) = (json!({ "bom-ref": "x" }), json!({}));
    for _ in 0..40 {
        component = json!({ "components": [component] });
        branch = json!({ "branches": [branch] });
    }
    let bom = json!({ "bomFormat": "CycloneDX", "components": [component] });
    assert!(parse(bom.to_string().as_bytes())
        .unwrap_err()
        .contains("/components/0/components/0"));
    let csaf =
        json!({ "document": { "csaf_version": "2.0" }, "product_tree": { "branches": [branch] } });
    assert!(parse(csaf.to_string().as_bytes())
        .unwrap_err()
        .contains("nested deeper than 32"));
    // Truncations of a real document never panic.
    let full = fixture("vex/csaf__2022-evd-uc-07-001.json");
    for n in (0..full.len()).step_by(97) {
        assert!(parse(&full[..n]).is_err());
    }
}
