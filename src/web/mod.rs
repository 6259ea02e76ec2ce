//! HTTP: the router, one module per desk, and the layers every request passes
//! (request id, tracing, security headers, identity + casbin authorisation + CSRF).

pub mod admin;
pub mod api_error;
pub mod api_limits;
pub mod assets;
pub mod authorize;
pub mod csrf;
pub mod finance;
pub mod fulfilment;
pub mod health;
pub mod hotline;
pub mod identity;
pub mod intake_api;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod prechecks;
pub mod quality;
pub mod review;
pub mod security;
pub mod serve;
pub mod session;
pub mod sla;
pub mod state;
pub mod supervision;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Request},
    middleware,
    routing::{get, post},
};
use state::AppState;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::RequestBodyTimeoutLayer,
    trace::TraceLayer,
};

/// Every route of the application, as (method, path pattern): the route × role matrix test
/// walks this list, so a new route without a test expectation fails that test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/static/app.css"),
    ("GET", "/static/app.js"),
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/locale"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("GET", "/review"),
    ("POST", "/review/next"),
    ("GET", "/review/{id}"),
    ("GET", "/review/{id}/scans/{version}/{kind}"),
    ("POST", "/review/{id}/claim"),
    ("POST", "/review/{id}/release"),
    ("POST", "/review/{id}/accept"),
    ("POST", "/review/{id}/return"),
    ("POST", "/review/{id}/reassign"),
    ("POST", "/review/{id}/findings"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{id}"),
    ("GET", "/admin/reasons"),
    ("POST", "/admin/reasons"),
    ("GET", "/hotline"),
    ("GET", "/hotline/{id}"),
    ("POST", "/hotline/{id}/verify"),
    ("POST", "/hotline/{id}/note"),
    ("GET", "/hotline-lookups"),
    ("GET", "/sla"),
    ("GET", "/supervision"),
    ("GET", "/supervision/applications"),
    ("GET", "/supervision/quality"),
    ("POST", "/supervision/quality"),
    ("POST", "/supervision/quality/{id}"),
    ("GET", "/supervision/prechecks"),
    ("GET", "/reports"),
    ("GET", "/reports/{name}"),
    ("GET", "/reports/{name}/{format}"),
    ("GET", "/admin/outbox"),
    ("POST", "/admin/outbox/{id}/retry"),
    ("GET", "/admin/audit"),
    ("POST", "/admin/audit/anchor-mail"),
    ("GET", "/admin/calendar"),
    ("POST", "/admin/calendar"),
    ("POST", "/admin/calendar/import"),
    ("GET", "/finance"),
    ("GET", "/finance/bills"),
    ("POST", "/finance/bills"),
    ("GET", "/finance/exceptions"),
    ("GET", "/finance/exceptions/{id}"),
    ("POST", "/finance/exceptions/{id}"),
    ("GET", "/finance/refunds"),
    ("GET", "/finance/refunds.xlsx"),
    ("GET", "/finance/report"),
    ("GET", "/finance/report.xlsx"),
    ("GET", "/finance/invoices"),
    ("POST", "/finance/invoices/batches"),
    ("GET", "/finance/invoices/batches/{id}"),
    ("POST", "/finance/invoices/issued"),
    ("GET", "/invoice-files/{token}"),
    ("GET", "/fulfilment"),
    ("POST", "/fulfilment/production"),
    ("POST", "/fulfilment/batches"),
    ("GET", "/fulfilment/batches"),
    ("GET", "/fulfilment/batches/{id}"),
    ("GET", "/fulfilment/batches/{id}/file"),
    ("GET", "/fulfilment/batches/{id}/labels"),
    ("POST", "/fulfilment/batches/{id}/labels"),
    ("GET", "/fulfilment/batches/{id}/packing"),
    ("POST", "/fulfilment/batches/{id}/packing"),
    ("POST", "/fulfilment/tracking"),
    ("POST", "/fulfilment/shipments/{id}/returned"),
    ("GET", "/api/v1/applications"),
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/applications/{id}"),
    ("PUT", "/api/v1/applications/{id}/resubmission"),
    ("GET", "/api/v1/certificates/{serial}"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/admin/api-clients"),
    ("POST", "/admin/api-clients/{id}"),
];

/// Request ids: a caller's `X-Request-Id` is kept when it is short and plain; otherwise a UUID.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Drops an incoming `X-Request-Id` that is long or carries anything but [A-Za-z0-9._-].
async fn sanitize_request_id(
    mut req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let bad = req.headers().get("x-request-id").is_some_and(|v| {
        let b = v.as_bytes();
        b.is_empty()
            || b.len() > 64
            || !b
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
    });
    if bad {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Makes the request id known to everything the request runs (audit records take it).
async fn scope_request_id(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    crate::request_id::scope(id, next.run(req)).await
}

/// A desk's upload route: its own body limit, and a body declared over it refused with a page
/// before it is read.
fn upload(
    route: axum::routing::MethodRouter<AppState>,
    limit: usize,
) -> axum::routing::MethodRouter<AppState> {
    route
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(
            move |req: axum::extract::Request, next: middleware::Next| {
                csrf::upload_limit(limit, req, next)
            },
        ))
}

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(session::home))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/locale", post(session::set_locale))
        .route(
            "/account/password",
            get(session::password_form).post(session::change_password),
        )
        .route("/review", get(review::queue))
        .route("/review/next", post(review::claim_next))
        .route("/review/{id}", get(review::application))
        .route("/review/{id}/scans/{version}/{kind}", get(review::scan))
        .route("/review/{id}/claim", post(review::claim))
        .route("/review/{id}/release", post(review::release))
        .route("/review/{id}/accept", post(review::accept))
        .route("/review/{id}/return", post(review::return_application))
        .route("/review/{id}/reassign", post(review::reassign))
        .route(
            "/review/{id}/findings",
            post(prechecks::record_finding_verdict),
        )
        .route("/supervision/prechecks", get(prechecks::precision_page))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route(
            "/admin/reasons",
            get(admin::reasons).post(admin::save_reason),
        )
        .route("/hotline", get(hotline::search))
        .route("/hotline/{id}", get(hotline::view))
        .route("/hotline/{id}/verify", post(hotline::verify))
        .route("/hotline/{id}/note", post(hotline::note))
        .route("/hotline-lookups", get(hotline::lookups))
        .route("/sla", get(sla::sla_page))
        .route("/supervision", get(supervision::dashboard_page))
        .route("/supervision/applications", get(supervision::figure_list))
        .route(
            "/supervision/quality",
            get(quality::quality_page).post(quality::draw_sample),
        )
        .route("/supervision/quality/{id}", post(quality::record_verdict))
        .route("/reports", get(supervision::reports_list))
        .route("/reports/{name}", get(supervision::report_page))
        .route("/reports/{name}/{format}", get(supervision::report_file))
        .route("/admin/api-clients", get(admin::api_clients))
        .route("/admin/api-clients/{id}", post(admin::set_api_limits))
        .route("/admin/outbox", get(sla::outbox_page))
        .route("/admin/outbox/{id}/retry", post(sla::retry_message))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/anchor-mail", post(admin::send_anchor))
        .route(
            "/admin/calendar",
            get(sla::calendar_page).post(sla::set_day),
        )
        .route(
            "/admin/calendar/import",
            upload(post(sla::import_calendar), sla::UPLOAD_LIMIT),
        )
        .route("/finance", get(finance::home))
        .route(
            "/finance/bills",
            upload(
                get(finance::bills).post(finance::upload_bill),
                finance::UPLOAD_LIMIT,
            ),
        )
        .route("/finance/exceptions", get(finance::exceptions))
        .route(
            "/finance/exceptions/{id}",
            get(finance::case).post(finance::resolve),
        )
        .route("/finance/refunds", get(finance::refunds))
        .route("/finance/refunds.xlsx", get(finance::refunds_xlsx))
        .route("/finance/report", get(finance::report))
        .route("/finance/report.xlsx", get(finance::report_xlsx))
        .route("/finance/invoices", get(finance::invoices))
        .route("/finance/invoices/batches", post(finance::create_batch))
        .route("/finance/invoices/batches/{id}", get(finance::batch_file))
        .route(
            "/finance/invoices/issued",
            upload(post(finance::import_issued), finance::UPLOAD_LIMIT),
        )
        .route("/invoice-files/{token}", get(finance::invoice_file))
        .route("/fulfilment", get(fulfilment::queue))
        .route(
            "/fulfilment/production",
            post(fulfilment::record_production),
        )
        .route(
            "/fulfilment/batches",
            get(fulfilment::batches).post(fulfilment::create_batch),
        )
        .route("/fulfilment/batches/{id}", get(fulfilment::batch))
        .route("/fulfilment/batches/{id}/file", get(fulfilment::batch_file))
        .route(
            "/fulfilment/batches/{id}/labels",
            get(fulfilment::labels).post(fulfilment::print_labels),
        )
        .route(
            "/fulfilment/batches/{id}/packing",
            get(fulfilment::packing).post(fulfilment::print_packing),
        )
        .route(
            "/fulfilment/tracking",
            upload(post(fulfilment::import_tracking), fulfilment::UPLOAD_LIMIT),
        )
        .route(
            "/fulfilment/shipments/{id}/returned",
            post(fulfilment::parcel_returned),
        )
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .merge(pages)
        .nest(
            "/api/v1",
            intake_api::routes().layer(middleware::from_fn_with_state(
                state.clone(),
                api_limits::enforce,
            )),
        )
        .layer(middleware::from_fn_with_state(state.clone(), authorize::authorize))
        // Every body, pages and API: a client that stalls mid-body is answered and let go.
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            state.settings.body_read_timeout_secs,
        )))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn(security::headers))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(sanitize_request_id))
                // An incoming X-Request-Id is kept; otherwise a UUID is made. Every response carries it.
                .layer(SetRequestIdLayer::x_request_id(RequestIds))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // The path only: query strings may carry personal data (id_number).
                    tracing::info_span!("request", request_id = %rid, method = %req.method(), path = %req.uri().path())
                }))
                .layer(middleware::from_fn(scope_request_id))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}
