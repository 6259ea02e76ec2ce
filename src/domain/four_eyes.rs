//! Four eyes (dual control): which acceptances wait for a second reviewer's approval. The rules
//! are data (the configuration's, or the admin page's); the sample is drawn as the quality
//! sampling draws, reproducibly: an application's place is the SHA-256 of the seed, its id and
//! version, so the same seed holds the same applications on any machine and either database.

use sha2::{Digest, Sha256};

/// The rules in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Hold an acceptance while a flagged pre-check finding on the ID number, the name, the
    /// card's validity or a reused photo is not dismissed by a reviewer.
    pub unresolved_findings: bool,
    /// Hold an acceptance a supervisor let through without a verified payment.
    pub payment_override: bool,
    /// Hold this share (0–100 %) of all other acceptances, drawn by `sample_seed`.
    pub sample_percent: u8,
    pub sample_seed: i64,
}

/// Off until configured: no acceptance waits.
impl Default for Rules {
    fn default() -> Self {
        Rules {
            unresolved_findings: false,
            payment_override: false,
            sample_percent: 0,
            sample_seed: 0,
        }
    }
}

/// Why an acceptance waits for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Findings,
    PaymentOverride,
    Sample,
}

impl Reason {
    pub const ALL: [Reason; 3] = [Reason::Findings, Reason::PaymentOverride, Reason::Sample];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Findings => "findings",
            Reason::PaymentOverride => "payment_override",
            Reason::Sample => "sample",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Self::ALL.into_iter().find(|r| r.code() == s.trim())
    }
}

/// The pre-checks whose unresolved finding holds an acceptance: a differing ID number or name,
/// an expired card, a reused photo.
pub const HOLDING_CHECKS: [&str; 4] = ["id_number", "name", "valid_until", "reused_photo"];

/// What the acceptance being made is like.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub application_id: &'a str,
    pub version: i64,
    /// Flagged findings of [`HOLDING_CHECKS`] on this version not dismissed.
    pub unresolved_findings: i64,
    pub payment_overridden: bool,
}

/// Whether the application falls in the sample: its rank below `percent` of the range.
pub fn sampled(seed: i64, application_id: &str, version: i64, percent: u8) -> bool {
    if percent == 0 {
        return false;
    }
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(application_id.as_bytes());
    h.update(version.to_be_bytes());
    let d: [u8; 32] = h.finalize().into();
    let rank = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 10_000;
    rank < u64::from(percent.min(100)) * 100
}

/// The rules that hold this acceptance; empty: it takes effect at once.
pub fn reasons(rules: &Rules, f: &Facts<'_>) -> Vec<Reason> {
    let mut out = Vec::new();
    if rules.unresolved_findings && f.unresolved_findings > 0 {
        out.push(Reason::Findings);
    }
    if rules.payment_override && f.payment_overridden {
        out.push(Reason::PaymentOverride);
    }
    if sampled(
        rules.sample_seed,
        f.application_id,
        f.version,
        rules.sample_percent,
    ) {
        out.push(Reason::Sample);
    }
    out
}

/// Reasons as stored: codes joined by commas.
pub fn join(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.code())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn split(stored: &str) -> Vec<Reason> {
    stored.split(',').filter_map(Reason::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: &str) -> Facts<'_> {
        Facts {
            application_id: id,
            version: 1,
            unresolved_findings: 0,
            payment_overridden: false,
        }
    }

    #[test]
    fn each_rule_holds_only_when_on() {
        let on = Rules {
            unresolved_findings: true,
            payment_override: true,
            ..Rules::default()
        };
        let off = Rules {
            unresolved_findings: false,
            payment_override: false,
            ..on
        };
        let f = Facts {
            unresolved_findings: 2,
            payment_overridden: true,
            ..facts("A1")
        };
        assert_eq!(
            reasons(&on, &f),
            vec![Reason::Findings, Reason::PaymentOverride]
        );
        assert!(reasons(&off, &f).is_empty());
        assert!(reasons(&on, &facts("A1")).is_empty());
    }

    #[test]
    fn the_sample_is_reproducible_and_near_its_share() {
        let ids: Vec<String> = (0..2000).map(|i| format!("A{i:05}")).collect();
        let drawn = |seed, pct| {
            ids.iter()
                .filter(|id| sampled(seed, id, 1, pct))
                .cloned()
                .collect::<Vec<_>>()
        };
        let a = drawn(7, 10);
        assert_eq!(a, drawn(7, 10));
        assert_ne!(a, drawn(8, 10));
        assert!((150..=250).contains(&a.len()), "{}", a.len());
        assert!(drawn(7, 0).is_empty());
        assert_eq!(drawn(7, 100).len(), 2000);
    }

    #[test]
    fn reasons_round_trip() {
        let all = Reason::ALL.to_vec();
        assert_eq!(split(&join(&all)), all);
    }
}
