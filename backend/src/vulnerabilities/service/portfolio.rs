//! Materialised findings: the evaluation worker records what matching says
//! for each artifact (first and last seen, the history of appearing and
//! resolving), and the portfolio views read them.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::vulnerabilities::core::severity::Severity;
use crate::vulnerabilities::store::findings as store;

use super::*;

/// A finding's identity among an artifact's: vulnerability, purl, and the
/// scanner's "type/name@version" for a package without a purl.
type Key = (i64, String, String);

fn key_of(f: &Finding) -> Key {
    let package = f
        .package
        .as_ref()
        .map(|p| format!("{}/{}@{}", p.package_type, p.name, p.version))
        .unwrap_or_default();
    (f.vulnerability_id, f.purl.clone(), package)
}

/// The artifact's stored findings by key (one read serves the whole sync).
async fn stored_by_key(
    conn: &mut PgConnection,
    artifact_id: i64,
) -> sqlx::Result<HashMap<Key, store::Seen>> {
    Ok(store::of_artifact(&mut *conn, artifact_id)
        .await?
        .into_iter()
        .map(|s| ((s.vulnerability_id, s.purl.clone(), s.package.clone()), s))
        .collect())
}

/// What one sync changed.
#[derive(Debug, Default)]
pub struct Synced {
    pub appeared: Vec<Finding>,
    pub resolved: usize,
}

/// Matches the artifact now and records the outcome: new findings appear,
/// known ones are seen again (or reappear), missing ones are resolved, each
/// change in the history. Returns the findings (with first/last seen) for
/// the caller's evaluation. Runs in the caller's transaction.
pub async fn sync_findings(
    conn: &mut PgConnection,
    artifact_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<(Vec<Finding>, Synced)> {
    let mut findings = artifact_findings(&mut *conn, artifact_id).await?;
    let stored = stored_by_key(&mut *conn, artifact_id).await?;
    let mut rows = store::CurrentRows::default();
    let mut changes = Vec::new();
    let mut synced = Synced::default();
    let mut current: HashSet<Key> = HashSet::new();
    for f in &mut findings {
        // A scanner's id no imported advisory knows has no vulnerability
        // row to refer to: it is listed live, not materialised.
        if f.vulnerability_id == 0 {
            continue;
        }
        let key = key_of(f);
        if !current.insert(key.clone()) {
            continue;
        }
        let change = match stored.get(&key) {
            None => Some("appeared"),
            Some(s) if s.resolved_at.is_some() => Some("reappeared"),
            Some(_) => None,
        };
        if let Some(change) = change {
            changes.push(store::Change {
                vulnerability_id: key.0,
                purl: key.1.clone(),
                package: key.2.clone(),
                change,
                severity: f.severity.as_str().into(),
                kev: f.kev,
            });
            synced.appeared.push(f.clone());
        }
        f.first_seen = Some(stored.get(&key).map_or(now, |s| s.first_seen));
        f.last_seen = Some(now);
        rows.vulnerability_id.push(key.0);
        rows.purl.push(key.1);
        rows.package.push(key.2);
        rows.package_key.push(f.package_key.clone());
        rows.version.push(f.version.clone());
        rows.fixed_versions
            .push(crate::vulnerabilities::service::pg_array(&f.fixed_versions));
        rows.display_id.push(f.id.clone());
        rows.severity.push(f.severity.as_str().into());
        rows.severity_rank.push(f.severity as i16);
        rows.kev.push(f.kev);
        rows.state.push(f.state.as_str().into());
        rows.reachability.push(
            (f.reachability.as_ref()).map(|r| serde_json::to_string(r).expect("serialisable")),
        );
    }
    // A resolution counts against the severity it was last seen with.
    let mut gone: Vec<Key> = Vec::new();
    for (k, s) in &stored {
        if s.resolved_at.is_none() && !current.contains(k) {
            gone.push(k.clone());
            changes.push(store::Change {
                vulnerability_id: k.0,
                purl: k.1.clone(),
                package: k.2.clone(),
                change: "resolved",
                severity: s.severity.clone(),
                kev: s.kev,
            });
        }
    }
    synced.resolved = gone.len();
    store::upsert(&mut *conn, artifact_id, &rows, now).await?;
    store::resolve(&mut *conn, artifact_id, &gone, now).await?;
    store::record_changes(&mut *conn, artifact_id, &changes, now).await?;
    Ok((findings, synced))
}

/// Adds first/last seen from the stored findings to live ones.
pub async fn with_seen(
    conn: &mut PgConnection,
    artifact_id: i64,
    findings: &mut [Finding],
) -> sqlx::Result<()> {
    let stored = stored_by_key(&mut *conn, artifact_id).await?;
    for f in findings {
        if let Some(s) = stored.get(&key_of(f)) {
            if s.resolved_at.is_none() {
                f.first_seen = Some(s.first_seen);
                f.last_seen = Some(s.last_seen);
            }
        }
    }
    Ok(())
}

/// The artifact's findings with first/last seen, in `FindingKey` order.
pub async fn ranked_findings(pool: &sqlx::PgPool, artifact_id: i64) -> sqlx::Result<Vec<Finding>> {
    let mut conn = pool.acquire().await?;
    let mut findings = artifact_findings(&mut conn, artifact_id).await?;
    with_seen(&mut conn, artifact_id, &mut findings).await?;
    findings.sort_by_cached_key(FindingKey::of);
    Ok(findings)
}

/// Open findings by severity across the portfolio, and the trend.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VulnerabilityOverview)]
pub struct Overview {
    /// Open findings (not triaged away) per severity, most severe first.
    pub by_severity: Vec<SeverityCounts>,
    /// Distinct vulnerabilities with open findings.
    pub vulnerabilities: i64,
    /// Distinct vulnerabilities in CISA KEV with open findings.
    pub kev_vulnerabilities: i64,
    /// Open findings.
    pub findings: i64,
    /// Findings (any state) per day and severity: one point per day,
    /// oldest first, the last one today.
    pub trend: Vec<TrendPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SeverityFindingCounts)]
