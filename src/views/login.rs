//! The sign-in page and the change-password page.

use super::layout::{PageCtx, csrf, page};
use maud::{Markup, html};

pub fn login_page(ctx: &PageCtx, username: &str, next: &str, error: Option<&str>) -> Markup {
    let body = html! {
        section.login {
            h1 { (ctx.t("工作人员登录", "Staff sign-in")) }
            @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
            form method="post" action="/login" {
                (csrf(ctx))
                input type="hidden" name="next" value=(next);
                label { (ctx.t("用户名", "Username")) input name="username" value=(username) autocomplete="username" required autofocus; }
                label { (ctx.t("密码", "Password")) input type="password" name="password" autocomplete="current-password" required; }
                button.primary type="submit" { (ctx.t("登录", "Sign in")) }
            }
        }
    };
    page(ctx, ctx.t("登录", "Sign in"), body)
}

pub fn password_page(ctx: &PageCtx, error: Option<&str>) -> Markup {
    let body = html! {
        section.login {
            h1 { (ctx.t("修改密码", "Change password")) }
            @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
            form method="post" action="/account/password" {
                (csrf(ctx))
                label { (ctx.t("当前密码", "Current password")) input type="password" name="current" autocomplete="current-password" required; }
                label { (ctx.t("新密码（至少 10 位）", "New password (10 characters or more)")) input type="password" name="new" autocomplete="new-password" minlength="10" required; }
                label { (ctx.t("再次输入新密码", "New password again")) input type="password" name="confirm" autocomplete="new-password" minlength="10" required; }
                button.primary type="submit" { (ctx.t("保存", "Save")) }
            }
        }
    };
    page(ctx, ctx.t("修改密码", "Change password"), body)
}
