//! The bodies sent: the generic envelope, or a Slack-compatible message.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::event::{Event, Format};

/// The body for `format`: `id` names the event (the same in every
/// subscription's delivery of it), `at` is when it occurred.
pub fn render(format: Format, event: &Event, id: &str, at: DateTime<Utc>) -> Value {
    match format {
        Format::Generic => generic(event, id, at),
        Format::Slack => slack(event, id, at),
    }
}

/// `{"event": kind, "id": id, "occurred_at": RFC 3339, "data": {...}}`.
pub fn generic(event: &Event, id: &str, at: DateTime<Utc>) -> Value {
    json!({
        "event": event.kind().as_str(),
        "id": id,
        "occurred_at": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": event.data(),
    })
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped (they start links and
/// mentions); everything else is literal.
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line saying what happened (plain text, for Slack's `text`).
pub fn summary(event: &Event) -> String {
    match event {
        Event::Finding(f) => {
            let aliases = if f.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", f.aliases.join(", "))
            };
            let kev = if f.kev { ", in CISA KEV" } else { "" };
            format!(
                "New {} vulnerability {}{aliases}{kev} in {} {} {}: {}",
                f.severity.as_str(),
                f.vulnerability,
                f.project,
                f.artifact,
                f.version,
                f.purl
            )
        }
        Event::GateDenied(g) => format!(
            "Policy set {} now denies {} {} {} ({} failing rule{})",
            g.policy_set,
            g.project,
            g.artifact,
            g.version,
            g.failing_rules.len(),
            if g.failing_rules.len() == 1 { "" } else { "s" }
        ),
        Event::Test(t) => format!(
            "Test notification for subscription {}: {}",
            t.subscription, t.message
        ),
        Event::CraCaseOpened(c) => format!(
            "CRA case {} opened for {}: {}; early warning due {}",
            c.case_id,
            c.project,
            c.vulnerability.as_deref().unwrap_or("severe incident"),
            c.early_warning_due
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        Event::CraDeadlineApproaching(c) => format!(
            "CRA case {} ({}, {}): {} due {} ({})",
            c.case_id,
            c.project,
            c.vulnerability.as_deref().unwrap_or("severe incident"),
            c.stage.replace('_', " "),
            c.due_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            c.countdown
        ),
    }
}

/// `{"text": ..., "blocks": [...]}`: the text is the notification's
/// fallback (and what Slack shows in alerts), the blocks the details.
pub fn slack(event: &Event, id: &str, at: DateTime<Utc>) -> Value {
    let text = summary(event);
    let mut fields: Vec<(String, String)> = Vec::new();
    match event {
        Event::Finding(f) => {
            fields.push(("Severity".into(), f.severity.as_str().into()));
            fields.push(("KEV".into(), if f.kev { "yes" } else { "no" }.into()));
            fields.push(("Component".into(), f.purl.clone()));
            fields.push((
                "Fixed in".into(),
                if f.fixed_versions.is_empty() {
                    "no fix known".into()
                } else {
                    f.fixed_versions.join(", ")
                },
            ));
            if let Some(s) = &f.summary {
                fields.push(("Summary".into(), s.clone()));
            }
        }
        Event::GateDenied(g) => {
            fields.push(("Policy set".into(), g.policy_set.clone()));
            if let Some(d) = &g.digest {
                fields.push(("Digest".into(), d.clone()));
            }
            for r in g.failing_rules.iter().take(10) {
                fields.push((r.rule.clone(), r.message.clone()));
            }
        }
        Event::Test(_) => {}
        Event::CraCaseOpened(c) => {
            fields.push(("Kind".into(), c.kind.clone()));
            fields.push((
                "Aware at".into(),
                c.aware_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            ));
            fields.push((
                "Notification due".into(),
                c.notification_due
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            ));
        }
        Event::CraDeadlineApproaching(c) => {
            fields.push(("Stage".into(), c.stage.clone()));
            fields.push(("Time left".into(), c.countdown.clone()));
        }
    }
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&text))}
    })];
    if !fields.is_empty() {
        // Slack allows ten fields a section, 2000 characters each.
        blocks.push(json!({
            "type": "section",
            "fields": fields.iter().take(10).map(|(k, v)| json!({
                "type": "mrkdwn",
                "text": truncate(&format!("*{}*\n{}", slack_escape(k), slack_escape(v)), 2000),
            })).collect::<Vec<_>>()
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": slack_escape(&format!(
            "Cairn {} · {} · {}",
            event.kind().as_str(),
            id,
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ))}]
    }));
    json!({"text": text, "blocks": blocks})
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::core::event::tests::{denied, finding};
    use crate::vulnerabilities::core::severity::Severity;

    fn at() -> DateTime<Utc> {
        "2026-12-02T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn generic_envelope() {
        let e = Event::Finding(finding(Severity::Critical, true));
        let v = render(Format::Generic, &e, "evt_1", at());
        assert_eq!(v["event"], "finding.appeared");
        assert_eq!(v["id"], "evt_1");
        assert_eq!(v["occurred_at"], "2026-12-02T10:00:00Z");
        assert_eq!(v["data"]["vulnerability"], "GO-2099-0100");
        assert_eq!(v["data"]["severity"], "critical");
        assert_eq!(v["data"]["kev"], true);
        assert_eq!(v["data"]["fixed_versions"], json!(["1.5.0"]));
        let g = render(Format::Generic, &Event::GateDenied(denied()), "evt_2", at());
        assert_eq!(g["event"], "gate.denied");
        assert_eq!(g["data"]["policy_set"], "prod");
        assert_eq!(g["data"]["failing_rules"][0]["rule"], "vulnerabilities");
    }

    #[test]
    fn slack_message() {
        let e = Event::Finding(finding(Severity::High, true));
        let v = render(Format::Slack, &e, "evt_1", at());
        let text = v["text"].as_str().unwrap();
        assert_eq!(
            text,
            "New high vulnerability GO-2099-0100 (CVE-2099-0100), in CISA KEV in acme/svc api 1.0.0: pkg:golang/example.com/q@v1.4.0"
        );
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "section");
        assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
        let fields = blocks[1]["fields"].as_array().unwrap();
        assert!(fields
            .iter()
            .any(|f| f["text"] == "*Summary*\nBad &lt;things&gt; &amp; worse"));
        assert_eq!(blocks.last().unwrap()["type"], "context");
        let g = render(Format::Slack, &Event::GateDenied(denied()), "evt_2", at());
        assert_eq!(
            g["text"],
            "Policy set prod now denies acme/svc api 1.0.0 (1 failing rule)"
        );
    }

    #[test]
    fn escaping_and_truncation() {
        assert_eq!(
            slack_escape("<@U1> & <!channel>"),
            "&lt;@U1&gt; &amp; &lt;!channel&gt;"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
