//! `GET /api/bootstrap`: what the client needs to work offline. Answers with a
//! strong `ETag` (a hash of the content) and 304 to a matching
//! `If-None-Match`. The body for one `ETag` is cached, so it is byte-identical
//! for as long as the content is (its `generated_at` is when this version was
//! first produced).
//!
//! It is the only API answer sent compressed (gzip or brotli, by
//! `Accept-Encoding`; a 304 has no body and stays as it is): it holds nothing
//! secret, while every other answer may carry a secret next to something an
//! attacker chooses, which compression would leak by its length (BREACH).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use latchkey_shared::api::paths;
use tower_http::compression::CompressionLayer;

use crate::error::{AppError, AppResult};
use crate::settings::site;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    // Only this router's routes: the layer does not reach the other API routers.
    Router::new()
        .route(paths::BOOTSTRAP, get(bootstrap))
        .layer(CompressionLayer::new().gzip(true).br(true))
}

fn if_none_match_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        // If-None-Match uses the weak comparison.
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

async fn bootstrap(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let current = site::current(&state).await?;
    let etag_value = HeaderValue::from_str(&current.etag).map_err(AppError::internal)?;
    let builder = Response::builder()
        .header(header::ETAG, etag_value)
        .header(header::CACHE_CONTROL, "no-cache");
    let response = if if_none_match_matches(&headers, &current.etag) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(current.body))
    };
    response.map_err(AppError::internal)
}
