//! Supervision (supervisors and admins): the dashboard, the list behind each figure, and the
//! reports defined under `reports/` as pages, xlsx and csv.

use super::{
    download::download,
    pages::{Ctx, PageError, Staff},
    paging::Paging,
    state::AppState,
};
use crate::domain::{calendar::beijing_day, period};
use crate::{
    desks::supervision,
    exchange::reports,
    storage::supervision::Figure,
    views::{self, layout::PageCtx},
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

super::routes! {
    "/supervision" => get(dashboard_page);
    "/supervision/applications" => get(figure_list);
    "/reports" => get(reports_list);
    "/reports/{name}" => get(report_page);
    "/reports/{name}/{format}" => get(report_file);
}

pub async fn dashboard_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now().timestamp_millis();
    let e = |e| PageError::internal(&ctx, e);
    let cal = state.calendar.get().await.map_err(e)?;
    let d = supervision::dashboard(&state.storage, &cal, now)
        .await
        .map_err(e)?;
    Ok(Html(
        views::supervision::dashboard_page(&ctx, &d).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct FigureQuery {
    f: String,
    from: i64,
    to: i64,
    #[serde(default)]
    key: String,
}

fn figure_of(q: &FigureQuery, ctx: &PageCtx) -> Option<(Figure, String)> {
    let (from, to) = (q.from, q.to);
    let span = format!(
        "{} – {}",
        views::components::time(from),
        views::components::time(to)
    );
    // The figure, what it counts in words, and the key it is narrowed to (a reviewer, a reason…).
    let (figure, zh, en, key) = match q.f.as_str() {
        "waiting" => (
            Figure::Waiting { from, to },
            "待审核，收件于",
            "Waiting, received",
            None,
        ),
        "due" => (
            Figure::Due { from, to },
            "待审核，期限在",
            "Waiting, due",
            None,
        ),
        "decided" => (
            Figure::DecidedBy {
                reviewer: q.key.clone(),
                from,
                to,
            },
            "审结人",
            "Decided by",
            Some(q.key.trim_start_matches("staff:")),
        ),
        "reason" => (
            Figure::Reason {
                code: q.key.clone(),
                from,
                to,
            },
            "退回原因",
            "Returned for",
            Some(q.key.as_str()),
        ),
        "rounds" => (
            Figure::Rounds {
                rounds: q.key.parse().ok()?,
                from,
                to,
            },
            "提交轮次",
            "Rounds",
            Some(q.key.as_str()),
        ),
        "unshipped" => (
            Figure::Unshipped { from, to },
            "已受理未寄出，受理于",
            "Accepted, not shipped, accepted",
            None,
        ),
        "deadline" => (
            Figure::Deadline { from, to },
            "审核窗口，期限在",
            "Review windows, deadline",
            None,
        ),
        "resubmitted" => (
            Figure::Resubmitted { from, to },
            "补正重交，提交于",
            "Resubmitted, submitted",
            None,
        ),
        "breached" => (
            Figure::Breached { from, to },
            "审核超期，期限在",
            "Breached, deadline",
            None,
        ),
        _ => return None,
    };
    let what = ctx.t(zh, en);
    let label = match key {
        Some(k) => format!("{what} {k}（{span}）"),
        None => format!("{what}（{span}）"),
    };
    Some((figure, label))
}

/// The applications behind a figure of the dashboard.
pub async fn figure_list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<FigureQuery>,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let Some((figure, title)) = figure_of(&q, &ctx) else {
        return Err(PageError::NotFound(ctx));
    };
    let rows = state
        .storage
        .figure_applications(&figure, &paging.req(""))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let pager = paging.view("", &rows);
    Ok(Html(
        views::supervision::figure_page(&ctx, &title, &rows.rows, &pager).into_string(),
    ))
}

pub async fn reports_list(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let mut list = Vec::new();
    for (name, _) in reports::SUPERVISION {
        let l = supervision::definition(name, Some(&state.settings.data_dir))
            .map_err(|e| PageError::internal(&ctx, e))?;
        list.push((name.to_string(), l));
    }
    Ok(Html(
        views::supervision::reports_page(&ctx, &list).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The period asked for; by default the month so far (from the 1st to today).
fn period(state: &AppState, p: &Period) -> (NaiveDate, NaiveDate) {
    let (_, _, today) = beijing_day(state.clock.now().timestamp_millis(), 0);
    // At most a year, within 2000–2099 (the page says so).
    let to =
        p.to.unwrap_or(today)
            .clamp(period::first_day(), period::last_day());
    let from = p.from.unwrap_or(to.with_day(1).expect("day 1"));
    let p = period::bounded(from, to);
    (p.from, p.to)
}

pub async fn report_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(name): Path<String>,
    Query(p): Query<Period>,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let Ok(l) = supervision::definition(&name, Some(&state.settings.data_dir)) else {
        return Err(PageError::NotFound(ctx));
    };
    let (from, to) = period(&state, &p);
    let (rows, totals) = supervision::page(&state.storage, &l, from, to, &paging.req(""))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let shown = views::supervision::Shown {
        rows: &rows.rows,
        totals: &totals,
        pager: &paging.view("", &rows),
    };
    Ok(Html(
        views::supervision::report_page(&ctx, &name, &l, (from, to), &shown).into_string(),
    ))
}

/// The report as `xlsx` or `csv` (UTF-8 with a BOM).
pub async fn report_file(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path((name, format)): Path<(String, String)>,
    Query(p): Query<Period>,
) -> Result<Response, PageError> {
    let Ok(l) = supervision::definition(&name, Some(&state.settings.data_dir)) else {
        return Err(PageError::NotFound(ctx));
    };
    if format != "xlsx" && format != "csv" {
        return Err(PageError::NotFound(ctx));
    }
    let (from, to) = period(&state, &p);
    let file_name = format!(
        "{}_{from}_{to}.{format}",
        l.title.as_deref().unwrap_or(&name)
    );
    let l = supervision::titled(l, from, to);
    let (bytes, mime) = if format == "xlsx" {
        (
            supervision::xlsx(&state.storage, &l, from, to, supervision::MAX_ROWS).await,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    } else {
        (
            supervision::csv(&state.storage, &l, from, to, supervision::MAX_ROWS).await,
            "text/csv; charset=utf-8",
        )
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(supervision::ReportingError::TooManyRows(limit)) => {
            let text = ctx
                .t(
                    "所选期间超过 {} 行，超出单个报表文件的上限，请缩短期间后再下载。",
                    "The period holds more than {} rows, the most one report file holds; \
                     choose a shorter period.",
                )
                .replace("{}", &limit.to_string());
            let page = views::layout::error_page(&ctx, 422, &text);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
        }
        Err(e) => return Err(PageError::internal(&ctx, e)),
    };
    // The registers name applicants: each download is a view of personal data, audited.
    let at = state.clock.now().timestamp_millis();
    crate::desks::record_export(
        &state.storage,
        &s.actor(),
        "report.exported",
        &bytes,
        &file_name,
        at,
    )
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(download(&file_name, mime, bytes))
}
