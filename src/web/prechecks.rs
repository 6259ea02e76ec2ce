//! The pre-checks' pages: a reviewer's verdict on a finding (right, or a false alarm), kept with
//! the finding; the supervisors' page of precision per check.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{domain::ids::ApplicationId, views};
use axum::{
    extract::{Path, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/review/{id}/findings" => post(record_finding_verdict);
    "/supervision/prechecks" => get(precision_page);
}

#[derive(Deserialize)]
pub struct VerdictForm {
    version: i64,
    kind: String,
    check: String,
    verdict: String,
}

/// POST /review/{id}/findings: "confirmed" (the hint was right) or "dismissed" (a false alarm).
pub async fn record_finding_verdict(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<VerdictForm>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    if f.verdict != "confirmed" && f.verdict != "dismissed" {
        return Err(PageError::NotFound(ctx));
    }
    let now = state.clock.now().timestamp_millis();
    let key = (f.version, f.kind.as_str(), f.check.as_str());
    match state
        .storage
        .record_finding_verdict(&id, key, &f.verdict, &s.actor(), now)
        .await
    {
        Ok(true) => Ok(see_other(&format!("/review/{}", id.as_str()), "saved")),
        Ok(false) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

/// GET /supervision/prechecks: per check, how often a flag was confirmed by the reviewer.
pub async fn precision_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let rows = state
        .storage
        .precheck_precision()
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::prechecks::precision_page(&ctx, &rows).into_string(),
    ))
}
