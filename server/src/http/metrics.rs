//! `GET /metrics`: the counters of [`crate::metrics`] as Prometheus text,
//! for a caller with the configured bearer token.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::AppError;
use crate::metrics;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(metrics::PATH, get(serve))
}

/// 404 while the endpoint is off (as if it did not exist), 401 without the
/// right token, else the counters.
async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let metrics = &state.metrics;
    if !metrics.enabled() {
        return AppError::NotFound.into_response();
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !metrics.authorized(authorization) {
        let mut response = AppError::NotAuthenticated.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        metrics.render(&state.hasher),
    )
        .into_response()
}
