//! The machine pre-checks as the review page shows them beside each scan (the region read
//! outlined over the image, a turned scan shown upright), and the supervisors' precision page.

use super::layout::{PageCtx, csrf, page};
use crate::domain::precheck::Region;
use crate::storage::prechecks::{FindingRow, PrecisionRow};
use maud::{Markup, html};

/// The clockwise turn that shows a scan upright, from its findings (0 when none).
pub fn rotation(rows: &[FindingRow], kind: &str) -> u16 {
    rows.iter()
        .find(|r| r.kind == kind && r.check_name == "rotation")
        .and_then(|r| r.detail.as_deref()?.parse().ok())
        .filter(|d| [90, 180, 270].contains(d))
        .unwrap_or(0)
}

/// The regions read on a scan, in fractions of the file as stored (the overlay turns with it).
pub fn regions(rows: &[FindingRow], kind: &str) -> Vec<(Region, bool)> {
    let turn = rotation(rows, kind);
    rows.iter()
        .filter(|r| r.kind == kind)
        .filter_map(|r| {
            let reg: Region = serde_json::from_str(r.region.as_deref()?).ok()?;
            Some((reg.in_stored(turn), r.flagged))
        })
        .collect()
}

/// An SVG over the image (percent units), one outlined box per region; flagged ones in red.
pub fn overlay(regions: &[(Region, bool)]) -> Markup {
    let pct = |v: f32| format!("{:.2}", v * 100.0);
    html! {
        @if !regions.is_empty() {
            svg.overlay viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true" {
                @for (r, flagged) in regions {
                    rect.region.flagged[*flagged] x=(pct(r.x)) y=(pct(r.y)) width=(pct(r.w)) height=(pct(r.h)) {}
                }
            }
        }
    }
}

fn label(ctx: &PageCtx, r: &FindingRow) -> Option<String> {
    let d = r.detail.clone().unwrap_or_default();
    let t = |zh: &'static str, en: &'static str| ctx.t(zh, en).to_string();
    Some(match (r.check_name.as_str(), r.outcome.as_str()) {
        ("id_number", "match") => t("证件号码与填写一致", "ID number matches"),
        ("id_number", "mismatch") => format!(
            "{}{d}",
            t("证件号码不一致，识别为 ", "ID number differs, read ")
        ),
        ("id_number", _) => t("证件号码无法识别", "ID number unreadable"),
        ("name", "match") => t("姓名与填写一致", "Name matches"),
        ("name", "mismatch") => format!("{}{d}", t("姓名不一致，识别为 ", "Name differs, read ")),
        ("name", _) => t("姓名无法识别", "Name unreadable"),
        ("valid_until", "expired") => format!(
            "{}{d}",
            t("证件已过期：有效期至 ", "Card expired: valid until ")
        ),
        ("valid_until", "valid") => format!("{}{d}", t("有效期至 ", "Valid until ")),
        ("valid_until", _) => t("有效期限无法识别", "Validity period unreadable"),
        ("signature_blank", "blank") => t("签名栏空白", "Signature box blank"),
        ("signature_blank", "unreadable") => {
            t("未找到签名栏（签名/签字/盖章）", "No signature label found")
        }
        ("blurred", "flagged") => t("图像模糊", "Blurred"),
        ("too_dark", "flagged") => t("图像过暗", "Too dark"),
        ("too_bright", "flagged") => t("图像过亮", "Too bright"),
        ("too_small", "flagged") => t("分辨率过低", "Too small to read"),
        ("rotation", "rotated") => format!("{}{d}°", t("已自动旋转 ", "Shown turned by ")),
        ("unreadable_file", _) => t("文件无法解码", "The file does not decode"),
        _ => return None,
    })
}

/// Where a scan's findings belong: the application, its version, whether verdicts can be given.
pub struct FindingsOf<'a> {
    pub id: &'a str,
    pub version: i64,
    pub can_judge: bool,
}

/// The reviewer's verdict on a flagged finding: given, or two buttons to give it.
fn verdict(ctx: &PageCtx, of: &FindingsOf, r: &FindingRow) -> Markup {
    html! {
        @match r.verdict.as_deref() {
            Some("confirmed") => { " " span.verdict { (ctx.t("（已确认属实）", "(confirmed)")) } }
            Some(_) => { " " span.verdict { (ctx.t("（已标为误报）", "(false alarm)")) } }
            None => {
                @if of.can_judge {
                    form.inline.verdict method="post" action=(format!("/review/{}/findings", of.id)) {
                        (csrf(ctx))
                        input type="hidden" name="version" value=(of.version);
                        input type="hidden" name="kind" value=(r.kind);
                        input type="hidden" name="check" value=(r.check_name);
                        button type="submit" name="verdict" value="confirmed" { (ctx.t("属实", "Right")) }
                        button type="submit" name="verdict" value="dismissed" { (ctx.t("误报", "False alarm")) }
                    }
                }
            }
        }
    }
}

