//! Every route × every role (and signed out, and a hall client's bearer token) against an
//! expectation written out here by hand — not read from the policy rows — so a change of the
//! policy that nobody meant fails this test. Also: forms without their CSRF token, scans for
//! the roles that review only, and the security headers of every page.

use crate::both;
use crate::helpers::*;
use backoffice::web::ROUTES;

const ROLES: [&str; 6] = [
    "admin",
    "supervisor",
    "reviewer",
    "finance",
    "fulfillment",
    "hotline",
];
const EVERYONE: &str = "anon api admin supervisor reviewer finance fulfillment hotline";
const STAFF: &str = "admin supervisor reviewer finance fulfillment hotline";
const REVIEWING: &str = "supervisor reviewer";
const FINANCE_READ: &str = "admin supervisor finance";
const FULFILMENT_READ: &str = "admin supervisor fulfillment";

/// Who may use each route: `anon` is a signed-out browser, `api` the hall's bearer token (a
/// page sees it as signed out), then the roles. Everyone not listed must be denied.
pub const EXPECTED: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", EVERYONE),
    // only the scraper's own bearer token (tests/api/metrics.rs); nobody of these
    ("GET", "/metrics", ""),
    ("GET", "/static/app.css", EVERYONE),
    ("GET", "/static/app.js", EVERYONE),
    ("GET", "/", STAFF),
    ("GET", "/login", EVERYONE),
    ("POST", "/login", EVERYONE),
    ("POST", "/logout", STAFF),
    ("POST", "/locale", EVERYONE),
    ("GET", "/account/password", STAFF),
    ("POST", "/account/password", STAFF),
    ("GET", "/review", REVIEWING),
    ("POST", "/review/next", REVIEWING),
    ("GET", "/review/{id}", REVIEWING),
    ("GET", "/review/{id}/scans/{version}/{kind}", REVIEWING),
    ("POST", "/review/{id}/claim", REVIEWING),
    ("POST", "/review/{id}/release", REVIEWING),
    ("POST", "/review/{id}/accept", REVIEWING),
    ("POST", "/review/{id}/return", REVIEWING),
    ("POST", "/review/{id}/reassign", "supervisor"),
    ("POST", "/review/{id}/approve", REVIEWING),
    ("POST", "/review/{id}/reject-approval", REVIEWING),
    ("GET", "/admin/four-eyes", "admin"),
    ("POST", "/admin/four-eyes", "admin"),
    ("POST", "/review/{id}/findings", REVIEWING),
    ("POST", "/review/views", REVIEWING),
    ("POST", "/review/views/{id}/delete", REVIEWING),
    ("POST", "/review/bulk", "supervisor"),
    ("POST", "/review/{id}/notes", REVIEWING),
    ("GET", "/inbox", REVIEWING),
    ("POST", "/inbox/read", REVIEWING),
    ("GET", "/admin/users", "admin"),
    ("POST", "/admin/users", "admin"),
    ("POST", "/admin/users/{id}", "admin"),
    ("GET", "/admin/reasons", "admin supervisor"),
    ("POST", "/admin/reasons", "admin supervisor"),
    ("GET", "/hotline", "hotline"),
    ("GET", "/hotline/{id}", "hotline"),
    ("POST", "/hotline/{id}/verify", "hotline"),
    ("POST", "/hotline/{id}/note", "hotline"),
    ("GET", "/hotline-lookups", "admin supervisor"),
    ("GET", "/sla", "admin supervisor"),
    ("GET", "/supervision", "admin supervisor"),
    ("GET", "/supervision/applications", "admin supervisor"),
    ("GET", "/supervision/quality", "admin supervisor"),
    ("POST", "/supervision/quality", "supervisor"),
    ("POST", "/supervision/quality/{id}", "supervisor"),
    ("GET", "/supervision/prechecks", "admin supervisor"),
    ("GET", "/supervision/assignment", "admin supervisor"),
    ("POST", "/supervision/assignment", "supervisor"),
    ("POST", "/supervision/assignment/hand-back", "supervisor"),
    ("POST", "/review/away", "reviewer"),
    ("POST", "/review/hand-back", "reviewer"),
    ("GET", "/reports", "admin supervisor"),
    ("GET", "/reports/{name}", "admin supervisor"),
    ("GET", "/reports/{name}/{format}", "admin supervisor"),
    ("GET", "/admin/outbox", "admin"),
    ("POST", "/admin/outbox/{id}/retry", "admin"),
    ("GET", "/admin/audit", "admin"),
    ("POST", "/admin/audit/anchor-mail", "admin"),
    ("GET", "/admin/calendar", "admin"),
    ("POST", "/admin/calendar", "admin"),
    ("POST", "/admin/calendar/import", "admin"),
    ("GET", "/finance", FINANCE_READ),
    ("GET", "/finance/bills", FINANCE_READ),
    ("POST", "/finance/bills", "finance"),
    ("GET", "/finance/imports/{id}", FINANCE_READ),
    ("GET", "/finance/exceptions", FINANCE_READ),
    ("GET", "/finance/exceptions/{id}", FINANCE_READ),
    ("POST", "/finance/exceptions/{id}", "finance"),
    ("GET", "/finance/refunds", FINANCE_READ),
    ("GET", "/finance/refunds.xlsx", FINANCE_READ),
    ("GET", "/finance/report", FINANCE_READ),
    ("GET", "/finance/report.xlsx", FINANCE_READ),
    ("GET", "/finance/invoices", FINANCE_READ),
    ("POST", "/finance/invoices/batches", "finance"),
    ("GET", "/finance/invoices/batches/{id}", FINANCE_READ),
    ("POST", "/finance/invoices/issued", "finance"),
    // the applicant's link in the invoice e-mail; an unknown token is a 404
    ("GET", "/invoice-files/{token}", "anon api"),
    ("GET", "/fulfilment", FULFILMENT_READ),
    ("POST", "/fulfilment/production", "fulfillment"),
    ("POST", "/fulfilment/batches", "fulfillment"),
    ("GET", "/fulfilment/batches", FULFILMENT_READ),
    ("GET", "/fulfilment/batches/{id}", FULFILMENT_READ),
    ("GET", "/fulfilment/batches/{id}/file", FULFILMENT_READ),
    ("GET", "/fulfilment/batches/{id}/labels", FULFILMENT_READ),
    ("POST", "/fulfilment/batches/{id}/labels", "fulfillment"),
    ("GET", "/fulfilment/batches/{id}/packing", FULFILMENT_READ),
    ("POST", "/fulfilment/batches/{id}/packing", "fulfillment"),
    ("POST", "/fulfilment/tracking", "fulfillment"),
    ("GET", "/fulfilment/imports/{id}", FULFILMENT_READ),
    ("POST", "/fulfilment/shipments/{id}/returned", "fulfillment"),
    ("POST", "/fulfilment/issued", "fulfillment"),
    ("GET", "/revocations", FULFILMENT_READ),
    ("GET", "/revocations/serials.xlsx", FULFILMENT_READ),
    ("POST", "/revocations/crl", "supervisor fulfillment"),
    ("POST", "/revocations/{id}/override", "supervisor"),
    ("GET", "/api/v1/applications", "api"),
    ("POST", "/api/v1/applications", "api"),
    ("GET", "/api/v1/applications/{id}", "api"),
    ("PUT", "/api/v1/applications/{id}/resubmission", "api"),
    ("GET", "/api/v1/certificates/{serial}", "api"),
    // the API's reference: public, so the hall's developers read it without a token
    ("GET", "/api/v1/openapi.json", EVERYONE),
    ("GET", "/api/v1/docs", EVERYONE),
    ("GET", "/admin/api-clients", "admin"),
    ("POST", "/admin/api-clients/{id}", "admin"),
    ("POST", "/admin/api-clients/{id}/webhook", "admin"),
    ("GET", "/admin/api-clients/{id}/deliveries", "admin"),
    ("POST", "/admin/webhook-deliveries/{id}/resend", "admin"),
];

