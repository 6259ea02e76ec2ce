//! The fulfilment desk: the production queue, courier batches with their files, labels and
//! packing lists, the tracking import, returned parcels. The `fulfillment` role acts;
//! supervisors and admins read.

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other, xlsx_download},
    paging::Paging,
    state::AppState,
    uploads,
};
use crate::desks::fulfilment::{self, FulfilmentError, Production};
use crate::domain::ids::ApplicationId;
use crate::exchange::{couriers::Courier, formats};
use crate::jobs::imports::TRACKING;
use crate::storage::fulfilment::Stage;
use crate::views::{self, fulfilment as v};
use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/fulfilment" => get(queue);
    "/fulfilment/production" => post(record_production);
    "/fulfilment/batches" => get(batches).post(create_batch);
    "/fulfilment/batches/{id}" => get(batch);
    "/fulfilment/batches/{id}/file" => get(batch_file);
    "/fulfilment/batches/{id}/labels" => get(print_page::<false, false>).post(print_page::<false, true>);
    "/fulfilment/batches/{id}/packing" => get(print_page::<true, false>).post(print_page::<true, true>);
    "/fulfilment/tracking" => post(import_tracking), upload formats::TRACKING.limit;
    "/fulfilment/imports/{id}" => get(super::imports::fulfilment_job);
    "/fulfilment/shipments/{id}/returned" => post(parcel_returned);
}

/// The production queue's first page with what was refused (nothing was changed).
async fn queue_refusal(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    msg: &str,
) -> Result<Response, PageError> {
    render_queue(state, ctx, &Paging::first("/fulfilment"), Some(msg), None).await
}

/// For the issued certificate's upload (`web::revocations`): the queue with its refusal.
pub(super) async fn refusal(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    msg: &str,
) -> Result<Response, PageError> {
    queue_refusal(state, ctx, msg).await
}

async fn render_queue(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    paging: &Paging,
    error: Option<&str>,
    result: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let storage = &state.storage;
    let [make, ship, batch] = ["", "s_", "b_"].map(|prefix| paging.req(prefix));
    let to_make = storage.fulfilment_queue_page(Some(Stage::ToProduce), &make);
    let to_make = to_make.await.map_err(e)?;
    let to_ship = storage.fulfilment_queue_page(Some(Stage::ToShip), &ship);
    let to_ship = to_ship.await.map_err(e)?;
    let batched = storage.fulfilment_queue_page(Some(Stage::Batched), &batch);
    let batched = batched.await.map_err(e)?;
    let html = v::queue_page(
        ctx,
        &v::QueuePage {
            pagers: [
                paging.view("", &to_make),
                paging.view("s_", &to_ship),
                paging.view("b_", &batched),
            ],
            to_make: &to_make,
            to_ship: &to_ship,
            batched: &batched,
            now_ms: state.clock.now().timestamp_millis(),
            error,
            result,
        },
    );
    Ok(page_with(html, error.is_some()))
}

