//! The supervision pages: the dashboard (server-rendered SVG bar charts with the figures beside
//! them, every figure a link to the applications behind it), the list behind a figure, the
//! report list and a report's page.

use super::components::{PagerView, outcome_badge, pager, status_badge, time, yuan};
use super::layout::{PageCtx, csrf, page};
use crate::domain::money::Fen;
use crate::exchange::reports::{self, ReportLayout, Row, Value};
use crate::storage::quality::{Disagreement, SampleRow};
use crate::storage::supervision::FigureRow;
use chrono::NaiveDate;
use maud::{Markup, html};
use std::collections::HashMap;

/// One bar: its label under the axis, its value, the figure printed on it, where it links.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
    pub href: Option<String>,
}

/// A figure with the link to its list.
#[derive(Debug, Clone)]
pub struct Linked {
    pub label: String,
    pub n: i64,
    pub href: String,
}

pub struct Dashboard {
    pub waiting: Linked,
    pub due_today: Linked,
    pub overdue: Linked,
    /// Waiting applications by age in working days (0 … 5+).
    pub ages: Vec<Linked>,
    /// (week of, windows, breached, link to the breaches, link to the windows), oldest first.
    pub weeks: Vec<(NaiveDate, i64, i64, String, String)>,
    /// The days shown, and per reviewer the decisions per day (linked).
    pub days: Vec<NaiveDate>,
    pub reviewers: Vec<(String, Vec<Linked>)>,
    /// Per reviewer the decisions of the days shown (the bars).
    pub reviewer_totals: Vec<Linked>,
    /// The months shown (oldest first), and per reason this month's count and the trend.
    pub months: Vec<String>,
    pub reasons: Vec<(String, Vec<Linked>)>,
    /// Applications submitted in the last 90 days by rounds needed (1 … 5+).
    pub rounds: Vec<Linked>,
    /// Of those, resubmitted at least once (the resubmission rate's numerator).
    pub resubmitted: Linked,
    /// Open payment exceptions per kind.
    pub exceptions: Vec<Linked>,
    /// Accepted but not shipped, by days since acceptance.
    pub unshipped: Vec<Linked>,
    pub unshipped_total: Linked,
}

fn pct(part: i64, all: i64) -> String {
    if all == 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / all as f64)
    }
}

/// Vertical bars scaled to the largest value; printable (no script, plain fills).
pub fn bar_chart(aria: &str, bars: &[Bar], max: Option<f64>) -> Markup {
    // Bars as wide as their longest label (a reason code is wider than a digit).
    let label_px = |l: &str| -> f64 {
        l.chars()
            .map(|c| if c.is_ascii() { 5.2 } else { 9.0 })
            .sum()
    };
    let widest = bars.iter().map(|b| label_px(&b.label)).fold(0.0, f64::max);
    let (w, h, pad) = (f64::max(44.0, widest + 10.0), 110.0, 8.0);
    let width = pad * 2.0 + w * bars.len().max(1) as f64;
    let top = max
        .unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max))
        .max(1.0);
    // A picture, unless its bars are links: then a group of them (an image holds no links).
    let role = if bars.iter().any(|b| b.href.is_some()) {
        "group"
    } else {
        "img"
    };
    html! {
        svg.chart viewBox=(format!("0 0 {width} {}", h + 40.0)) width=(width) height=(h + 40.0) role=(role) aria-label=(aria) {
            line x1=(pad) x2=(width - pad) y1=(h + 10.0) y2=(h + 10.0) stroke="#9aa5b1" {}
            @for (i, b) in bars.iter().enumerate() {
                @let x = pad + 4.0 + w * i as f64;
                @let bh = h * b.value / top;
                @let bar = html! {
                    rect x=(x) y=(10.0 + h - bh) width=(w - 8.0) height=(bh) fill="#3e6fb0" { title { (b.label) ": " (b.text) } }
                    text x=(x + (w - 8.0) / 2.0) y=(10.0 + h - bh - 2.0) font-size="10" text-anchor="middle" fill="#1f2933" { (b.text) }
                };
                @match &b.href { Some(href) => { a href=(href) { (bar) } } None => { (bar) } }
                text x=(x + (w - 8.0) / 2.0) y=(h + 24.0) font-size="9" text-anchor="middle" fill="#616e7c" { (b.label) }
            }
        }
    }
}

