//! Each built-in rule against real documents (tests/fixtures/).

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::attestations::core::{Identity, Provenance};
use crate::policies::core::input::{
    BuildFacts, JobFacts, ProvenanceFacts, SbomFacts, SignatureFacts,
};
use crate::policies::core::{find_rule, RuleInput, RuleOutcome, Status, CATALOGUE};

pub(crate) fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn sbom_facts(rel: &str) -> SbomFacts {
    let doc = fixture(rel);
    let input = crate::sboms::core::Input::new(&doc).unwrap();
    let parsed = input.parse().unwrap();
    SbomFacts::from_parsed(7, &parsed, Utc::now() - Duration::days(3))
}

fn input_with(sbom: Option<SbomFacts>) -> RuleInput {
    RuleInput {
        sbom,
        now: Utc::now(),
        ..RuleInput::default()
    }
}

fn eval(rule: &str, input: &RuleInput, params: Value) -> RuleOutcome {
    let r = find_rule(rule).unwrap();
    r.validate(&params)
        .unwrap_or_else(|e| panic!("{rule} {params}: {e}"));
    r.evaluate(input, &params)
}

#[test]
fn catalogue_ids_are_unique_and_schemas_are_objects() {
    let mut ids: Vec<&str> = CATALOGUE.iter().map(|r| r.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CATALOGUE.len());
    for r in CATALOGUE {
        assert_eq!(r.params_schema()["type"], "object", "{}", r.id());
        assert!(!r.description().is_empty());
    }
}

#[test]
fn sbom_present_and_ntia_completeness() {
    let none = input_with(None);
    let out = eval("sbom-present", &none, Value::Null);
    assert_eq!(out.status, Status::Fail);
    assert_eq!(out.message, "the artifact has no SBOM");

    // Syft's alpine SBOM: CycloneDX 1.4, no suppliers, no dependency edges.
    let alpine = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    let out = eval("sbom-present", &alpine, Value::Null);
    assert_eq!(out.status, Status::Pass, "{out:?}");
    assert_eq!(out.evidence[0].kind, "sbom");
    let out = eval("sbom-present", &alpine, json!({"min_spec_version": "1.5"}));
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message
            .contains("cyclonedx 1.4, older than the required 1.5"),
        "{}",
        out.message
    );
    let out = eval("sbom-present", &alpine, json!({"min_completeness": 0.9}));
    assert_eq!(out.status, Status::Fail);
    assert!(out.message.contains("NTIA"), "{}", out.message);
    assert!(out.message.contains("supplier 0%"), "{}", out.message);
    assert!(out.message.contains("dependencies 0%"), "{}", out.message);
    let out = eval("sbom-present", &alpine, json!({"formats": ["spdx"]}));
    assert_eq!(out.status, Status::Fail);

    // Trivy's CycloneDX 1.7 npm SBOM has dependency edges.
    let npm = input_with(Some(sbom_facts("sbom/trivy__npm-cyclonedx.json.golden")));
    let out = eval(
        "sbom-present",
        &npm,
        json!({"min_spec_version": "1.5", "min_completeness": 0.5}),
    );
    assert_eq!(out.status, Status::Pass, "{out:?}");
    assert!(find_rule("sbom-present")
        .unwrap()
        .validate(&json!({"min_completeness": 2}))
        .is_err());
}

