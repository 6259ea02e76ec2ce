//! The finance desk's pages: bills, exceptions and their evidence, refunds owed, the daily
//! report, invoices.

use super::components::{self, PagerView, UploadForm, pager, status_badge, time, upload_form};
use super::layout::{PageCtx, csrf, page};
use crate::domain::{ids::ApplicationId, money::Fen, status::Status};
use crate::exchange::formats;
use crate::storage::{
    finance::{CaseListRow, CaseRow, DayFigures, ImportRow, LineView},
    invoices::{BatchRow, IssueRow, RequestRow},
    paging::Page,
};
use maud::{Markup, PreEscaped, html};

fn yuan(fen: Fen) -> String {
    components::yuan(fen)
}

/// Fees are kept in 1/100,000 yuan (WeChat prints five decimals); shown to the fen.
fn fee(e5: i64) -> String {
    yuan(Fen::new((e5 as f64 / 1000.0).round() as i64))
}

pub fn channel(ctx: &PageCtx, c: &str) -> &'static str {
    match c {
        "wechat" => ctx.t("微信支付", "WeChat Pay"),
        "alipay" => ctx.t("支付宝", "Alipay"),
        _ => "?",
    }
}

pub fn kind_label(ctx: &PageCtx, k: &str) -> &'static str {
    match k {
        "matched" => ctx.t("已匹配", "matched"),
        "amount_mismatch" => ctx.t("金额不符", "amount mismatch"),
        "unmatched_payment" => ctx.t("有款无单", "payment without application"),
        "missing_payment" => ctx.t("有单无款", "payment missing from bill"),
        "duplicate_payment" => ctx.t("重复支付", "paid twice"),
        "refund_owed" => ctx.t("应退款", "refund owed"),
        "unexpected_refund" => ctx.t("未预期退款", "unexpected refund"),
        "refund" => ctx.t("退款", "refund"),
        _ => "?",
    }
}

fn resolution_label(ctx: &PageCtx, r: &str) -> &'static str {
    match r {
        "linked" => ctx.t("已关联申请", "linked"),
        "refund_confirmed" => ctx.t("已确认退款", "refund confirmed"),
        "mismatch_accepted" => ctx.t("已接受差额", "mismatch accepted"),
        "refunded" => ctx.t("账单退款自动关闭", "closed by a refund in a bill"),
        "payment_arrived" => ctx.t("款项已到账", "payment arrived"),
        _ => "?",
    }
}

fn tabs(ctx: &PageCtx) -> Markup {
    let items = [
        ("/finance/exceptions", ctx.t("异常处理", "Exceptions")),
        ("/finance/bills", ctx.t("账单导入", "Bills")),
        ("/finance/refunds", ctx.t("待退款", "Refunds owed")),
        ("/finance/report", ctx.t("对账日报", "Daily report")),
        ("/finance/invoices", ctx.t("发票", "Invoices")),
    ];
    html! {
        nav.tabs {
            @for (href, label) in items {
                a.tab.active[ctx.path.starts_with(href)] href=(href) { (label) }
            }
        }
    }
}

fn can_act(ctx: &PageCtx) -> bool {
    ctx.role() == "finance"
}

pub struct BillsPage<'a> {
    pub imports: &'a [ImportRow],
    pub jobs: &'a [crate::storage::import_jobs::ImportJob],
    pub pager: &'a PagerView,
    pub error: Option<&'a str>,
}

