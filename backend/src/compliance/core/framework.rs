//! Frameworks as data: `frameworks/*.json` (reviewable, see
//! docs/compliance.md) read once into typed controls. A file that does not
//! follow the schema is a build-time mistake the unit tests catch.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The built-in frameworks, in the order they are listed.
static SOURCES: [&str; 3] = [
    include_str!("../frameworks/nist-800-53r5.json"),
    include_str!("../frameworks/nist-ssdf-1.1.json"),
    include_str!("../frameworks/eu-cra.json"),
];

static FRAMEWORKS: LazyLock<Vec<Framework>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|s| parse(s).expect("a built-in framework file follows the schema"))
        .collect()
});

/// Every built-in framework.
pub fn all() -> &'static [Framework] {
    &FRAMEWORKS
}

/// The framework with this id (`nist-800-53r5`, `nist-ssdf-1.1`, `eu-cra`).
pub fn get(id: &str) -> Option<&'static Framework> {
    all().iter().find(|f| f.id == id)
}

/// Reads and checks one framework file: ids unique and lower case, rules
/// and evidence kinds known, automatic controls evidenced by something,
/// manual ones by nothing.
pub fn parse(text: &str) -> Result<Framework, String> {
    let f: Framework = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut seen = std::collections::BTreeSet::new();
    for c in &f.controls {
        if c.id.is_empty() || c.id != c.id.to_lowercase() {
            return Err(format!(
                "control id `{}` must be non-empty lower case",
                c.id
            ));
        }
        if !seen.insert(c.id.as_str()) {
            return Err(format!("control `{}` is listed twice", c.id));
        }
        for r in &c.rules {
            if crate::policies::core::rules::find_rule(&r.rule).is_none() {
                return Err(format!(
                    "control `{}` names unknown rule `{}`",
                    c.id, r.rule
                ));
            }
        }
        let evidenced = !c.rules.is_empty() || !c.evidence.is_empty();
        match c.assessment {
            Assessment::Automatic if !evidenced => {
                return Err(format!(
                    "automatic control `{}` names no rule or evidence",
                    c.id
                ))
            }
            Assessment::Manual if evidenced => {
                return Err(format!(
                    "manual control `{}` must not name rules or evidence",
                    c.id
                ))
            }
            _ => {}
        }
    }
    Ok(f)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `nist-800-53r5`, `nist-ssdf-1.1` or `eu-cra`.
    pub id: String,
    pub title: String,
    pub version: String,
    /// The publication.
    pub source: String,
    pub controls: Vec<Control>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Lower case, as OSCAL writes it: `si-7`, `si-7.15`, `ps.2.1`, `annex-i.2.1`.
    pub id: String,
    pub title: String,
    /// 800-53 family, SSDF practice, or CRA annex/article.
    pub group: String,
    /// What the control asks, paraphrased.
    pub requirement: String,
    pub assessment: Assessment,
    /// Policy rules that must pass for each release.
    pub rules: Vec<RuleNeed>,
    /// Evidence that must exist for each release.
    pub evidence: Vec<EvidenceNeed>,
    /// Why this evidence speaks to the control (or why a person must).
    pub why: String,
}

/// Who decides a control: Cairn's evidence, or a person's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Assessment {
    Automatic,
    Manual,
}