fn linked_bars(items: &[Linked]) -> Vec<Bar> {
    items
        .iter()
        .map(|l| Bar {
            label: l.label.clone(),
            value: l.n as f64,
            text: l.n.to_string(),
            href: Some(l.href.clone()),
        })
        .collect()
}

fn figure_table(ctx: &PageCtx, head: &str, items: &[Linked]) -> Markup {
    html! {
        table.grid.compact {
            thead { tr { th { (head) } th { (ctx.t("件数", "Count")) } } }
            tbody {
                @for l in items { tr { td { (l.label) } td.num { a href=(l.href) { (l.n) } } } }
                @if items.is_empty() { tr { td.empty colspan="2" { (ctx.t("无", "None")) } } }
            }
        }
    }
}

pub fn dashboard_page(ctx: &PageCtx, d: &Dashboard) -> Markup {
    let all_rounds: i64 = d.rounds.iter().map(|r| r.n).sum();
    let exceptions: Vec<Linked> = d
        .exceptions
        .iter()
        .map(|l| Linked {
            label: super::finance::kind_label(ctx, &l.label).to_owned(),
            ..l.clone()
        })
        .collect();
    let open_exc: i64 = d.exceptions.iter().map(|r| r.n).sum();
    let week_bars: Vec<Bar> = d
        .weeks
        .iter()
        .map(|(m, w, b, href, _)| Bar {
            label: m.format("%m-%d").to_string(),
            value: if *w > 0 {
                100.0 * (w - b) as f64 / *w as f64
            } else {
                0.0
            },
            text: if *w > 0 {
                format!("{:.0}", 100.0 * (w - b) as f64 / *w as f64)
            } else {
                "—".into()
            },
            href: Some(href.clone()),
        })
        .collect();
    let reviewer_bars = linked_bars(&d.reviewer_totals);
    let reason_bars: Vec<Bar> = d
        .reasons
        .iter()
        .take(8)
        .map(|(code, trend)| {
            let last = trend.last();
            Bar {
                label: code.clone(),
                value: last.map(|l| l.n).unwrap_or(0) as f64,
                text: last.map(|l| l.n).unwrap_or(0).to_string(),
                href: last.map(|l| l.href.clone()),
            }
        })
        .collect();
    let body = html! {
        div.toolbar {
            h1 { (ctx.t("运营监督", "Supervision")) }
            a href="/reports" { (ctx.t("报表", "Reports")) }
            a href="/supervision/quality" { (ctx.t("质量抽检", "Quality sampling")) }
            a href="/supervision/prechecks" { (ctx.t("机审准确率", "Pre-check precision")) }
            a href="/sla" { (ctx.t("审核时效", "Review SLA")) }
        }
        div.kpis {
            div.kpi { span.v { a href=(d.waiting.href) { (d.waiting.n) } } span.l { (ctx.t("待审核", "Waiting")) } }
            div.kpi { span.v { a href=(d.due_today.href) { (d.due_today.n) } } span.l { (ctx.t("今日到期", "Due today")) } }
            div.kpi.bad[d.overdue.n > 0] { span.v { a href=(d.overdue.href) { (d.overdue.n) } } span.l { (ctx.t("当前超期", "Overdue now")) } }
            div.kpi { span.v { a href=(d.resubmitted.href) title=(format!("{} / {all_rounds}", d.resubmitted.n)) { (pct(d.resubmitted.n, all_rounds)) } } span.l { (ctx.t("补正重交率（90天）", "Resubmission rate (90 days)")) } }
            div.kpi.bad[open_exc > 0] { span.v { a href="/finance/exceptions" { (open_exc) } } span.l { (ctx.t("未处理支付异常", "Open payment exceptions")) } }
            div.kpi { span.v { a href=(d.unshipped_total.href) { (d.unshipped_total.n) } } span.l { (ctx.t("已受理未寄出", "Accepted, not shipped")) } }
        }
        div.dashgrid {
        section.dash {
            h2 { (ctx.t("待审核件龄（工作日）", "Waiting by age (working days)")) }
            div.chartbox { (bar_chart(ctx.t("待审核件龄", "Waiting by age"), &linked_bars(&d.ages), None)) (figure_table(ctx, ctx.t("工作日", "Working days"), &d.ages)) }
        }
        section.dash {
            h2 { (ctx.t("每周审核达标率（近一季度）", "SLA compliance per week (last quarter)")) }
            div.chartbox {
                (bar_chart(ctx.t("每周达标率", "Compliance per week"), &week_bars, Some(100.0)))
                table.grid.compact {
                    thead { tr { th { (ctx.t("周一", "Week of")) } th { (ctx.t("审核窗口", "Windows")) } th { (ctx.t("超期", "Breached")) } th { (ctx.t("达标率", "Compliance")) } } }
                    tbody { @for (m, w, b, href, windows) in &d.weeks { tr { td { (m) } td.num { a href=(windows) { (w) } } td.num { a href=(href) { (b) } } td.num { (pct(w - b, *w)) } } } }
                }
            }
        }
        section.dash {
            h2 { (ctx.t("每位审核人员每日审结量（近14天）", "Decisions per reviewer per day (14 days)")) }
            (bar_chart(ctx.t("审结量", "Decisions"), &reviewer_bars, None))
            table.grid.compact {
                thead { tr { th { (ctx.t("审核人", "Reviewer")) } @for day in &d.days { th { (day.format("%m-%d")) } } } }
                tbody {
                    @for (r, per_day) in &d.reviewers {
                        tr { td { (r) } @for l in per_day { td.num { @if l.n > 0 { a href=(l.href) { (l.n) } } @else { "·" } } } }
                    }
                    @if d.reviewers.is_empty() { tr { td.empty colspan=(d.days.len() + 1) { (ctx.t("无", "None")) } } }
                }
            }
        }
        section.dash {
            h2 { (ctx.t("本月退回原因与趋势", "Return reasons this month and their trend")) }
            div.chartbox {
                (bar_chart(ctx.t("本月退回原因", "Return reasons this month"), &reason_bars, None))
                table.grid.compact {
                    thead { tr { th { (ctx.t("原因", "Reason")) } @for m in &d.months { th { (m) } } } }
                    tbody {
                        @for (code, trend) in &d.reasons { tr { td { code { (code) } } @for l in trend { td.num { a href=(l.href) { (l.n) } } } } }
                        @if d.reasons.is_empty() { tr { td.empty colspan=(d.months.len() + 1) { (ctx.t("无", "None")) } } }
                    }
                }
            }
        }
        section.dash {
            h2 { (ctx.t("提交轮次（近90天提交的申请）", "Rounds needed (submitted in the last 90 days)")) }
            div.chartbox { (bar_chart(ctx.t("提交轮次", "Rounds"), &linked_bars(&d.rounds), None)) (figure_table(ctx, ctx.t("轮次", "Rounds"), &d.rounds)) }
        }
        section.dash {
            h2 { (ctx.t("已受理未寄出（自受理起天数）", "Accepted, not shipped (days since acceptance)")) }
            div.chartbox { (bar_chart(ctx.t("已受理未寄出", "Accepted, not shipped"), &linked_bars(&d.unshipped), None)) (figure_table(ctx, ctx.t("天数", "Days"), &d.unshipped)) }
        }
        section.dash {
            h2 { (ctx.t("未处理支付异常", "Open payment exceptions")) }
            (figure_table(ctx, ctx.t("类型", "Kind"), &exceptions))
        }
        }
    };
    page(ctx, ctx.t("运营监督", "Supervision"), body)
}

