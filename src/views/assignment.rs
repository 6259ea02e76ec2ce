//! Assignment by the server on the pages: the supervisor's board (the setting, every reviewer's
//! open claims and absence, "hand back") and the reviewer's panel on the queue page.

use super::layout::{PageCtx, csrf, page};
use crate::domain::{assignment::Rules, calendar::beijing};
use crate::storage::{
    assignment::{AwayRow, BoardRow},
    from_ms,
};
use maud::{Markup, html};

/// What the redirect after an action carries besides its message: a hand-back's counts, or
/// how many a save's pass assigned.
#[derive(serde::Deserialize, Default, Debug)]
pub struct Summary {
    #[serde(default, deserialize_with = "lenient")]
    pub released: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    pub changed: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    pub assigned: Option<usize>,
}

/// A count in the query string, or none when it is not one: an edited address still shows the
/// page (without the summary) rather than an error.
fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.and_then(|s| s.parse().ok()))
}

fn kind_label(ctx: &PageCtx, kind: &str) -> &'static str {
    match kind {
        "holiday" => ctx.t("休假", "Holiday"),
        "sick" => ctx.t("病假", "Sick"),
        _ => ctx.t("其他", "Other"),
    }
}

/// "休假，至 2026-12-01" (the last day away), or the kind alone while open-ended.
fn away_text(ctx: &PageCtx, kind: &str, until_at: Option<i64>) -> String {
    match until_at {
        Some(u) => {
            let last = from_ms(u - 1).with_timezone(&beijing()).date_naive();
            format!("{}，{} {last}", kind_label(ctx, kind), ctx.t("至", "until"))
        }
        None => kind_label(ctx, kind).to_owned(),
    }
}

fn on_off(ctx: &PageCtx, r: &Rules) -> String {
    if r.enabled {
        format!(
            "{}{}{}",
            ctx.t("已开启，每人最多 ", "On: at most "),
            r.cap,
            ctx.t(" 件审核中", " open claims each")
        )
    } else {
        ctx.t(
            "未开启（审核员自行认领）",
            "Off (reviewers claim for themselves)",
        )
        .to_owned()
    }
}

/// The outcome of a hand-back or a save, from the redirect's query.
fn summary_line(ctx: &PageCtx, s: &Summary) -> Option<Markup> {
    if let (Some(released), Some(changed)) = (s.released, s.changed) {
        return Some(html! {
            p.flash.ok role="status" id="hand-back-summary" {
                (ctx.t("已交回 ", "Handed back: ")) strong.released { (released) }
                (ctx.t(" 件；其间已变更、未交回 ", " released; changed meanwhile and left alone: "))
                strong.changed { (changed) } (ctx.t(" 件。", "."))
            }
        });
    }
    s.assigned.map(|n| {
        html! {
            p.flash.ok role="status" id="assigned-summary" {
                (ctx.t("本次分配 ", "Assigned now: ")) strong.assigned { (n) } (ctx.t(" 件。", "."))
            }
        }
    })
}

pub struct Board<'a> {
    pub rules: &'a Rules,
    pub configured: &'a Rules,
    pub rows: &'a [BoardRow],
    /// A supervisor: the forms; an admin reads only.
    pub can_edit: bool,
    pub error: Option<&'a str>,
    pub summary: &'a Summary,
}

