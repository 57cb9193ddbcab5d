//! What the client prints and how it exits, from the server's answers.
//! Pure: strings in, strings out, so every line is unit-tested.

use serde_json::Value;

/// Exit statuses: `push` and `verify` use OK / REFUSED, `gate` all three.
pub const EXIT_OK: i32 = 0;
/// Something was refused (push), the gate denied, verification failed.
pub const EXIT_REFUSED: i32 = 1;
/// The client could not do its job: usage, network, authentication.
pub const EXIT_ERROR: i32 = 2;

/// What became of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// 201: stored now.
    Stored(u16),
    /// 200: the same bytes were stored already.
    Unchanged(u16),
    /// A 4xx/5xx answer.
    Refused(u16),
    /// Stored (201/200) but the signature did not verify: not evidence.
    Unverified(u16),
    /// Never answered: local error or network.
    Failed,
}

impl Status {
    pub fn refused(&self) -> bool {
        matches!(
            self,
            Status::Refused(_) | Status::Unverified(_) | Status::Failed
        )
    }
    fn label(&self) -> String {
        match self {
            Status::Stored(c) => format!("{c} stored"),
            Status::Unchanged(c) => format!("{c} unchanged"),
            Status::Refused(c) => format!("{c} refused"),
            Status::Unverified(c) => format!("{c} unverified"),
            Status::Failed => "failed".into(),
        }
    }
}

/// One line of the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub file: String,
    pub kind: String,
    pub endpoint: String,
    pub status: Status,
    pub detail: String,
}

/// Exit status of `push`.
pub fn push_exit(rows: &[Row]) -> i32 {
    if rows.iter().any(|r| r.status.refused()) {
        EXIT_REFUSED
    } else {
        EXIT_OK
    }
}

/// The detail of a problem document: `detail` (at `pointer`).
pub fn problem_detail(status: u16, body: &Value) -> String {
    match body.get("detail").and_then(Value::as_str) {
        Some(d) => match body.get("pointer").and_then(Value::as_str) {
            Some(p) => format!("{d} (at {p})"),
            None => d.to_owned(),
        },
        None => format!("HTTP {status} without a problem document"),
    }
}

