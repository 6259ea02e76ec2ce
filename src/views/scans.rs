//! A scan on the review page: a tile with zoom and rotate, the pre-checks' regions outlined; a
//! PDF scan shown as its pages rendered to images (`desks::scan_pages`), the original PDF one
//! click away.

use super::layout::PageCtx;
use crate::domain::scan::MediaType;
use crate::storage::{applications::ScanRef, prechecks::FindingRow};
use maud::{Markup, html};

/// The PDF scans' page images, by scan hash: how many pages, or why they cannot be shown.
pub type PdfPages = std::collections::HashMap<String, Result<usize, String>>;

/// One scan tile: which version's scan, whether it changed since the previous version, and the
/// pre-checks' findings for its regions and turn.
pub struct Tile<'a> {
    pub version: i64,
    pub scan: &'a ScanRef,
    pub changed: bool,
    pub label_suffix: &'a str,
    pub findings: &'a [FindingRow],
}

pub fn scan_tile(ctx: &PageCtx, id: &str, pdf_pages: &PdfPages, t: Tile) -> Markup {
    let Tile {
        version,
        scan: s,
        changed,
        label_suffix,
        findings,
    } = t;
    let pages = match s.media_type {
        MediaType::Pdf => pdf_pages.get(&s.sha256).cloned(),
        _ => None,
    };
    let url = format!("/review/{id}/scans/{version}/{}", s.kind.code());
    let title = format!("{}{label_suffix}", s.kind.label_zh());
    // A turned scan is shown upright by default (the reviewer can still turn it).
    let turn = super::prechecks::rotation(findings, s.kind.code());
    let regions = super::prechecks::regions(findings, s.kind.code());
    html! {
        figure.scan.changed[changed] data-kind=(s.kind.code()) data-rot=(turn) tabindex="0" {
            figcaption {
                span { (title) @if changed { " " span.tag.warn { (ctx.t("已更新", "changed")) } } }
                span.tools {
                    button type="button" data-act="zoom-in" title=(ctx.t("放大 (+)", "Zoom in (+)")) { "+" }
                    button type="button" data-act="zoom-out" title=(ctx.t("缩小 (-)", "Zoom out (-)")) { "−" }
                    button type="button" data-act="rotate" title=(ctx.t("旋转 (O)", "Rotate (O)")) { "⟳" }
                    @if pages.is_some() {
                        a.original href=(url) target="_blank" rel="noopener" title=(ctx.t("在新窗口打开原始 PDF", "Open the original PDF in a new window")) { (ctx.t("原始 PDF", "Original PDF")) " ↗" }
                    } @else {
                        a href=(url) target="_blank" rel="noopener" title=(ctx.t("新窗口打开", "Open in a new window")) { "↗" }
                    }
                }
            }
            div.viewport {
                @match pages {
                    // Rendered on the server: shown like an image, the regions outlined on page 1.
                    Some(Ok(n)) => {
                        div.frame.pages.(format!("rot-{turn}")) {
                            @for page in 1..=n {
                                div.page {
                                    img.doc src=(format!("{url}?page={page}")) alt=(page_alt(ctx, &title, page, n));
                                    @if page == 1 { (super::prechecks::overlay(&regions)) }
                                }
                            }
                        }
                    }
                    Some(Err(why)) => {
                        p.refused role="note" { (why) " " a href=(url) target="_blank" rel="noopener" { (ctx.t("打开原始 PDF", "Open the original PDF")) } }
                    }
                    None => {
                        div.frame.(format!("rot-{turn}")) {
                            img.doc src=(url) alt=(title);
                            (super::prechecks::overlay(&regions))
                        }
                    }
                }
            }
        }
    }
}

/// An image's text for page `page` of `n`: the scan's title, and the page when there are more.
fn page_alt(ctx: &PageCtx, title: &str, page: usize, n: usize) -> String {
    match (n, ctx.locale) {
        (1, _) => title.to_owned(),
        (_, crate::views::texts::Locale::Zh) => format!("{title} 第 {page}/{n} 页"),
        (_, crate::views::texts::Locale::En) => format!("{title}, page {page} of {n}"),
    }
}
