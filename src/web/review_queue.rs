//! The review desk's queue page: the queue by deadline with its filters, the member's saved
//! views as tabs, the assignment panel, and (for supervisors) the rows picked for a bulk action.

use super::{
    pages::{Ctx, PageError, Staff},
    paging::Paging,
    state::AppState,
};
use crate::views::{self, review::QueueQuery};
use axum::{
    extract::{Query, State},
    response::Html,
};

pub async fn queue(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Query(q): Query<QueueQuery>,
    Query(summary): Query<views::assignment::Summary>,
    paging: Paging,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now().timestamp_millis();
    let panel = super::assignment::desk_panel(&state, &ctx, &s, &summary).await?;
    let filter = super::saved_views::queue_filter(&q, now, s.actor());
    let rows = state
        .storage
        .queue_page(&filter, &paging.req(""))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let pager = paging.view("", &rows);
    let views = state
        .storage
        .saved_views(s.staff_id)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    // Supervisors pick rows for a bulk action, reassigning among the active reviewers.
    let reviewers = if s.role == "supervisor" {
        Some(
            active_reviewers(&state)
                .await
                .map_err(|e| PageError::internal(&ctx, e))?,
        )
    } else {
        None
    };
    let tools = views::queue_tools::QueueTools {
        views: &views,
        current: super::saved_views::canonical(&q),
        bulk: reviewers.as_deref(),
    };
    Ok(Html(
        views::review::queue_page(&ctx, &q, &rows.rows, &pager, now, panel, &tools).into_string(),
    ))
}

/// The active reviewers, (username, display name): whom a supervisor may reassign to.
pub async fn active_reviewers(state: &AppState) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(state
        .storage
        .staff_list()
        .await?
        .into_iter()
        .filter(|u| u.role == "reviewer" && !u.disabled)
        .map(|u| (u.username, u.display_name))
        .collect())
}
