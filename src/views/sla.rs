//! Supervision pages of the SLA engine: the SLA page, the outbox, the working-day calendar.

use super::components::{PagerView, UploadForm, pager, status_badge, time, upload_form};
use super::layout::{PageCtx, csrf, page};
use crate::domain::{calendar::WorkingCalendar, masking};
use crate::exchange::formats;
use crate::storage::{
    outbox::OutboxRow,
    paging::Page,
    sla::{BreachRow, DueRow},
};
use chrono::{Datelike, NaiveDate, Weekday};
use maud::{Markup, PreEscaped, html};

/// The SLA page's figures; its three lists a page each, with their pagers.
pub struct SlaFigures {
    pub due_today: Page<DueRow>,
    pub overdue_now: Page<DueRow>,
    /// (windows, breached) over the last 30 days.
    pub last_30: (i64, i64),
    /// (Monday of the week, windows, breached), oldest first.
    pub weeks: Vec<(NaiveDate, i64, i64)>,
    pub breaches: Page<BreachRow>,
    /// The pagers of due today, overdue now and the breaches.
    pub pagers: [PagerView; 3],
}

fn rate(windows: i64, breached: i64) -> Option<f64> {
    (windows > 0).then(|| 100.0 * (windows - breached) as f64 / windows as f64)
}

/// Compliance per week as bars (server-rendered SVG, readable in print), figures beside.
fn chart(weeks: &[(NaiveDate, i64, i64)]) -> Markup {
    let (w, h, pad) = (36.0, 120.0, 24.0);
    let width = pad + w * weeks.len() as f64 + 8.0;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {}" width="{width}" height="{}" role="img" aria-label="SLA compliance per week">"#,
        h + 40.0,
        h + 40.0
    );
    for pct in [0, 50, 100] {
        let y = 8.0 + h - h * pct as f64 / 100.0;
        svg.push_str(&format!(r##"<line x1="{pad}" x2="{width}" y1="{y}" y2="{y}" stroke="#d9dee4"/><text x="0" y="{}" font-size="9" fill="#616e7c">{pct}%</text>"##, y + 3.0));
    }
    for (i, (monday, windows, breached)) in weeks.iter().enumerate() {
        let x = pad + 4.0 + w * i as f64;
        if let Some(r) = rate(*windows, *breached) {
            let bh = h * r / 100.0;
            let color = if r >= 95.0 {
                "#2f7d4f"
            } else if r >= 80.0 {
                "#e6a700"
            } else {
                "#b42318"
            };
            svg.push_str(&format!(r#"<rect x="{x}" y="{}" width="{}" height="{bh}" fill="{color}"><title>{monday}: {r:.1}% ({windows})</title></rect>"#, 8.0 + h - bh, w - 8.0));
            svg.push_str(&format!(r##"<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#1f2933">{r:.0}</text>"##, x + (w - 8.0) / 2.0, 8.0 + h - bh - 2.0));
        }
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#616e7c">{}</text>"##,
            x + (w - 8.0) / 2.0,
            h + 22.0,
            monday.format("%m-%d")
        ));
    }
    svg.push_str("</svg>");
    html! { (PreEscaped(svg)) }
}

fn due_table(ctx: &PageCtx, rows: &[DueRow]) -> Markup {
    html! {
        table.grid {
            thead { tr { th { (ctx.t("受理编号", "Id")) } th { (ctx.t("申请人", "Applicant")) } th { (ctx.t("审核期限", "Deadline")) } th { (ctx.t("认领人", "Claimed by")) } } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href=(format!("/review/{}", r.application_id)) { code { (r.application_id) } } }
                        td { (r.applicant_name) }
                        td { (time(r.review_due_at)) }
                        td { (r.claimed_by.as_deref().map(|c| c.trim_start_matches("staff:")).unwrap_or("—")) }
                    }
                }
                @if rows.is_empty() { tr { td.empty colspan="4" { (ctx.t("无", "None")) } } }
            }
        }
    }
}

