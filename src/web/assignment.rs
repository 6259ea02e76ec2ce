//! Assignment by the server on the pages: the supervisor's board (the setting, the reviewers'
//! open claims and absences, handing a reviewer's claims back), and on the reviewer's desk
//! "I am away" / "I am back" and "hand back my claims". Each action runs in a task of its own
//! (a closed tab cannot abandon it), then an assignment pass gives what it freed to others.

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other},
    state::AppState,
};
use crate::{
    desks::{
        assignment::{self, AwayError, HandBack},
        review::Actor,
    },
    domain::assignment::{AwayKind, MAX_CAP, Rules},
    views::{
        self,
        assignment::{Board, Summary},
        layout::PageCtx,
    },
};
use axum::{
    extract::{Query, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::future::Future;

super::routes! {
    "/supervision/assignment" => get(board_page).post(save_settings);
    "/supervision/assignment/hand-back" => post(hand_back_of);
    "/review/away" => post(away);
    "/review/hand-back" => post(hand_back_mine);
}

/// Runs a desk action in its own task; a failed task is an internal error.
async fn in_task<T: Send + 'static>(
    ctx: &PageCtx,
    f: impl Future<Output = Result<T, PageError>> + Send + 'static,
) -> Result<T, PageError> {
    tokio::spawn(f)
        .await
        .map_err(|e| PageError::internal(ctx, e))?
}

fn handed_back(path: &str, h: HandBack) -> Response {
    see_other(
        &format!("{path}?released={}&changed={}", h.released, h.changed),
        "handed_back",
    )
}

/// A pass after an action that freed a reviewer or applications; its failure is logged only.
async fn pass(state: &AppState) -> usize {
    crate::jobs::assignment::run_once(&state.core)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "assignment pass failed"))
        .unwrap_or(0)
}

async fn board(
    state: &AppState,
    ctx: &PageCtx,
) -> Result<(Rules, Vec<crate::storage::assignment::BoardRow>), PageError> {
    let now = state.clock.now().timestamp_millis();
    let configured = state.settings.review.assignment;
    let rules = assignment::rules_in_force(&state.storage, configured)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    let rows = state
        .storage
        .assignment_board(now)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    Ok((rules, rows))
}

pub async fn board_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Query(summary): Query<Summary>,
) -> Result<Html<String>, PageError> {
    let can_edit = s.role == "supervisor";
    let (rules, rows) = board(&state, &ctx).await?;
    let b = Board {
        rules: &rules,
        configured: &state.settings.review.assignment,
        rows: &rows,
        can_edit,
        error: None,
        summary: &summary,
    };
    Ok(Html(views::assignment::board_page(&ctx, &b).into_string()))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    enabled: Option<String>,
    cap: String,
}

/// A supervisor switches assignment on or off and sets the cap; switched on, a pass runs at once.
pub async fn save_settings(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let cap = f.cap.trim().parse::<u32>().ok();
    let Some(cap) = cap.filter(|c| (1..=MAX_CAP).contains(c)) else {
        let (rules, rows) = board(&state, &ctx).await?;
        let summary = Summary::default();
        let b = Board {
            rules: &rules,
            configured: &state.settings.review.assignment,
            rows: &rows,
            can_edit: true,
            error: Some(ctx.t(
                "每人上限须为 1–1000 的整数。",
                "The cap must be a whole number from 1 to 1000.",
            )),
            summary: &summary,
        };
        return Ok(page_with(views::assignment::board_page(&ctx, &b), true));
    };
    let new = Rules {
        enabled: f.enabled.is_some(),
        cap,
    };
    let (name, rid, c) = (s.actor(), ctx.request_id.clone(), ctx.clone());
    let st = state.clone();
    let assigned = in_task(&ctx, async move {
        let actor = Actor {
            name: &name,
            request_id: Some(&rid),
            may_override: false,
        };
        let now = st.clock.now().timestamp_millis();
        let configured = st.settings.review.assignment;
        assignment::save_rules(&st.storage, configured, &new, &actor, now)
            .await
            .map_err(|e| PageError::internal(&c, e))?;
        Ok(if new.enabled { pass(&st).await } else { 0 })
    })
    .await?;
    Ok(see_other(
        &format!("/supervision/assignment?assigned={assigned}"),
        "saved",
    ))
}

#[derive(Deserialize)]
pub struct HandBackForm {
    reviewer: Option<String>,
    /// Also mark them away (holiday, sick, other), open-ended: a reviewer who falls ill
    /// cannot say so themselves, and would otherwise get their claims straight back.
    away: Option<String>,
}

/// A supervisor hands a reviewer's open claims back to the pool.
pub async fn hand_back_of(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<HandBackForm>,
) -> Result<Response, PageError> {
    let page = "/supervision/assignment";
    let Some(username) = f.reviewer.filter(|r| !r.trim().is_empty()) else {
        return Ok(see_other(page, "not_allowed"));
    };
    let known = state
        .storage
        .staff_by_username(&username)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?
        .is_some_and(|u| u.role == "reviewer");
    if !known {
        return Ok(see_other(page, "not_allowed"));
    }
    if let Some(kind) = f.away.as_deref().and_then(AwayKind::parse) {
        let (st, c, name, rid, who) = (
            state.clone(),
            ctx.clone(),
            s.actor(),
            ctx.request_id.clone(),
            username.clone(),
        );
        in_task(&ctx, async move {
            let actor = Actor {
                name: &name,
                request_id: Some(&rid),
                may_override: true,
            };
            let now = st.clock.now().timestamp_millis();
            assignment::set_away(&st.storage, &who, kind, None, &actor, now)
                .await
                .map_err(|e| PageError::internal(&c, e))
        })
        .await?;
    }
    if stays_available(&state, &ctx, &username).await? {
        return Ok(see_other(page, "hand_back_needs_away"));
    }
    let h = hand_back(&state, &ctx, format!("staff:{username}"), s.actor(), true).await?;
    Ok(handed_back(page, h))
}

