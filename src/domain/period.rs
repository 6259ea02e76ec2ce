//! Date ranges asked for from outside (report and supervision URLs): never more than a year,
//! never outside the years 2000–2099, so no query lays out millions of days and no date
//! arithmetic can overflow. The pages say so beside their date fields.

use chrono::{Duration, NaiveDate};

/// The longest range, in days (both ends counted).
pub const MAX_DAYS: i64 = 366;

/// The first and last days a range may touch.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}

pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2099, 12, 31).expect("a valid date")
}

/// A range as it will be queried; `cut` when it is not what was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub cut: bool,
}

/// Each end brought into 2000–2099, the ends swapped when reversed, and a range longer than
/// [`MAX_DAYS`] cut to the [`MAX_DAYS`] days that end on `to`.
pub fn bounded(from: NaiveDate, to: NaiveDate) -> Period {
    let clamp = |d: NaiveDate| d.clamp(first_day(), last_day());
    let (mut f, mut t) = (clamp(from), clamp(to));
    if f > t {
        std::mem::swap(&mut f, &mut t);
    }
    if (t - f).num_days() >= MAX_DAYS {
        f = t - Duration::days(MAX_DAYS - 1);
    }
    let cut = (f, t) != (from, to) && (f, t) != (to, from);
    Period {
        from: f,
        to: t,
        cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_range_is_at_most_a_year() {
        let p = bounded(d(1, 1, 1), d(9999, 12, 31));
        assert_eq!(p.to, d(2099, 12, 31));
        assert_eq!((p.to - p.from).num_days(), MAX_DAYS - 1);
        assert!(p.cut);
        let p = bounded(d(2026, 11, 1), d(2026, 11, 30));
        assert_eq!(
            (p.from, p.to, p.cut),
            (d(2026, 11, 1), d(2026, 11, 30), false)
        );
        let p = bounded(d(2026, 11, 30), d(2026, 11, 1));
        assert_eq!(
            (p.from, p.to, p.cut),
            (d(2026, 11, 1), d(2026, 11, 30), false)
        );
        let p = bounded(NaiveDate::MIN, NaiveDate::MIN);
        assert_eq!((p.from, p.to), (d(2000, 1, 1), d(2000, 1, 1)));
    }

    proptest! {
        #[test]
        fn any_two_days_give_a_bounded_range(a in -262_000i32..262_000, b in -262_000i32..262_000, x in 0u32..366, y in 0u32..366) {
            let day = |yr: i32, o: u32| NaiveDate::from_yo_opt(yr, o + 1).unwrap_or(NaiveDate::MIN);
            let p = bounded(day(a, x), day(b, y));
            prop_assert!(p.from <= p.to);
            prop_assert!((p.to - p.from).num_days() < MAX_DAYS);
            prop_assert!(p.from >= first_day() && p.to <= last_day());
            // A laid-out day after the last one still exists.
            prop_assert!(p.to.succ_opt().is_some() && p.from.pred_opt().is_some());
        }
    }
}