pub fn sla_page(ctx: &PageCtx, f: &SlaFigures) -> Markup {
    let (windows, breached) = f.last_30;
    let body = html! {
        h1 { (ctx.t("审核时效（三个工作日）", "Review SLA (three working days)")) }
        div.kpis {
            div.kpi { span.v { (f.due_today.total) } span.l { (ctx.t("今日到期", "Due today")) } }
            div.kpi.bad[f.overdue_now.total > 0] { span.v { (f.overdue_now.total) } span.l { (ctx.t("当前超期", "Overdue now")) } }
            div.kpi { span.v { (breached) } span.l { (ctx.t("近30天超期", "Breaches, 30 days")) } }
            div.kpi { span.v { @match rate(windows, breached) { Some(r) => (format!("{r:.1}%")), None => "—" } } span.l { (ctx.t("近30天达标率", "Compliance, 30 days")) " (" (windows) ")" } }
        }
        h2 { (ctx.t("每周达标率", "Compliance per week")) }
        div.chartbox {
            (chart(&f.weeks))
            table.grid.compact {
                thead { tr { th { (ctx.t("周一", "Week of")) } th { (ctx.t("审核窗口", "Windows")) } th { (ctx.t("超期", "Breached")) } th { (ctx.t("达标率", "Compliance")) } } }
                tbody { @for (m, w, b) in &f.weeks { tr { td { (m) } td { (w) } td { (b) } td { @match rate(*w, *b) { Some(r) => (format!("{r:.1}%")), None => "—" } } } } }
            }
        }
        h2 { (ctx.t("今日到期", "Due today")) } (due_table(ctx, &f.due_today.rows))
        (pager(ctx.locale, &f.pagers[0]))
        h2 { (ctx.t("当前超期", "Overdue now")) } (due_table(ctx, &f.overdue_now.rows))
        (pager(ctx.locale, &f.pagers[1]))
        h2 { (ctx.t("超期记录（近30天）", "Breaches (last 30 days)")) }
        table.grid {
            thead { tr { th { (ctx.t("受理编号", "Id")) } th { (ctx.t("版本", "Version")) } th { (ctx.t("申请人", "Applicant")) } th { (ctx.t("期限", "Deadline")) } th { (ctx.t("记录于", "Recorded")) } th { (ctx.t("现状态", "Status now")) } } }
            tbody {
                @for b in &f.breaches.rows {
                    tr {
                        td { a href=(format!("/review/{}", b.application_id)) { code { (b.application_id) } } }
                        td { (b.version) } td { (b.applicant_name) } td { (time(b.due_at)) } td { (time(b.recorded_at)) }
                        td { (status_badge(ctx.locale, b.status)) }
                    }
                }
                @if f.breaches.rows.is_empty() { tr { td.empty colspan="6" { (ctx.t("近30天没有超期。", "No breach in the last 30 days.")) } } }
            }
        }
        (pager(ctx.locale, &f.pagers[2]))
        p.hint { (ctx.t("规则：审核期限为（重新）提交当日（北京时间）之后第三个工作日的 18:00；节假日与调休上班日按国务院安排；退回申请人期间不计时。",
                        "Rule: the deadline is 18:00 Beijing time on the third working day after the (re)submission's calendar day; State Council holidays and adjusted working weekends count; the clock stops while returned.")) }
    };
    page(ctx, ctx.t("审核时效", "Review SLA"), body)
}

/// One channel of the outbox: its parked and pending messages (a page each) and how many went.
pub struct OutboxLists {
    pub parked: Page<OutboxRow>,
    pub pending: Page<OutboxRow>,
    pub sent: i64,
    /// The pagers of parked and pending.
    pub pagers: [PagerView; 2],
}

