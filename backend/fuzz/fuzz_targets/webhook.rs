//! Webhook deliveries, as the queue worker prepares them
//! (`webhooks::worker::prepare`): `serde_json::from_slice::<Value>` of the
//! body, then `webhooks::normalize::normalize` for both providers and the
//! event names (the `X-GitHub-Event` / `X-Gitlab-Event` header) that mean
//! something to it, plus a few that do not; job records go through
//! `merge_jobs` as the batch writer merges them.
#![no_main]

use cairn::builds::core::normalize::{merge_jobs, normalize, Normalized};
use cairn::builds::core::Provider;
use libfuzzer_sys::fuzz_target;

const GITHUB_EVENTS: &[&str] = &[
    "workflow_run",
    "workflow_job",
    "ping",
    "push",
    "release",
    "registry_package",
    "",
];
const GITLAB_EVENTS: &[&str] = &[
    "Pipeline Hook",
    "Job Hook",
    "Push Hook",
    "Tag Push Hook",
    "Release Hook",
    "Deployment Hook",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut jobs = Vec::new();
    for (provider, events) in [
        (Provider::Github, GITHUB_EVENTS),
        (Provider::Gitlab, GITLAB_EVENTS),
    ] {
        for event in events {
            let Ok(n) = normalize(provider, event, &payload) else {
                continue;
            };
            let _ = n.repository();
            match n {
                Normalized::Run { jobs: js, .. } => jobs.extend(js),
                Normalized::Job { job, .. } => jobs.push(*job),
                Normalized::Recorded { .. } => {}
            }
        }
    }
    // Merging must keep one record per job id.
    let ids: std::collections::BTreeSet<i64> = jobs.iter().map(|j| j.provider_job_id).collect();
    let merged = merge_jobs(jobs);
    assert_eq!(merged.len(), ids.len());
});
