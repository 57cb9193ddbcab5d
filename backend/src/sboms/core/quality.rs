//! SBOM quality: how completely a document fills in the fields three
//! profiles require. Pure: a [`ParsedSbom`] in, a [`QualityReport`] out.
//!
//! - `ntia`: the NTIA minimum elements (2021).
//! - `cisa-2025`: CISA's 2025 minimum elements (adds hash, licence, tool
//!   name, generation context).
//! - `bsi-tr-03183-2`: the required fields of BSI TR-03183-2 v2.x.
//!
//! A field is read once per document (`document` scope: covered or not) or
//! once per component (`component` scope: the described subject counts as
//! a component). A profile's score is its fields' coverage weighted by
//! [`Field::weight`], 0-100 with one decimal; a component field of a
//! document without components covers nothing. How each field is read in
//! CycloneDX and SPDX is documented in docs/sboms.md ("Quality").
//!
//! Bounded by the document: one pass over the nodes per field, at most
//! [`MISSING_LIMIT`] names per field, each cut to [`LABEL_MAX`] bytes.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{Component, ParsedSbom};
use super::{Input, SbomError};

/// Components named per field as lacking it; the rest are only counted.
pub const MISSING_LIMIT: usize = 50;
/// Longest component label (purl or name@version) reported, in bytes.
pub const LABEL_MAX: usize = 256;
/// Fields listed as a profile's weakest in a [`QualitySummary`].
pub const WEAKEST: usize = 3;
/// The profiles, in report order.
pub const PROFILES: [&str; 3] = ["ntia", "cisa-2025", "bsi-tr-03183-2"];

/// Whether a field is stated once for the document or for each component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = QualityScope)]
pub enum Scope {
    Document,
    Component,
}

/// What the scorer knows about one document beyond the parsed fields.
struct Facts<'p, 'a> {
    sbom: &'p ParsedSbom<'a>,
    /// Node `i` is an end of at least one edge (depends-on or contains).
    linked: Vec<bool>,
}

