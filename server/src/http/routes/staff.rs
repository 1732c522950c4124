//! The Local Registration Authority's console API (administrators may use it
//! for every domain): re-authentication, finding users, their state, and the
//! actions on them ([`crate::accounts::staff`]). An LRA sees only users of
//! their domains (anyone else is 404, as if absent) and acts only on plain
//! users. Every action needs a reason and, since it changes a credential, a
//! password entry within the last [`REAUTH_WINDOW_SECS`]; each is an audit
//! event.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_shared::admin::{
    paths, ReauthRequest, ReauthResponse, StaffActionRequest, TemporaryPasswordIssued,
    UserSearchResponse, UserState,
};
use latchkey_shared::bounds::{check_text, Bounded, FieldError, TextKind, MAX_SEARCH_CHARS};
use serde::Deserialize;

use super::Answer;
use crate::accounts::staff::{self as ops, UserAction};
use crate::error::AppError;
use crate::http::auth::StaffCaller;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::STAFF_REAUTH, post(reauth))
        .route(paths::STAFF_USERS, get(search))
        .route(paths::STAFF_USER, get(user_state))
        .route(
            paths::STAFF_UNLOCK,
            post(|a: OnUser| a.act(UserAction::Unlock)),
        )
        .route(paths::STAFF_TEMP_PASSWORD, post(OnUser::temporary_password))
        .route(
            paths::STAFF_CLEAR_ENROLMENT,
            post(|a: OnUser| a.act(UserAction::ClearEnrolment)),
        )
        .route(
            paths::STAFF_DISABLE,
            post(|a: OnUser| a.act(UserAction::Disable)),
        )
        .route(
            paths::STAFF_ENABLE,
            post(|a: OnUser| a.act(UserAction::Enable)),
        )
}

async fn reauth(s: StaffCaller, ApiJson(req): ApiJson<ReauthRequest>) -> Answer<ReauthResponse> {
    Ok(Json(
        ops::reauth(&s.state, &s.who, &s.actor, &req.password).await?,
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

async fn search(s: StaffCaller, ApiQuery(q): ApiQuery<SearchQuery>) -> Answer<UserSearchResponse> {
    Ok(Json(ops::search(&s.state, &s.who, &q.q).await?))
}

async fn user_state(s: StaffCaller, ApiPath(id): ApiPath<i64>) -> Answer<UserState> {
    Ok(Json(ops::user_state(&s.state, &s.who, id).await?))
}

/// A request for an action on the account `{id}`: who asks (the session,
/// then the address), on whom (the path), why (the body), read in that
/// order.
struct OnUser {
    caller: StaffCaller,
    id: i64,
    reason: String,
}

impl FromRequest<AppState> for OnUser {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let caller = StaffCaller::from_request_parts(&mut parts, state).await?;
        let ApiPath(id) = ApiPath::<i64>::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let ApiJson(StaffActionRequest { reason }) = ApiJson::from_request(req, state).await?;
        Ok(Self { caller, id, reason })
    }
}

impl OnUser {
    /// [`ops::act`], answered with the account's new state.
    async fn act(self, action: UserAction) -> Answer<UserState> {
        let Caller { state, who, actor } = &self.caller;
        let user = ops::act(state, who, actor, self.id, &self.reason, action).await?;
        Ok(Json(user))
    }

    /// [`ops::temporary_password`], shown once.
    async fn temporary_password(self) -> Answer<TemporaryPasswordIssued> {
        let Caller { state, who, actor } = &self.caller;
        let issued = ops::temporary_password(state, who, actor, self.id, &self.reason).await?;
        Ok(Json(issued))
    }
}
