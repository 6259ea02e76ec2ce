//! Administration pages: staff and roles, the return-reason catalogue.

use super::layout::{PageCtx, csrf, page};
use super::texts::role_label;
use crate::auth::ROLES;
use crate::storage::{reasons::ReasonRow, staff::StaffRow};
use maud::{Markup, html};

pub fn users_page(ctx: &PageCtx, users: &[StaffRow], error: Option<&str>) -> Markup {
    let l = ctx.locale;
    let body = html! {
        h1 { (ctx.t("用户与角色", "Users and roles")) }
        @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
        table.grid {
            thead { tr {
                th { (ctx.t("用户名", "Username")) } th { (ctx.t("姓名", "Name")) } th { (ctx.t("邮箱", "E-mail")) }
                th { (ctx.t("角色", "Role")) } th { (ctx.t("状态", "State")) } th { span.visually-hidden { (ctx.t("保存", "Save")) } }
            } }
            tbody {
                @for u in users {
                    tr.disabled[u.disabled] {
                        td { code { (u.username) } } td { (u.display_name) } td { (u.email.as_deref().unwrap_or("—")) }
                        td colspan="3" {
                            form.inline method="post" action=(format!("/admin/users/{}", u.staff_id)) {
                                (csrf(ctx))
                                select name="role" aria-label=(format!("{} {}", ctx.t("角色", "Role"), u.username)) {
                                    @for r in ROLES { option value=(r) selected[*r == u.role] { (role_label(l, r)) } }
                                }
                                label.check { input type="checkbox" name="disabled" value="1" checked[u.disabled]; (ctx.t("停用", "Disabled")) }
                                button type="submit" { (ctx.t("保存", "Save")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("新建用户", "New user")) }
        form.stack method="post" action="/admin/users" {
            (csrf(ctx))
            label { (ctx.t("用户名", "Username")) input name="username" required pattern="[a-z0-9._-]{2,32}"; }
            label { (ctx.t("姓名", "Name")) input name="display_name" required; }
            label { (ctx.t("邮箱", "E-mail")) input type="email" name="email"; }
            label { (ctx.t("角色", "Role")) select name="role" { @for r in ROLES { option value=(r) { (role_label(l, r)) } } } }
            label { (ctx.t("初始密码（至少 10 位）", "Initial password (10 or more)")) input type="password" name="password" minlength="10" required autocomplete="new-password"; }
            button.primary type="submit" { (ctx.t("创建", "Create")) }
        }
    };
    page(ctx, ctx.t("用户与角色", "Users and roles"), body)
}

pub fn reasons_page(ctx: &PageCtx, reasons: &[ReasonRow], error: Option<&str>) -> Markup {
    let body = html! {
        h1 { (ctx.t("退回原因目录", "Return reason catalogue")) }
        @if let Some(e) = error { p.flash.warn role="alert" { (e) } }
        table.grid {
            thead { tr {
                th { (ctx.t("代码", "Code")) } th { (ctx.t("申请人看到的文字", "Text the applicant sees")) }
                th { (ctx.t("内部说明", "Internal note")) } th { (ctx.t("默认部位", "Default part")) } th { (ctx.t("顺序", "Order")) } th { (ctx.t("启用", "Active")) } th { span.visually-hidden { (ctx.t("保存", "Save")) } }
            } }
            tbody {
                @for r in reasons {
                    tr.disabled[!r.active] {
                        td { code { (r.code) } }
                        td colspan="6" {
                            form.inline.reason-edit method="post" action="/admin/reasons" {
                                (csrf(ctx))
                                input type="hidden" name="code" value=(r.code);
                                input.wide name="text_shown" value=(r.text_shown) required
                                    aria-label=(format!("{} {}", ctx.t("申请人看到的文字", "Text the applicant sees"), r.code));
                                input name="internal_note" value=(r.internal_note)
                                    aria-label=(format!("{} {}", ctx.t("内部说明", "Internal note"), r.code));
                                (super::returned_parts::default_part_select(ctx, r.default_part,
                                    &format!("{} {}", ctx.t("默认部位", "Default part"), r.code)))
                                input.num type="number" name="position" value=(r.position)
                                    aria-label=(format!("{} {}", ctx.t("顺序", "Order"), r.code));
                                label.check { input type="checkbox" name="active" value="1" checked[r.active]
                                    aria-label=(format!("{} {}", ctx.t("启用", "Active"), r.code)); }
                                button type="submit" { (ctx.t("保存", "Save")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("新增原因", "New reason")) }
        form.stack method="post" action="/admin/reasons" {
            (csrf(ctx))
            label { (ctx.t("代码（小写字母、数字、下划线）", "Code (lower-case letters, digits, _)")) input name="code" required pattern="[a-z0-9_]{2,40}"; }
            label { (ctx.t("申请人看到的文字", "Text the applicant sees")) input name="text_shown" required; }
            label { (ctx.t("内部说明", "Internal note")) input name="internal_note"; }
            label { (ctx.t("默认部位（退回时预选，审核员可改）", "Default part (preselected when returning; the reviewer may pick another)"))
                (super::returned_parts::default_part_select(ctx, None, ctx.t("默认部位", "Default part"))) }
            label { (ctx.t("顺序", "Order")) input type="number" name="position" value="200"; }
            input type="hidden" name="active" value="1";
            button.primary type="submit" { (ctx.t("新增", "Add")) }
        }
    };
    page(ctx, ctx.t("退回原因目录", "Return reasons"), body)
}

/// What the audit page shows: the latest anchor of the hash chain and where it can be sent.
pub struct AuditFigures<'a> {
    pub anchor: Option<&'a crate::domain::audit::Anchor>,
    pub total: i64,
    pub unsealed: i64,
    pub auditor: Option<&'a str>,
}

/// The audit trail's latest anchor, to be written down or e-mailed to the auditor.
pub fn audit_page(ctx: &PageCtx, f: &AuditFigures<'_>) -> Markup {
    let body = html! {
        h1 { (ctx.t("审计日志锚点", "Audit trail anchor")) }
        p.hint { (ctx.t("每条审计记录都带有前一条记录的哈希；每个北京日的最后一条记录的哈希即当日锚点。把锚点抄下或发给外部审计员留存，日后运行 verify-audit 即可证明此前的记录未被改动、删除或调换。",
                        "Each audit record carries the hash of the one before; the hash of each Beijing day's last record is that day's anchor. Write it down or send it to an outside auditor: verify-audit then proves that no earlier record was edited, deleted or reordered.")) }
        @match f.anchor {
            Some(a) => {
                table.grid.anchor {
                    tbody {
                        tr { th { (ctx.t("日期（北京时间）", "Day (Beijing)")) } td #anchor-day { (a.day) } }
                        tr { th { (ctx.t("链上位置", "Positions")) } td { (a.first_pos) "–" (a.last_pos) } }
                        tr { th { (ctx.t("当日记录数", "Records that day")) } td { (a.records) } }
                        tr { th { (ctx.t("锚点哈希（SHA-256）", "Anchor hash (SHA-256)")) } td { code #anchor-hash { (a.last_hash) } } }
                    }
                }
            }
            None => p.empty { (ctx.t("尚无已封存的审计记录。", "No audit record is sealed yet.")) }
        }
        p { (ctx.t("链上记录", "Records in the chain")) " " strong { (f.total) } " · "
            (ctx.t("待封存（每 5 秒封存一次）", "Waiting to be sealed (every 5 seconds)")) " " strong { (f.unsealed) } }
        @match f.auditor {
            Some(to) => @if f.anchor.is_some() {
                form method="post" action="/admin/audit/anchor-mail" {
                    (csrf(ctx))
                    button type="submit" { (ctx.t("发送锚点给审计员", "E-mail the anchor to the auditor")) " (" (to) ")" }
                }
            },
            None => p.hint { (ctx.t("未配置审计员邮箱（BACKOFFICE_AUDITOR_EMAIL），无法发送。", "No auditor address is configured (BACKOFFICE_AUDITOR_EMAIL).")) }
        }
    };
    page(ctx, ctx.t("审计日志锚点", "Audit trail anchor"), body)
}
