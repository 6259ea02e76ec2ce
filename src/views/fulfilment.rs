//! The fulfilment desk's pages: the production queue, courier batches, a batch with its parcels.

use super::components::{PagerView, UploadForm, pager, status_badge, time, upload_form};
use super::layout::{PageCtx, csrf, page};
use crate::domain::status::Status;
use crate::exchange::formats;
use crate::storage::{
    fulfilment::{BatchRow, BatchShipment, QueueRow},
    paging::Page,
};
use maud::{Markup, html};

const DAY_MS: i64 = 86_400_000;

fn tabs(ctx: &PageCtx) -> Markup {
    html! {
        nav.tabs {
            a.tab.active[ctx.path == "/fulfilment"] href="/fulfilment" { (ctx.t("制作与寄送", "Production queue")) }
            a.tab.active[ctx.path.starts_with("/fulfilment/batches")] href="/fulfilment/batches" { (ctx.t("快递批次", "Courier batches")) }
        }
    }
}

fn can_act(ctx: &PageCtx) -> bool {
    ctx.role() == "fulfillment"
}

pub fn courier_label(ctx: &PageCtx, c: &str) -> &'static str {
    match c {
        "sf" => ctx.t("顺丰速运", "SF Express"),
        "ems" => ctx.t("中国邮政 EMS", "China Post EMS"),
        _ => "?",
    }
}

/// The production queue in its three stages, each paged on its own.
pub struct QueuePage<'a> {
    pub to_make: &'a Page<QueueRow>,
    pub to_ship: &'a Page<QueueRow>,
    pub batched: &'a Page<QueueRow>,
    pub pagers: [PagerView; 3],
    pub now_ms: i64,
    pub error: Option<&'a str>,
    pub result: Option<&'a str>,
}

