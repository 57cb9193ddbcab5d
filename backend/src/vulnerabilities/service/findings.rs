//! Matching: an artifact's findings, and one vulnerability's across the
//! portfolio, merged with scanner reports and decided by triage.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

use crate::vulnerabilities::core::matching;
use crate::vulnerabilities::core::purl::{Package, Purl};
use crate::vulnerabilities::core::severity::Severity;
use crate::vulnerabilities::core::triage::State;
use crate::vulnerabilities::core::triage::{self, Decision, Scope};
use crate::vulnerabilities::core::version::Ecosystem;
use crate::vulnerabilities::store;

use super::index::{self, Entry};
use super::*;

/// One vulnerability × component of an artifact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Finding {
    /// One advisory id of the vulnerability, the ecosystem's own database
    /// first (`GO-…`, `PYSEC-…`, `RUSTSEC-…`), else GHSA, else the matched one.
    pub id: String,
    /// The vulnerability's other ids and aliases (CVE, GHSA, …), no repeats.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// The component's purl, as in the SBOM (or the scanner's report);
    /// empty for a scanner's package without one (see `package`).
    pub purl: String,
    /// A scanner-reported package that has no purl: type, name, version.
    pub package: Option<ScannedPackage>,
    /// The component version that was matched.
    pub version: String,
    /// The fix of each matched range interval (empty: no fix known).
    pub fixed_versions: Vec<String>,
    pub severity: Severity,
    /// CVSS base score, when an advisory of the vulnerability has a vector.
    pub cvss_score: Option<f64>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    /// When CISA added it to KEV.
    pub kev_date_added: Option<chrono::NaiveDate>,
    /// Triage state: `in_triage` until someone or some VEX decides.
    pub state: State,
    /// Why it is not affected (CycloneDX/OpenVEX justification), or null.
    pub justification: Option<String>,
    /// The triage decision that sets `state`, when one does.
    pub decision_id: Option<i64>,
    /// Who reported it: `osv` for Cairn's own match.
    pub sources: Vec<String>,
    /// The advisories that matched.
    pub advisories: Vec<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    /// When the evaluation worker first matched it for this artifact (null
    /// until it has run since the finding appeared).
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// When the evaluation worker last matched it.
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// Go findings of an artifact whose binary was uploaded: whether the
    /// binary links the vulnerable symbols (null otherwise).
    pub reachability: Option<Reachability>,
    #[serde(skip)]
    pub vulnerability_id: i64,
    #[serde(skip)]
    pub package_key: String,
    #[serde(skip)]
    pub artifact: ArtifactRef,
}

/// A package as a scanner names it when it gives no purl.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScannedPackage {
    /// The scanner's package type (`gomod`, `apk`, `java-archive` …).
    #[serde(rename = "type")]
    pub package_type: String,
    pub name: String,
    pub version: String,
}

/// The artifact a finding is about.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ArtifactRef {
    pub artifact_id: i64,
    pub project: String,
    pub artifact: String,
    pub version: String,
}

