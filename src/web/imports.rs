//! Imports as jobs (issue 21): a desk's upload handler queues its file here and sends the clerk
//! to the job's page under the desk's prefix (`/finance/imports/{id}`,
//! `/fulfilment/imports/{id}`), which the desk's readers may open; the job runs beside the
//! server (`jobs::imports`) and its result stays on the page.

use super::{
    pages::{Ctx, PageError, Staff},
    state::AppState,
    uploads::Upload,
};
use crate::jobs::imports::{self, BILLS, TRACKING};
use crate::views::{self, layout::PageCtx};
use axum::{
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Redirect, Response},
};

/// Queues the upload as a job of `kind` (with its audit record), starts a pass on this
/// instance, and answers with the job's page under `prefix` (303).
pub async fn queue(
    state: &AppState,
    ctx: &PageCtx,
    staff: &Staff,
    kind: &str,
    prefix: &str,
    up: Upload,
) -> Result<Response, PageError> {
    let at = state.clock.now().timestamp_millis();
    let id = state
        .storage
        .queue_import(kind, &up.name, &up.bytes, &staff.0.actor(), at)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    imports::start(&state.core);
    Ok(Redirect::to(&format!("{prefix}/imports/{id}")).into_response())
}

/// The finance desk's import jobs.
pub async fn finance_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let back = ("/finance/bills", ctx.t("账单导入", "Bills"));
    job_page(&state, &ctx, &id, BILLS, back).await
}

/// The fulfilment desk's import jobs.
pub async fn fulfilment_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let back = ("/fulfilment/batches", ctx.t("快递批次", "Courier batches"));
    job_page(&state, &ctx, &id, TRACKING, back).await
}

/// A job of `kind` (another desk's job is not found here).
async fn job_page(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    kind: &str,
    back: (&str, &str),
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
    let job = state
        .storage
        .import_job(id)
        .await
        .map_err(|e| PageError::internal(ctx, e))?
        .filter(|j| j.kind == kind)
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let live = job
        .claim_token
        .as_deref()
        .filter(|_| !job.finished())
        .and_then(|t| imports::live(t, job.job_id));
    let html = views::imports::job_page(ctx, &job, live, back).into_string();
    let mut r = Html(html).into_response();
    // Reloaded while it runs: never a stale copy.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
