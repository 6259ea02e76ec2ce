//! The one page shell: the navigation for the member's role, the message line, the request id.

use super::texts::{Locale, message, role_label};
use maud::{DOCTYPE, Markup, html};

/// The signed-in member as pages show them.
#[derive(Clone, Debug)]
pub struct Member {
    pub username: String,
    pub display_name: String,
    pub role: String,
}

/// What every page needs besides its own data.
#[derive(Clone, Debug, Default)]
pub struct PageCtx {
    pub locale: Locale,
    pub member: Option<Member>,
    pub csrf: String,
    pub path: String,
    pub request_id: String,
    /// `?msg=` code from a redirect.
    pub msg: Option<String>,
    /// Unread mentions of a member of the review desk (the inbox link's count).
    pub unread: Option<i64>,
}

impl PageCtx {
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.locale.t(zh, en)
    }
    pub fn role(&self) -> &str {
        self.member
            .as_ref()
            .map(|m| m.role.as_str())
            .unwrap_or("anonymous")
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(ctx: &PageCtx) -> Markup {
    html! { input type="hidden" name="_csrf" value=(ctx.csrf); }
}

fn nav(ctx: &PageCtx) -> Markup {
    let l = ctx.locale;
    let links: Vec<(&str, &str)> = match ctx.role() {
        "reviewer" => vec![("/review", l.t("审核队列", "Review queue"))],
        "supervisor" => vec![
            ("/review", l.t("审核队列", "Review queue")),
            ("/supervision", l.t("运营监督", "Supervision")),
            ("/supervision/assignment", l.t("自动分配", "Assignment")),
            ("/sla", l.t("审核时效", "SLA")),
            ("/finance/exceptions", l.t("财务对账", "Finance")),
            ("/fulfilment", l.t("制作与寄送", "Fulfilment")),
            ("/revocations", l.t("证书吊销", "Revocations")),
            ("/hotline-lookups", l.t("客服查询统计", "Hotline look-ups")),
            ("/admin/reasons", l.t("退回原因", "Return reasons")),
        ],
        "admin" => vec![
            ("/admin/users", l.t("用户与角色", "Users and roles")),
            ("/admin/reasons", l.t("退回原因", "Return reasons")),
            ("/admin/calendar", l.t("工作日历", "Calendar")),
            ("/admin/four-eyes", l.t("双人复核", "Four eyes")),
            ("/admin/outbox", l.t("邮件队列", "Outbox")),
            ("/admin/audit", l.t("审计锚点", "Audit anchor")),
            ("/supervision", l.t("运营监督", "Supervision")),
            ("/sla", l.t("审核时效", "SLA")),
            ("/finance/exceptions", l.t("财务对账", "Finance")),
            ("/revocations", l.t("证书吊销", "Revocations")),
        ],
        "hotline" => vec![("/hotline", l.t("客服查询", "Look-up"))],
        "finance" => vec![("/finance/exceptions", l.t("财务对账", "Finance"))],
        "fulfillment" => vec![
            ("/fulfilment", l.t("制作与寄送", "Fulfilment")),
            ("/fulfilment/batches", l.t("快递批次", "Courier batches")),
            ("/revocations", l.t("证书吊销", "Revocations")),
        ],
        _ => vec![],
    };
    // The longest link the path falls under is the page's (`/supervision/assignment` is not also
    // `/supervision`).
    let current = links
        .iter()
        .map(|(href, _)| *href)
        .filter(|href| ctx.path.starts_with(href))
        .max_by_key(|href| href.len());
    html! {
        nav.top {
            a.brand href="/" { (l.t("证书补办后台", "Replacement back office")) }
            @for (href, label) in &links {
                a.navlink.active[current == Some(*href)] href=(href) { (label) }
            }
            @if let Some(n) = ctx.unread {
                a.navlink.active[ctx.path.starts_with("/inbox")] href="/inbox" {
                    (l.t("提及我的", "Mentions"))
                    @if n > 0 { " " span.badge.warn { (n) span.visually-hidden { (l.t("条未读", " unread")) } } }
                }
            }
            span.spacer {}
            form.inline method="post" action="/locale" {
                (csrf(ctx))
                input type="hidden" name="next" value=(ctx.path);
                @if l == Locale::Zh {
                    button.linkish name="locale" value="en" { "English" }
                } @else {
                    button.linkish name="locale" value="zh" { "中文" }
                }
            }
            @if let Some(m) = &ctx.member {
                span.who { (m.display_name) " · " (role_label(l, &m.role)) }
                a.navlink href="/account/password" { (l.t("修改密码", "Password")) }
                form.inline method="post" action="/logout" {
                    (csrf(ctx))
                    button.linkish type="submit" { (l.t("退出", "Sign out")) }
                }
            }
        }
    }
}

pub fn page(ctx: &PageCtx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.locale.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t("证书补办后台", "Replacement back office")) }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                (nav(ctx))
                main {
                    @if let Some((kind, text)) = ctx.msg.as_deref().and_then(|m| message(ctx.locale, m)) {
                        p.flash.(kind) role="status" { (text) }
                    }
                    (body)
                }
                footer { (ctx.t("请求编号", "Request id")) " " code { (ctx.request_id) } }
            }
        }
    }
}

/// An error page: what went wrong in the member's words, and the id to quote for failures.
pub fn error_page(ctx: &PageCtx, status: u16, text: &str) -> Markup {
    let body = html! {
        section.error {
            h1 { (status) }
            p { (text) }
            @if status >= 500 {
                p { (ctx.t("请把编号", "Please give the administrator the id")) " " code { (ctx.request_id) } " " (ctx.t("告诉管理员。", "")) }
            }
            p { a href="/" { (ctx.t("返回首页", "Back to the start page")) } }
        }
    };
    page(ctx, &status.to_string(), body)
}
