//! Returns by part on the review page: the part picker beside each reason of the return form,
//! and, on a resubmission, per returned part the reasons and what came back (old and new).

use super::layout::PageCtx;
use crate::domain::{returned_part::Part, scan::ScanKind};
use crate::storage::{
    applications::{ReturnedPart, ScanRef},
    reasons::ReasonRow,
};
use maud::{Markup, html};
use serde_json::Value;

/// A part's name in the page's language.
pub fn part_label(ctx: &PageCtx, p: Part) -> &'static str {
    ctx.t(p.label_zh(), p.label_en())
}

/// The select beside a reason: general, or one of the parts; the catalogue's default chosen.
/// Each option is `<code>=<part>` (`<code>=`: general), so one form field carries every pick.
pub fn part_select(ctx: &PageCtx, r: &ReasonRow) -> Markup {
    html! {
        select.part name="parts"
            aria-label=(format!("{}：{}", ctx.t("退回部位", "Part to redo"), r.text_shown)) {
            option value=(format!("{}=", r.code)) selected[r.default_part.is_none()] {
                (ctx.t("通用（不指定部位）", "General (no part)"))
            }
            @for p in Part::all() {
                option value=(format!("{}={}", r.code, p.code())) selected[r.default_part == Some(p)] {
                    (part_label(ctx, p))
                }
            }
        }
    }
}

/// The admin's select of a reason's default part (`default_part`; empty: general).
pub fn default_part_select(ctx: &PageCtx, current: Option<Part>, label: &str) -> Markup {
    html! {
        select name="default_part" aria-label=(label) {
            option value="" selected[current.is_none()] { (ctx.t("通用（不指定部位）", "General (no part)")) }
            @for p in Part::all() {
                option value=(p.code()) selected[current == Some(p)] { (part_label(ctx, p)) " · " (p.code()) }
            }
        }
    }
}

/// A field's value as the reviewer reads it: an object's fields joined, `—` for none.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        // In the order the hall's form has them (the map itself is sorted by key).
        Value::Object(m) => {
            const ORDER: [&str; 10] = [
                "recipient",
                "mobile",
                "province",
                "city",
                "district",
                "detail",
                "postcode",
                "title",
                "tax_id",
                "email",
            ];
            let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
            let mut fields: Vec<(&String, &Value)> =
                m.iter().filter(|(_, v)| !v.is_null()).collect();
            fields.sort_by_key(|(k, _)| rank(k));
            let parts: Vec<String> = fields.into_iter().map(|(_, v)| shown(v)).collect();
            parts.join(" · ")
        }
        other => other.to_string(),
    }
}

fn scan(scans: &[ScanRef], k: ScanKind) -> Option<&ScanRef> {
    scans.iter().find(|s| s.kind == k)
}

/// What the table compares: the returned version's and this version's body and scans.
pub struct Comeback<'a> {
    pub id: &'a str,
    pub version: i64,
    pub parts: &'a [ReturnedPart],
    pub before_body: &'a str,
    pub after_body: &'a str,
    pub before_scans: &'a [ScanRef],
    pub after_scans: &'a [ScanRef],
}

/// Per returned part: the reasons, the previous version's and this version's content, and
/// whether it changed (a resubmission is refused unless every returned part did).
pub fn comeback_table(ctx: &PageCtx, c: &Comeback) -> Markup {
    if c.parts.is_empty() {
        return html! {};
    }
    let parse = |b: &str| serde_json::from_str::<Value>(b).unwrap_or(Value::Null);
    let (before, after) = (parse(c.before_body), parse(c.after_body));
    let hash = |s: &ScanRef| s.sha256[..12.min(s.sha256.len())].to_owned();
    // The previous scan beside the new one is the page's compare view (each scan fetch audited).
    let old_scan = |s: Option<&ScanRef>| match s {
        Some(s) => html! {
            code { (hash(s)) } " "
            a href=(format!("/review/{}?compare=1", c.id)) { (ctx.t("并排对比", "compare")) }
        },
        None => html! { "—" },
    };
    let new_scan = |s: Option<&ScanRef>| match s {
        Some(s) => html! {
            a href=(format!("/review/{}/scans/{}/{}", c.id, c.version, s.kind.code())) {
                (ctx.t("第", "version ")) (c.version) (ctx.t(" 版", ""))
            }
            " " code { (hash(s)) }
        },
        None => html! { "—" },
    };
    html! {
        table.grid.returned-parts id="returned-parts" {
            caption { (ctx.t("退回部位与重新提交的内容", "Returned parts and what came back")) }
            thead { tr {
                th scope="col" { (ctx.t("部位", "Part")) }
                th scope="col" { (ctx.t("退回原因", "Reasons")) }
                th scope="col" { (ctx.t("退回时", "When returned")) }
                th scope="col" { (ctx.t("本次提交", "Now")) }
                th scope="col" { (ctx.t("结果", "Outcome")) }
            } }
            tbody {
                @for rp in c.parts {
                    @let (old, new, changed) = match rp.part {
                        Part::Scan(k) => {
                            let (o, n) = (scan(c.before_scans, k), scan(c.after_scans, k));
                            (old_scan(o), new_scan(n), o.map(|s| &s.sha256) != n.map(|s| &s.sha256))
                        }
                        Part::Field(f) => {
                            let (o, n) = (f.value_in(&before), f.value_in(&after));
                            let old = if o != n { html! { del.before { (shown(o)) } } } else { html! { (shown(o)) } };
                            (old, html! { (shown(n)) }, o != n)
                        }
                    };
                    tr.changed[changed] data-part=(rp.part.code()) {
                        th scope="row" { (part_label(ctx, rp.part)) br; small { code { (rp.part.code()) } } }
                        td { ul.plain { @for (code, text) in &rp.reasons { li title=(code) { (text) } } } }
                        td { (old) }
                        td { (new) }
                        td { @if changed { span.badge.ok { (ctx.t("已更改", "changed")) } } @else { span.badge.warn { (ctx.t("未更改", "unchanged")) } } }
                    }
                }
            }
        }
    }
}
