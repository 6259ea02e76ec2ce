//! The review desk's pages: the queue, and one application with its scans side by side.

use super::components::{PagerView, Urgency, Yuan, pager, status_badge, time, time_left};
use super::layout::{PageCtx, csrf, page};
use super::scans::{Tile, scan_tile};
use crate::domain::{
    calendar::beijing, certificate::Certificate, intake::NewApplication, scan::ScanKind,
};
use crate::storage::{
    from_ms,
    prechecks::FindingRow,
    queue::{QueueRow, ReviewDetail},
    reasons::ReasonRow,
};
use maud::{Markup, html};

/// The queue's filters as the page shows and links them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub overdue: Option<String>,
    pub mine: Option<String>,
    pub unclaimed: Option<String>,
    pub resub: Option<String>,
    /// Only applications whose pre-checks flagged something.
    pub findings: Option<String>,
    pub q: Option<String>,
    pub msg: Option<String>,
}

impl QueueQuery {
    pub fn on(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|s| !s.is_empty() && s != "0")
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn urgency(now_ms: i64, due_ms: i64) -> Urgency {
    if due_ms < now_ms {
        Urgency::Overdue
    } else if from_ms(due_ms).with_timezone(&beijing()).date_naive()
        == from_ms(now_ms).with_timezone(&beijing()).date_naive()
    {
        Urgency::LastDay
    } else {
        Urgency::Normal
    }
}

fn channel_label(ctx: &PageCtx, c: &str) -> &'static str {
    match c {
        "wechat" => ctx.t("微信支付", "WeChat Pay"),
        "alipay" => ctx.t("支付宝", "Alipay"),
        _ => "—",
    }
}

pub fn who(actor: &str) -> &str {
    actor.split_once(':').map(|(_, n)| n).unwrap_or(actor)
}