/// The answer each allowed subject gets (`answer_of`): `(method, pattern, answers)` where
/// answers is `who=answer` pairs separated by `|`, `*` standing for every allowed subject not
/// named; `{id}` is the application's id. The concrete requests are those of `concrete`, sent
/// in the order of the roles above: the supervisor's "next" claims the application, so a
/// reviewer's decisions after it are not theirs. A 400/422 in plain text is the form or query
/// refused by its extractor (the request got past the access check, nothing changed); an upload
/// that is not a multipart form is a 422 desk page saying so (`web::uploads`).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/",
        "admin=303 /admin/users | finance=303 /finance/exceptions | fulfillment=303 /fulfilment | hotline=303 /hotline | *=303 /review",
    ),
    ("GET", "/account/password", "*=200 修改密码 · 证书补办后台"),
    ("POST", "/account/password", "*=200 修改密码 · 证书补办后台"),
    (
        "GET",
        "/admin/api-clients",
        "*=200 接口客户端 · 证书补办后台",
    ),
    (
        "POST",
        "/admin/api-clients/{id}",
        "*=400 接口客户端 · 证书补办后台",
    ),
    (
        "POST",
        "/admin/api-clients/{id}/webhook",
        "*=422 text/plain",
    ),
    (
        "GET",
        "/admin/api-clients/{id}/deliveries",
        // {id} is the admin's staff id here: no API token has it.
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/admin/webhook-deliveries/{id}/resend",
        "*=404 404 · 证书补办后台",
    ),
    ("GET", "/admin/audit", "*=200 审计日志锚点 · 证书补办后台"),
    (
        "POST",
        "/admin/audit/anchor-mail",
        "*=303 /admin/audit?msg=no_auditor",
    ),
    ("GET", "/admin/calendar", "*=200 工作日历 · 证书补办后台"),
    (
        "GET",
        "/admin/four-eyes",
        "*=200 双人复核规则 · 证书补办后台",
    ),
    ("POST", "/admin/four-eyes", "*=422 text/plain"),
    ("POST", "/admin/calendar", "*=422 text/plain"),
    (
        "POST",
        "/admin/calendar/import",
        "*=422 工作日历 · 证书补办后台",
    ),
    ("GET", "/admin/outbox", "*=200 邮件发送队列 · 证书补办后台"),
    (
        "POST",
        "/admin/outbox/{id}/retry",
        "*=404 404 · 证书补办后台",
    ),
    ("GET", "/admin/reasons", "*=200 退回原因目录 · 证书补办后台"),
    (
        "POST",
        "/admin/reasons",
        "*=200 退回原因目录 · 证书补办后台",
    ),
    ("GET", "/admin/users", "*=200 用户与角色 · 证书补办后台"),
    ("POST", "/admin/users", "*=200 用户与角色 · 证书补办后台"),
    (
        "POST",
        "/admin/users/{id}",
        "*=303 /admin/users?msg=not_allowed",
    ),
    ("GET", "/api/v1/applications", "*=200 application/json"),
    ("POST", "/api/v1/applications", "*=400 invalid_field"),
    ("GET", "/api/v1/applications/{id}", "*=200 application/json"),
    (
        "PUT",
        "/api/v1/applications/{id}/resubmission",
        "*=400 invalid_field",
    ),
    (
        "GET",
        "/api/v1/certificates/{serial}",
        "*=200 application/json",
    ),
    (
        "GET",
        "/api/v1/docs",
        "*=200 Back office intake API (介质遗失补办)",
    ),
    ("GET", "/api/v1/openapi.json", "*=200 application/json"),
    ("GET", "/finance", "*=303 /finance/exceptions"),
    ("GET", "/finance/bills", "*=200 账单导入 · 证书补办后台"),
    ("POST", "/finance/bills", "*=422 账单导入 · 证书补办后台"),
    ("GET", "/finance/imports/{id}", "*=404 404 · 证书补办后台"),
    (
        "GET",
        "/finance/exceptions",
        "*=200 对账异常 · 证书补办后台",
    ),
    (
        "GET",
        "/finance/exceptions/{id}",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/finance/exceptions/{id}",
        "*=404 404 · 证书补办后台",
    ),
    ("GET", "/finance/invoices", "*=200 发票 · 证书补办后台"),
    (
        "POST",
        "/finance/invoices/batches",
        "*=303 /finance/invoices?msg=nothing_to_batch",
    ),
    (
        "GET",
        "/finance/invoices/batches/{id}",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/finance/invoices/issued",
        "*=422 发票 · 证书补办后台",
    ),
    ("GET", "/finance/refunds", "*=200 待退款 · 证书补办后台"),
    (
        "GET",
        "/finance/refunds.xlsx",
        "*=200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("GET", "/finance/report", "*=200 对账日报 · 证书补办后台"),
    (
        "GET",
        "/finance/report.xlsx",
        "*=200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("GET", "/fulfilment", "*=200 制作与寄送 · 证书补办后台"),
    (
        "GET",
        "/fulfilment/batches",
        "*=200 快递批次 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/batches",
        "*=422 制作与寄送 · 证书补办后台",
    ),
    (
        "GET",
        "/fulfilment/batches/{id}",
        "*=404 404 · 证书补办后台",
    ),
    (
        "GET",
        "/fulfilment/batches/{id}/file",
        "*=404 404 · 证书补办后台",
    ),
    (
        "GET",
        "/fulfilment/batches/{id}/labels",
        "*=404 404 · 证书补办后台",
    ),
    (
        "GET",
        "/fulfilment/batches/{id}/packing",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/batches/{id}/labels",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/batches/{id}/packing",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/production",
        "*=422 制作与寄送 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/issued",
        "*=422 制作与寄送 · 证书补办后台",
    ),
    ("GET", "/revocations", "*=200 遗失证书吊销 · 证书补办后台"),
    (
        "GET",
        "/revocations/serials.xlsx",
        "*=200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "POST",
        "/revocations/crl",
        "*=422 遗失证书吊销 · 证书补办后台",
    ),
    (
        "POST",
        "/revocations/{id}/override",
        "*=422 遗失证书吊销 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/shipments/{id}/returned",
        "*=404 404 · 证书补办后台",
    ),
    (
        "POST",
        "/fulfilment/tracking",
        "*=422 快递批次 · 证书补办后台",
    ),
    (
        "GET",
        "/fulfilment/imports/{id}",
        "*=404 404 · 证书补办后台",
    ),
    ("GET", "/healthz", "*=200 text/plain"),
    ("GET", "/hotline", "*=200 客服查询 · 证书补办后台"),
    (
        "GET",
        "/hotline-lookups",
        "*=200 客服查询统计 · 证书补办后台",
    ),
    ("GET", "/hotline/{id}", "*=200 {id} 张* · 证书补办后台"),
    (
        "POST",
        "/hotline/{id}/note",
        "*=303 /hotline/{id}?msg=need_note",
    ),
    (
        "POST",
        "/hotline/{id}/verify",
        "*=303 /hotline/{id}?msg=verified_no",
    ),
    ("GET", "/invoice-files/{token}", "*=404 404 · 证书补办后台"),
    ("POST", "/locale", "*=303 /"),
    ("GET", "/login", "*=200 登录 · 证书补办后台"),
    ("POST", "/login", "*=200 登录 · 证书补办后台"),
    ("POST", "/logout", "*=303 /login"),
    ("GET", "/reports", "*=200 报表 · 证书补办后台"),
    (
        "GET",
        "/reports/{name}",
        "*=200 审核超期登记簿 · 证书补办后台",
    ),
    ("GET", "/reports/{name}/{format}", "*=200 text/csv"),
    ("GET", "/review", "*=200 审核队列 · 证书补办后台"),
    (
        "POST",
        "/review/next",
        "reviewer=303 /review?msg=empty | supervisor=303 /review/{id}?msg=claimed",
    ),
    ("GET", "/review/{id}", "*=200 {id} 张三 · 证书补办后台"),
    (
        "POST",
        "/review/{id}/accept",
        "reviewer=303 /review/{id}?msg=not_yours | supervisor=303 /review/{id}?msg=conflict",
    ),
    (
        "POST",
        "/review/{id}/approve",
        "*=303 /review/{id}?msg=conflict",
    ),
    (
        "POST",
        "/review/{id}/claim",
        "*=303 /review/{id}?msg=conflict",
    ),
    (
        "POST",
        "/review/{id}/reject-approval",
        "*=303 /review/{id}?msg=need_approval_note",
    ),
    ("POST", "/review/{id}/findings", "*=422 text/plain"),
    ("POST", "/review/views", "*=303 /review?msg=view_invalid"),
    (
        "POST",
        "/review/views/{id}/delete",
        "*=303 /review?msg=view_not_found",
    ),
    ("POST", "/review/bulk", "*=303 /review?msg=nothing_selected"),
    (
        "POST",
        "/review/{id}/notes",
        "*=303 /review/{id}?msg=note_invalid",
    ),
    ("GET", "/inbox", "*=200 提及我的 · 证书补办后台"),
    ("POST", "/inbox/read", "*=303 /inbox?msg=marked_read"),
    (
        "POST",
        "/review/{id}/reassign",
        "*=303 /review/{id}?msg=not_allowed",
    ),
    (
        "POST",
        "/review/{id}/release",
        "reviewer=303 /review/{id}?msg=not_yours | supervisor=303 /review/{id}?msg=conflict",
    ),
    (
        "POST",
        "/review/{id}/return",
        "reviewer=303 /review/{id}?msg=not_yours | supervisor=303 /review/{id}?msg=need_reason",
    ),
    (
        "GET",
        "/review/{id}/scans/{version}/{kind}",
        "*=200 image/jpeg",
    ),
    ("GET", "/sla", "*=200 审核时效 · 证书补办后台"),
    ("GET", "/static/app.css", "*=200 text/css"),
    ("GET", "/static/app.js", "*=200 text/javascript"),
    ("GET", "/supervision", "*=200 运营监督 · 证书补办后台"),
    ("GET", "/supervision/applications", "*=400 text/plain"),
    (
        "GET",
        "/supervision/prechecks",
        "*=200 机审提示准确率 · 证书补办后台",
    ),
    (
        "GET",
        "/supervision/quality",
        "*=200 质量抽检 · 证书补办后台",
    ),
    ("POST", "/supervision/quality", "*=422 text/plain"),
    ("POST", "/supervision/quality/{id}", "*=400 text/plain"),
    (
        "GET",
        "/supervision/assignment",
        "*=200 自动分配 · 证书补办后台",
    ),
    ("POST", "/supervision/assignment", "*=422 text/plain"),
    (
        "POST",
        "/supervision/assignment/hand-back",
        "*=303 /supervision/assignment?msg=not_allowed",
    ),
    ("POST", "/review/away", "*=303 /review?msg=not_allowed"),
    (
        "POST",
        "/review/hand-back",
        "*=303 /review?released=0&changed=0&msg=handed_back",
    ),
];

fn allowed_answer(who: &str, method: &str, pattern: &str, app_id: &str) -> String {
    let (_, _, answers) = ALLOWED
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
        .unwrap_or_else(|| panic!("{method} {pattern}: no allowed answer written down"));
    let mut any = None;
    for a in answers.split('|') {
        let (w, ans) = a.split_once('=').expect("who=answer");
        let ans = ans.trim().replace("{id}", app_id);
        if w.trim() == who {
            return ans;
        }
        if w.trim() == "*" {
            any = Some(ans);
        }
    }
    any.unwrap_or_else(|| panic!("{who} {method} {pattern}: no allowed answer written down"))
}

fn expected_for(method: &str, pattern: &str) -> &'static str {
    EXPECTED
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
        .map(|(_, _, who)| *who)
        .unwrap_or_else(|| panic!("{method} {pattern} is in ROUTES but has no expectation here"))
}