#[test]
fn sbom_present_min_quality() {
    // Syft's alpine SBOM scores 73.4 (ntia), 51.9 (cisa-2025), 29.8
    // (bsi-tr-03183-2): `python3 tests/tools/sbom_quality_expected.py
    // tests/fixtures/sbom/guac__alpine-cyclonedx.json`.
    let alpine = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    let out = eval(
        "sbom-present",
        &alpine,
        json!({"min_quality": {"ntia": 73.4, "bsi-tr-03183-2": 29}}),
    );
    assert_eq!(out.status, Status::Pass, "{out:?}");
    let out = eval(
        "sbom-present",
        &alpine,
        json!({"min_quality": {"ntia": 80, "cisa-2025": 50, "bsi-tr-03183-2": 50}}),
    );
    assert_eq!(out.status, Status::Fail);
    let keys: Vec<&str> = out.violations.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(keys, ["quality-ntia", "quality-bsi-tr-03183-2"]);
    assert_eq!(
        out.violations[0].message,
        "the SBOM's ntia quality score is 73.4, below the required 80 (weakest: supplier 0%, dependencies 0%, identifiers 93.8%)"
    );
    assert!(
        out.violations[1].message.contains("score is 29.8")
            && out.violations[1].message.contains("weakest: sha512 0%"),
        "{}",
        out.violations[1].message
    );

    // Not scored yet (stored before scores existed): the rule cannot judge.
    let mut unscored = sbom_facts("sbom/guac__alpine-cyclonedx.json");
    unscored.quality = None;
    let out = eval(
        "sbom-present",
        &input_with(Some(unscored.clone())),
        json!({"min_quality": {"ntia": 10}}),
    );
    assert_eq!(out.status, Status::Error, "{out:?}");
    assert!(
        out.message.contains("no quality scores yet"),
        "{}",
        out.message
    );
    // ...which matters only when a minimum is asked for.
    let out = eval("sbom-present", &input_with(Some(unscored)), Value::Null);
    assert_eq!(out.status, Status::Pass, "{out:?}");

    let rule = find_rule("sbom-present").unwrap();
    for bad in [
        json!({"min_quality": {"ntia": 101}}),
        json!({"min_quality": {"ntia": -1}}),
        json!({"min_quality": {"spdx": 50}}),
        json!({"min_quality": {"ntia": "80"}}),
    ] {
        assert!(rule.validate(&bad).is_err(), "{bad}");
    }
}

#[test]
fn licenses_evaluate_expressions() {
    let alpine = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    let out = eval("licenses", &alpine, json!({"deny": ["GPL-2.0-only"]}));
    assert_eq!(out.status, Status::Fail);
    assert!(out
        .violations
        .iter()
        .any(|v| v.key.starts_with("pkg:alpine/busybox@1.35.0-r17")));
    assert!(out.message.contains("GPL-2.0-ONLY"), "{}", out.message);
    // MPL-2.0 AND MIT (two licences listed) needs both allowed.
    let permissive = json!({"allow": ["MIT", "BSD-2-Clause", "BSD-3-Clause", "OpenSSL", "Zlib", "GPL-2.0-only", "MPL-2.0"]});
    assert_eq!(eval("licenses", &alpine, permissive).status, Status::Pass);
    let out = eval(
        "licenses",
        &alpine,
        json!({"allow": ["MIT", "BSD-2-Clause", "BSD-3-Clause", "OpenSSL", "Zlib", "GPL-2.0-only"]}),
    );
    assert_eq!(out.status, Status::Fail);
    assert!(out.message.contains("MPL-2.0"), "{}", out.message);
    // Components without licence: warn when asked.
    let npm = input_with(Some(sbom_facts("sbom/trivy__npm-cyclonedx.json.golden")));
    let out = eval(
        "licenses",
        &npm,
        json!({"deny": ["GPL-3.0-only"], "unknown": "warn"}),
    );
    assert_eq!(out.status, Status::Warn, "{out:?}");
    assert_eq!(
        eval("licenses", &input_with(None), json!({"deny": ["MIT"]})).status,
        Status::NotApplicable
    );
    assert!(find_rule("licenses").unwrap().validate(&json!({})).is_err());
}

