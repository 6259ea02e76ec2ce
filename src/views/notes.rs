//! Internal notes on the application page, and the member's inbox of notes that mention them.

use super::components::time;
use super::layout::{PageCtx, csrf, page};
use super::review::who;
use crate::domain::mentions::{NOTE_MAX_CHARS, Piece, pieces};
use crate::storage::mentions::{InboxRow, NoteRow};
use maud::{Markup, html};

/// A note's text with its mentions marked: those that reached a colleague, and those that
/// matched nobody (left as text, shown as not found).
fn note_text(ctx: &PageCtx, n: &NoteRow) -> Markup {
    let author = who(&n.author);
    html! {
        @for p in pieces(&n.body) {
            @match p {
                Piece::Text(t) => { (t) }
                Piece::Mention(name) => {
                    @if n.reached(name) || name == author {
                        strong.mention { "@" (name) }
                    } @else {
                        span.mention.unresolved { "@" (name) small { (ctx.t("（未找到此同事，未通知）", " (no such colleague; nobody told)")) } }
                    }
                }
            }
        }
    }
}

/// The notes of an application, oldest first, and the form adding one.
pub fn section(ctx: &PageCtx, id: &str, notes: &[NoteRow]) -> Markup {
    html! {
        section.notes id="notes" {
            h2 { (ctx.t("内部备注", "Internal notes")) }
            p.hint { (ctx.t("仅内部可见：不会出现在网厅查询或发给申请人的邮件中。用 @用户名 提及同事，对方会在“提及我的”中看到并收到邮件。", "Staff only: never shown to the hall or in the applicant's mails. Mention a colleague with @username: they see it under Mentions and get an e-mail.")) }
            @if !notes.is_empty() {
                ol.notes {
                    @for n in notes {
                        li id=(format!("note-{}", n.note_id)) {
                            span.when { (time(n.created_at)) } " " span.actor { (who(&n.author)) } "： "
                            span.body { (note_text(ctx, n)) }
                        }
                    }
                }
            }
            form method="post" action=(format!("/review/{id}/notes")) {
                (csrf(ctx))
                label { (ctx.t("新增备注", "New note")) " "
                    textarea name="note" rows="2" maxlength=(NOTE_MAX_CHARS) required {}
                }
                button type="submit" { (ctx.t("添加备注", "Add note")) }
            }
        }
    }
}

/// The member's mentions, newest first: unread ones marked, each with its "read" button.
/// `cut`: older mentions exist beyond the rows shown (the page says so).
pub fn inbox_page(ctx: &PageCtx, rows: &[InboxRow], cut: bool) -> Markup {
    let body = html! {
        div.toolbar {
            h1 { (ctx.t("提及我的", "Mentions")) }
            @if rows.iter().any(|r| r.read_at.is_none()) {
                form.inline method="post" action="/inbox/read" {
                    (csrf(ctx))
                    button type="submit" { (ctx.t("全部标为已读", "Mark all read")) }
                }
            }
        }
        table.grid.inbox {
            thead { tr {
                th { (ctx.t("时间", "When")) }
                th { (ctx.t("申请", "Application")) }
                th { (ctx.t("提及人", "By")) }
                th { (ctx.t("备注", "Note")) }
                th { (ctx.t("状态", "State")) }
            } }
            tbody {
                @for r in rows {
                    tr.unread[r.read_at.is_none()] {
                        td { (time(r.created_at)) }
                        td { a href=(format!("/review/{}#notes", r.application_id)) { code { (r.application_id) } } }
                        td { (who(&r.author)) }
                        td { (r.body.chars().take(200).collect::<String>()) }
                        td {
                            @if r.read_at.is_some() { (ctx.t("已读", "read")) }
                            @else {
                                form.inline method="post" action="/inbox/read" {
                                    (csrf(ctx))
                                    input type="hidden" name="mention" value=(r.mention_id);
                                    button type="submit" { (ctx.t("标为已读", "Mark read")) }
                                }
                            }
                        }
                    }
                }
                @if rows.is_empty() {
                    tr { td.empty colspan="5" { (ctx.t("还没有同事在备注中提到您。", "Nobody has mentioned you in a note yet.")) } }
                }
            }
        }
        @if cut {
            p.flash.warn id="inbox-cut" { (ctx.t("仅显示最新的 200 条提及；更早的未列出。", "The newest 200 mentions are shown; older ones are not listed.")) }
        }
    };
    page(ctx, ctx.t("提及我的", "Mentions"), body)
}
