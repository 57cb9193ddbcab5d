//! Turns GitHub and GitLab payloads into one build-record model. Pure: no
//! HTTP, no SQL. Events that are not about builds are only recorded.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::Provider;

/// Where a job ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    /// A GitHub- or GitLab-hosted (ephemeral) runner.
    Hosted,
    SelfHosted,
}

impl RunnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Hosted => "hosted",
            RunnerKind::SelfHosted => "self-hosted",
        }
    }
}

/// A pipeline run as one event describes it. Fields an event does not
/// carry are `None` and never overwrite what another event said.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRecord {
    pub provider_run_id: i64,
    pub run_attempt: i32,
    pub repository: String,
    pub repository_url: Option<String>,
    pub workflow_name: Option<String>,
    pub workflow_file: Option<String>,
    pub event: Option<String>,
    pub git_ref: Option<String>,
    pub head_sha: Option<String>,
    pub actor: Option<String>,
    /// `queued`, `in_progress` or `completed`; None when the event is about
    /// a job and says nothing of the run's status.
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub status_rank: i16,
    pub status_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRecord {
    pub provider_job_id: i64,
    pub name: Option<String>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub status_rank: i16,
    pub status_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub runner_name: Option<String>,
    pub runner_labels: Vec<String>,
    pub runner_group: Option<String>,
    pub runner_kind: Option<RunnerKind>,
    pub environment: Option<String>,
    pub url: Option<String>,
}

/// What a delivery means for the build records.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalized {
    /// A run (and, for GitLab pipelines, its jobs).
    Run {
        run: RunRecord,
        jobs: Vec<JobRecord>,
    },
    /// A job, with what it tells of its run.
    Job { run: RunRecord, job: Box<JobRecord> },
    /// Kept raw (push, release, ping, ...), feeding no build record.
    Recorded { repository: Option<String> },
}

impl Normalized {
    pub fn repository(&self) -> Option<&str> {
        match self {
            Normalized::Run { run, .. } | Normalized::Job { run, .. } => Some(&run.repository),
            Normalized::Recorded { repository } => repository.as_deref(),
        }
    }
}