pub fn queue_page(
    ctx: &PageCtx,
    q: &QueueQuery,
    rows: &[QueueRow],
    pg: &PagerView,
    now_ms: i64,
    panel: Option<Markup>,
    tools: &super::queue_tools::QueueTools,
) -> Markup {
    let l = ctx.locale;
    let sel = |v: &Option<String>, want: &str| v.as_deref() == Some(want);
    let bulk = tools.bulk.is_some();
    let body = html! {
        div.toolbar {
            h1 { (ctx.t("审核队列", "Review queue")) }
            form.inline method="post" action="/review/next" id="next-form" {
                (csrf(ctx))
                button.primary type="submit" title=(ctx.t("快捷键 N", "Shortcut N")) { (ctx.t("认领下一件", "Claim next")) " " kbd { "N" } }
            }
        }
        @if let Some(p) = panel { (p) }
        (super::queue_tools::saved_views(ctx, tools))
        form.filters method="get" action="/review" {
            select name="status" aria-label=(ctx.t("状态", "Status")) {
                option value="" { (ctx.t("全部待审", "All waiting")) }
                option value="submitted" selected[sel(&q.status, "submitted")] { (ctx.t("待审核", "Submitted")) }
                option value="in_review" selected[sel(&q.status, "in_review")] { (ctx.t("审核中", "In review")) }
                option value="awaiting_approval" selected[sel(&q.status, "awaiting_approval")] { (ctx.t("待复核", "Awaiting approval")) }
            }
            fieldset.checks {
            legend.visually-hidden { (ctx.t("只看", "Only")) }
            label.check { input type="checkbox" name="overdue" value="1" checked[QueueQuery::on(&q.overdue)]; (ctx.t("仅超期", "Overdue only")) }
            label.check { input type="checkbox" name="mine" value="1" checked[QueueQuery::on(&q.mine)]; (ctx.t("我认领的", "Mine")) }
            label.check { input type="checkbox" name="unclaimed" value="1" checked[QueueQuery::on(&q.unclaimed)]; (ctx.t("未认领", "Unclaimed")) }
            label.check { input type="checkbox" name="resub" value="1" checked[QueueQuery::on(&q.resub)]; (ctx.t("重新提交", "Resubmissions")) }
            label.check { input type="checkbox" name="findings" value="1" checked[QueueQuery::on(&q.findings)]; (ctx.t("有机审提示", "Has findings")) }
            }
            input type="search" name="q" value=[q.q.as_deref()] aria-label=(ctx.t("搜索", "Search"))
                placeholder=(ctx.t("受理编号 / 网厅编号 / 证书序列号 / 手机号", "Id / hall reference / serial / mobile"));
            button type="submit" { (ctx.t("筛选", "Filter")) }
            a href="/review" { (ctx.t("清除", "Clear")) }
        }
        form id="bulk" method="post" action="/review/bulk" {
        (csrf(ctx))
        fieldset.bulk {
        @if let Some(reviewers) = tools.bulk {
            legend { (ctx.t("批量操作：勾选申请后选择操作", "Bulk action: pick applications, then an action")) }
            (super::queue_tools::bulk_bar(ctx, reviewers))
        } @else {
            legend.visually-hidden { (ctx.t("申请列表", "Applications")) }
        }
        table.grid.queue {
            thead { tr {
                @if bulk { th { input type="checkbox" id="pick-all" aria-label=(ctx.t("全选本页", "Pick all on this page")); } }
                th { (ctx.t("受理编号", "Id")) }
                th { (ctx.t("申请人", "Applicant")) }
                th { (ctx.t("提交时间", "Submitted")) }
                th { (ctx.t("审核期限", "Deadline")) }
                th { (ctx.t("剩余时间", "Time left")) }
                th { (ctx.t("版本", "Version")) }
                th { (ctx.t("支付渠道", "Payment")) }
                th { (ctx.t("状态", "Status")) }
                th { (ctx.t("认领人", "Claimed by")) }
            } }
            tbody {
                @for r in rows {
                    @let u = urgency(now_ms, r.review_due_at);
                    tr.(u.class()) data-href=(format!("/review/{}", r.application_id)) {
                        @if bulk { td.pick {
                            input type="checkbox" name="pick" value=(format!("{}:{}", r.application_id, r.row_version))
                                aria-label=(format!("{} {}", ctx.t("选择", "Pick"), r.application_id));
                        } }
                        td {
                            a href=(format!("/review/{}", r.application_id)) { code { (r.application_id) } }
                            @if r.queue_rank == 0 { " " span.tag.warn { (ctx.t("优先", "priority")) } }
                        }
                        td {
                            (r.applicant_name)
                            @if r.findings > 0 { " " span.tag.warn title=(ctx.t("机审提示", "Pre-check findings")) { "⚑ " (r.findings) } }
                        }
                        td { (time(r.received_at)) }
                        td { (time(r.review_due_at)) }
                        td.left { (time_left(l, now_ms, r.review_due_at)) }
                        td {
                            (r.version)
                            @if r.version > 1 { " " span.tag { (ctx.t("重新提交", "resubmitted")) } }
                        }
                        td { (channel_label(ctx, &r.payment_channel)) }
                        td { (status_badge(l, r.status)) }
                        td { (r.claimed_by.as_deref().map(who).unwrap_or("—")) }
                    }
                }
                @if rows.is_empty() {
                    tr { td.empty colspan=(if bulk { "10" } else { "9" }) { (ctx.t("没有符合条件的申请。", "No application matches.")) } }
                }
            }
        }
        }
        }
        div.pager {
            (pager(l, pg))
            span.hint { (ctx.t("快捷键：J/K 上下移动，Enter 打开，N 认领下一件", "Keys: J/K move, Enter opens, N claims the next")) }
        }
    };
    page(ctx, ctx.t("审核队列", "Review queue"), body)
}

/// What the application page needs beyond the stored detail.
pub struct AppPage<'a> {
    pub detail: &'a ReviewDetail,
    pub pdf_pages: &'a super::scans::PdfPages,
    pub app: &'a NewApplication,
    pub previous: Option<&'a NewApplication>,
    pub cert: Option<&'a Certificate>,
    pub reasons: &'a [ReasonRow],
    pub reviewers: &'a [(String, String)],
    pub can_claim: bool,
    pub can_decide: bool,
    pub can_release: bool,
    pub can_reassign: bool,
    pub can_override_payment: bool,
    pub compare: bool,
    pub now_ms: i64,
    /// The machine pre-checks of this version and, on a resubmission, of the previous one.
    pub findings: &'a [FindingRow],
    pub previous_findings: Option<&'a [FindingRow]>,
    pub prechecked: bool,
    /// Reviewers and supervisors may say whether a finding was right.
    pub can_judge: bool,
    /// Four eyes: the pending approval request, and whether this member may decide on it.
    pub approval: Option<&'a crate::storage::four_eyes::ApprovalRow>,
    pub can_approve: bool,
    /// A resubmission: the parts the previous version's return sent back, with their reasons.
    pub returned_parts: &'a [crate::storage::applications::ReturnedPart],
    /// Internal notes (staff only).
    pub notes: &'a [crate::storage::mentions::NoteRow],
}

