//! An API client's webhook (admins): the endpoint and its secret, set, rotated or removed, and
//! the deliveries with their answers, each of which can be sent again (audited). The client is
//! named by any of its tokens' ids, as on the API clients page; the endpoint belongs to the
//! client's name, so it outlives a rotation of the tokens.

use super::{
    pages::{Ctx, PageError, Staff, page_with, see_other},
    state::AppState,
};
use crate::storage::webhooks::EndpointChange;
use crate::views::{self, layout::PageCtx, webhooks::WebhookPage};
use axum::{
    extract::{Path, State},
    response::Response,
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/admin/api-clients/{id}/webhook" => post(change_endpoint);
    "/admin/api-clients/{id}/deliveries" => get(deliveries);
    "/admin/webhook-deliveries/{id}/resend" => post(resend);
}

/// How many deliveries the page lists (newest first).
const SHOWN: i64 = 200;

async fn client_of(state: &AppState, ctx: &PageCtx, token_id: i64) -> Result<String, PageError> {
    state
        .storage
        .api_client_name(token_id)
        .await
        .map_err(|e| PageError::internal(ctx, e))?
        .ok_or_else(|| PageError::NotFound(ctx.clone()))
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    token_id: i64,
    client: &str,
    new_secret: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(ctx, e);
    let endpoint = state.storage.webhook_endpoint(client).await.map_err(e)?;
    let deliveries = state
        .storage
        .webhook_deliveries(client, SHOWN)
        .await
        .map_err(e)?;
    let oldest = deliveries.last().map_or(i64::MAX, |d| d.delivery_id);
    let attempts = state
        .storage
        .webhook_attempts(client, oldest)
        .await
        .map_err(e)?;
    let page = WebhookPage {
        token_id,
        client,
        endpoint: endpoint.as_ref(),
        deliveries: &deliveries,
        attempts: &attempts,
        new_secret,
        error,
        now: state.clock.now().timestamp_millis(),
        overlap_hours: state.settings.webhook.secret_overlap_hours,
    };
    Ok(page_with(
        views::webhooks::webhook_page(ctx, &page),
        error.is_some(),
    ))
}

pub async fn deliveries(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let client = client_of(&state, &ctx, id).await?;
    render(&state, &ctx, id, &client, None, None).await
}

#[derive(Deserialize)]
pub struct EndpointForm {
    action: String,
    url: Option<String>,
}

/// A new `whsec_` secret from 32 random bytes.
fn new_secret() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    crate::domain::webhook::Secret::from_bytes(raw).1
}

pub async fn change_endpoint(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
    Form(f): Form<EndpointForm>,
) -> Result<Response, PageError> {
    let client = client_of(&state, &ctx, id).await?;
    let e = |e| PageError::internal(&ctx, e);
    let now = state.clock.now().timestamp_millis();
    let existing = state.storage.webhook_endpoint(&client).await.map_err(e)?;
    let secret = new_secret();
    let (change, shown) = match f.action.as_str() {
        "save" => {
            let url = f.url.as_deref().unwrap_or("").trim().to_owned();
            let allow = state.settings.webhook.allow_private;
            if let Err(why) = crate::webhook::check_endpoint(&url, allow).await {
                let msg = format!(
                    "{}{why}",
                    ctx.t("推送地址不可用：", "The endpoint is refused: ")
                );
                return render(&state, &ctx, id, &client, None, Some(&msg)).await;
            }
            let change = EndpointChange::Url {
                url: &url,
                new_secret: &secret,
            };
            let changed = state
                .storage
                .change_webhook_endpoint(&client, &change, now, &s.actor())
                .await
                .map_err(e)?;
            // A first endpoint's secret is shown once; a changed URL keeps its secret.
            let shown = (changed && existing.is_none()).then_some(secret.as_str());
            return render(&state, &ctx, id, &client, shown, None).await;
        }
        "rotate" => {
            let overlap = state.settings.webhook.secret_overlap_hours * 3_600_000;
            (
                EndpointChange::Rotate {
                    new_secret: &secret,
                    overlap_until: now + overlap,
                },
                Some(secret.as_str()),
            )
        }
        "remove" => (EndpointChange::Remove, None),
        _ => return Err(PageError::NotFound(ctx)),
    };
    let changed = state
        .storage
        .change_webhook_endpoint(&client, &change, now, &s.actor())
        .await
        .map_err(e)?;
    if !changed {
        let msg = ctx.t(
            "该客户端尚未设置推送地址。",
            "This client has no endpoint yet.",
        );
        return render(&state, &ctx, id, &client, None, Some(msg)).await;
    }
    match shown {
        Some(secret) => render(&state, &ctx, id, &client, Some(secret), None).await,
        None => Ok(see_other(
            &format!("/admin/api-clients/{id}/deliveries"),
            "webhook_removed",
        )),
    }
}

pub async fn resend(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let Some(d) = state.storage.webhook_delivery(id).await.map_err(e)? else {
        return Err(PageError::NotFound(ctx));
    };
    let token = state
        .storage
        .api_tokens_of(&d.client)
        .await
        .map_err(e)?
        .first()
        .copied()
        .unwrap_or(0);
    let back = format!("/admin/api-clients/{token}/deliveries");
    let now = state.clock.now().timestamp_millis();
    let done = state
        .storage
        .resend_webhook(id, now, &s.actor())
        .await
        .map_err(e)?;
    Ok(see_other(
        &back,
        if done.is_some() {
            "webhook_resent"
        } else {
            "webhook_pending"
        },
    ))
}
