//! The HTTP API under `/api`. Each module exposes `router()`.

use axum::routing::any;
use axum::Router;

use crate::error::AppError;
use crate::state::AppState;

pub mod bootstrap;
pub mod health;
pub mod password;
pub mod session;

/// Every API route, and a JSON 404 for any other `/api` path.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(password::router())
        .merge(bootstrap::router())
        .merge(health::router())
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
}

async fn api_not_found() -> AppError {
    AppError::NotFound
}