/// Merges events of the same jobs as the database upsert does: the
/// furthest status wins (the later timestamp on a tie), and what the
/// winning event lacks is taken from the other.
pub fn merge_jobs(jobs: Vec<JobRecord>) -> Vec<JobRecord> {
    let mut out: Vec<JobRecord> = Vec::with_capacity(jobs.len());
    for j in jobs {
        let Some(e) = out
            .iter_mut()
            .find(|e| e.provider_job_id == j.provider_job_id)
        else {
            out.push(j);
            continue;
        };
        let newer = j.status_rank > e.status_rank
            || (j.status_rank == e.status_rank
                && (e.status_at.is_none() || j.status_at >= e.status_at));
        let old = std::mem::take(e);
        let (mut win, lose) = if newer { (j, old) } else { (old, j) };
        win.name = win.name.or(lose.name);
        win.stage = win.stage.or(lose.stage);
        win.started_at = match (win.started_at, lose.started_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        win.completed_at = win.completed_at.or(lose.completed_at);
        win.runner_name = win.runner_name.or(lose.runner_name);
        if win.runner_labels.is_empty() {
            win.runner_labels = lose.runner_labels;
        }
        win.runner_group = win.runner_group.or(lose.runner_group);
        win.runner_kind = win.runner_kind.or(lose.runner_kind);
        win.environment = win.environment.or(lose.environment);
        win.url = win.url.or(lose.url);
        *e = win;
    }
    out
}

/// Normalises one delivery. An error means the payload claims to be a
/// build event but lacks what identifies it.
pub fn normalize(provider: Provider, event: &str, payload: &Value) -> Result<Normalized, String> {
    match provider {
        Provider::Github => github(event, payload),
        Provider::Gitlab => gitlab(event, payload),
    }
}

fn s(v: &Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

fn time(v: &Value, ptr: &str) -> Option<DateTime<Utc>> {
    v.pointer(ptr).and_then(Value::as_str).and_then(parse_time)
}

/// RFC 3339, or GitLab's `2016-08-12 15:23:28 UTC`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z") {
        return Some(t.with_timezone(&Utc));
    }
    let bare = s.strip_suffix(" UTC").unwrap_or(s);
    NaiveDateTime::parse_from_str(bare, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

fn labels(v: &Value, ptr: &str) -> Vec<String> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// ---- GitHub ---------------------------------------------------------------

fn github_rank(status: &str) -> i16 {
    match status {
        "completed" => 3,
        "in_progress" => 2,
        _ => 1,
    }
}

fn github_status(status: &str) -> &'static str {
    match github_rank(status) {
        3 => "completed",
        2 => "in_progress",
        _ => "queued",
    }
}

/// GitHub-hosted runners run in the "GitHub Actions" group with labels such
/// as `ubuntu-latest`; a `self-hosted` label marks the others.
pub fn github_runner_kind(
    group: Option<&str>,
    labels: &[String],
    runner_name: Option<&str>,
) -> Option<RunnerKind> {
    if labels.iter().any(|l| l.eq_ignore_ascii_case("self-hosted")) {
        return Some(RunnerKind::SelfHosted);
    }
    if group == Some("GitHub Actions") {
        return Some(RunnerKind::Hosted);
    }
    let hosted_label = |l: &String| {
        let l = l.to_ascii_lowercase();
        ["ubuntu-", "windows-", "macos-"]
            .iter()
            .any(|p| l.starts_with(p))
    };
    if !labels.is_empty() && labels.iter().all(hosted_label) && group.is_none() {
        return Some(RunnerKind::Hosted);
    }
    if group.is_some() || runner_name.is_some() {
        // A runner group other than GitHub's own is one the owner runs.
        return Some(RunnerKind::SelfHosted);
    }
    None
}

fn github_repo(p: &Value) -> Result<(String, Option<String>), String> {
    let repo = s(p, "/repository/full_name").ok_or("payload has no repository.full_name")?;
    Ok((repo, s(p, "/repository/html_url")))
}

fn github(event: &str, p: &Value) -> Result<Normalized, String> {
    match event {
        "workflow_run" => {
            let wr = p
                .get("workflow_run")
                .ok_or("workflow_run event without a workflow_run object")?;
            let id = int(wr, "/id").ok_or("workflow_run.id is missing")?;
            let (repository, repository_url) = github_repo(p)?;
            let status = s(wr, "/status").unwrap_or_else(|| "queued".into());
            let rank = github_rank(&status);
            let name = s(wr, "/name").or_else(|| s(p, "/workflow/name"));
            Ok(Normalized::Run {
                run: RunRecord {
                    provider_run_id: id,
                    run_attempt: int(wr, "/run_attempt").unwrap_or(1) as i32,
                    repository,
                    repository_url,
                    workflow_name: name,
                    workflow_file: s(wr, "/path"),
                    event: s(wr, "/event"),
                    git_ref: s(wr, "/head_branch"),
                    head_sha: s(wr, "/head_sha"),
                    actor: s(wr, "/triggering_actor/login").or_else(|| s(wr, "/actor/login")),
                    status: Some(github_status(&status).into()),
                    conclusion: if rank == 3 {
                        s(wr, "/conclusion")
                    } else {
                        None
                    },
                    status_rank: rank,
                    status_at: time(wr, "/updated_at"),
                    started_at: time(wr, "/run_started_at").or_else(|| time(wr, "/created_at")),
                    completed_at: if rank == 3 {
                        time(wr, "/updated_at")
                    } else {
                        None
                    },
                    url: s(wr, "/html_url"),
                },
                jobs: Vec::new(),
            })
        }
        "workflow_job" => {
            let wj = p
                .get("workflow_job")
                .ok_or("workflow_job event without a workflow_job object")?;
            let id = int(wj, "/id").ok_or("workflow_job.id is missing")?;
            let run_id = int(wj, "/run_id").ok_or("workflow_job.run_id is missing")?;
            let (repository, repository_url) = github_repo(p)?;
            let status = s(wj, "/status").unwrap_or_else(|| "queued".into());
            let rank = github_rank(&status);
            let runner_labels = labels(wj, "/labels");
            let runner_group = s(wj, "/runner_group_name");
            let runner_name = s(wj, "/runner_name");
            let started_at = time(wj, "/started_at");
            let completed_at = time(wj, "/completed_at");
            let run_url = repository_url
                .as_ref()
                .map(|u| format!("{u}/actions/runs/{run_id}"));
            Ok(Normalized::Job {
                run: RunRecord {
                    provider_run_id: run_id,
                    run_attempt: int(wj, "/run_attempt").unwrap_or(1) as i32,
                    repository,
                    repository_url,
                    workflow_name: s(wj, "/workflow_name"),
                    git_ref: s(wj, "/head_branch"),
                    head_sha: s(wj, "/head_sha"),
                    url: run_url,
                    ..RunRecord::default()
                },
                job: Box::new(JobRecord {
                    provider_job_id: id,
                    name: s(wj, "/name"),
                    stage: None,
                    status: Some(github_status(&status).into()),
                    conclusion: if rank == 3 {
                        s(wj, "/conclusion")
                    } else {
                        None
                    },
                    status_rank: rank,
                    status_at: completed_at
                        .or(started_at)
                        .or_else(|| time(wj, "/created_at")),
                    started_at,
                    completed_at,
                    runner_kind: github_runner_kind(
                        runner_group.as_deref(),
                        &runner_labels,
                        runner_name.as_deref(),
                    ),
                    runner_name,
                    runner_labels,
                    runner_group,
                    environment: None,
                    url: s(wj, "/html_url"),
                }),
            })
        }
        _ => Ok(Normalized::Recorded {
            repository: s(p, "/repository/full_name"),
        }),
    }
}

// ---- GitLab ---------------------------------------------------------------

/// (normalised status, conclusion, rank) of a GitLab pipeline or job status.
fn gitlab_status(status: &str) -> (&'static str, Option<&'static str>, i16) {
    match status {
        "running" => ("in_progress", None, 2),
        "success" => ("completed", Some("success"), 3),
        "failed" => ("completed", Some("failure"), 3),
        "canceled" | "cancelled" => ("completed", Some("cancelled"), 3),
        "skipped" => ("completed", Some("skipped"), 3),
        _ => ("queued", None, 1),
    }
}

/// Instance (shared) runners are GitLab's own; project and group runners
/// belong to the project's owners.
pub fn gitlab_runner_kind(runner: Option<&Value>) -> Option<RunnerKind> {
    let r = runner.filter(|r| r.is_object())?;
    let shared = r.get("is_shared").and_then(Value::as_bool);
    let kind = r.get("runner_type").and_then(Value::as_str);
    match (kind, shared) {
        (Some("instance_type"), _) | (None, Some(true)) => Some(RunnerKind::Hosted),
        (Some(_), _) | (None, Some(false)) => Some(RunnerKind::SelfHosted),
        (None, None) => None,
    }
}

fn gitlab_job(b: &Value, prefix: &str, project_url: Option<&str>) -> Option<JobRecord> {
    let id = int(b, &format!("/{prefix}id"))?;
    let raw_status = s(b, &format!("/{prefix}status")).unwrap_or_else(|| "created".into());
    let (status, conclusion, rank) = gitlab_status(&raw_status);
    let runner = b.get("runner");
    let started_at = time(b, &format!("/{prefix}started_at"));
    let completed_at = time(b, &format!("/{prefix}finished_at"));
    let environment = match b.get("environment") {
        Some(Value::String(e)) => Some(e.clone()),
        Some(e @ Value::Object(_)) => s(e, "/name"),
        _ => None,
    };
    Some(JobRecord {
        provider_job_id: id,
        name: s(b, &format!("/{prefix}name")),
        stage: s(b, &format!("/{prefix}stage")),
        status: Some(status.into()),
        conclusion: conclusion.map(str::to_owned),
        status_rank: rank,
        status_at: completed_at
            .or(started_at)
            .or_else(|| time(b, &format!("/{prefix}created_at"))),
        started_at,
        completed_at,
        runner_name: runner.and_then(|r| s(r, "/description")),
        runner_labels: runner.map(|r| labels(r, "/tags")).unwrap_or_default(),
        runner_group: runner.and_then(|r| s(r, "/runner_type")),
        runner_kind: gitlab_runner_kind(runner),
        environment,
        url: project_url.map(|u| format!("{u}/-/jobs/{id}")),
    })
}

/// `https://gitlab.example/group/sub/name` → `group/sub/name`.
fn path_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.split_once('/')?.1.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    (!path.is_empty()).then(|| path.to_owned())
}

