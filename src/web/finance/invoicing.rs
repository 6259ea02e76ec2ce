//! The finance desk's invoice pages (数电票): requests waiting, batches for the tax platform,
//! the import of what it issued, and the applicant's download of an issued file.

use super::audit_export;
use crate::desks::invoicing::{self, InvoiceError};
use crate::views::{components::counts_line, finance as v, layout::PageCtx};
use crate::web::{
    download::download,
    pages::{Ctx, PageError, Staff, page_with, see_other, uploaded_file, xlsx_download},
    state::AppState,
};
use axum::{
    extract::{Multipart, Path, State},
    response::{IntoResponse, Redirect, Response},
};

async fn render_invoices(
    state: &AppState,
    ctx: &PageCtx,
    error: Option<&str>,
    result: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let pending = state
        .storage
        .invoice_requests("pending", 1_000)
        .await
        .map_err(e)?;
    let batched = state
        .storage
        .invoice_requests("batched", 1_000)
        .await
        .map_err(e)?;
    let batches = state.storage.invoice_batches(50).await.map_err(e)?;
    let issues = state.storage.invoice_issues(200).await.map_err(e)?;
    let html = v::invoices_page(
        ctx,
        &v::InvoicesPage {
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

pub async fn invoices(State(state): State<AppState>, Ctx(ctx): Ctx) -> Result<Response, PageError> {
    render_invoices(&state, &ctx, None, None).await
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
        Err(e) => render_invoices(&state, &ctx, Some(&e.to_string()), None).await,
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
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let (_, bytes) = uploaded_file(&mut mp).await;
    if bytes.is_empty() {
        let msg = ctx.t("请选择文件。", "Choose a file.");
        return render_invoices(&state, &ctx, Some(msg), None).await;
    }
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
            render_invoices(&state, &ctx, None, Some(&text)).await
        }
        Err(InvoiceError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            let msg = format!(
                "{}{e}",
                ctx.t("未导入，未做任何更改：", "Nothing imported: ")
            );
            render_invoices(&state, &ctx, Some(&msg), None).await
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
