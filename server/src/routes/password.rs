//! `POST /api/password/change`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{messages, paths, ChangePasswordRequest, ChangePasswordResponse};

use crate::accounts::change::change_password;
use crate::accounts::new_password::NewPasswordForm;
use crate::accounts::Actor;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp};
use crate::session::Authenticated;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::CHANGE_PASSWORD, post(change))
}

async fn change(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Authenticated(session): Authenticated,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Json<ChangePasswordResponse>> {
    let actor = Actor::new(session.username_key.clone(), ip);
    let form = NewPasswordForm {
        new_password: &req.new_password,
        confirm_password: &req.confirm_password,
        policy_version: req.policy_version,
    };
    change_password(&state, &session, &actor, &req.current_password, &form).await?;
    Ok(Json(ChangePasswordResponse {
        message: messages::PASSWORD_CHANGED.to_owned(),
    }))
}
