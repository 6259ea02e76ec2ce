//! A scan as the review page shows it (route in `review`'s list): the file as sent, or with
//! `?page=N` page N of a PDF scan rendered to PNG (`desks::scan_pages`), so that a PDF form
//! is zoomed, turned, compared and outlined like a photo. Each fetch is an audited view.

use super::{
    pages::{Ctx, PageError, Staff},
    state::AppState,
};
use crate::{
    desks::{
        review,
        scan_pages::{self, PagesError},
    },
    domain::{
        ids::ApplicationId,
        scan::{MediaType, ScanKind},
    },
    storage::applications::ScanRef,
    views::{layout::error_page, scans::PdfPages},
};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ScanQuery {
    page: Option<String>,
}

fn scan_response(bytes: bytes::Bytes, mime: &'static str, csp: &'static str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A page waits for a render: at most this long, however long the pre-checks may take.
const RENDER_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

fn render_tools(state: &AppState) -> crate::tools::Tools {
    let mut t = state.settings.tools.clone();
    t.time_limit = t.time_limit.min(RENDER_TIME_LIMIT);
    t
}

/// Framed by our own pages only; scripts in a scan get nowhere.
const IMAGE_CSP: &str = "default-src 'none'; frame-ancestors 'self'";

/// The scan bytes, verified against their hash, for roles the policy lets through; with
/// `?page=N`, page N of a PDF scan as PNG.
pub async fn scan(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path((id, version, kind)): Path<(String, i64, String)>,
    Query(q): Query<ScanQuery>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let kind = ScanKind::parse(&kind).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let at = state.clock.now().timestamp_millis();
    if let Some(page) = q.page {
        let page: usize = page.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
        let r = crate::tools::with(
            render_tools(&state),
            scan_pages::page(
                &state.storage,
                &state.scans,
                &id,
                version,
                kind,
                page,
                &s.actor(),
                &ctx.request_id,
                at,
            ),
        )
        .await;
        return match r {
            Ok(Some(png)) => Ok(scan_response(png, "image/png", IMAGE_CSP)),
            Ok(None) => Err(PageError::NotFound(ctx)),
            Err(PagesError::Render(e)) => Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(error_page(&ctx, 422, &refusal(&ctx, &e.to_string())).into_string()),
            )
                .into_response()),
            Err(e) => Err(PageError::internal(&ctx, e)),
        };
    }
    let (scan, bytes) = review::scan(
        &state.storage,
        &state.scans,
        &id,
        version,
        kind,
        &s.actor(),
        &ctx.request_id,
        at,
    )
    .await
    .map_err(|e| PageError::internal(&ctx, e))?
    .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    // A PDF gets no stricter policy: the browser's own PDF viewer runs in the tab it opens in.
    let csp = if scan.media_type == MediaType::Pdf {
        "frame-ancestors 'self'"
    } else {
        IMAGE_CSP
    };
    Ok(scan_response(bytes, scan.media_type.mime(), csp))
}

/// Why a PDF is not shown as images, in the reader's language.
fn refusal(ctx: &crate::views::layout::PageCtx, why: &str) -> String {
    format!(
        "{}{why}",
        ctx.t(
            "无法将此 PDF 显示为图像，请打开原始 PDF 查看：",
            "This PDF cannot be shown as images; open the original PDF: "
        )
    )
}

/// The page images of the PDF scans among `scans`, rendered the first time: by scan hash, the
/// number of pages, or why they cannot be shown.
pub async fn pdf_pages(
    state: &AppState,
    ctx: &crate::views::layout::PageCtx,
    scans: &[&ScanRef],
) -> Result<PdfPages, PageError> {
    let mut out = PdfPages::new();
    for s in scans.iter().filter(|s| s.media_type == MediaType::Pdf) {
        if out.contains_key(&s.sha256) {
            continue;
        }
        let r = crate::tools::with(
            render_tools(state),
            scan_pages::ensure(&state.storage, &state.scans, &s.sha256),
        )
        .await;
        let pages = match r {
            Ok(shas) => Ok(shas.len()),
            Err(PagesError::Render(e)) => {
                tracing::warn!(error = %e, "a PDF scan cannot be shown as images");
                Err(refusal(ctx, &e.to_string()))
            }
            // The scan store failed (an object missing after a restore, a full disk): this tile
            // says so and links the original; the reviewer can still open and decide the rest.
            Err(PagesError::Store(e)) => {
                tracing::warn!(error = %e, "a PDF scan's page images cannot be read or stored");
                Err(refusal(ctx, &e.to_string()))
            }
            Err(e) => return Err(PageError::internal(ctx, e)),
        };
        out.insert(s.sha256.clone(), pages);
    }
    Ok(out)
}
