//! Reusable parts: times in Beijing time, time left to a deadline, status badges, money.

use super::layout::PageCtx;
use super::texts::{Locale, status_label};
use crate::domain::{calendar::beijing, ids::ApplicationId, money::Fen, status::Status};
use crate::exchange::formats::Formats;
use crate::storage::from_ms;
use maud::{Markup, Render, html};

/// An application id shows as itself (`BF20261125-7K3M9Q`).
impl Render for ApplicationId {
    fn render_to(&self, buffer: &mut String) {
        self.as_str().render_to(buffer);
    }
}

/// `2026-11-25 10:05` in Beijing time.
pub fn time(ms: i64) -> String {
    from_ms(ms)
        .with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn status_badge(l: Locale, s: Status) -> Markup {
    html! { span.badge.(s.code()) { (status_label(l, s)) } }
}

/// A decision's outcome (`accepted`, `returned`) as the status it led to.
pub fn outcome_badge(l: Locale, outcome: &str) -> Markup {
    match Status::parse(outcome) {
        Some(s) => status_badge(l, s),
        None => html! { span.badge { (outcome) } },
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

/// Where a page sits in its list: rows `first`–`last` (from 1) of `total`, and the links to
/// the pages around it.
#[derive(Debug, Clone, Default)]
pub struct PagerView {
    pub first: i64,
    pub last: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// "第 1–50 条，共 812 条 · 上一页 · 下一页": every list's pager.
pub fn pager(l: Locale, p: &PagerView) -> Markup {
    let count = match (l, p.total) {
        (Locale::Zh, 0) => "共 0 条".to_owned(),
        (Locale::En, 0) => "0 rows".to_owned(),
        // A page beyond the end of a list that shrank: its pager leads back.
        (Locale::Zh, _) if p.last < p.first => format!("本页无记录，共 {} 条", p.total),
        (Locale::En, _) if p.last < p.first => format!("No rows here; {} in all", p.total),
        (Locale::Zh, _) => format!("第 {}–{} 条，共 {} 条", p.first, p.last, p.total),
        (Locale::En, _) => format!("Rows {}–{} of {}", p.first, p.last, p.total),
    };
    let (prev, next) = (l.t("上一页", "Previous"), l.t("下一页", "Next"));
    html! {
        nav.pager aria-label=(l.t("分页", "Pages")) {
            span.count { (count) }
            @if let Some(h) = &p.prev { a rel="prev" href=(h) { "« " (prev) } }
            @else { span.off { "« " (prev) } }
            @if let Some(h) = &p.next { a rel="next" href=(h) { (next) " »" } }
            @else { span.off { (next) " »" } }
        }
    }
}

// ---- Upload forms (issue 21): one component for every desk's file import. ----

/// A desk's file import form: see [`upload_form`].
pub struct UploadForm<'a> {
    /// The route, without its CSRF token (the form adds it).
    pub action: &'a str,
    pub label: &'a str,
    pub button: &'a str,
    pub button_id: &'a str,
    pub formats: Formats,
    pub primary: bool,
}

/// The upload form: `accept=` from the formats the import reads, the formats and the limit
/// written out, and the messages `static/upload.js` shows (in the page's language) while the
/// file is sent and processed. Without the script it is a plain form post.
pub fn upload_form(ctx: &PageCtx, f: &UploadForm) -> Markup {
    let mib = f.formats.limit / (1024 * 1024);
    let too_large = match ctx.locale {
        Locale::Zh => format!("文件超过 {mib} MiB 上限，未发送。请拆分后分次上传。"),
        Locale::En => {
            format!(
                "The file is over the {mib} MiB limit and was not sent. Split it and upload the parts."
            )
        }
    };
    let formats = match ctx.locale {
        Locale::Zh => format!("格式 {}，最大 {mib} MiB", f.formats.listed()),
        Locale::En => format!("{}, at most {mib} MiB", f.formats.listed()),
    };
    html! {
        form.upload method="post" action=(format!("{}?_csrf={}", f.action, ctx.csrf)) enctype="multipart/form-data"
            data-upload data-limit=(f.formats.limit) data-too-large=(too_large)
            data-sending=(ctx.t("正在上传…", "Sending…"))
            data-processing=(ctx.t("已上传，正在处理，请勿关闭页面…", "Sent; processing, keep this page open…"))
            data-done=(ctx.t("处理完成，正在显示结果…", "Done; showing the result…"))
            data-failed=(ctx.t("发送失败（网络中断），未作任何更改。请重试。", "Sending failed (the connection broke); nothing was changed. Try again.")) {
            label { (f.label) " " input type="file" name="file" accept=(f.formats.accept()) required; }
            " " button.primary[f.primary] type="submit" id=(f.button_id) { (f.button) }
            " " span.hint { (formats) }
            span.upload-state hidden {
                progress max="100" aria-label=(ctx.t("上传进度", "Upload progress")) {}
                " " output role="status" aria-live="polite" {}
            }
        }
    }
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
    fn pager_says_where_the_page_is() {
        let p = PagerView {
            first: 51,
            last: 100,
            total: 812,
            prev: Some("/x?before=1".into()),
            next: None,
        };
        let html = pager(Locale::Zh, &p).into_string();
        assert!(html.contains("第 51–100 条，共 812 条"), "{html}");
        assert!(html.contains("href=\"/x?before=1\""), "{html}");
        assert!(html.contains("<span class=\"off\">下一页"), "{html}");
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