/// The concrete request for a route pattern: path parameters filled with real rows, and a
/// form body that reaches the handler without changing anything that matters.
fn concrete(
    method: &str,
    pattern: &str,
    app_id: &str,
    staff_id: i64,
) -> (String, Vec<(&'static str, &'static str)>) {
    let id = if pattern.starts_with("/admin/") {
        staff_id.to_string()
    } else {
        app_id.to_owned()
    };
    let mut path = pattern
        .replace("{id}", &id)
        .replace("{version}", "1")
        .replace("{kind}", "id_front")
        .replace("{token}", "0123456789abcdef0123456789abcdef")
        .replace("{serial}", "0150512140479054C03")
        .replace("{name}", "sla-breaches")
        .replace("{format}", "csv");
    if method == "GET" && pattern == "/api/v1/applications" {
        path.push_str("?hall_reference=WT202611250001");
    }
    if pattern == "/api/v1/certificates/{serial}" {
        path.push_str("?id_number=11010519491231002X");
    }
    let form = match (method, pattern) {
        ("POST", "/login") => vec![
            ("username", "nobody"),
            ("password", "not the password"),
            ("next", "/"),
        ],
        ("POST", "/locale") => vec![("locale", "zh"), ("next", "/")],
        ("POST", "/account/password") => vec![("current", "wrong"), ("new", "x"), ("confirm", "y")],
        ("POST", "/admin/users") => vec![
            ("username", "x"),
            ("display_name", "x"),
            ("role", "reviewer"),
            ("password", "short"),
        ],
        ("POST", "/admin/users/{id}") => vec![("role", "no-such-role")],
        ("POST", "/admin/reasons") => vec![("code", "X"), ("text_shown", "")],
        ("POST", "/admin/calendar") => vec![("date", "not-a-date"), ("working", "1")],
        ("POST", "/hotline/{id}/verify") => vec![("method", "mobile"), ("value", "x")],
        ("POST", "/hotline/{id}/note") => vec![("note", "")],
        ("POST", "/fulfilment/batches") => vec![("courier", "none")],
        ("POST", "/admin/api-clients/{id}") => vec![
            ("rate_per_minute", "0"),
            ("max_concurrent_uploads", "1"),
            ("max_body_bytes", "1024"),
        ],
        ("POST", "/fulfilment/shipments/{id}/returned") => vec![("reason", "")],
        ("POST", "/finance/exceptions/{id}") => vec![("action", "accept"), ("note", "")],
        // A row version nobody saw: the decision is refused as a conflict, nothing changes.
        ("POST", p) if p.starts_with("/review/{id}/") => vec![("row_version", "-1")],
        _ => vec![],
    };
    (path, form)
}

