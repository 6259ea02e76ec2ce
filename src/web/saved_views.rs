//! Saved views: a member keeps queue filters under names, shown as tabs above the queue. A
//! view is the queue's query string as the queue's own filter parses it and writes it back, so
//! a saved view opens exactly the queue it names.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    domain::status::Status,
    storage::{queue::QueueFilter, saved_views::Owner},
    views::review::QueueQuery,
};
use axum::{
    extract::{Path, State},
    response::Response,
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/review/views" => post(save_view);
    "/review/views/{id}/delete" => post(delete_view);
}

/// The longest name of a view, in characters.
pub const NAME_MAX_CHARS: usize = 40;

/// The queue's filter of a query: the waiting statuses only, the switches, the search.
pub fn queue_filter(q: &QueueQuery, now: i64, actor: String) -> QueueFilter {
    QueueFilter {
        status: q
            .status
            .as_deref()
            .and_then(Status::parse)
            .filter(|s| s.awaits_review()),
        overdue_at: QueueQuery::on(&q.overdue).then_some(now),
        claimed_by: QueueQuery::on(&q.mine).then_some(actor),
        unclaimed: QueueQuery::on(&q.unclaimed),
        resubmissions: QueueQuery::on(&q.resub),
        with_findings: QueueQuery::on(&q.findings),
        search: q.q.clone().filter(|v| !v.trim().is_empty()),
    }
}

/// Parses a query string as the queue does; None when it names a status the queue does not
/// have or a search longer than a search can be. Other keys (a message, a page) are dropped.
pub fn parse_query(query: &str) -> Option<QueueQuery> {
    if query.len() > 1000 {
        return None;
    }
    let mut q = QueueQuery::default();
    for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "status" => q.status = v,
            "overdue" => q.overdue = v,
            "mine" => q.mine = v,
            "unclaimed" => q.unclaimed = v,
            "resub" => q.resub = v,
            "findings" => q.findings = v,
            "q" => q.q = v,
            _ => {}
        }
    }
    let status_ok = q
        .status
        .as_deref()
        .is_none_or(|s| s.is_empty() || Status::parse(s).is_some_and(|s| s.awaits_review()));
    let search_ok =
        q.q.as_deref()
            .is_none_or(|t| t.trim().chars().count() <= 100);
    (status_ok && search_ok).then_some(q)
}

/// The query string of a filter, written the one way: what a view stores and a tab links.
pub fn canonical(q: &QueueQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        out.append_pair("status", s);
    }
    let switches = [
        ("overdue", &q.overdue),
        ("mine", &q.mine),
        ("unclaimed", &q.unclaimed),
        ("resub", &q.resub),
        ("findings", &q.findings),
    ];
    for (k, v) in switches {
        if QueueQuery::on(v) {
            out.append_pair(k, "1");
        }
    }
    if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        out.append_pair("q", t);
    }
    out.finish()
}

#[derive(Deserialize)]
pub struct SaveForm {
    name: Option<String>,
    query: Option<String>,
}

/// Saves the filter under a name (replacing a view of that name); at most 20 views each.
pub async fn save_view(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<SaveForm>,
) -> Result<Response, PageError> {
    let name = f.name.as_deref().map(str::trim).unwrap_or("");
    let parsed = parse_query(f.query.as_deref().unwrap_or(""));
    let (Some(q), false) = (
        parsed,
        name.is_empty() || name.chars().count() > NAME_MAX_CHARS,
    ) else {
        return Ok(see_other("/review", "view_invalid"));
    };
    let query = canonical(&q);
    let (storage, at) = (state.storage.clone(), state.clock.now().timestamp_millis());
    let (name, stored) = (name.to_owned(), query.clone());
    // In a task of its own: a closed tab cannot abandon the transaction.
    let saved = tokio::spawn(async move {
        let owner = Owner {
            staff_id: s.staff_id,
            username: &s.username,
        };
        storage.save_view(&owner, &name, &stored, at).await
    })
    .await
    .map_err(|e| PageError::internal(&ctx, e))?
    .map_err(|e| PageError::internal(&ctx, e))?;
    let back = if query.is_empty() {
        "/review".to_owned()
    } else {
        format!("/review?{query}")
    };
    Ok(see_other(
        &back,
        if saved { "view_saved" } else { "views_full" },
    ))
}

/// Deletes one of the member's own views (another's is not found).
pub async fn delete_view(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(see_other("/review", "view_not_found"));
    };
    let (storage, at) = (state.storage.clone(), state.clock.now().timestamp_millis());
    let deleted = tokio::spawn(async move {
        let owner = Owner {
            staff_id: s.staff_id,
            username: &s.username,
        };
        storage.delete_view(&owner, id, at).await
    })
    .await
    .map_err(|e| PageError::internal(&ctx, e))?
    .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(see_other(
        "/review",
        if deleted {
            "view_deleted"
        } else {
            "view_not_found"
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_written_back_one_way() {
        let q =
            parse_query("?q=+WT1+&mine=1&status=in_review&after=x&msg=saved&overdue=0").unwrap();
        assert_eq!(canonical(&q), "status=in_review&mine=1&q=WT1");
        assert_eq!(canonical(&parse_query("").unwrap()), "");
        assert!(parse_query("status=accepted").is_none());
        assert!(parse_query(&format!("q={}", "1".repeat(101))).is_none());
    }
}
