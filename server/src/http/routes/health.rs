//! Health for supervisors and load balancers: `GET /api/health/live`
//! (the process runs) and `GET /api/health/ready` (the database can be
//! written and has every migration; `/api/health` answers the same). A
//! database that cannot serve is 503 `busy` with `Retry-After`, within
//! [`READY_WITHIN`] even while SQLite's write lock is held elsewhere.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use latchkey_shared::api::paths;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long readiness waits for the database before saying no: well under
/// a load balancer's usual check timeout, and under SQLite's busy wait.
pub const READY_WITHIN: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::HEALTH, get(ready))
        .route(paths::HEALTH_LIVE, get(live))
        .route(paths::HEALTH_READY, get(ready))
}

async fn live() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> AppResult<&'static str> {
    match tokio::time::timeout(READY_WITHIN, state.db.ready()).await {
        Ok(Ok(())) => Ok("ok"),
        Ok(Err(e)) => Err(AppError::DatabaseUnavailable(e)),
        Err(_) => Err(AppError::DatabaseUnavailable(sqlx::Error::PoolTimedOut)),
    }
}
