//! The Local Registration Authority's console API (administrators may use it
//! for every domain): re-authentication, finding users, their state, and the
//! actions on them ([`crate::accounts::staff`]). An LRA sees only users of
//! their domains (anyone else is 404, as if absent) and acts only on plain
//! users. Every action needs a reason and, since it changes a credential, a
//! password entry within the last [`REAUTH_WINDOW_SECS`]; each is an audit
//! event.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_shared::admin::{
    paths, ReauthRequest, ReauthResponse, StaffActionRequest, TemporaryPasswordIssued,
    UserSearchResponse, UserState,
};
use latchkey_shared::bounds::{check_text, Bounded, FieldError, TextKind, MAX_SEARCH_CHARS};
use serde::Deserialize;

use crate::accounts::staff::{self as ops, prepare_action};
use crate::audit::AuditKind;
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::staff::Staff;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::STAFF_REAUTH, post(reauth))
        .route(paths::STAFF_USERS, get(search))
        .route(paths::STAFF_USER, get(user_state))
        .route(paths::STAFF_UNLOCK, post(unlock))
        .route(paths::STAFF_TEMP_PASSWORD, post(temporary_password))
        .route(paths::STAFF_CLEAR_ENROLMENT, post(clear_enrolment))
        .route(paths::STAFF_DISABLE, post(disable))
        .route(paths::STAFF_ENABLE, post(enable))
}

async fn reauth(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> AppResult<Json<ReauthResponse>> {
    let actor = staff.as_actor(ip);
    Ok(Json(
        ops::reauth(&state, &staff, &actor, &req.password).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

impl Bounded for SearchQuery {
    fn check_bounds(&self) -> Result<(), FieldError> {
        check_text("q", &self.q, MAX_SEARCH_CHARS, TextKind::Line)
    }
}

async fn search(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<UserSearchResponse>> {
    Ok(Json(ops::search(&state, &staff, &q.q).await?))
}

async fn user_state(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UserState>> {
    Ok(Json(ops::visible_target(&state, &staff, id).await?.state))
}

async fn unlock(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let (target, reason) = prepare_action(&state, &staff, id, &req.reason).await?;
    let actor = staff.as_actor(ip);
    ops::unlock(&state, &target, &actor, AuditKind::StaffUnlock, &reason).await?;
    Ok(Json(ops::reload(&state, id).await?))
}

async fn temporary_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<TemporaryPasswordIssued>> {
    let actor = staff.as_actor(ip);
    Ok(Json(
        ops::temporary_password(&state, &staff, &actor, id, &req.reason).await?,
    ))
}

async fn clear_enrolment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let actor = staff.as_actor(ip);
    Ok(Json(
        ops::clear_enrolment(&state, &staff, &actor, id, &req.reason).await?,
    ))
}

async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let actor = staff.as_actor(ip);
    Ok(Json(
        ops::set_disabled(&state, &staff, &actor, id, &req.reason, true).await?,
    ))
}

async fn enable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let actor = staff.as_actor(ip);
    Ok(Json(
        ops::set_disabled(&state, &staff, &actor, id, &req.reason, false).await?,
    ))
}
