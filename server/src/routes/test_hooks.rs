//! Test-only endpoints, compiled in only with the `test-hooks` cargo
//! feature (never in a default or release build): they reveal the answer of
//! a CAPTCHA so the integration and end-to-end tests can go through the
//! self-service flows.
//!
//! - `GET /api/test-hooks/captcha/{flow_id}` → the current CAPTCHA's characters
//! - `GET /api/test-hooks/captcha-latest` → those of the last CAPTCHA issued

use std::collections::HashMap;
use std::sync::Mutex;

use crate::extract::ApiPath;
use axum::routing::get;
use axum::Router;

use crate::error::AppError;
use crate::state::AppState;

static ANSWERS: Mutex<Option<(HashMap<String, String>, String)>> = Mutex::new(None);

/// Called when a CAPTCHA is issued for the flow whose stored id is `flow_id`.
pub fn remember(flow_id: &str, text: &str) {
    let mut guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
    let (map, latest) = guard.get_or_insert_with(Default::default);
    map.insert(flow_id.to_owned(), text.to_owned());
    *latest = text.to_owned();
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/test-hooks/captcha/{flow}", get(by_flow))
        .route("/api/test-hooks/captcha-latest", get(latest))
}

async fn by_flow(ApiPath(flow): ApiPath<String>) -> Result<String, AppError> {
    let id = crate::session::token_id(&flow);
    let guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
    guard
        .as_ref()
        .and_then(|(m, _)| m.get(&id).cloned())
        .ok_or(AppError::NotFound)
}

async fn latest() -> Result<String, AppError> {
    let guard = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
    guard
        .as_ref()
        .map(|(_, l)| l.clone())
        .filter(|l| !l.is_empty())
        .ok_or(AppError::NotFound)
}
