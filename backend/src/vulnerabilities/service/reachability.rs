//! Go reachability: a Go finding of an artifact whose binary was uploaded
//! is compared with the vulnerable symbols its advisories list
//! (`ecosystem_specific.imports`), as govulncheck's binary mode does. When
//! the binary links none of them and no person or VEX has decided, the
//! finding is `not_affected` / `vulnerable_code_not_present`, labelled as
//! generated (`reachability.sets_state`); the finding itself stays listed.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::go::core::symbols::{self, Symbols};
use crate::go::store as gostore;
use crate::vulnerabilities::core::osv;
use crate::vulnerabilities::core::purl::Purl;
use crate::vulnerabilities::core::version::Ecosystem;
use crate::vulnerabilities::store;

use super::*;

/// The justification a not-linked finding gets.
pub const NOT_PRESENT: &str = "vulnerable_code_not_present";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReachabilityState {
    /// The binary links at least one vulnerable symbol (listed).
    Linked,
    /// The binary links none of the vulnerable symbols (those checked listed).
    NotLinked,
    /// The advisories list no symbols: only the module-level finding stands.
    Unknown,
}

/// What the artifact's Go binary says about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reachability {
    pub state: ReachabilityState,
    /// `linked`: the vulnerable symbols the binary links (`pkg.Symbol`, or a
    /// package path when the advisory names the whole package);
    /// `not_linked`: every one that was checked.
    pub symbols: Vec<String>,
    /// `sha256:…` of the binary whose function table was read.
    pub binary: Option<String>,
    /// This decided the finding's state (`not_affected`,
    /// `vulnerable_code_not_present`): no person or VEX had decided.
    pub sets_state: bool,
}

impl Reachability {
    pub fn is_linked(&self) -> bool {
        self.state == ReachabilityState::Linked
    }

    fn of(decided: symbols::Reachability, binary: Option<String>) -> Self {
        let (state, symbols) = match decided {
            symbols::Reachability::Linked { symbols } => (ReachabilityState::Linked, symbols),
            symbols::Reachability::NotLinked { checked } => (ReachabilityState::NotLinked, checked),
            symbols::Reachability::Unknown => (ReachabilityState::Unknown, Vec::new()),
        };
        Reachability {
            state,
            symbols,
            binary,
            sets_state: false,
        }
    }
}

/// Sets the generated state on a finding no decision covers; a decision
/// (person, VEX) always wins over the generated one.
pub fn settle(f: &mut Finding) {
    let Some(r) = f.reachability.as_mut() else {
        return;
    };
    r.sets_state = r.state == ReachabilityState::NotLinked && f.decision_id.is_none();
    if r.sets_state {
        f.state = State::NotAffected;
        f.justification = Some(NOT_PRESENT.into());
    }
}

fn is_go(purl: &str) -> bool {
    Purl::parse(purl)
        .and_then(|p| p.package())
        .is_some_and(|p| p.ecosystem == Ecosystem::Go)
}

