//! `POST /api/portal/verify`: the organisation's portal delegates its sign-in
//! here with an API key (`Authorization: Bearer lk_…`, stored hashed). A
//! check counts toward the same lockout as a sign-in and gets the same
//! uniform answers (401 `invalid_credentials` for any wrong name, domain or
//! password; 423 `account_locked`; 403 `temporary_password_expired`), so that
//! failures at the portal lock the account exactly like failures here. A
//! right password answers 200 with whether it is temporary or must be changed.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::admin::{paths, PortalVerifyRequest, PortalVerifyResponse};

use crate::accounts::portal;
use crate::error::AppResult;
use crate::http::extract::{ApiJson, ClientIp};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::PORTAL_VERIFY, post(verify))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
}

async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PortalVerifyRequest>,
) -> AppResult<Json<PortalVerifyResponse>> {
    let key_name = portal::authenticate_api_key(&state, bearer(&headers)).await?;
    Ok(Json(
        portal::verify(
            &state,
            &key_name,
            ip.as_deref(),
            &req.domain,
            &req.username,
            &req.password,
        )
        .await?,
    ))
}
