//! `GET /api/health`: 200 `ok` when the database answers.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use latchkey_shared::api::paths;

use crate::error::AppResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::HEALTH, get(health))
}

async fn health(State(state): State<AppState>) -> AppResult<&'static str> {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok("ok")
}
