//! The review desk: the queue, the application page with its scans, and the decisions.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    desks::review::{self, ActionError, Actor, Step},
    domain::{
        ids::ApplicationId,
        intake::NewApplication,
        returned_part::Part,
        serial::CertificateSerial,
        status::{Action, Status},
    },
    storage::audit::AuditEntry,
    views,
};
use axum::{
    extract::{Path, Query, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use tower_http::request_id::RequestId;

super::routes! {
    "/review" => get(super::review_queue::queue);
    "/review/next" => post(claim_next);
    "/review/{id}" => get(application);
    "/review/{id}/scans/{version}/{kind}" => get(super::scans::scan);
    "/review/{id}/claim" => post(claim);
    "/review/{id}/release" => post(release);
    "/review/{id}/accept" => post(accept);
    "/review/{id}/return" => post(return_application);
    "/review/{id}/reassign" => post(reassign);
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    compare: Option<String>,
}

pub async fn application(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let detail = state
        .storage
        .review_detail(&id)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let parse = |body: &str| {
        serde_json::from_str(body)
            .ok()
            .and_then(|v| NewApplication::parse(&v, None).ok())
    };
    if crate::storage::retention::is_tombstone(&detail.body) {
        return Err(PageError::Erased(ctx));
    }
    let app = parse(&detail.body)
        .ok_or_else(|| PageError::internal(&ctx, "stored body does not parse"))?;
    let previous = detail.previous_body.as_deref().and_then(parse);
    let cert = match CertificateSerial::parse(&detail.row.certificate_serial) {
        Ok(serial) => state
            .storage
            .certificate(&serial)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?,
        Err(_) => None,
    };
    let reasons = state
        .storage
        .return_reasons(true)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let supervisor = s.role == "supervisor";
    let status = detail.row.status;
    let mine = detail.row.claimed_by.as_deref() == Some(s.actor().as_str());
    let reviewers: Vec<(String, String)> = if supervisor {
        super::review_queue::active_reviewers(&state)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?
    } else {
        Vec::new()
    };
    // Every view of personal data is audited.
    let now = state.clock.now().timestamp_millis();
    state
        .storage
        .audit_view(&AuditEntry {
            at: now,
            actor: &s.actor(),
            action: "application.viewed",
            subject_type: "application",
            subject_id: id.as_str(),
            request_id: Some(&ctx.request_id),
            ..Default::default()
        })
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let version = detail.row.version;
    let findings = state
        .storage
        .findings_of(&id, version)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let previous_findings = if version > 1 {
        Some(
            state
                .storage
                .findings_of(&id, version - 1)
                .await
                .map_err(|e| PageError::internal(&ctx, e))?,
        )
    } else {
        None
    };
    let prechecked = state
        .storage
        .precheck_status(&id, version)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?
        .is_some_and(|s| s != "pending");
    let approval = if status == Status::AwaitingApproval {
        crate::storage::four_eyes::pending(state.storage.read_pool(), &id)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?
    } else {
        None
    };
    // A resubmission: what the return of the previous version sent back, part by part.
    let returned_parts = if version > 1 {
        crate::storage::applications::returned_parts(state.storage.read_pool(), &id, version - 1)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?
    } else {
        Vec::new()
    };
    let mut scans: Vec<_> = detail.scans.iter().collect();
    if q.compare.is_some() {
        scans.extend(detail.previous_scans.iter());
    }
    let pdf_pages = super::scans::pdf_pages(&state, &ctx, &scans).await?;
    let notes = state
        .storage
        .notes_of(&id)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let page = views::review::AppPage {
        detail: &detail,
        pdf_pages: &pdf_pages,
        app: &app,
        previous: previous.as_ref(),
        cert: cert.as_ref(),
        reasons: &reasons,
        reviewers: &reviewers,
        can_claim: status == Status::Submitted,
        can_decide: status == Status::InReview && (mine || supervisor),
        can_release: status == Status::InReview && (mine || supervisor),
        can_reassign: supervisor && matches!(status, Status::Submitted | Status::InReview),
        can_override_payment: supervisor,
        compare: q.compare.is_some(),
        now_ms: now,
        findings: &findings,
        previous_findings: previous_findings.as_deref(),
        prechecked,
        can_judge: true,
        can_approve: approval
            .as_ref()
            .is_some_and(|a| a.requested_by != s.actor()),
        approval: approval.as_ref(),
        returned_parts: &returned_parts,
        notes: &notes,
    };
    Ok(Html(
        views::review::application_page(&ctx, &page).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    row_version: Option<i64>,
    #[serde(default)]
    reasons: Vec<String>,
    /// Per reason, the part it is about: `<code>=<part>` (`<code>=`: general). A reason without
    /// one takes the catalogue's default part.
    #[serde(default)]
    parts: Vec<String>,
    note: Option<String>,
    to: Option<String>,
    payment_override: Option<String>,
}

fn request_id(rid: &Option<axum::Extension<RequestId>>) -> Option<String> {
    rid.as_ref()
        .and_then(|r| r.0.header_value().to_str().ok())
        .map(str::to_owned)
}

/// The staff member acting, owned so that the action can run in a task of its own.
struct Acting {
    name: String,
    request_id: Option<String>,
    may_override: bool,
}

/// Runs `review::act` in its own task: a closed browser tab cannot abandon the transaction.
async fn act_in_task(
    state: &AppState,
    id: &ApplicationId,
    action: Action,
    step: Step,
    who: Acting,
) -> Result<Result<Status, ActionError>, tokio::task::JoinError> {
    let storage = state.storage.clone();
    let at = state.clock.now().timestamp_millis();
    let id = id.to_owned();
    tokio::spawn(async move {
        let actor = Actor {
            name: &who.name,
            request_id: who.request_id.as_deref(),
            may_override: who.may_override,
        };
        review::act(&storage, &id, action, &step, &actor, at).await
    })
    .await
}

/// Runs a staff action and turns the outcome into a redirect with a message.
async fn run_action(
    state: &AppState,
    ctx: &crate::views::layout::PageCtx,
    id: &ApplicationId,
    who: Acting,
    action: Action,
    step: Step,
    ok_msg: &str,
) -> Result<Response, PageError> {
    let result = act_in_task(state, id, action, step, who)
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    let page = format!("/review/{id}");
    match result {
        Ok(Status::AwaitingApproval) => Ok(see_other("/review", "approval_requested")),
        // A decision sends the reviewer back to the queue; anything else stays on the page.
        Ok(_) => Ok(see_other(
            if matches!(action, Action::Accept | Action::Return) {
                "/review"
            } else {
                &page
            },
            ok_msg,
        )),
        Err(ActionError::Conflict) => Ok(see_other(&page, "conflict")),
        Err(ActionError::NotYours) => Ok(see_other(&page, "not_yours")),
        Err(ActionError::PaymentNotVerified(_)) => Ok(see_other(&page, "payment_unverified")),
        Err(ActionError::Illegal(_)) => Ok(see_other(&page, "not_allowed")),
        Err(ActionError::NotFound) => Err(PageError::NotFound(ctx.clone())),
        Err(e) => Err(PageError::internal(ctx, e)),
    }
}

/// May this member decide (accept, return, release) on an application claimed by `claimed_by`?
async fn may_decide(
    state: &AppState,
    s: &crate::web::identity::StaffIdentity,
    id: &ApplicationId,
) -> Result<bool, sqlx::Error> {
    review::may_decide(&state.storage, &s.actor(), s.role == "supervisor", id).await
}

macro_rules! decision_handler {
    ($name:ident, $action:expr, $msg:literal, $check_owner:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            Ctx(ctx): Ctx,
            Staff(s): Staff,
            rid: Option<axum::Extension<RequestId>>,
            Path(id): Path<String>,
            Form(f): Form<DecisionForm>,
        ) -> Result<Response, PageError> {
            let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
            if $check_owner
                && !may_decide(&state, &s, &id)
                    .await
                    .map_err(|e| PageError::internal(&ctx, e))?
            {
                return Ok(see_other(&format!("/review/{id}"), "not_yours"));
            }
            let step = build_step(&state, $action, &f)
                .await
                .map_err(|e| PageError::internal(&ctx, e))?;
            let step = match step {
                Ok(step) => step,
                Err(msg) => return Ok(see_other(&format!("/review/{id}"), msg)),
            };
            run_action(
                &state,
                &ctx,
                &id,
                Acting {
                    name: s.actor(),
                    request_id: request_id(&rid),
                    may_override: s.role == "supervisor",
                },
                $action,
                step,
                $msg,
            )
            .await
        }
    };
}

/// The decision's data: for a return, the chosen reasons with the text the applicant will see,
/// and the part each is about (the form's pick, else the catalogue's default). Refused with the
/// page's message: `need_reason` when a return has no reason (or "other" without a note),
/// `bad_part` when a picked part is not one.
async fn build_step(
    state: &AppState,
    action: Action,
    f: &DecisionForm,
) -> Result<Result<Step, &'static str>, sqlx::Error> {
    let note = f
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.to_owned());
    let mut reasons: Vec<(String, String)> = Vec::new();
    let mut parts = Vec::new();
    if action == Action::Return {
        let catalogue = state.storage.return_reasons(true).await?;
        for code in &f.reasons {
            let Some(r) = catalogue.iter().find(|r| &r.code == code) else {
                continue;
            };
            if reasons.iter().any(|(c, _)| c == code) {
                continue;
            }
            reasons.push((r.code.clone(), r.text_shown.clone()));
            let picked = f.parts.iter().find_map(|v| {
                v.split_once('=')
                    .filter(|(c, _)| *c == code.as_str())
                    .map(|(_, p)| p)
            });
            let part = match picked {
                None => r.default_part,
                Some("") => None,
                Some(p) => match Part::parse(p) {
                    Some(p) => Some(p),
                    None => return Ok(Err("bad_part")),
                },
            };
            if let Some(p) = part {
                parts.push((r.code.clone(), p));
            }
        }
        if reasons.is_empty() || (f.reasons.iter().any(|c| c == "other") && note.is_none()) {
            return Ok(Err("need_reason"));
        }
    }
    Ok(Ok(Step {
        reasons,
        parts,
        note,
        expected_row_version: f.row_version,
        payment_override: f.payment_override.clone(),
        four_eyes: Some(state.settings.review.four_eyes),
    }))
}

decision_handler!(claim, Action::Claim, "claimed", false);
decision_handler!(release, Action::Release, "released", true);
decision_handler!(accept, Action::Accept, "accepted", true);
decision_handler!(return_application, Action::Return, "returned", true);

/// "N": claim the first unclaimed application by deadline and open it.
pub async fn claim_next(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
) -> Result<Response, PageError> {
    // Another reviewer may take it between the look-up and the claim: then try the next one.
    for _ in 0..5 {
        let Some(id) = state
            .storage
            .next_unclaimed()
            .await
            .map_err(|e| PageError::internal(&ctx, e))?
        else {
            return Ok(see_other("/review", "empty"));
        };
        let who = Acting {
            name: s.actor(),
            request_id: request_id(&rid),
            may_override: false,
        };
        let r = act_in_task(&state, &id, Action::Claim, Step::default(), who)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?;
        match r {
            Ok(_) => return Ok(see_other(&format!("/review/{id}"), "claimed")),
            Err(ActionError::Conflict | ActionError::Illegal(_)) => continue,
            Err(e) => return Err(PageError::internal(&ctx, e)),
        }
    }
    Ok(see_other("/review", "conflict"))
}

/// A supervisor hands an application to a reviewer.
pub async fn reassign(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    rid: Option<axum::Extension<RequestId>>,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let Some(to) = f.to.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(see_other(&format!("/review/{id}"), "not_allowed"));
    };
    let target = state
        .storage
        .staff_by_username(to)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    if !target.is_some_and(|t| t.role == "reviewer" && !t.disabled) {
        return Ok(see_other(&format!("/review/{id}"), "not_allowed"));
    }
    let at = state.clock.now().timestamp_millis();
    let (actor_name, rid) = (s.actor(), request_id(&rid));
    let actor = Actor {
        name: &actor_name,
        request_id: rid.as_deref(),
        may_override: true,
    };
    match review::reassign(
        &state.storage,
        &id,
        &format!("staff:{to}"),
        f.row_version,
        &actor,
        at,
    )
    .await
    {
        Ok(()) => Ok(see_other(&format!("/review/{id}"), "reassigned")),
        Err(ActionError::Conflict) => Ok(see_other(&format!("/review/{id}"), "conflict")),
        Err(ActionError::Illegal(_)) => Ok(see_other(&format!("/review/{id}"), "not_allowed")),
        Err(ActionError::NotFound) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}