/// The applications behind one figure.
pub fn figure_page(ctx: &PageCtx, title: &str, rows: &[FigureRow], pg: &PagerView) -> Markup {
    let body = html! {
        div.toolbar { h1 { (title) } a href="/supervision" { (ctx.t("返回监督面板", "Back to the dashboard")) } }
        table.grid {
            thead { tr { th { (ctx.t("受理编号", "Id")) } th { (ctx.t("申请人", "Applicant")) } th { (ctx.t("状态", "Status")) } th { (ctx.t("轮次", "Round")) } th { (ctx.t("收件时间", "Received")) } th { (ctx.t("审核期限", "Deadline")) } th { (ctx.t("认领人", "Claimed by")) } } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href=(format!("/review/{}", r.application_id)) { code { (r.application_id) } } }
                        td { (r.applicant_name) } td { (status_badge(ctx.locale, r.status)) } td.num { (r.version) }
                        td { (time(r.received_at)) } td { (time(r.review_due_at)) }
                        td { (r.claimed_by.as_deref().map(|c| c.trim_start_matches("staff:")).unwrap_or("—")) }
                    }
                }
                @if rows.is_empty() { tr { td.empty colspan="7" { (ctx.t("无", "None")) } } }
            }
        }
        (pager(ctx.locale, pg))
    };
    page(ctx, title, body)
}

