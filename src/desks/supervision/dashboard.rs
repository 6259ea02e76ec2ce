//! The supervision dashboard's figures: the supervision summary's daily counts, today's live
//! counts, each figure with the link to the applications behind it.

use super::{day_of_number, day_start};
use crate::{
    domain::calendar::{WorkingCalendar, beijing_day},
    storage::{Storage, summary::FIGURES},
    views::supervision::{Dashboard, Linked},
};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn list_href(f: &str, from: i64, to: i64, key: &str) -> String {
    let mut h = format!("/supervision/applications?f={f}&from={from}&to={to}");
    if !key.is_empty() {
        h.push_str("&key=");
        h.push_str(&enc(key));
    }
    h
}

/// Working days in (d, today]: 0 for an application received today.
fn working_age(cal: &WorkingCalendar, d: NaiveDate, today: NaiveDate) -> i64 {
    let mut n = 0;
    let mut x = d + Duration::days(1);
    while x <= today {
        if cal.is_working_day(x) {
            n += 1;
        }
        x += Duration::days(1);
    }
    n
}

/// Every figure of the dashboard: the supervision summary's daily counts (two queries), and
/// today's part of the figures that stop at this instant (three counts over today's deadlines).
pub async fn dashboard(
    storage: &Storage,
    cal: &WorkingCalendar,
    now: i64,
) -> Result<Dashboard, sqlx::Error> {
    let (today_start, today_end, today) = beijing_day(now, 0);
    let today_no = (today_start + 28_800_000) / DAY;
    let no = |d: NaiveDate| (day_start(d) + 28_800_000) / DAY;

    // Thirteen weeks, Monday to Monday; six months of reasons; fourteen days of decisions;
    // ninety of rounds: one query back to the earliest of them, one for the figures of all time.
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let mut months = Vec::new();
    let mut m = today.with_day(1).expect("day 1");
    for _ in 0..6 {
        months.push(m);
        m = (m - Duration::days(1)).with_day(1).expect("day 1");
    }
    months.reverse();
    let first_monday = monday - Duration::days(7 * 12);
    let since = no(first_monday).min(no(months[0])).min(today_no - 89);
    let mut by: BTreeMap<&str, Vec<(i64, String, i64)>> = BTreeMap::new();
    for c in storage
        .summary_counts(
            &["windows", "breached", "decided", "reason", "rounds"],
            since,
            today_no + 1,
        )
        .await?
        .into_iter()
        .chain(
            storage
                .summary_counts(&["waiting", "due", "unshipped"], i64::MIN, i64::MAX)
                .await?,
        )
    {
        let f = FIGURES
            .iter()
            .find(|f| **f == c.figure)
            .copied()
            .unwrap_or("");
        by.entry(f).or_default().push((c.day, c.key, c.n));
    }
    let figure = |f: &str| by.get(f).map(Vec::as_slice).unwrap_or(&[]);
    let sum_days = |f: &str, from: i64, to: i64| -> i64 {
        figure(f)
            .iter()
            .filter(|(d, _, _)| *d >= from && *d < to)
            .map(|(_, _, n)| n)
            .sum()
    };

    // Today so far and the rest of today, counted live (the summary is by whole days).
    let due_today = storage.count_due_between(now, today_end).await?;
    let (today_closed, today_breached) = storage.sla_counts(today_start, now).await?;
    let overdue =
        sum_days("due", i64::MIN, today_no) + storage.count_due_between(today_start, now).await?;

    // Waiting by age: days of receipt → working days → buckets 0 … 5+ (each a range of receipt).
    let mut ages: Vec<(i64, i64, i64)> = (0..=5).map(|_| (0, i64::MAX, i64::MIN)).collect();
    let mut waiting = 0;
    for (day, _, n) in figure("waiting") {
        let d = day_of_number(*day);
        let age = working_age(cal, d, today).min(5) as usize;
        let (start, end) = (day_start(d), day_start(d) + DAY);
        let b = &mut ages[age];
        *b = (b.0 + n, b.1.min(start), b.2.max(end));
        waiting += n;
    }
    let ages = ages
        .into_iter()
        .enumerate()
        .map(|(i, (n, from, to))| Linked {
            label: if i == 5 { "5+".into() } else { i.to_string() },
            n,
            href: if n > 0 {
                list_href("waiting", from, to, "")
            } else {
                list_href("waiting", 0, 0, "")
            },
        })
        .collect();

    // Compliance per week, the current one last and up to now: windows closed or still open
    // with a deadline in the week, and how many of them were breached.
    let mut weeks = Vec::new();
    for i in (0..13).rev() {
        let start = monday - Duration::days(7 * i);
        let (from_no, from) = (no(start), day_start(start));
        let (mut w, mut b) = if i == 0 {
            (today_closed, today_breached)
        } else {
            (0, 0)
        };
        let to_no = (from_no + 7).min(today_no);
        w += sum_days("windows", from_no, to_no) + sum_days("due", from_no, to_no);
        b += sum_days("breached", from_no, to_no);
        let to = (from + 7 * DAY).min(now);
        weeks.push((
            start,
            w,
            b,
            list_href("breached", from, to, ""),
            list_href("deadline", from, to, ""),
        ));
    }

    // Decisions per reviewer per day, fourteen days.
    let days: Vec<NaiveDate> = (0..14).map(|i| today - Duration::days(13 - i)).collect();
    let mut per: BTreeMap<String, Vec<Linked>> = BTreeMap::new();
    for (day, key, n) in figure("decided") {
        let d = day_of_number(*day);
        let Some(i) = days.iter().position(|x| *x == d) else {
            continue;
        };
        let row = per.entry(key.clone()).or_insert_with(|| {
            days.iter()
                .map(|d| Linked {
                    label: d.to_string(),
                    n: 0,
                    href: list_href("decided", day_start(*d), day_start(*d) + DAY, key),
                })
                .collect()
        });
        row[i].n = *n;
    }
    let reviewer_totals = per
        .iter()
        .map(|(k, v)| Linked {
            label: k.trim_start_matches("staff:").to_owned(),
            n: v.iter().map(|l| l.n).sum(),
            href: list_href("decided", day_start(days[0]), today_end, k),
        })
        .collect();
    let reviewers = per
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("staff:").to_owned(), v))
        .collect();

    // Return reasons: six months, this one last; ordered by this month's count.
    let month_end = |i: usize| {
        months
            .get(i + 1)
            .map(|n| day_start(*n))
            .unwrap_or(today_end)
    };
    let mut by_reason: BTreeMap<String, Vec<Linked>> = BTreeMap::new();
    for (day, code, n) in figure("reason") {
        let Some(i) = (0..months.len())
            .rev()
            .find(|i| *day >= no(months[*i]) && *day <= today_no)
        else {
            continue;
        };
        let row = by_reason.entry(code.clone()).or_insert_with(|| {
            months
                .iter()
                .enumerate()
                .map(|(j, mm)| Linked {
                    label: mm.format("%Y-%m").to_string(),
                    n: 0,
                    href: list_href("reason", day_start(*mm), month_end(j), code),
                })
                .collect()
        });
        row[i].n += n;
    }
    let mut reasons: Vec<(String, Vec<Linked>)> = by_reason.into_iter().collect();
    reasons.sort_by_key(|(code, trend)| {
        (
            std::cmp::Reverse(trend.last().map(|l| l.n).unwrap_or(0)),
            code.clone(),
        )
    });

    // Rounds needed by applications submitted in the last 90 days.
    let (rf, rt) = (today_start - 89 * DAY, today_end);
    let mut rounds: Vec<Linked> = (1..=5)
        .map(|r| Linked {
            label: if r == 5 { "5+".into() } else { r.to_string() },
            n: 0,
            href: list_href("rounds", rf, rt, &r.to_string()),
        })
        .collect();
    let mut resubmitted = Linked {
        label: String::new(),
        n: 0,
        href: list_href("resubmitted", rf, rt, ""),
    };
    for (day, version, n) in figure("rounds") {
        if *day < today_no - 89 {
            continue;
        }
        let version: i64 = version.parse().unwrap_or(1);
        rounds[(version.clamp(1, 5) - 1) as usize].n += n;
        if version >= 2 {
            resubmitted.n += n;
        }
    }

    let exceptions = storage
        .open_case_counts()
        .await?
        .into_iter()
        .map(|(kind, n)| Linked {
            href: format!("/finance/exceptions?kind={}", enc(&kind)),
            label: kind,
            n,
        })
        .collect();

    // Accepted, not shipped: calendar days since acceptance, in buckets.
    const BUCKETS: [(i64, i64, &str); 5] = [
        (0, 1, "0–1"),
        (2, 3, "2–3"),
        (4, 7, "4–7"),
        (8, 14, "8–14"),
        (15, i64::MAX / 4, "15+"),
    ];
    let mut unshipped: Vec<Linked> = BUCKETS
        .iter()
        .map(|(lo, hi, label)| {
            // accepted on days (today - hi) ..= (today - lo)
            let from = if *hi > 10_000 {
                0
            } else {
                today_start - hi * DAY
            };
            let to = today_start - lo * DAY + DAY;
            Linked {
                label: (*label).into(),
                n: 0,
                href: list_href("unshipped", from, to, ""),
            }
        })
        .collect();
    for (day, _, n) in figure("unshipped") {
        let age = today_no - day;
        if let Some(i) = BUCKETS
            .iter()
            .position(|(lo, hi, _)| age >= *lo && age <= *hi)
        {
            unshipped[i].n += n;
        }
    }

    let unshipped_total = Linked {
        label: String::new(),
        n: unshipped.iter().map(|l| l.n).sum(),
        href: list_href("unshipped", 0, today_end, ""),
    };
    Ok(Dashboard {
        waiting: Linked {
            label: String::new(),
            n: waiting,
            href: list_href("waiting", 0, today_end, ""),
        },
        due_today: Linked {
            label: String::new(),
            n: due_today,
            href: list_href("due", now, today_end, ""),
        },
        overdue: Linked {
            label: String::new(),
            n: overdue,
            href: list_href("due", 0, now, ""),
        },
        ages,
        weeks,
        days,
        reviewers,
        reviewer_totals,
        months: months
            .iter()
            .map(|m| m.format("%Y-%m").to_string())
            .collect(),
        reasons,
        rounds,
        resubmitted,
        exceptions,
        unshipped,
        unshipped_total,
    })
}
