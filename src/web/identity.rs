//! Who is asking, and may they: every request passes here. The identity comes from the staff
//! session cookie, or a bearer token on the API; casbin (model `roles.conf`, policy rows in the
//! database) decides on (role, path, method); a route without a policy row is denied. POSTs from
//! browsers must carry the form's CSRF token (`web::csrf`).

use super::state::AppState;
use crate::storage::scan_files::sha256_hex;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "bo_session";
pub const CSRF_COOKIE: &str = "bo_csrf";
pub const LOCALE_COOKIE: &str = "bo_locale";
/// A session unused this long is over; however busy, it ends after the configured lifetime
/// (`WebLimits::session_lifetime_hours`).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;

#[derive(Clone, Debug)]
pub struct StaffIdentity {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub csrf: String,
    pub session_hash: String,
}

impl StaffIdentity {
    /// How staff appear in events and the audit trail.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.username)
    }
}

#[derive(Clone, Debug)]
pub enum Identity {
    /// Signed out; `csrf` is the double-submit token of the sign-in form.
    Anonymous {
        csrf: String,
    },
    Staff(Arc<StaffIdentity>),
    Api(String),
    /// The scraper of `/metrics`, by the configured bearer token.
    Metrics,
}

impl Identity {
    pub fn subject(&self) -> &str {
        match self {
            Identity::Anonymous { .. } => "anonymous",
            Identity::Staff(s) => &s.role,
            Identity::Api(_) => "api_client",
            Identity::Metrics => "metrics",
        }
    }
}

/// casbin's decisions, remembered per (role, route pattern, method). casbin-rs evaluates its
/// matcher (compiling keyMatch2's regexes) row by row on every call, which cost more than the
/// rest of a page; the answers for a route pattern never change while the policy does not.
pub struct Authz {
    enforcer: Enforcer,
    decided: std::sync::RwLock<std::collections::HashMap<(String, String, String), bool>>,
}

impl Authz {
    pub fn new(enforcer: Enforcer) -> Self {
        Self {
            enforcer,
            decided: Default::default(),
        }
    }

    /// `route` is the matched route pattern (`/review/{id}`), which keyMatch2 matches like a
    /// concrete path; a path that matched no route is decided afresh (and not remembered).
    pub fn allows(&self, subject: &str, route: Option<&str>, path: &str, method: &str) -> bool {
        // Only routed requests with the methods we serve are remembered, so the cache stays small.
        let standard = matches!(method, "GET" | "POST" | "PUT" | "HEAD" | "DELETE");
        let Some(route) = route.filter(|_| standard) else {
            return self
                .enforcer
                .enforce((subject, path, method))
                .unwrap_or(false);
        };
        let key = (subject.to_owned(), route.to_owned(), method.to_owned());
        if let Some(d) = self.decided.read().expect("not poisoned").get(&key) {
            return *d;
        }
        let d = self
            .enforcer
            .enforce((subject, route, method))
            .unwrap_or(false);
        self.decided.write().expect("not poisoned").insert(key, d);
        d
    }
}

/// casbin with the model from `roles.conf` and the policy rows from the database.
pub async fn build_enforcer(storage: &crate::storage::Storage) -> anyhow::Result<Enforcer> {
    let model = DefaultModel::from_str(include_str!("../../roles.conf")).await?;
    let mut e = Enforcer::new(model, MemoryAdapter::default()).await?;
    let rules: Vec<Vec<String>> = storage
        .authz_policies()
        .await?
        .into_iter()
        .map(|p| vec![p.role, p.path, p.methods])
        .collect();
    e.add_policies(rules).await?;
    Ok(e)
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

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
        (Identity::Anonymous { .. }, true) => {
            super::intake_api::ApiError::unauthorized().into_response()
        }
        (_, true) => super::intake_api::ApiError::forbidden().into_response(),
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
