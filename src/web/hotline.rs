//! The hotline desk: look-ups by id, hall reference, mobile, serial, or name with the ID's last
//! four; the masked status view with a script; verification without disclosure; call notes.
//! Every look-up and view is audited; an agent over the hourly limit is refused and supervisors
//! are told.

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    domain::{
        contact::Mobile, ids::ApplicationId, intake::NewApplication, masking, personal_id::IdType,
        status::Status,
    },
    storage::{
        applications,
        audit::{self, AuditEntry},
        from_ms,
        hotline::{self, HotlineQuery},
        outbox,
    },
    views::{
        self,
        components::time,
        hotline::{HotlineView, ResultRow},
    },
};
use axum::{
    extract::{Path, Query, State},
    response::{Html, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

/// Understands what the agent typed; None when it cannot narrow the search safely.
pub fn parse_query(q: &str) -> Option<HotlineQuery> {
    let q = q.trim();
    if let Some(id) = ApplicationId::parse(q) {
        return Some(HotlineQuery::Id(id.as_str().to_owned()));
    }
    if let Ok(m) = Mobile::parse(q) {
        return Some(HotlineQuery::Mobile(m.as_str().to_owned()));
    }
    if let Some((name, last4)) = q.rsplit_once(char::is_whitespace) {
        let (name, last4) = (name.trim(), last4.trim());
        if !name.is_empty()
            && !name.is_ascii()
            && last4.len() == 4
            && last4.bytes().all(|c| c.is_ascii_alphanumeric())
        {
            return Some(HotlineQuery::NameLast4(
                name.to_owned(),
                last4.to_ascii_uppercase(),
            ));
        }
    }
    if (1..=64).contains(&q.len()) && q.bytes().all(|c| c.is_ascii_graphic()) {
        return Some(HotlineQuery::Reference(q.to_owned()));
    }
    None
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
    let Some(query) = parse_query(&q) else {
        return Ok(render(
            None,
            Some(ctx.t(
                "请输入受理编号、网厅编号、手机号、证书序列号，或“姓名 证件号后四位”。",
                "Type an id, hall reference, mobile, serial, or “name last-4-of-ID”.",
            )),
        ));
    };
    let e = |e| PageError::internal(&ctx, e);
    let now = state.clock.now().timestamp_millis();
    let actor = s.actor();
    if over_limit(&state, &actor).await.map_err(e)? {
        return Ok(render(None, Some(ctx.t("本小时查询次数已达上限，已通知主管。请稍后再试。", "You reached this hour's look-up limit; a supervisor has been told. Try again later."))));
    }
    let rows = state.storage.hotline_search(&query, 20).await.map_err(e)?;
    let shown: Vec<&str> = rows.iter().map(|r| r.application_id.as_str()).collect();
    state
        .storage
        .audit_view(&AuditEntry {
            at: now,
            actor: &actor,
            action: "hotline.searched",
            subject_type: "hotline_query",
            subject_id: q.trim(),
            after: Some(&shown.join(",")),
            request_id: Some(&ctx.request_id),
            ..Default::default()
        })
        .await
        .map_err(e)?;
    let rows: Vec<ResultRow> = rows
        .into_iter()
        .map(|r| ResultRow {
            application_id: r.application_id,
            name_masked: masking::name(&r.applicant_name),
            status: r.status,
            received_at: r.received_at,
        })
        .collect();
    Ok(render(Some(&rows), None))
}

/// Whether the agent used up this hour's look-ups, views and checks (supervisors are told).
async fn over_limit(state: &AppState, actor: &str) -> Result<bool, sqlx::Error> {
    let now = state.clock.now().timestamp_millis();
    let limit = state.settings.hotline_lookups_per_hour;
    // 0: no limit (nothing is counted).
    if limit > 0
        && state
            .storage
            .lookups_since(actor, now - 3_600_000, limit)
            .await?
            >= limit
    {
        tell_supervisors(state, actor, now).await?;
        return Ok(true);
    }
    Ok(false)
}

/// "138 0013 8000", "+86 13800138000" → "13800138000".
fn normalise_mobile(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_owned(),
        _ => digits,
    }
}

/// Once per agent and hour: an e-mail to each supervisor and an audit record.
async fn tell_supervisors(state: &AppState, actor: &str, now: i64) -> Result<(), sqlx::Error> {
    let hour = now / 3_600_000;
    let supervisors = state.storage.recipients("supervisor").await?;
    let agent = actor.trim_start_matches("staff:");
    let mail =
        views::mail::hotline_throttled(agent, &time(now), state.settings.hotline_lookups_per_hour);
    let mut tx = state.storage.begin().await?;
    let mut first = false;
    for sup in &supervisors {
        let key = format!("hotline-throttle:{agent}:{hour}:{}", sup.username);
        first |= outbox::enqueue_mail(
            &mut tx,
            &key,
            "hotline_throttled",
            &sup.email,
            &mail,
            None,
            now,
        )
        .await?;
    }
    if first || supervisors.is_empty() {
        audit::record(
            &mut tx,
            &AuditEntry {
                at: now,
                actor,
                action: "hotline.throttled",
                subject_type: "staff",
                subject_id: agent,
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await
}

/// What the agent reads to the caller, by status.
fn script(
    status: Status,
    received: i64,
    due: i64,
    updated: i64,
    reasons: &[(String, String)],
    shipment: Option<&(String, String, i64)>,
) -> Vec<String> {
    let mut s = vec![format!("您的补办申请已于 {} 收到。", time(received))];
    match status {
        Status::Submitted | Status::InReview => s.push(format!(
            "目前{}，我们会在 {} 前完成审核，审核结果会通过短信和邮件通知您。",
            if status == Status::Submitted {
                "正在排队等待审核"
            } else {
                "正在审核中"
            },
            time(due)
        )),
        Status::Returned => {
            s.push("您的申请需要修改后重新提交，原因如下：".into());
            for (i, (_, t)) in reasons.iter().enumerate() {
                s.push(format!("{}. {t}", i + 1));
            }
            s.push("请登录深圳CA网上营业厅，在“介质遗失补办”中按上述原因修改或重新上传材料后提交；重新提交后我们会在三个工作日内审核。".into());
        }
        Status::Accepted => s.push(format!(
            "您的申请已于 {} 成功受理，我们正在安排制作新的证书介质，寄出后会通知您快递单号。",
            time(updated)
        )),
        Status::InProduction => {
            s.push("您的申请已成功受理，新的证书介质正在制作中，寄出后会通知您快递单号。".into())
        }
        Status::Shipped => match shipment {
            Some((courier, waybill, at)) => s.push(format!(
                "您的新证书介质已于 {} 由{}寄出，运单号 {waybill}，可在快递公司网站或小程序查询物流。",
                time(*at),
                if courier == "ems" { "中国邮政 EMS" } else { "顺丰速运" }
            )),
            None => s.push(format!(
                "您的新证书介质已于 {} 寄出，请留意快递通知。",
                time(updated)
            )),
        },
        Status::Withdrawn => s.push("该申请已撤回。如需补办，请重新在网上营业厅提交申请。".into()),
    }
    s
}

pub async fn view(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id = ApplicationId::parse(&id).ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let e = |e| PageError::internal(&ctx, e);
    if over_limit(&state, &s.actor()).await.map_err(e)? {
        return Ok(Html(views::hotline::search_page(&ctx, "", None, Some(ctx.t("本小时查询次数已达上限，已通知主管。请稍后再试。", "You reached this hour's look-up limit; a supervisor has been told. Try again later."))).into_string()));
    }
    let a = state
        .storage
        .hotline_app(id.as_str())
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let sv = state
        .storage
        .status_view(id.as_str())
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let detail = state
        .storage
        .review_detail(id.as_str())
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let body = serde_json::from_str(&a.body)
        .ok()
        .and_then(|v| NewApplication::parse(&v, None).ok());
    let address = body
        .as_ref()
        .map(|b| {
            masking::address(
                &b.mailing_address.province,
                &b.mailing_address.city,
                &b.mailing_address.district,
            )
        })
        .unwrap_or_default();
    let status = Status::parse(&a.status).unwrap_or(Status::Submitted);
    let id_type = IdType::parse(&a.id_type).unwrap_or(IdType::ResidentId);
    let now = state.clock.now().timestamp_millis();
    state
        .storage
        .audit_view(&AuditEntry {
            at: now,
            actor: &s.actor(),
            action: "hotline.viewed",
            subject_type: "application",
            subject_id: id.as_str(),
            request_id: Some(&ctx.request_id),
            ..Default::default()
        })
        .await
        .map_err(e)?;
    let v = HotlineView {
        application_id: a.application_id.clone(),
        hall_reference: a.hall_reference.clone(),
        status,
        version: a.version,
        name_masked: masking::name(&a.applicant_name),
        id_masked: masking::id_number(id_type, &a.id_number),
        mobile_masked: masking::mobile(&a.mobile),
        address,
        paid: body.is_some(),
        payment_state: sv.payment_state.clone(),
        invoice_wanted: sv.invoice_wanted,
        invoice: sv.invoice.clone(),
        script: script(
            status,
            a.received_at,
            a.review_due_at,
            a.updated_at,
            &sv.return_reasons,
            sv.shipment.as_ref(),
        ),
        // Staff appear by role only: the caller has no business with reviewers' names.
        history: detail
            .events
            .iter()
            .map(|ev| {
                let who = if ev.actor.starts_with("api:") {
                    "网厅".to_owned()
                } else {
                    "工作人员".to_owned()
                };
                (
                    ev.at,
                    ev.status.clone(),
                    who,
                    ev.note.clone().filter(|n| n.starts_with("客服记录")),
                )
            })
            .collect(),
        // This call's checks: the last half hour.
        verifications: state
            .storage
            .verifications(id.as_str())
            .await
            .map_err(e)?
            .into_iter()
            .filter(|v| v.at >= now - 30 * 60_000)
            .collect(),
    };
    Ok(Html(
        views::hotline::application_page(&ctx, &v).into_string(),
    ))
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
    let e = |e| PageError::internal(&ctx, e);
    let a = state
        .storage
        .hotline_app(id.as_str())
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let now = state.clock.now().timestamp_millis();
    // Guessing is bounded: by the agent's hourly limit, and three failed checks per application
    // and hour (counted below, in the transaction that records this check).
    if over_limit(&state, &s.actor()).await.map_err(e)? {
        return Ok(see_other(&format!("/hotline/{id}"), "verify_limit"));
    }
    let said = f.value.trim().to_ascii_uppercase();
    let (method, matched) = match f.method.as_str() {
        "mobile" => ("mobile", normalise_mobile(&said) == a.mobile),
        _ => (
            "id_last6",
            said.len() == 6 && a.id_number.to_ascii_uppercase().ends_with(&said),
        ),
    };

    let mut tx = state.storage.begin().await.map_err(e)?;
    // The count and this check's row are one step: parallel checks queue on the application.
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::HotlineVerify(id.as_str()))
        .await
        .map_err(e)?;
    if hotline::failed_verifications_in(&mut tx, id.as_str(), now - 3_600_000)
        .await
        .map_err(e)?
        >= 3
    {
        tx.rollback().await.map_err(e)?;
        return Ok(see_other(&format!("/hotline/{id}"), "verify_limit"));
    }
    hotline::record_verification(&mut tx, id.as_str(), now, &s.actor(), method, matched)
        .await
        .map_err(e)?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: &s.actor(),
            action: "hotline.verified",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some(&format!(
                "{method}: {}",
                if matched { "matches" } else { "does not match" }
            )),
            request_id: Some(&ctx.request_id),
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok(see_other(
        &format!("/hotline/{id}"),
        if matched {
            "verified_ok"
        } else {
            "verified_no"
        },
    ))
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
    let e = |e| PageError::internal(&ctx, e);
    let now = state.clock.now().timestamp_millis();
    let mut tx = state.storage.begin().await.map_err(e)?;
    let cur = applications::current(&mut tx, id.as_str())
        .await
        .map_err(e)?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))?;
    let note = format!("客服记录：{text}");
    applications::add_event(
        &mut tx,
        id.as_str(),
        now,
        cur.status(),
        &s.actor(),
        Some(&note),
    )
    .await
    .map_err(e)?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: &s.actor(),
            action: "application.noted",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some(&note),
            request_id: Some(&ctx.request_id),
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok(see_other(&format!("/hotline/{id}"), "noted"))
}

pub async fn lookups(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now().timestamp_millis();
    let rows = state
        .storage
        .lookups_by_agent_and_day(now - 30 * 86_400_000)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let rows: Vec<(String, String, i64, i64)> = rows
        .into_iter()
        .map(|(a, day, s, v)| (a, from_ms(day * 86_400_000).date_naive().to_string(), s, v))
        .collect();
    let recent = state
        .storage
        .recent_lookups(200)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::hotline::lookups_page(
            &ctx,
            &rows,
            &recent,
            state.settings.hotline_lookups_per_hour,
        )
        .into_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_understood() {
        assert_eq!(
            parse_query("bf20261125-7k3m9q"),
            Some(HotlineQuery::Id("BF20261125-7K3M9Q".into()))
        );
        assert_eq!(
            parse_query(" 13800138000 "),
            Some(HotlineQuery::Mobile("13800138000".into()))
        );
        assert_eq!(
            parse_query("张三 002x"),
            Some(HotlineQuery::NameLast4("张三".into(), "002X".into()))
        );
        assert_eq!(
            parse_query("WT202611250001"),
            Some(HotlineQuery::Reference("WT202611250001".into()))
        );
        assert_eq!(parse_query("张三"), None);
    }
}