enum Check {
    Document(fn(&Facts<'_, '_>) -> bool),
    Component(fn(&Facts<'_, '_>, usize, &Component<'_>) -> bool),
}

/// One field of a profile.
pub struct Field {
    pub id: &'static str,
    pub description: &'static str,
    pub weight: u32,
    check: Check,
}

const fn doc(
    id: &'static str,
    description: &'static str,
    weight: u32,
    f: fn(&Facts<'_, '_>) -> bool,
) -> Field {
    Field {
        id,
        description,
        weight,
        check: Check::Document(f),
    }
}

const fn comp(
    id: &'static str,
    description: &'static str,
    weight: u32,
    f: fn(&Facts<'_, '_>, usize, &Component<'_>) -> bool,
) -> Field {
    Field {
        id,
        description,
        weight,
        check: Check::Component(f),
    }
}

// --- what each field reads --------------------------------------------------

fn has_name(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    !c.name.trim().is_empty()
}
fn has_version(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.version.is_some()
}
/// Supplier, or (when only that is given) the creator/manufacturer.
fn has_supplier(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.supplier.is_some() || c.extra.creator
}
fn has_identifier(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.purl.is_some() || c.extra.other_identifier
}
fn has_dependencies(f: &Facts<'_, '_>, i: usize, c: &Component<'_>) -> bool {
    f.linked.get(i).copied().unwrap_or(false) || c.extra.dependencies_listed
}
fn has_hash(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    !c.hashes.is_empty()
}
fn has_sha512(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.hashes.iter().any(|(alg, _)| alg == "sha512")
}
fn has_license(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.licenses.is_some()
}
/// Creator (manufacturer, author, originator), else supplier.
fn has_creator(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.extra.creator || c.supplier.is_some()
}
fn has_filename(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.extra.filename || c.kind == "file"
}
fn has_executable(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.extra.executable
}
fn has_archive(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.extra.archive
}
fn has_structured(_: &Facts<'_, '_>, _: usize, c: &Component<'_>) -> bool {
    c.extra.structured
}
/// A person or organisation is named as the SBOM's author/creator.
fn has_author(f: &Facts<'_, '_>) -> bool {
    !f.sbom.authors.is_empty() || f.sbom.extra.manufacturer
}
/// NTIA's "author of SBOM data" may be the tool that wrote it.
fn has_author_or_tool(f: &Facts<'_, '_>) -> bool {
    has_author(f) || f.sbom.tool.is_some()
}
fn has_tool(f: &Facts<'_, '_>) -> bool {
    f.sbom.tool.is_some()
}
fn has_timestamp(f: &Facts<'_, '_>) -> bool {
    f.sbom.created.is_some()
}
fn has_lifecycle(f: &Facts<'_, '_>) -> bool {
    f.sbom.extra.lifecycles
}

// --- the profiles ------------------------------------------------------------

const NAME: &str = "Component name";
const VERSION: &str = "Component version";
const IDENTIFIERS: &str = "Other unique identifiers: purl, CPE, SWID, OmniBOR or SWHID";
const DEPENDENCIES: &str =
    "Dependency relationship: the component is in the dependency or containment graph";
const TIMESTAMP: &str = "Timestamp of the SBOM's creation";

pub static NTIA: [Field; 7] = [
    comp("supplier", "Supplier name", 1, has_supplier),
    comp("name", NAME, 1, has_name),
    comp("version", VERSION, 1, has_version),
    comp("identifiers", IDENTIFIERS, 2, has_identifier),
    comp("dependencies", DEPENDENCIES, 1, has_dependencies),
    doc(
        "author",
        "Author of the SBOM data (a person, organisation or tool)",
        1,
        has_author_or_tool,
    ),
    doc("timestamp", TIMESTAMP, 1, has_timestamp),
];

pub static CISA_2025: [Field; 11] = [
    doc(
        "author",
        "SBOM author: the person or organisation that made the SBOM",
        1,
        has_author,
    ),
    comp(
        "producer",
        "Software producer (supplier or manufacturer)",
        1,
        has_supplier,
    ),
    comp("name", NAME, 1, has_name),
    comp("version", VERSION, 1, has_version),
    comp("identifiers", IDENTIFIERS, 2, has_identifier),
    comp(
        "hash",
        "Component hash (any algorithm)",
        2,
        has_hash,
    ),
    comp("license", "License", 1, has_license),
    comp("dependencies", DEPENDENCIES, 1, has_dependencies),
    doc("tool", "Name of the tool that generated the SBOM", 1, has_tool),
    doc("timestamp", TIMESTAMP, 1, has_timestamp),
    doc(
        "generation-context",
        "Generation context: the lifecycle phase the SBOM was made in (CycloneDX metadata.lifecycles)",
        1,
        has_lifecycle,
    ),
];

pub static BSI_TR_03183_2: [Field; 12] = [
    doc(
        "sbom-creator",
        "Creator of the SBOM (person or organisation)",
        1,
        has_author,
    ),
    doc("timestamp", TIMESTAMP, 1, has_timestamp),
    comp(
        "creator",
        "Component creator (manufacturer, author, originator, else supplier)",
        1,
        has_creator,
    ),
    comp("name", NAME, 1, has_name),
    comp("version", VERSION, 1, has_version),
    comp(
        "filename",
        "Filename of the component (bsi:component:filename, SPDX packageFileName)",
        1,
        has_filename,
    ),
    comp("dependencies", DEPENDENCIES, 1, has_dependencies),
    comp("licenses", "Distribution licences", 1, has_license),
    comp(
        "sha512",
        "SHA-512 hash of the deployable component",
        2,
        has_sha512,
    ),
    comp(
        "executable",
        "Executable property (bsi:component:executable)",
        1,
        has_executable,
    ),
    comp(
        "archive",
        "Archive property (bsi:component:archive)",
        1,
        has_archive,
    ),
    comp(
        "structured",
        "Structured property (bsi:component:structured)",
        1,
        has_structured,
    ),
];

/// `(id, title, fields)` of each profile, in [`PROFILES`] order.
pub fn profiles() -> [(&'static str, &'static str, &'static [Field]); 3] {
    [
        ("ntia", "NTIA minimum elements (2021)", &NTIA),
        ("cisa-2025", "CISA minimum elements (2025)", &CISA_2025),
        (
            "bsi-tr-03183-2",
            "BSI TR-03183-2 v2 required fields",
            &BSI_TR_03183_2,
        ),
    ]
}

// --- reports -----------------------------------------------------------------

/// One field's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldReport {
    pub field: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    /// Its weight in the profile's score.
    pub weight: u32,
    /// Components (or, document scope, 0/1) that state it.
    pub covered: u64,
    /// Components judged (document scope: 1).
    pub total: u64,
    /// The first components (purl, else `name@version`) lacking it, at most 50.
    pub missing: Vec<String>,
    /// How many components lack it.
    pub missing_count: u64,
}

impl FieldReport {
    /// Covered fraction, 0.0-1.0 (0 when there was nothing to judge).
    pub fn coverage(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.covered as f64 / self.total as f64
        }
    }
}

/// One profile: its score and each field's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProfileReport {
    /// Weighted coverage, 0-100, one decimal.
    pub score: f64,
    pub title: &'static str,
    pub fields: Vec<FieldReport>,
}

/// An SBOM against every profile.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QualityReport {
    pub ntia: ProfileReport,
    #[serde(rename = "cisa-2025")]
    pub cisa_2025: ProfileReport,
    #[serde(rename = "bsi-tr-03183-2")]
    pub bsi_tr_03183_2: ProfileReport,
}

