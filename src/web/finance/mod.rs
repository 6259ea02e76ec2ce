//! The finance desk: bill upload and reconciliation, the exceptions queue and its actions,
//! refunds owed, the daily report, invoice batches and the issued-invoice import. The `finance`
//! role acts; supervisors and admins read.

pub mod invoicing;

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other, xlsx_download},
    paging::Paging,
    state::AppState,
    uploads,
};
use crate::desks::finance::{self, FinanceError, Resolution};
use crate::domain::calendar::beijing;
use crate::domain::period;
use crate::exchange::formats;
use crate::exchange::reports::{self, ReportLayout, Row, Value};
use crate::jobs::imports::BILLS;
use crate::storage::finance::CaseState;
use crate::storage::paging::{self, PageReq};
use crate::views::{self, finance as v};
use axum::{
    extract::{Multipart, Path, Query, State, multipart::MultipartRejection},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::Form;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use std::collections::HashMap;

super::routes! {
    "/finance" => get(home);
    "/finance/bills" => get(bills).post(upload_bill), upload formats::BILLS.limit;
    "/finance/imports/{id}" => get(super::imports::finance_job);
    "/finance/exceptions" => get(exceptions);
    "/finance/exceptions/{id}" => get(case).post(resolve);
    "/finance/refunds" => get(refunds);
    "/finance/refunds.xlsx" => get(refunds_xlsx);
    "/finance/report" => get(report);
    "/finance/report.xlsx" => get(report_xlsx);
    "/finance/invoices" => get(invoicing::invoices);
    "/finance/invoices/batches" => post(invoicing::create_batch);
    "/finance/invoices/batches/{id}" => get(invoicing::batch_file);
    "/finance/invoices/issued" => post(invoicing::import_issued), upload formats::ISSUED_INVOICES.limit;
    "/invoice-files/{token}" => get(invoicing::invoice_file);
}

pub async fn home() -> Redirect {
    Redirect::to("/finance/exceptions")
}

async fn render_bills(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    paging: &Paging,
    error: Option<&str>,
) -> Result<Html<String>, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let req = paging.req("");
    let imports = state.storage.bill_imports_page(&req).await.map_err(e)?;
    let jobs = state.storage.recent_imports(BILLS, views::imports::RECENT);
    let jobs = jobs.await.map_err(e)?;
    Ok(Html(
        v::bills_page(
            ctx,
            &v::BillsPage {
                imports: &imports.rows,
                jobs: &jobs,
                pager: &paging.view("", &imports),
                error,
            },
        )
        .into_string(),
    ))
}

pub async fn bills(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    render_bills(&state, &ctx, &paging, None).await
}

pub async fn upload_bill(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    s: Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    match uploads::read(mp, formats::BILLS).await {
        // Read and reconciled as a job: the clerk follows it on its page.
        Ok(up) => super::imports::queue(&state, &ctx, &s, BILLS, "/finance", up).await,
        Err(e) => {
            let msg = e.message(ctx.locale);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_bills(&state, &ctx, &Paging::first("/finance/bills"), Some(&msg)).await?,
            )
                .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    kind: Option<String>,
    state: Option<String>,
}

const KINDS: [&str; 6] = [
    "amount_mismatch",
    "unmatched_payment",
    "missing_payment",
    "duplicate_payment",
    "refund_owed",
    "unexpected_refund",
];

pub async fn exceptions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<CaseQuery>,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let kind = q.kind.as_deref().filter(|k| KINDS.contains(k));
    let open = q.state.as_deref() != Some("closed");
    let kinds: Vec<&str> = kind.into_iter().collect();
    let case_state = if open {
        CaseState::Open
    } else {
        CaseState::Closed
    };
    let cases = state
        .storage
        .finance_cases_page(case_state, &kinds, &paging.req(""))
        .await
        .map_err(e)?;
    let counts = state.storage.open_case_counts().await.map_err(e)?;
    Ok(Html(
        v::exceptions_page(
            &ctx,
            &v::ExceptionsPage {
                cases: &cases.rows,
                pager: &paging.view("", &cases),
                counts: &counts,
                kind,
                open,
            },
        )
        .into_string(),
    ))
}

