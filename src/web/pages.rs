//! What every page handler shares: the page context extractor, page errors, redirects.

use super::{
    identity::{Identity, LOCALE_COOKIE, StaffIdentity},
    state::AppState,
};
use crate::views::{
    layout::{Member, PageCtx, error_page},
    texts::Locale,
};
use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;
use tower_http::request_id::RequestId;

fn member(identity: &Identity) -> Option<Member> {
    match identity {
        Identity::Staff(s) => Some(Member {
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            role: s.role.clone(),
        }),
        _ => None,
    }
}

fn csrf_of(identity: &Identity) -> String {
    match identity {
        Identity::Staff(s) => s.csrf.clone(),
        Identity::Anonymous { csrf } => csrf.clone(),
        Identity::Api(_) | Identity::Metrics => String::new(),
    }
}

/// The page context of the request: locale, member, CSRF token, path, request id, message.
pub struct Ctx(pub PageCtx);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let identity = parts
            .extensions
            .get::<Identity>()
            .cloned()
            .unwrap_or(Identity::Anonymous {
                csrf: String::new(),
            });
        let jar = CookieJar::from_headers(&parts.headers);
        let msg = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "msg")
                .map(|(_, v)| v.into_owned())
        });
        // The inbox's count for the review desk; a failed count shows none rather than failing.
        let unread = match &identity {
            Identity::Staff(s) if matches!(s.role.as_str(), "reviewer" | "supervisor") => {
                state.storage.unread_mentions(s.staff_id).await.ok()
            }
            _ => None,
        };
        Ok(Ctx(PageCtx {
            locale: Locale::parse(jar.get(LOCALE_COOKIE).map(|c| c.value()).unwrap_or("zh")),
            member: member(&identity),
            csrf: csrf_of(&identity),
            path: parts.uri.path().to_owned(),
            request_id: parts
                .extensions
                .get::<RequestId>()
                .and_then(|r| r.header_value().to_str().ok())
                .unwrap_or("-")
                .to_owned(),
            msg,
            unread,
        }))
    }
}

/// The signed-in member; pages behind the policy always have one.
pub struct Staff(pub Arc<StaffIdentity>);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            Some(Identity::Staff(s)) => Ok(Staff(s.clone())),
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// A page handler's failure, rendered as a page.
pub enum PageError {
    NotFound(PageCtx),
    /// The application's personal data was erased at the end of its retention period.
    Erased(PageCtx),
    Internal(PageCtx),
}

impl PageError {
    pub fn internal(ctx: &PageCtx, e: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %e, "page failed");
        PageError::Internal(ctx.clone())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(ctx) => (
                StatusCode::NOT_FOUND,
                Html(
                    error_page(
                        &ctx,
                        404,
                        ctx.t("没有这个页面或申请。", "No such page or application."),
                    )
                    .into_string(),
                ),
            )
                .into_response(),
            PageError::Erased(ctx) => (
                StatusCode::GONE,
                Html(
                    error_page(
                        &ctx,
                        410,
                        ctx.t(
                            "该申请的个人信息与扫描件已按保存期限删除；状态、日期与审计记录仍保留。",
                            "This application's personal data and scans were erased at the end of their retention period; its status, dates and audit trail are kept.",
                        ),
                    )
                    .into_string(),
                ),
            )
                .into_response(),
            PageError::Internal(ctx) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(
                    error_page(
                        &ctx,
                        500,
                        ctx.t("处理失败。", "Something failed on our side."),
                    )
                    .into_string(),
                ),
            )
                .into_response(),
        }
    }
}

fn minimal_ctx(identity: &Identity) -> PageCtx {
    PageCtx {
        member: member(identity),
        csrf: csrf_of(identity),
        ..Default::default()
    }
}

pub fn forbidden_page(identity: &Identity) -> Html<String> {
    let ctx = minimal_ctx(identity);
    Html(
        error_page(
            &ctx,
            403,
            ctx.t(
                "您的角色无权访问此页面。",
                "Your role may not open this page.",
            ),
        )
        .into_string(),
    )
}

pub fn forbidden_csrf(_state: &AppState, identity: &Identity, jar: &CookieJar) -> Response {
    refusal(
        identity,
        jar,
        StatusCode::FORBIDDEN,
        "表单已过期，请刷新页面后重试。",
        "The form has expired; reload the page and try again.",
    )
}

/// A refusal as a page in the reader's language (the locale cookie), for the layers that answer
/// before any handler runs.
pub fn refusal(
    identity: &Identity,
    jar: &CookieJar,
    status: StatusCode,
    zh: &str,
    en: &str,
) -> Response {
    let mut ctx = minimal_ctx(identity);
    ctx.locale = Locale::parse(jar.get(LOCALE_COOKIE).map(|c| c.value()).unwrap_or("zh"));
    let text = match ctx.locale {
        Locale::Zh => zh,
        Locale::En => en,
    };
    (
        status,
        Html(error_page(&ctx, status.as_u16(), text).into_string()),
    )
        .into_response()
}

/// 303 to a page with a message code.
pub fn see_other(path: &str, msg: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={msg}")).into_response()
}

/// A desk page that may carry a refusal: 422 when it does (the form changed nothing), else 200.
pub fn page_with(markup: maud::Markup, refused: bool) -> Response {
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, Html(markup.into_string())).into_response()
}

/// An xlsx download (never cached), named as [`super::download::content_disposition`] says.
pub fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    super::download::download(file_name, super::download::XLSX, bytes)
}
