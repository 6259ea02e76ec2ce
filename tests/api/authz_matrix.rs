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
const EXPECTED: &[(&str, &str, &str)] = &[
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
    ("POST", "/review/{id}/findings", REVIEWING),
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
    ("POST", "/fulfilment/shipments/{id}/returned", "fulfillment"),
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
];

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

/// One subject's request to one route, judged as allowed or denied by the kind of answer.
async fn try_route(
    who: &str,
    b: &StaffBrowser,
    token: Option<&str>,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
    problems: &mut Vec<String>,
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
    let body = r.text().await.unwrap_or_default();
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
    let mut checked = 0;
    for (who, token, b) in &browsers {
        for (method, pattern) in &routes {
            let want = expected_for(method, pattern)
                .split_whitespace()
                .any(|w| w == *who);
            let (path, form) = concrete(method, pattern, &app_id, staff_id);
            let got = try_route(who, b, *token, method, &path, &form, &mut problems).await;
            if got != want {
                let word = |a: bool| if a { "allowed" } else { "denied" };
                problems.push(format!(
                    "{who} {method} {pattern}: expected {}, was {}",
                    word(want),
                    word(got)
                ));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 8);
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
