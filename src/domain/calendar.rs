//! The working-day calendar and the review deadline rule (operations.md, "Review deadline").
//! Business time is Asia/Shanghai, a fixed UTC+8 with no daylight saving.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use std::collections::BTreeMap;

/// Asia/Shanghai (UTC+8, no DST since 1991).
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// How a listed day deviates from the Monday–Friday rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// 放假: a statutory holiday (or a weekday given off).
    Holiday,
    /// 上班: a weekend day made a working day (调休).
    Workday,
}

impl DayKind {
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
    pub fn parse(s: &str) -> Option<DayKind> {
        match s.trim() {
            "holiday" | "放假" => Some(DayKind::Holiday),
            "workday" | "上班" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

/// How many working days the review may take, and the hour it ends on the last one.
pub const REVIEW_WORKING_DAYS: u32 = 3;
pub const REVIEW_DEADLINE_HOUR: u32 = 18;

impl WorkingCalendar {
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Self {
            days: days.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.days.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`-th working day strictly after `d`.
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = d;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// 18:00 Beijing time on the third working day strictly after the Beijing calendar day of
    /// `received` (the submission, or the resubmission's receipt).
    pub fn review_due_at(&self, received: DateTime<Utc>) -> DateTime<Utc> {
        let day = received.with_timezone(&beijing()).date_naive();
        let due_day = self.add_working_days(day, REVIEW_WORKING_DAYS);
        let local =
            due_day.and_time(NaiveTime::from_hms_opt(REVIEW_DEADLINE_HOUR, 0, 0).expect("valid"));
        beijing()
            .from_local_datetime(&local)
            .single()
            .expect("fixed offset is unambiguous")
            .with_timezone(&Utc)
    }

    pub fn entries(&self) -> impl Iterator<Item = (NaiveDate, DayKind)> + '_ {
        self.days.iter().map(|(d, k)| (*d, *k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The State Council's 2026 schedule as shipped in shared/data (a few entries that matter here).
    fn cal_2026() -> WorkingCalendar {
        let csv = include_str!("../../migrations/calendar-2025-2026.csv");
        WorkingCalendar::new(
            csv.lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let mut f = l.split(',');
                    let d = NaiveDate::parse_from_str(f.next().unwrap(), "%Y-%m-%d").unwrap();
                    (d, DayKind::parse(f.next().unwrap()).unwrap())
                }),
        )
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn due(cal: &WorkingCalendar, s: &str) -> String {
        cal.review_due_at(at(s))
            .with_timezone(&beijing())
            .to_rfc3339()
    }

    #[test]
    fn ordinary_week() {
        let cal = WorkingCalendar::default();
        // Wednesday 2026-11-25 → Thu, Fri, Mon → Monday 30th 18:00.
        assert_eq!(
            due(&cal, "2026-11-25T10:05:00+08:00"),
            "2026-11-30T18:00:00+08:00"
        );
        // Late Tuesday evening UTC is already Wednesday in Beijing.
        assert_eq!(
            due(&cal, "2026-11-24T17:00:00Z"),
            "2026-11-30T18:00:00+08:00"
        );
        // Saturday → Mon, Tue, Wed.
        assert_eq!(
            due(&cal, "2026-11-28T09:00:00+08:00"),
            "2026-12-02T18:00:00+08:00"
        );
    }

    #[test]
    fn national_day_2026() {
        let cal = cal_2026();
        // 2026: Oct 1–7 off, Sep 20 (Sun) and Oct 10 (Sat) worked: Oct 8, 9, 10.
        assert_eq!(
            due(&cal, "2026-09-30T11:00:00+08:00"),
            "2026-10-10T18:00:00+08:00"
        );
        assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
    }

    #[test]
    fn spring_festival_2026() {
        let cal = cal_2026();
        // 2026: Feb 15–23 off; Feb 14 (Sat) and Feb 28 (Sat) worked.
        assert_eq!(
            due(&cal, "2026-02-12T15:00:00+08:00"),
            "2026-02-24T18:00:00+08:00"
        );
        assert_eq!(
            due(&cal, "2026-02-13T15:00:00+08:00"),
            "2026-02-25T18:00:00+08:00"
        );
    }

    #[test]
    fn labour_day_2026() {
        let cal = cal_2026();
        // 2026: May 1–5 off; May 9 (Sat) worked.
        assert_eq!(
            due(&cal, "2026-04-30T10:00:00+08:00"),
            "2026-05-08T18:00:00+08:00"
        );
        assert_eq!(
            due(&cal, "2026-05-06T10:00:00+08:00"),
            "2026-05-09T18:00:00+08:00"
        );
    }

    proptest! {
        #[test]
        fn deadline_is_18h_on_the_third_working_day(secs in 1_735_660_800i64..1_798_732_800) {
            let cal = cal_2026();
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let due = cal.review_due_at(t).with_timezone(&beijing());
            prop_assert_eq!(due.time(), NaiveTime::from_hms_opt(18, 0, 0).unwrap());
            prop_assert!(cal.is_working_day(due.date_naive()));
            let start = t.with_timezone(&beijing()).date_naive();
            let between = start.iter_days().skip(1).take_while(|d| *d <= due.date_naive())
                .filter(|d| cal.is_working_day(*d)).count();
            prop_assert_eq!(between, 3);
        }
    }
}