pub fn bills_page(ctx: &PageCtx, p: &BillsPage) -> Markup {
    let body = html! {
        h1.visually-hidden { (ctx.t("账单导入", "Bills")) }
        (tabs(ctx))
        @if let Some(e) = p.error { p.flash.warn role="alert" id="import-error" { (e) } }
        @if can_act(ctx) {
            (upload_form(ctx, &UploadForm {
                action: "/finance/bills",
                label: ctx.t("微信支付交易账单或支付宝业务明细（CSV，或其 zip / gz）", "WeChat Pay trade bill or Alipay business detail (CSV, or a zip / gz of them)"),
                button: ctx.t("导入并对账", "Import and reconcile"),
                button_id: "upload-bill", formats: formats::BILLS, primary: true,
            }))
            p.hint { (ctx.t("按文件内容识别渠道；同一账单重复导入不会重复记账。导入在服务器上作为任务进行，结果留在任务页。", "The channel is recognised by content; importing a bill again changes nothing. The import runs on the server as a job; its result stays on the job's page.")) }
        }
        (super::imports::recent(ctx, "/finance", p.jobs))
        table.grid.dense id="imports" {
            thead { tr {
                th { (ctx.t("导入时间", "Imported")) } th { (ctx.t("渠道", "Channel")) } th { (ctx.t("文件", "File")) }
                th { (ctx.t("账单期间", "Period")) } th.num { (ctx.t("笔数", "Lines")) } th.num { (ctx.t("新增", "New")) }
                th { (ctx.t("对账结果", "Outcome")) } th { (ctx.t("操作人", "By")) } th { "SHA-256" }
            } }
            tbody {
                @for i in p.imports {
                    tr {
                        td { (time(i.imported_at)) } td { (channel(ctx, &i.channel)) } td { (i.file_name) }
                        td { (i.period_from) " – " (i.period_to) } td.num { (i.lines) } td.num { (i.new_lines) }
                        td.summary { (summary_text(ctx, &i.summary)) }
                        td { (i.imported_by.trim_start_matches("staff:")) } td.mono title=(i.sha256) { (&i.sha256[..12.min(i.sha256.len())]) "…" }
                    }
                }
                @if p.imports.is_empty() { tr { td colspan="9" .empty { (ctx.t("尚未导入账单。", "No bill imported yet.")) } } }
            }
        }
        (pager(ctx.locale, p.pager))
    };
    page(ctx, ctx.t("账单导入", "Bills"), body)
}

fn summary_text(ctx: &PageCtx, json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    [
        "matched",
        "amount_mismatch",
        "unmatched_payment",
        "missing_payment",
        "duplicate_payment",
        "refund",
    ]
    .iter()
    .filter_map(|k| {
        let n = v[k].as_i64().unwrap_or(0);
        (n > 0).then(|| format!("{} {n}", kind_label(ctx, k)))
    })
    .collect::<Vec<_>>()
    .join(" · ")
}

pub struct ExceptionsPage<'a> {
    pub cases: &'a [CaseListRow],
    pub counts: &'a [(String, i64)],
    pub kind: Option<&'a str>,
    pub open: bool,
    pub pager: &'a PagerView,
}