impl Assessment {
    pub fn as_str(self) -> &'static str {
        match self {
            Assessment::Automatic => "automatic",
            Assessment::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleNeed {
    pub rule: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceNeed {
    pub kind: Need,
    pub why: String,
}

/// Evidence a release must have.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// An SBOM of the release.
    Sbom,
    /// A verified signature on the release's digest.
    Signature,
    /// Verified SLSA provenance.
    Provenance,
    /// A CI build record of the release's commit.
    Build,
    /// The release's components matched against the imported advisories.
    VulnerabilityAnalysis,
    /// Every open finding has a triage decision.
    Triage,
    /// VEX statements for the release's open findings.
    Vex,
    /// The project's CI definitions uploaded and analysed.
    CiDefinitions,
    /// The Go binary's build info read.
    GoBuildInfo,
    /// The latest SBOM scored against the NTIA, CISA 2025 and BSI TR-03183-2
    /// minimum elements (a minimum score is a policy's: `sbom-present`'s
    /// `min_quality`).
    SbomQuality,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Sbom => "sbom",
            Need::Signature => "signature",
            Need::Provenance => "provenance",
            Need::Build => "build",
            Need::VulnerabilityAnalysis => "vulnerability-analysis",
            Need::Triage => "triage",
            Need::Vex => "vex",
            Need::CiDefinitions => "ci-definitions",
            Need::GoBuildInfo => "go-build-info",
            Need::SbomQuality => "sbom-quality",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_frameworks_load_with_the_contract_ids() {
        let ids: Vec<&str> = all().iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["nist-800-53r5", "nist-ssdf-1.1", "eu-cra"]);
        let nist = get("nist-800-53r5").unwrap();
        for id in [
            "sr-3", "sr-4", "sr-5", "sr-11", "cm-2", "cm-7", "cm-8", "cm-14", "sa-10", "sa-11",
            "sa-15", "si-2", "si-7", "ra-5",
        ] {
            assert!(
                nist.controls.iter().any(|c| c.id == id),
                "800-53 lacks {id}"
            );
        }
        let ssdf = get("nist-ssdf-1.1").unwrap();
        assert!(ssdf.controls.iter().any(|c| c.id == "ps.2.1"));
        assert!(get("eu-cra")
            .unwrap()
            .controls
            .iter()
            .any(|c| c.id == "annex-i.2.1"));
        assert!(get("nist-800-53r4").is_none());
    }

    /// Every 800-53 control the mapping lists that the OSCAL catalog (HIGH
    /// baseline, tests/fixtures/oscal) holds has the catalog's title and
    /// family; the others are the few outside every baseline.
    #[test]
    fn nist_titles_are_the_oscal_catalogs() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/oscal/oscal-content__NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json"
        );
        let cat: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("the OSCAL fixture")).unwrap();
        let mut titles = std::collections::BTreeMap::new();
        fn walk(
            controls: &serde_json::Value,
            family: &str,
            out: &mut std::collections::BTreeMap<String, (String, String)>,
        ) {
            for c in controls.as_array().into_iter().flatten() {
                out.insert(
                    c["id"].as_str().unwrap().to_owned(),
                    (c["title"].as_str().unwrap().to_owned(), family.to_owned()),
                );
                walk(&c["controls"], family, out);
            }
        }
        for g in cat["catalog"]["groups"].as_array().unwrap() {
            walk(&g["controls"], g["title"].as_str().unwrap(), &mut titles);
        }
        assert!(titles.len() > 300, "{} controls read", titles.len());
        let outside = [
            "cm-14", "sa-3.1", "sa-10.1", "sa-15.7", "si-7.6", "sr-4", "sr-4.1", "sr-4.2",
            "sr-4.3", "sr-4.4",
        ];
        for c in &get("nist-800-53r5").unwrap().controls {
            match titles.get(&c.id) {
                Some((title, family)) => {
                    assert_eq!(&c.title, title, "{}", c.id);
                    assert_eq!(&c.group, family, "{}", c.id);
                }
                None => assert!(
                    outside.contains(&c.id.as_str()),
                    "{} is in no baseline",
                    c.id
                ),
            }
        }
    }

    #[test]
    fn a_mapping_that_breaks_the_schema_is_refused() {
        let base = r#"{"id":"x","title":"t","version":"1","source":"s","controls":[CONTROL]}"#;
        let control = |c: &str| base.replace("CONTROL", c);
        let ok = r#"{"id":"a-1","title":"t","group":"g","requirement":"r","assessment":"automatic","rules":[{"rule":"signed","why":"w"}],"evidence":[],"why":"w"}"#;
        assert!(parse(&control(ok)).is_ok());
        for (bad, why) in [
            (ok.replace("a-1", "A-1"), "lower case"),
            (ok.replace("\"signed\"", "\"unsigned\""), "unknown rule"),
            (ok.replace("\"automatic\"", "\"manual\""), "must not name"),
            (
                ok.replace("\"why\":\"w\"}", "\"why\":\"w\",\"extra\":1}"),
                "unknown field",
            ),
            (
                ok.replace("[{\"rule\":\"signed\",\"why\":\"w\"}]", "[]"),
                "names no rule",
            ),
            (format!("{ok},{ok}"), "twice"),
        ] {
            let err = parse(&control(&bad)).expect_err(why);
            assert!(err.contains(why), "{why}: {err}");
        }
        let bad_kind = ok.replace(
            "\"evidence\":[]",
            "\"evidence\":[{\"kind\":\"selfie\",\"why\":\"w\"}]",
        );
        assert!(parse(&control(&bad_kind)).is_err());
    }
}
