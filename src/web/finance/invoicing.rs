//! The finance desk's invoice pages (数电票): requests waiting, batches for the tax platform,
//! the import of what it issued, and the applicant's download of an issued file.

use super::audit_export;
use crate::desks::invoicing::{self, InvoiceError};
use crate::exchange::formats;
use crate::views::{components::counts_line, finance as v, layout::PageCtx};
use crate::web::{
    download::download,
    pages::{Ctx, PageError, Staff, page_with, see_other, xlsx_download},
    paging::Paging,
    state::AppState,
    uploads,
};

/// The invoices page (its lists page at this address).
const PATH: &str = "/finance/invoices";
use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    response::{IntoResponse, Redirect, Response},
};

async fn render_invoices(
    state: &AppState,
    ctx: &PageCtx,
    paging: &Paging,
    error: Option<&str>,
    result: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let storage = &state.storage;
    let [req, b_req, x_req, i_req] = ["", "b_", "x_", "i_"].map(|p| paging.req(p));
    let pending = storage.invoice_requests_page("pending", &req);
    let pending = pending.await.map_err(e)?;
    let batched = storage.invoice_requests_page("batched", &b_req);
    let batched = batched.await.map_err(e)?;
    let batches = storage.invoice_batches_page(&x_req).await.map_err(e)?;
    let issues = storage.invoice_issues_page(&i_req).await.map_err(e)?;
    let html = v::invoices_page(
        ctx,
        &v::InvoicesPage {
            pagers: [
                paging.view("", &pending),
                paging.view("b_", &batched),
                paging.view("x_", &batches),
                paging.view("i_", &issues),
            ],
            pending: &pending,
            batched: &batched,
            batches: &batches,
            issues: &issues,
            error,
            result,
        },
    );
    Ok(page_with(html, error.is_some()))
}

pub async fn invoices(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Response, PageError> {
    render_invoices(&state, &ctx, &paging, None, None).await
}

pub async fn create_batch(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Response, PageError> {
    let at = state.clock.now().timestamp_millis();
    match invoicing::export_batch(&state.storage, &state.settings.invoice, &s.actor(), at).await {
        Ok(Some(b)) => Ok(Redirect::to(&format!(
            "/finance/invoices?msg=batch_created&batch={}",
            b.batch_id
        ))
        .into_response()),
        Ok(None) => Ok(see_other("/finance/invoices", "nothing_to_batch")),
        Err(InvoiceError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            render_invoices(
                &state,
                &ctx,
                &Paging::first(PATH),
                Some(&e.to_string()),
                None,
            )
            .await
        }
    }
}

pub async fn batch_file(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
    let (batch_no, bytes) = state
        .storage
        .invoice_batch_file(id)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    audit_export(
        &state,
        &s.actor(),
        "invoice_batch.downloaded",
        &bytes,
        &batch_no,
    )
    .await
    .map_err(e)?;
    Ok(xlsx_download(&format!("开票批次_{batch_no}.xlsx"), bytes))
}

pub async fn import_issued(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let bytes = match uploads::read(mp, formats::ISSUED_INVOICES).await {
        Ok(up) => up.bytes,
        Err(e) => {
            let msg = e.message(ctx.locale);
            return render_invoices(&state, &ctx, &Paging::first(PATH), Some(&msg), None).await;
        }
    };
    let at = state.clock.now().timestamp_millis();
    let r = invoicing::import_issued(
        &state.storage,
        &state.scans,
        &state.settings.invoice,
        &state.settings.public_url,
        &bytes,
        &s.actor(),
        at,
    )
    .await;
    match r {
        Ok(sum) => {
            let text = counts_line(&[
                (ctx.t("行数", "lines"), sum.lines),
                (ctx.t("已匹配", "matched"), sum.matched),
                (ctx.t("已有", "already known"), sum.already_known),
                (ctx.t("无对应", "unmatched"), sum.unmatched),
                (ctx.t("多个可能", "ambiguous"), sum.ambiguous),
                (ctx.t("红字", "red-letter"), sum.red_letter),
                (ctx.t("附件", "files"), sum.files_attached),
            ]);
            render_invoices(&state, &ctx, &Paging::first(PATH), None, Some(&text)).await
        }
        Err(InvoiceError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            let msg = format!(
                "{}{e}",
                ctx.t("未导入，未做任何更改：", "Nothing imported: ")
            );
            render_invoices(&state, &ctx, &Paging::first(PATH), Some(&msg), None).await
        }
    }
}

/// The applicant's download of an issued invoice file (the link in the e-mail).
pub async fn invoice_file(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::NotFound(ctx));
    }
    let f = state
        .storage
        .invoice_file_by_token(&token)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let bytes = state
        .scans
        .get(&f.file_sha256)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let mime = match f
        .file_name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    };
    let ext = f.file_name.rsplit('.').next().unwrap_or("bin");
    Ok(download(
        &format!("发票_{}.{ext}", f.invoice_number),
        mime,
        bytes,
    ))
}