pub fn exceptions_page(ctx: &PageCtx, p: &ExceptionsPage) -> Markup {
    let total: i64 = p.counts.iter().map(|(_, n)| n).sum();
    let body = html! {
        h1.visually-hidden { (ctx.t("对账异常", "Exceptions")) }
        (tabs(ctx))
        div.filters {
            a.chip.active[p.kind.is_none() && p.open] href="/finance/exceptions" { (ctx.t("全部未处理", "All open")) " " span.count { (total) } }
            @for (k, n) in p.counts {
                a.chip.active[p.kind == Some(k.as_str())] href=(format!("/finance/exceptions?kind={k}")) { (kind_label(ctx, k)) " " span.count { (n) } }
            }
            a.chip.active[!p.open] href="/finance/exceptions?state=closed" { (ctx.t("已处理", "Closed")) }
        }
        table.grid.dense id="cases" {
            thead { tr {
                th { "#" } th { (ctx.t("类型", "Kind")) } th { (ctx.t("渠道", "Channel")) } th { (ctx.t("商户订单号", "Order no.")) }
                th { (ctx.t("交易号", "Transaction")) } th.num { (ctx.t("账单金额", "Bill amount")) } th.num { (ctx.t("应收", "Expected")) }
                th { (ctx.t("申请", "Application")) } th { (ctx.t("发现时间", "Found")) } th { (ctx.t("状态", "State")) }
            } }
            tbody {
                @for c in p.cases {
                    tr {
                        td { a href=(format!("/finance/exceptions/{}", c.case_id)) { (c.case_id) } }
                        td { span.badge.(c.kind) { (kind_label(ctx, &c.kind)) } }
                        td { (channel(ctx, &c.channel)) }
                        td.mono { (c.out_trade_no) }
                        td.mono { (c.transaction_id.as_deref().unwrap_or("—")) }
                        td.num { (yuan(c.amount_fen)) }
                        td.num { (c.expected_fen.map(yuan).unwrap_or_else(|| "—".into())) }
                        td { @if let Some(a) = &c.application_id { (a) " " (c.applicant_name.as_deref().unwrap_or("")) } @else { "—" } }
                        td { (time(c.opened_at)) }
                        td { @if c.state == "open" { (ctx.t("待处理", "open")) } @else { (c.resolution.as_deref().map(|r| resolution_label(ctx, r)).unwrap_or("")) } }
                    }
                }
                @if p.cases.is_empty() { tr { td colspan="10" .empty { (ctx.t("没有需要处理的异常。", "Nothing to look at.")) } } }
            }
        }
        (pager(ctx.locale, p.pager))
    };
    page(ctx, ctx.t("对账异常", "Exceptions"), body)
}

pub struct AppSide {
    pub application_id: ApplicationId,
    pub applicant_name: String,
    pub status: Status,
    pub payment_state: String,
    pub channel: String,
    pub out_trade_no: String,
    pub amount_fen: Fen,
    pub paid_at: i64,
}

pub struct CasePage<'a> {
    pub case: &'a CaseRow,
    /// Every bill line of the order number, with its file: this import's and earlier ones.
    pub lines: &'a [LineView],
    pub app: Option<&'a AppSide>,
    pub error: Option<&'a str>,
}