/// Status and detail of an answer from `endpoint`.
pub fn outcome(endpoint: &str, status: u16, body: &Value) -> (Status, String) {
    if !(200..300).contains(&status) {
        return (Status::Refused(status), problem_detail(status, body));
    }
    let ok = if status == 201 {
        Status::Stored(status)
    } else {
        Status::Unchanged(status)
    };
    let int = |p: &str| body.pointer(p).and_then(Value::as_i64);
    let detail = match endpoint {
        "/api/v1/sboms" => format!(
            "sbom {} (artifact {})",
            int("/id").unwrap_or_default(),
            int("/artifact_id").unwrap_or_default()
        ),
        "/api/v1/attestations" => {
            let ids: Vec<String> = body["attestations"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["id"].as_i64())
                        .map(|i| i.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let ids = format!("attestation {}", ids.join(", "));
            if body["verified"] != Value::Bool(true) {
                let why = body["reason"].as_str().unwrap_or("did not verify");
                return (Status::Unverified(status), format!("{ids}: {why}"));
            }
            match body.pointer("/identity/san").and_then(Value::as_str) {
                Some(san) => format!("{ids}, verified: {san}"),
                None => format!("{ids}, verified"),
            }
        }
        "/api/v1/ci-definitions" => {
            let n = body["findings"].as_array().map_or(0, Vec::len);
            format!(
                "definition {}, {n} finding(s)",
                int("/id").unwrap_or_default()
            )
        }
        "/api/v1/scan-reports" => format!(
            "{} findings ({} scanner report)",
            int("/findings").unwrap_or_default(),
            body["scanner"].as_str().unwrap_or("?")
        ),
        "/api/v1/vex" => format!(
            "{} of {} statements applied, {} unmatched",
            int("/applied").unwrap_or_default(),
            int("/statements").unwrap_or_default(),
            int("/unmatched").unwrap_or_default()
        ),
        "/api/v1/go-binaries" => match body["digest"].as_str() {
            Some(d) => format!("build {} ({d})", int("/id").unwrap_or_default()),
            None => format!("build {}", int("/id").unwrap_or_default()),
        },
        _ => format!("id {}", int("/id").unwrap_or_default()),
    };
    (ok, detail)
}

/// The summary table: aligned columns, the detail last (it may be long).
pub fn table(rows: &[Row]) -> String {
    let header = ["FILE", "KIND", "ENDPOINT", "STATUS", "DETAIL"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.file.clone(),
                r.kind.clone(),
                r.endpoint.clone(),
                r.status.label(),
                r.detail.replace('\n', " "),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |c: [&str; 5]| {
        let mut s = String::new();
        for (i, cell) in c.iter().enumerate() {
            if i == 4 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for c in &cells {
        out.push_str(&line([&c[0], &c[1], &c[2], &c[3], &c[4]]));
    }
    let refused = rows.iter().filter(|r| r.status.refused()).count();
    out.push_str(&format!(
        "{} file(s), {} upload(s), {refused} refused\n",
        rows.iter()
            .map(|r| &r.file)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        rows.len()
    ));
    out
}

/// A progress line for stderr: `name [====>     ]  45%  12.3 / 27.0 MiB`.
pub fn progress_line(name: &str, sent: u64, total: u64) -> String {
    const WIDTH: u64 = 30;
    let total = total.max(1);
    let sent = sent.min(total);
    let filled = (sent * WIDTH / total) as usize;
    let bar = format!(
        "{}{}",
        "=".repeat(filled),
        " ".repeat(WIDTH as usize - filled)
    );
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!(
        "{name} [{bar}] {:>3}%  {:.1} / {:.1} MiB",
        sent * 100 / total,
        mib(sent),
        mib(total)
    )
}

/// Reasons that mean "not decided yet": the gate answers them while new
/// evidence or a changed set waits for its evaluation.
fn is_pending(reason: &str) -> bool {
    reason == "new evidence awaits evaluation"
        || reason.starts_with("not evaluated against version")
}

/// A deny that rests only on evaluations still to come: worth waiting for.
pub fn gate_pending(decision: &Value) -> bool {
    let reasons = decision["reasons"].as_array();
    decision["decision"] == "deny"
        && reasons.is_some_and(|r| {
            !r.is_empty()
                && r.iter()
                    .all(|x| x["reason"].as_str().is_some_and(is_pending))
        })
}

pub fn gate_exit(decision: &Value) -> i32 {
    if decision["decision"] == "allow" {
        EXIT_OK
    } else {
        EXIT_REFUSED
    }
}

/// How to make a failing rule pass.
fn fix_hint(rule: &str) -> &'static str {
    match rule {
        "sbom-present" => "generate an SBOM of the artifact and `cairn push` it with this digest",
        "signed" => "sign the artifact (keyless `cosign sign` / `sign-blob --bundle` in CI) and `cairn push` the bundle",
        "provenance" => "publish SLSA provenance (e.g. actions/attest-build-provenance) and `cairn push` it",
        "ephemeral-runner" => "build on an ephemeral hosted runner, and send the CI run to Cairn's webhook",
        "licenses" => "remove or replace the components under a denied licence, then push the new SBOM",
        "components" => "upgrade or remove the denied components named above, then push the new SBOM",
        "evidence-fresh" => "push fresh evidence: what is stored is older than the set allows",
        "go-modules-verified" => "run `go mod tidy` so go.sum pins every requirement, and push go.mod and go.sum",
        "go-reproducible-build" => "build with -trimpath and VCS stamping, and push the binary",
        "sbom-matches-binary" => "generate the SBOM from the binary you ship, and push both",
        "workflow-hardening" => "fix the findings listed by `cairn push` of the workflow (pin actions, least permissions), push it again",
        "base-image-pinned" => "pin base images by digest (`FROM image@sha256:…`) and push the Dockerfile again",
        "vulnerabilities" => "upgrade the affected packages, or record a VEX/triage decision when not affected",
        _ => "see the rule in the policy set (GET /api/v1/policy-sets)",
    }
}

/// The decision as people read it: one line, then each failing rule with
/// how to fix or waive it, then warnings.
pub fn render_gate(decision: &Value) -> String {
    let digest = decision["digest"].as_str().unwrap_or("?");
    let verdict = decision["decision"].as_str().unwrap_or("?").to_uppercase();
    let mut out = format!("{verdict} {digest}\n");
    for a in decision["artifacts"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  artifact {} {}/{} {}: {}\n",
            a["id"],
            a["project"].as_str().unwrap_or(""),
            a["name"].as_str().unwrap_or(""),
            a["version"].as_str().unwrap_or(""),
            a["decision"].as_str().unwrap_or("")
        ));
    }
    let reasons = decision["reasons"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    for r in reasons {
        let reason = r["reason"].as_str().unwrap_or("");
        let set = r["policy_set"].as_str();
        match r["rule"].as_str() {
            Some(rule) => {
                out.push_str(&format!("  ✗ {rule} ({}): {reason}\n", set.unwrap_or("?")));
                out.push_str(&format!("      fix:   {}\n", fix_hint(rule)));
                let mut waiver = serde_json::json!({
                    "rule": rule,
                    "justification": "…",
                    "expires_at": "YYYY-MM-DDT00:00:00Z",
                });
                if let Some(id) = r["artifact_id"].as_i64() {
                    waiver["artifact_id"] = id.into();
                }
                if let Some(s) = set {
                    waiver["policy_set"] = s.into();
                }
                out.push_str(&format!(
                    "      waive: POST /api/v1/waivers {waiver} (maintainer)\n"
                ));
            }
            None => {
                out.push_str(&format!("  ✗ {reason}\n"));
                let hint = if reason == "no evidence" {
                    Some("push evidence for this digest first: `cairn push FILE... --digest <digest>`")
                } else if reason.starts_with("no policy covers") {
                    Some("an admin adds an enforce-mode policy set covering the project (or sets CAIRN_GATE_UNCOVERED=allow)")
                } else if reason.contains("dead-lettered") {
                    Some("an admin replays it: POST /api/v1/policy-dead-letters/{artifact_id}/replay")
                } else {
                    None
                };
                if let Some(h) = hint {
                    out.push_str(&format!("      fix:   {h}\n"));
                }
            }
        }
    }
    if verdict == "DENY" && reasons.is_empty() {
        out.push_str("  (no reasons given: the gate answered an anonymous caller; set CAIRN_TOKEN for details)\n");
    }
    for w in decision["warnings"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  ! {} ({}): {}\n",
            w["rule"].as_str().unwrap_or("?"),
            w["policy_set"].as_str().unwrap_or("?"),
            w["reason"].as_str().unwrap_or("")
        ));
    }
    out
}

