//! When a failed delivery is tried again.

use std::time::Duration;

/// Wait after the `attempts`-th failed attempt: `base`, doubling with each
/// further failure, at most `cap`.
pub fn backoff(attempts: i32, base: Duration, cap: Duration) -> Duration {
    let exp = attempts.clamp(1, 31) as u32 - 1;
    base.saturating_mul(2u32.saturating_pow(exp)).min(cap)
}

/// What to do after a failed attempt: retry after the backoff, or give up
/// (dead letter) once `max_attempts` were made.
pub fn after_failure(
    attempts: i32,
    max_attempts: i32,
    base: Duration,
    cap: Duration,
) -> Option<Duration> {
    (attempts < max_attempts).then(|| backoff(attempts, base, cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_with_a_cap() {
        let (b, cap) = (Duration::from_secs(30), Duration::from_secs(3600));
        let waits: Vec<u64> = (1..=9).map(|a| backoff(a, b, cap).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(0, b, cap).as_secs(), 30);
        assert_eq!(backoff(i32::MAX, b, cap), cap);
        assert_eq!(backoff(5, Duration::ZERO, cap), Duration::ZERO);
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let (b, cap) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(after_failure(1, 3, b, cap), Some(Duration::from_secs(1)));
        assert_eq!(after_failure(2, 3, b, cap), Some(Duration::from_secs(2)));
        assert_eq!(after_failure(3, 3, b, cap), None);
        assert_eq!(after_failure(1, 1, b, cap), None);
    }
}