pub fn case_page(ctx: &PageCtx, p: &CasePage) -> Markup {
    let c = p.case;
    let open = c.state == "open";
    let act = can_act(ctx) && open;
    let rv = c.row_version.to_string();
    let body = html! {
        (tabs(ctx))
        h1 { (ctx.t("异常", "Case")) " #" (c.case_id) " " span.badge.(c.kind) { (kind_label(ctx, &c.kind)) } }
        @if let Some(e) = p.error { p.flash.warn role="alert" id="resolve-error" { (e) } }
        div.evidence {
            section.panel id="bill-side" {
                h2 { (ctx.t("账单记录", "Bill lines")) " · " span.mono { (c.out_trade_no) } }
                table.grid.dense {
                    thead { tr { th { (ctx.t("时间", "Time")) } th { (ctx.t("类型", "Type")) } th { (ctx.t("交易号", "Transaction")) }
                        th.num { (ctx.t("金额", "Amount")) } th.num { (ctx.t("手续费", "Fee")) } th { (ctx.t("退款单号", "Refund no.")) } th { (ctx.t("来源文件", "File")) } } }
                    tbody {
                        @for l in p.lines {
                            tr.this[c.line_id == Some(l.line_id)] {
                                td { (time(l.at)) } td { (channel(ctx, &l.channel)) " " (if l.kind == "refund" { ctx.t("退款", "refund") } else { ctx.t("收款", "payment") }) }
                                td.mono { (l.transaction_id) } td.num { (yuan(l.amount_fen)) } td.num { (fee(l.fee_e5)) }
                                td.mono { (l.refund_no.as_deref().unwrap_or("")) }
                                td { (l.file_name) " " (ctx.t("第", "line ")) (l.line_no) (ctx.t("行", "")) }
                            }
                        }
                        @if p.lines.is_empty() { tr { td colspan="7" .empty { (ctx.t("任何账单中都没有这笔付款。", "No bill holds this payment.")) } } }
                    }
                }
            }
            section.panel id="application-side" {
                h2 { (ctx.t("申请", "Application")) }
                @if let Some(a) = p.app {
                    dl.facts {
                        dt { (ctx.t("受理编号", "Application")) } dd { (a.application_id) " " (status_badge(ctx.locale, a.status)) }
                        dt { (ctx.t("申请人", "Applicant")) } dd { (a.applicant_name) }
                        dt { (ctx.t("渠道", "Channel")) } dd { (channel(ctx, &a.channel)) }
                        dt { (ctx.t("商户订单号", "Order no.")) } dd.mono { (a.out_trade_no) }
                        dt { (ctx.t("应收金额", "Fee")) } dd { (yuan(a.amount_fen)) }
                        dt { (ctx.t("网厅记录的支付时间", "Paid at (hall)")) } dd { (time(a.paid_at)) }
                        dt { (ctx.t("付款核实", "Payment")) } dd { (super::review::payment_state(ctx, &a.payment_state)) }
                    }
                } @else {
                    p.empty { (ctx.t("没有申请使用这个商户订单号。", "No application uses this order number.")) }
                }
            }
        }
        @if !open {
            p.closed { (ctx.t("已处理", "Closed")) ": " (c.resolution.as_deref().map(|r| resolution_label(ctx, r)).unwrap_or(""))
                @if let Some(r) = &c.refund_no { " · " (ctx.t("退款单号", "refund no.")) " " span.mono { (r) } }
                " · " (c.closed_by.as_deref().unwrap_or("").trim_start_matches("staff:")) " " (c.closed_at.map(time).unwrap_or_default())
                @if let Some(n) = &c.note { " · " (n) } }
        }
        @if act {
            div.actions {
                @if c.kind == "unmatched_payment" {
                    form method="post" action=(format!("/finance/exceptions/{}", c.case_id)) id="link-form" {
                        (csrf(ctx)) input type="hidden" name="row_version" value=(rv); input type="hidden" name="action" value="link";
                        label { (ctx.t("关联到申请（受理编号）", "Link to application (id)")) " " input type="text" name="application_id" required placeholder="BF20261125-XXXXXX"; }
                        label { (ctx.t("说明", "Note")) " " input type="text" name="note" required maxlength="500"; }
                        button.primary type="submit" { (ctx.t("关联", "Link")) }
                    }
                }
                @if matches!(c.kind.as_str(), "duplicate_payment" | "refund_owed" | "unmatched_payment" | "unexpected_refund") {
                    form method="post" action=(format!("/finance/exceptions/{}", c.case_id)) id="refund-form" {
                        (csrf(ctx)) input type="hidden" name="row_version" value=(rv); input type="hidden" name="action" value="refund";
                        label { (ctx.t("退款单号", "Refund number")) " " input type="text" name="refund_no" required maxlength="64"; }
                        label { (ctx.t("说明", "Note")) " " input type="text" name="note" required maxlength="500"; }
                        button type="submit" { (ctx.t("确认退款", "Confirm refund")) }
                    }
                }
                @if c.kind == "amount_mismatch" {
                    form method="post" action=(format!("/finance/exceptions/{}", c.case_id)) id="accept-form" {
                        (csrf(ctx)) input type="hidden" name="row_version" value=(rv); input type="hidden" name="action" value="accept";
                        label { (ctx.t("说明（为何接受差额）", "Note (why the difference is accepted)")) " " input type="text" name="note" required maxlength="500"; }
                        button type="submit" { (ctx.t("接受差额", "Accept mismatch")) }
                    }
                }
            }
        }
    };
    page(ctx, &format!("#{}", c.case_id), body)
}