/// Adds reachability to the Go findings of artifacts whose latest build
/// info came from a binary whose function table was read, and settles
/// their state. Findings of other artifacts are left as they are.
pub async fn apply(conn: &mut PgConnection, findings: &mut [Finding]) -> sqlx::Result<()> {
    let go: Vec<usize> = (0..findings.len())
        .filter(|&i| !findings[i].advisories.is_empty() && is_go(&findings[i].purl))
        .collect();
    if go.is_empty() {
        return Ok(());
    }
    let artifacts: Vec<i64> = (go.iter().map(|&i| findings[i].artifact.artifact_id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let sources: HashMap<i64, gostore::SymbolSource> =
        gostore::symbol_sources(&mut *conn, &artifacts)
            .await?
            .into_iter()
            .map(|s| (s.artifact_id, s))
            .collect();
    let go: Vec<usize> = go
        .into_iter()
        .filter(|&i| sources.contains_key(&findings[i].artifact.artifact_id))
        .collect();
    if go.is_empty() {
        return Ok(());
    }
    let advisories: Vec<String> = (go.iter().flat_map(|&i| findings[i].advisories.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let affected: HashMap<String, serde_json::Value> =
        store::advisory_affected(&mut *conn, &advisories)
            .await?
            .into_iter()
            .collect();
    // The imports each finding is judged on, and the packages each build
    // must be read for.
    let mut imports: HashMap<usize, Vec<(String, Vec<String>)>> = HashMap::new();
    let mut packages: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for &i in &go {
        let f = &findings[i];
        let Some(component) = Purl::parse(&f.purl).and_then(|p| p.package()) else {
            continue;
        };
        let mut listed: Vec<(String, Vec<String>)> = Vec::new();
        for a in f.advisories.iter().filter_map(|a| affected.get(a)) {
            for import in osv::imports_for(a, &component) {
                if !listed.contains(&import) {
                    listed.push(import);
                }
            }
        }
        let build = sources[&f.artifact.artifact_id].go_build_id;
        (packages.entry(build).or_default()).extend(listed.iter().map(|(p, _)| p.clone()));
        imports.insert(i, listed);
    }
    let mut tables: HashMap<i64, Symbols> = HashMap::new();
    for (build, wanted) in packages {
        let wanted: Vec<String> = wanted.into_iter().collect();
        tables.insert(
            build,
            gostore::symbols_in(&mut *conn, build, &wanted).await?,
        );
    }
    for (i, listed) in imports {
        let f = &mut findings[i];
        let source = &sources[&f.artifact.artifact_id];
        let table = tables.get(&source.go_build_id).cloned().unwrap_or_default();
        let decided = symbols::reachability(&table, &listed);
        f.reachability = Some(Reachability::of(decided, source.binary_digest.clone()));
        settle(f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(decision: Option<i64>) -> Finding {
        Finding {
            id: "GO-2023-0001".into(),
            aliases: vec![],
            summary: None,
            package: None,
            purl: "pkg:golang/stdlib@v1.20.0".into(),
            version: "1.20.0".into(),
            fixed_versions: vec![],
            severity: crate::vulnerabilities::core::severity::Severity::Unknown,
            cvss_score: None,
            kev: false,
            kev_date_added: None,
            state: if decision.is_some() {
                State::Affected
            } else {
                State::InTriage
            },
            justification: None,
            decision_id: decision,
            sources: vec!["osv".into()],
            advisories: vec!["GO-2023-0001".into()],
            published: None,
            first_seen: None,
            last_seen: None,
            reachability: None,
            vulnerability_id: 1,
            package_key: String::new(),
            artifact: ArtifactRef::default(),
        }
    }

    fn table() -> Symbols {
        Symbols::from_entries([
            ("net/http".to_string(), "Server.Serve".to_string()),
            ("fmt".to_string(), "Println".to_string()),
        ])
    }

    #[test]
    fn not_linked_sets_state_only_without_a_decision() {
        let imports = vec![("net/http".to_string(), vec!["ListenAndServe".to_string()])];
        let decided = symbols::reachability(&table(), &imports);
        let mut f = finding(None);
        f.reachability = Some(Reachability::of(decided.clone(), Some("sha256:ab".into())));
        settle(&mut f);
        assert_eq!(f.state, State::NotAffected);
        assert_eq!(f.justification.as_deref(), Some(NOT_PRESENT));
        let r = f.reachability.as_ref().unwrap();
        assert!(r.sets_state);
        assert_eq!(r.symbols, ["net/http.ListenAndServe"]);

        // A person's decision wins; the reachability stays visible.
        let mut f = finding(Some(7));
        f.reachability = Some(Reachability::of(decided, None));
        settle(&mut f);
        assert_eq!(f.state, State::Affected);
        assert!(!f.reachability.unwrap().sets_state);
    }

    #[test]
    fn linked_and_unknown_leave_the_state() {
        for imports in [
            vec![("net/http".to_string(), vec!["Server.Serve".to_string()])],
            vec![("fmt".to_string(), vec![])],
            vec![],
        ] {
            let decided = symbols::reachability(&table(), &imports);
            let mut f = finding(None);
            f.reachability = Some(Reachability::of(decided, None));
            settle(&mut f);
            assert_eq!(f.state, State::InTriage, "{imports:?}");
            assert!(!f.reachability.unwrap().sets_state);
        }
    }
}
