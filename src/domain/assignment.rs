//! Assignment by the server (issue 22, item 3): who gets the next waiting application. The
//! available reviewer with the fewest open claims, under the per-reviewer cap; ties go to the
//! username first in order, so the same facts always give the same answer. Away reviewers are
//! not candidates at all (the storage leaves them out).

use super::calendar::beijing;
use chrono::{NaiveDate, NaiveTime, TimeZone};

/// Whether the server assigns, and how many open claims a reviewer may hold before it stops
/// giving them more (`BACKOFFICE_ASSIGNMENT_ENABLED`, `BACKOFFICE_ASSIGNMENT_CAP`, until a
/// supervisor saves settings of their own on `/supervision/assignment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub enabled: bool,
    pub cap: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            enabled: false,
            cap: 10,
        }
    }
}

/// The highest cap a supervisor may set.
pub const MAX_CAP: u32 = 1000;

impl Rules {
    /// The rules as one line for the audit trail.
    pub fn describe(&self) -> String {
        let on = if self.enabled { "on" } else { "off" };
        format!("assignment={on} cap={}", self.cap)
    }
}

/// A reviewer who may be given work, with their open claims (applications in review they hold).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// `staff:<username>`, as `claimed_by` holds it.
    pub actor: String,
    pub open: i64,
}

/// The reviewer who gets the next application: fewest open claims below `cap`, then the
/// first by name. None when everyone is at the cap (or nobody is available).
pub fn choose(candidates: &[Candidate], cap: u32) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.open < i64::from(cap))
        .min_by(|a, b| a.open.cmp(&b.open).then_with(|| a.actor.cmp(&b.actor)))
}

/// Why a reviewer is away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwayKind {
    /// 休假
    Holiday,
    /// 病假
    Sick,
    /// 其他
    Other,
}

impl AwayKind {
    pub const ALL: [AwayKind; 3] = [AwayKind::Holiday, AwayKind::Sick, AwayKind::Other];

    pub fn code(self) -> &'static str {
        match self {
            AwayKind::Holiday => "holiday",
            AwayKind::Sick => "sick",
            AwayKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<AwayKind> {
        AwayKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// The instant an absence "until `last_day`" ends: the start of the next Beijing day (the
/// last day itself is away).
pub fn away_ends_at(last_day: NaiveDate) -> i64 {
    let next = last_day.succ_opt().unwrap_or(last_day);
    beijing()
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(actor: &str, open: i64) -> Candidate {
        Candidate {
            actor: actor.into(),
            open,
        }
    }

    #[test]
    fn fewest_open_claims_then_name_under_the_cap() {
        let cands = [c("staff:wang", 2), c("staff:li", 1), c("staff:zhao", 1)];
        assert_eq!(choose(&cands, 5).unwrap().actor, "staff:li");
        assert_eq!(choose(&cands, 2).unwrap().actor, "staff:li");
        assert_eq!(choose(&cands, 1), None, "everyone at the cap");
        assert_eq!(choose(&[], 5), None);
    }

    #[test]
    fn kinds_round_trip_and_the_last_day_is_away() {
        for k in AwayKind::ALL {
            assert_eq!(AwayKind::parse(k.code()), Some(k));
        }
        assert_eq!(AwayKind::parse("lunch"), None);
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        // 2026-12-02 00:00 in Beijing is 2026-12-01 16:00 UTC.
        let end = chrono::DateTime::parse_from_rfc3339("2026-12-01T16:00:00Z").unwrap();
        assert_eq!(away_ends_at(d), end.timestamp_millis());
        assert_eq!(
            Rules::default().describe(),
            "assignment=off cap=10".to_owned()
        );
    }
}
