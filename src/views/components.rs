//! Reusable parts: times in Beijing time, time left to a deadline, status badges, money.

use super::texts::{Locale, status_label};
use crate::domain::{calendar::beijing, money::Fen, status::Status};
use crate::storage::from_ms;
use maud::{Markup, Render, html};

/// `2026-11-25 10:05` in Beijing time.
pub fn time(ms: i64) -> String {
    from_ms(ms)
        .with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn status_badge(l: Locale, code: &str) -> Markup {
    match Status::parse(code) {
        Some(s) => html! { span.badge.(code) { (status_label(l, s)) } },
        None => html! { span.badge { (code) } },
    }
}

/// How urgent a deadline is: overdue (red), due today or tomorrow's last working day (amber).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Overdue,
    LastDay,
    Normal,
}

impl Urgency {
    pub fn class(self) -> &'static str {
        match self {
            Urgency::Overdue => "overdue",
            Urgency::LastDay => "lastday",
            Urgency::Normal => "",
        }
    }
}

/// "3 h 20 min" / "2 d 4 h" left, or overdue by as much.
pub fn time_left(l: Locale, now_ms: i64, due_ms: i64) -> String {
    let d = due_ms - now_ms;
    let mins = d.abs() / 60_000;
    let (days, hours, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let span = match l {
        Locale::Zh if days > 0 => format!("{days}天{hours}小时"),
        Locale::Zh if hours > 0 => format!("{hours}小时{m}分"),
        Locale::Zh => format!("{m}分钟"),
        Locale::En if days > 0 => format!("{days} d {hours} h"),
        Locale::En if hours > 0 => format!("{hours} h {m} min"),
        Locale::En => format!("{m} min"),
    };
    if d < 0 {
        match l {
            Locale::Zh => format!("已超期 {span}"),
            Locale::En => format!("overdue by {span}"),
        }
    } else {
        match l {
            Locale::Zh => format!("剩余 {span}"),
            Locale::En => format!("{span} left"),
        }
    }
}

/// Money as every page shows it: `¥12,345.00`, `-¥0.50` — the sign, the currency sign, the
/// yuan in groups of three, two decimals.
pub fn yuan(fen: Fen) -> String {
    let v = fen.get();
    let abs = v.unsigned_abs();
    let int = (abs / 100).to_string();
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

/// Money in a page: [`yuan`] in a `span.money`.
pub struct Yuan(pub Fen);

impl Render for Yuan {
    fn render(&self) -> Markup {
        html! { span.money { (yuan(self.0)) } }
    }
}

/// An outcome's counts in one line: `行数 3 · 已匹配 2 · …`.
pub fn counts_line(items: &[(&str, usize)]) -> String {
    items
        .iter()
        .map(|(label, n)| format!("{label} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_well() {
        let h = 3_600_000;
        assert_eq!(time_left(Locale::Zh, 0, 26 * h + 60_000), "剩余 1天2小时");
        assert_eq!(
            time_left(Locale::En, 0, -(2 * h + 5 * 60_000)),
            "overdue by 2 h 5 min"
        );
        assert_eq!(
            Yuan(Fen::new(20000)).render().into_string(),
            "<span class=\"money\">¥200.00</span>"
        );
    }

    #[test]
    fn money_has_thousands_separators_and_its_sign() {
        for (fen, shown) in [
            (0, "¥0.00"),
            (5, "¥0.05"),
            (-50, "-¥0.50"),
            (99_999, "¥999.99"),
            (100_000, "¥1,000.00"),
            (1_234_500, "¥12,345.00"),
            (-123_456_789, "-¥1,234,567.89"),
            (i64::MAX, "¥92,233,720,368,547,758.07"),
            (i64::MIN, "-¥92,233,720,368,547,758.08"),
        ] {
            assert_eq!(yuan(Fen::new(fen)), shown, "{fen}");
        }
    }
}