pub fn reports_page(ctx: &PageCtx, list: &[(String, ReportLayout)]) -> Markup {
    let body = html! {
        h1 { (ctx.t("报表", "Reports")) }
        p.hint { (ctx.t("报表定义位于 reports/ 目录（标题、列、格式）；数据目录下同名文件可替换之。", "Report definitions live in reports/ (title, columns, formats); a file of the same name in the data directory replaces one.")) }
        table.grid {
            thead { tr { th { (ctx.t("报表", "Report")) } th { (ctx.t("说明", "About")) } th { (ctx.t("下载", "Download")) } } }
            tbody {
                @for (name, l) in list {
                    tr {
                        td { a href=(format!("/reports/{name}")) { (l.title.as_deref().unwrap_or(name)) } }
                        td { (l.description.as_deref().unwrap_or("")) }
                        td { a href=(format!("/reports/{name}/xlsx")) { "xlsx" } " · " a href=(format!("/reports/{name}/csv")) { "csv" } }
                    }
                }
            }
        }
    };
    page(ctx, ctx.t("报表", "Reports"), body)
}

/// A report as a page: the period form, the rows (up to `shown`), the totals row.
/// What a report's page shows: a page of rows, the totals of the whole period, the pager.
pub struct Shown<'a> {
    pub rows: &'a [Row],
    pub totals: &'a HashMap<String, Value>,
    pub pager: &'a PagerView,
}

pub fn report_page(
    ctx: &PageCtx,
    name: &str,
    l: &ReportLayout,
    (from, to): (NaiveDate, NaiveDate),
    shown: &Shown,
) -> Markup {
    let (rows, totals) = (shown.rows, shown.totals);
    let has_totals = l.columns.iter().any(|c| c.total);
    let q = format!("from={from}&to={to}");
    let body = html! {
        div.toolbar {
            h1 { (l.title.as_deref().unwrap_or(name)) }
            a href=(format!("/reports/{name}/xlsx?{q}")) { "xlsx" }
            a href=(format!("/reports/{name}/csv?{q}")) { "csv" }
            a href="/reports" { (ctx.t("全部报表", "All reports")) }
        }
        @if let Some(d) = &l.description { p.hint { (d) } }
        form.inline method="get" action=(format!("/reports/{name}")) {
            label { (ctx.t("自", "From")) " " input type="date" name="from" value=(from); }
            label { (ctx.t("至", "to")) " " input type="date" name="to" value=(to); }
            button type="submit" { (ctx.t("查询", "Show")) }
            " " span.hint id="range-limit" { (ctx.t(crate::views::texts::RANGE_LIMIT_ZH, crate::views::texts::RANGE_LIMIT_EN)) }
        }
        table.grid {
            thead { tr { @for c in &l.columns { th { (c.header) } } } }
            tbody {
                @for row in rows {
                    tr { @for c in &l.columns {
                        @let v = row.get(c.field.as_str()).unwrap_or(&Value::Empty);
                        @match v {
                            Value::Money(f) => { td.num { (yuan(Fen::new(*f))) } }
                            Value::Int(_) => { td.num { (reports::display(v)) } }
                            _ if c.field == "application_id" => { td { a href=(format!("/review/{}", reports::display(v))) { code { (reports::display(v)) } } } }
                            _ => { td { (reports::display(v)) } }
                        }
                    } }
                }
                @if rows.is_empty() { tr { td.empty colspan=(l.columns.len()) { (ctx.t("所选期间无数据。", "Nothing in this period.")) } } }
            }
            @if has_totals {
                tfoot { tr.totals { @for (i, c) in l.columns.iter().enumerate() {
                    @match totals.get(&c.field) {
                        Some(Value::Money(f)) => { td.num { strong { (yuan(Fen::new(*f))) } } }
                        Some(v) => { td.num { strong { (reports::display(v)) } } }
                        None => { td { @if i == 0 { strong { (ctx.t("合计", "Total")) } } } }
                    }
                } } }
            }
        }
        (pager(ctx.locale, shown.pager))
    };
    page(ctx, l.title.as_deref().unwrap_or(name), body)
}

