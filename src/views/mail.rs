//! E-mail templates (Chinese; plain text and HTML). Each returns (subject, text, html).

use super::components::time;
use crate::domain::mail::Mail;
use crate::exchange::reports::{self, ReportLayout, Row, Value};
use crate::storage::sla::DueRow;
use maud::{DOCTYPE, Markup, html};
use std::collections::HashMap;

fn shell(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head { meta charset="utf-8"; title { (title) } }
            body style="font-family: sans-serif; font-size: 14px; color: #1f2933; line-height: 1.6" {
                (body)
                p style="color: #616e7c; font-size: 12px" { "深圳CA 数字证书介质遗失补办 · 本邮件由系统自动发送，请勿直接回复。" }
            }
        }
    }
    .into_string()
}

/// To the applicant: the application was returned, with the reasons and how to resubmit.
pub fn applicant_returned(
    name: &str,
    id: &str,
    hall_reference: &str,
    reasons: &[(String, String)],
    note: Option<&str>,
) -> Mail {
    let subject = format!("您的数字证书补办申请需要修改后重新提交（{hall_reference}）");
    let mut text = format!(
        "{name}，您好：\n\n您提交的数字证书介质遗失补办申请（网厅编号 {hall_reference}，受理编号 {id}）经审核需要修改，原因如下：\n\n"
    );
    for (i, (_, t)) in reasons.iter().enumerate() {
        text.push_str(&format!("  {}. {t}\n", i + 1));
    }
    if let Some(n) = note {
        text.push_str(&format!("\n审核说明：{n}\n"));
    }
    text.push_str(
        "\n请登录深圳CA网上营业厅，进入“介质遗失补办”，在本申请中按上述原因修改或重新上传材料后提交。\
         重新提交后，我们将在三个工作日内完成审核。\n\n如有疑问，请致电客服热线。\n",
    );
    let html = shell(
        &subject,
        html! {
            p { (name) "，您好：" }
            p { "您提交的数字证书介质遗失补办申请（网厅编号 " strong { (hall_reference) } "，受理编号 " (id) "）经审核需要修改，原因如下：" }
            ol { @for (_, t) in reasons { li { (t) } } }
            @if let Some(n) = note { p { "审核说明：" (n) } }
            p { "请登录深圳CA网上营业厅，进入“介质遗失补办”，在本申请中按上述原因修改或重新上传材料后提交。重新提交后，我们将在三个工作日内完成审核。" }
            p { "如有疑问，请致电客服热线。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To the applicant: a returned application not resubmitted within `days` days is closed;
/// `paid`: the payment will be refunded.
pub fn applicant_expired(
    name: &str,
    id: &str,
    hall_reference: &str,
    days: u32,
    paid: bool,
) -> Mail {
    let subject = format!("您的数字证书补办申请已过期关闭（{hall_reference}）");
    let refund = if paid {
        "您已支付的费用将按原支付方式退回，请留意到账通知。"
    } else {
        ""
    };
    let text = format!(
        "{name}，您好：\n\n您提交的数字证书介质遗失补办申请（网厅编号 {hall_reference}，受理编号 {id}）退回修改后 {days} 天内未重新提交，已过期关闭。{refund}\n\n如仍需补办，请登录深圳CA网上营业厅重新提交申请。如有疑问，请致电客服热线。\n"
    );
    let html = shell(
        &subject,
        html! {
            p { (name) "，您好：" }
            p { "您提交的数字证书介质遗失补办申请（网厅编号 " strong { (hall_reference) } "，受理编号 " (id) "）退回修改后 " (days) " 天内未重新提交，已" strong { "过期关闭" } "。" (refund) }
            p { "如仍需补办，请登录深圳CA网上营业厅重新提交申请。如有疑问，请致电客服热线。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To the applicant: the application was accepted (成功受理).
pub fn applicant_accepted(name: &str, id: &str, hall_reference: &str) -> Mail {
    let subject = format!("您的数字证书补办申请已成功受理（{hall_reference}）");
    let text = format!(
        "{name}，您好：\n\n您提交的数字证书介质遗失补办申请（网厅编号 {hall_reference}，受理编号 {id}）已成功受理。\
         我们将为您制作新的证书介质，并按您填写的邮寄地址寄出，寄出后会再通知您快递单号。\n\n如有疑问，请致电客服热线。\n"
    );
    let html = shell(
        &subject,
        html! {
            p { (name) "，您好：" }
            p { "您提交的数字证书介质遗失补办申请（网厅编号 " strong { (hall_reference) } "，受理编号 " (id) "）已" strong { "成功受理" } "。" }
            p { "我们将为您制作新的证书介质，并按您填写的邮寄地址寄出，寄出后会再通知您快递单号。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To the applicant: the new certificate medium was posted, with the courier's tracking link.
pub fn applicant_shipped(
    name: &str,
    hall_reference: &str,
    courier: &str,
    waybill: &str,
    link: &str,
) -> Mail {
    let subject = format!("您的新证书介质已寄出（{hall_reference}）");
    let text = format!(
        "{name}，您好：\n\n您的数字证书介质遗失补办申请（网厅编号 {hall_reference}）的新证书介质已寄出。\n\
         快递公司：{courier}\n运单号：{waybill}\n查询物流：{link}\n\n收到后请妥善保管；如有疑问，请致电客服热线。\n"
    );
    let html = shell(
        &subject,
        html! {
            p { (name) "，您好：" }
            p { "您的数字证书介质遗失补办申请（网厅编号 " strong { (hall_reference) } "）的新证书介质已寄出。" }
            p { "快递公司：" (courier) br; "运单号：" strong { (waybill) } br; a href=(link) { "查询物流" } }
            p { "收到后请妥善保管；如有疑问，请致电客服热线。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To the applicant: the invoice (数电票) was issued; with its link when there is one.
pub fn applicant_invoice_issued(
    title: &str,
    hall_reference: &str,
    number: &str,
    issued_on: &str,
    amount: &str,
    link: Option<&str>,
) -> Mail {
    let subject = format!("您的数字证书补办费发票已开具（{hall_reference}）");
    let link_text = link
        .map(|l| format!("下载地址：{l}\n"))
        .unwrap_or_else(|| "您可登录个人所得税 App 或电子发票服务平台查询下载。\n".into());
    let text = format!(
        "{title}，您好：\n\n您的数字证书介质遗失补办申请（网厅编号 {hall_reference}）的发票已开具。\n\
         发票号码：{number}\n开票日期：{issued_on}\n价税合计：{amount} 元\n{link_text}\n如有疑问，请致电客服热线。\n"
    );
    let html = shell(
        &subject,
        html! {
            p { (title) "，您好：" }
            p { "您的数字证书介质遗失补办申请（网厅编号 " strong { (hall_reference) } "）的发票已开具。" }
            p { "发票号码：" strong { (number) } br; "开票日期：" (issued_on) br; "价税合计：" (amount) " 元" }
            @if let Some(l) = link {
                p { a href=(l) { "下载发票" } }
            } @else {
                p { "您可登录个人所得税 App 或电子发票服务平台查询下载。" }
            }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// Who claimed a row, as the lists show it.
fn claimer(r: &DueRow) -> &str {
    r.claimed_by
        .as_deref()
        .map(|c| c.trim_start_matches("staff:"))
        .unwrap_or("未认领")
}

fn rows_text(base: &str, rows: &[DueRow]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "  {}  {}  期限 {}  {}  {base}/review/{}\n",
                r.application_id,
                r.applicant_name,
                time(r.review_due_at),
                claimer(r),
                r.application_id
            )
        })
        .collect()
}

fn rows_html(base: &str, rows: &[DueRow]) -> Markup {
    html! {
        table style="border-collapse: collapse" {
            tr { th align="left" { "受理编号" } th align="left" { "申请人" } th align="left" { "审核期限" } th align="left" { "认领人" } }
            @for r in rows {
                tr {
                    td { a href=(format!("{base}/review/{}", r.application_id)) { (r.application_id) } }
                    td { (r.applicant_name) }
                    td { (time(r.review_due_at)) }
                    td { (claimer(r)) }
                }
            }
        }
    }
}

/// A list of due applications: the greeting (to a named person), the line saying what the list
/// is, and the rows, as text and as HTML.
fn due_list(
    subject: String,
    greeting: Option<&str>,
    intro: &str,
    base: &str,
    rows: &[DueRow],
) -> Mail {
    let hello = greeting
        .map(|n| format!("{n}，您好：\n\n"))
        .unwrap_or_default();
    let text = format!("{hello}{intro}\n\n{}", rows_text(base, rows));
    let html = shell(
        &subject,
        html! {
            @if let Some(n) = greeting { p { (n) "，您好：" } }
            p { (intro) }
            (rows_html(base, rows))
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To a supervisor: one application passed its deadline undecided.
pub fn escalation(base: &str, row: &DueRow) -> Mail {
    due_list(
        format!("【超期】补办申请 {} 已超过审核期限", row.application_id),
        None,
        "以下申请已超过三个工作日审核期限仍未处理，请安排跟进：",
        base,
        std::slice::from_ref(row),
    )
}

/// To a supervisor at 14:00 on a deadline day: what is due today and still undecided.
pub fn deadline_warning(base: &str, day: &str, rows: &[DueRow]) -> Mail {
    due_list(
        format!(
            "【今日到期】{day} 有 {} 件补办申请今日 18:00 到期",
            rows.len()
        ),
        None,
        "以下申请今日 18:00 审核到期，尚未处理：",
        base,
        rows,
    )
}

/// To a reviewer at 09:00: their claimed applications due today and tomorrow (and overdue).
pub fn reviewer_digest(base: &str, day: &str, name: &str, rows: &[DueRow]) -> Mail {
    due_list(
        format!(
            "【审核提醒】{day} 您认领的 {} 件申请今明两天到期",
            rows.len()
        ),
        Some(name),
        "您认领的以下申请将于今明两天到期（含已超期）：",
        base,
        rows,
    )
}

/// To the team address at 09:00: unclaimed applications by deadline.
pub fn team_digest(base: &str, day: &str, rows: &[DueRow]) -> Mail {
    due_list(
        format!("【待认领】{day} 共 {} 件补办申请尚未认领", rows.len()),
        None,
        "以下申请尚未认领，按审核期限排序：",
        base,
        rows,
    )
}

/// To a colleague mentioned in an internal note: who, on which application, and the link.
/// Not the note's text (it may quote the applicant), nor anything else of the applicant.
pub fn note_mention(base: &str, author: &str, application_id: &str) -> Mail {
    let subject = format!("【内部备注】{author} 在申请 {application_id} 中提到了您");
    let link = format!("{base}/review/{application_id}");
    let text = format!(
        "{author} 在申请 {application_id} 的内部备注中提到了您，请登录后台查看：\n{link}\n\n也可在后台“提及我的”中查看所有提及。"
    );
    let html = shell(
        &subject,
        html! {
            p { (author) " 在申请 " a href=(link) { (application_id) } " 的内部备注中提到了您。" }
            p { "也可在后台“提及我的”中查看所有提及。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// To a supervisor: a hotline agent reached the hourly look-up limit.
pub fn hotline_throttled(agent: &str, when: &str, limit: i64) -> Mail {
    let subject = format!("【客服查询限额】{agent} 本小时查询次数已达上限");
    let text = format!(
        "客服 {agent} 在 {when} 所在小时内的查询次数已达上限（{limit} 次），后续查询已被拒绝。请核实是否存在异常查询。"
    );
    let html = shell(&subject, html! { p { (text) } });
    Mail {
        subject,
        text,
        html,
    }
}

/// Rows a report's e-mail lists; the xlsx behind its link has them all.
pub const MAIL_ROWS: usize = 200;

/// A report as an e-mail: the table (the first `MAIL_ROWS` of `total` rows, saying so when there
/// are more), the totals of all of them, and the link to the whole xlsx.
pub fn report_mail(
    l: &ReportLayout,
    (rows, total): (&[Row], i64),
    totals: &HashMap<String, Value>,
    link: &str,
) -> Mail {
    let title = l.title.clone().unwrap_or_else(|| l.sheet.clone());
    let more = (total > MAIL_ROWS as i64)
        .then(|| format!("共 {total} 行，邮件列出前 {MAIL_ROWS} 行，完整内容见 xlsx。"));
    let mut text = format!("{title}\n\n完整报表（xlsx，需登录）：{link}\n\n");
    if let Some(m) = &more {
        text.push_str(&format!("{m}\n\n"));
    }
    text.push_str(
        &l.columns
            .iter()
            .map(|c| c.header.as_str())
            .collect::<Vec<_>>()
            .join("\t"),
    );
    text.push('\n');
    for r in rows.iter().take(MAIL_ROWS) {
        let line: Vec<String> = l
            .columns
            .iter()
            .map(|c| reports::display(r.get(c.field.as_str()).unwrap_or(&Value::Empty)))
            .collect();
        text.push_str(&line.join("\t"));
        text.push('\n');
    }
    let body = html! {
        h2 { (title) }
        p { a href=(link) { "下载完整报表（xlsx）" } }
        @if let Some(m) = &more { p { (m) } }
        table border="1" cellpadding="4" style="border-collapse:collapse" {
            thead { tr { @for c in &l.columns { th { (c.header) } } } }
            tbody { @for r in rows.iter().take(MAIL_ROWS) { tr { @for c in &l.columns { td { (reports::display(r.get(c.field.as_str()).unwrap_or(&Value::Empty))) } } } } }
            @if !totals.is_empty() {
                tfoot { tr { @for (i, c) in l.columns.iter().enumerate() { td { strong { @match totals.get(&c.field) { Some(v) => (reports::display(v)), None => (if i == 0 { "合计" } else { "" }) } } } } } }
            }
        }
    };
    Mail {
        text,
        html: shell(&title, body),
        subject: title,
    }
}

/// To the auditor: the audit trail's latest anchor, to be kept as an outside witness.
pub fn audit_anchor(
    anchor: &crate::domain::audit::Anchor,
    sent_by: &str,
    public_url: &str,
) -> Mail {
    let subject = format!(
        "审计日志锚点 {}（截至第 {} 条）",
        anchor.day, anchor.last_pos
    );
    let text = format!(
        "审计员您好：\n\n以下是证书补办后台审计日志哈希链的最新锚点，请妥善留存，以便日后核对日志未被篡改。\n\n\
         日期（北京时间）：{}\n链上位置：{}–{}（当日 {} 条）\n最后一条记录的哈希（SHA-256）：{}\n\n\
         发送人：{sent_by}\n系统：{public_url}\n\n核对方法：在系统上运行 verify-audit，并确认该日锚点的哈希与本邮件一致。\n",
        anchor.day, anchor.first_pos, anchor.last_pos, anchor.records, anchor.last_hash
    );
    let html = shell(
        &subject,
        html! {
            p { "审计员您好：" }
            p { "以下是证书补办后台审计日志哈希链的最新锚点，请妥善留存，以便日后核对日志未被篡改。" }
            table {
                tr { td { "日期（北京时间）" } td { (anchor.day) } }
                tr { td { "链上位置" } td { (anchor.first_pos) "–" (anchor.last_pos) "（当日 " (anchor.records) " 条）" } }
                tr { td { "最后一条记录的哈希（SHA-256）" } td { code { (anchor.last_hash) } } }
            }
            p { "发送人：" (sent_by) " · 系统：" (public_url) }
            p { "核对方法：在系统上运行 verify-audit，并确认该日锚点的哈希与本邮件一致。" }
        },
    );
    Mail {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_report_says_the_mail_lists_only_its_first_rows() {
        let l = ReportLayout::named("shipment-register", None).unwrap();
        let row: Row = HashMap::from([("order_no", Value::Text("WT1".into()))]);
        let rows = vec![row; MAIL_ROWS];
        let totals = HashMap::from([("count".to_owned(), Value::Int(5_000))]);
        let m = report_mail(&l, (&rows, 5_000), &totals, "https://x/r.xlsx");
        assert!(
            m.text.contains("共 5000 行，邮件列出前 200 行"),
            "{}",
            m.text
        );
        assert!(m.html.contains("<strong>5000</strong>"), "{}", m.html);
        let m = report_mail(&l, (&rows[..3], 3), &totals, "https://x/r.xlsx");
        assert!(!m.text.contains("邮件列出前"));
    }
}