impl QualityReport {
    /// `(id, report)` in [`PROFILES`] order.
    pub fn profiles(&self) -> [(&'static str, &ProfileReport); 3] {
        [
            ("ntia", &self.ntia),
            ("cisa-2025", &self.cisa_2025),
            ("bsi-tr-03183-2", &self.bsi_tr_03183_2),
        ]
    }

    /// Scores and weakest fields, as stored with the SBOM.
    pub fn summary(&self) -> QualitySummary {
        let [ntia, cisa, bsi] = self.profiles().map(|(_, p)| p.summary());
        QualitySummary {
            ntia,
            cisa_2025: cisa,
            bsi_tr_03183_2: bsi,
        }
    }
}

impl ProfileReport {
    fn summary(&self) -> ProfileSummary {
        let mut weak: Vec<&FieldReport> = self
            .fields
            .iter()
            .filter(|f| f.covered < f.total || f.total == 0)
            .collect();
        // Least covered first; of equal coverage, the heavier first (stable:
        // then in profile order).
        weak.sort_by(|a, b| {
            a.coverage()
                .total_cmp(&b.coverage())
                .then(b.weight.cmp(&a.weight))
        });
        ProfileSummary {
            score: self.score,
            weakest: weak
                .into_iter()
                .take(WEAKEST)
                .map(|f| WeakField {
                    field: f.field.to_owned(),
                    coverage: one_decimal(f.coverage() * 100.0),
                })
                .collect(),
        }
    }
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// What a stranger would recognise a component by: its purl, else
/// `name@version`, cut to [`LABEL_MAX`] bytes.
fn label(c: &Component<'_>) -> String {
    let mut s = match (&c.purl, &c.version) {
        (Some(purl), _) => purl.to_string(),
        (None, Some(v)) => format!("{}@{v}", c.name),
        (None, None) => c.name.to_string(),
    };
    if s.len() > LABEL_MAX {
        let mut end = LABEL_MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn field_report(facts: &Facts<'_, '_>, field: &Field) -> FieldReport {
    let (scope, covered, total, missing, missing_count) = match field.check {
        Check::Document(f) => {
            let ok = f(facts);
            (
                Scope::Document,
                u64::from(ok),
                1,
                Vec::new(),
                u64::from(!ok),
            )
        }
        Check::Component(f) => {
            let (mut covered, mut missing_count, mut missing) = (0u64, 0u64, Vec::new());
            for (i, c) in facts.sbom.nodes.iter().enumerate() {
                if f(facts, i, c) {
                    covered += 1;
                } else {
                    missing_count += 1;
                    if missing.len() < MISSING_LIMIT {
                        missing.push(label(c));
                    }
                }
            }
            let total = facts.sbom.nodes.len() as u64;
            (Scope::Component, covered, total, missing, missing_count)
        }
    };
    FieldReport {
        field: field.id,
        description: field.description,
        scope,
        weight: field.weight,
        covered,
        total,
        missing,
        missing_count,
    }
}

fn profile_report(facts: &Facts<'_, '_>, title: &'static str, fields: &[Field]) -> ProfileReport {
    let fields: Vec<FieldReport> = fields.iter().map(|f| field_report(facts, f)).collect();
    let weights: u32 = fields.iter().map(|f| f.weight).sum();
    let weighted: f64 = fields
        .iter()
        .map(|f| f64::from(f.weight) * f.coverage())
        .sum();
    let score = if weights == 0 {
        0.0
    } else {
        one_decimal(100.0 * weighted / f64::from(weights))
    };
    ProfileReport {
        score: score.clamp(0.0, 100.0),
        title,
        fields,
    }
}

/// Scores a parsed SBOM against every profile.
pub fn score(sbom: &ParsedSbom<'_>) -> QualityReport {
    let mut linked = vec![false; sbom.nodes.len()];
    for e in &sbom.edges {
        for end in [e.from, e.to] {
            if let Some(l) = linked.get_mut(end as usize) {
                *l = true;
            }
        }
    }
    let facts = Facts { sbom, linked };
    let [ntia, cisa, bsi] =
        profiles().map(|(_, title, fields)| profile_report(&facts, title, fields));
    QualityReport {
        ntia,
        cisa_2025: cisa,
        bsi_tr_03183_2: bsi,
    }
}

/// Scores a stored (already gunzipped) document: the upload as received,
/// DSSE envelopes included.
pub fn score_document(raw: &[u8]) -> Result<QualityReport, SbomError> {
    let input = Input::new(raw)?;
    let parsed = input.parse()?;
    Ok(score(&parsed))
}

// --- the stored summary ------------------------------------------------------

/// A field among a profile's weakest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeakField {
    pub field: String,
    /// Percentage of components (document scope: 0 or 100) stating it, one decimal.
    pub coverage: f64,
}

/// A profile's score with its weakest fields (at most three, least covered first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProfileSummary {
    /// 0-100, one decimal.
    pub score: f64,
    pub weakest: Vec<WeakField>,
}

/// The scores of an SBOM, computed at ingestion and stored with it
/// (`sboms.quality`); rules read it as `input.sbom.quality`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QualitySummary {
    pub ntia: ProfileSummary,
    #[serde(rename = "cisa-2025")]
    pub cisa_2025: ProfileSummary,
    #[serde(rename = "bsi-tr-03183-2")]
    pub bsi_tr_03183_2: ProfileSummary,
}

impl QualitySummary {
    /// `(title, summary)` of each profile, in [`PROFILES`] order.
    pub fn rows(&self) -> [(&'static str, &ProfileSummary); 3] {
        let [(_, n, _), (_, c, _), (_, b, _)] = profiles();
        [
            (n, &self.ntia),
            (c, &self.cisa_2025),
            (b, &self.bsi_tr_03183_2),
        ]
    }

    /// The profile called `id` (see [`PROFILES`]).
    pub fn profile(&self, id: &str) -> Option<&ProfileSummary> {
        match id {
            "ntia" => Some(&self.ntia),
            "cisa-2025" => Some(&self.cisa_2025),
            "bsi-tr-03183-2" => Some(&self.bsi_tr_03183_2),
            _ => None,
        }
    }
}

// Rule inputs are hashed (policy/memo.rs): scores by their bits.
impl Hash for QualitySummary {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for p in [&self.ntia, &self.cisa_2025, &self.bsi_tr_03183_2] {
            p.score.to_bits().hash(state);
            p.weakest.len().hash(state);
            for w in &p.weakest {
                w.field.hash(state);
                w.coverage.to_bits().hash(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../../../tests/fixtures/", $name)) as &[u8]
        };
    }

