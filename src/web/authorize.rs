//! The one authorisation layer, which every request passes: the identity comes from the staff
//! session cookie, or a bearer token on the API; casbin (`identity::Authz`) decides on (role,
//! path, method); a route without a policy row is denied. POSTs from browsers must carry the
//! form's CSRF token (`web::csrf`).

use super::{
    api_error::ApiError,
    identity::{CSRF_COOKIE, Identity, SESSION_COOKIE, StaffIdentity, random_token},
    state::AppState,
};
use crate::{auth::SESSION_IDLE_MS, storage::scan_files::sha256_hex};
use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::sync::Arc;

async fn resolve(
    state: &AppState,
    jar: &CookieJar,
    path: &str,
    authorization: Option<String>,
    api_token: &mut Option<crate::storage::tokens::ApiTokenRow>,
) -> Identity {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        let hash = sha256_hex(c.value().as_bytes());
        if let Ok(Some(s)) = state.storage.session(&hash).await {
            let now = state.clock.now().timestamp_millis();
            let lifetime = state.settings.web.session_lifetime_ms();
            if !s.disabled
                && now - s.last_seen_at < SESSION_IDLE_MS
                && now - s.created_at < lifetime
            {
                if now - s.last_seen_at > 60_000 {
                    let _ = state.storage.touch_session(&hash, now).await;
                }
                return Identity::Staff(Arc::new(StaffIdentity {
                    staff_id: s.staff_id,
                    username: s.username,
                    display_name: s.display_name,
                    role: s.role,
                    csrf: s.csrf_token,
                    session_hash: hash,
                }));
            }
            let _ = state.storage.delete_session(&hash).await;
        }
    }
    if path == "/metrics" {
        let sent = authorization
            .as_deref()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let (Some(sent), Some(want)) = (sent, state.settings.metrics_token.as_deref())
            && constant_time_eq(sent.as_bytes(), want.as_bytes())
        {
            return Identity::Metrics;
        }
    }
    if path.starts_with("/api/") {
        let token = authorization
            .as_deref()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(t) = token
            && let Ok(Some(row)) = state
                .storage
                .api_token_by_hash(&sha256_hex(t.as_bytes()))
                .await
        {
            let name = row.name.clone();
            *api_token = Some(row);
            return Identity::Api(name);
        }
    }
    Identity::Anonymous {
        csrf: jar
            .get(CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The one authorisation layer.
pub async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut api_token = None;
    let mut identity = resolve(&state, &jar, &path, authorization, &mut api_token).await;
    let method = req.method().clone();
    let is_api = path.starts_with("/api/");
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let allowed = state
        .authz
        .allows(identity.subject(), route.as_deref(), &path, method.as_str());
    if !allowed {
        return deny(&identity, is_api, &path, &method);
    }
    // A signed-out browser gets a CSRF cookie for the sign-in form.
    let mut new_csrf_cookie = None;
    if let Identity::Anonymous { csrf } = &mut identity
        && csrf.is_empty()
        && !is_api
    {
        *csrf = random_token();
        new_csrf_cookie = Some(csrf.clone());
    }
    let mut req = req;
    if method == Method::POST && !is_api {
        let expected = match &identity {
            Identity::Staff(s) => s.csrf.clone(),
            Identity::Anonymous { csrf } if new_csrf_cookie.is_none() => csrf.clone(),
            _ => String::new(),
        };
        req = match super::csrf::check(&state, &identity, &jar, &expected, req).await {
            Ok(r) => r,
            Err(refused) => return refused,
        };
    }
    req.extensions_mut().insert(identity);
    if let Some(t) = api_token {
        // The per-client limits (web::api_limits) read the token's row.
        req.extensions_mut().insert(t);
    }
    let mut resp = next.run(req).await;
    if let Some(token) = new_csrf_cookie {
        let c = Cookie::build((CSRF_COOKIE, token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn deny(identity: &Identity, is_api: bool, path: &str, method: &Method) -> Response {
    if path == "/metrics" && !matches!(identity, Identity::Staff(_)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "the metrics token is required\n",
        )
            .into_response();
    }
    match (identity, is_api) {
        (Identity::Anonymous { .. }, true) => ApiError::unauthorized().into_response(),
        (_, true) => ApiError::forbidden().into_response(),
        (Identity::Anonymous { .. }, false) if *method == Method::GET => Redirect::to(&format!(
            "/login?next={}",
            crate::views::review::urlencode(path)
        ))
        .into_response(),
        (Identity::Anonymous { .. }, false) => Redirect::to("/login").into_response(),
        _ => (
            StatusCode::FORBIDDEN,
            super::pages::forbidden_page(identity),
        )
            .into_response(),
    }
}