pub struct QualityPage {
    pub week: NaiveDate,
    pub samples: Vec<SampleRow>,
    pub by_reviewer: Vec<Disagreement>,
    pub by_reason: Vec<Disagreement>,
}

fn disagreement_table(ctx: &PageCtx, head: &str, rows: &[Disagreement]) -> Markup {
    html! {
        table.grid.compact {
            thead { tr { th { (head) } th { (ctx.t("已复核", "Judged")) } th { (ctx.t("不同意", "Disagreed")) } th { (ctx.t("不同意率", "Disagreement")) } } }
            tbody {
                @for d in rows { tr { td { (d.key.trim_start_matches("staff:")) } td.num { (d.judged) } td.num { (d.disagreed) } td.num { (pct(d.disagreed, d.judged)) } } }
                @if rows.is_empty() { tr { td.empty colspan="4" { (ctx.t("尚无复核结果", "Nothing judged yet")) } } }
            }
        }
    }
}

/// The week's sample with a verdict form per decision, and the disagreement rates.
pub fn quality_page(ctx: &PageCtx, p: &QualityPage) -> Markup {
    let prev = p.week - chrono::Duration::days(7);
    let next = p.week + chrono::Duration::days(7);
    let supervisor = ctx.role() == "supervisor";
    let body = html! {
        div.toolbar {
            h1 { (ctx.t("质量抽检", "Quality sampling")) " · " (ctx.t("周一 ", "week of ")) (p.week) }
            a href=(format!("/supervision/quality?week={prev}")) { "« " (prev) }
            a href=(format!("/supervision/quality?week={next}")) { (next) " »" }
        }
        @if supervisor {
            form.inline method="post" action="/supervision/quality" {
                (csrf(ctx))
                input type="hidden" name="week" value=(p.week);
                label { (ctx.t("每位审核人抽取", "Per reviewer")) " " input type="number" name="n" value="5" min="1" max="100"; }
                label { (ctx.t("随机种子", "Seed")) " " input type="number" name="seed" value=(p.week.format("%Y%m%d")); }
                button.primary type="submit" { (ctx.t("抽取", "Draw")) }
            }
        }
        h2 { (ctx.t("本周样本", "This week's sample")) }
        table.grid {
            thead { tr { th { (ctx.t("受理编号", "Id")) } th { (ctx.t("审核人", "Reviewer")) } th { (ctx.t("结论", "Outcome")) } th { (ctx.t("审结时间", "Decided")) } th { (ctx.t("复核", "Second look")) } } }
            tbody {
                @for s in &p.samples {
                    tr {
                        td { a href=(format!("/review/{}", s.application_id)) { code { (s.application_id) } } }
                        td { (s.reviewer.trim_start_matches("staff:")) }
                        td { (outcome_badge(ctx.locale, &s.outcome)) }
                        td { (time(s.decided_at)) }
                        td {
                            @if let Some(v) = &s.verdict {
                                strong.verdict { (if v == "agree" { ctx.t("同意", "Agree") } else { ctx.t("不同意", "Disagree") }) }
                                " " (s.verdict_note.as_deref().unwrap_or("")) " "
                            }
                            @if supervisor {
                                form.inline method="post" action=(format!("/supervision/quality/{}", s.sample_id)) {
                                    (csrf(ctx))
                                    input type="hidden" name="week" value=(p.week);
                                    input type="text" name="note" placeholder=(ctx.t("说明", "Note"))
                                        aria-label=(format!("{} {}", ctx.t("复核说明", "Note on"), s.application_id));
                                    button type="submit" name="verdict" value="agree" { (ctx.t("同意", "Agree")) }
                                    button type="submit" name="verdict" value="disagree" { (ctx.t("不同意", "Disagree")) }
                                }
                            }
                        }
                    }
                }
                @if p.samples.is_empty() { tr { td.empty colspan="5" { (ctx.t("本周尚未抽取。", "Nothing drawn for this week.")) } } }
            }
        }
        h2 { (ctx.t("不同意率", "Disagreement rate")) }
        div.chartbox {
            (disagreement_table(ctx, ctx.t("审核人", "Reviewer"), &p.by_reviewer))
            (disagreement_table(ctx, ctx.t("退回原因", "Reason"), &p.by_reason))
        }
    };
    page(ctx, ctx.t("质量抽检", "Quality sampling"), body)
}