/// While the server assigns, claims handed back by a reviewer who stays available would be
/// dealt straight back to them (they now hold the fewest): such a hand-back is refused, and the
/// page says to mark the absence first.
async fn stays_available(
    state: &AppState,
    ctx: &PageCtx,
    username: &str,
) -> Result<bool, PageError> {
    let rules = assignment::rules_in_force(&state.storage, state.settings.review.assignment)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    if !rules.enabled {
        return Ok(false);
    }
    let now = state.clock.now().timestamp_millis();
    let away = crate::storage::assignment::away_of(state.storage.read_pool(), username)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    Ok(!away.is_some_and(|a| a.holds_at(now)))
}

/// A reviewer hands their own open claims back to the pool.
pub async fn hand_back_mine(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Response, PageError> {
    if stays_available(&state, &ctx, &s.username).await? {
        return Ok(see_other("/review", "hand_back_needs_away"));
    }
    let h = hand_back(&state, &ctx, s.actor(), s.actor(), false).await?;
    Ok(handed_back("/review", h))
}

async fn hand_back(
    state: &AppState,
    ctx: &PageCtx,
    holder: String,
    by: String,
    supervisor: bool,
) -> Result<HandBack, PageError> {
    let (st, c, rid) = (state.clone(), ctx.clone(), ctx.request_id.clone());
    in_task(ctx, async move {
        let actor = Actor {
            name: &by,
            request_id: Some(&rid),
            may_override: supervisor,
        };
        let now = st.clock.now().timestamp_millis();
        let h = assignment::hand_back(&st.storage, &holder, &actor, now)
            .await
            .map_err(|e| PageError::internal(&c, e))?;
        pass(&st).await;
        Ok(h)
    })
    .await
}

#[derive(Deserialize)]
pub struct AwayForm {
    kind: Option<String>,
    /// The last day away (YYYY-MM-DD); empty: until back.
    until: Option<String>,
    /// Also hand back my open claims.
    hand_back: Option<String>,
    /// "I am back".
    back: Option<String>,
}

/// A reviewer marks themselves away (and may hand back their claims at once), or back.
pub async fn away(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<AwayForm>,
) -> Result<Response, PageError> {
    let username = s.username.clone();
    let (name, rid, c, st) = (
        s.actor(),
        ctx.request_id.clone(),
        ctx.clone(),
        state.clone(),
    );
    if f.back.is_some() {
        in_task(&ctx, async move {
            let actor = Actor {
                name: &name,
                request_id: Some(&rid),
                may_override: false,
            };
            let now = st.clock.now().timestamp_millis();
            assignment::back(&st.storage, &username, &actor, now)
                .await
                .map_err(|e| PageError::internal(&c, e))?;
            pass(&st).await;
            Ok(())
        })
        .await?;
        return Ok(see_other("/review", "away_ended"));
    }
    let kind = f.kind.as_deref().and_then(AwayKind::parse);
    let until = match f.until.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) => chrono::NaiveDate::parse_from_str(u, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ()),
    };
    let (Some(kind), Ok(until)) = (kind, until) else {
        return Ok(see_other("/review", "not_allowed"));
    };
    let also = f.hand_back.is_some();
    let r = in_task(&ctx, async move {
        let actor = Actor {
            name: &name,
            request_id: Some(&rid),
            may_override: false,
        };
        let now = st.clock.now().timestamp_millis();
        match assignment::set_away(&st.storage, &username, kind, until, &actor, now).await {
            Ok(()) => {}
            Err(AwayError::Past) => return Ok(None),
            Err(AwayError::Db(e)) => return Err(PageError::internal(&c, e)),
        }
        if !also {
            return Ok(Some(None));
        }
        let h = assignment::hand_back(&st.storage, &name, &actor, now)
            .await
            .map_err(|e| PageError::internal(&c, e))?;
        pass(&st).await;
        Ok(Some(Some(h)))
    })
    .await?;
    Ok(match r {
        None => see_other("/review", "away_past"),
        Some(None) => see_other("/review", "away_set"),
        Some(Some(h)) => handed_back("/review", h),
    })
}

/// The reviewer's panel on the queue page: assignment on or off, their open claims, away or
/// not (with the forms); None for other roles.
pub async fn desk_panel(
    state: &AppState,
    ctx: &PageCtx,
    s: &crate::web::identity::StaffIdentity,
    summary: &Summary,
) -> Result<Option<maud::Markup>, PageError> {
    if s.role != "reviewer" {
        return Ok(None);
    }
    let e = |e| PageError::internal(ctx, e);
    let now = state.clock.now().timestamp_millis();
    let rules = assignment::rules_in_force(&state.storage, state.settings.review.assignment)
        .await
        .map_err(e)?;
    let away = crate::storage::assignment::away_of(state.storage.read_pool(), &s.username)
        .await
        .map_err(e)?
        .filter(|a| a.holds_at(now));
    let open = state.storage.open_claims_of(&s.actor()).await.map_err(e)?;
    let p = views::assignment::DeskPanel {
        rules: &rules,
        away: away.as_ref(),
        open: open.len(),
        summary,
    };
    Ok(Some(views::assignment::desk_panel(ctx, &p)))
}