/// The outbox: e-mail (`lists[0]`), then SMS (`lists[1]`, the mobile masked).
pub fn outbox_page(ctx: &PageCtx, lists: &[OutboxLists]) -> Markup {
    let rows = |list: &[OutboxRow], retry: bool| {
        html! {
            table.grid {
                thead { tr { th { "#" } th { (ctx.t("类型", "Kind")) } th { (ctx.t("收件人", "To")) } th { (ctx.t("主题", "Subject")) } th { (ctx.t("尝试", "Tries")) } th { (ctx.t("下次", "Next")) } th { (ctx.t("错误", "Error")) } th {} } }
                tbody {
                    @for m in list {
                        @let to = if m.channel == "sms" { masking::mobile(&m.recipient) } else { m.recipient.clone() };
                        tr {
                            td { (m.message_id) } td { (m.kind) } td { (to) } td { (m.subject) } td { (m.attempts) }
                            td { (time(m.next_attempt_at)) } td.err { (m.last_error.as_deref().unwrap_or("")) }
                            td { @if retry {
                                form.inline method="post" action=(format!("/admin/outbox/{}/retry", m.message_id)) { (csrf(ctx)) button type="submit" { (ctx.t("重发", "Retry")) } }
                            } }
                        }
                    }
                    @if list.is_empty() { tr { td.empty colspan="8" { (ctx.t("无", "None")) } } }
                }
            }
        }
    };
    let summary = |l: &OutboxLists| {
        html! {
            p { (ctx.t("待发送", "Pending")) " " strong { (l.pending.total) } " · " (ctx.t("已发送", "Sent")) " " strong { (l.sent) } " · " (ctx.t("已暂停", "Parked")) " " strong { (l.parked.total) } }
        }
    };
    let body = html! {
        h1 { (ctx.t("邮件发送队列", "E-mail outbox")) }
        @if let Some(l) = lists.first() {
            (summary(l))
            h2 { (ctx.t("多次失败已暂停", "Parked after repeated failures")) } (rows(&l.parked.rows, true))
            (pager(ctx.locale, &l.pagers[0]))
            h2 { (ctx.t("待发送", "Pending")) } (rows(&l.pending.rows, true))
            (pager(ctx.locale, &l.pagers[1]))
        }
        @if let Some(l) = lists.get(1) {
            h1 id="sms" { (ctx.t("短信发送队列", "SMS outbox")) }
            (summary(l))
            h2 { (ctx.t("短信已暂停（服务商拒绝或多次失败）", "SMS parked (refused by the provider, or repeated failures)")) } (rows(&l.parked.rows, true))
            (pager(ctx.locale, &l.pagers[0]))
            h2 { (ctx.t("短信待发送", "SMS pending")) } (rows(&l.pending.rows, true))
            (pager(ctx.locale, &l.pagers[1]))
            p.hint { (ctx.t("未配置短信服务（BACKOFFICE_SMS_*）时，短信在此等待。", "Without an SMS provider configured (BACKOFFICE_SMS_*), SMS messages wait here.")) }
        }
    };
    page(ctx, ctx.t("邮件发送队列", "E-mail outbox"), body)
}

/// A year as twelve month grids; each day a toggle between working day and day off.
pub fn calendar_page(
    ctx: &PageCtx,
    year: i32,
    cal: &WorkingCalendar,
    names: &[(NaiveDate, String)],
    error: Option<&str>,
) -> Markup {
    let body = html! {
        div.toolbar {
            h1 { (ctx.t("工作日历", "Working-day calendar")) " " (year) }
            a href=(format!("/admin/calendar?year={}", year - 1)) { "« " (year - 1) }
            a href=(format!("/admin/calendar?year={}", year + 1)) { (year + 1) " »" }
        }
        @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
        p.hint { (ctx.t("点击某日切换“上班/放假”。周末上班（调休）显示为蓝色，工作日放假显示为红色。", "Click a day to switch it between working day and day off. Weekend working days are blue, weekday holidays red.")) }
        div.year {
            @for month in 1..=12u32 {
                @let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid");
                div.month {
                    h3 { (month) (ctx.t("月", "")) }
                    div.days {
                        @for d in ["一", "二", "三", "四", "五", "六", "日"] { span.dow { (d) } }
                        @for _ in 0..first.weekday().num_days_from_monday() { span {} }
                        @for day in first.iter_days().take_while(|d| d.month() == month) {
                            @let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                            @let working = cal.is_working_day(day);
                            @let class = match (weekend, working) { (true, true) => "adj", (false, false) => "hol", (true, false) => "off", _ => "work" };
                            @let name = names.iter().find(|(d, _)| *d == day).map(|(_, n)| n.as_str()).unwrap_or("");
                            form.inline method="post" action="/admin/calendar" {
                                (csrf(ctx))
                                input type="hidden" name="date" value=(day);
                                input type="hidden" name="working" value=(if working { "0" } else { "1" });
                                button.(class) type="submit" title=(format!("{day} {name}")) { (day.day()) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("导入日历表格", "Import a calendar sheet")) }
        p.hint { (ctx.t("xlsx 或 csv，列：日期 / 类型（放假、上班）/ 名称；导入会替换表格所含年份的全部设置。", "xlsx or csv with columns date / type (holiday, workday) / name; replaces every year the sheet contains.")) }
        (upload_form(ctx, &UploadForm {
            action: "/admin/calendar/import",
            label: ctx.t("日历表格", "Calendar sheet"),
            button: ctx.t("导入", "Import"),
            button_id: "import-calendar",
            formats: formats::CALENDAR,
            primary: true,
        }))
    };
    page(ctx, ctx.t("工作日历", "Working-day calendar"), body)
}