pub struct SeverityCounts {
    pub severity: Severity,
    pub vulnerabilities: i64,
    pub findings: i64,
    pub kev_vulnerabilities: i64,
    pub artifacts: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FindingTrendPoint)]
pub struct TrendPoint {
    pub day: NaiveDate,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub unknown: i64,
}

impl TrendPoint {
    fn add(&mut self, severity: &str, delta: i64) {
        match severity {
            "critical" => self.critical += delta,
            "high" => self.high += delta,
            "medium" => self.medium += delta,
            "low" => self.low += delta,
            _ => self.unknown += delta,
        }
    }

    pub fn total(&self) -> i64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

/// The portfolio (or one project) overview, with a trend of `days` days.
pub async fn overview(
    conn: &mut PgConnection,
    project: Option<&str>,
    days: u32,
    now: DateTime<Utc>,
) -> sqlx::Result<Overview> {
    let counts = store::counts(&mut *conn, project).await?;
    let by: HashMap<&str, &store::SeverityCount> =
        counts.iter().map(|c| (c.severity.as_str(), c)).collect();
    let by_severity: Vec<SeverityCounts> = SEVERITIES
        .iter()
        .map(|s| {
            let c = by.get(s.as_str());
            SeverityCounts {
                severity: *s,
                vulnerabilities: c.map_or(0, |c| c.vulnerabilities),
                findings: c.map_or(0, |c| c.findings),
                kev_vulnerabilities: c.map_or(0, |c| c.kev_vulnerabilities),
                artifacts: c.map_or(0, |c| c.artifacts),
            }
        })
        .collect();
    let totals = store::totals(&mut *conn, project).await?;
    let today = now.date_naive();
    let first = today - Duration::days(i64::from(days.max(1)) - 1);
    let from = first.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let changes = store::daily_changes(&mut *conn, project, from).await?;
    Ok(Overview {
        by_severity,
        vulnerabilities: totals.vulnerabilities,
        kev_vulnerabilities: totals.kev_vulnerabilities,
        findings: totals.findings,
        trend: trend(&changes, first, today),
    })
}

/// Running sums of the daily changes: one point per day from `first` to
/// `last` (changes before `first` arrive dated the day before it).
fn trend(changes: &[store::DayChange], first: NaiveDate, last: NaiveDate) -> Vec<TrendPoint> {
    let mut by_day: BTreeMap<NaiveDate, Vec<&store::DayChange>> = BTreeMap::new();
    for c in changes {
        by_day
            .entry(c.day.max(first.pred_opt().unwrap_or(first)))
            .or_default()
            .push(c);
    }
    let mut running = TrendPoint {
        day: first,
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        unknown: 0,
    };
    for c in by_day.range(..first).flat_map(|(_, v)| v) {
        running.add(&c.severity, c.delta);
    }
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        for c in by_day.get(&day).into_iter().flatten() {
            running.add(&c.severity, c.delta);
        }
        running.day = day;
        out.push(running.clone());
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out
}

pub use store::{PortfolioFilter, PortfolioRow};

/// One page of the portfolio's vulnerabilities.
pub async fn portfolio(
    conn: &mut PgConnection,
    filter: &PortfolioFilter<'_>,
    after: Option<(i16, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<(PortfolioRow, Vec<String>)>> {
    let rows = store::portfolio(&mut *conn, filter, after, limit).await?;
    let groups: Vec<i64> = rows.iter().map(|r| r.vulnerability_id).collect();
    let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
    for id in crate::vulnerabilities::store::group_ids(&mut *conn, &groups).await? {
        aliases.entry(id.vulnerability_id).or_default().push(id.id);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut a = aliases.remove(&r.vulnerability_id).unwrap_or_default();
            a.retain(|x| *x != r.display_id);
            (r, a)
        })
        .collect())
}

/// An artifact's finding history, newest first.
pub async fn history(
    conn: &mut PgConnection,
    artifact_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<store::HistoryRow>> {
    store::history(&mut *conn, artifact_id, before_id, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn trend_is_the_running_sum_with_a_baseline() {
        let c = |d: &str, s: &str, delta| store::DayChange {
            day: day(d),
            severity: s.into(),
            delta,
        };
        let changes = [
            c("2026-11-27", "high", 3),
            c("2026-11-29", "high", -1),
            c("2026-11-29", "critical", 2),
            c("2026-12-01", "low", 1),
        ];
        let t = trend(&changes, day("2026-11-28"), day("2026-12-01"));
        assert_eq!(t.len(), 4);
        assert_eq!(
            (t[0].day, t[0].high, t[0].critical),
            (day("2026-11-28"), 3, 0)
        );
        assert_eq!((t[1].high, t[1].critical), (2, 2));
        assert_eq!(t[2].total(), 4);
        assert_eq!(
            (t[3].day, t[3].low, t[3].total()),
            (day("2026-12-01"), 1, 5)
        );
    }
}
