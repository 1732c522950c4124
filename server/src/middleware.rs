//! Cross-cutting request handling: CSRF refusal and API response headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_shared::api::{ApiError, ErrorCode, CSRF_HEADER};

use crate::error::AppError;

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
