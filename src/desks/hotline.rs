//! The hotline desk's work: look-ups by id, hall reference, mobile, serial, or name with the
//! ID's last four; the masked status view with a script; verification without disclosure; call
//! notes. Every look-up and view is audited; an agent over the hourly limit is refused and
//! supervisors are told.

use crate::{
    domain::{
        contact::Mobile, ids::ApplicationId, intake::NewApplication, masking, personal_id::IdType,
        status::Status,
    },
    storage::{
        Storage, applications,
        audit::{self, AuditEntry, AuditRow},
        from_ms,
        hotline::{self, HotlineQuery},
        outbox,
        paging::{Page, PageReq},
    },
    views::{
        self,
        components::time,
        hotline::{HotlineView, ResultRow},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum HotlineError {
    /// The agent used up this hour's look-ups, views and checks (supervisors are told).
    #[error("this hour's look-ups are used up")]
    OverLimit,
    /// Three failed checks of this application in the last hour.
    #[error("too many failed checks of this application")]
    TooManyChecks,
    #[error("no such application")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Who asks, and under which limit.
pub struct Agent<'a> {
    pub actor: &'a str,
    /// Look-ups, views and checks per hour; 0: no limit.
    pub lookups_per_hour: i64,
    pub request_id: &'a str,
}

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

/// Searches (at most 20 rows, names masked) and audits the look-up with what it showed.
pub async fn search(
    storage: &Storage,
    agent: &Agent<'_>,
    typed: &str,
    query: &HotlineQuery,
    now: i64,
) -> Result<Vec<ResultRow>, HotlineError> {
    refuse_over_limit(storage, agent, now).await?;
    let rows = storage.hotline_search(query, 20).await?;
    let shown: Vec<&str> = rows.iter().map(|r| r.application_id.as_str()).collect();
    storage
        .audit_view(&AuditEntry {
            at: now,
            actor: agent.actor,
            action: "hotline.searched",
            subject_type: "hotline_query",
            subject_id: typed.trim(),
            after: Some(&shown.join(",")),
            request_id: Some(agent.request_id),
            ..Default::default()
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ResultRow {
            application_id: r.application_id,
            name_masked: masking::name(&r.applicant_name),
            status: r.status.as_seen_outside(),
            received_at: r.received_at,
        })
        .collect())
}

/// OverLimit when the agent used up this hour's look-ups, views and checks (supervisors are
/// told).
async fn refuse_over_limit(
    storage: &Storage,
    agent: &Agent<'_>,
    now: i64,
) -> Result<(), HotlineError> {
    let limit = agent.lookups_per_hour;
    // 0: no limit (nothing is counted).
    if limit > 0
        && storage
            .lookups_since(agent.actor, now - 3_600_000, limit)
            .await?
            >= limit
    {
        tell_supervisors(storage, agent.actor, limit, now).await?;
        return Err(HotlineError::OverLimit);
    }
    Ok(())
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
async fn tell_supervisors(
    storage: &Storage,
    actor: &str,
    limit: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let hour = now / 3_600_000;
    let supervisors = storage.recipients("supervisor").await?;
    let agent = actor.trim_start_matches("staff:");
    let mail = views::mail::hotline_throttled(agent, &time(now), limit);
    let mut tx = storage.begin().await?;
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
        Status::Submitted | Status::InReview | Status::AwaitingApproval => s.push(format!(
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
        Status::Expired => s.push(format!(
            "您的申请于 {} 因退回后未在期限内重新提交已过期关闭；已付款项将原路退回。如需补办，请重新在网上营业厅提交申请。",
            time(updated)
        )),
    }
    s
}

/// The masked view of an application with the script for its status; the view is audited.
pub async fn application(
    storage: &Storage,
    agent: &Agent<'_>,
    id: &ApplicationId,
    now: i64,
) -> Result<HotlineView, HotlineError> {
    refuse_over_limit(storage, agent, now).await?;
    let a = storage
        .hotline_app(id)
        .await?
        .ok_or(HotlineError::NotFound)?;
    let sv = storage
        .status_view(id)
        .await?
        .ok_or(HotlineError::NotFound)?;
    let detail = storage
        .review_detail(id)
        .await?
        .ok_or(HotlineError::NotFound)?;
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
    // What the caller may be told: an application awaiting approval is in review.
    let status = a.status.as_seen_outside();
    let id_type = IdType::parse(&a.id_type).unwrap_or(IdType::ResidentId);
    storage
        .audit_view(&AuditEntry {
            at: now,
            actor: agent.actor,
            action: "hotline.viewed",
            subject_type: "application",
            subject_id: id.as_str(),
            request_id: Some(agent.request_id),
            ..Default::default()
        })
        .await?;
    Ok(HotlineView {
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
                    ev.status.as_seen_outside(),
                    who,
                    ev.note.clone().filter(|n| n.starts_with("客服记录")),
                )
            })
            .collect(),
        // This call's checks: the last half hour.
        verifications: storage
            .verifications(id)
            .await?
            .into_iter()
            .filter(|v| v.at >= now - 30 * 60_000)
            .collect(),
    })
}

/// Compares what the caller says (`method`: "mobile", else the ID's last six) with the record;
/// the agent learns only whether it matches. The check and its audit record are one
/// transaction.
pub async fn verify(
    storage: &Storage,
    agent: &Agent<'_>,
    id: &ApplicationId,
    method: &str,
    value: &str,
    now: i64,
) -> Result<bool, HotlineError> {
    let a = storage
        .hotline_app(id)
        .await?
        .ok_or(HotlineError::NotFound)?;
    // Guessing is bounded: by the agent's hourly limit, and three failed checks per application
    // and hour (counted below, in the transaction that records this check).
    refuse_over_limit(storage, agent, now).await?;
    let said = value.trim().to_ascii_uppercase();
    let (method, matched) = match method {
        "mobile" => ("mobile", normalise_mobile(&said) == a.mobile),
        _ => (
            "id_last6",
            said.len() == 6 && a.id_number.to_ascii_uppercase().ends_with(&said),
        ),
    };

    let mut tx = storage.begin().await?;
    // The count and this check's row are one step: parallel checks queue on the application.
    crate::storage::advisory_lock(&mut tx, crate::storage::Lock::HotlineVerify(id.as_str()))
        .await?;
    if hotline::failed_verifications_in(&mut tx, id, now - 3_600_000).await? >= 3 {
        tx.rollback().await?;
        return Err(HotlineError::TooManyChecks);
    }
    hotline::record_verification(&mut tx, id, now, agent.actor, method, matched).await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: agent.actor,
            action: "hotline.verified",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some(&format!(
                "{method}: {}",
                if matched { "matches" } else { "does not match" }
            )),
            request_id: Some(agent.request_id),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(matched)
}

/// A call note (`text`: trimmed, not empty), on the application's timeline for reviewers, with
/// its audit record, in one transaction.
pub async fn note(
    storage: &Storage,
    agent: &Agent<'_>,
    id: &ApplicationId,
    text: &str,
    now: i64,
) -> Result<(), HotlineError> {
    let mut tx = storage.begin().await?;
    let cur = applications::current(&mut tx, id)
        .await?
        .ok_or(HotlineError::NotFound)?;
    let note = format!("客服记录：{text}");
    applications::add_event(&mut tx, id, now, cur.status, agent.actor, Some(&note)).await?;
    audit::record(
        &mut tx,
        &AuditEntry {
            at: now,
            actor: agent.actor,
            action: "application.noted",
            subject_type: "application",
            subject_id: id.as_str(),
            after: Some(&note),
            request_id: Some(agent.request_id),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The supervisors' view of the look-ups: per agent and Beijing day over the last 30 days
/// (agent, day, searches, views), and a page of the look-ups, latest first.
pub async fn lookups(
    storage: &Storage,
    now: i64,
    req: &PageReq,
) -> Result<(Vec<(String, String, i64, i64)>, Page<AuditRow>), sqlx::Error> {
    let rows = storage
        .lookups_by_agent_and_day(now - 30 * 86_400_000)
        .await?
        .into_iter()
        .map(|(a, day, s, v)| (a, from_ms(day * 86_400_000).date_naive().to_string(), s, v))
        .collect();
    Ok((rows, storage.recent_lookups(req).await?))
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
