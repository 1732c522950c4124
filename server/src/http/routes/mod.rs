//! The HTTP API under `/api`. Each module exposes `router()`.

use axum::http::StatusCode;
use axum::routing::any;
use axum::{Json, Router};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub mod admin;
pub mod authenticator;
pub mod bootstrap;
pub mod enrolment;
pub mod health;
pub mod password;
pub mod portal;
pub mod self_service;
pub mod session;
pub mod staff;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;

/// Every API route, and a JSON 404 for any other `/api` path.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(password::router())
        .merge(bootstrap::router())
        .merge(health::router())
        .merge(staff::router())
        .merge(admin::router())
        .merge(portal::router())
        .merge(crate::http::openapi::router())
        .merge(enrolment::router())
        .merge(authenticator::router())
        .merge(self_service::router())
        .merge(test_hooks_router())
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
}

/// The test-only hooks, present only with the `test-hooks` feature.
fn test_hooks_router() -> Router<AppState> {
    #[cfg(feature = "test-hooks")]
    {
        test_hooks::router()
    }
    #[cfg(not(feature = "test-hooks"))]
    {
        Router::new()
    }
}

/// A handler's JSON answer (200).
type Answer<T> = AppResult<Json<T>>;
/// A handler's JSON answer to a creation (201).
type Created<T> = AppResult<(StatusCode, Json<T>)>;

/// `value` as the answer to a creation (201).
fn created<T>(value: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(value))
}

async fn api_not_found() -> AppError {
    AppError::NotFound
}