/// The supervisor's page: the setting, then every active reviewer.
pub fn board_page(ctx: &PageCtx, b: &Board) -> Markup {
    let r = b.rules;
    let body = html! {
        h1 { (ctx.t("自动分配", "Assignment")) }
        @if let Some(e) = b.error { p.flash.warn role="alert" { (e) } }
        @if let Some(s) = summary_line(ctx, b.summary) { (s) }
        p { (ctx.t("开启后，每件新提交或重新提交的申请由系统分给审核中件数最少、未请假的审核员（按截止时间先后，不超过每人上限）；每次分配记入审核日志。",
                   "When on, each new or resubmitted application goes to the available reviewer with the fewest open claims (nearest deadline first, up to the cap per reviewer); each assignment is audited.")) }
        p id="assignment-state" { strong { (ctx.t("当前：", "Now: ")) } (on_off(ctx, r)) }
        @if b.can_edit {
            form.stack method="post" action="/supervision/assignment" id="assignment-form" {
                (csrf(ctx))
                label.check { input type="checkbox" name="enabled" value="1" checked[r.enabled];
                    (ctx.t("开启自动分配", "Assign by the server")) }
                label { (ctx.t("每人上限（审核中件数）", "Cap per reviewer (open claims)"))
                    input type="number" name="cap" min="1" max="1000" step="1" value=(r.cap) required; }
                button.primary type="submit" { (ctx.t("保存", "Save")) }
            }
        }
        h2 { (ctx.t("审核员", "Reviewers")) }
        table.grid {
            thead { tr {
                th scope="col" { (ctx.t("审核员", "Reviewer")) }
                th scope="col" { (ctx.t("审核中", "Open claims")) }
                th scope="col" { (ctx.t("状态", "Availability")) }
                @if b.can_edit { th scope="col" { (ctx.t("操作", "Action")) } }
            } }
            tbody {
                @for row in b.rows {
                    tr data-reviewer=(row.username) {
                        td { (row.display_name) " (" (row.username) ")" }
                        td.num.open { (row.open) }
                        td.away {
                            @match &row.away_kind {
                                Some(k) => { (ctx.t("请假：", "Away: ")) (away_text(ctx, k, row.away_until)) }
                                None => { (ctx.t("在岗", "Available")) }
                            }
                        }
                        @if b.can_edit {
                            td {
                                form.inline method="post" action="/supervision/assignment/hand-back" {
                                    (csrf(ctx))
                                    input type="hidden" name="reviewer" value=(row.username);
                                    @if row.away_kind.is_none() {
                                        label { (ctx.t("同时登记请假", "Also mark away"))
                                            span.visually-hidden { " " (row.username) }
                                            select name="away" {
                                                option value="" { (ctx.t("不登记", "No")) }
                                                option value="holiday" { (kind_label(ctx, "holiday")) }
                                                option value="sick" { (kind_label(ctx, "sick")) }
                                                option value="other" { (kind_label(ctx, "other")) }
                                            }
                                        }
                                    }
                                    button type="submit" {
                                        (ctx.t("交回其认领", "Hand back their claims"))
                                        span.visually-hidden { " " (row.username) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("配置文件中的默认值", "Defaults from the configuration")) }
        p { "BACKOFFICE_ASSIGNMENT_ENABLED=" (if b.configured.enabled { "on" } else { "off" })
            " · BACKOFFICE_ASSIGNMENT_CAP=" (b.configured.cap) }
    };
    page(ctx, ctx.t("自动分配", "Assignment"), body)
}

pub struct DeskPanel<'a> {
    pub rules: &'a Rules,
    /// The absence holding now, if any.
    pub away: Option<&'a AwayRow>,
    /// The reviewer's open claims.
    pub open: usize,
    pub summary: &'a Summary,
}

/// The reviewer's own: assignment's state, away or back, hand back.
pub fn desk_panel(ctx: &PageCtx, p: &DeskPanel) -> Markup {
    html! {
        section.assignment aria-labelledby="my-assignment-h" {
            h2 id="my-assignment-h" { (ctx.t("分配与请假", "Assignment and absence")) }
            @if let Some(s) = summary_line(ctx, p.summary) { (s) }
            p { (ctx.t("自动分配：", "Assignment: ")) (on_off(ctx, p.rules))
                " · " (ctx.t("我审核中的申请：", "My open claims: ")) strong id="my-open" { (p.open) } }
            @match p.away {
                Some(a) => {
                    p id="my-away" { (ctx.t("我已请假：", "I am away: ")) (away_text(ctx, &a.kind, a.until_at))
                        (ctx.t("。请假期间不分配新申请。", ". Nothing is assigned to me meanwhile.")) }
                    form.inline method="post" action="/review/away" {
                        (csrf(ctx))
                        button type="submit" name="back" value="1" { (ctx.t("我已返岗", "I am back")) }
                    }
                }
                None => {
                    form.inline method="post" action="/review/away" id="away-form" {
                        (csrf(ctx))
                        label { (ctx.t("请假类型", "Kind"))
                            select name="kind" {
                                option value="holiday" { (kind_label(ctx, "holiday")) }
                                option value="sick" { (kind_label(ctx, "sick")) }
                                option value="other" { (kind_label(ctx, "other")) }
                            }
                        }
                        label { (ctx.t("最后一天（可不填）", "Last day (optional)"))
                            input type="date" name="until"; }
                        label.check { input type="checkbox" name="hand_back" value="1";
                            (ctx.t("同时交回我审核中的申请", "Also hand back my open claims")) }
                        button type="submit" { (ctx.t("请假", "Mark me away")) }
                    }
                }
            }
            form.inline method="post" action="/review/hand-back" {
                (csrf(ctx))
                button type="submit" disabled[p.open == 0] { (ctx.t("交回我审核中的申请", "Hand back my open claims")) }
            }
        }
    }
}