pub fn queue_page(ctx: &PageCtx, p: &QueuePage) -> Markup {
    let (to_make, to_ship, batched) = (&p.to_make.rows, &p.to_ship.rows, &p.batched.rows);
    let days = |r: &QueueRow| {
        r.accepted_at
            .filter(|a| *a > 0)
            .map(|a| (p.now_ms - a) / DAY_MS)
            .unwrap_or(0)
    };
    let act = can_act(ctx);
    let body = html! {
        h1.visually-hidden { (ctx.t("制作与寄送", "Fulfilment")) }
        (tabs(ctx))
        @if let Some(e) = p.error { p.flash.warn role="alert" id="fulfilment-error" { (e) } }
        @if let Some(r) = p.result { p.flash.ok id="fulfilment-result" { (r) } }
        h2 { (ctx.t("待制作", "To produce")) " " span.count { (p.to_make.total) } }
        form method="post" action="/fulfilment/production" id="produce-form" {
            (csrf(ctx))
            table.grid.dense id="to-produce" {
                thead { tr {
                    @if act { th { span.visually-hidden { (ctx.t("选择", "Select")) } } }
                    th { (ctx.t("受理编号", "Application")) } th { (ctx.t("申请人", "Applicant")) }
                    th { (ctx.t("受理时间", "Accepted")) } th.num { (ctx.t("已等待（天）", "Days waiting")) }
                    @if act { th { (ctx.t("新证书序列号", "New certificate serial")) } th { (ctx.t("介质编号", "Medium no.")) } }
                } }
                tbody {
                    @for r in to_make.iter() {
                        tr.overdue[days(r) >= 3] {
                            @if act { td { (select_box(ctx, r.application_id.as_str())) } }
                            td { (r.application_id) } td { (r.applicant_name) }
                            td { (r.accepted_at.filter(|a| *a > 0).map(time).unwrap_or_default()) } td.num.left { (days(r)) }
                            @if act {
                                td { input type="text" name=(format!("serial.{}", r.application_id)) size="22" maxlength="40"
                                    aria-label=(format!("{} {}", ctx.t("新证书序列号", "New certificate serial"), r.application_id)); }
                                td { input type="text" name=(format!("medium.{}", r.application_id)) size="16" maxlength="40"
                                    aria-label=(format!("{} {}", ctx.t("介质编号", "Medium no."), r.application_id)); }
                            }
                        }
                    }
                    @if to_make.is_empty() { tr { td colspan="7" .empty { (ctx.t("没有待制作的申请。", "Nothing to produce.")) } } }
                }
            }
            (pager(ctx.locale, &p.pagers[0]))
            @if act && !to_make.is_empty() {
                p.toolbar { button.primary type="submit" id="record-production" { (ctx.t("登记所选已制作", "Record the selected as produced")) } }
            }
        }
        h2 { (ctx.t("待寄出", "Ready to ship")) " " span.count { (p.to_ship.total) } }
        form method="post" action="/fulfilment/batches" id="batch-form" {
            (csrf(ctx))
            table.grid.dense id="to-ship" {
                thead { tr {
                    @if act { th { span.visually-hidden { (ctx.t("选择", "Select")) } } }
                    th { (ctx.t("受理编号", "Application")) } th { (ctx.t("申请人", "Applicant")) }
                    th { (ctx.t("新证书序列号", "Certificate")) } th { (ctx.t("介质编号", "Medium")) }
                    th.num { (ctx.t("已等待（天）", "Days waiting")) } th { (ctx.t("备注", "Note")) }
                } }
                tbody {
                    @for r in to_ship.iter() {
                        tr.overdue[r.returned.is_some()] {
                            @if act { td { (select_box(ctx, r.application_id.as_str())) } }
                            td { (r.application_id) } td { (r.applicant_name) }
                            td.mono { (r.certificate_serial.as_deref().unwrap_or("")) } td.mono { (r.medium_no.as_deref().unwrap_or("")) }
                            td.num { (days(r)) }
                            td { @if let Some(why) = &r.returned { span.badge.bad { (ctx.t("退件待重寄", "returned, re-send")) } " " (why) } }
                        }
                    }
                    @if to_ship.is_empty() { tr { td colspan="7" .empty { (ctx.t("没有待寄出的申请。", "Nothing ready to ship.")) } } }
                }
            }
            (pager(ctx.locale, &p.pagers[1]))
            @if act && !to_ship.is_empty() {
                p.toolbar {
                    label { (ctx.t("快递", "Courier")) " " select name="courier" {
                        option value="sf" selected { (courier_label(ctx, "sf")) }
                        option value="ems" { (courier_label(ctx, "ems")) } } }
                    button.primary type="submit" name="scope" value="selected" id="batch-selected" { (ctx.t("所选生成快递批次", "Batch the selected")) }
                    button type="submit" name="scope" value="all" id="batch-all" { (ctx.t("全部待寄出生成批次", "Batch all ready")) }
                }
            }
        }
        @if act && !to_ship.is_empty() {
            h2 { (ctx.t("上传签发证书文件", "Upload the issued certificate")) }
            form.upload method="post" action=(format!("/fulfilment/issued?_csrf={}", ctx.csrf)) enctype="multipart/form-data" id="issued-form" {
                label { (ctx.t("受理编号", "Application")) " " select name="application_id" {
                    @for r in to_ship.iter() { option value=(r.application_id) { (r.application_id) } } } }
                " " label { (ctx.t("证书文件（.cer）", "Certificate file (.cer)")) " "
                    input type="file" name="file" accept=(formats::ISSUED_CERTIFICATE.accept()) required; }
                " " button type="submit" id="upload-issued" { (ctx.t("核对并登记", "Check and record")) }
            }
        }
        @if p.batched.total > 0 {
            h2 { (ctx.t("已在批次中，待回填运单号", "In a batch, waiting for the waybill")) " " span.count { (p.batched.total) } }
            table.grid.dense id="batched" {
                thead { tr { th { (ctx.t("受理编号", "Application")) } th { (ctx.t("申请人", "Applicant")) } th { (ctx.t("批次", "Batch")) } } }
                tbody { @for r in batched { tr { td { (r.application_id) } td { (r.applicant_name) } td { (r.batch_no.as_deref().unwrap_or("")) } } } }
            }
            (pager(ctx.locale, &p.pagers[2]))
        }
    };
    page(ctx, ctx.t("制作与寄送", "Fulfilment"), body)
}

/// A row's selection box, named by its application for screen readers.
fn select_box(ctx: &PageCtx, id: &str) -> Markup {
    html! { input type="checkbox" name="ids" value=(id) aria-label=(format!("{} {id}", ctx.t("选择", "Select"))); }
}

pub struct BatchesPage<'a> {
    pub batches: &'a [BatchRow],
    pub pager: &'a PagerView,
    pub error: Option<&'a str>,
    pub jobs: &'a [crate::storage::import_jobs::ImportJob],
}

