//! The CISA Secure Software Development Attestation Form (the SSDF
//! self-attestation), pre-filled: each statement with the SSDF tasks the
//! form relates it to, their status in the SSDF report and the evidence
//! behind them. The form's text and mapping are data
//! (`frameworks/cisa-attestation.json`).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assess::{Evidence, Status};
use super::report::Report;

static FORM: LazyLock<Form> = LazyLock::new(|| {
    parse(include_str!("../frameworks/cisa-attestation.json"))
        .expect("the built-in attestation form follows the schema")
});

pub fn form() -> &'static Form {
    &FORM
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub id: String,
    pub title: String,
    pub version: String,
    pub source: String,
    pub statements: Vec<FormStatement>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormStatement {
    /// `1`, `1a`, … as the form numbers them.
    pub id: String,
    pub text: String,
    /// SSDF 1.1 task ids the form relates it to (`po.5.1`).
    pub ssdf: Vec<String>,
    pub note: String,
}

/// Reads the form and checks that every task it names is one of the SSDF
/// framework's.
pub fn parse(text: &str) -> Result<Form, String> {
    let f: Form = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let ssdf = super::framework::get("nist-ssdf-1.1").ok_or("the SSDF framework is missing")?;
    let mut seen = std::collections::BTreeSet::new();
    for s in &f.statements {
        if !seen.insert(s.id.as_str()) {
            return Err(format!("statement `{}` is listed twice", s.id));
        }
        for t in &s.ssdf {
            if !ssdf.controls.iter().any(|c| &c.id == t) {
                return Err(format!(
                    "statement `{}` names unknown SSDF task `{t}`",
                    s.id
                ));
            }
        }
    }
    Ok(f)
}

/// One task as the filled form shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskStatus {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FilledStatement {
    pub id: String,
    pub text: String,
    /// What the evidence supports: `satisfied` when every related task is
    /// (or does not apply), `manual` when what remains needs a person's
    /// statement, `partial` or `not_satisfied` otherwise.
    pub status: Status,
    pub tasks: Vec<TaskStatus>,
    pub evidence: Vec<Evidence>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FilledForm {
    pub form: String,
    pub title: String,
    pub version: String,
    pub source: String,
    /// The SSDF report the form is filled from (its scope and time).
    pub report: super::report::Scope,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// Every statement is supported by evidence or stated by a person: the
    /// form can be signed as it stands.
    pub ready: bool,
    pub statements: Vec<FilledStatement>,
}

/// Fills the form from an SSDF report.
pub fn fill(form: &Form, ssdf: &Report) -> FilledForm {
    let statements: Vec<FilledStatement> = form
        .statements
        .iter()
        .map(|s| {
            let tasks: Vec<TaskStatus> = s
                .ssdf
                .iter()
                .filter_map(|t| ssdf.controls.iter().find(|c| &c.id == t))
                .map(|c| TaskStatus {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    status: c.status,
                    summary: c.summary.clone(),
                })
                .collect();
            let mut evidence: Vec<Evidence> = Vec::new();
            for c in ssdf.controls.iter().filter(|c| s.ssdf.contains(&c.id)) {
                for e in &c.evidence {
                    if !evidence.contains(e) && evidence.len() < super::assess::MAX_EVIDENCE {
                        evidence.push(e.clone());
                    }
                }
            }
            let statuses: Vec<Status> = tasks.iter().map(|t| t.status).collect();
            FilledStatement {
                id: s.id.clone(),
                text: s.text.clone(),
                status: statement_status(&statuses),
                tasks,
                evidence,
                note: s.note.clone(),
            }
        })
        .collect();
    FilledForm {
        form: form.id.clone(),
        title: form.title.clone(),
        version: form.version.clone(),
        source: form.source.clone(),
        report: ssdf.scope.clone(),
        generated_at: ssdf.generated_at,
        ready: statements
            .iter()
            .all(|s| matches!(s.status, Status::Satisfied | Status::NotApplicable)),
        statements,
    }
}

fn statement_status(tasks: &[Status]) -> Status {
    let open: Vec<Status> = tasks
        .iter()
        .copied()
        .filter(|s| *s != Status::NotApplicable)
        .collect();
    if tasks.is_empty() {
        Status::Manual
    } else if open.is_empty() {
        Status::NotApplicable
    } else if open.iter().all(|s| *s == Status::Satisfied) {
        Status::Satisfied
    } else if open
        .iter()
        .all(|s| matches!(s, Status::Satisfied | Status::Manual))
    {
        Status::Manual
    } else if open.iter().all(|s| *s == Status::NotSatisfied) {
        Status::NotSatisfied
    } else {
        Status::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_loads_and_names_only_ssdf_tasks() {
        let f = form();
        assert!(f.statements.len() >= 4, "{} statements", f.statements.len());
        for id in ["1", "2", "3", "4"] {
            assert!(f.statements.iter().any(|s| s.id == id), "statement {id}");
        }
        let bad = r#"{"id":"x","title":"t","version":"v","source":"s","statements":[{"id":"1","text":"t","ssdf":["po.9.9"],"note":""}]}"#;
        assert!(parse(bad).unwrap_err().contains("po.9.9"));
    }

    #[test]
    fn a_statement_is_as_strong_as_its_weakest_task() {
        use Status::*;
        assert_eq!(statement_status(&[Satisfied, NotApplicable]), Satisfied);
        assert_eq!(statement_status(&[Satisfied, Manual]), Manual);
        assert_eq!(statement_status(&[Satisfied, NotSatisfied]), Partial);
        assert_eq!(
            statement_status(&[NotSatisfied, NotSatisfied]),
            NotSatisfied
        );
        assert_eq!(statement_status(&[Manual, Partial]), Partial);
        assert_eq!(statement_status(&[NotApplicable]), NotApplicable);
        assert_eq!(statement_status(&[]), Manual);
    }
}
