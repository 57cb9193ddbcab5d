//! Background queue workers: a number of tasks that each run a batch
//! function until it finds nothing to do, then wait for the next poll, and
//! stop between batches when asked. The queues themselves (webhook
//! deliveries, policy evaluations) live in PostgreSQL and are claimed with
//! `FOR UPDATE SKIP LOCKED`, so any number of tasks and instances can share
//! them.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Running worker tasks.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Lets each task finish its current batch, then stops them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// Starts `count` tasks running `batch`, which returns how
/// many items it handled; after an empty or failed batch a task waits
/// `idle_poll` (or until shutdown) before the next.
pub fn spawn<F, Fut>(name: &'static str, count: usize, idle_poll: Duration, batch: F) -> Workers
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = sqlx::Result<usize>> + Send,
{
    let (stop, rx) = watch::channel(false);
    let handles = (0..count)
        .map(|_| {
            let batch = batch.clone();
            let mut rx = rx.clone();
            tokio::spawn(async move {
                loop {
                    if *rx.borrow() {
                        return;
                    }
                    // A panicking batch is a worker dying mid-item: the task
                    // lives on, and the queue's claim records count it.
                    let idle = match AssertUnwindSafe(batch()).catch_unwind().await {
                        Ok(Ok(0)) => true,
                        Ok(Ok(_)) => false,
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, worker = name, "batch failed; retrying");
                            true
                        }
                        Err(_) => {
                            tracing::error!(
                                worker = name,
                                "batch panicked; its items count a claim"
                            );
                            true
                        }
                    };
                    if idle {
                        tokio::select! {
                            _ = tokio::time::sleep(idle_poll) => {}
                            _ = rx.changed() => {}
                        }
                    }
                }
            })
        })
        .collect();
    Workers { stop, handles }
}
