//! Internal notes on the application page, and the inbox of the notes that mention a member.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::desks::{
    notes::{self, NoteError},
    review::Actor,
};
use crate::domain::ids::ApplicationId;
use crate::views;
use axum::{
    extract::{Path, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_http::request_id::RequestId;

super::routes! {
    "/review/{id}/notes" => post(add_note);
    "/inbox" => get(inbox);
    "/inbox/read" => post(mark_read);
}

/// Mentions the inbox lists (the newest).
const INBOX_ROWS: i64 = 200;

#[derive(Deserialize)]
pub struct NoteForm {
    note: Option<String>,
}

pub async fn add_note(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let page = format!("/review/{id}");
    let (storage, base) = (state.storage.clone(), state.settings.public_url.clone());
    let at = state.clock.now().timestamp_millis();
    let request_id = rid
        .as_ref()
        .and_then(|r| r.0.header_value().to_str().ok())
        .map(str::to_owned);
    let (name, text, app) = (s.actor(), f.note.unwrap_or_default(), id.clone());
    // In a task of its own: a closed tab cannot abandon the transaction.
    let added = tokio::spawn(async move {
        let author = Actor {
            name: &name,
            request_id: request_id.as_deref(),
            may_override: false,
        };
        notes::add(&storage, &base, &app, &text, &author, at).await
    })
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    match added {
        Ok(a) if a.unresolved.is_empty() => Ok(see_other(&page, "note_added")),
        Ok(_) => Ok(see_other(&page, "note_unresolved")),
        Err(NoteError::Invalid) => Ok(see_other(&page, "note_invalid")),
        Err(NoteError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(NoteError::Db(e)) => Err(PageError::internal(&ctx, e)),
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Html<String>, PageError> {
    let rows = state
        .storage
        .inbox(s.staff_id, INBOX_ROWS + 1)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    // One more than shown is read, so the page can say when older mentions are left out.
    let cut = rows.len() as i64 > INBOX_ROWS;
    let shown = &rows[..rows.len().min(INBOX_ROWS as usize)];
    Ok(Html(
        views::notes::inbox_page(&ctx, shown, cut).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct ReadForm {
    /// One mention; none: all of the member's.
    mention: Option<String>,
}

pub async fn mark_read(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<ReadForm>,
) -> Result<Response, PageError> {
    let mention = match f.mention.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        // Ids are positive: `-5` is not "all of them".
        Some(m) => match m.parse::<i64>() {
            Ok(m) if m > 0 => Some(m),
            _ => return Ok(see_other("/inbox", "not_allowed")),
        },
    };
    let (storage, at) = (state.storage.clone(), state.clock.now().timestamp_millis());
    tokio::spawn(
        async move { notes::mark_read(&storage, s.staff_id, &s.actor(), mention, at).await },
    )
    .await
    .map_err(|e| PageError::internal(&ctx, e))?
    .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(see_other("/inbox", "marked_read"))
}