pub async fn queue(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Response, PageError> {
    render_queue(&state, &ctx, &paging, None, None).await
}

/// The production form: the selected ids, each with its `serial.<id>` and `medium.<id>`.
pub async fn record_production(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut items = Vec::new();
    for (_, id) in fields.iter().filter(|(k, _)| k == "ids") {
        // Not an id at all (a tampered form): refused as an id of no application is.
        let Some(application_id) = ApplicationId::parse(id) else {
            let msg = format!(
                "{}no application {id}",
                ctx.t("未登记，未做任何更改：", "Nothing recorded: ")
            );
            return queue_refusal(&state, &ctx, &msg).await;
        };
        items.push(Production {
            application_id,
            certificate_serial: value(&format!("serial.{id}")),
            medium_no: value(&format!("medium.{id}")),
        });
    }
    if items.is_empty() {
        let msg = ctx.t("请先勾选申请。", "Select applications first.");
        return queue_refusal(&state, &ctx, msg).await;
    }
    let at = state.clock.now().timestamp_millis();
    match fulfilment::record_production(&state.storage, &items, &s.actor(), at).await {
        Ok(_) => Ok(see_other("/fulfilment", "produced")),
        Err(FulfilmentError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            let msg = format!(
                "{}{e}",
                ctx.t("未登记，未做任何更改：", "Nothing recorded: ")
            );
            queue_refusal(&state, &ctx, &msg).await
        }
    }
}

#[derive(Deserialize)]
pub struct BatchForm {
    courier: String,
    scope: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
}

pub async fn create_batch(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<BatchForm>,
) -> Result<Response, PageError> {
    let Some(courier) = Courier::parse(&f.courier) else {
        return queue_refusal(&state, &ctx, "?").await;
    };
    let all = f.scope.as_deref() == Some("all");
    if !all && f.ids.is_empty() {
        let msg = ctx.t(
            "请先勾选申请，或选择“全部待寄出”。",
            "Select applications, or batch all ready.",
        );
        return queue_refusal(&state, &ctx, msg).await;
    }
    let at = state.clock.now().timestamp_millis();
    let only = (!all).then_some(f.ids.as_slice());
    match fulfilment::create_gated_batch(
        &state.storage,
        &state.settings.courier,
        fulfilment::RevocationGate::of(&state.settings.revocation),
        courier,
        only,
        &s.actor(),
        at,
    )
    .await
    {
        Ok(Some(b)) => Ok(Redirect::to(&format!(
            "/fulfilment/batches/{}?msg=batch_created",
            b.batch_id
        ))
        .into_response()),
        Ok(None) => Ok(see_other("/fulfilment", "nothing_to_ship")),
        Err(FulfilmentError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => queue_refusal(&state, &ctx, &e.to_string()).await,
    }
}

async fn render_batches(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    paging: &Paging,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let req = paging.req("");
    let batches = state.storage.courier_batches_page(&req).await.map_err(e)?;
    let jobs = state
        .storage
        .recent_imports(TRACKING, views::imports::RECENT);
    let jobs = jobs.await.map_err(e)?;
    let html = v::batches_page(
        ctx,
        &v::BatchesPage {
            batches: &batches.rows,
            pager: &paging.view("", &batches),
            error,
            jobs: &jobs,
        },
    );
    Ok(page_with(html, error.is_some()))
}

pub async fn batches(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Response, PageError> {
    render_batches(&state, &ctx, &paging, None).await
}

#[allow(clippy::result_large_err)]
fn batch_id(ctx: &views::layout::PageCtx, id: &str) -> Result<i64, PageError> {
    id.parse().map_err(|_| PageError::NotFound(ctx.clone()))
}

pub async fn batch(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let id = batch_id(&ctx, &id)?;
    let b = state
        .storage
        .courier_batch(id)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let shipments = state.storage.batch_shipments(id).await.map_err(e)?;
    let mut statuses = Vec::with_capacity(shipments.len());
    for s in &shipments {
        statuses.push(
            state
                .storage
                .application_status(&s.application_id)
                .await
                .map_err(e)?,
        );
    }
    Ok(Html(
        v::batch_page(&ctx, &b, &shipments, &statuses).into_string(),
    ))
}

pub async fn batch_file(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let id = batch_id(&ctx, &id)?;
    let at = state.clock.now().timestamp_millis();
    let (batch_no, bytes) = fulfilment::batch_file(&state.storage, id, &s.actor(), at)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    Ok(xlsx_download(&format!("发货批次_{batch_no}.xlsx"), bytes))
}

/// The labels (or the packing list) of a batch as a print page. Only a print (`record`, a
/// POST from the batch page's print button) goes on the timelines and the audit trail; the same
/// page fetched by GET (a link, a prefetch, a supervisor's look) records nothing.
async fn print(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    actor: &str,
    id: &str,
    packing: bool,
    record: bool,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let id = batch_id(ctx, id)?;
    let b = state
        .storage
        .courier_batch(id)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let shipments = state.storage.batch_shipments(id).await.map_err(e)?;
    let at = state.clock.now();
    if record {
        let what = if packing {
            "装箱单已打印"
        } else {
            "面单已打印"
        };
        fulfilment::record_print(&state.storage, id, what, actor, at.timestamp_millis())
            .await
            .map_err(|e| PageError::internal(ctx, e))?;
    }
    let batch = crate::desks::fulfilment::label_batch(&state.settings.courier, &b, &shipments, at);
    let markup = if packing {
        views::labels::packing_list(&batch)
    } else {
        views::labels::labels_page(&batch)
    };
    let mut r = Html(markup.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The print pages carry their own CSS (they must print from a saved file too): allowed by hash.
    if let Ok(v) = HeaderValue::from_str(&views::labels::print_csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(r)
}

/// A batch's labels (`PACKING` false) or its packing list as a print page: to look at (GET,
/// `RECORD` false), or printed from the print button (POST, `RECORD`: on the timelines and the
/// audit trail).
pub async fn print_page<const PACKING: bool, const RECORD: bool>(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    print(&state, &ctx, &s.actor(), &id, PACKING, RECORD).await
}

pub async fn import_tracking(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    s: Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    match uploads::read(mp, formats::TRACKING).await {
        // Read and applied as a job: the clerk follows it on its page.
        Ok(up) => super::imports::queue(&state, &ctx, &s, TRACKING, "/fulfilment", up).await,
        Err(e) => {
            let msg = e.message(ctx.locale);
            let first = Paging::first("/fulfilment/batches");
            render_batches(&state, &ctx, &first, Some(&msg)).await
        }
    }
}

#[derive(Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    reason: String,
}

pub async fn parcel_returned(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<ReturnForm>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
    let at = state.clock.now().timestamp_millis();
    match fulfilment::return_parcel(&state.storage, id, &f.reason, &s.actor(), at).await {
        Ok(_) => Ok(see_other("/fulfilment", "parcel_returned")),
        Err(FulfilmentError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => queue_refusal(&state, &ctx, &e.to_string()).await,
    }
}