#[test]
fn components_deny_purl_patterns() {
    let alpine = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    let out = eval(
        "components",
        &alpine,
        json!({"deny": ["pkg:alpine/busybox@<1.36"]}),
    );
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message.contains("pkg:alpine/busybox@1.35.0-r17"),
        "{}",
        out.message
    );
    assert_eq!(
        eval(
            "components",
            &alpine,
            json!({"deny": ["pkg:alpine/busybox@<1.35"]})
        )
        .status,
        Status::Pass
    );
    let out = eval(
        "components",
        &alpine,
        json!({"deny": ["pkg:alpine/libssl*", "pkg:alpine/zlib@1.2.12-*"]}),
    );
    assert_eq!(out.violations.len(), 2, "{out:?}");
    let gomod = input_with(Some(sbom_facts(
        "sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdx.json",
    )));
    let out = eval(
        "components",
        &gomod,
        json!({"deny": ["pkg:golang/github.com/andybalholm/brotli@<=v1.0.4"]}),
    );
    assert_eq!(out.status, Status::Fail, "{out:?}");
    assert!(find_rule("components")
        .unwrap()
        .validate(&json!({"deny": ["busybox"]}))
        .is_err());
}

#[test]
fn evidence_fresh() {
    let mut i = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    assert_eq!(
        eval(
            "evidence-fresh",
            &i,
            json!({"max_age_days": 7, "kinds": ["sbom"]})
        )
        .status,
        Status::Pass
    );
    let out = eval(
        "evidence-fresh",
        &i,
        json!({"max_age_days": 1, "kinds": ["sbom"]}),
    );
    assert_eq!(out.status, Status::Fail);
    assert!(out.message.contains("older than 1 days"), "{}", out.message);
    let out = eval("evidence-fresh", &i, json!({"max_age_days": 7}));
    assert_eq!(out.message, "the artifact has no signature");
    i.signatures
        .push(signature(1, github_identity("https://github.com/acme/app")));
    assert_eq!(
        eval("evidence-fresh", &i, json!({"max_age_days": 7})).status,
        Status::Pass
    );
    // Uploaded an hour ago, but logged by Rekor ten days ago: the log's
    // time is when it was signed.
    i.signatures[0].signed_at = Some(Utc::now() - Duration::days(10));
    let out = eval("evidence-fresh", &i, json!({"max_age_days": 7}));
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message
            .contains("signature (logged by Rekor) is 10.0 days old"),
        "{}",
        out.message
    );
}

/// A fresh pass says until when it holds: the oldest of the newest
/// evidence of each kind, plus the limit. Other rules do not age.
#[test]
fn evidence_fresh_holds_until_the_oldest_evidence_ages() {
    let mut i = input_with(Some(sbom_facts("sbom/guac__alpine-cyclonedx.json")));
    let fresh = find_rule("evidence-fresh").unwrap();
    let uploaded = i.sbom.as_ref().unwrap().uploaded_at;
    let sbom_only = json!({"max_age_days": 7, "kinds": ["sbom"]});
    assert_eq!(
        fresh.holds_until(&i, &sbom_only),
        Some(uploaded + Duration::days(7))
    );
    let signed = Utc::now() - Duration::days(3);
    i.signatures
        .push(signature(1, github_identity("https://github.com/acme/app")));
    i.signatures[0].signed_at = Some(signed);
    let both = json!({"max_age_days": 7});
    assert_eq!(
        eval("evidence-fresh", &i, both.clone()).status,
        Status::Pass
    );
    assert_eq!(
        fresh.holds_until(&i, &both),
        Some((signed + Duration::days(7)).min(uploaded + Duration::days(7)))
    );
    assert_eq!(
        find_rule("sbom-present")
            .unwrap()
            .holds_until(&i, &Value::Null),
        None
    );
}

fn github_identity(repo: &str) -> Identity {
    Identity {
        kind: "certificate".into(),
        san: Some(format!("{repo}/.github/workflows/release.yml@refs/tags/v1")),
        issuer: Some("https://token.actions.githubusercontent.com".into()),
        workflow_repository: Some(repo.trim_start_matches("https://github.com/").into()),
        workflow_ref: Some("refs/tags/v1".into()),
        runner_environment: Some("github-hosted".into()),
        ..Identity::default()
    }
}