/// A row of the compared data; `before` is shown (and the row marked) when it differs.
fn field(label: &str, now: String, before: Option<String>) -> Markup {
    let changed = before.as_ref().is_some_and(|b| *b != now);
    html! {
        tr.changed[changed] {
            th { (label) }
            td {
                (now)
                @if changed { br; del.before { (before.unwrap_or_default()) } }
            }
        }
    }
}

pub fn application_page(ctx: &PageCtx, p: &AppPage) -> Markup {
    let l = ctx.locale;
    let d = &p.detail.row;
    let id = d.application_id.as_str();
    let a = p.app;
    let prev = p.previous;

    let pv = |f: &dyn Fn(&NewApplication) -> String| prev.map(f);
    let addr = |x: &NewApplication| {
        let m = &x.mailing_address;
        format!(
            "{} {} · {}{}{}{} {}",
            m.recipient,
            m.mobile,
            m.province,
            m.city,
            m.district,
            m.detail,
            m.postcode.as_deref().unwrap_or("")
        )
    };
    let invoice = |x: &NewApplication| match &x.invoice {
        None => l.t("不需要发票", "No invoice").to_string(),
        Some(i) => format!(
            "{} · {} · {}",
            i.title,
            i.tax_id
                .as_ref()
                .map(|t| t.as_str())
                .unwrap_or(l.t("个人", "personal")),
            i.email
        ),
    };
    let u = urgency(p.now_ms, d.review_due_at);
    let prev_scan = |k: ScanKind| p.detail.previous_scans.iter().find(|s| s.kind == k);
    let of = super::prechecks::FindingsOf {
        id,
        version: d.version,
        can_judge: p.can_judge,
    };
    let body = html! {
        div.toolbar {
            h1 { code { (id) } " " (a.applicant.name) " " (status_badge(l, d.status)) }
            span.deadline.(u.class()) {
                (ctx.t("审核期限", "Deadline")) " " (time(d.review_due_at)) " · " (time_left(l, p.now_ms, d.review_due_at))
            }
            a href="/review" { (ctx.t("返回队列", "Back to the queue")) }
        }
        p.rule { (ctx.t("期限规则：（重新）提交当日（北京时间）之后第三个工作日 18:00；退回期间不计时。", "Deadline rule: 18:00 Beijing time on the third working day after the (re)submission's day; the clock stops while returned.")) }
        @if d.version > 1 {
            p.flash.info {
                (ctx.t("第", "Resubmission: version ")) (d.version) (ctx.t(" 次提交（重新提交）。与上一版本不同之处已标出。", "; what changed since the previous version is marked."))
                " "
                @if p.compare { a href=(format!("/review/{id}")) { (ctx.t("隐藏上一版本扫描件", "Hide the previous scans")) } }
                @else { a href=(format!("/review/{id}?compare=1")) { (ctx.t("显示上一版本扫描件", "Show the previous scans")) } }
            }
        }
        (super::returned_parts::comeback_table(ctx, &super::returned_parts::Comeback {
            id,
            version: d.version,
            parts: p.returned_parts,
            before_body: p.detail.previous_body.as_deref().unwrap_or(""),
            after_body: &p.detail.body,
            before_scans: &p.detail.previous_scans,
            after_scans: &p.detail.scans,
        }))
        @if !p.prechecked {
            p.hint.prechecks { (ctx.t("机审尚未完成：扫描件的自动检查在受理后排队进行。", "Pre-checks pending: the scans are checked by the machine after intake.")) }
        }
        div.review {
            section.scans {
                @for s in &p.detail.scans {
                    @let before = prev_scan(s.kind);
                    @let changed = before.is_some_and(|b| b.sha256 != s.sha256);
                    div.scan-cell {
                        (scan_tile(ctx, id, p.pdf_pages, Tile { version: d.version, scan: s, changed, label_suffix: "", findings: p.findings }))
                        (super::prechecks::scan_findings(ctx, &of, s.kind.code(), p.findings, p.previous_findings))
                    }
                    @if p.compare { @if let Some(b) = before {
                        (scan_tile(ctx, id, p.pdf_pages, Tile { version: d.version - 1, scan: b, changed: false, label_suffix: l.t("（上一版本）", " (previous)"), findings: p.previous_findings.unwrap_or_default() }))
                    } }
                }
            }
            section.side {
                table.facts {
                    (field(ctx.t("姓名", "Name"), a.applicant.name.clone(), pv(&|x| x.applicant.name.clone())))
                    @if let Some(c) = p.cert {
                        tr.registry.mismatch[c.holder_name != a.applicant.name] { th { (ctx.t("注册库持有人", "Registry holder")) } td { (c.holder_name) } }
                    }
                    (field(ctx.t("证件", "ID"), format!("{} {}", a.applicant.id.id_type().label_zh(), a.applicant.id.number()), pv(&|x| format!("{} {}", x.applicant.id.id_type().label_zh(), x.applicant.id.number()))))
                    @if let Some(c) = p.cert {
                        tr.registry.mismatch[c.holder.number() != a.applicant.id.number()] { th { (ctx.t("注册库证件号", "Registry ID")) } td { (c.holder.number()) } }
                    }
                    (field(ctx.t("证书序列号", "Certificate serial"), a.certificate_serial.to_string(), pv(&|x| x.certificate_serial.to_string())))
                    @match p.cert {
                        Some(c) => tr.registry { th { (ctx.t("证书", "Certificate")) } td { (c.cert_type) " · " (c.valid_from) " — " (c.valid_to) " · " (c.status.code()) } },
                        None => tr.registry.mismatch { th { (ctx.t("证书", "Certificate")) } td { (ctx.t("注册库中无此序列号", "not in the registry")) } },
                    }
                    (field(ctx.t("手机号", "Mobile"), a.applicant.mobile.to_string(), pv(&|x| x.applicant.mobile.to_string())))
                    (field(ctx.t("电子邮箱", "E-mail"), a.applicant.email.to_string(), pv(&|x| x.applicant.email.to_string())))
                    (field(ctx.t("邮寄地址", "Mailing address"), addr(a), pv(&addr)))
                    (field(ctx.t("发票", "Invoice"), invoice(a), pv(&invoice)))
                    tr { th { (ctx.t("支付", "Payment")) } td {
                        (channel_label(ctx, a.payment.channel.code())) " " (Yuan(a.payment.amount)) " · " (a.payment.out_trade_no)
                        br; small { (ctx.t("交易号", "Transaction")) " " (a.payment.transaction_id) " · " (time(a.payment.paid_at.timestamp_millis())) }
                    } }
                    tr.mismatch[!a.liveness.passed] { th { (ctx.t("活体检测", "Liveness")) } td {
                        (if a.liveness.passed { ctx.t("通过", "passed") } else { ctx.t("未通过", "failed") })
                        " · " (ctx.t("分数", "score")) " " (format!("{:.2}", a.liveness.score.unwrap_or(0.0)))
                    } }
                    tr.mismatch[!a.telecom_real_name.passed] { th { (ctx.t("运营商实名", "Telecom real name")) } td {
                        (if a.telecom_real_name.passed { ctx.t("一致", "matches") } else { ctx.t("不一致", "does not match") })
                    } }
                    tr { th { (ctx.t("授权与协议", "Consents")) } td {
                        (ctx.t("服务协议版本", "Agreement")) " " (a.consents.service_agreement_version) " · "
                        (ctx.t("敏感个人信息授权 ✓", "sensitive PI authorised ✓")) " · " (time(a.consents.agreed_at.timestamp_millis()))
                    } }
                    tr { th { (ctx.t("网厅编号", "Hall reference")) } td { (d.hall_reference) " · " (ctx.t("提交于", "submitted")) " " (time(d.submitted_at)) } }
                }
                (decision_panel(ctx, p))
                (super::notes::section(ctx, id, p.notes))
                h2 { (ctx.t("处理记录", "Timeline")) }
                ol.timeline {
                    @for e in &p.detail.events {
                        li {
                            span.when { (time(e.at)) }
                            " " (status_badge(l, e.status)) " " span.actor { (who(&e.actor)) }
                            @if let Some(n) = &e.note { " — " (n) }
                        }
                    }
                    @for dcs in &p.detail.decisions {
                        @if !dcs.reasons.is_empty() {
                            li.reasons {
                                span.when { (time(dcs.decided_at)) } " " (ctx.t("退回原因（第", "Reasons (version ")) (dcs.version) (ctx.t("版）", ")")) ":"
                                ul { @for line in dcs.reasons.lines() { li { (line) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(ctx, &format!("{id} {}", a.applicant.name), body)
}

/// The payment state as a badge: verified by a bill, not yet, or an open finance case. The
/// page's one payment (`id="payment-state"`); a list's rows take [`payment_badge`].
pub fn payment_state(ctx: &PageCtx, state: &str) -> Markup {
    let (class, text) = payment_words(ctx, state);
    html! { span.badge.(class) id="payment-state" data-state=(state) { (text) } }
}

/// The payment state's badge in a row of a list (no id: ids are one per page).
pub fn payment_badge(ctx: &PageCtx, state: &str) -> Markup {
    let (class, text) = payment_words(ctx, state);
    html! { span.badge.(class) data-state=(state) { (text) } }
}

fn payment_words(ctx: &PageCtx, state: &str) -> (&'static str, &'static str) {
    match state {
        "verified" => ("ok", ctx.t("已对账核实", "verified")),
        "exception" => ("bad", ctx.t("对账异常", "exception")),
        _ => ("warn", ctx.t("待对账", "not yet verified")),
    }
}

fn decision_panel(ctx: &PageCtx, p: &AppPage) -> Markup {
    let id = p.detail.row.application_id.as_str();
    let rv = p.detail.row.row_version.to_string();
    html! {
        div.decide {
            p.payment { (ctx.t("付款", "Payment")) ": " (payment_state(ctx, &p.detail.row.payment_state)) }
            @if let Some(c) = &p.detail.row.claimed_by {
                p.claim { (ctx.t("认领人", "Claimed by")) ": " strong { (who(c)) } }
            }
            @if let Some(a) = p.approval {
                (super::approvals::panel(ctx, id, &rv, a, p.can_approve))
            }
            @if p.can_claim {
                form method="post" action=(format!("/review/{id}/claim")) {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    button.primary type="submit" id="claim" { (ctx.t("认领审核", "Claim")) }
                }
            }
            @if p.can_decide {
                form method="post" action=(format!("/review/{id}/accept")) id="accept-form" {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    @if p.detail.row.payment_state != "verified" && p.can_override_payment {
                        label.override {
                            (ctx.t("付款未核实，主管放行理由（记入审计）", "Payment not verified: supervisor's reason to accept anyway (audited)"))
                            input type="text" name="payment_override" maxlength="200" id="payment-override";
                        }
                    }
                    button.accept type="submit" id="accept" title=(ctx.t("快捷键 A", "Shortcut A")) { (ctx.t("成功受理", "Accept")) " " kbd { "A" } }
                }
                form.return method="post" action=(format!("/review/{id}/return")) id="return-form" {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    fieldset {
                        legend { (ctx.t("退回原因（申请人可见）", "Return reasons (the applicant sees these)")) " " kbd { "R" } }
                        @for r in p.reasons {
                            div.reason-row {
                                label.reason title=(r.internal_note) {
                                    input type="checkbox" name="reasons" value=(r.code);
                                    " " (r.text_shown)
                                }
                                (super::returned_parts::part_select(ctx, r))
                            }
                        }
                        label { (ctx.t("补充说明", "Note")) textarea name="note" rows="2" {} }
                    }
                    button.return type="submit" id="return" { (ctx.t("退回修改", "Return to the applicant")) }
                }
            }
            @if p.can_release {
                form method="post" action=(format!("/review/{id}/release")) {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    button type="submit" { (ctx.t("放回队列", "Release")) }
                }
            }
            @if p.can_reassign {
                form.inline method="post" action=(format!("/review/{id}/reassign")) {
                    (csrf(ctx)) input type="hidden" name="row_version" value=(rv);
                    select name="to" aria-label=(ctx.t("改派给", "Reassign to")) {
                        @for (u, name) in p.reviewers { option value=(u) { (name) } }
                    }
                    button type="submit" { (ctx.t("改派", "Reassign")) }
                }
            }
        }
    }
}
