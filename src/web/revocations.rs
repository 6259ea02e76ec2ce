//! The CA operator's page: the lost certificates queued for revocation, the workbook of their
//! serials, the CRL upload, and a supervisor's override of the courier-batch gate; and the
//! fulfilment desk's upload of the issued certificate's file. Fulfilment clerks and supervisors
//! import CRLs, supervisors override, admins read.

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other, xlsx_download},
    state::AppState,
    uploads,
};
use crate::desks::revocation::{self, CrlSummary, RevocationError};
use crate::domain::{calendar::beijing, ids::ApplicationId};
use crate::exchange::formats;
use crate::views::{self, revocations as v};
use axum::extract::{Multipart, Path, State, multipart::MultipartRejection};
use axum::response::Response;
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/revocations" => get(revocations);
    "/revocations/serials.xlsx" => get(export_serials);
    "/revocations/crl" => post(import_crl), upload formats::CRL.limit;
    "/revocations/{id}/override" => post(override_gate);
    "/fulfilment/issued" => post(record_issued), upload formats::ISSUED_CERTIFICATE.limit;
}

/// How many rows of each list the page shows.
const SHOWN: i64 = 500;

async fn render(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    error: Option<&str>,
    result: Option<&CrlSummary>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let s = &state.storage;
    let queued = s.revocations(true, SHOWN).await.map_err(e)?;
    let queued_total = s.revocations_queued_count().await.map_err(e)?;
    let revoked = s.revocations(false, 50).await.map_err(e)?;
    let crls = s.crl_imports_recent(10).await.map_err(e)?;
    let ca_subject = state
        .settings
        .revocation
        .ca_cert
        .as_deref()
        .and_then(|b| crate::exchange::crl::CaCert::parse(b).ok())
        .map(|c| c.subject());
    let html = v::revocations_page(
        ctx,
        &v::RevocationsPage {
            queued: &queued,
            queued_total,
            revoked: &revoked,
            crls: &crls,
            ca_subject: ca_subject.as_deref(),
            crl_url: state.settings.revocation.crl_url.as_deref(),
            error,
            result,
        },
    );
    Ok(page_with(html, error.is_some()))
}

pub async fn revocations(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Response, PageError> {
    render(&state, &ctx, None, None).await
}

pub async fn export_serials(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let bytes = revocation::serials_workbook(&state.storage, &s.actor(), now.timestamp_millis())
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let day = now.with_timezone(&beijing()).format("%Y%m%d");
    Ok(xlsx_download(&format!("待吊销证书_{day}.xlsx"), bytes))
}

pub async fn import_crl(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let up = match uploads::read(mp, formats::CRL).await {
        Ok(up) => up,
        Err(e) => return render(&state, &ctx, Some(&e.message(ctx.locale)), None).await,
    };
    let at = state.clock.now().timestamp_millis();
    let source = format!("upload:{}", up.name.chars().take(100).collect::<String>());
    let r = revocation::import_crl(
        &state.storage,
        &state.settings.revocation,
        &up.bytes,
        &source,
        &s.actor(),
        at,
    )
    .await;
    match r {
        Ok(summary) => render(&state, &ctx, None, Some(&summary)).await,
        Err(RevocationError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            let msg = format!(
                "{}{e}",
                ctx.t(
                    "吊销列表未导入，未做任何更改：",
                    "The CRL was not imported; nothing was changed: "
                )
            );
            render(&state, &ctx, Some(&msg), None).await
        }
    }
}

#[derive(Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    row_version: i64,
}

pub async fn override_gate(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> Result<Response, PageError> {
    let Some(id) = ApplicationId::parse(&id) else {
        return Err(PageError::NotFound(ctx));
    };
    let at = state.clock.now().timestamp_millis();
    let actor = s.actor();
    let r = revocation::override_gate(&state.storage, &id, f.row_version, &f.reason, &actor, at);
    match r.await {
        Ok(()) => Ok(see_other("/revocations", "gate_overridden")),
        Err(RevocationError::Conflict(_)) => Ok(see_other("/revocations", "conflict")),
        Err(RevocationError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => render(&state, &ctx, Some(&e.to_string()), None).await,
    }
}

/// The issued certificate's file with its application's id (fields `application_id`, `file`).
pub async fn record_issued(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let refused = |msg: String| {
        let ctx = ctx.clone();
        let state = state.clone();
        async move { super::fulfilment::refusal(&state, &ctx, &msg).await }
    };
    let (id, up) =
        match uploads::read_with_field(mp, formats::ISSUED_CERTIFICATE, "application_id").await {
            Ok(x) => x,
            Err(e) => return refused(e.message(ctx.locale)).await,
        };
    let Some(id) = id.as_deref().and_then(ApplicationId::parse) else {
        return refused(ctx.t("请选择申请。", "Choose the application.").into()).await;
    };
    let at = state.clock.now().timestamp_millis();
    let actor = s.actor();
    let r = revocation::record_issued(
        &state.storage,
        &state.settings.revocation,
        &id,
        &up.bytes,
        &actor,
        at,
    );
    match r.await {
        Ok(_) => Ok(see_other("/fulfilment", "issued_recorded")),
        Err(RevocationError::Db(e)) => Err(PageError::internal(&ctx, e)),
        Err(e) => {
            let msg = format!(
                "{}{e}",
                ctx.t(
                    "签发证书未登记，未做任何更改：",
                    "The issued certificate was not recorded; nothing was changed: "
                )
            );
            refused(msg).await
        }
    }
}
