//! Everything that knows HTTP: the routers ([`routes`], one module per
//! resource, each parsing its request, calling one operation of the service
//! layer and mapping the answer), the extractors ([`auth`]: sessions and
//! staff roles; [`extract`]: JSON bodies and the caller), the middleware
//! (request ids, CSRF, API headers, busy counting, logging of internal
//! errors), the security headers, the built PWA ([`static_files`]), the
//! OpenAPI document ([`openapi`]) and the serving loop ([`serve`]:
//! connections, their deadlines, TLS, the redirect port). Nothing outside this module names an
//! axum extractor; nothing in here writes to the database itself.

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::state::AppState;

pub mod auth;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod security_headers;
pub mod serve;
pub mod static_files;
pub mod throttle;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application for `state`, with `extra` API routes merged in
/// (empty in production; tests use it for probe endpoints).
pub fn app_router(state: AppState, extra: Router<AppState>) -> Router {
    routes::api_router()
        .merge(extra)
        .merge(self::metrics::router())
        .fallback(static_files::serve)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            throttle::gate,
        ))
        .layer(axum::middleware::from_fn(middleware::api_headers))
        .layer(axum::middleware::from_fn(middleware::csrf))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::count_busy,
        ))
        .layer(axum::middleware::from_fn(middleware::internal_errors))
        // A 5xx is not logged here at ERROR: a 500 is logged by
        // `internal_errors` (with the request id it answers), and a 503 is a designed
        // answer to overload that the hasher reports once a second; an
        // ERROR line per 503 would be written a thousand times a second
        // during the very flood the 503s are there to shed.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
        .layer(PropagateRequestIdLayer::new(middleware::REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(
            middleware::REQUEST_ID_HEADER,
            MakeRequestUuid,
        ))
        .layer(axum::middleware::from_fn(middleware::foreign_request_ids))
        .with_state(state)
}