/// The artifact's findings, every one (filtering and paging are the caller's).
pub async fn artifact_findings(
    conn: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<Vec<Finding>> {
    let generation = index::generation(&mut *conn).await?;
    let Some((artifact, components)) = store::artifact_components(&mut *conn, artifact_id).await?
    else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<&str> = (components.iter())
        .flat_map(|c| [c.package_key.as_str(), c.source_key.as_str()])
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let entries = index::entries(&mut *conn, &generation, &keys).await?;
    let candidates = Candidates {
        holdings: (0..components.len()).map(|c| (0, c)).collect(),
        artifacts: vec![artifact],
        components,
        entries,
    };
    let mut out = findings(&mut *conn, &generation, candidates).await?;
    reachability::apply(&mut *conn, &mut out).await?;
    let scans = store::latest_scan_findings(&mut *conn, artifact_id).await?;
    if !scans.is_empty() {
        merge_scans(conn, &generation, artifact_id, &mut out, scans).await?;
    }
    Ok(out)
}

/// Adds scanner reports' findings: one that names a vulnerability (by id or
/// alias) and a package Cairn matched too only adds its scanner to
/// `sources`; the rest are findings of their own.
async fn merge_scans(
    conn: &mut PgConnection,
    generation: &index::Generation,
    artifact_id: i64,
    out: &mut Vec<Finding>,
    scans: Vec<store::ScanFindingRow>,
) -> sqlx::Result<()> {
    let Some(who) = store::artifact_identity(&mut *conn, artifact_id).await? else {
        return Ok(());
    };
    let project_id = store::artifact_project(&mut *conn, artifact_id)
        .await?
        .unwrap_or_default();
    let groups: Vec<i64> = scans
        .iter()
        .filter_map(|s| s.vulnerability_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let described = index::groups(&mut *conn, generation, &groups).await?;
    let decisions: Vec<(i64, String, Decision)> = store::current_decisions(&mut *conn, &groups)
        .await?
        .iter()
        .filter_map(|r| Some((r.vulnerability_id, r.package_key.clone(), decision_of(r)?)))
        .collect();
    let now = chrono::Utc::now();
    // (vulnerability or scanner id, package key or type/name@version) → index in `out`.
    let key_of = |group: Option<i64>, vuln: &str, pkg: Option<&str>, s: &store::ScanFindingRow| {
        (
            group.map_or_else(|| vuln.to_string(), |g| format!("#{g}")),
            pkg.map_or_else(
                || format!("{}/{}@{}", s.package_type, s.name, s.version),
                str::to_string,
            ),
        )
    };
    let mut index: HashMap<(String, String), usize> = out
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                (format!("#{}", f.vulnerability_id), f.package_key.clone()),
                i,
            )
        })
        .collect();
    for s in scans {
        let key = key_of(
            s.vulnerability_id,
            &s.vulnerability,
            s.package_key.as_deref(),
            &s,
        );
        if let Some(&i) = index.get(&key) {
            let f = &mut out[i];
            if !f.sources.contains(&s.scanner) {
                f.sources.push(s.scanner.clone());
            }
            for v in &s.fixed_versions {
                if !f.fixed_versions.contains(v) {
                    f.fixed_versions.push(v.clone());
                }
            }
            continue;
        }
        let purl = s.purl.clone();
        let (described, group) = match s.vulnerability_id {
            Some(g) => {
                let eco = purl
                    .as_deref()
                    .and_then(Purl::parse)
                    .and_then(|p| p.package())
                    .map(|p| p.ecosystem);
                let group = described.get(&g).map(|d| &**d);
                (Some(describe_held(group, eco, &BTreeSet::new())), g)
            }
            None => (None, 0),
        };
        let decided = s.package_key.as_deref().and_then(|k| {
            let ds = decisions
                .iter()
                .filter(|(g, pk, _)| *g == group && pk == k)
                .map(|(_, _, d)| d);
            triage::decide(
                ds,
                artifact_id,
                project_id,
                purl.as_deref().unwrap_or_default(),
                now,
            )
        });
        let scanner_severity = match s.severity.as_deref() {
            Some("negligible") => Severity::Low,
            Some(x) => Severity::parse(x).unwrap_or(Severity::Unknown),
            None => Severity::Unknown,
        };
        let (id, aliases, summary, severity, cvss_score, kev_date_added, published) =
            match described {
                Some(d) => (
                    d.id,
                    d.aliases,
                    d.summary,
                    if d.severity == Severity::Unknown {
                        scanner_severity
                    } else {
                        d.severity
                    },
                    d.cvss_score,
                    d.kev_date_added,
                    d.published,
                ),
                None => (
                    s.vulnerability.clone(),
                    s.aliases.clone(),
                    None,
                    scanner_severity,
                    None,
                    None,
                    None,
                ),
            };
        index.insert(key, out.len());
        out.push(Finding {
            id,
            aliases,
            summary,
            package: purl.is_none().then(|| ScannedPackage {
                package_type: s.package_type.clone(),
                name: s.name.clone(),
                version: s.version.clone(),
            }),
            purl: purl.unwrap_or_default(),
            version: s.version,
            fixed_versions: s.fixed_versions,
            severity,
            cvss_score,
            kev: kev_date_added.is_some(),
            kev_date_added,
            state: decided.map_or(State::InTriage, |d| d.state),
            justification: decided.and_then(|d| d.justification.clone()),
            decision_id: decided.map(|d| d.id),
            sources: vec![s.scanner],
            advisories: Vec::new(),
            published,
            first_seen: None,
            last_seen: None,
            reachability: None,
            vulnerability_id: group,
            package_key: s.package_key.unwrap_or_default(),
            artifact: ArtifactRef {
                artifact_id,
                project: who.project.clone(),
                artifact: who.name.clone(),
                version: who.version.clone(),
            },
        });
    }
    Ok(())
}