fn gitlab(event: &str, p: &Value) -> Result<Normalized, String> {
    let kind = s(p, "/object_kind").unwrap_or_default();
    let project_url = s(p, "/project/web_url").or_else(|| s(p, "/repository/homepage"));
    let repository = s(p, "/project/path_with_namespace")
        .or_else(|| project_url.as_deref().and_then(path_of_url));
    match (event, kind.as_str()) {
        ("Pipeline Hook", _) | (_, "pipeline") => {
            let oa = p
                .get("object_attributes")
                .ok_or("pipeline event without object_attributes")?;
            let id = int(oa, "/id").ok_or("object_attributes.id is missing")?;
            let repository = repository.ok_or("pipeline event without a project path")?;
            let (status, conclusion, rank) = gitlab_status(&s(oa, "/status").unwrap_or_default());
            let created = time(oa, "/created_at");
            let finished = time(oa, "/finished_at");
            let jobs = p
                .get("builds")
                .and_then(Value::as_array)
                .map(|bs| {
                    bs.iter()
                        .filter_map(|b| gitlab_job(b, "", project_url.as_deref()))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Normalized::Run {
                run: RunRecord {
                    provider_run_id: id,
                    run_attempt: 1,
                    repository,
                    url: s(oa, "/url").or_else(|| {
                        project_url
                            .as_ref()
                            .map(|u| format!("{u}/-/pipelines/{id}"))
                    }),
                    repository_url: project_url,
                    workflow_name: s(oa, "/name"),
                    workflow_file: None,
                    event: s(oa, "/source"),
                    git_ref: s(oa, "/ref"),
                    head_sha: s(oa, "/sha"),
                    actor: s(p, "/user/username"),
                    status: Some(status.into()),
                    conclusion: conclusion.map(str::to_owned),
                    status_rank: rank,
                    status_at: if rank == 3 {
                        finished.or(created)
                    } else {
                        created
                    },
                    started_at: created,
                    completed_at: if rank == 3 { finished } else { None },
                },
                jobs,
            })
        }
        ("Job Hook", _) | (_, "build") => {
            let pipeline_id = int(p, "/pipeline_id").ok_or("job event without pipeline_id")?;
            let repository = repository
                .or_else(|| s(p, "/project_name").filter(|n| !n.contains(' ')))
                .ok_or("job event without a project path")?;
            let job = gitlab_job(p, "build_", project_url.as_deref())
                .ok_or("job event without build_id")?;
            Ok(Normalized::Job {
                run: RunRecord {
                    provider_run_id: pipeline_id,
                    run_attempt: 1,
                    repository,
                    url: project_url
                        .as_ref()
                        .map(|u| format!("{u}/-/pipelines/{pipeline_id}")),
                    repository_url: project_url,
                    git_ref: s(p, "/ref"),
                    head_sha: s(p, "/sha"),
                    actor: s(p, "/user/username"),
                    ..RunRecord::default()
                },
                job: Box::new(job),
            })
        }
        _ => Ok(Normalized::Recorded { repository }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/webhooks")
            .join(name);
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    #[test]
    fn github_workflow_run_and_job() {
        let p = fixture("github/octokit__workflow_run_completed.payload.json");
        let Normalized::Run { run, .. } = normalize(Provider::Github, "workflow_run", &p).unwrap()
        else {
            panic!()
        };
        assert_eq!(run.provider_run_id, 289782451);
        assert_eq!(run.repository, "octo-org/octo-repo");
        assert_eq!(
            run.head_sha.as_deref(),
            Some("3484a3fb816e0859fd6e1cea078d76385ff50625")
        );
        assert_eq!(run.status.as_deref(), Some("completed"));
        assert_eq!(run.conclusion.as_deref(), Some("success"));
        assert_eq!(
            run.workflow_file.as_deref(),
            Some(".github/workflows/test.yml")
        );
        assert_eq!(run.status_rank, 3);

        let p = fixture("github/octokit__workflow_job_queued.payload.json");
        let Normalized::Job { run, job } = normalize(Provider::Github, "workflow_job", &p).unwrap()
        else {
            panic!()
        };
        assert_eq!(run.provider_run_id, 2202229078);
        assert_eq!(run.status, None);
        assert_eq!(job.runner_kind, Some(RunnerKind::Hosted));
        assert_eq!(job.status.as_deref(), Some("queued"));
    }

    #[test]
    fn github_runner_kinds() {
        let l = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            github_runner_kind(Some("GitHub Actions"), &l(&["ubuntu-latest"]), None),
            Some(RunnerKind::Hosted)
        );
        assert_eq!(
            github_runner_kind(None, &l(&["ubuntu-22.04"]), None),
            Some(RunnerKind::Hosted)
        );
        assert_eq!(
            github_runner_kind(Some("Default"), &l(&["self-hosted", "linux"]), Some("r1")),
            Some(RunnerKind::SelfHosted)
        );
        assert_eq!(
            github_runner_kind(Some("gpu-pool"), &l(&["gpu"]), Some("r1")),
            Some(RunnerKind::SelfHosted)
        );
        assert_eq!(github_runner_kind(None, &[], None), None);
    }

    #[test]
    fn gitlab_pipeline_and_jobs() {
        let p = fixture("gitlab/go-gitlab__pipeline.json");
        let Normalized::Run { run, jobs } =
            normalize(Provider::Gitlab, "Pipeline Hook", &p).unwrap()
        else {
            panic!()
        };
        assert_eq!(run.provider_run_id, 31);
        assert_eq!(run.repository, "gitlab-org/gitlab-test");
        assert_eq!(run.conclusion.as_deref(), Some("success"));
        assert_eq!(run.event.as_deref(), Some("merge_request_event"));
        assert_eq!(run.started_at, parse_time("2016-08-12T15:23:28Z"));
        assert_eq!(jobs.len(), 5);
        assert!(jobs
            .iter()
            .filter(|j| j.runner_kind.is_some())
            .all(|j| j.runner_kind == Some(RunnerKind::Hosted)));
        assert_eq!(
            jobs.iter()
                .find(|j| j.provider_job_id == 380)
                .unwrap()
                .environment
                .as_deref(),
            Some("production")
        );

        let p = fixture("gitlab/go-gitlab__build.json");
        let Normalized::Job { run, job } = normalize(Provider::Gitlab, "Job Hook", &p).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (run.provider_run_id, run.repository.as_str()),
            (2366, "gitlab-org/gitlab-test")
        );
        assert_eq!(job.runner_kind, Some(RunnerKind::SelfHosted));

        let p = fixture("gitlab/go-gitlab__job.json");
        let Normalized::Job { run, job } = normalize(Provider::Gitlab, "Job Hook", &p).unwrap()
        else {
            panic!()
        };
        assert_eq!(run.repository, "jsmithy2/release-tools-fake");
        assert_eq!(job.runner_kind, Some(RunnerKind::Hosted));
        assert_eq!(job.environment.as_deref(), Some("production"));
        assert_eq!(job.conclusion.as_deref(), Some("success"));
    }

    #[test]
    fn merged_job_events_keep_the_furthest_status() {
        let done = JobRecord {
            provider_job_id: 1,
            status: Some("completed".into()),
            conclusion: Some("success".into()),
            status_rank: 3,
            completed_at: parse_time("2021-08-05T10:38:16Z"),
            ..JobRecord::default()
        };
        let queued = JobRecord {
            provider_job_id: 1,
            name: Some("build".into()),
            status: Some("queued".into()),
            status_rank: 1,
            runner_kind: Some(RunnerKind::Hosted),
            ..JobRecord::default()
        };
        let other = JobRecord {
            provider_job_id: 2,
            ..JobRecord::default()
        };
        for order in [
            vec![done.clone(), queued.clone(), other.clone()],
            vec![queued.clone(), other.clone(), done.clone()],
        ] {
            let merged = merge_jobs(order);
            assert_eq!(merged.len(), 2);
            let j = merged.iter().find(|j| j.provider_job_id == 1).unwrap();
            assert_eq!(j.status.as_deref(), Some("completed"));
            assert_eq!(j.conclusion.as_deref(), Some("success"));
            assert_eq!(j.name.as_deref(), Some("build"));
            assert_eq!(j.runner_kind, Some(RunnerKind::Hosted));
        }
    }

    #[test]
    fn other_events_are_recorded() {
        let p = fixture("gitlab/go-gitlab__push.json");
        assert_eq!(
            normalize(Provider::Gitlab, "Push Hook", &p).unwrap(),
            Normalized::Recorded {
                repository: Some("mike/diaspora".into())
            }
        );
        let p = fixture("github/octokit__ping_payload.json");
        assert!(matches!(
            normalize(Provider::Github, "ping", &p).unwrap(),
            Normalized::Recorded { .. }
        ));
        assert!(normalize(Provider::Github, "workflow_run", &serde_json::json!({})).is_err());
    }
}