    fn report(doc: &[u8]) -> QualityReport {
        score_document(doc).unwrap()
    }

    /// `field=covered/total ...` of a profile, as the Python check prints it.
    fn coverage(p: &ProfileReport) -> String {
        let parts: Vec<String> = p
            .fields
            .iter()
            .map(|f| format!("{}={}/{}", f.field, f.covered, f.total))
            .collect();
        parts.join(" ")
    }

    fn check(doc: &[u8], want: [(f64, &str); 3]) {
        let r = report(doc);
        for ((id, got), (score, fields)) in r.profiles().into_iter().zip(want) {
            assert_eq!(coverage(got), fields, "{id}");
            assert_eq!(got.score, score, "{id}");
            for f in &got.fields {
                assert_eq!(f.covered + f.missing_count, f.total, "{id} {}", f.field);
                let listed = match f.scope {
                    Scope::Document => 0,
                    Scope::Component => f.missing_count.min(MISSING_LIMIT as u64),
                };
                assert_eq!(f.missing.len() as u64, listed, "{id} {}", f.field);
            }
        }
    }

    // Expected figures in these tests: `python3 tests/tools/sbom_quality_expected.py
    // <fixture>`, which reads the JSON with Python's standard library by the rules of
    // docs/sboms.md ("Quality"), independently of this code.

