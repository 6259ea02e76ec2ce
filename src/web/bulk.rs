//! A supervisor's bulk action on rows picked in the queue (`desks::bulk`): the answer is the
//! page of what was done and what refused, and why.

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other},
    state::AppState,
};
use crate::desks::{
    bulk::{self, BulkAction, MAX_SELECTION},
    review::Actor,
};
use crate::views::queue_tools::{bulk_result_page, bulk_too_many_page};
use axum::{extract::State, response::Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_http::request_id::RequestId;

super::routes! {
    "/review/bulk" => post(bulk_action);
}

#[derive(Deserialize)]
pub struct BulkForm {
    action: Option<String>,
    to: Option<String>,
    /// `ID:ROW_VERSION` of each picked row.
    #[serde(default)]
    pick: Vec<String>,
}

pub async fn bulk_action(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Form(f): Form<BulkForm>,
) -> Result<Response, PageError> {
    if f.pick.is_empty() {
        return Ok(see_other("/review", "nothing_selected"));
    }
    if f.pick.len() > MAX_SELECTION {
        return Ok(page_with(
            bulk_too_many_page(&ctx, f.pick.len(), MAX_SELECTION),
            true,
        ));
    }
    let Some(action) = BulkAction::parse(f.action.as_deref().unwrap_or(""), f.to.as_deref()) else {
        return Ok(see_other("/review", "bulk_invalid"));
    };
    if let BulkAction::Reassign(to) = &action {
        let target = state
            .storage
            .staff_by_username(to)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?;
        if !target.is_some_and(|t| t.role == "reviewer" && !t.disabled) {
            return Ok(see_other("/review", "bulk_invalid"));
        }
    }
    let storage = state.storage.clone();
    let at = state.clock.now().timestamp_millis();
    let request_id = rid
        .as_ref()
        .and_then(|r| r.0.header_value().to_str().ok())
        .map(str::to_owned);
    let (name, todo) = (s.actor(), action.clone());
    // One task for the whole run: a closed tab cannot abandon a row half-way.
    let outcomes = tokio::spawn(async move {
        let actor = Actor {
            name: &name,
            request_id: request_id.as_deref(),
            may_override: true,
        };
        bulk::run(&storage, &todo, &f.pick, &actor, at).await
    })
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(page_with(bulk_result_page(&ctx, &action, &outcomes), false))
}