/// The digest of `--image ref@sha256:…` or `--digest sha256:…`.
pub fn gate_digest(digest: Option<&str>, image: Option<&str>) -> Result<String, String> {
    let d = match (digest, image) {
        (Some(d), None) => d,
        (None, Some(i)) => i
            .rsplit_once('@')
            .map(|(_, d)| d)
            .ok_or_else(|| format!("--image {i:?} has no digest: use name@sha256:<64 hex>"))?,
        (Some(_), Some(_)) => return Err("give --digest or --image, not both".into()),
        (None, None) => return Err("give --digest sha256:… or --image name@sha256:…".into()),
    };
    crate::domain::Sha256Digest::parse(d).map(|d| d.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_of_each_endpoint() {
        let (s, d) = outcome("/api/v1/sboms", 201, &json!({"id": 7, "artifact_id": 3}));
        assert_eq!(
            (s, d.as_str()),
            (Status::Stored(201), "sbom 7 (artifact 3)")
        );
        let (s, _) = outcome("/api/v1/sboms", 200, &json!({"id": 7}));
        assert_eq!(s, Status::Unchanged(200));
        let problem = json!({"type": "urn:cairn:problem:invalid-sbom", "status": 422,
            "detail": "specVersion 9 is not supported", "pointer": "/specVersion"});
        let (s, d) = outcome("/api/v1/sboms", 422, &problem);
        assert_eq!(s, Status::Refused(422));
        assert_eq!(d, "specVersion 9 is not supported (at /specVersion)");
        assert!(outcome("/api/v1/sboms", 502, &Value::Null)
            .1
            .contains("HTTP 502"));
        let unverified =
            json!({"verified": false, "reason": "signature: bad", "attestations": [{"id": 4}]});
        let (s, d) = outcome("/api/v1/attestations", 201, &unverified);
        assert_eq!(
            (s, d.as_str()),
            (Status::Unverified(201), "attestation 4: signature: bad")
        );
        let ok = json!({"verified": true, "identity": {"san": "https://github.com/a/b"}, "attestations": [{"id": 4}, {"id": 5}]});
        assert_eq!(
            outcome("/api/v1/attestations", 201, &ok).1,
            "attestation 4, 5, verified: https://github.com/a/b"
        );
        let ci = json!({"id": 2, "findings": [{}, {}]});
        assert_eq!(
            outcome("/api/v1/ci-definitions", 201, &ci).1,
            "definition 2, 2 finding(s)"
        );
        let vex = json!({"applied": 1, "statements": 2, "unmatched": 1});
        assert_eq!(
            outcome("/api/v1/vex", 200, &vex).1,
            "1 of 2 statements applied, 1 unmatched"
        );
    }

    #[test]
    fn summary_table_and_exit() {
        let rows = vec![
            Row {
                file: "sbom.cdx.json".into(),
                kind: "cyclonedx".into(),
                endpoint: "/api/v1/sboms".into(),
                status: Status::Stored(201),
                detail: "sbom 1 (artifact 1)".into(),
            },
            Row {
                file: "go.mod".into(),
                kind: "go.mod".into(),
                endpoint: "/api/v1/go-modules".into(),
                status: Status::Refused(422),
                detail: "line 1: unknown\ndirective".into(),
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "FILE           KIND       ENDPOINT            STATUS       DETAIL"
        );
        assert_eq!(
            lines[1],
            "sbom.cdx.json  cyclonedx  /api/v1/sboms       201 stored   sbom 1 (artifact 1)"
        );
        assert_eq!(
            lines[2],
            "go.mod         go.mod     /api/v1/go-modules  422 refused  line 1: unknown directive"
        );
        assert_eq!(lines[3], "2 file(s), 2 upload(s), 1 refused");
        assert_eq!(push_exit(&rows), EXIT_REFUSED);
        assert_eq!(push_exit(&rows[..1]), EXIT_OK);
        assert!(Status::Failed.refused() && Status::Unverified(201).refused());
    }

    #[test]
    fn progress() {
        let l = progress_line("app", 15 * 1024 * 1024, 30 * 1024 * 1024);
        assert_eq!(
            l,
            format!(
                "app [{}{}]  50%  15.0 / 30.0 MiB",
                "=".repeat(15),
                " ".repeat(15)
            )
        );
        assert!(progress_line("x", 10, 0).contains("100%"));
    }

    #[test]
    fn gate_decisions() {
        let deny = json!({"digest": "sha256:ab", "decision": "deny",
            "reasons": [{"artifact_id": 12, "policy_set": "baseline", "rule": "signed",
                          "reason": "1 verified signature(s) required, 0 found"},
                        {"artifact_id": 12, "reason": "no policy covers this artifact"}],
            "warnings": [{"artifact_id": 12, "policy_set": "audit", "rule": "licenses", "reason": "GPL"}],
            "artifacts": [{"id": 12, "project": "acme/api", "name": "api", "version": "1.4.0", "decision": "deny"}],
            "policy_sets": {"baseline": 3}});
        let text = render_gate(&deny);
        assert!(
            text.starts_with("DENY sha256:ab\n  artifact 12 acme/api/api 1.4.0: deny\n"),
            "{text}"
        );
        assert!(text.contains("  ✗ signed (baseline): 1 verified signature(s) required, 0 found\n"));
        assert!(text.contains("fix:   sign the artifact"));
        let waive = text
            .lines()
            .find(|l| l.contains("waive: POST /api/v1/waivers {"))
            .unwrap();
        for field in [
            r#""artifact_id":12"#,
            r#""policy_set":"baseline""#,
            r#""rule":"signed""#,
        ] {
            assert!(waive.contains(field), "{waive}");
        }
        assert!(text.contains("CAIRN_GATE_UNCOVERED"));
        assert!(text.contains("  ! licenses (audit): GPL\n"));
        assert_eq!(gate_exit(&deny), EXIT_REFUSED);
        assert!(!gate_pending(&deny));

        let allow = json!({"digest": "sha256:ab", "decision": "allow", "reasons": [], "warnings": [], "artifacts": []});
        assert_eq!(render_gate(&allow), "ALLOW sha256:ab\n");
        assert_eq!(gate_exit(&allow), EXIT_OK);
        let anonymous = json!({"digest": "sha256:ab", "decision": "deny", "reasons": []});
        assert!(render_gate(&anonymous).contains("anonymous"));
        assert!(!gate_pending(&anonymous));

        let pending = json!({"decision": "deny", "reasons": [
            {"reason": "new evidence awaits evaluation"},
            {"policy_set": "b", "reason": "not evaluated against version 2 of this set yet"}]});
        assert!(gate_pending(&pending));
    }

    #[test]
    fn gate_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(gate_digest(Some(&d), None), Ok(d.clone()));
        assert_eq!(
            gate_digest(None, Some(&format!("ghcr.io/acme/api:1.4@{d}"))),
            Ok(d.clone())
        );
        assert!(gate_digest(None, Some("ghcr.io/acme/api:1.4")).is_err());
        assert!(gate_digest(None, None).is_err());
        assert!(gate_digest(Some(&d), Some("x")).is_err());
        assert!(gate_digest(Some("sha256:xyz"), None).is_err());
    }
}
