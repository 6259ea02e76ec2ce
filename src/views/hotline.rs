//! The hotline desk: one search box, and one application as an agent may see it.

use super::components::{PagerView, pager, status_badge, time};
use super::layout::{PageCtx, csrf, page};
use crate::domain::{ids::ApplicationId, status::Status};
use crate::storage::hotline::Verification;
use maud::{Markup, html};

pub struct ResultRow {
    pub application_id: ApplicationId,
    pub name_masked: String,
    pub status: Status,
    pub received_at: i64,
}

pub fn search_page(
    ctx: &PageCtx,
    q: &str,
    rows: Option<&[ResultRow]>,
    refusal: Option<&str>,
) -> Markup {
    let body = html! {
        h1 { (ctx.t("客服查询", "Hotline look-up")) }
        form.filters method="get" action="/hotline" {
            input type="search" name="q" value=(q) autofocus required aria-label=(ctx.t("查询", "Look up"))
                placeholder=(ctx.t("受理编号 / 网厅编号 / 手机号 / 证书序列号 / 姓名+证件号后四位（如：张三 002X）", "Id / hall reference / mobile / serial / name + last 4 of the ID (e.g. 张三 002X)"));
            button.primary type="submit" { (ctx.t("查询", "Look up")) }
        }
        @if let Some(r) = refusal { p.flash.warn role="alert" { (r) } }
        @if let Some(rows) = rows {
            table.grid {
                thead { tr { th { (ctx.t("受理编号", "Id")) } th { (ctx.t("申请人", "Applicant")) } th { (ctx.t("提交时间", "Received")) } th { (ctx.t("状态", "Status")) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(format!("/hotline/{}", r.application_id)) { code { (r.application_id) } } }
                            td { (r.name_masked) } td { (time(r.received_at)) } td { (status_badge(ctx.locale, r.status)) }
                        }
                    }
                    @if rows.is_empty() { tr { td.empty colspan="4" { (ctx.t("没有找到申请。", "No application found.")) } } }
                }
            }
        }
        p.hint { (ctx.t("每次查询与查看均记入审计日志。", "Every look-up and view is recorded in the audit trail.")) }
    };
    page(ctx, ctx.t("客服查询", "Hotline look-up"), body)
}

pub struct HotlineView {
    pub application_id: ApplicationId,
    pub hall_reference: String,
    pub status: Status,
    pub version: i64,
    pub name_masked: String,
    pub id_masked: String,
    pub mobile_masked: String,
    pub address: String,
    pub paid: bool,
    pub payment_state: String,
    pub invoice_wanted: bool,
    pub invoice: Option<(String, i64)>,
    pub script: Vec<String>,
    pub history: Vec<(i64, Status, String, Option<String>)>,
    pub verifications: Vec<Verification>,
}