fn check_headers(what: &str, r: &reqwest::Response, problems: &mut Vec<String>) {
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    if h("x-content-type-options") != "nosniff" {
        problems.push(format!("{what}: no X-Content-Type-Options nosniff"));
    }
    if h("content-type").starts_with("text/html")
        && !h("content-security-policy").contains("frame-ancestors 'none'")
    {
        problems.push(format!("{what}: HTML without CSP frame-ancestors 'none'"));
    }
}

/// An answer in short: the status, then the page's `<title>` (HTML), where a redirect leads,
/// an API error's code, or the content type of a file.
fn answer_of(status: u16, to: &str, content_type: &str, body: &str) -> String {
    let title = || {
        let start = body.find("<title>")? + "<title>".len();
        let end = body[start..].find("</title>")? + start;
        Some(body[start..end].trim().to_owned())
    };
    let error_code = || {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        Some(
            v["error"]["code"]
                .as_str()
                .or(v["code"].as_str())?
                .to_owned(),
        )
    };
    let what = if (300..400).contains(&status) {
        to.to_owned()
    } else if content_type.starts_with("text/html") {
        title().unwrap_or_else(|| "html without a title".into())
    } else if let Some(code) = error_code() {
        code
    } else {
        content_type.split(';').next().unwrap_or("").to_owned()
    };
    format!("{status} {what}")
}