    #[test]
    fn cyclonedx_gomod() {
        check(
            fixture!("sbom/bom-shelter__kawipiko.cyclonedx-gomod.cdx.json"),
            [
                (87.5, "supplier=0/28 name=28/28 version=28/28 identifiers=28/28 dependencies=28/28 author=1/1 timestamp=1/1"),
                (68.7, "author=0/1 producer=0/28 name=28/28 version=28/28 identifiers=28/28 hash=27/28 license=0/28 dependencies=28/28 tool=1/1 timestamp=1/1 generation-context=0/1"),
                (30.8, "sbom-creator=0/1 timestamp=1/1 creator=0/28 name=28/28 version=28/28 filename=0/28 dependencies=28/28 licenses=0/28 sha512=0/28 executable=0/28 archive=0/28 structured=0/28"),
            ],
        );
    }

    #[test]
    fn spdx_syft_kubectl() {
        check(
            fixture!("sbom/guac__oci-kubectl-linux-amd64-spdx.json"),
            [
                (75.4, "supplier=3/88 name=88/88 version=88/88 identifiers=88/88 dependencies=0/88 author=1/1 timestamp=1/1"),
                (54.2, "author=1/1 producer=3/88 name=88/88 version=88/88 identifiers=88/88 hash=0/88 license=1/88 dependencies=0/88 tool=1/1 timestamp=1/1 generation-context=0/1"),
                (31.1, "sbom-creator=1/1 timestamp=1/1 creator=3/88 name=88/88 version=88/88 filename=0/88 dependencies=0/88 licenses=1/88 sha512=0/88 executable=0/88 archive=0/88 structured=0/88"),
            ],
        );
    }

    #[test]
    fn cyclonedx_syft_1_7() {
        check(
            fixture!("sbom/syft__TestCycloneDxImageEncoder.golden.cdx.json"),
            [
                (68.8, "supplier=0/4 name=4/4 version=4/4 identifiers=3/4 dependencies=0/4 author=1/1 timestamp=1/1"),
                (44.2, "author=0/1 producer=0/4 name=4/4 version=4/4 identifiers=3/4 hash=0/4 license=1/4 dependencies=0/4 tool=1/1 timestamp=1/1 generation-context=0/1"),
                (25.0, "sbom-creator=0/1 timestamp=1/1 creator=0/4 name=4/4 version=4/4 filename=0/4 dependencies=0/4 licenses=1/4 sha512=0/4 executable=0/4 archive=0/4 structured=0/4"),
            ],
        );
    }

    #[test]
    fn spdx_trivy() {
        check(
            fixture!("sbom/trivy__fixtures_sbom_centos-7-spdx.json"),
            [
                (71.9, "supplier=0/4 name=4/4 version=3/4 identifiers=2/4 dependencies=4/4 author=1/1 timestamp=1/1"),
                (55.8, "author=1/1 producer=0/4 name=4/4 version=3/4 identifiers=2/4 hash=0/4 license=2/4 dependencies=4/4 tool=1/1 timestamp=1/1 generation-context=0/1"),
                (40.4, "sbom-creator=1/1 timestamp=1/1 creator=0/4 name=4/4 version=3/4 filename=0/4 dependencies=4/4 licenses=2/4 sha512=0/4 executable=0/4 archive=0/4 structured=0/4"),
            ],
        );
    }

    /// A DSSE envelope is scored by the SBOM it carries.
    #[test]
    fn envelope_scores_its_predicate() {
        let want = [
            (71.9, "supplier=0/4 name=4/4 version=3/4 identifiers=2/4 dependencies=4/4 author=1/1 timestamp=1/1"),
            (48.1, "author=0/1 producer=0/4 name=4/4 version=3/4 identifiers=2/4 hash=0/4 license=2/4 dependencies=4/4 tool=1/1 timestamp=1/1 generation-context=0/1"),
            (32.7, "sbom-creator=0/1 timestamp=1/1 creator=0/4 name=4/4 version=3/4 filename=0/4 dependencies=4/4 licenses=2/4 sha512=0/4 executable=0/4 archive=0/4 structured=0/4"),
        ];
        check(
            fixture!("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.json"),
            want,
        );
        check(
            fixture!("sbom/trivy__fixtures_sbom_centos-7-cyclonedx.intoto.jsonl"),
            want,
        );
    }

