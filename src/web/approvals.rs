//! Four eyes on the review desk: a second reviewer (or a supervisor) approves or rejects an
//! acceptance held for approval; an admin sets the rules.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    desks::{
        four_eyes::{self, Decision},
        review::{ActionError, Actor},
    },
    domain::{four_eyes::Rules, ids::ApplicationId},
    views::{self, layout::error_page},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_http::request_id::RequestId;

super::routes! {
    "/review/{id}/approve" => post(approve);
    "/review/{id}/reject-approval" => post(reject);
    "/admin/four-eyes" => get(rules_page).post(save_rules);
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    row_version: Option<i64>,
    note: Option<String>,
}

fn request_id(rid: &Option<axum::Extension<RequestId>>) -> Option<String> {
    rid.as_ref()
        .and_then(|r| r.0.header_value().to_str().ok())
        .map(str::to_owned)
}

async fn decide(
    state: AppState,
    ctx: crate::views::layout::PageCtx,
    actor_name: String,
    rid: Option<String>,
    id: String,
    approve: bool,
    f: ApprovalForm,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let at = state.clock.now().timestamp_millis();
    let d = Decision {
        note: f.note,
        expected_row_version: f.row_version,
    };
    let storage = state.storage.clone();
    let task_id = id.clone();
    // In its own task: a closed browser tab cannot abandon the transaction.
    let result = tokio::spawn(async move {
        let actor = Actor {
            name: &actor_name,
            request_id: rid.as_deref(),
            may_override: false,
        };
        four_eyes::decide(&storage, &task_id, approve, &d, &actor, at).await
    })
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    let page = format!("/review/{id}");
    match result {
        Ok(_) if approve => Ok(see_other("/review", "approved")),
        Ok(_) => Ok(see_other("/review", "approval_rejected")),
        // The maker can never be the checker: refused outright, with the reason.
        Err(ActionError::OwnApproval) => Ok((
            StatusCode::FORBIDDEN,
            Html(
                error_page(
                    &ctx,
                    403,
                    ctx.t(
                        "不能复核自己受理的申请，须由另一位审核员或主管复核。",
                        "You accepted this application: another reviewer or a supervisor must approve it.",
                    ),
                )
                .into_string(),
            ),
        )
            .into_response()),
        Err(ActionError::NeedNote) => Ok(see_other(&page, "need_approval_note")),
        Err(ActionError::Conflict) => Ok(see_other(&page, "conflict")),
        Err(ActionError::Illegal(_)) => Ok(see_other(&page, "not_allowed")),
        Err(ActionError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Path(id): Path<String>,
    Form(f): Form<ApprovalForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, s.actor(), request_id(&rid), id, true, f).await
}

pub async fn reject(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Path(id): Path<String>,
    Form(f): Form<ApprovalForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, s.actor(), request_id(&rid), id, false, f).await
}

pub async fn rules_page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let configured = state.settings.review.four_eyes;
    let rules = four_eyes::rules_in_force(&state.storage, Some(configured))
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::approvals::rules_page(&ctx, &rules, &configured, None).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct RulesForm {
    findings: Option<String>,
    payment_override: Option<String>,
    sample_percent: String,
    sample_seed: String,
}

pub async fn save_rules(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Form(f): Form<RulesForm>,
) -> Result<Response, PageError> {
    let configured = state.settings.review.four_eyes;
    let percent = f
        .sample_percent
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= 100);
    let seed = f.sample_seed.trim().parse::<i64>().ok();
    let (Some(sample_percent), Some(sample_seed)) = (percent, seed) else {
        let rules = four_eyes::rules_in_force(&state.storage, Some(configured))
            .await
            .map_err(|e| PageError::internal(&ctx, e))?;
        let msg = ctx.t(
            "抽样比例须为 0–100 的整数，种子须为整数。",
            "The sample share must be a whole number from 0 to 100, the seed a whole number.",
        );
        let page = views::approvals::rules_page(&ctx, &rules, &configured, Some(msg));
        return Ok(super::pages::page_with(page, true));
    };
    let rules = Rules {
        unresolved_findings: f.findings.is_some(),
        payment_override: f.payment_override.is_some(),
        sample_percent,
        sample_seed,
    };
    let (name, rid) = (s.actor(), request_id(&rid));
    let actor = Actor {
        name: &name,
        request_id: rid.as_deref(),
        may_override: false,
    };
    let now = state.clock.now().timestamp_millis();
    four_eyes::save_rules(&state.storage, Some(configured), &rules, &actor, now)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(see_other("/admin/four-eyes", "saved"))
}
