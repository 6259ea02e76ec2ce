//! The hotline desk: look-ups by id, hall reference, mobile, serial, or name with the ID's last
//! four; the masked status view with a script; verification without disclosure; call notes.
//! Every look-up and view is audited; an agent over the hourly limit is refused and supervisors
//! are told.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    paging::Paging,
    state::AppState,
};
use crate::{
    desks::hotline::{self, Agent, HotlineError},
    domain::ids::ApplicationId,
    views::{self, hotline::ResultRow, layout::PageCtx},
};
use axum::{
    extract::{Path, Query, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/hotline" => get(search);
    "/hotline/{id}" => get(view);
    "/hotline/{id}/verify" => post(verify);
    "/hotline/{id}/note" => post(note);
    "/hotline-lookups" => get(lookups);
}

const OVER_LIMIT: (&str, &str) = (
    "本小时查询次数已达上限，已通知主管。请稍后再试。",
    "You reached this hour's look-up limit; a supervisor has been told. Try again later.",
);

/// The signed-in agent, under the configured hourly limit.
fn agent<'a>(state: &AppState, actor: &'a str, ctx: &'a PageCtx) -> Agent<'a> {
    Agent {
        actor,
        lookups_per_hour: state.settings.hotline_lookups_per_hour,
        request_id: &ctx.request_id,
    }
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn search(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Query(sq): Query<SearchQuery>,
) -> Result<Html<String>, PageError> {
    let q = sq.q.unwrap_or_default();
    let render = |rows: Option<&[ResultRow]>, refusal: Option<&str>| {
        Html(views::hotline::search_page(&ctx, &q, rows, refusal).into_string())
    };
    if q.trim().is_empty() {
        return Ok(render(None, None));
    }
    let Some(query) = hotline::parse_query(&q) else {
        return Ok(render(
            None,
            Some(ctx.t(
                "请输入受理编号、网厅编号、手机号、证书序列号，或“姓名 证件号后四位”。",
                "Type an id, hall reference, mobile, serial, or “name last-4-of-ID”.",
            )),
        ));
    };
    let now = state.clock.now().timestamp_millis();
    let actor = s.actor();
    match hotline::search(
        &state.storage,
        &agent(&state, &actor, &ctx),
        &q,
        &query,
        now,
    )
    .await
    {
        Ok(rows) => Ok(render(Some(&rows), None)),
        Err(HotlineError::OverLimit) => Ok(render(None, Some(ctx.t(OVER_LIMIT.0, OVER_LIMIT.1)))),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

pub async fn view(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let now = state.clock.now().timestamp_millis();
    let actor = s.actor();
    match hotline::application(&state.storage, &agent(&state, &actor, &ctx), &id, now).await {
        Ok(v) => Ok(Html(
            views::hotline::application_page(&ctx, &v).into_string(),
        )),
        Err(HotlineError::OverLimit) => Ok(Html(
            views::hotline::search_page(&ctx, "", None, Some(ctx.t(OVER_LIMIT.0, OVER_LIMIT.1)))
                .into_string(),
        )),
        Err(HotlineError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    method: String,
    value: String,
}

/// Compares what the caller says with the record; the agent learns only "matches" or not.
pub async fn verify(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<VerifyForm>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let now = state.clock.now().timestamp_millis();
    let actor = s.actor();
    let agent = agent(&state, &actor, &ctx);
    let back = format!("/hotline/{id}");
    match hotline::verify(&state.storage, &agent, &id, &f.method, &f.value, now).await {
        Ok(true) => Ok(see_other(&back, "verified_ok")),
        Ok(false) => Ok(see_other(&back, "verified_no")),
        Err(HotlineError::OverLimit | HotlineError::TooManyChecks) => {
            Ok(see_other(&back, "verify_limit"))
        }
        Err(HotlineError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    note: String,
}

/// A call note, shown to reviewers in the application's timeline.
pub async fn note(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let text = f.note.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Ok(see_other(&format!("/hotline/{id}"), "need_note"));
    }
    let now = state.clock.now().timestamp_millis();
    let actor = s.actor();
    match hotline::note(&state.storage, &agent(&state, &actor, &ctx), &id, text, now).await {
        Ok(()) => Ok(see_other(&format!("/hotline/{id}"), "noted")),
        Err(HotlineError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

pub async fn lookups(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now().timestamp_millis();
    let (rows, recent) = hotline::lookups(&state.storage, now, &paging.req(""))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::hotline::lookups_page(
            &ctx,
            &rows,
            (&recent.rows, &paging.view("", &recent)),
            state.settings.hotline_lookups_per_hour,
        )
        .into_string(),
    ))
}
