//! Sign-in, sign-out, the start page, the locale switch and changing one's own password.

use super::{
    identity::{CSRF_COOKIE, LOCALE_COOKIE, SESSION_COOKIE, random_token},
    pages::{Ctx, PageError, Staff, see_other},
    state::AppState,
};
use crate::config::web::{MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES};
use crate::{auth, storage::scan_files::sha256_hex, views};
use axum::{
    Form,
    extract::{Query, State},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

super::routes! {
    "/" => get(home);
    "/login" => get(login_form).post(login);
    "/logout" => post(logout);
    "/locale" => post(set_locale);
    "/account/password" => get(password_form).post(change_password);
}

/// Checks a password against a hash (or spends the same time against none) off the async
/// workers, waiting for one of the configured turns (`BACKOFFICE_PASSWORD_HASHES`): argon2 is
/// slow by design, and a burst of sign-ins must not take every core.
async fn check_password(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> anyhow::Result<bool> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let _turn = state.password_hashes.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || match hash {
        Some(h) => auth::verify_password(&password, &h),
        None => {
            auth::verify_against_nothing(&password);
            false
        }
    })
    .await?)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only local paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // A local path of plain characters only: browsers drop tabs and newlines, so "/\t/x" would be "//x".
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"/_-.?=&%".contains(&c)) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn login_form(Ctx(ctx): Ctx, Query(q): Query<LoginQuery>) -> Html<String> {
    Html(views::login::login_page(&ctx, "", &safe_next(q.next.as_deref()), None).into_string())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now().timestamp_millis();
    let username = f.username.trim().to_owned();
    let next = safe_next(f.next.as_deref());
    let refuse = |msg: &str| {
        Html(views::login::login_page(&ctx, &username, &next, Some(msg)).into_string())
            .into_response()
    };
    // Bounded before anything is written or hashed; no account has such a name.
    if username.len() > MAX_USERNAME_BYTES {
        let msg = ctx.t(
            "用户名过长（最多 64 个字符），未作任何记录。",
            "The username is too long (64 characters at most); nothing was recorded.",
        );
        return Ok(
            Html(views::login::login_page(&ctx, "", &next, Some(msg)).into_string())
                .into_response(),
        );
    }
    // Checking the window and counting this try is one step, so parallel guesses cannot all
    // pass a count read before any of them was written.
    let counted = state
        .storage
        .count_login_attempt(
            &username,
            now,
            now - auth::FAILURE_WINDOW_MS,
            auth::MAX_FAILURES,
        )
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    if !counted {
        return Ok(refuse(ctx.t(
            "登录失败次数过多，请 15 分钟后再试。",
            "Too many failed sign-ins; try again in 15 minutes.",
        )));
    }
    let staff = state
        .storage
        .staff_by_username(&username)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let matches = check_password(
        &state,
        f.password.clone(),
        staff.as_ref().map(|s| s.password_hash.clone()),
    )
    .await
    .map_err(|e| PageError::internal(&ctx, e))?;
    let ok = matches && staff.as_ref().is_some_and(|s| !s.disabled);
    let Some(staff) = staff.filter(|_| ok) else {
        state
            .storage
            .record_login_failure(&username, now)
            .await
            .map_err(|e| PageError::internal(&ctx, e))?;
        return Ok(refuse(ctx.t(
            "用户名或密码不正确，或账号已停用。",
            "Wrong username or password, or the account is disabled.",
        )));
    };
    let token = random_token();
    state
        .storage
        .create_session(&sha256_hex(token.as_bytes()), &staff, &random_token(), now)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let secure = state.settings.public_url.starts_with("https://");
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    Ok((
        jar.add(cookie).remove(Cookie::from(CSRF_COOKIE)),
        Redirect::to(&next),
    )
        .into_response())
}

pub async fn logout(State(state): State<AppState>, Staff(s): Staff, jar: CookieJar) -> Response {
    let at = state.clock.now().timestamp_millis();
    if let Err(e) = state
        .storage
        .sign_out(&s.session_hash, &s.username, at)
        .await
    {
        tracing::error!(error = %e, "sign-out not recorded");
    }
    (
        jar.remove(Cookie::build(SESSION_COOKIE).path("/").build()),
        Redirect::to("/login"),
    )
        .into_response()
}

/// The start page: each role's desk.
pub async fn home(Staff(s): Staff) -> Redirect {
    Redirect::to(match s.role.as_str() {
        "reviewer" | "supervisor" => "/review",
        "admin" => "/admin/users",
        "hotline" => "/hotline",
        "finance" => "/finance/exceptions",
        "fulfillment" => "/fulfilment",
        _ => "/account/password",
    })
}

#[derive(Deserialize)]
pub struct LocaleForm {
    locale: String,
    next: Option<String>,
}

pub async fn set_locale(jar: CookieJar, Form(f): Form<LocaleForm>) -> Response {
    let value = if f.locale == "en" { "en" } else { "zh" };
    let c = Cookie::build((LOCALE_COOKIE, value))
        .path("/")
        .same_site(SameSite::Lax)
        .permanent()
        .build();
    (jar.add(c), Redirect::to(&safe_next(f.next.as_deref()))).into_response()
}

pub async fn password_form(Ctx(ctx): Ctx) -> Html<String> {
    Html(views::login::password_page(&ctx, None).into_string())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Staff(s): Staff,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let refuse = |msg: &str| {
        Html(views::login::password_page(&ctx, Some(msg)).into_string()).into_response()
    };
    let row = state
        .storage
        .staff_by_username(&s.username)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    let matches = match row {
        Some(r) => check_password(&state, f.current.clone(), Some(r.password_hash))
            .await
            .map_err(|e| PageError::internal(&ctx, e))?,
        None => false,
    };
    if !matches {
        return Ok(refuse(
            ctx.t("当前密码不正确。", "The current password is wrong."),
        ));
    }
    if f.new.chars().count() < 10 {
        return Ok(refuse(ctx.t(
            "新密码至少 10 位。",
            "The new password needs 10 characters or more.",
        )));
    }
    if f.new != f.confirm {
        return Ok(refuse(
            ctx.t("两次输入的新密码不一致。", "The two new passwords differ."),
        ));
    }
    let hash = {
        let _turn = state.password_hashes.acquire().await;
        let new = f.new.clone();
        tokio::task::spawn_blocking(move || auth::hash_password(&new))
            .await
            .map_err(|e| PageError::internal(&ctx, e))?
            .map_err(|e| PageError::internal(&ctx, e))?
    };
    let now = state.clock.now().timestamp_millis();
    state
        .storage
        .set_password(s.staff_id, &s.username, &hash, &s.session_hash, now)
        .await
        .map_err(|e| PageError::internal(&ctx, e))?;
    Ok(see_other("/account/password", "password_changed"))
}