    /// BSI properties, lifecycles, manufacturer, nested and duplicate
    /// components, an empty `dependsOn`, and extra fields of the wrong type
    /// (read as present, never refused).
    #[test]
    fn bsi_fields_and_lifecycles() {
        let doc = fixture!("sbom-quality/bsi-tr-03183-2.cdx.json");
        check(
            doc,
            [
                (96.9, "supplier=4/4 name=4/4 version=3/4 identifiers=4/4 dependencies=4/4 author=1/1 timestamp=1/1"),
                (96.2, "author=1/1 producer=4/4 name=4/4 version=3/4 identifiers=4/4 hash=4/4 license=3/4 dependencies=4/4 tool=1/1 timestamp=1/1 generation-context=1/1"),
                (80.8, "sbom-creator=1/1 timestamp=1/1 creator=4/4 name=4/4 version=3/4 filename=4/4 dependencies=4/4 licenses=3/4 sha512=3/4 executable=2/4 archive=2/4 structured=2/4"),
            ],
        );
        let r = report(doc);
        let field = |p: &ProfileReport, id: &str| p.fields.iter().find(|f| f.field == id).cloned();
        let exe = field(&r.bsi_tr_03183_2, "executable").unwrap();
        // Nested file with a blank value, and lib-b without one; no purl: name@version.
        assert_eq!(exe.missing, ["data.bin@2.0.0", "lib-b"]);
        let summary = r.summary();
        assert_eq!(summary.bsi_tr_03183_2.score, 80.8);
        let weak: Vec<(&str, f64)> = summary
            .bsi_tr_03183_2
            .weakest
            .iter()
            .map(|w| (w.field.as_str(), w.coverage))
            .collect();
        assert_eq!(
            weak,
            [
                ("executable", 50.0),
                ("archive", 50.0),
                ("structured", 50.0)
            ]
        );
        // Stored as JSON and read back.
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["cisa-2025"]["score"], 96.2);
        let back: QualitySummary = serde_json::from_value(json).unwrap();
        assert_eq!(back, summary);
    }

    /// At most 50 names per field, each bounded; the counts stay exact.
    #[test]
    fn missing_lists_are_bounded() {
        let long = "x".repeat(10_000);
        let components: Vec<serde_json::Value> = (0..120)
            .map(|i| serde_json::json!({"type": "library", "name": format!("c{i}{long}")}))
            .collect();
        let doc = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5", "components": components
        })
        .to_string();
        let r = report(doc.as_bytes());
        let version = &r.ntia.fields[2];
        assert_eq!((version.covered, version.total), (0, 120));
        assert_eq!(version.missing_count, 120);
        assert_eq!(version.missing.len(), MISSING_LIMIT);
        assert!(version.missing.iter().all(|m| m.len() <= LABEL_MAX + 3));
        assert!(version.missing[0].starts_with("c0xxx"));
        // Only names: 1 of 8 weight.
        assert_eq!(r.ntia.score, 12.5);
    }

    /// Nothing to judge is no coverage, not a division by zero.
    #[test]
    fn empty_document() {
        let r = report(br#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#);
        for (id, p) in r.profiles() {
            assert_eq!(p.score, 0.0, "{id}");
            assert!(p.fields.iter().all(|f| f.covered == 0));
        }
        assert_eq!(r.summary().ntia.weakest.len(), WEAKEST);
    }

    #[test]
    fn weights_are_documented_in_profile_order() {
        for (id, _, fields) in profiles() {
            assert!(PROFILES.contains(&id));
            let mut ids: Vec<&str> = fields.iter().map(|f| f.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), fields.len(), "{id}: field ids repeat");
        }
        let docs = include_str!("../../../../docs/sboms.md");
        for (id, _, fields) in profiles() {
            for f in fields {
                let row = format!("| `{}` | {} |", f.id, f.weight);
                assert!(
                    docs.contains(&row),
                    "docs/sboms.md lacks the row starting `{row}` ({id})"
                );
            }
        }
    }
}
