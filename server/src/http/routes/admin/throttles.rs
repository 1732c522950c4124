//! Sources throttled for failed checks ([`crate::accounts::throttle`]).

use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{LiftThrottle, ThrottledSource};

use super::super::Answer;
use crate::accounts::throttle;
use crate::error::AppResult;
use crate::http::auth::AdminCaller;
use crate::http::extract::ApiJson;

pub async fn list(a: AdminCaller) -> Answer<Vec<ThrottledSource>> {
    Ok(Json(throttle::list(&a.state).await?))
}

pub async fn lift(a: AdminCaller, ApiJson(req): ApiJson<LiftThrottle>) -> AppResult<StatusCode> {
    throttle::lift(&a.state, &a.actor, &req.source).await?;
    Ok(StatusCode::NO_CONTENT)
}
