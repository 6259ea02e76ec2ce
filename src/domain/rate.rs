//! A token bucket for an API client's request rate: `rate_per_minute` tokens flow in evenly, at
//! most `burst` wait in the bucket, each request takes one. Pure: the caller passes the time.

/// A burst of ten seconds' worth of requests (at least one).
pub fn burst_for(rate_per_minute: i64) -> f64 {
    (rate_per_minute as f64 / 6.0).max(1.0)
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    /// Milliseconds on the caller's monotonic clock of the last refill.
    at_ms: u64,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_minute: i64, now_ms: u64) -> Self {
        Self {
            tokens: burst_for(rate_per_minute),
            at_ms: now_ms,
        }
    }

    /// Takes one token, or says in how many whole seconds (at least 1) one will be there.
    pub fn take(&mut self, rate_per_minute: i64, now_ms: u64) -> Result<(), u64> {
        let per_ms = rate_per_minute.max(1) as f64 / 60_000.0;
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        self.tokens = (self.tokens + elapsed * per_ms).min(burst_for(rate_per_minute));
        self.at_ms = self.at_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - self.tokens) / per_ms;
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_burst_then_the_rate() {
        // 60 a minute: a burst of 10, then one a second.
        let mut b = TokenBucket::new(60, 0);
        for _ in 0..10 {
            assert_eq!(b.take(60, 0), Ok(()));
        }
        assert_eq!(b.take(60, 0), Err(1));
        assert_eq!(b.take(60, 999), Err(1));
        assert_eq!(b.take(60, 1000), Ok(()));
        assert_eq!(b.take(60, 1000), Err(1));
        // A slow client: 1 a minute waits up to a minute.
        let mut slow = TokenBucket::new(1, 0);
        assert_eq!(slow.take(1, 0), Ok(()));
        assert_eq!(slow.take(1, 0), Err(60));
        assert_eq!(slow.take(1, 30_000), Err(30));
    }

    proptest! {
        /// Over any window, no more than burst + rate × window requests get through.
        #[test]
        fn never_more_than_burst_plus_rate(rate in 1i64..2000, steps in proptest::collection::vec(0u64..500, 1..400)) {
            let mut b = TokenBucket::new(rate, 0);
            let (mut now, mut passed) = (0u64, 0u64);
            for s in steps {
                now += s;
                if b.take(rate, now).is_ok() {
                    passed += 1;
                }
            }
            let allowed = burst_for(rate) + rate as f64 * now as f64 / 60_000.0;
            prop_assert!(passed as f64 <= allowed.floor() + 1e-9, "{passed} > {allowed}");
        }
    }
}
