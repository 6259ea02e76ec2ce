//! The API clients page (admins): every token with its limits (editable), when it was last
//! used, and its requests, errors and refusals per day over the last week.

use super::components::time;
use super::layout::{PageCtx, csrf, page};
use crate::storage::tokens::{ApiClientRow, UsageRow};
use crate::storage::webhooks::EndpointRow;
use maud::{Markup, html};

pub fn api_clients_page(
    ctx: &PageCtx,
    clients: &[ApiClientRow],
    usage: &[UsageRow],
    days: &[String],
    endpoints: &[EndpointRow],
    error: Option<&str>,
) -> Markup {
    let on = |token: i64, day: &str| usage.iter().find(|u| u.token_id == token && u.day == day);
    let body = html! {
        h1 { (ctx.t("接口客户端", "API clients")) }
        @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
        p { (ctx.t("每个令牌的限额：每分钟请求数（可突发十秒的量）、同时上传数、请求体最大字节数。超出时返回 429（带 Retry-After）或 413。",
                   "Each token's limits: requests a minute (a burst of ten seconds' worth), uploads at once, largest body in bytes. Over them the client gets 429 (with Retry-After) or 413.")) }
        table.grid.api-clients {
            thead { tr {
                th { (ctx.t("客户端", "Client")) } th { "#" } th { (ctx.t("创建", "Created")) }
                th { (ctx.t("状态", "State")) } th { (ctx.t("最近使用", "Last used")) }
                th { (ctx.t("限额", "Limits")) }
                th { "Webhook" }
            } }
            tbody {
                @for c in clients {
                    tr.disabled[c.revoked_at.is_some()] {
                        td { (c.name) }
                        td { (c.token_id) }
                        td { (time(c.created_at)) }
                        td { @if c.revoked_at.is_some() { (ctx.t("已吊销", "revoked")) } @else { (ctx.t("有效", "active")) } }
                        td { @match c.last_used_at { Some(t) => (time(t)), None => "—" } }
                        td {
                            form.inline method="post" action={ "/admin/api-clients/" (c.token_id) } {
                                (csrf(ctx))
                                label { (ctx.t("每分钟", "Per minute")) " " input.num type="number" name="rate_per_minute" value=(c.rate_per_minute) min="1" max="100000" required; }
                                label { (ctx.t("同时上传", "Uploads at once")) " " input.num type="number" name="max_concurrent_uploads" value=(c.max_concurrent_uploads) min="1" max="1000" required; }
                                label { (ctx.t("请求体字节", "Body bytes")) " " input.num type="number" name="max_body_bytes" value=(c.max_body_bytes) min="1024" max="1073741824" required; }
                                button type="submit" { (ctx.t("保存", "Save")) }
                            }
                        }
                        td {
                            a href={ "/admin/api-clients/" (c.token_id) "/deliveries" } {
                                @match endpoints.iter().find(|e| e.client == c.name) {
                                    Some(e) => (e.url),
                                    None => (ctx.t("设置推送地址", "Set an endpoint")),
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("每日使用（请求 / 错误 / 被限）", "Use per day (requests / errors / refused by a limit)")) }
        table.grid.api-usage {
            thead { tr {
                th { (ctx.t("客户端", "Client")) }
                @for d in days { th { (d) } }
            } }
            tbody {
                @for c in clients {
                    tr {
                        td { (c.name) " #" (c.token_id) }
                        @for d in days {
                            td.num {
                                @match on(c.token_id, d) {
                                    Some(u) => { (u.requests) " / " (u.errors) " / " (u.limited) }
                                    None => "—",
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(ctx, ctx.t("接口客户端", "API clients"), body)
}
