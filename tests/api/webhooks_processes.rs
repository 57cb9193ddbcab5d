//! Two real `cairn` processes sharing one database: a burst of signed
//! deliveries spread over both is processed with nothing lost or doubled,
//! even when one of them is killed (SIGKILL) in the middle.

use serde_json::{json, Value};

use crate::support::process::{database_url, start_cairn, wait_ready, TOKEN};
use crate::support::webhooks::{drained, send_github, webhook_fixture, GITHUB_SECRET};
use crate::support::{free_port, fresh_database};

/// A distinct workflow_job delivery: the real example with its own job id,
/// over 10 runs.
fn job_body(template: &Value, i: i64) -> Vec<u8> {
    let mut job = template.clone();
    job["workflow_job"]["id"] = json!(1_000_000 + i);
    job["workflow_job"]["run_id"] = json!(5_000 + i % 10);
    serde_json::to_vec(&job).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_queue_and_survive_a_kill() {
    let options = fresh_database().await;
    let url = database_url(&options);
    let pool = cairn::db::connect(options, 2).await.unwrap();
    let (pa, pb) = (free_port(), free_port());
    let mut a = start_cairn(&url, pa);
    let base_a = format!("http://127.0.0.1:{pa}");
    let client = reqwest::Client::new();
    // The first one migrates; then the second starts on the same database.
    wait_ready(&client, &base_a).await;
    let b = start_cairn(&url, pb);
    let base_b = format!("http://127.0.0.1:{pb}");
    wait_ready(&client, &base_b).await;

    let res = client
        .post(format!("{base_a}/api/v1/webhook-sources"))
        .bearer_auth(TOKEN)
        .json(&json!({"provider": "github", "name": "burst", "secret": GITHUB_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let template: Value = serde_json::from_slice(&webhook_fixture(
        "github/octokit__workflow_job_completed.success.with-organization.payload.json",
    ))
    .unwrap();
    const N: i64 = 400;
    let mut tasks = Vec::new();
    for i in 0..N {
        let base = if i % 2 == 0 {
            base_a.clone()
        } else {
            base_b.clone()
        };
        let body = job_body(&template, i);
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("burst-{i}");
            let first = send_github(
                &c,
                &base,
                "burst",
                GITHUB_SECRET,
                "workflow_job",
                &id,
                body.clone(),
            )
            .await;
            assert_eq!(first.status(), 202, "delivery {i}");
            // GitHub redelivers: the copy goes to the other instance.
            let other = if base.ends_with(&pa.to_string()) {
                base.replace(&pa.to_string(), &pb.to_string())
            } else {
                base.replace(&pb.to_string(), &pa.to_string())
            };
            if i % 7 == 0 {
                let again = send_github(
                    &c,
                    &other,
                    "burst",
                    GITHUB_SECRET,
                    "workflow_job",
                    &id,
                    body,
                )
                .await;
                assert_eq!(again.status(), 200, "redelivery {i}");
            }
        }));
        if i == N / 2 {
            // Let the first half be accepted, then kill A mid-processing.
            for t in tasks.drain(..) {
                t.await.unwrap();
            }
            a.kill_hard();
            a = start_cairn(&url, pa);
            wait_ready(&client, &base_a).await;
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    drained(&pool).await;

    let (total, done_once): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'done' AND processed_count = 1)
         FROM webhook_deliveries",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (total, done_once),
        (N, N),
        "every delivery processed exactly once"
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM ci_jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, N);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM ci_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, 10);
    let listed: Value = client
        .get(format!(
            "{base_b}/api/v1/runs?project=Codertocat/Hello-World"
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 10);
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["job_count"] == N / 10 && r["runner_kind"] == "hosted"));

    for child in [a, b] {
        let status = child.stop();
        assert!(status.success(), "cairn exited with {status}");
    }
}
