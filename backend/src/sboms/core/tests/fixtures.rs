//! Concrete values checked by hand, per fixture.

use super::*;

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
