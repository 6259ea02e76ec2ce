//! Webhooks to the API clients (README, "Webhooks to the online hall"): how long one delivery
//! may take (`BACKOFFICE_WEBHOOK_TIMEOUT`), how often and how many times one is tried
//! (`BACKOFFICE_WEBHOOK_POLL_MS`, `BACKOFFICE_WEBHOOK_BACKOFF_SECS`,
//! `BACKOFFICE_WEBHOOK_MAX_ATTEMPTS`), the overlap of a rotated secret
//! (`BACKOFFICE_WEBHOOK_SECRET_OVERLAP_HOURS`), and whether endpoints on private addresses are
//! allowed (`BACKOFFICE_WEBHOOK_ALLOW_PRIVATE`, off).

use anyhow::bail;

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Seconds one delivery may take, connecting and the answer included (10; 1 to 60).
    pub timeout_secs: u64,
    /// Milliseconds between two looks for due deliveries (1000; 50 to 60000).
    pub poll_ms: u64,
    /// The first retry's delay in seconds; each further one doubles, up to 6 h (30; 1 to 3600).
    pub backoff_secs: i64,
    /// Failed attempts after which a delivery is parked for an administrator (8; 1 to 30).
    pub max_attempts: i64,
    /// Hours the previous secret keeps signing after a rotation (24; 0 to 720).
    pub secret_overlap_hours: i64,
    /// Endpoints on private, loopback and link-local addresses over https (off).
    pub allow_private: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout_secs: 10,
            poll_ms: 1000,
            backoff_secs: 30,
            max_attempts: 8,
            secret_overlap_hours: 24,
            allow_private: false,
        }
    }
}

impl WebhookSettings {
    pub fn load(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<WebhookSettings> {
        let d = WebhookSettings::default();
        let whole = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| match env(name)
        {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => bail!(
                    "{name} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            },
        };
        let allow_private = match env("BACKOFFICE_WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None | Some("off") | Some("false") | Some("0") => false,
            Some("on") | Some("true") | Some("1") => true,
            Some(other) => {
                bail!("BACKOFFICE_WEBHOOK_ALLOW_PRIVATE must be on or off, not '{other}'")
            }
        };
        Ok(WebhookSettings {
            timeout_secs: whole("BACKOFFICE_WEBHOOK_TIMEOUT", d.timeout_secs as i64, 1..=60)?
                as u64,
            poll_ms: whole("BACKOFFICE_WEBHOOK_POLL_MS", d.poll_ms as i64, 50..=60_000)? as u64,
            backoff_secs: whole("BACKOFFICE_WEBHOOK_BACKOFF_SECS", d.backoff_secs, 1..=3600)?,
            max_attempts: whole("BACKOFFICE_WEBHOOK_MAX_ATTEMPTS", d.max_attempts, 1..=30)?,
            secret_overlap_hours: whole(
                "BACKOFFICE_WEBHOOK_SECRET_OVERLAP_HOURS",
                d.secret_overlap_hours,
                0..=720,
            )?,
            allow_private,
        })
    }

    /// The delay after the `attempts`-th failure: doubling from `backoff_secs`, at most 6 h.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let shift = (attempts - 1).clamp(0, 20);
        (self.backoff_secs * 1000)
            .saturating_mul(1 << shift)
            .min(6 * 3_600_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_backoff() {
        let s = WebhookSettings::load(&|_| None).unwrap();
        assert_eq!((s.max_attempts, s.allow_private), (8, false));
        assert_eq!(s.backoff_ms(1), 30_000);
        assert_eq!(s.backoff_ms(3), 120_000);
        assert_eq!(s.backoff_ms(30), 6 * 3_600_000);
        let bad = |k: &'static str, v: &'static str| {
            WebhookSettings::load(&move |n| (n == k).then(|| v.to_owned()))
                .err()
                .map(|e| e.to_string())
        };
        assert!(
            bad("BACKOFFICE_WEBHOOK_MAX_ATTEMPTS", "0")
                .unwrap()
                .contains("1 to 30")
        );
        assert!(bad("BACKOFFICE_WEBHOOK_ALLOW_PRIVATE", "yes").is_some());
        assert!(bad("BACKOFFICE_WEBHOOK_ALLOW_PRIVATE", "on").is_none());
    }
}
