//! The SLA engine's pages: the SLA figures (supervisors, admins), the outbox of e-mail and SMS
//! (admins),
//! the working-day calendar (admins).

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    paging::Paging,
    state::AppState,
    uploads,
};
use crate::{
    domain::calendar::{DayKind, beijing_day},
    exchange,
    storage::{
        audit, calendar,
        outbox::{EMAIL, SMS},
    },
    views::{self, sla::SlaFigures},
};
use axum::{
    extract::{Multipart, Path, Query, State, multipart::MultipartRejection},
    response::{Html, IntoResponse, Response},
};
use axum_extra::extract::Form;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

super::routes! {
    "/sla" => get(sla_page);
    "/admin/outbox" => get(outbox_page);
    "/admin/outbox/{id}/retry" => post(retry_message);
    "/admin/calendar" => get(calendar_page).post(set_day);
    "/admin/calendar/import" => post(import_calendar), upload exchange::formats::CALENDAR.limit;
}

const DAY: i64 = 86_400_000;

pub async fn sla_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now().timestamp_millis();
    let e = |e| PageError::internal(&ctx, e);
    let (today_start, today_end, today) = beijing_day(now, 0);
    let [today_req, overdue_req, breach_req] = ["", "o_", "b_"].map(|p| paging.req(p));
    let storage = &state.storage;
    let due_today = storage.due_between_page(now, today_end, &today_req);
    let due_today = due_today.await.map_err(e)?;
    let overdue_now = storage.due_between_page(0, now, &overdue_req);
    let overdue_now = overdue_now.await.map_err(e)?;
    let last_30 = state
        .storage
        .sla_counts(now - 30 * DAY, now)
        .await
        .map_err(e)?;
    // Twelve weeks, Monday to Monday, the current one last.
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let this_monday_start = today_start - (today - monday).num_days() * DAY;
    let mut weeks = Vec::new();
    for i in (0..12).rev() {
        let from = this_monday_start - i * 7 * DAY;
        let to = (from + 7 * DAY).min(now);
        let (w, b) = state.storage.sla_counts(from, to).await.map_err(e)?;
        weeks.push((monday - Duration::days(7 * i), w, b));
    }
    let breaches = storage.breaches_between_page(now - 30 * DAY, now, &breach_req);
    let breaches = breaches.await.map_err(e)?;
    let f = SlaFigures {
        pagers: [
            paging.view("", &due_today),
            paging.view("o_", &overdue_now),
            paging.view("b_", &breaches),
        ],
        due_today,
        overdue_now,
        last_30,
        weeks,
        breaches,
    };
    Ok(Html(views::sla::sla_page(&ctx, &f).into_string()))
}

pub async fn outbox_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let storage = &state.storage;
    let mut lists = Vec::new();
    // E-mail, then SMS: each channel's parked and pending messages, and how many went out.
    for (channel, prefixes) in [(EMAIL, ["", "p_"]), (SMS, ["s_", "sp_"])] {
        let (parked_req, pending_req) = (paging.req(prefixes[0]), paging.req(prefixes[1]));
        let parked = storage.outbox_messages_page(channel, "parked", &parked_req);
        let parked = parked.await.map_err(e)?;
        let pending = storage.outbox_messages_page(channel, "pending", &pending_req);
        let pending = pending.await.map_err(e)?;
        let sent = storage.outbox_count_of(channel, "sent").await.map_err(e)?;
        let pagers = [
            paging.view(prefixes[0], &parked),
            paging.view(prefixes[1], &pending),
        ];
        lists.push(views::sla::OutboxLists {
            parked,
            pending,
            sent,
            pagers,
        });
    }
    Ok(Html(views::sla::outbox_page(&ctx, &lists).into_string()))
}

pub async fn retry_message(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.clock.now().timestamp_millis();
    match state.storage.retry_message(id, now, &s.actor()).await {
        Ok(true) => Ok(see_other("/admin/outbox", "saved")),
        Ok(false) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

async fn render_calendar(
    state: &AppState,
    ctx: &crate::views::layout::PageCtx,
    year: i32,
    error: Option<&str>,
) -> Result<Html<String>, PageError> {
    let cal = state
        .calendar
        .refresh()
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    let names = state
        .storage
        .calendar_names(year)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    Ok(Html(
        views::sla::calendar_page(ctx, year, &cal, &names, error).into_string(),
    ))
}

pub async fn calendar_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<YearQuery>,
) -> Result<Html<String>, PageError> {
    let year = q
        .year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| state.clock.now().year());
    render_calendar(&state, &ctx, year, None).await
}

#[derive(Deserialize)]
pub struct DayForm {
    date: NaiveDate,
    working: String,
}

/// Marks one day as working or off; deadlines of waiting applications follow.
pub async fn set_day(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<DayForm>,
) -> Result<Response, PageError> {
    let working = f.working == "1";
    let weekend = matches!(f.date.weekday(), Weekday::Sat | Weekday::Sun);
    let kind = match (weekend, working) {
        (true, true) => Some(DayKind::Workday),
        (false, false) => Some(DayKind::Holiday),
        _ => None,
    };
    let now = state.clock.now().timestamp_millis();
    let e = |e| PageError::internal(&ctx, e);
    let mut tx = state.storage.begin().await.map_err(e)?;
    calendar::set_day(
        &mut tx,
        f.date,
        kind,
        if kind.is_some() { "手动设置" } else { "" },
    )
    .await
    .map_err(e)?;
    let cal = calendar::load_in(&mut tx).await.map_err(e)?;
    let changed = calendar::recompute_deadlines(&mut tx, &cal)
        .await
        .map_err(e)?;
    audit::record(
        &mut tx,
        &audit::AuditEntry {
            at: now,
            actor: &s.actor(),
            action: "calendar.day_set",
            subject_type: "calendar_day",
            subject_id: &f.date.to_string(),
            after: Some(&format!(
                "{} ({changed} deadlines changed)",
                if working { "working" } else { "off" }
            )),
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    state.calendar.refresh().await.map_err(e)?;
    Ok(see_other(
        &format!("/admin/calendar?year={}", f.date.year()),
        "saved",
    ))
}

/// The calendar sheet upload: the same import as `import-calendar`.
pub async fn import_calendar(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let year = state.clock.now().year();
    let bytes = match uploads::read(mp, exchange::formats::CALENDAR).await {
        Ok(up) => up.bytes,
        Err(e) => {
            let page = render_calendar(&state, &ctx, year, Some(&e.message(ctx.locale))).await?;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = state.clock.now().timestamp_millis();
    match exchange::calendar::import(&state.storage, &bytes, &s.actor(), now).await {
        Ok(summary) => {
            state
                .calendar
                .refresh()
                .await
                .map_err(|e| PageError::internal(&ctx, e))?;
            let y = summary.years.first().copied().unwrap_or(year);
            Ok(see_other(&format!("/admin/calendar?year={y}"), "saved"))
        }
        Err(exchange::calendar::ImportError::Sheet(e)) => {
            Ok(render_calendar(&state, &ctx, year, Some(&e.to_string()))
                .await?
                .into_response())
        }
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}