pub(crate) fn signature(id: i64, identity: Identity) -> SignatureFacts {
    SignatureFacts {
        id,
        kind: "sigstore-bundle".into(),
        identity: Some(identity),
        predicate_type: None,
        trusted_by: Some("sigstore public-good".into()),
        uploaded_at: Utc::now() - Duration::hours(1),
        signed_at: None,
    }
}

#[test]
fn signed_matches_identities() {
    let mut i = input_with(None);
    let out = eval("signed", &i, Value::Null);
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message
            .contains("1 verified signature(s) required, 0 found"),
        "{}",
        out.message
    );
    i.signatures
        .push(signature(3, github_identity("https://github.com/acme/app")));
    assert_eq!(eval("signed", &i, Value::Null).status, Status::Pass);
    let exact = json!({"identities": [{"issuer": "https://token.actions.githubusercontent.com", "workflow_repository": "acme/app"}]});
    assert_eq!(eval("signed", &i, exact).status, Status::Pass);
    let re = json!({"identities": [{"san_regex": "https://github\\.com/acme/.*@refs/tags/v.*"}]});
    assert_eq!(eval("signed", &i, re).status, Status::Pass);
    // Anchored: a prefix is not a match.
    let partial = json!({"identities": [{"san_regex": "https://github\\.com/acme"}]});
    let out = eval("signed", &i, partial);
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message
            .contains("verified signers: https://github.com/acme/app/"),
        "{}",
        out.message
    );
    assert_eq!(eval("signed", &i, json!({"min": 2})).status, Status::Fail);
    assert!(find_rule("signed")
        .unwrap()
        .validate(&json!({"identities": [{"san_regex": "("}]}))
        .is_err());
}

/// `min` counts distinct signers: the same identity signing twice (or one
/// bundle counted twice) is one; two identities, or one identity vouched
/// for by two trust roots, are two.
#[test]
fn signed_min_counts_distinct_signers() {
    let mut i = input_with(None);
    let acme = github_identity("https://github.com/acme/app");
    i.signatures.push(signature(1, acme.clone()));
    i.signatures.push(signature(2, acme.clone()));
    let two = json!({"min": 2});
    let out = eval("signed", &i, two.clone());
    assert_eq!(out.status, Status::Fail, "{out:?}");
    assert!(
        out.message
            .contains("2 verified signature(s) required, 1 found"),
        "{}",
        out.message
    );
    // Another signer: two.
    i.signatures.push(signature(
        3,
        github_identity("https://github.com/other/app"),
    ));
    let out = eval("signed", &i, two.clone());
    assert_eq!(out.status, Status::Pass, "{out:?}");
    assert_eq!(out.evidence.len(), 2);
    // The same identity through another trust root is another signer.
    i.signatures.truncate(2);
    i.signatures[1].trusted_by = Some("acme private root".into());
    assert_eq!(eval("signed", &i, two).status, Status::Pass);
}

/// An identity match may name the trust root: a private root's
/// signature does not meet a policy written for the public-good one.
#[test]
fn signed_identities_may_name_the_trust_root() {
    let mut i = input_with(None);
    let mut s = signature(1, github_identity("https://github.com/acme/app"));
    s.trusted_by = Some("corp root".into());
    i.signatures.push(s);
    let pg = json!({"identities": [{"issuer": "https://token.actions.githubusercontent.com", "trust_root": "sigstore-public-good"}]});
    assert_eq!(eval("signed", &i, pg.clone()).status, Status::Fail);
    i.signatures[0].trusted_by = Some("sigstore-public-good".into());
    assert_eq!(eval("signed", &i, pg).status, Status::Pass);
}

