//! Severity from CVSS vectors (v2, v3.x, v4.0, scored by RustSec's `cvss`)
//! or, without a vector, from the database's own rating (GHSA's
//! `database_specific.severity`). No score and no rating is `unknown` —
//! never `low`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "unknown" => Severity::Unknown,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// CVSS qualitative rating of a base score (v3.1 / v4.0 table; a 0.0
    /// score, CVSS "none", is reported as low: it is a known score).
    pub fn of_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// A severity and what it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityScore {
    pub severity: Severity,
    /// The CVSS base score, when a vector gave one.
    pub score: Option<f64>,
    /// The vector that gave the score.
    pub vector: Option<String>,
}

impl SeverityScore {
    pub fn unknown() -> Self {
        SeverityScore {
            severity: Severity::Unknown,
            score: None,
            vector: None,
        }
    }

    /// An OSV `severity[]` entry (`CVSS_V2`, `CVSS_V3`, `CVSS_V4`); a vector
    /// that does not parse, or another type, gives `unknown`.
    pub fn from_osv(kind: &str, vector: &str) -> Self {
        if !matches!(kind, "CVSS_V2" | "CVSS_V3" | "CVSS_V4") || vector.len() > 512 {
            return Self::unknown();
        }
        match vector.parse::<cvss::Cvss>() {
            Ok(v) => {
                let score = v.score();
                SeverityScore {
                    severity: Severity::of_score(score),
                    score: Some(score),
                    vector: Some(vector.to_string()),
                }
            }
            Err(_) => Self::unknown(),
        }
    }

    /// A database's qualitative rating (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`).
    pub fn rating(rating: &str) -> Self {
        let severity = match rating.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "moderate" | "medium" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            _ => Severity::Unknown,
        };
        SeverityScore {
            severity,
            score: None,
            vector: None,
        }
    }

    /// The better-founded of two: a CVSS score beats a bare rating; between
    /// two of the same kind, the higher.
    pub fn max(self, other: Self) -> Self {
        let rank = |s: &Self| (s.score.is_some(), s.score.unwrap_or(0.0), s.severity);
        let (a, b) = (rank(&self), rank(&other));
        if (b.0, b.2) > (a.0, a.2) || (b.0 == a.0 && b.1 > a.1) {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_vectors_score() {
        let v3 = SeverityScore::from_osv("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!((v3.severity, v3.score), (Severity::Critical, Some(9.8)));
        let v4 = SeverityScore::from_osv(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!((v4.severity, v4.score), (Severity::Critical, Some(9.3)));
        let v2 = SeverityScore::from_osv("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:N/A:N");
        assert_eq!((v2.severity, v2.score), (Severity::Medium, Some(5.0)));
        let medium =
            SeverityScore::from_osv("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N");
        assert_eq!(
            (medium.severity, medium.score),
            (Severity::Medium, Some(4.2))
        );
        assert_eq!(
            SeverityScore::from_osv("CVSS_V3", "garbage").severity,
            Severity::Unknown
        );
        assert_eq!(
            SeverityScore::from_osv("Ubuntu", "high").severity,
            Severity::Unknown
        );
    }

    #[test]
    fn a_score_beats_a_rating() {
        let rated = SeverityScore::rating("CRITICAL");
        let scored =
            SeverityScore::from_osv("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N");
        assert_eq!(rated.clone().max(scored.clone()), scored);
        assert_eq!(scored.clone().max(rated.clone()), scored);
        assert_eq!(SeverityScore::unknown().max(rated.clone()), rated);
        assert_eq!(SeverityScore::rating("MODERATE").severity, Severity::Medium);
        assert_eq!(SeverityScore::rating("bogus").severity, Severity::Unknown);
    }
}
