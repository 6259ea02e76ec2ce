//! CSRF for the pages' POSTs, checked without reading a file upload: a form sent from another
//! site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this host nor the public
//! URL) is refused; the token comes from the `X-CSRF-Token` header or the action's `_csrf`
//! query parameter (file uploads, so their bodies stream to the handler under the desk's own
//! limit), or else from the `_csrf` field of a url-encoded form read within the form limit.
//! Every refusal is a page in the reader's language.

use super::{identity::Identity, pages, state::AppState};
use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, StatusCode, header, request::Parts},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;

pub const HEADER: &str = "x-csrf-token";

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}://{authority}").to_ascii_lowercase()
}

/// Whether the browser says the form came from another site.
fn cross_site(state: &AppState, parts: &Parts) -> bool {
    let h = &parts.headers;
    if h.get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return true;
    }
    let Some(origin) = h.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("").trim().to_ascii_lowercase();
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let same_host = !host.is_empty()
        && origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host);
    !(same_host || origin == origin_of(&state.settings.public_url))
}

fn sent_token(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    parts.uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned())
    })
}

fn is_urlencoded(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

enum ReadError {
    TooLarge,
    Failed,
}

/// The whole body, or `TooLarge` as soon as it passes `limit` (nothing more is read).
async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, ReadError> {
    use http_body_util::BodyExt;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadError::Failed)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

fn too_large(identity: &Identity, jar: &CookieJar, limit: usize) -> Response {
    let kib = limit / 1024;
    pages::refusal(
        identity,
        jar,
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("表单超过 {kib} KiB 上限，未作任何更改。请缩短内容后重试。"),
        &format!(
            "The form is over the {kib} KiB limit; nothing was changed. Shorten it and try again."
        ),
    )
}

/// Checks a page POST; gives the request back (its body untouched, or re-made from the form
/// read) or the refusal to send.
pub async fn check(
    state: &AppState,
    identity: &Identity,
    jar: &CookieJar,
    expected: &str,
    req: Request,
) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    if cross_site(state, &parts) {
        return Err(pages::refusal(
            identity,
            jar,
            StatusCode::FORBIDDEN,
            "拒绝来自其他网站的表单提交。请在本系统的页面上操作。",
            "A form sent from another site was refused. Use the pages of this system.",
        ));
    }
    // No token to compare with (a browser that never opened a page here): nothing to read.
    if expected.is_empty() {
        return Err(pages::forbidden_csrf(state, identity, jar));
    }
    let ok = |sent: &str| constant_time_eq(sent.as_bytes(), expected.as_bytes());
    if let Some(sent) = sent_token(&parts) {
        if !ok(&sent) {
            return Err(pages::forbidden_csrf(state, identity, jar));
        }
        return Ok(Request::from_parts(parts, body));
    }
    if !is_urlencoded(&parts.headers) {
        return Err(pages::forbidden_csrf(state, identity, jar));
    }
    let limit = state.settings.web.form_limit_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(identity, jar, limit));
    }
    let bytes = match read_limited(body, limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return Err(too_large(identity, jar, limit)),
        Err(ReadError::Failed) => {
            let secs = state.settings.body_read_timeout_secs;
            return Err(pages::refusal(
                identity,
                jar,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "表单未能读完（发送中断，或超过 {secs} 秒没有数据），未作任何更改。请重试。"
                ),
                &format!(
                    "The form did not arrive whole (cut off, or no data for {secs} s); nothing was changed. Try again."
                ),
            ));
        }
    };
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !ok(&sent) {
        return Err(pages::forbidden_csrf(state, identity, jar));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// A desk's upload route: a body declared over `limit` is refused with a page naming the limit
/// before any of it is read; the handler's own limit (`DefaultBodyLimit`) bounds the rest.
pub async fn upload_limit(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let identity = req
            .extensions()
            .get::<Identity>()
            .cloned()
            .unwrap_or(Identity::Anonymous {
                csrf: String::new(),
            });
        let jar = CookieJar::from_headers(req.headers());
        let mib = limit / (1024 * 1024);
        return pages::refusal(
            &identity,
            &jar,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("文件超过 {mib} MiB 上限，未作任何更改。请拆分后分次上传。"),
            &format!(
                "The file is over the {mib} MiB limit; nothing was changed. Split it and upload the parts."
            ),
        );
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins() {
        assert_eq!(
            super::origin_of("https://bo.example.com/x?y"),
            "https://bo.example.com"
        );
        assert_eq!(
            super::origin_of("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