pub fn batches_page(ctx: &PageCtx, p: &BatchesPage) -> Markup {
    let body = html! {
        h1.visually-hidden { (ctx.t("快递批次", "Courier batches")) }
        (tabs(ctx))
        @if let Some(e) = p.error { p.flash.warn role="alert" id="tracking-error" { (e) } }
        @if can_act(ctx) {
            (upload_form(ctx, &UploadForm {
                action: "/fulfilment/tracking",
                label: ctx.t("导入快递运单号（快递平台导出）", "Import waybill numbers (the courier's export)"),
                button: ctx.t("导入", "Import"),
                button_id: "import-tracking",
                formats: formats::TRACKING,
                primary: true,
            }))
        }
        (super::imports::recent(ctx, "/fulfilment", p.jobs))
        table.grid.dense id="batches" {
            thead { tr { th { (ctx.t("批次号", "Batch")) } th { (ctx.t("快递", "Courier")) } th.num { (ctx.t("件数", "Parcels")) }
                th.num { (ctx.t("已寄出", "Shipped")) } th { (ctx.t("生成时间", "Created")) } th { (ctx.t("操作人", "By")) } } }
            tbody {
                @for b in p.batches {
                    tr { td { a href=(format!("/fulfilment/batches/{}", b.batch_id)) { (b.batch_no) } } td { (courier_label(ctx, &b.courier)) }
                        td.num { (b.shipments) } td.num { (b.shipped) } td { (time(b.created_at)) } td { (b.created_by.trim_start_matches("staff:")) } }
                }
                @if p.batches.is_empty() { tr { td colspan="6" .empty { (ctx.t("还没有快递批次。", "No batch yet.")) } } }
            }
        }
        (pager(ctx.locale, p.pager))
    };
    page(ctx, ctx.t("快递批次", "Courier batches"), body)
}

pub fn batch_page(
    ctx: &PageCtx,
    b: &BatchRow,
    shipments: &[BatchShipment],
    statuses: &[Option<Status>],
) -> Markup {
    let id = b.batch_id;
    let body = html! {
        (tabs(ctx))
        h1 { (b.batch_no) " · " (courier_label(ctx, &b.courier)) }
        p.toolbar {
            a.button href=(format!("/fulfilment/batches/{id}/file")) id="batch-file" { (ctx.t("下载批量下单文件 xlsx", "Download the batch-order file")) }
            // Printing is recorded (timelines, audit), so it is a POST; a look at the pages is a link.
            @if can_act(ctx) {
                form.inline method="post" action=(format!("/fulfilment/batches/{id}/labels")) target="_blank" {
                    (csrf(ctx))
                    button.button type="submit" id="labels" { (ctx.t("打印面单（100×150）", "Print labels (100×150)")) }
                }
                form.inline method="post" action=(format!("/fulfilment/batches/{id}/packing")) target="_blank" {
                    (csrf(ctx))
                    button.button type="submit" id="packing" { (ctx.t("打印装箱单（A4）", "Print packing list (A4)")) }
                }
            } @else {
                a.button href=(format!("/fulfilment/batches/{id}/labels")) target="_blank" id="labels" { (ctx.t("查看面单", "View labels")) }
                a.button href=(format!("/fulfilment/batches/{id}/packing")) target="_blank" id="packing" { (ctx.t("查看装箱单", "View packing list")) }
            }
        }
        table.grid.dense id="parcels" {
            thead { tr { th { (ctx.t("订单号", "Order no.")) } th { (ctx.t("受理编号", "Application")) } th { (ctx.t("运单号", "Waybill")) }
                th { (ctx.t("寄出时间", "Shipped")) } th { (ctx.t("状态", "State")) } @if can_act(ctx) { th { span.visually-hidden { (ctx.t("退件", "Returns")) } } } } }
            tbody {
                @for (s, status) in shipments.iter().zip(statuses) {
                    tr {
                        td.mono { (s.order_no) } td { (s.application_id) } td.mono { (s.waybill.as_deref().unwrap_or("—")) }
                        td { (s.shipped_at.map(time).unwrap_or_default()) }
                        td { @if s.state == "returned" { span.badge.bad { (ctx.t("退件", "returned")) } } @else { @if let Some(st) = status { (status_badge(ctx.locale, *st)) } } }
                        @if can_act(ctx) {
                            td { @if s.state == "shipped" {
                                form.inline method="post" action=(format!("/fulfilment/shipments/{}/returned", s.shipment_id)) {
                                    (csrf(ctx))
                                    input type="text" name="reason" required maxlength="200" placeholder=(ctx.t("退件原因", "Why it came back"))
                                        aria-label=(format!("{} {}", ctx.t("退件原因", "Why it came back"), s.order_no));
                                    button type="submit" { (ctx.t("登记退件", "Record return")) }
                                }
                            } }
                        }
                    }
                }
            }
        }
    };
    page(ctx, &b.batch_no, body)
}
