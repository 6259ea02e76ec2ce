//! HTTP: the router, one module per desk, and the layers every request passes
//! (request id, tracing, security headers, identity + casbin authorisation + CSRF).

pub mod admin;
pub mod api_error;
pub mod api_limits;
pub mod approvals;
pub mod assets;
pub mod assignment;
pub mod authorize;
pub mod bulk;
pub mod csrf;
pub mod download;
pub mod finance;
pub mod fulfilment;
pub mod health;
pub mod hotline;
pub mod identity;
pub mod imports;
pub mod intake_api;
pub mod metrics;
pub mod notes;
pub mod pages;
pub mod paging;
pub mod prechecks;
pub mod quality;
pub mod review;
pub mod review_queue;
pub mod revocations;
pub mod saved_views;
pub mod scans;
pub mod security;
pub mod serve;
pub mod session;
pub mod sla;
pub mod state;
pub mod supervision;
pub mod uploads;
pub mod webhooks;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Request},
    middleware,
};
use state::AppState;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::RequestBodyTimeoutLayer,
    trace::TraceLayer,
};

/// Every route of the application, as (method, path pattern), gathered from the desks' own
/// lists (each made by [`routes!`] from the lines that make its router, so a route cannot be
/// added without appearing here): the route × role matrix test walks this list, so a new route
/// without a test expectation fails that test.
pub const ROUTES: &[(&str, &str)] = &ALL_ROUTES;

const ALL_ROUTES: [(&str, &str); count_routes(DESK_ROUTES)] = concat_routes(DESK_ROUTES);

/// A route's method as `ROUTES` spells it, from the name of axum's routing function.
const fn method_name(routing_fn: &str) -> &'static str {
    match routing_fn.as_bytes() {
        b"get" => "GET",
        b"post" => "POST",
        b"put" => "PUT",
        b"patch" => "PATCH",
        b"delete" => "DELETE",
        _ => panic!("a routing function ROUTES has no name for"),
    }
}

const fn count_routes(lists: &[&[(&str, &str)]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < lists.len() {
        n += lists[i].len();
        i += 1;
    }
    n
}

const fn concat_routes<const N: usize>(
    lists: &[&[(&'static str, &'static str)]],
) -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let (mut i, mut k) = (0, 0);
    while i < lists.len() {
        let mut j = 0;
        while j < lists[i].len() {
            out[k] = lists[i][j];
            (j, k) = (j + 1, k + 1);
        }
        i += 1;
    }
    out
}

/// A desk's routes, written once as axum writes them (`"/path" => get(list).post(create);`, a
/// line ending `, upload LIMIT` for a desk's upload, see [`upload`]); the same lines make the
/// desk's `pub const ROUTES` and its `pub fn router()` (or, after `nest "/prefix";`, a private
/// `fn routes()` to be nested there, with `ROUTES` spelled with the prefix).
macro_rules! routes {
    (@route $route:expr) => { $route };
    (@route $route:expr, $limit:expr) => { $crate::web::upload($route, $limit) };
    (@list $prefix:literal $($path:literal => $($method:ident($handler:path)).+ $(, upload $limit:expr)?;)+) => {
        /// This desk's routes as (method, path), made from the same lines as its router.
        pub const ROUTES: &[(&str, &str)] =
            &[$($(($crate::web::method_name(stringify!($method)), concat!($prefix, $path)),)+)+];
    };
    (@router $($path:literal => $($method:ident($handler:path)).+ $(, upload $limit:expr)?;)+) => {
        axum::Router::<$crate::web::state::AppState>::new()
            $(.route(
                $path,
                $crate::web::routes!(@route axum::routing::MethodRouter::new()$(.$method($handler))+ $(, $limit)?),
            ))+
    };
    (nest $prefix:literal; $($lines:tt)+) => {
        /// Where [`routes`] are nested.
        pub const PREFIX: &str = $prefix;
        $crate::web::routes!(@list $prefix $($lines)+);
        /// This desk's routes, from the same lines as `ROUTES`, to be nested at [`PREFIX`].
        fn routes() -> axum::Router<$crate::web::state::AppState> {
            $crate::web::routes!(@router $($lines)+)
        }
    };
    ($($lines:tt)+) => {
        $crate::web::routes!(@list "" $($lines)+);
        /// This desk's router, from the same lines as `ROUTES`.
        pub fn router() -> axum::Router<$crate::web::state::AppState> {
            $crate::web::routes!(@router $($lines)+)
        }
    };
}
pub(crate) use routes;

/// The desks, named once: their route lists make [`ROUTES`] (with the intake API's, nested in
/// [`router`]), and their routers merged make the pages' router.
macro_rules! desks {
    ($($desk:ident),+) => {
        const DESK_ROUTES: &[&[(&str, &str)]] = &[$($desk::ROUTES,)+ intake_api::ROUTES];

        fn desk_routers() -> Router<AppState> {
            Router::new()$(.merge($desk::router()))+
        }
    };
}

desks!(
    health,
    metrics,
    assets,
    session,
    review,
    saved_views,
    bulk,
    notes,
    approvals,
    assignment,
    prechecks,
    admin,
    hotline,
    sla,
    supervision,
    quality,
    finance,
    fulfilment,
    revocations,
    webhooks
);

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
    desk_routers()
        .nest(
            intake_api::PREFIX,
            intake_api::router().layer(middleware::from_fn_with_state(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r), "{r:?} is listed twice");
        }
        assert_eq!(ROUTES.len(), count_routes(DESK_ROUTES));
        assert!(ROUTES.contains(&("POST", "/api/v1/applications")));
        assert!(ROUTES.contains(&("POST", "/finance/bills")));
    }
}
