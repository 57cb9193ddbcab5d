//! The Art. 14 clock: what a case is, its deadlines, its status, the order
//! its reports are submitted in, and which deadlines are overdue or close.
//! Every function takes `now` (nothing here reads the clock).

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a case reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CraCaseKind)]
pub enum Kind {
    /// An actively exploited vulnerability in the product (Art. 14(1)).
    ExploitedVulnerability,
    /// A severe incident having an impact on the product's security
    /// (Art. 14(3)); opened by hand.
    SevereIncident,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ExploitedVulnerability => "exploited_vulnerability",
            Kind::SevereIncident => "severe_incident",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "exploited_vulnerability" => Some(Kind::ExploitedVulnerability),
            "severe_incident" => Some(Kind::SevereIncident),
            _ => None,
        }
    }
}

/// A report to the CSIRT coordinator and ENISA, in the order they are due.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = CraStage)]
pub enum Stage {
    /// Within 24 hours of becoming aware.
    EarlyWarning,
    /// Within 72 hours of becoming aware.
    Notification,
    /// 14 days after a corrective or mitigating measure is available
    /// (vulnerabilities), one month after the notification (incidents).
    FinalReport,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::EarlyWarning, Stage::Notification, Stage::FinalReport];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::EarlyWarning => "early_warning",
            Stage::Notification => "notification",
            Stage::FinalReport => "final_report",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// How people call it.
    pub fn title(self) -> &'static str {
        match self {
            Stage::EarlyWarning => "Early warning",
            Stage::Notification => "Notification",
            Stage::FinalReport => "Final report",
        }
    }

    fn previous(self) -> Option<Stage> {
        match self {
            Stage::EarlyWarning => None,
            Stage::Notification => Some(Stage::EarlyWarning),
            Stage::FinalReport => Some(Stage::Notification),
        }
    }
}

/// Where a case is: `open` → `early_warning_sent` → `notified` → `closed`
/// (the final report is submitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CraCaseStatus)]
pub enum Status {
    Open,
    EarlyWarningSent,
    Notified,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::EarlyWarningSent => "early_warning_sent",
            Status::Notified => "notified",
            Status::Closed => "closed",
        }
    }
}

/// When each report is due; `final_report` is null until what it counts
/// from is recorded (the corrective measure, or the incident notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CraDeadlines)]
pub struct Deadlines {
    pub early_warning: DateTime<Utc>,
    pub notification: DateTime<Utc>,
    pub final_report: Option<DateTime<Utc>>,
}

impl Deadlines {
    pub fn of(&self, stage: Stage) -> Option<DateTime<Utc>> {
        match stage {
            Stage::EarlyWarning => Some(self.early_warning),
            Stage::Notification => Some(self.notification),
            Stage::FinalReport => self.final_report,
        }
    }
}

/// What the deadlines of a case are computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub kind: Kind,
    pub aware_at: DateTime<Utc>,
    /// When the corrective or mitigating measure is (or was) available.
    pub corrective_available_at: Option<DateTime<Utc>>,
    /// When the notification was submitted, if it was.
    pub notification_submitted_at: Option<DateTime<Utc>>,
}

pub const EARLY_WARNING: Duration = Duration::hours(24);
pub const NOTIFICATION: Duration = Duration::hours(72);
pub const VULNERABILITY_FINAL: Duration = Duration::days(14);

impl Clock {
    /// Art. 14(2) for vulnerabilities, 14(4) for severe incidents.
    pub fn deadlines(&self) -> Deadlines {
        let final_report = match self.kind {
            Kind::ExploitedVulnerability => self
                .corrective_available_at
                .map(|t| t + VULNERABILITY_FINAL),
            // One calendar month after the notification was submitted.
            Kind::SevereIncident => self
                .notification_submitted_at
                .and_then(|t| t.checked_add_months(Months::new(1))),
        };
        Deadlines {
            early_warning: self.aware_at + EARLY_WARNING,
            notification: self.aware_at + NOTIFICATION,
            final_report,
        }
    }
}

/// The status after these stages were submitted.
pub fn status(submitted: &[Stage]) -> Status {
    match submitted.iter().max() {
        None => Status::Open,
        Some(Stage::EarlyWarning) => Status::EarlyWarningSent,
        Some(Stage::Notification) => Status::Notified,
        Some(Stage::FinalReport) => Status::Closed,
    }
}