/// One subject's request to one route, judged as allowed or denied by the kind of answer;
/// an allowed one's answer in short (`answer_of`) goes to `answer`.
#[allow(clippy::too_many_arguments)]
async fn try_route(
    who: &str,
    b: &StaffBrowser,
    token: Option<&str>,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    problems: &mut Vec<String>,
    answer: &mut String,
) -> bool {
    let mut req = match method {
        "GET" => b.http.get(b.url(path)),
        "POST" => b.http.post(b.url(path)),
        "PUT" => b.http.put(b.url(path)),
        m => panic!("method {m}"),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if method == "POST" && !path.starts_with("/api/") {
        let csrf = b.csrf();
        let mut all = form.to_vec();
        all.push(("_csrf", &csrf));
        req = req.form(&all);
    }
    let r = req.send().await.unwrap();
    let what = format!("{who} {method} {path}");
    check_headers(&what, &r, problems);
    let status = r.status().as_u16();
    let to = location(&r);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.text().await.unwrap_or_default();
    *answer = answer_of(status, &to, &content_type, &body);
    let staff = ROLES.contains(&who);
    let route_path = path.split('?').next().unwrap();
    let denied = match (path.starts_with("/api/"), staff) {
        // The scraper's route answers a missing token with 401, a staff session with the page.
        (false, false) if route_path == "/metrics" => status == 401,
        (true, false) => status == 401,
        (true, true) => status == 403,
        (false, false) if method == "GET" => {
            status == 303 && to == format!("/login?next={}", route_path.replace('/', "%2F"))
        }
        (false, false) => status == 303 && to == "/login",
        (false, true) => status == 403 && body.contains("您的角色无权访问此页面"),
    };
    let refused_somehow =
        status == 401 || status == 403 || (status == 303 && to.starts_with("/login") && !staff);
    if refused_somehow && !denied {
        problems.push(format!(
            "{what}: refused with an unexpected answer {status} {to}"
        ));
    }
    !refused_somehow
}

async fn route_role_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let app_id = app.submit_example().await;
    let mut browsers = Vec::new();
    for role in ROLES {
        browsers.push((
            role,
            None,
            app.signed_in_staff(&format!("m.{role}"), role).await,
        ));
    }
    for who in ["anon", "api"] {
        let b = app.browser();
        b.get_page("/login").await; // the signed-out CSRF token, as the sign-in form has it
        browsers.push((who, (who == "api").then_some(app.token.as_str()), b));
    }
    let staff_id = app.staff_id("m.reviewer").await;

    // Every route has an expectation, and every expectation is a route.
    for (m, p) in ROUTES {
        expected_for(m, p);
    }
    for (m, p, _) in EXPECTED {
        assert!(
            ROUTES.contains(&(*m, *p)),
            "{m} {p} is expected here but not in ROUTES"
        );
    }
    // Signing out ends the session the other requests need: that route goes last.
    let mut routes = ROUTES.to_vec();
    routes.sort_by_key(|(_, p)| *p == "/logout");

    let mut problems = Vec::new();
    let (mut checked, mut answered) = (0, 0);
    for (who, token, b) in &browsers {
        for (method, pattern) in &routes {
            let want = expected_for(method, pattern)
                .split_whitespace()
                .any(|w| w == *who);
            let (path, form) = concrete(method, pattern, &app_id, staff_id);
            let mut answer = String::new();
            let got = try_route(
                who,
                b,
                *token,
                method,
                &path,
                &form,
                &mut problems,
                &mut answer,
            )
            .await;
            if got != want {
                let word = |a: bool| if a { "allowed" } else { "denied" };
                problems.push(format!(
                    "{who} {method} {pattern}: expected {}, was {}",
                    word(want),
                    word(got)
                ));
            } else if want {
                // Allowed is not "not refused": the very answer this subject must get.
                let expected = allowed_answer(who, method, pattern, &app_id);
                if answer != expected {
                    problems.push(format!(
                        "{who} {method} {pattern}: answered {answer:?}, expected {expected:?}"
                    ));
                }
                answered += 1;
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 8);
    // Every allowed pair had its answer checked.
    let allowed: usize = ROUTES
        .iter()
        .map(|(m, p)| expected_for(m, p).split_whitespace().count())
        .sum();
    assert_eq!(answered, allowed);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn forms_without_their_csrf_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    app.create_staff("li.jing", "reviewer", STAFF_PASSWORD)
        .await;

    // Signing in needs the sign-in form's token too.
    let b = app.browser();
    b.get_page("/login").await;
    let creds = [
        ("username", "li.jing"),
        ("password", STAFF_PASSWORD),
        ("next", "/"),
    ];
    for csrf in [None, Some("0".repeat(64))] {
        let mut f = creds.to_vec();
        if let Some(c) = &csrf {
            f.push(("_csrf", c));
        }
        let r = b.post_raw("/login", &f).await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("表单已过期"));
    }
    let r = b.get("/review").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?next=%2Freview".into())
    );

    let reviewer = app.browser();
    reviewer.sign_in("li.jing", STAFF_PASSWORD).await;
    let other = app.signed_in_staff("wang.fang", "reviewer").await;
    let page = reviewer.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap();
    let claim = format!("/review/{id}/claim");
    let others_token = other.csrf();
    for csrf in [None, Some("f".repeat(64)), Some(others_token)] {
        let mut f = vec![("row_version", rv.as_str())];
        if let Some(c) = &csrf {
            f.push(("_csrf", c));
        }
        let r = reviewer.post_raw(&claim, &f).await;
        assert_eq!(r.status(), 403, "claim with {csrf:?}");
    }
    // Nothing changed: still waiting, unclaimed, no claim audited.
    assert_eq!(app.history(&id).await, ["submitted"]);
    assert_eq!(app.audited(&id, "application.claimed").await, 0);
    let again = reviewer.get_page(&format!("/review/{id}")).await;
    assert_eq!(hidden_field(&again, "row_version").unwrap(), rv);
    // With the page's own token the same form goes through.
    let r = reviewer.post_form(&claim, &[("row_version", &rv)]).await;
    assert_eq!(location(&r), format!("/review/{id}?msg=claimed"));

    // An administrator's form without the token creates no user.
    let admin = app.signed_in_staff("root", "admin").await;
    let new_user = [
        ("username", "zhao.lei"),
        ("display_name", "赵磊"),
        ("role", "finance"),
        ("password", "another long phrase"),
    ];
    let r = admin.post_raw("/admin/users", &new_user).await;
    assert_eq!(r.status(), 403);
    assert!(!app.staff_exists("zhao.lei").await);
    let r = admin.post_form("/admin/users", &new_user).await;
    assert_eq!(location(&r), "/admin/users?msg=user_created");
    assert!(app.staff_exists("zhao.lei").await);
}

async fn scans_only_for_roles_that_review(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.submit_example().await;
    let scan = format!("/review/{id}/scans/1/id_front");
    let front = jpeg(b"front WT202611250001");
    for role in ROLES {
        let b = app.signed_in_staff(&format!("m.{role}"), role).await;
        let r = b.get(&scan).await;
        if role == "reviewer" || role == "supervisor" {
            assert_eq!(r.status(), 200, "{role}");
            assert_eq!(r.headers()["content-type"], "image/jpeg");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            assert_eq!(r.bytes().await.unwrap().to_vec(), front, "{role}");
            assert_eq!(
                b.get(&format!("/review/{id}/scans/2/id_front"))
                    .await
                    .status(),
                404
            );
        } else {
            assert_eq!(r.status(), 403, "{role} sees a scan");
            assert!(r.text().await.unwrap().contains("您的角色无权访问此页面"));
        }
    }
    let r = app.browser().get(&scan).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next="));
    // A hall client's token is no way in either.
    let b = app.browser();
    let r = b
        .http
        .get(b.url(&scan))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, format!("/login?next={}", scan.replace('/', "%2F")))
    );
}

both!(
    route_role_matrix,
    forms_without_their_csrf_token_are_refused,
    scans_only_for_roles_that_review
);