async fn render_case(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    id: i64,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let case = state
        .storage
        .finance_case(id)
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let lines = state
        .storage
        .bill_lines_of_order(&case.out_trade_no)
        .await
        .map_err(e)?;
    let app = state
        .storage
        .case_application(case.application_id.as_ref(), &case.out_trade_no)
        .await
        .map_err(e)?
        .map(|a| v::AppSide {
            application_id: a.application_id,
            applicant_name: a.applicant_name,
            status: a.status,
            payment_state: a.payment_state,
            channel: a.payment_channel,
            out_trade_no: a.out_trade_no,
            amount_fen: a.amount_fen,
            paid_at: a.paid_at,
        });
    let html = v::case_page(
        ctx,
        &v::CasePage {
            case: &case,
            lines: &lines,
            app: app.as_ref(),
            error,
        },
    );
    Ok(page_with(html, error.is_some()))
}

pub async fn case(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
    render_case(&state, &ctx, id, None).await
}

#[derive(Deserialize)]
pub struct ResolveForm {
    action: String,
    row_version: Option<i64>,
    #[serde(default)]
    note: String,
    application_id: Option<String>,
    refund_no: Option<String>,
}

pub async fn resolve(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<ResolveForm>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(ctx.clone()))?;
    let resolution = match f.action.as_str() {
        "link" => Resolution::Link {
            application_id: f.application_id.unwrap_or_default(),
        },
        "refund" => Resolution::ConfirmRefund {
            refund_no: f.refund_no.unwrap_or_default(),
        },
        "accept" => Resolution::AcceptMismatch,
        _ => return render_case(&state, &ctx, id, Some("?")).await,
    };
    let at = state.clock.now().timestamp_millis();
    let (storage, actor) = (state.storage.clone(), s.actor());
    let r = tokio::spawn(crate::request_id::carry(async move {
        finance::resolve_case(
            &storage,
            id,
            &resolution,
            &f.note,
            f.row_version,
            &actor,
            at,
        )
        .await
    }))
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    let page = format!("/finance/exceptions/{id}");
    match r {
        Ok(()) => Ok(see_other("/finance/exceptions", "case_closed")),
        Err(FinanceError::Conflict) => Ok(see_other(&page, "case_conflict")),
        Err(FinanceError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(FinanceError::Refused(why)) => render_case(&state, &ctx, id, Some(&why)).await,
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

const OWED: [&str; 2] = ["duplicate_payment", "refund_owed"];

pub async fn refunds(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let owed = state
        .storage
        .finance_cases_page(CaseState::Open, &OWED, &paging.req(""))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let pager = paging.view("", &owed);
    Ok(Html(v::refunds_page(&ctx, &owed, &pager).into_string()))
}

/// Records an export's download (the file's hash) as seen by `actor`.
async fn audit_export(
    state: &AppState,
    actor: &str,
    action: &str,
    bytes: &[u8],
    what: &str,
) -> Result<(), sqlx::Error> {
    let at = state.clock.now().timestamp_millis();
    finance::record_export(&state.storage, actor, action, bytes, what, at).await
}

fn layout(state: &AppState, name: &str) -> Result<ReportLayout, reports::ReportError> {
    ReportLayout::named(name, Some(&state.settings.data_dir.join("reports")))
}

#[allow(clippy::result_large_err)]
fn report_bytes(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    name: &str,
    rows: &[Row],
) -> Result<Vec<u8>, PageError> {
    layout(state, name)
        .and_then(|l| reports::write(&l, rows))
        .map_err(|e| PageError::internal(ctx, e))
}

pub async fn refunds_xlsx(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    // Every refund owed, a page of the list at a time.
    let (mut cases, mut req) = (Vec::new(), PageReq::first(paging::MAX_SIZE));
    loop {
        let page = state
            .storage
            .finance_cases_page(CaseState::Open, &OWED, &req);
        let page = page.await.map_err(e)?;
        cases.extend(page.rows);
        match page.next {
            Some(after) => req.after = Some(after),
            None => break,
        }
    }
    let rows: Vec<Row> = cases
        .iter()
        .map(|c| {
            HashMap::from([
                ("channel", Value::Text(v::channel(&ctx, &c.channel).into())),
                ("out_trade_no", Value::Text(c.out_trade_no.clone())),
                (
                    "transaction_id",
                    Value::Text(c.transaction_id.clone().unwrap_or_default()),
                ),
                ("amount", Value::Money(c.amount_fen.get())),
                (
                    "out_refund_no",
                    Value::Text(format!("{}R{}", c.out_trade_no, c.case_id)),
                ),
                ("reason", Value::Text(v::kind_label(&ctx, &c.kind).into())),
                (
                    "application_id",
                    Value::Text(
                        c.application_id
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    ),
                ),
                ("opened_at", Value::Millis(c.opened_at)),
            ])
        })
        .collect();
    let bytes = report_bytes(&state, &ctx, "refunds-owed", &rows)?;
    audit_export(
        &state,
        &s.actor(),
        "refunds.exported",
        &bytes,
        &format!("{} refunds", rows.len()),
    )
    .await
    .map_err(e)?;
    let today = state.clock.now().with_timezone(&beijing()).date_naive();
    Ok(xlsx_download(&format!("待退款_{today}.xlsx"), bytes))
}

#[derive(Deserialize, Default)]
pub struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// The period asked for, by default the last 14 Beijing days up to yesterday.
fn period(state: &AppState, q: &Period) -> (String, String) {
    let today = state.clock.now().with_timezone(&beijing()).date_naive();
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let to = parse(&q.to)
        .map(|t| t.clamp(period::first_day(), period::last_day()))
        .unwrap_or(today - Duration::days(1));
    let from = parse(&q.from)
        .filter(|f| *f <= to)
        .unwrap_or(to - Duration::days(13));
    // At most a year, within 2000–2099 (the page says so).
    let p = period::bounded(from, to);
    (p.from.to_string(), p.to.to_string())
}

pub async fn report(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<Period>,
) -> Result<Html<String>, PageError> {
    let (from, to) = period(&state, &q);
    let days = state
        .storage
        .daily_figures(&from, &to)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(v::report_page(&ctx, &from, &to, &days).into_string()))
}

pub async fn report_xlsx(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Query(q): Query<Period>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let (from, to) = period(&state, &q);
    let days = state.storage.daily_figures(&from, &to).await.map_err(e)?;
    let rows: Vec<Row> = days
        .iter()
        .map(|d| {
            HashMap::from([
                ("day", Value::Date(d.bill_day.clone())),
                ("channel", Value::Text(v::channel(&ctx, &d.channel).into())),
                ("lines", Value::Int(d.lines)),
                ("gross", Value::Money(d.gross_fen.get())),
                ("fees", Value::Money(v::fee_fen(d))),
                ("refunds", Value::Money(d.refund_fen.get())),
                ("net", Value::Money(v::net_fen(d))),
                ("matched", Value::Int(d.matched)),
                ("exceptions", Value::Int(d.exceptions)),
                ("open_exceptions", Value::Int(d.open_exceptions)),
            ])
        })
        .collect();
    let bytes = report_bytes(&state, &ctx, "finance-daily", &rows)?;
    audit_export(
        &state,
        &s.actor(),
        "finance_report.exported",
        &bytes,
        &format!("{from}..{to}"),
    )
    .await
    .map_err(e)?;
    Ok(xlsx_download(&format!("对账日报_{from}_{to}.xlsx"), bytes))
}
