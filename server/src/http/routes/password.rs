//! `POST /api/password/change`.

use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{messages, paths, ChangePasswordRequest, ChangePasswordResponse};

use super::Answer;
use crate::accounts::change::change_password;
use crate::accounts::new_password::NewPasswordForm;
use crate::http::auth::Authenticated;
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::CHANGE_PASSWORD, post(change))
}

async fn change(
    u: Caller<Authenticated>,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Answer<ChangePasswordResponse> {
    let Authenticated(session) = &u.who;
    let form = NewPasswordForm {
        new_password: &req.new_password,
        confirm_password: &req.confirm_password,
        policy_version: req.policy_version,
    };
    change_password(&u.state, session, &u.actor, &req.current_password, &form).await?;
    Ok(Json(ChangePasswordResponse {
        message: messages::password_changed(&u.state.config.portal_name),
    }))
}