/// The refunds owed: one page of them; the count and the sum are of all of them.
pub fn refunds_page(ctx: &PageCtx, owed: &Page<CaseListRow>, pg: &PagerView) -> Markup {
    let (cases, total) = (&owed.rows, owed.sums[0]);
    let body = html! {
        h1.visually-hidden { (ctx.t("待退款", "Refunds owed")) }
        (tabs(ctx))
        p.toolbar {
            (ctx.t("待退款", "Owed")) " " strong id="owed-count" { (owed.total) } " " (ctx.t("笔，合计", "refunds, ")) " " strong id="owed-total" { (yuan(Fen::new(total))) }
            " " a.button href="/finance/refunds.xlsx" id="refunds-xlsx" { (ctx.t("导出 xlsx（商户平台退款用）", "Export xlsx (for the merchant platforms)")) }
        }
        table.grid.dense id="refunds" {
            thead { tr { th { "#" } th { (ctx.t("原因", "Why")) } th { (ctx.t("渠道", "Channel")) } th { (ctx.t("商户订单号", "Order no.")) }
                th { (ctx.t("交易号", "Transaction")) } th.num { (ctx.t("金额", "Amount")) } th { (ctx.t("申请", "Application")) } th { (ctx.t("发现时间", "Found")) } } }
            tbody {
                @for c in cases {
                    tr {
                        td { a href=(format!("/finance/exceptions/{}", c.case_id)) { (c.case_id) } }
                        td { (kind_label(ctx, &c.kind)) } td { (channel(ctx, &c.channel)) } td.mono { (c.out_trade_no) }
                        td.mono { (c.transaction_id.as_deref().unwrap_or("")) } td.num { (yuan(c.amount_fen)) }
                        td { (c.application_id.as_ref().map_or("—", ApplicationId::as_str)) } td { (time(c.opened_at)) }
                    }
                }
                @if cases.is_empty() { tr { td colspan="8" .empty { (ctx.t("没有待退款。", "No refund owed.")) } } }
            }
        }
        (pager(ctx.locale, pg))
    };
    page(ctx, ctx.t("待退款", "Refunds owed"), body)
}

/// Gross per day and channel as grouped bars (server-rendered SVG).
fn chart(ctx: &PageCtx, days: &[DayFigures]) -> Markup {
    let mut dates: Vec<&str> = days.iter().map(|d| d.bill_day.as_str()).collect();
    dates.dedup();
    let max = days
        .iter()
        .map(|d| d.gross_fen.get())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (bw, h, pad) = (12.0, 120.0, 8.0);
    let width = pad + dates.len() as f64 * (2.0 * bw + 10.0) + 8.0;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {}" width="{width}" height="{}" role="img" aria-label="{}">"#,
        h + 34.0,
        h + 34.0,
        ctx.t("每日收款", "Gross per day")
    );
    for (i, day) in dates.iter().enumerate() {
        let x0 = pad + i as f64 * (2.0 * bw + 10.0);
        for (k, (ch, color)) in [("wechat", "#2e7d32"), ("alipay", "#1565c0")]
            .iter()
            .enumerate()
        {
            let v = days
                .iter()
                .find(|d| d.bill_day == *day && d.channel == *ch)
                .map(|d| d.gross_fen.get())
                .unwrap_or(0) as f64;
            let bh = h * v / max;
            svg.push_str(&format!(
                r#"<rect x="{}" y="{}" width="{bw}" height="{bh}" fill="{color}"><title>{day} {} {}</title></rect>"#,
                x0 + k as f64 * bw,
                8.0 + h - bh,
                channel(ctx, ch),
                yuan(Fen::new(v as i64))
            ));
        }
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="9" fill="#616e7c" text-anchor="middle">{}</text>"##,
            x0 + bw,
            h + 24.0,
            &day[5..]
        ));
    }
    svg.push_str("</svg>");
    html! { (PreEscaped(svg)) }
}