/// The findings of one scan (and, on a resubmission, what they were on the previous version).
pub fn scan_findings(
    ctx: &PageCtx,
    of: &FindingsOf,
    kind: &str,
    rows: &[FindingRow],
    previous: Option<&[FindingRow]>,
) -> Markup {
    let mine: Vec<&FindingRow> = rows.iter().filter(|r| r.kind == kind).collect();
    let before: Vec<(String, &FindingRow)> = previous
        .unwrap_or_default()
        .iter()
        .filter(|r| r.kind == kind && r.flagged)
        .filter_map(|r| Some((label(ctx, r).or_else(|| reused(r))?, r)))
        .collect();
    html! {
        ul.findings data-kind=(kind) {
            @for r in &mine {
                @if r.check_name == "reused_photo" {
                    @if r.flagged {
                        li.flag data-check="reused_photo" {
                            (ctx.t("与其他申请的照片相同：", "Same photo as application "))
                            @for other in r.detail.as_deref().unwrap_or_default().split(',') {
                                a href=(format!("/review/{other}")) { code { (other) } } " "
                            }
                            (verdict(ctx, of, r))
                        }
                    }
                } @else if let Some(text) = label(ctx, r) {
                    li.flag[r.flagged].ok[!r.flagged] data-check=(r.check_name) {
                        (text)
                        @if r.flagged && r.check_name != "rotation" { (verdict(ctx, of, r)) }
                    }
                }
            }
            @if !before.is_empty() {
                li.previous {
                    (ctx.t("上一版本：", "Previous version: "))
                    @for (i, (text, _)) in before.iter().enumerate() {
                        @if i > 0 { "；" }
                        (text)
                    }
                }
            }
        }
    }
}

fn reused(r: &FindingRow) -> Option<String> {
    (r.check_name == "reused_photo")
        .then(|| format!("reused: {}", r.detail.clone().unwrap_or_default()))
}

fn check_label(ctx: &PageCtx, check: &str) -> &'static str {
    match check {
        "id_number" => ctx.t("证件号码", "ID number"),
        "name" => ctx.t("姓名", "Name"),
        "valid_until" => ctx.t("有效期限", "Validity period"),
        "blurred" => ctx.t("模糊", "Blurred"),
        "too_dark" => ctx.t("过暗", "Too dark"),
        "too_bright" => ctx.t("过亮", "Too bright"),
        "too_small" => ctx.t("分辨率过低", "Too small"),
        "rotation" => ctx.t("方向", "Rotation"),
        "signature_blank" => ctx.t("签名空白", "Blank signature"),
        "reused_photo" => ctx.t("照片重复使用", "Reused photo"),
        "unreadable_file" => ctx.t("文件无法解码", "Undecodable file"),
        _ => ctx.t("其他", "Other"),
    }
}

/// The supervisors' page: per check, the flags raised and how reviewers judged them.
pub fn precision_page(ctx: &PageCtx, rows: &[PrecisionRow]) -> Markup {
    let body = html! {
        h1 { (ctx.t("机审提示准确率", "Pre-check precision")) }
        p.hint { (ctx.t("准确率 = 审核员确认属实的提示 ÷ 已判断的提示（属实 + 误报）。", "Precision = hints the reviewers confirmed ÷ hints judged (confirmed + false alarm).")) }
        table.grid.precision {
            thead { tr {
                th { (ctx.t("检查项", "Check")) }
                th { (ctx.t("提示数", "Flagged")) }
                th { (ctx.t("属实", "Confirmed")) }
                th { (ctx.t("误报", "False alarms")) }
                th { (ctx.t("未判断", "Not judged")) }
                th { (ctx.t("准确率", "Precision")) }
            } }
            tbody {
                @for r in rows {
                    tr data-check=(r.check_name) {
                        td { (check_label(ctx, &r.check_name)) }
                        td.num { (r.flagged) }
                        td.num { (r.confirmed) }
                        td.num { (r.dismissed) }
                        td.num { (r.flagged - r.confirmed - r.dismissed) }
                        td.num.precision { @match r.precision() { Some(p) => (format!("{:.1}%", p * 100.0)), None => "—" } }
                    }
                }
                @if rows.is_empty() {
                    tr { td.empty colspan="6" { (ctx.t("尚无机审提示。", "No pre-check has flagged anything yet.")) } }
                }
            }
        }
    };
    page(ctx, ctx.t("机审提示准确率", "Pre-check precision"), body)
}
