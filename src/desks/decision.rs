//! What a decision brings with it, inside the decision's transaction: the decision row, the
//! invoice request, the review window closed, the applicant's mail and SMS; and the refund a withdrawn
//! or expired application is owed. Shared by the first reviewer's decision (`review::act`), the
//! second reviewer's approval (`four_eyes::decide`) and the expiry job.

use crate::domain::ids::ApplicationId;
use crate::domain::{money::Fen, sms::Sms, status::Status};
use crate::storage::{
    Tx,
    applications::{self, Current},
    finance, invoices, outbox, revocations, sla,
};
use crate::views::mail;

/// What a decision (accept, return) brings with it in its transaction: the decision row, an
/// invoice request, the review window closed, the applicant's mail in the outbox. Returns the
/// decision's id.
pub(crate) async fn decided(
    tx: &mut Tx,
    seen: &Current,
    to: Status,
    decided_by: &str,
    at: i64,
    note: Option<&str>,
    reasons: &[(String, String)],
) -> Result<i64, sqlx::Error> {
    let application_id = &seen.application_id;
    let decision_id =
        applications::insert_decision(tx, seen, to, decided_by, at, note, reasons).await?;
    let accepted = to == Status::Accepted;
    if accepted {
        request_invoice(tx, seen, at).await?;
        // The lost certificate's key may be in someone else's hands: queued for revocation.
        revocations::queue(tx, application_id, at).await?;
    }
    sla::close_window(tx, application_id, seen.version, seen.review_due_at, at).await?;
    // The applicant hears of it through the outbox, committed with the decision itself.
    let m = if accepted {
        mail::applicant_accepted(
            &seen.applicant_name,
            application_id.as_str(),
            &seen.hall_reference,
        )
    } else {
        mail::applicant_returned(
            &seen.applicant_name,
            application_id.as_str(),
            &seen.hall_reference,
            reasons,
            note,
        )
    };
    let key = format!("applicant:{}:{application_id}:{}", to.code(), seen.version);
    let kind = if accepted {
        "applicant_accepted"
    } else {
        "applicant_returned"
    };
    outbox::enqueue_mail(
        tx,
        &key,
        kind,
        &seen.email,
        &m,
        Some(application_id.as_str()),
        at,
    )
    .await?;
    // And by SMS, beside it (README, "SMS to the applicant").
    let sms = if accepted {
        Sms::accepted(&seen.hall_reference)
    } else {
        Sms::returned(&seen.hall_reference)
    };
    let app = Some(application_id.as_str());
    outbox::enqueue_sms(tx, &key, &seen.mobile, &sms, app, at).await?;
    Ok(decision_id)
}

/// A withdrawn (or expired) application whose payment a bill holds is owed its money back.
pub(crate) async fn owe_refund(
    tx: &mut Tx,
    application_id: &ApplicationId,
    at: i64,
) -> Result<(), sqlx::Error> {
    if finance::payment_state(&mut *tx, application_id)
        .await?
        .as_deref()
        != Some("verified")
    {
        return Ok(());
    }
    let Some(p) = finance::app_payment_of(&mut *tx, application_id).await? else {
        return Ok(());
    };
    finance::open_case(
        tx,
        &finance::NewCase {
            kind: "refund_owed",
            channel: crate::domain::intake::PaymentChannel::parse(&p.payment_channel)
                .unwrap_or(crate::domain::intake::PaymentChannel::Wechat),
            out_trade_no: &p.out_trade_no,
            application_id: Some(application_id),
            line_id: None,
            amount_fen: p.amount_fen,
            at,
        },
    )
    .await?;
    Ok(())
}

/// An accepted application that asked for an invoice becomes an invoice request.
async fn request_invoice(tx: &mut Tx, seen: &Current, at: i64) -> Result<(), sqlx::Error> {
    let body = applications::version_body(&mut *tx, &seen.application_id, seen.version).await?;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let inv = &v["invoice"];
    let (Some(title), Some(email)) = (inv["title"].as_str(), inv["email"].as_str()) else {
        return Ok(());
    };
    invoices::insert_request(
        tx,
        &invoices::NewRequest {
            application_id: seen.application_id.as_str(),
            hall_reference: &seen.hall_reference,
            title,
            tax_id: inv["tax_id"].as_str(),
            email,
            amount_fen: Fen::new(v["payment"]["amount_fen"].as_i64().unwrap_or(0)),
            at,
        },
    )
    .await
}