pub fn report_page(ctx: &PageCtx, from: &str, to: &str, days: &[DayFigures]) -> Markup {
    let body = html! {
        h1.visually-hidden { (ctx.t("对账日报", "Daily report")) }
        (tabs(ctx))
        form.toolbar method="get" action="/finance/report" {
            label { (ctx.t("从", "From")) " " input type="date" name="from" value=(from); }
            label { (ctx.t("到", "To")) " " input type="date" name="to" value=(to); }
            button type="submit" { (ctx.t("查看", "Show")) }
            " " a.button href=(format!("/finance/report.xlsx?from={from}&to={to}")) id="report-xlsx" { (ctx.t("导出 xlsx", "Export xlsx")) }
            " " span.hint id="range-limit" { (ctx.t(crate::views::texts::RANGE_LIMIT_ZH, crate::views::texts::RANGE_LIMIT_EN)) }
        }
        (chart(ctx, days))
        p.legend { span.key.wechat {} (ctx.t("微信支付", "WeChat Pay")) " " span.key.alipay {} (ctx.t("支付宝", "Alipay")) }
        table.grid.dense id="report" {
            thead { tr { th { (ctx.t("账单日期", "Day")) } th { (ctx.t("渠道", "Channel")) } th.num { (ctx.t("笔数", "Lines")) }
                th.num { (ctx.t("收款", "Gross")) } th.num { (ctx.t("手续费", "Fees")) } th.num { (ctx.t("退款", "Refunds")) } th.num { (ctx.t("净额", "Net")) }
                th.num { (ctx.t("已匹配", "Matched")) } th.num { (ctx.t("异常", "Exceptions")) } th.num { (ctx.t("未处理", "Open")) } } }
            tbody {
                @for d in days {
                    tr {
                        td { (d.bill_day) } td { (channel(ctx, &d.channel)) } td.num { (d.lines) }
                        td.num { (yuan(d.gross_fen)) } td.num { (fee(d.fee_e5)) } td.num { (yuan(d.refund_fen)) }
                        td.num { (yuan(Fen::new(net_fen(d)))) } td.num { (d.matched) } td.num { (d.exceptions) } td.num { (d.open_exceptions) }
                    }
                }
                @if days.is_empty() { tr { td colspan="10" .empty { (ctx.t("这段时间没有账单。", "No bill in this period.")) } } }
            }
        }
    };
    page(ctx, ctx.t("对账日报", "Daily report"), body)
}

/// Gross minus refunds minus fees (fees net of those given back), to the fen.
pub fn net_fen(d: &DayFigures) -> i64 {
    d.gross_fen.get() - d.refund_fen.get() - (d.fee_e5 as f64 / 1000.0).round() as i64
}

pub fn fee_fen(d: &DayFigures) -> i64 {
    (d.fee_e5 as f64 / 1000.0).round() as i64
}

pub struct InvoicesPage<'a> {
    /// Pending requests; `sums` = [amount, how many are ready for a batch].
    pub pending: &'a Page<RequestRow>,
    pub batched: &'a Page<RequestRow>,
    /// The pagers of `pending`, `batched`, `batches` and `issues`.
    pub pagers: [PagerView; 4],
    pub batches: &'a Page<BatchRow>,
    pub issues: &'a Page<IssueRow>,
    pub error: Option<&'a str>,
    pub result: Option<&'a str>,
}

