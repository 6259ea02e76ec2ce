//! The review desk's rules from the environment: four eyes (`BACKOFFICE_FOUR_EYES_*`, the
//! defaults until an admin saves rules on `/admin/four-eyes`), assignment by the server
//! (`BACKOFFICE_ASSIGNMENT_*`, the defaults until a supervisor saves settings on
//! `/supervision/assignment`) and the expiry of returned applications
//! (`BACKOFFICE_RETURNED_EXPIRY_DAYS`). README, "Configuration".

use crate::domain::{assignment, four_eyes::Rules};
use anyhow::bail;

#[derive(Clone, Debug)]
pub struct ReviewSettings {
    /// `BACKOFFICE_FOUR_EYES_FINDINGS` (off), `BACKOFFICE_FOUR_EYES_PAYMENT_OVERRIDE` (off),
    /// `BACKOFFICE_FOUR_EYES_SAMPLE_PERCENT` (0), `BACKOFFICE_FOUR_EYES_SEED` (0).
    pub four_eyes: Rules,
    /// `BACKOFFICE_ASSIGNMENT_ENABLED` (off), `BACKOFFICE_ASSIGNMENT_CAP` (10 open claims per
    /// reviewer, 1 to 1000).
    pub assignment: assignment::Rules,
    /// Calendar days a returned application waits for its resubmission before it is closed as
    /// expired (`BACKOFFICE_RETURNED_EXPIRY_DAYS`, 30).
    pub returned_expiry_days: u32,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            four_eyes: Rules::default(),
            assignment: assignment::Rules::default(),
            returned_expiry_days: 30,
        }
    }
}

impl ReviewSettings {
    pub fn load(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<ReviewSettings> {
        let d = ReviewSettings::default();
        let on_off = |name: &str, default: bool| -> anyhow::Result<bool> {
            match env(name).as_deref().map(str::trim) {
                None => Ok(default),
                Some("on") => Ok(true),
                Some("off") => Ok(false),
                Some(_) => bail!("{name} must be on or off"),
            }
        };
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
        Ok(ReviewSettings {
            four_eyes: Rules {
                unresolved_findings: on_off(
                    "BACKOFFICE_FOUR_EYES_FINDINGS",
                    d.four_eyes.unresolved_findings,
                )?,
                payment_override: on_off(
                    "BACKOFFICE_FOUR_EYES_PAYMENT_OVERRIDE",
                    d.four_eyes.payment_override,
                )?,
                sample_percent: whole("BACKOFFICE_FOUR_EYES_SAMPLE_PERCENT", 0, 0..=100)? as u8,
                sample_seed: whole("BACKOFFICE_FOUR_EYES_SEED", 0, i64::MIN..=i64::MAX)?,
            },
            assignment: assignment::Rules {
                enabled: on_off("BACKOFFICE_ASSIGNMENT_ENABLED", d.assignment.enabled)?,
                cap: whole(
                    "BACKOFFICE_ASSIGNMENT_CAP",
                    i64::from(d.assignment.cap),
                    1..=i64::from(assignment::MAX_CAP),
                )? as u32,
            },
            returned_expiry_days: whole("BACKOFFICE_RETURNED_EXPIRY_DAYS", 30, 1..=3650)? as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_named() {
        let s = ReviewSettings::load(&|_| None).unwrap();
        assert!(!s.four_eyes.unresolved_findings && !s.four_eyes.payment_override);
        let on =
            ReviewSettings::load(&|k| (k == "BACKOFFICE_FOUR_EYES_FINDINGS").then(|| "on".into()))
                .unwrap();
        assert!(on.four_eyes.unresolved_findings);
        assert_eq!(
            (s.four_eyes.sample_percent, s.returned_expiry_days),
            (0, 30)
        );
        let e = ReviewSettings::load(&|k| {
            (k == "BACKOFFICE_FOUR_EYES_SAMPLE_PERCENT").then(|| "101".into())
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("BACKOFFICE_FOUR_EYES_SAMPLE_PERCENT")
        );
        let e =
            ReviewSettings::load(&|k| (k == "BACKOFFICE_RETURNED_EXPIRY_DAYS").then(|| "0".into()))
                .unwrap_err();
        assert!(e.to_string().contains("from 1 to 3650"));
        assert_eq!(s.assignment, assignment::Rules::default());
        let a = ReviewSettings::load(&|k| match k {
            "BACKOFFICE_ASSIGNMENT_ENABLED" => Some("on".into()),
            "BACKOFFICE_ASSIGNMENT_CAP" => Some("3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            a.assignment,
            assignment::Rules {
                enabled: true,
                cap: 3
            }
        );
        let e = ReviewSettings::load(&|k| (k == "BACKOFFICE_ASSIGNMENT_CAP").then(|| "0".into()))
            .unwrap_err();
        assert!(e.to_string().contains("BACKOFFICE_ASSIGNMENT_CAP"));
    }
}
