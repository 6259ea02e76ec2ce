//! The CA operator's page: lost certificates waiting for revocation, the CRL upload and the CRLs
//! read, the revoked ones; and the supervisor's override of the courier-batch gate.

use super::components::{UploadForm, time, upload_form};
use super::layout::{PageCtx, csrf, page};
use crate::desks::revocation::CrlSummary;
use crate::exchange::formats;
use crate::storage::revocations::{CrlImportRow, RevocationRow};
use maud::{Markup, html};

pub struct RevocationsPage<'a> {
    pub queued: &'a [RevocationRow],
    pub queued_total: i64,
    pub revoked: &'a [RevocationRow],
    pub crls: &'a [CrlImportRow],
    pub ca_subject: Option<&'a str>,
    pub crl_url: Option<&'a str>,
    pub error: Option<&'a str>,
    pub result: Option<&'a CrlSummary>,
}

pub fn revocations_page(ctx: &PageCtx, p: &RevocationsPage) -> Markup {
    let role = ctx.role();
    let may_import = matches!(role, "fulfillment" | "supervisor");
    let may_override = role == "supervisor";
    let body = html! {
        h1 { (ctx.t("遗失证书吊销", "Revocation of lost certificates")) }
        @if let Some(e) = p.error { p.flash.warn role="alert" id="revocation-error" { (e) } }
        @if let Some(r) = p.result {
            p.flash.ok id="crl-result" {
                (ctx.t("吊销列表已导入：", "CRL imported: "))
                (format!("{} · {} {} · ", r.issuer, ctx.t("条目", "entries"), r.entries))
                (ctx.t("本次确认吊销 ", "newly revoked "))
                span id="crl-revoked" { (r.revoked) }
                (ctx.t("，仍待吊销 ", ", still queued "))
                span id="crl-still-queued" { (r.still_queued) }
            }
        }
        section {
            h2 { (ctx.t("CA 证书与吊销列表", "CA certificate and CRL")) }
            @match p.ca_subject {
                Some(s) => p { (ctx.t("吊销列表须由此 CA 签发：", "CRLs must be signed by: ")) span.mono id="ca-subject" { (s) } }
                None => p.flash.warn id="no-ca" { (ctx.t(
                    "未配置 CA 证书（BACKOFFICE_CA_CERT）：无法导入吊销列表，快递批次也不等待吊销。",
                    "No CA certificate is configured (BACKOFFICE_CA_CERT): no CRL can be imported and courier batches do not wait for revocation.")) }
            }
            @if let Some(u) = p.crl_url { p { (ctx.t("定时获取：", "Fetched on a schedule from: ")) span.mono { (u) } } }
            @if may_import {
                (upload_form(ctx, &UploadForm {
                    action: "/revocations/crl",
                    label: ctx.t("吊销列表文件（CRL）", "CRL file"),
                    button: ctx.t("导入吊销列表", "Import the CRL"),
                    button_id: "import-crl",
                    formats: formats::CRL,
                    primary: true,
                }))
            }
            @if !p.crls.is_empty() {
                table.grid.dense id="crl-imports" {
                    caption { (ctx.t("最近导入的吊销列表", "CRLs read lately")) }
                    thead { tr {
                        th { (ctx.t("导入时间", "Imported")) } th { (ctx.t("本次更新", "This update")) }
                        th { (ctx.t("下次更新", "Next update")) } th.num { (ctx.t("条目", "Entries")) }
                        th.num { (ctx.t("确认吊销", "Matched")) } th { (ctx.t("来源", "Source")) } th { (ctx.t("操作人", "By")) }
                    } }
                    tbody { @for c in p.crls { tr {
                        td { (time(c.imported_at)) } td { (time(c.this_update)) } td { (time(c.next_update)) }
                        td.num { (c.entries) } td.num { (c.matched) } td.mono { (c.source) } td { (c.imported_by) }
                    } } }
                }
            }
        }
        section {
            h2 { (ctx.t("待吊销", "Waiting for revocation")) " " span.count id="queued-count" { (p.queued_total) } }
            p.toolbar { a.button href="/revocations/serials.xlsx" id="export-serials" { (ctx.t("导出待吊销序列号（xlsx）", "Export the serials to revoke (xlsx)")) } }
            table.grid.dense id="queued" {
                thead { tr {
                    th { (ctx.t("证书序列号", "Serial")) } th { (ctx.t("原因", "Reason")) }
                    th { (ctx.t("受理编号", "Application")) } th { (ctx.t("登记时间", "Queued")) }
                    th { (ctx.t("放行", "Let through")) }
                } }
                tbody {
                    @for r in p.queued { tr {
                        td.mono { (r.serial) } td { (r.reason) } td { (r.application_id) } td { (time(r.queued_at)) }
                        td {
                            @if let Some(by) = &r.override_by {
                                span.badge { (ctx.t("主管已放行", "let through")) } " " (by) "：" (r.override_reason.as_deref().unwrap_or(""))
                            } @else if may_override {
                                form.inline method="post" action=(format!("/revocations/{}/override", r.application_id)) {
                                    (csrf(ctx))
                                    input type="hidden" name="row_version" value=(r.row_version);
                                    label { (ctx.t("放行理由", "Reason")) " "
                                        input type="text" name="reason" required maxlength="500" size="24"; }
                                    " " button type="submit" { (ctx.t("未吊销先寄出", "Ship before revocation")) }
                                }
                            }
                        }
                    } }
                    @if p.queued.is_empty() { tr { td colspan="5" .empty { (ctx.t("没有待吊销的证书。", "Nothing waits for revocation.")) } } }
                }
            }
            @if (p.queued.len() as i64) < p.queued_total {
                p.flash.warn id="queued-cut" {
                    (ctx.t("仅显示最早登记的 ", "Shown: the first ")) (p.queued.len())
                    (ctx.t(" 条（共 ", " queued (of ")) (p.queued_total)
                    (ctx.t(" 条）；完整名单请导出 xlsx。", "); the xlsx holds them all."))
                }
            }
        }
        @if !p.revoked.is_empty() {
            section {
                h2 { (ctx.t("最近确认吊销", "Revoked lately")) }
                table.grid.dense id="revoked" {
                    thead { tr {
                        th { (ctx.t("证书序列号", "Serial")) } th { (ctx.t("受理编号", "Application")) }
                        th { (ctx.t("吊销时间（CRL）", "Revoked (CRL)")) } th { (ctx.t("CRL 原因", "CRL reason")) }
                    } }
                    tbody { @for r in p.revoked { tr {
                        td.mono { (r.serial) } td { (r.application_id) }
                        td { (r.revoked_at.map(time).unwrap_or_default()) } td { (r.crl_reason.as_deref().unwrap_or("—")) }
                    } } }
                }
            }
        }
    };
    page(
        ctx,
        ctx.t("遗失证书吊销", "Revocation of lost certificates"),
        body,
    )
}
