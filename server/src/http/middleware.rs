//! Cross-cutting request handling: request ids, the one log line of an
//! internal error, the count of 503s, CSRF refusal and API response headers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_shared::api::{ApiError, ErrorCode, CSRF_HEADER};
use tower_http::request_id::RequestId;

use crate::error::AppError;
use crate::http::error::InternalError;
use crate::state::AppState;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a proxy in front of us.
pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// Drops an `x-request-id` the request came with unless it looks like an id
/// (a proxy's, to correlate its logs with ours): it is written into every
/// error's log line and body, so it must be short and plain. The request id
/// layer then makes a fresh one.
pub async fn foreign_request_ids(mut req: Request, next: Next) -> Response {
    let plausible = |v: &HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_REQUEST_ID_CHARS
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    let all_plausible = req
        .headers()
        .get_all(&REQUEST_ID_HEADER)
        .iter()
        .enumerate()
        .all(|(i, v)| i == 0 && plausible(v));
    if !all_plausible {
        req.headers_mut().remove(&REQUEST_ID_HEADER);
    }
    next.run(req).await
}

/// Logs the error behind a 500 (and a 503 of a database that cannot serve)
/// once, with its whole chain and the request's id, and gives the body that
/// id for the Help Desk. Handlers never log what
/// they return: the error travels here in the answer's extensions.
pub async fn internal_errors(req: Request, next: Next) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_owned);
    let method = req.method().clone();
    let mut response = next.run(req).await;
    let Some(error) = response.extensions_mut().remove::<InternalError>() else {
        return response;
    };
    if error.0.is_internal() {
        tracing::error!(
            request_id = request_id.as_deref().unwrap_or("-"),
            %method,
            error = %error.chain(),
            "internal error"
        );
    } else {
        tracing::warn!(
            request_id = request_id.as_deref().unwrap_or("-"),
            %method,
            error = %error.chain(),
            "the database cannot serve: answered 503"
        );
    }
    let body = error.0.to_api_error(request_id);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    match serde_json::to_vec(&body) {
        Ok(json) => Response::from_parts(parts, Body::from(json)),
        Err(_) => Response::from_parts(parts, Body::empty()),
    }
}

/// Counts the 503s, whichever part of the server answered them.
pub async fn count_busy(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        state.metrics.busy();
    }
    response
}

pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Refuses a state-changing `/api` request that carries neither a JSON
/// content type nor the [`CSRF_HEADER`]: a cross-site HTML form can send
/// neither, so it cannot post to the API.
pub async fn csrf(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.starts_with("application/json;"));
    let custom_header = req.headers().contains_key(CSRF_HEADER);
    if json || custom_header {
        next.run(req).await
    } else {
        AppError::Forbidden(format!(
            "This request was refused: requests that change something must send a JSON body \
             (Content-Type: application/json) or the {CSRF_HEADER} header."
        ))
        .into_response()
    }
}

/// API answers are not to be stored by caches unless a handler says
/// otherwise; a bare 405 gets a JSON body like every other error.
pub async fn api_headers(req: Request, next: Next) -> Response {
    if !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let mut response = next.run(req).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = response.headers().get(header::ALLOW).cloned();
        let body = ApiError {
            code: ErrorCode::BadRequest,
            message: "This method is not allowed at this address.".to_owned(),
            request_id: None,
            details: None,
        };
        response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