/// Why a submission cannot be recorded now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the {} was already recorded for this case", .0.title().to_lowercase())]
    AlreadySubmitted(Stage),
    #[error("the {} comes first: record it before the {}", .missing.title().to_lowercase(), .stage.title().to_lowercase())]
    OutOfOrder { stage: Stage, missing: Stage },
    #[error("the final report of an exploited vulnerability follows a corrective or mitigating measure: record it first (POST …/corrective-measure)")]
    NoCorrectiveMeasure,
}

/// Whether `stage` may be submitted after `submitted`: each stage once, in
/// order; an exploited vulnerability's final report only once a corrective
/// measure is recorded.
pub fn check_submission(
    kind: Kind,
    submitted: &[Stage],
    stage: Stage,
    has_corrective_measure: bool,
) -> Result<(), OrderError> {
    if submitted.contains(&stage) {
        return Err(OrderError::AlreadySubmitted(stage));
    }
    if let Some(previous) = stage.previous() {
        if !submitted.contains(&previous) {
            return Err(OrderError::OutOfOrder {
                stage,
                missing: previous,
            });
        }
    }
    if stage == Stage::FinalReport
        && kind == Kind::ExploitedVulnerability
        && !has_corrective_measure
    {
        return Err(OrderError::NoCorrectiveMeasure);
    }
    Ok(())
}

/// The stages not submitted whose deadline has passed.
pub fn overdue(deadlines: &Deadlines, submitted: &[Stage], now: DateTime<Utc>) -> Vec<Stage> {
    Stage::ALL
        .into_iter()
        .filter(|s| !submitted.contains(s))
        .filter(|s| deadlines.of(*s).is_some_and(|d| d < now))
        .collect()
}

/// How long before a deadline `cra.deadline_approaching` is sent.
pub const APPROACHING: Duration = Duration::hours(6);

/// The stages not submitted whose deadline is within `window` from now (or
/// already past: an announcement that comes late still tells).
pub fn approaching(
    deadlines: &Deadlines,
    submitted: &[Stage],
    now: DateTime<Utc>,
    window: Duration,
) -> Vec<Stage> {
    Stage::ALL
        .into_iter()
        .filter(|s| !submitted.contains(s))
        .filter(|s| deadlines.of(*s).is_some_and(|d| d - now <= window))
        .collect()
}

