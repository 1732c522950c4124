//! Test-only endpoints, compiled in only with the `test-hooks` cargo
//! feature (never in a default or release build): they reveal the answer of
//! a CAPTCHA so the integration and end-to-end tests can go through the
//! self-service flows.
//!
//! - `GET /api/test-hooks/captcha/{flow_id}` → the current CAPTCHA's characters
//! - `GET /api/test-hooks/captcha-latest` → those of the last CAPTCHA issued

use crate::http::extract::ApiPath;
use axum::routing::get;
use axum::Router;

use crate::accounts::self_service::checks::captcha_answers;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/test-hooks/captcha/{flow}", get(by_flow))
        .route("/api/test-hooks/captcha-latest", get(latest))
}

async fn by_flow(ApiPath(flow): ApiPath<String>) -> Result<String, AppError> {
    captcha_answers::for_flow(&crate::accounts::session::token_id(&flow)).ok_or(AppError::NotFound)
}

async fn latest() -> Result<String, AppError> {
    captcha_answers::latest().ok_or(AppError::NotFound)
}
