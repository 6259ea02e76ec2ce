//! Administration: staff accounts and roles (admins), the return-reason catalogue (admins and
//! supervisors).

use super::{
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::{
    auth,
    storage::{self, reasons::ReasonRow, staff::NewStaff},
    views,
};
use axum::{
    extract::{Path, State},
    response::{Html, IntoResponse, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

super::routes! {
    "/admin/users" => get(users).post(create_user);
    "/admin/users/{id}" => post(update_user);
    "/admin/reasons" => get(reasons).post(save_reason);
    "/admin/api-clients" => get(api_clients);
    "/admin/api-clients/{id}" => post(set_api_limits);
    "/admin/audit" => get(audit);
    "/admin/audit/anchor-mail" => post(send_anchor);
}

pub async fn users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let users = state
        .storage
        .staff_list()
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::admin::users_page(&ctx, &users, None).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    email: Option<String>,
    role: String,
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let username = f.username.trim().to_lowercase();
    let refuse = |msg: &str, users: &[storage::staff::StaffRow]| {
        Html(views::admin::users_page(&ctx, users, Some(msg)).into_string()).into_response()
    };
    let users = state
        .storage
        .staff_list()
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    if !(2..=32).contains(&username.len())
        || !username
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(&c))
    {
        return Ok(refuse(
            ctx.t(
                "用户名须为 2–32 位小写字母、数字或 . _ -",
                "The username must be 2–32 lower-case letters, digits or . _ -",
            ),
            &users,
        ));
    }
    if !auth::ROLES.contains(&f.role.as_str()) {
        return Ok(refuse(ctx.t("角色无效。", "Unknown role."), &users));
    }
    if f.password.chars().count() < 10 {
        return Ok(refuse(
            ctx.t(
                "初始密码至少 10 位。",
                "The initial password needs 10 characters or more.",
            ),
            &users,
        ));
    }
    let email = f.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email
        && crate::domain::contact::Email::parse(e).is_err()
    {
        return Ok(refuse(
            ctx.t("邮箱格式不正确。", "The e-mail address is not valid."),
            &users,
        ));
    }
    let hash = auth::hash_password(&f.password).map_err(|e| PageError::internal(&ctx, e))?;
    let display = f.display_name.trim();
    let new = NewStaff {
        username: &username,
        display_name: if display.is_empty() {
            &username
        } else {
            display
        },
        email,
        role: &f.role,
        password_hash: &hash,
    };
    let now = state.clock.now().timestamp_millis();
    match state.storage.create_staff(&new, now, &s.actor()).await {
        Ok(_) => Ok(see_other("/admin/users", "user_created")),
        Err(e) if storage::is_unique_violation(&e) => Ok(refuse(
            ctx.t("用户名已存在。", "The username is taken."),
            &users,
        )),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    role: String,
    disabled: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
    Form(f): Form<UpdateUserForm>,
) -> Result<Response, PageError> {
    if !auth::ROLES.contains(&f.role.as_str()) {
        return Ok(see_other("/admin/users", "not_allowed"));
    }
    let disabled = f.disabled.is_some();
    // An administrator cannot lock themselves out.
    if id == s.staff_id && (disabled || f.role != "admin") {
        return Ok(see_other("/admin/users", "not_allowed"));
    }
    let now = state.clock.now().timestamp_millis();
    match state
        .storage
        .update_staff(id, &f.role, disabled, &s.actor(), now)
        .await
    {
        Ok(true) => Ok(see_other("/admin/users", "saved")),
        Ok(false) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}

pub async fn reasons(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let reasons = state
        .storage
        .return_reasons(false)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(Html(
        views::admin::reasons_page(&ctx, &reasons, None).into_string(),
    ))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    code: String,
    text_shown: String,
    internal_note: Option<String>,
    position: Option<i64>,
    active: Option<String>,
    /// `scan:…` / `field:…`; empty or absent: a general reason.
    default_part: Option<String>,
}

pub async fn save_reason(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<ReasonForm>,
) -> Result<Response, PageError> {
    let code = f.code.trim().to_owned();
    let text = f.text_shown.trim().to_owned();
    let part = f
        .default_part
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let default_part = part.and_then(crate::domain::returned_part::Part::parse);
    if part.is_some() != default_part.is_some()
        || !(2..=40).contains(&code.len())
        || !code
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        || text.is_empty()
    {
        let reasons = state
            .storage
            .return_reasons(false)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?;
        let msg = ctx.t(
            "代码须为 2–40 位小写字母、数字或下划线，文字不能为空，默认部位须为所列之一。",
            "The code must be 2–40 of a-z, 0-9, _, the text must not be empty and the default part one of those listed.",
        );
        return Ok(
            Html(views::admin::reasons_page(&ctx, &reasons, Some(msg)).into_string())
                .into_response(),
        );
    }
    let row = ReasonRow {
        code,
        text_shown: text,
        internal_note: f.internal_note.unwrap_or_default().trim().to_owned(),
        active: f.active.is_some(),
        position: f.position.unwrap_or(100),
        default_part,
    };
    let now = state.clock.now().timestamp_millis();
    state
        .storage
        .save_return_reason(&row, &s.actor(), now)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(see_other("/admin/reasons", "saved"))
}

/// The audit trail's latest anchor (admins).
pub async fn audit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let anchor = state.storage.latest_audit_anchor().await.map_err(e)?;
    let unsealed = state.storage.audit_unsealed().await.map_err(e)?;
    let f = views::admin::AuditFigures {
        anchor: anchor.as_ref(),
        total: anchor.as_ref().map_or(0, |a| a.last_pos),
        unsealed,
        auditor: state.settings.auditor_email.as_deref(),
    };
    Ok(Html(views::admin::audit_page(&ctx, &f).into_string()))
}

/// E-mails the latest anchor to the configured auditor through the outbox (audited).
pub async fn send_anchor(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
) -> Result<Response, PageError> {
    let e = |e| PageError::internal(&ctx, e);
    let Some(to) = state.settings.auditor_email.as_deref() else {
        return Ok(see_other("/admin/audit", "no_auditor"));
    };
    let Some(anchor) = state.storage.latest_audit_anchor().await.map_err(e)? else {
        return Ok(see_other("/admin/audit", "no_anchor"));
    };
    let mail = views::mail::audit_anchor(&anchor, &s.actor(), &state.settings.public_url);
    let now = state.clock.now().timestamp_millis();
    let queued = state
        .storage
        .send_audit_anchor(&anchor, to, &mail, &s.actor(), Some(&ctx.request_id), now)
        .await
        .map_err(e)?;
    Ok(see_other(
        "/admin/audit",
        if queued {
            "anchor_sent"
        } else {
            "anchor_already_sent"
        },
    ))
}

/// The last seven Beijing days, oldest first.
fn last_days(now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let today = now
        .with_timezone(&crate::domain::calendar::beijing())
        .date_naive();
    (0..7)
        .rev()
        .map(|i| {
            (today - chrono::Duration::days(i))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect()
}

async fn api_clients_markup(
    state: &AppState,
    ctx: &views::layout::PageCtx,
    error: Option<&str>,
) -> Result<Html<String>, PageError> {
    let days = last_days(state.clock.now());
    let clients = state
        .storage
        .api_clients()
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    let usage = state
        .storage
        .api_usage_since(&days[0])
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    let endpoints = state
        .storage
        .webhook_endpoints()
        .await
        .map_err(|e| PageError::internal(ctx, e))?;
    Ok(Html(
        views::api_clients::api_clients_page(ctx, &clients, &usage, &days, &endpoints, error)
            .into_string(),
    ))
}

pub async fn api_clients(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Html<String>, PageError> {
    // What this instance counted since its last flush shows at once.
    if let Err(e) = state.api_limits.flush(&state.storage).await {
        tracing::warn!(error = %e, "API use counters not saved");
    }
    api_clients_markup(&state, &ctx, None).await
}

#[derive(Deserialize)]
pub struct LimitsForm {
    rate_per_minute: String,
    max_concurrent_uploads: String,
    max_body_bytes: String,
}

/// Each limit within the bounds the table allows, or the message naming the one that is not.
fn parse_limits(f: &LimitsForm) -> Result<storage::tokens::Limits, (&'static str, &'static str)> {
    let num = |s: &str, lo: i64, hi: i64| {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (lo..=hi).contains(n))
    };
    Ok(storage::tokens::Limits {
        rate_per_minute: num(&f.rate_per_minute, 1, 100_000).ok_or((
            "每分钟请求数须为 1–100000 的整数。",
            "Requests a minute must be a whole number from 1 to 100000.",
        ))?,
        max_concurrent_uploads: num(&f.max_concurrent_uploads, 1, 1000).ok_or((
            "同时上传数须为 1–1000 的整数。",
            "Uploads at once must be a whole number from 1 to 1000.",
        ))?,
        max_body_bytes: num(&f.max_body_bytes, 1024, 1 << 30).ok_or((
            "请求体最大字节数须为 1024–1073741824 的整数。",
            "The largest body must be a whole number of bytes from 1024 to 1073741824.",
        ))?,
    })
}

pub async fn set_api_limits(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Path(id): Path<i64>,
    Form(f): Form<LimitsForm>,
) -> Result<Response, PageError> {
    let limits = match parse_limits(&f) {
        Ok(l) => l,
        Err((zh, en)) => {
            let page = api_clients_markup(&state, &ctx, Some(ctx.t(zh, en))).await?;
            return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let now = state.clock.now().timestamp_millis();
    match state
        .storage
        .set_api_limits(id, limits, now, &s.actor())
        .await
    {
        Ok(true) => Ok(see_other("/admin/api-clients", "saved")),
        Ok(false) => Err(PageError::NotFound(ctx)),
        Err(e) => Err(PageError::internal(&ctx, e)),
    }
}
