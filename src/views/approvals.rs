//! Four eyes on the pages: the approval panel of the application page (who accepted, why a
//! second look is needed, approve / reject) and the admin's rules page.

use super::layout::{PageCtx, csrf, page};
use crate::domain::four_eyes::{Reason, Rules, split};
use crate::storage::four_eyes::ApprovalRow;
use maud::{Markup, html};

fn reason_text(ctx: &PageCtx, r: Reason) -> &'static str {
    match r {
        Reason::Findings => ctx.t(
            "机审提示未处理（证件号码或姓名不一致、证件过期、照片重复使用），或机审尚未完成",
            "An unresolved pre-check finding (a differing ID number or name, an expired card, a reused photo), or the pre-check has not finished",
        ),
        Reason::PaymentOverride => ctx.t(
            "付款未经账单核实，由主管放行",
            "The payment was let through by a supervisor without a bill",
        ),
        Reason::Sample => ctx.t("随机抽样复核", "Drawn in the random sample"),
    }
}

fn who(actor: &str) -> &str {
    actor.split_once(':').map(|(_, n)| n).unwrap_or(actor)
}

/// The pending request: who accepted, when, why; the approve and reject forms when this
/// member may decide (anyone reviewing but the maker).
pub fn panel(ctx: &PageCtx, id: &str, rv: &str, a: &ApprovalRow, can_approve: bool) -> Markup {
    html! {
        section.approval aria-labelledby="approval-h" {
            h2 id="approval-h" { (ctx.t("待复核（双人复核）", "Awaiting approval (four eyes)")) }
            p { (ctx.t("受理人", "Accepted by")) ": " strong.maker { (who(&a.requested_by)) }
                " · " (super::components::time(a.requested_at)) }
            @if let Some(n) = &a.note { p { (ctx.t("受理说明", "Note")) ": " (n) } }
            p { (ctx.t("需要复核的原因", "Why a second look is needed")) ":" }
            ul.reasons { @for r in split(&a.reasons) { li { (reason_text(ctx, r)) } } }
            @if can_approve {
                form method="post" action=(format!("/review/{id}/approve")) id="approve-form" {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    label { (ctx.t("复核说明", "Note")) input type="text" name="note" maxlength="500"; }
                    button.accept type="submit" id="approve" { (ctx.t("复核通过", "Approve")) }
                }
                form method="post" action=(format!("/review/{id}/reject-approval")) id="reject-approval-form" {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    label { (ctx.t("驳回说明（必填）", "Why (required)")) input type="text" name="note" maxlength="500" required; }
                    button.return type="submit" id="reject-approval" { (ctx.t("驳回复核", "Reject")) }
                }
            } @else {
                p.flash.warn { (ctx.t("您受理了该申请，须由另一位审核员或主管复核。", "You accepted it: another reviewer or a supervisor approves.")) }
            }
        }
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The rules in force (editable) and the configuration's defaults beside them.
pub fn rules_page(ctx: &PageCtx, r: &Rules, configured: &Rules, error: Option<&str>) -> Markup {
    let body = html! {
        h1 { (ctx.t("双人复核规则", "Four-eyes rules")) }
        @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
        p { (ctx.t("符合以下任一规则的受理，须由另一位审核员或主管复核后才生效；保存即生效并记入审计。",
                   "An acceptance that any of these rules holds takes effect only after another reviewer or a supervisor approves it. Saving takes effect at once and is audited.")) }
        form.stack method="post" action="/admin/four-eyes" {
            (csrf(ctx))
            label.check { input type="checkbox" name="findings" value="1" checked[r.unresolved_findings];
                (ctx.t("机审提示未处理（证件号码或姓名不一致、证件过期、照片重复使用）", "Unresolved pre-check finding (differing ID number or name, expired card, reused photo)")) }
            label.check { input type="checkbox" name="payment_override" value="1" checked[r.payment_override];
                (ctx.t("付款由主管放行（未经账单核实）", "Payment overridden by a supervisor")) }
            label { (ctx.t("随机抽样比例（%，0 为不抽样）", "Random sample (%, 0 for none)"))
                input type="number" name="sample_percent" min="0" max="100" step="1" value=(r.sample_percent) required; }
            label { (ctx.t("抽样种子（同一种子抽中同样的申请）", "Sample seed (the same seed draws the same applications)"))
                input type="number" name="sample_seed" step="1" value=(r.sample_seed) required; }
            button.primary type="submit" { (ctx.t("保存", "Save")) }
        }
        h2 { (ctx.t("配置文件中的默认值", "Defaults from the configuration")) }
        p { "BACKOFFICE_FOUR_EYES_FINDINGS=" (on_off(configured.unresolved_findings))
            " · BACKOFFICE_FOUR_EYES_PAYMENT_OVERRIDE=" (on_off(configured.payment_override))
            " · BACKOFFICE_FOUR_EYES_SAMPLE_PERCENT=" (configured.sample_percent)
            " · BACKOFFICE_FOUR_EYES_SEED=" (configured.sample_seed) }
    };
    page(ctx, ctx.t("双人复核规则", "Four-eyes rules"), body)
}