/// A key vouches for the builder it is configured for, and no other.
#[test]
fn key_signed_provenance_earns_only_its_configured_builder() {
    let mut i = input_with(None);
    let tekton = "https://tekton.dev/chains/v2";
    let key = |builder: Option<&str>| Identity {
        kind: "public-key".into(),
        key_name: Some("chains".into()),
        key_fingerprint: Some("sha256:00".into()),
        key_builder: builder.map(str::to_owned),
        ..Identity::default()
    };
    let mut p = provenance_signed(1, tekton, SOURCE, RELEASE);
    p.signer = Some(key(Some(tekton)));
    i.provenance = vec![p];
    let params =
        json!({"builder_ids": [tekton], "min_slsa_level": 2, "require_source_match": false});
    assert_eq!(eval("provenance", &i, params.clone()).status, Status::Pass);
    i.provenance[0].signer = Some(key(None));
    let out = eval("provenance", &i, params.clone());
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.violations[0]
            .message
            .contains("not configured for any builder"),
        "{out:?}"
    );
    i.provenance[0].signer = Some(key(Some("https://other.example/builder")));
    let out = eval("provenance", &i, params);
    assert!(
        out.violations[0]
            .message
            .contains("configured for builder `https://other.example/builder`"),
        "{out:?}"
    );
}

/// Provenance signed by `signer_san` (a GitHub Actions certificate of the
/// `acme/app` repository's workflow run, through the public-good root).
fn provenance_signed(id: i64, builder: &str, source: &str, signer_san: &str) -> ProvenanceFacts {
    let mut signer = github_identity("https://github.com/acme/app");
    signer.san = Some(signer_san.into());
    signer.workflow_repository = Some("https://github.com/acme/app".into());
    ProvenanceFacts {
        id,
        signer: Some(signer),
        trusted_by: Some("sigstore-public-good".into()),
        provenance: Provenance {
            slsa_version: "https://slsa.dev/provenance/v1".into(),
            builder_id: Some(builder.into()),
            source_repository: Some(source.into()),
            ..Provenance::default()
        },
    }
}

const GENERATOR: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";
const RELEASE: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1";
const SOURCE: &str = "git+https://github.com/acme/app@refs/tags/v1";

#[test]
fn provenance_builder_source_and_level() {
    let mut i = input_with(None);
    i.project.name = "acme/app".into();
    i.project.repository_url = Some("https://github.com/acme/app".into());
    assert_eq!(
        eval("provenance", &i, Value::Null).message,
        "the artifact has no verified SLSA provenance"
    );
    // Signed by the generator itself, for the project's repository: L3.
    i.provenance
        .push(provenance_signed(5, GENERATOR, SOURCE, GENERATOR));
    let l3 = json!({"min_slsa_level": 3, "builder_ids": ["https://github.com/slsa-framework/slsa-github-generator/*"]});
    let out = eval("provenance", &i, l3.clone());
    assert_eq!(out.status, Status::Pass, "{out:?}");
    assert!(
        out.message.contains("SLSA build level 3"),
        "{}",
        out.message
    );
    let out = eval(
        "provenance",
        &i,
        json!({"builder_ids": ["https://example.com/builder"]}),
    );
    assert_eq!(out.status, Status::Fail);
    assert!(out.message.contains("is not allowed"), "{}", out.message);
    i.project.repository_url = Some("https://github.com/other/app".into());
    let out = eval("provenance", &i, Value::Null);
    assert!(
        out.message
            .contains("not the project's repository github.com/other/app"),
        "{}",
        out.message
    );
    assert_eq!(
        eval("provenance", &i, json!({"require_source_match": false})).status,
        Status::Pass
    );
}

