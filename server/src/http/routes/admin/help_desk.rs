//! The Help Desk contact shown on every page ([`crate::settings::help_desk`]).

use axum::Json;
use latchkey_shared::api::HelpDesk;

use super::super::Answer;
use crate::http::auth::AdminCaller;
use crate::http::extract::ApiJson;
use crate::settings::help_desk;

pub async fn get(a: AdminCaller) -> Answer<HelpDesk> {
    Ok(Json(help_desk::current(&a.state.db).await?))
}

pub async fn put(a: AdminCaller, ApiJson(req): ApiJson<HelpDesk>) -> Answer<HelpDesk> {
    Ok(Json(help_desk::set(&a.state, &a.actor, &req).await?))
}
