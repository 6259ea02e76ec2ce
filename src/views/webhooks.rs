//! One API client's webhook (admins): its endpoint and secret (shown once, when made), the
//! rotation with its overlap, and the deliveries with every attempt's answer and a button to
//! send one again.

use super::components::time;
use super::layout::{PageCtx, csrf, page};
use crate::storage::webhooks::{AttemptRow, DeliveryRow, EndpointRow};
use maud::{Markup, html};

pub struct WebhookPage<'a> {
    pub token_id: i64,
    pub client: &'a str,
    pub endpoint: Option<&'a EndpointRow>,
    pub deliveries: &'a [DeliveryRow],
    pub attempts: &'a [AttemptRow],
    /// A secret just made: shown this once.
    pub new_secret: Option<&'a str>,
    pub error: Option<&'a str>,
    pub now: i64,
    pub overlap_hours: i64,
}

fn status_label(ctx: &PageCtx, s: &str) -> &'static str {
    match s {
        "delivered" => ctx.t("已送达", "delivered"),
        "parked" => ctx.t("已搁置", "parked"),
        _ => ctx.t("等待发送", "waiting"),
    }
}

fn endpoint_form(ctx: &PageCtx, p: &WebhookPage<'_>) -> Markup {
    let action = format!("/admin/api-clients/{}/webhook", p.token_id);
    html! {
        form.stack method="post" action=(action) {
            (csrf(ctx))
            label { (ctx.t("推送地址（https://）", "Endpoint (https://)")) " "
                input type="url" name="url" size="60" maxlength="2000" required
                    value=[p.endpoint.map(|e| e.url.as_str())]; }
            button type="submit" name="action" value="save" { (ctx.t("保存地址", "Save the endpoint")) }
        }
        @if let Some(ep) = p.endpoint {
            p { (ctx.t("签名密钥已设置（", "A signing secret is set (")) (time(ep.updated_at)) (ctx.t("）；密钥只在生成时显示一次。", "); a secret is shown only when it is made.")) }
            @if let (Some(_), Some(until)) = (&ep.previous_secret, ep.previous_until) {
                @if until > p.now {
                    p.flash.warn { (ctx.t("轮换过渡期：旧密钥同时签名，直至 ", "Rotation overlap: the previous secret signs too until ")) (time(until)) }
                }
            }
            form.inline method="post" action=(action) {
                (csrf(ctx))
                input type="hidden" name="url" value=(ep.url);
                button type="submit" name="action" value="rotate" {
                    (ctx.t("轮换密钥", "Rotate the secret")) " (" (p.overlap_hours) (ctx.t(" 小时内新旧密钥同时签名)", " h with both signing)"))
                }
                " "
                button type="submit" name="action" value="remove" { (ctx.t("删除推送地址", "Remove the endpoint")) }
            }
        }
    }
}

fn attempts_of(ctx: &PageCtx, attempts: &[&AttemptRow]) -> Markup {
    html! {
        @if attempts.is_empty() { "—" } @else {
            details {
                summary { (attempts.len()) (ctx.t(" 次尝试", " attempts")) }
                ol.attempts {
                    @for a in attempts {
                        li {
                            (time(a.at)) " · "
                            @match a.http_status { Some(s) => { "HTTP " (s) }, None => { (ctx.t("无应答", "no answer")) } }
                            " · " (a.duration_ms) " ms"
                            @if let Some(e) = &a.error { " · " code { (e) } }
                            @if let Some(b) = &a.body_head { br; code.body-head { (b) } }
                        }
                    }
                }
            }
        }
    }
}

pub fn webhook_page(ctx: &PageCtx, p: &WebhookPage<'_>) -> Markup {
    let body = html! {
        h1 { "Webhook · " (p.client) }
        p { a href="/admin/api-clients" { (ctx.t("← 接口客户端", "← API clients")) } }
        @if let Some(e) = p.error { p.flash.warn role="alert" { (e) } }
        @if let Some(s) = p.new_secret {
            div.flash.ok role="status" {
                p { (ctx.t("新的签名密钥（只显示这一次，请立即交给客户端保存）：", "The new signing secret (shown this once: hand it to the client now):")) }
                p { code.secret { (s) } }
            }
        }
        p { (ctx.t("每次申请状态变化（以大厅查询接口所见为准）和每张发票开具时，向该地址 POST 一个 JSON 事件，按 Standard Webhooks 规范签名（webhook-id、webhook-timestamp、webhook-signature）。失败按指数退避重试，多次失败后搁置。",
                   "Each status change (as the hall's status query shows it) and each invoice issued is POSTed to this endpoint as a JSON event, signed as Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature). Failures are retried with a doubling backoff and parked after several.")) }
        (endpoint_form(ctx, p))
        h2 { (ctx.t("推送记录", "Deliveries")) }
        table.grid.webhook-deliveries {
            thead { tr {
                th { "#" } th { (ctx.t("事件", "Event")) } th { (ctx.t("申请", "Application")) }
                th { (ctx.t("产生", "Queued")) } th { (ctx.t("状态", "State")) }
                th { (ctx.t("最近应答", "Last answer")) } th { (ctx.t("尝试", "Attempts")) } th {}
            } }
            tbody {
                @for d in p.deliveries {
                    @let tried: Vec<&AttemptRow> = p.attempts.iter().filter(|a| a.delivery_id == d.delivery_id).collect();
                    tr class={ "delivery-" (d.status) } {
                        td { (d.delivery_id) }
                        td { (d.event_type) br; small { code { (d.event_id) } } }
                        td { @if let Some(a) = &d.application_id { (a) } }
                        td { (time(d.created_at)) }
                        td {
                            (status_label(ctx, &d.status))
                            @if d.status == "pending" && d.attempts > 0 { br; small { (ctx.t("下次 ", "next ")) (time(d.next_attempt_at)) } }
                        }
                        td {
                            @if let Some(s) = d.last_status { "HTTP " (s) " " }
                            @if let Some(e) = &d.last_error { code { (e) } }
                        }
                        td { (attempts_of(ctx, &tried)) }
                        td {
                            @if d.status != "pending" {
                                form.inline method="post" action={ "/admin/webhook-deliveries/" (d.delivery_id) "/resend" } {
                                    (csrf(ctx))
                                    button type="submit" { (ctx.t("重新发送", "Send again")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if p.deliveries.is_empty() { p { (ctx.t("尚无推送。", "Nothing sent yet.")) } }
    };
    page(ctx, ctx.t("Webhook 推送", "Webhook deliveries"), body)
}
