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

/// The Beijing day of `now` as [start, end) in epoch milliseconds, and its date.
pub fn beijing_day(now: i64, offset_days: i64) -> (i64, i64, chrono::NaiveDate) {
    let day = DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&beijing())
        .date_naive()
        + Duration::days(offset_days);
    let start = beijing()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("fixed offset")
        .timestamp_millis();
    (start, start + 86_400_000, day)
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
    /// `received` (the submission, or the resubmission's receipt). A day of a year the calendar
    /// lists nothing for counts by the Monday–Friday rule alone (its holidays are not known
    /// yet); importing that year recomputes the waiting deadlines.
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

    /// Deadlines worked out by hand on the 2026 schedule (migrations/calendar-2025-2026.csv,
    /// the same as shared/data/cn-calendar-2025-2026.csv). Spring Festival: Sat Feb 14 worked,
    /// Feb 15–23 off, Sat Feb 28 worked. Mid-Autumn and National Day: Sun Sep 20 worked,
    /// Fri Sep 25–Sun Sep 27 off, Oct 1–7 off, Sat Oct 10 worked.
    #[test]
    fn hand_computed_deadlines_2026() {
        let cal = cal_2026();
        for (received, deadline) in [
            // Thu 12, Fri 13, Sat 14 (调休).
            ("2026-02-11T09:00:00+08:00", "2026-02-14"),
            // Fri 13, Sat 14, then the holiday, Tue 24.
            ("2026-02-12T15:00:00+08:00", "2026-02-24"),
            ("2026-02-13T15:00:00+08:00", "2026-02-25"),
            // Received on the worked Saturday itself: Tue 24, Wed 25, Thu 26.
            ("2026-02-14T10:00:00+08:00", "2026-02-26"),
            // Received during the holiday.
            ("2026-02-22T10:00:00+08:00", "2026-02-26"),
            // Thu 26, Fri 27, Sat 28 (调休).
            ("2026-02-25T10:00:00+08:00", "2026-02-28"),
            // Fri 27, Sat 28, (Sun off) Mon Mar 2.
            ("2026-02-26T10:00:00+08:00", "2026-03-02"),
            // (Sat off) Sun 20 (调休), Mon 21, Tue 22.
            ("2026-09-18T10:00:00+08:00", "2026-09-22"),
            // Thu 24, (Sep 25–27 off) Mon 28, Tue 29.
            ("2026-09-23T10:00:00+08:00", "2026-09-29"),
            // Tue 29, Wed 30, (Oct 1–7 off) Thu Oct 8.
            ("2026-09-28T10:00:00+08:00", "2026-10-08"),
            ("2026-09-29T10:00:00+08:00", "2026-10-09"),
            // Oct 8, 9, Sat 10 (调休).
            ("2026-09-30T11:00:00+08:00", "2026-10-10"),
            ("2026-10-03T11:00:00+08:00", "2026-10-10"),
            // Sat 10 (调休), (Sun off) Mon 12, Tue 13.
            ("2026-10-09T11:00:00+08:00", "2026-10-13"),
            // New Year 2026: Jan 1–3 off, Sun Jan 4 worked: Sun 4, Mon 5, Tue 6.
            ("2025-12-31T11:00:00+08:00", "2026-01-06"),
            // 23:59 Beijing is still that day; 16:00 UTC is already the next.
            ("2026-02-13T23:59:59+08:00", "2026-02-25"),
            ("2026-02-13T16:00:00Z", "2026-02-26"),
        ] {
            assert_eq!(
                due(&cal, received),
                format!("{deadline}T18:00:00+08:00"),
                "{received}"
            );
        }
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

    /// Past the last year listed (2026), days count Monday–Friday: New Year's Day 2027 is a
    /// working day until 2027's schedule is loaded, which then moves the deadline.
    #[test]
    fn a_year_the_calendar_does_not_cover_counts_weekdays() {
        let cal = cal_2026();
        assert_eq!(cal.entries().map(|(d, _)| d.year()).max(), Some(2026));
        // Wed Dec 30 → Thu 31, Fri Jan 1 (not known as a holiday), Mon Jan 4.
        assert_eq!(
            due(&cal, "2026-12-30T10:00:00+08:00"),
            "2027-01-04T18:00:00+08:00"
        );
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let with_2027 =
            WorkingCalendar::new(cal.entries().chain([(d(2027, 1, 1), DayKind::Holiday)]));
        assert_eq!(
            due(&with_2027, "2026-12-30T10:00:00+08:00"),
            "2027-01-05T18:00:00+08:00"
        );
    }

    #[test]
    fn day_kinds_and_entries() {
        assert_eq!(DayKind::Holiday.code(), "holiday");
        assert_eq!(DayKind::Workday.code(), "workday");
        for k in [DayKind::Holiday, DayKind::Workday] {
            assert_eq!(DayKind::parse(k.code()), Some(k));
        }
        assert_eq!(DayKind::parse(" 放假 "), Some(DayKind::Holiday));
        assert_eq!(DayKind::parse("上班"), Some(DayKind::Workday));
        assert_eq!(DayKind::parse("weekend"), None);
        let d = |m, dd| NaiveDate::from_ymd_opt(2026, m, dd).unwrap();
        let cal =
            WorkingCalendar::new([(d(10, 10), DayKind::Workday), (d(10, 1), DayKind::Holiday)]);
        assert_eq!(
            cal.entries().collect::<Vec<_>>(),
            [(d(10, 1), DayKind::Holiday), (d(10, 10), DayKind::Workday)]
        );
        assert_eq!(cal_2026().entries().count(), 72);
        assert_eq!(WorkingCalendar::default().entries().count(), 0);
    }

    /// The schedule read straight from the CSV text, as a second reading of what a working
    /// day is: listed days by their type, others Monday–Friday.
    fn independent_is_working(d: NaiveDate) -> bool {
        let csv = include_str!("../../migrations/calendar-2025-2026.csv");
        let key = d.format("%Y-%m-%d,").to_string();
        match csv.lines().find(|l| l.starts_with(&key)) {
            Some(l) => l.split(',').nth(1) == Some("workday"),
            None => d.weekday().num_days_from_monday() < 5,
        }
    }

    proptest! {
        #[test]
        fn deadline_is_18h_on_the_third_working_day(secs in 1_735_660_800i64..1_798_732_800) {
            let cal = cal_2026();
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let due = cal.review_due_at(t).with_timezone(&beijing());
            prop_assert_eq!(due.time(), NaiveTime::from_hms_opt(18, 0, 0).unwrap());
            prop_assert!(independent_is_working(due.date_naive()));
            let start = (t + Duration::hours(8)).date_naive();
            let between = start.iter_days().skip(1).take_while(|d| *d <= due.date_naive())
                .filter(|d| independent_is_working(*d)).count();
            prop_assert_eq!(between, 3);
        }
    }
}
