//! `POST /api/session` (sign in), `GET /api/session`, `DELETE /api/session`
//! (sign out).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{paths, SignInRequest};

use crate::accounts;
use crate::accounts::session;
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::error::AppResult;
use crate::http::auth::{self, Authenticated};
use crate::http::extract::{ApiJson, ClientIp, OverHttps};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        paths::SESSION,
        post(sign_in).get(current_session).delete(sign_out),
    )
}

async fn current_session(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> Json<latchkey_shared::api::SessionInfo> {
    Json(user.info(idle_timeout_secs(&state)))
}

fn idle_timeout_secs(state: &AppState) -> u64 {
    u64::from(state.config.session_idle_minutes) * 60
}

async fn sign_out(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    OverHttps(https): OverHttps,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = auth::token_from_headers(&headers) {
        // Whoever it was, for the audit trail; an ended session is fine too.
        let who = session::authenticate(&state, &token).await.ok();
        if session::delete_by_token(&state.db, &token).await? {
            if let Some(user) = who {
                let ev = AuditEvent::new(AuditKind::SignOut, AuditResult::Success)
                    .actor(&user.username_key)
                    .subject(&user.username_key)
                    .domain(&user.domain_slug)
                    .source_ip(ip.as_deref());
                audit::record(&state.db.pool, state.now(), &ev).await?;
            }
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth::clearing_cookie(https));
    Ok(response)
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    OverHttps(https): OverHttps,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> AppResult<Response> {
    let old_token = auth::token_from_headers(&headers);
    let signed_in = accounts::sign_in::sign_in(
        &state,
        ip.as_deref(),
        &req.domain,
        &req.username,
        &req.password,
        old_token.as_deref(),
    )
    .await?;
    let mut response = Json(signed_in.user.info(idle_timeout_secs(&state))).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie(&signed_in.token, https),
    );
    Ok(response)
}