/// Provenance cannot vouch for itself: claiming slsa-github-generator as
/// the builder earns nothing unless the generator signed it, through the
/// public-good root, for the source its certificate names.
#[test]
fn provenance_builder_and_level_come_from_the_signer() {
    let said = |o: &crate::policies::core::RuleOutcome| {
        o.violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut i = input_with(None);
    i.project.repository_url = Some("https://github.com/acme/app".into());
    let l3 = json!({"min_slsa_level": 3, "builder_ids": ["https://github.com/slsa-framework/slsa-github-generator/*"]});
    // Forged: the project's own release workflow claims the generator.
    i.provenance = vec![provenance_signed(1, GENERATOR, SOURCE, RELEASE)];
    let out = eval("provenance", &i, l3.clone());
    assert_eq!(out.status, Status::Fail);
    assert!(
        said(&out).contains(&format!(
            "builder `{GENERATOR}` is self-declared: the statement was signed by {RELEASE}"
        )),
        "{}",
        said(&out)
    );
    assert!(
        said(&out).contains("SLSA build level 2, below the required 3"),
        "{}",
        said(&out)
    );
    // The generator signed, but the statement names another builder.
    let go = GENERATOR.replace("generator_generic_slsa3", "builder_go_slsa3");
    i.provenance = vec![provenance_signed(2, &go, SOURCE, GENERATOR)];
    let out = eval("provenance", &i, l3.clone());
    assert!(
        said(&out).contains("does not match its signer"),
        "{}",
        said(&out)
    );
    // The generator's identity through a private root.
    let mut private = provenance_signed(3, GENERATOR, SOURCE, GENERATOR);
    private.trusted_by = Some("acme private root".into());
    i.provenance = vec![private];
    let out = eval("provenance", &i, l3.clone());
    assert!(
        said(&out).contains("only by the public-good Sigstore"),
        "{}",
        said(&out)
    );
    // The certificate's repository is not the statement's source.
    i.provenance = vec![provenance_signed(
        4,
        GENERATOR,
        "git+https://github.com/evil/app",
        GENERATOR,
    )];
    let out = eval(
        "provenance",
        &i,
        json!({"min_slsa_level": 3, "require_source_match": false}),
    );
    assert!(
        said(&out).contains(
            "names source github.com/evil/app but was signed by a workflow of github.com/acme/app"
        ),
        "{}",
        said(&out)
    );
    // A look-alike workflow is not the generator.
    let fake = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/evil.yml@refs/tags/v2.1.0";
    i.provenance = vec![provenance_signed(5, fake, SOURCE, fake)];
    let out = eval("provenance", &i, json!({"min_slsa_level": 3}));
    assert!(
        said(&out).contains("level 2, below the required 3"),
        "{}",
        said(&out)
    );
    // Legitimate L2: GitHub's hosted runner, as the certificate says.
    i.provenance = vec![provenance_signed(
        6,
        "https://github.com/actions/runner/github-hosted",
        SOURCE,
        RELEASE,
    )];
    let out = eval(
        "provenance",
        &i,
        json!({"min_slsa_level": 2, "builder_ids": ["https://github.com/actions/runner/github-hosted"]}),
    );
    assert_eq!(out.status, Status::Pass, "{out:?}");
    // Legitimate L3 for comparison.
    i.provenance = vec![provenance_signed(7, GENERATOR, SOURCE, GENERATOR)];
    assert_eq!(eval("provenance", &i, l3).status, Status::Pass);
}

#[test]
fn ephemeral_runner() {
    let mut i = input_with(None);
    let out = eval("ephemeral-runner", &i, Value::Null);
    assert_eq!(out.status, Status::Fail);
    assert_eq!(
        eval(
            "ephemeral-runner",
            &i,
            json!({"require_build_record": false})
        )
        .status,
        Status::NotApplicable
    );
    i.builds.push(BuildFacts {
        id: 9,
        provider: "github".into(),
        repository: "acme/app".into(),
        jobs: vec![
            JobFacts {
                name: Some("build".into()),
                runner_kind: Some("hosted".into()),
                ..JobFacts::default()
            },
            JobFacts {
                name: Some("package".into()),
                runner_kind: Some("self-hosted".into()),
                runner_group: Some("builders".into()),
                runner_name: Some("box-1".into()),
                ..JobFacts::default()
            },
        ],
        ..BuildFacts::default()
    });
    let out = eval("ephemeral-runner", &i, Value::Null);
    assert_eq!(out.status, Status::Fail);
    assert!(
        out.message
            .contains("self-hosted runner box-1 (group builders, not allowed)"),
        "{}",
        out.message
    );
    assert_eq!(
        eval(
            "ephemeral-runner",
            &i,
            json!({"allowed_runner_groups": ["builders"]})
        )
        .status,
        Status::Pass
    );
}
