//! Quality sampling (supervisors): draw a random N of a week's decisions per reviewer, record
//! agree / disagree, and see the disagreement rate per reviewer and per reason.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    desks::supervision::day_start,
    domain::{calendar::beijing_day, sampling},
    views::{self, supervision::QualityPage},
};
use axum::{
    extract::{Path, Query, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

super::routes! {
    "/supervision/quality" => get(quality_page).post(draw_sample);
    "/supervision/quality/{id}" => post(record_verdict);
}

#[derive(Deserialize)]
pub struct WeekQuery {
    week: Option<NaiveDate>,
}

/// The Monday of the week a day is in; by default last week's (the one just finished).
fn monday_of(state: &AppState, d: Option<NaiveDate>) -> NaiveDate {
    let (_, _, today) = beijing_day(state.clock.now().timestamp_millis(), 0);
    // Within 2000–2099: the weeks before and after it are linked, and must exist.
    let d = d.unwrap_or(today - Duration::days(7)).clamp(
        crate::domain::period::first_day() + Duration::days(7),
        crate::domain::period::last_day(),
    );
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

pub async fn quality_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<WeekQuery>,
) -> Result<Html<String>, PageError> {
    let week = monday_of(&state, q.week);
    let e = |e| PageError::internal(&ctx, e);
    let p = QualityPage {
        week,
        samples: state
            .storage
            .samples_of_week(&week.to_string())
            .await
            .map_err(e)?,
        by_reviewer: state.storage.disagreement_by_reviewer().await.map_err(e)?,
        by_reason: state.storage.disagreement_by_reason().await.map_err(e)?,
    };
    Ok(Html(
        views::supervision::quality_page(&ctx, &p).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct DrawForm {
    week: NaiveDate,
    n: usize,
    seed: i64,
}

/// Draws up to N decisions per reviewer from the week; the same seed draws the same sample.
pub async fn draw_sample(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<DrawForm>,
) -> Result<Response, PageError> {
    let week = monday_of(&state, Some(f.week));
    let from = day_start(week);
    let e = |e| PageError::internal(&ctx, e);
    let pool = state
        .storage
        .decisions_between(from, from + 7 * 86_400_000)
        .await
        .map_err(e)?;
    let drawn = sampling::pick(&pool, f.n.min(100), f.seed);
    let now = state.clock.now().timestamp_millis();
    state
        .storage
        .insert_samples(&drawn, &week.to_string(), (f.n, f.seed), &s.actor(), now)
        .await
        .map_err(e)?;
    Ok(see_other(
        &format!("/supervision/quality?week={week}"),
        "saved",
    ))
}

#[derive(Deserialize)]
pub struct VerdictForm {
    verdict: String,
    #[serde(default)]
    note: String,
    week: NaiveDate,
}

pub async fn record_verdict(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
    Form(f): Form<VerdictForm>,
) -> Result<Response, PageError> {
    if f.verdict != "agree" && f.verdict != "disagree" {
        return Err(PageError::NotFound(ctx));
    }
    let now = state.clock.now().timestamp_millis();
    match state
        .storage
        .record_verdict(id, &f.verdict, f.note.trim(), &s.actor(), now)
        .await
    {
        Ok(true) => Ok(see_other(
            &format!("/supervision/quality?week={}", f.week),
            "saved",
        )),
        Ok(false) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}