/// Every finding of one vulnerability across the portfolio.
pub async fn vulnerability_findings(
    conn: &mut PgConnection,
    vulnerability_id: i64,
) -> sqlx::Result<Vec<Finding>> {
    let generation = index::generation(&mut *conn).await?;
    let store::Candidates {
        artifacts,
        components,
        entries,
        holdings,
    } = store::vulnerability_candidates(&mut *conn, vulnerability_id).await?;
    let candidates = Candidates {
        artifacts,
        components,
        entries: entries
            .into_iter()
            .map(|e| Arc::new(Entry::prepare(e)))
            .collect(),
        holdings,
    };
    let mut out = findings(&mut *conn, &generation, candidates).await?;
    reachability::apply(conn, &mut out).await?;
    Ok(out)
}

/// What is judged: artifacts, the components they hold, and the prepared
/// advisory entries naming those components.
struct Candidates {
    artifacts: Vec<store::CandidateArtifact>,
    components: Vec<store::KeyedComponent>,
    entries: Vec<Arc<Entry>>,
    /// (index into `artifacts`, index into `components`).
    holdings: Vec<(usize, usize)>,
}

async fn findings(
    conn: &mut PgConnection,
    generation: &index::Generation,
    candidates: Candidates,
) -> sqlx::Result<Vec<Finding>> {
    let Candidates {
        artifacts,
        components,
        entries,
        holdings,
    } = candidates;
    // Each entry is prepared once (and kept by the index) and each component
    // judged once, however many artifacts hold it.
    let mut by_key: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for e in &entries {
        by_key.entry(e.package_key.as_str()).or_default().push(e);
    }
    let judged: Vec<BTreeMap<i64, Hit>> = components.iter().map(|c| judge(c, &by_key)).collect();

    let groups: Vec<i64> = (judged.iter())
        .flat_map(|hits| hits.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let described = index::groups(&mut *conn, generation, &groups).await?;
    let mut decisions: HashMap<(i64, String), Vec<Decision>> = HashMap::new();
    for row in store::current_decisions(&mut *conn, &groups).await? {
        let key = (row.vulnerability_id, row.package_key.clone());
        if let Some(d) = decision_of(&row) {
            decisions.entry(key).or_default().push(d);
        }
    }
    let now = chrono::Utc::now();
    // A vulnerability is named the same for every component of an
    // ecosystem matched by the same advisories.
    let mut named: HashMap<(i64, Ecosystem, &BTreeSet<String>), Described> = HashMap::new();
    let mut held: Vec<(i64, i64, i64, usize, usize)> = (holdings.iter())
        .flat_map(|&(a, c)| {
            let (artifact, component) = (&artifacts[a], &components[c]);
            judged[c]
                .keys()
                .map(move |&group| (artifact.artifact_id, group, component.component_id, a, c))
        })
        .collect();
    held.sort_unstable();
    held.dedup();
    let mut out = Vec::with_capacity(held.len());
    for (_, group, _, a, c) in held {
        let (artifact, component) = (&artifacts[a], &components[c]);
        let hit = &judged[c][&group];
        let v = named
            .entry((group, hit.ecosystem, &hit.advisories))
            .or_insert_with(|| {
                let g = described.get(&group).map(|d| &**d);
                describe_held(g, Some(hit.ecosystem), &hit.advisories)
            });
        let decided = decisions
            .get(&(group, component.package_key.clone()))
            .and_then(|ds| {
                triage::decide(
                    ds,
                    artifact.artifact_id,
                    artifact.project_id,
                    &component.purl,
                    now,
                )
            });
        out.push(Finding {
            id: v.id.clone(),
            aliases: v.aliases.clone(),
            summary: v.summary.clone(),
            package: None,
            purl: component.purl.clone(),
            version: hit.version.clone(),
            fixed_versions: hit.fixed.iter().cloned().collect(),
            severity: v.severity,
            cvss_score: v.cvss_score,
            kev: v.kev_date_added.is_some(),
            kev_date_added: v.kev_date_added,
            state: decided.map_or(State::InTriage, |d| d.state),
            justification: decided.and_then(|d| d.justification.clone()),
            decision_id: decided.map(|d| d.id),
            sources: vec!["osv".into()],
            advisories: hit.advisories.iter().cloned().collect(),
            published: v.published,
            first_seen: None,
            last_seen: None,
            reachability: None,
            vulnerability_id: group,
            package_key: component.package_key.clone(),
            artifact: ArtifactRef {
                artifact_id: artifact.artifact_id,
                project: artifact.project.clone(),
                artifact: artifact.artifact.clone(),
                version: artifact.artifact_version.clone(),
            },
        });
    }
    Ok(out)
}

/// What one component is affected by, per vulnerability.
fn judge(c: &store::KeyedComponent, by_key: &HashMap<&str, Vec<&Entry>>) -> BTreeMap<i64, Hit> {
    let mut hits: BTreeMap<i64, Hit> = BTreeMap::new();
    let own = by_key.get(c.package_key.as_str());
    let source = (!c.source_key.is_empty() && c.source_key != c.package_key)
        .then(|| by_key.get(c.source_key.as_str()))
        .flatten();
    if own.is_none() && source.is_none() {
        return hits;
    }
    let Some(purl) = Purl::parse(&c.purl) else {
        return hits;
    };
    // Per reading (the component itself, or its source package): its
    // identity and version, worked out once for all the entries.
    let mut readings: [Option<Option<(Package, matching::Subject)>>; 2] = [None, None];
    for &entry in own.into_iter().chain(source).flatten() {
        let Some(prepared) = &entry.prepared else {
            continue;
        };
        // The advisory names the component, or (distro databases) the
        // source package it was built from: then the source's name and,
        // when the SBOM gives it, version are what the entry is about.
        let via_source = entry.package_key != c.package_key;
        let reading = readings[usize::from(via_source)].get_or_insert_with(|| {
            let component = if via_source {
                let source = c.source_key.split_once(':').map(|(_, n)| n);
                purl.source_package(source).map(|(p, _)| p)
            } else {
                purl.package()
            }?;
            let version = match (via_source, &c.source_version) {
                (true, Some(v)) => Some(v.clone()),
                _ => purl.match_version().or_else(|| c.component_version.clone()),
            }?;
            Some((component, matching::Subject::new(&version)))
        });
        let Some((component, subject)) = reading else {
            continue;
        };
        if !prepared.affected.package.covers(component) {
            continue;
        }
        let verdict = prepared.judge(subject);
        if !verdict.affected {
            continue;
        }
        let hit = hits.entry(entry.vulnerability_id).or_insert_with(|| Hit {
            ecosystem: component.ecosystem,
            version: subject.text.clone(),
            advisories: BTreeSet::new(),
            fixed: BTreeSet::new(),
        });
        hit.advisories.insert(entry.advisory_id.clone());
        hit.fixed.extend(verdict.fixed);
    }
    hits
}

/// The order findings are listed in, and the API's cursor: most severe
/// first, KEV first within a severity, then id and purl.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct FindingKey(u8, bool, String, String);

impl FindingKey {
    pub fn of(f: &Finding) -> Self {
        FindingKey(4 - f.severity as u8, !f.kev, f.id.clone(), f.purl.clone())
    }
}

impl Finding {
    /// The finding as policy rules read it.
    pub fn facts(self) -> crate::policies::core::input::VulnerabilityFacts {
        crate::policies::core::input::VulnerabilityFacts {
            id: self.id,
            aliases: self.aliases,
            purl: self.purl,
            version: self.version,
            severity: self.severity.as_str().into(),
            cvss_score: self.cvss_score,
            kev: self.kev,
            fixed_versions: self.fixed_versions,
            state: self.state.as_str().into(),
            justification: self.justification,
            published: self.published,
        }
    }
}

/// What matched one component for one vulnerability.
struct Hit {
    ecosystem: Ecosystem,
    version: String,
    advisories: BTreeSet<String>,
    fixed: BTreeSet<String>,
}

/// What names and scores a vulnerability.
pub struct Described {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub kev_date_added: Option<chrono::NaiveDate>,
    pub kev_due_date: Option<chrono::NaiveDate>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn describe(
    advisories: &[&store::GroupAdvisory],
    ids: &[&store::GroupId],
    ecosystem: Option<Ecosystem>,
    matched: &BTreeSet<String>,
) -> Described {
    let pick = |prefix: &str| {
        advisories
            .iter()
            .map(|a| a.id.as_str())
            .find(|id| id.starts_with(prefix))
    };
    // Without a component to name the ecosystem, any ecosystem's own
    // database still beats GHSA.
    let own = match ecosystem {
        Some(e) => pick(own_database_prefix(e)),
        None => ["GO-", "PYSEC-", "RUSTSEC-"].into_iter().find_map(pick),
    };
    let id = own
        .or_else(|| pick("GHSA-"))
        .or_else(|| matched.iter().next().map(String::as_str))
        .or_else(|| advisories.first().map(|a| a.id.as_str()))
        .unwrap_or_default()
        .to_string();
    let aliases = ids
        .iter()
        .map(|i| i.id.clone())
        .filter(|i| *i != id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The best-founded severity of any advisory: a CVSS score over a rating.
    let scored = advisories
        .iter()
        .filter(|a| a.cvss_score.is_some())
        .max_by(|a, b| {
            a.cvss_score
                .partial_cmp(&b.cvss_score)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let (severity, cvss_score) = match scored {
        Some(a) => (
            Severity::parse(&a.severity).unwrap_or(Severity::Unknown),
            a.cvss_score,
        ),
        None => (
            advisories
                .iter()
                .filter_map(|a| Severity::parse(&a.severity))
                .max()
                .unwrap_or(Severity::Unknown),
            None,
        ),
    };
    let kev = ids.iter().find(|i| i.kev_date_added.is_some());
    let summary = advisories
        .iter()
        .find(|a| a.id == id && a.summary.is_some())
        .or_else(|| advisories.iter().find(|a| a.summary.is_some()))
        .and_then(|a| a.summary.clone());
    Described {
        id,
        aliases,
        summary,
        severity,
        cvss_score,
        kev_date_added: kev.and_then(|k| k.kev_date_added),
        kev_due_date: kev.and_then(|k| k.kev_due_date),
        published: advisories
            .iter()
            .filter_map(|a| a.published)
            .filter(|p| p.timestamp() > -62_000_000_000)
            .min(),
    }
}

fn decision_of(row: &store::DecisionRow) -> Option<Decision> {
    Some(Decision {
        id: row.id,
        scope: Scope::parse(&row.scope)?,
        artifact_id: row.artifact_id,
        project_id: row.project_id,
        purl: row.purl.clone(),
        state: State::parse(&row.state)?,
        justification: row.justification.clone(),
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

/// The vulnerability an id or alias names (exactly, then upper-cased).
pub async fn vulnerability_group(
    db: &mut sqlx::PgConnection,
    id: &str,
) -> sqlx::Result<Option<i64>> {
    let id = id.trim();
    if let Some(g) = store::vulnerability_of(&mut *db, id).await? {
        return Ok(Some(g));
    }
    store::vulnerability_of(&mut *db, &id.to_ascii_uppercase()).await
}

/// A vulnerability with every finding of it across the portfolio.
pub struct VulnerabilityView {
    pub described: Described,
    pub advisories: Vec<String>,
    pub findings: Vec<Finding>,
    /// Some artifact waits for evaluation: matched live.
    pub pending: bool,
}

pub async fn vulnerability(pool: &PgPool, group: i64) -> sqlx::Result<VulnerabilityView> {
    let (described, advisories) = describe_group(pool, group).await?;
    let mut conn = pool.acquire().await?;
    // Materialised findings answer in one indexed read when no artifact
    // waits for evaluation; otherwise they may lag: match live.
    let pending = store::findings::any_pending(&mut *conn).await?;
    let mut findings = if pending {
        vulnerability_findings(&mut conn, group).await?
    } else {
        recorded_findings(&mut conn, group, &described).await?
    };
    findings.sort_by(|a, b| {
        (
            &a.artifact.project,
            &a.artifact.artifact,
            &a.artifact.version,
            &a.purl,
        )
            .cmp(&(
                &b.artifact.project,
                &b.artifact.artifact,
                &b.artifact.version,
                &b.purl,
            ))
    });
    Ok(VulnerabilityView {
        described,
        advisories,
        findings,
        pending,
    })
}

/// One vulnerability's open findings as the worker recorded them, decided
/// by the current triage.
async fn recorded_findings(
    conn: &mut PgConnection,
    group: i64,
    described: &Described,
) -> sqlx::Result<Vec<Finding>> {
    let rows = store::findings::open_of_vulnerability(&mut *conn, group).await?;
    let decisions: Vec<(String, Decision)> = store::current_decisions(&mut *conn, &[group])
        .await?
        .iter()
        .filter_map(|r| Some((r.package_key.clone(), decision_of(r)?)))
        .collect();
    let now = chrono::Utc::now();
    Ok(rows
        .into_iter()
        .map(|r| {
            let decided = triage::decide(
                decisions
                    .iter()
                    .filter(|(k, _)| *k == r.package_key)
                    .map(|(_, d)| d),
                r.artifact_id,
                r.project_id,
                &r.purl,
                now,
            );
            let mut f = Finding {
                id: described.id.clone(),
                aliases: described.aliases.clone(),
                summary: described.summary.clone(),
                package: None,
                purl: r.purl,
                version: r.version,
                fixed_versions: r.fixed_versions,
                severity: described.severity,
                cvss_score: described.cvss_score,
                kev: described.kev_date_added.is_some(),
                kev_date_added: described.kev_date_added,
                state: decided.map_or(State::InTriage, |d| d.state),
                justification: decided.and_then(|d| d.justification.clone()),
                decision_id: decided.map(|d| d.id),
                sources: Vec::new(),
                advisories: Vec::new(),
                published: described.published,
                first_seen: Some(r.first_seen),
                last_seen: Some(r.last_seen),
                reachability: (r.reachability).and_then(|j| serde_json::from_value(j.0).ok()),
                vulnerability_id: group,
                package_key: r.package_key,
                artifact: ArtifactRef {
                    artifact_id: r.artifact_id,
                    project: r.project,
                    artifact: r.artifact,
                    version: r.artifact_version,
                },
            };
            reachability::settle(&mut f);
            f
        })
        .collect())
}

/// `describe` for a group the index holds (nothing known when `None`).
fn describe_held(
    group: Option<&index::Group>,
    ecosystem: Option<Ecosystem>,
    matched: &BTreeSet<String>,
) -> Described {
    let advisories: Vec<&store::GroupAdvisory> = group.iter().flat_map(|g| &g.advisories).collect();
    let ids: Vec<&store::GroupId> = group.iter().flat_map(|g| &g.ids).collect();
    describe(&advisories, &ids, ecosystem, matched)
}

/// How a vulnerability is named and scored, and its advisories' ids.
pub async fn describe_group(pool: &PgPool, group: i64) -> sqlx::Result<(Described, Vec<String>)> {
    let mut conn = pool.acquire().await?;
    let generation = index::generation(&mut conn).await?;
    let held = index::groups(&mut conn, &generation, &[group]).await?;
    let g = held.get(&group).map(|d| &**d);
    let described = describe_held(g, None, &BTreeSet::new());
    let ids = (g.iter().flat_map(|g| &g.advisories))
        .map(|a| a.id.clone())
        .collect();
    Ok((described, ids))
}

/// The prefix of each ecosystem's own advisory database.
fn own_database_prefix(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Go => "GO-",
        Ecosystem::PyPI => "PYSEC-",
        Ecosystem::CratesIo => "RUSTSEC-",
        Ecosystem::Debian => "DSA-",
        Ecosystem::Ubuntu => "USN-",
        Ecosystem::Alpine => "ALPINE-",
        _ => "GHSA-",
    }
}