pub fn invoices_page(ctx: &PageCtx, p: &InvoicesPage) -> Markup {
    let ready = p.pending.sums[1];
    let body = html! {
        h1.visually-hidden { (ctx.t("发票", "Invoices")) }
        (tabs(ctx))
        @if let Some(e) = p.error { p.flash.warn role="alert" id="invoice-error" { (e) } }
        @if let Some(r) = p.result { p.flash.ok id="invoice-result" { (r) } }
        @if can_act(ctx) {
            div.toolbar {
                form method="post" action="/finance/invoices/batches" {
                    (csrf(ctx))
                    button.primary type="submit" id="new-batch" disabled[ready == 0] { (ctx.t("生成开票批次", "New invoice batch")) " (" (ready) ")" }
                }
                (upload_form(ctx, &UploadForm {
                    action: "/finance/invoices/issued",
                    label: ctx.t("导入已开发票（平台导出 / 清单 / 发票文件 zip）", "Import issued invoices (platform export / list / zip of files)"),
                    button: ctx.t("导入", "Import"),
                    button_id: "import-issued",
                    formats: formats::ISSUED_INVOICES,
                                        primary: false,
                }))
            }
        }
        h2 { (ctx.t("待开票", "Pending requests")) " " span.count { (p.pending.total) } }
        table.grid.dense id="pending" {
            thead { tr { th { (ctx.t("受理编号", "Application")) } th { (ctx.t("发票抬头", "Title")) } th { (ctx.t("税号", "Tax id")) }
                th.num { (ctx.t("金额", "Amount")) } th { (ctx.t("付款", "Payment")) } th { (ctx.t("问题", "Problem")) } } }
            tbody {
                @for r in &p.pending.rows {
                    tr {
                        td { (r.application_id) } td { (r.title) } td.mono { (r.tax_id.as_deref().unwrap_or("—")) } td.num { (yuan(r.amount_fen)) }
                        td { (super::review::payment_badge(ctx, &r.payment_state)) } td.problem { (r.problem.as_deref().unwrap_or("")) }
                    }
                }
                @if p.pending.rows.is_empty() { tr { td colspan="6" .empty { (ctx.t("没有待开票的申请。", "No pending request.")) } } }
            }
        }
        (pager(ctx.locale, &p.pagers[0]))
        h2 { (ctx.t("已导出待回填", "Exported, awaiting the issued invoice")) " " span.count { (p.batched.total) } }
        table.grid.dense id="batched" {
            thead { tr { th { (ctx.t("发票流水号", "Serial")) } th { (ctx.t("受理编号", "Application")) } th { (ctx.t("抬头", "Title")) } th.num { (ctx.t("金额", "Amount")) } } }
            tbody { @for r in &p.batched.rows { tr { td.mono { (r.serial.as_deref().unwrap_or("")) } td { (r.application_id) } td { (r.title) } td.num { (yuan(r.amount_fen)) } } } }
        }
        (pager(ctx.locale, &p.pagers[1]))
        h2 { (ctx.t("开票批次", "Batches")) }
        table.grid.dense id="batches" {
            thead { tr { th { (ctx.t("批次号", "Batch")) } th.num { (ctx.t("张数", "Invoices")) } th { (ctx.t("生成时间", "Created")) } th { (ctx.t("操作人", "By")) } th { "SHA-256" } th {} } }
            tbody {
                @for b in &p.batches.rows {
                    tr { td { (b.batch_no) } td.num { (b.requests) } td { (time(b.created_at)) } td { (b.created_by.trim_start_matches("staff:")) }
                        td.mono title=(b.sha256) { (&b.sha256[..12.min(b.sha256.len())]) "…" }
                        td { a href=(format!("/finance/invoices/batches/{}", b.batch_id)) { (ctx.t("下载", "Download")) } } }
                }
            }
        }
        (pager(ctx.locale, &p.pagers[2]))
        @if p.issues.total > 0 {
            h2 { (ctx.t("未能对应的已开发票", "Issued invoices not tied to a request")) }
            table.grid.dense id="issues" {
                thead { tr { th { (ctx.t("发票号码", "Number")) } th { (ctx.t("情况", "Outcome")) } th { (ctx.t("详情", "Detail")) } th { (ctx.t("时间", "When")) } } }
                tbody { @for i in &p.issues.rows { tr { td.mono { (i.invoice_number) } td { (issue_label(ctx, &i.outcome)) } td { (i.detail) } td { (time(i.created_at)) } } } }
            }
            (pager(ctx.locale, &p.pagers[3]))
        }
    };
    page(ctx, ctx.t("发票", "Invoices"), body)
}

fn issue_label(ctx: &PageCtx, o: &str) -> &'static str {
    match o {
        "unmatched" => ctx.t("找不到对应申请", "no request fits"),
        "ambiguous" => ctx.t("多个申请都符合", "more than one request fits"),
        "amount_mismatch" => ctx.t("金额不符", "amount differs"),
        _ => "?",
    }
}