/// The time left until `deadline`, for people: "23 h 59 min left",
/// "2 d 3 h left", "overdue by 1 h 5 min".
pub fn countdown(deadline: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = deadline - now;
    let (span, overdue) = if left < Duration::zero() {
        (-left, true)
    } else {
        (left, false)
    };
    let minutes = span.num_minutes();
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    };
    if overdue {
        format!("overdue by {text}")
    } else {
        format!("{text} left")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn clock(kind: Kind) -> Clock {
        Clock {
            kind,
            aware_at: t("2026-09-11T10:00:00Z"),
            corrective_available_at: None,
            notification_submitted_at: None,
        }
    }

    #[test]
    fn vulnerability_deadlines() {
        let mut c = clock(Kind::ExploitedVulnerability);
        let d = c.deadlines();
        assert_eq!(d.early_warning, t("2026-09-12T10:00:00Z"));
        assert_eq!(d.notification, t("2026-09-14T10:00:00Z"));
        assert_eq!(d.final_report, None, "no corrective measure yet");
        c.notification_submitted_at = Some(t("2026-09-13T00:00:00Z"));
        assert_eq!(
            c.deadlines().final_report,
            None,
            "not from the notification"
        );
        c.corrective_available_at = Some(t("2026-09-20T08:30:00Z"));
        assert_eq!(c.deadlines().final_report, Some(t("2026-10-04T08:30:00Z")));
    }

    #[test]
    fn incident_deadlines() {
        let mut c = clock(Kind::SevereIncident);
        c.corrective_available_at = Some(t("2026-09-20T08:30:00Z"));
        let d = c.deadlines();
        assert_eq!(d.early_warning, t("2026-09-12T10:00:00Z"));
        assert_eq!(d.notification, t("2026-09-14T10:00:00Z"));
        assert_eq!(d.final_report, None, "counts from the notification");
        c.notification_submitted_at = Some(t("2026-09-13T09:00:00Z"));
        assert_eq!(c.deadlines().final_report, Some(t("2026-10-13T09:00:00Z")));
        // A calendar month: 31 January + 1 month is the end of February.
        c.notification_submitted_at = Some(t("2027-01-31T12:00:00Z"));
        assert_eq!(c.deadlines().final_report, Some(t("2027-02-28T12:00:00Z")));
    }

    #[test]
    fn the_state_machine() {
        use Stage::*;
        assert_eq!(status(&[]), Status::Open);
        assert_eq!(status(&[EarlyWarning]), Status::EarlyWarningSent);
        assert_eq!(status(&[EarlyWarning, Notification]), Status::Notified);
        assert_eq!(
            status(&[EarlyWarning, Notification, FinalReport]),
            Status::Closed
        );
        let v = Kind::ExploitedVulnerability;
        assert_eq!(check_submission(v, &[], EarlyWarning, false), Ok(()));
        assert_eq!(
            check_submission(v, &[], Notification, false),
            Err(OrderError::OutOfOrder {
                stage: Notification,
                missing: EarlyWarning
            })
        );
        assert_eq!(
            check_submission(v, &[], FinalReport, true),
            Err(OrderError::OutOfOrder {
                stage: FinalReport,
                missing: Notification
            })
        );
        assert_eq!(
            check_submission(v, &[EarlyWarning], EarlyWarning, false),
            Err(OrderError::AlreadySubmitted(EarlyWarning))
        );
        assert_eq!(
            check_submission(v, &[EarlyWarning], Notification, false),
            Ok(())
        );
        assert_eq!(
            check_submission(v, &[EarlyWarning, Notification], FinalReport, false),
            Err(OrderError::NoCorrectiveMeasure)
        );
        assert_eq!(
            check_submission(v, &[EarlyWarning, Notification], FinalReport, true),
            Ok(())
        );
        // An incident's final report needs no corrective measure.
        assert_eq!(
            check_submission(
                Kind::SevereIncident,
                &[EarlyWarning, Notification],
                FinalReport,
                false
            ),
            Ok(())
        );
        assert!(OrderError::NoCorrectiveMeasure
            .to_string()
            .contains("corrective"));
        assert_eq!(
            OrderError::OutOfOrder {
                stage: Notification,
                missing: EarlyWarning
            }
            .to_string(),
            "the early warning comes first: record it before the notification"
        );
    }

    #[test]
    fn overdue_and_approaching() {
        let c = Clock {
            corrective_available_at: Some(t("2026-09-12T00:00:00Z")),
            ..clock(Kind::ExploitedVulnerability)
        };
        let d = c.deadlines();
        let at = t("2026-09-12T11:00:00Z");
        assert_eq!(overdue(&d, &[], at), [Stage::EarlyWarning]);
        assert!(overdue(&d, &[Stage::EarlyWarning], at).is_empty());
        assert!(
            overdue(&d, &[], t("2026-09-12T10:00:00Z")).is_empty(),
            "due at, not past"
        );
        let later = t("2026-09-30T00:00:00Z");
        assert_eq!(
            overdue(&d, &[Stage::EarlyWarning], later),
            [Stage::Notification, Stage::FinalReport]
        );
        let w = APPROACHING;
        assert!(approaching(&d, &[], t("2026-09-12T03:59:00Z"), w).is_empty());
        assert_eq!(
            approaching(&d, &[], t("2026-09-12T04:00:00Z"), w),
            [Stage::EarlyWarning]
        );
        assert_eq!(
            approaching(&d, &[Stage::EarlyWarning], t("2026-09-14T05:00:00Z"), w),
            [Stage::Notification]
        );
        let no_measure = clock(Kind::ExploitedVulnerability).deadlines();
        assert_eq!(
            approaching(
                &no_measure,
                &[Stage::EarlyWarning, Stage::Notification],
                later,
                w
            ),
            Vec::<Stage>::new(),
            "no final deadline yet"
        );
    }

    #[test]
    fn countdowns() {
        let d = t("2026-09-12T10:00:00Z");
        assert_eq!(countdown(d, t("2026-09-11T10:01:00Z")), "23 h 59 min left");
        assert_eq!(countdown(d, t("2026-09-10T07:00:00Z")), "2 d 3 h left");
        assert_eq!(countdown(d, t("2026-09-12T09:59:30Z")), "0 min left");
        assert_eq!(
            countdown(d, t("2026-09-12T11:05:00Z")),
            "overdue by 1 h 5 min"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in [Kind::ExploitedVulnerability, Kind::SevereIncident] {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Stage::parse("intermediate"), None);
        assert_eq!(
            serde_json::to_value(Status::EarlyWarningSent).unwrap(),
            "early_warning_sent"
        );
    }
}
