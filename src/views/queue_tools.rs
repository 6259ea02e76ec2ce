//! The queue's tools: saved views as tabs (and the form that saves one), and a supervisor's
//! bulk actions on the picked rows, with the page that says what was done and what refused.

use super::layout::{PageCtx, csrf, page};
use crate::domain::bulk::{BulkAction, Outcome, Refusal};
use crate::storage::saved_views::SavedView;
use maud::{Markup, html};

/// What the queue page shows besides its rows.
pub struct QueueTools<'a> {
    pub views: &'a [SavedView],
    /// The page's filter as a view would store it.
    pub current: String,
    /// For a supervisor: the reviewers a bulk reassignment may choose (None: no bulk actions).
    pub bulk: Option<&'a [(String, String)]>,
}

fn href(query: &str) -> String {
    if query.is_empty() {
        "/review".into()
    } else {
        format!("/review?{query}")
    }
}

/// The tabs of the member's views, the form saving the current filter, and their deletion.
pub fn saved_views(ctx: &PageCtx, t: &QueueTools) -> Markup {
    let current = |q: &str| (q == t.current).then_some("page");
    html! {
        nav.tabs aria-label=(ctx.t("已保存的视图", "Saved views")) {
            a.tab.active[t.current.is_empty()] href="/review" aria-current=[current("")] { (ctx.t("全部", "All")) }
            @for v in t.views {
                a.tab.active[v.query == t.current] href=(href(&v.query)) aria-current=[current(&v.query)] { (v.name) }
            }
        }
        div.view-tools {
            form.inline method="post" action="/review/views" {
                (csrf(ctx))
                input type="hidden" name="query" value=(t.current);
                label { (ctx.t("将当前筛选保存为", "Save this filter as")) " "
                    input type="text" name="name" maxlength="40" required;
                }
                button type="submit" { (ctx.t("保存视图", "Save view")) }
            }
            @if !t.views.is_empty() {
                details.views {
                    summary { (ctx.t("删除视图", "Delete a view")) }
                    @for v in t.views {
                        form.inline method="post" action=(format!("/review/views/{}/delete", v.saved_view_id)) {
                            (csrf(ctx))
                            button type="submit" aria-label=(format!("{} {}", ctx.t("删除视图", "Delete the view"), v.name)) { "✕ " (v.name) }
                        }
                    }
                }
            }
        }
    }
}

/// A supervisor's bulk bar (inside the form that also holds the rows' checkboxes).
pub fn bulk_bar(ctx: &PageCtx, reviewers: &[(String, String)]) -> Markup {
    html! {
        div.bulk-bar {
            select name="action" aria-label=(ctx.t("批量操作", "Bulk action")) {
                option value="reassign" { (ctx.t("改派给…", "Reassign to…")) }
                option value="release" { (ctx.t("放回队列", "Release")) }
                option value="prioritise" { (ctx.t("设为优先", "Prioritise")) }
                option value="deprioritise" { (ctx.t("取消优先", "End priority")) }
            }
            select name="to" aria-label=(ctx.t("改派给", "Reassign to")) {
                option value="" { (ctx.t("（改派时选择审核员）", "(reviewer, to reassign)")) }
                @for (u, name) in reviewers { option value=(u) { (name) } }
            }
            button type="submit" { (ctx.t("对选中的申请执行", "Apply to the picked")) }
            span.hint { (ctx.t("每件单独处理并记入审计；一次最多 200 件。", "Each is changed and audited on its own; at most 200 at once.")) }
        }
    }
}

fn action_label(ctx: &PageCtx, a: &BulkAction) -> String {
    match a {
        BulkAction::Reassign(to) => format!("{} {to}", ctx.t("改派给", "Reassign to")),
        BulkAction::Release => ctx.t("放回队列", "Release").into(),
        BulkAction::Prioritise => ctx.t("设为优先", "Prioritise").into(),
        BulkAction::Deprioritise => ctx.t("取消优先", "End priority").into(),
    }
}

pub fn refusal_text(ctx: &PageCtx, r: Refusal) -> &'static str {
    match r {
        Refusal::Conflict => ctx.t(
            "该申请已被他人处理或已变更",
            "Someone else changed it first",
        ),
        Refusal::NotAllowed => ctx.t(
            "当前状态下不能执行该操作",
            "Not possible in its current state",
        ),
        Refusal::Unchanged => ctx.t("已是该状态，未改动", "Already so; nothing changed"),
        Refusal::NotFound => ctx.t("没有这件申请", "No such application"),
        Refusal::Failed => ctx.t("处理失败，请稍后重试", "Failed; try again later"),
    }
}

/// What a bulk action did: the applications changed, and those refused with the reason.
pub fn bulk_result_page(ctx: &PageCtx, action: &BulkAction, outcomes: &[Outcome]) -> Markup {
    let done: Vec<_> = outcomes.iter().filter(|o| o.refused.is_none()).collect();
    let refused: Vec<_> = outcomes
        .iter()
        .filter_map(|o| o.refused.map(|r| (o, r)))
        .collect();
    let body = html! {
        h1 { (ctx.t("批量操作结果", "Bulk action")) }
        p.summary {
            (action_label(ctx, action)) "： "
            (ctx.t("完成", "done")) " " strong id="done-count" { (done.len()) } " · "
            (ctx.t("拒绝", "refused")) " " strong id="refused-count" { (refused.len()) }
        }
        h2 { (ctx.t("已完成", "Done")) }
        @if done.is_empty() { p { (ctx.t("无。", "None.")) } }
        ul.done { @for o in &done { li { a href=(format!("/review/{}", o.id)) { code { (o.id) } } } } }
        h2 { (ctx.t("被拒绝", "Refused")) }
        @if refused.is_empty() { p { (ctx.t("无。", "None.")) } }
        ul.refused {
            @for (o, r) in &refused {
                li data-reason=(r.code()) { code { (o.id) } " — " (refusal_text(ctx, *r)) }
            }
        }
        p { a href="/review" { (ctx.t("返回队列", "Back to the queue")) } }
    };
    page(ctx, ctx.t("批量操作结果", "Bulk action"), body)
}

/// A selection over the cap: nothing was done.
pub fn bulk_too_many_page(ctx: &PageCtx, picked: usize, max: usize) -> Markup {
    let body = html! {
        h1 { (ctx.t("批量操作结果", "Bulk action")) }
        p.flash.warn role="status" {
            (ctx.t("一次最多选择", "At most")) " " (max) " " (ctx.t("件申请，本次选择了", "applications at once; this selection has")) " " (picked)
            (ctx.t(" 件；未做任何改动，请减少选择后重试。", ". Nothing was changed: pick fewer and try again."))
        }
        p { a href="/review" { (ctx.t("返回队列", "Back to the queue")) } }
    };
    page(ctx, ctx.t("批量操作结果", "Bulk action"), body)
}