pub fn application_page(ctx: &PageCtx, v: &HotlineView) -> Markup {
    let id = &v.application_id;
    let body = html! {
        div.toolbar {
            h1 { code { (id) } " " (v.name_masked) " " (status_badge(ctx.locale, v.status)) }
            a href="/hotline" { (ctx.t("新的查询", "New look-up")) }
        }
        div.hotline {
            section {
                h2 { (ctx.t("答复话术", "What to tell the caller")) }
                div.script { @for line in &v.script { p { (line) } } }
                h2 { (ctx.t("处理记录", "Timeline")) }
                ol.timeline {
                    @for (at, status, actor, note) in &v.history {
                        li {
                            span.when { (time(*at)) } " " (status_badge(ctx.locale, *status))
                            " " span.actor { (actor) }
                            @if let Some(n) = note { " — " (n) }
                        }
                    }
                }
            }
            section.side {
                table.facts {
                    tr { th { (ctx.t("网厅编号", "Hall reference")) } td { (v.hall_reference) } }
                    tr { th { (ctx.t("姓名", "Name")) } td { (v.name_masked) } }
                    tr { th { (ctx.t("证件号码", "ID number")) } td { (v.id_masked) } }
                    tr { th { (ctx.t("手机号", "Mobile")) } td { (v.mobile_masked) } }
                    tr { th { (ctx.t("邮寄地区", "Mailing area")) } td { (v.address) } }
                    tr { th { (ctx.t("支付", "Payment")) } td { (if v.paid { ctx.t("已支付", "paid") } else { ctx.t("未支付", "not paid") }) " " (super::review::payment_state(ctx, &v.payment_state)) } }
                    tr { th { (ctx.t("发票", "Invoice")) } td id="invoice-state" {
                        @if let Some((number, at)) = &v.invoice { (ctx.t("已开具", "invoice issued")) " " (time(*at)) " · " (number) }
                        @else if v.invoice_wanted { (ctx.t("待开具", "not yet issued")) }
                        @else { (ctx.t("未申请", "not requested")) } } }
                    tr { th { (ctx.t("提交次数", "Version")) } td { (v.version) } }
                }
                div.decide {
                    h2 { (ctx.t("核验来电人", "Verify the caller")) }
                    @if let Some(last) = v.verifications.first() {
                        p.claim {
                            (time(last.at)) " " (last.agent.trim_start_matches("staff:")) " · "
                            (if last.method == "mobile" { ctx.t("手机号", "mobile") } else { ctx.t("证件号后六位", "last 6 of the ID") }) " · "
                            strong { (if last.matched { ctx.t("一致", "matches") } else { ctx.t("不一致", "does not match") }) }
                        }
                    }
                    form method="post" action=(format!("/hotline/{id}/verify")) {
                        (csrf(ctx))
                        select name="method" aria-label=(ctx.t("核验方式", "Check by")) {
                            option value="id_last6" { (ctx.t("证件号后六位", "Last 6 of the ID number")) }
                            option value="mobile" { (ctx.t("手机号", "Mobile number")) }
                        }
                        input name="value" required autocomplete="off" placeholder=(ctx.t("来电人所说", "What the caller says"))
                            aria-label=(ctx.t("来电人所说", "What the caller says"));
                        button type="submit" { (ctx.t("核验", "Check")) }
                    }
                    h2 { (ctx.t("通话记录", "Call note")) }
                    form method="post" action=(format!("/hotline/{id}/note")) {
                        (csrf(ctx))
                        textarea name="note" rows="3" maxlength="500" required aria-label=(ctx.t("通话记录", "Call note")) {}
                        button type="submit" { (ctx.t("保存记录", "Save note")) }
                    }
                }
            }
        }
    };
    page(ctx, &format!("{id} {}", v.name_masked), body)
}

pub fn lookups_page(
    ctx: &PageCtx,
    rows: &[(String, String, i64, i64)],
    (recent, pg): (&[crate::storage::audit::AuditRow], &PagerView),
    limit: i64,
) -> Markup {
    let body = html! {
        h1 { (ctx.t("客服查询统计", "Hotline look-ups")) }
        p.hint { (ctx.t("每名客服每小时查询上限：", "Look-ups per agent per hour before throttling: ")) (limit) }
        table.grid.compact {
            thead { tr { th { (ctx.t("日期", "Day")) } th { (ctx.t("客服", "Agent")) } th { (ctx.t("查询次数", "Look-ups")) } th { (ctx.t("查看次数", "Views")) } } }
            tbody {
                @for (agent, day, s, vw) in rows { tr { td { (day) } td { (agent.trim_start_matches("staff:")) } td { (s) } td { (vw) } } }
                @if rows.is_empty() { tr { td.empty colspan="4" { (ctx.t("无", "None")) } } }
            }
        }
        h2 { (ctx.t("最近的查询", "Latest look-ups")) }
        table.grid {
            thead { tr { th { (ctx.t("时间", "When")) } th { (ctx.t("客服", "Agent")) } th { (ctx.t("查询内容", "Query")) } th { (ctx.t("显示的申请", "Applications shown")) } } }
            tbody {
                @for a in recent {
                    tr {
                        td { (time(a.at)) } td { (a.actor.trim_start_matches("staff:")) }
                        td { @if a.action == "hotline.throttled" { span.tag.warn { (ctx.t("已限流", "throttled")) } } @else { (a.subject_id) } }
                        td { (a.after_state.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        (pager(ctx.locale, pg))
    };
    page(ctx, ctx.t("客服查询统计", "Hotline look-ups"), body)
}
