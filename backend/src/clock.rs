//! The time the server judges by: waiver expiry, evidence freshness, the
//! gate's "is this result still current". Production reads the system
//! clock; a test moves its app's clock forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

/// The system clock, plus an offset that only `advance` (tests) moves.
/// Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock, and every clone of it, forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.ahead_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_advance() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(Duration::hours(1));
        let after = clock.now();
        assert!(after - before >= Duration::hours(1));
        assert!(after - before < Duration::hours(1) + Duration::minutes(1));
    }
}
