//! API keys for the portal ([`crate::settings::api_keys`]).

use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{ApiKeyCreate, ApiKeyCreated, ApiKeyInfo};

use super::super::{created, Answer, Created};
use crate::error::AppResult;
use crate::http::auth::AdminCaller;
use crate::http::extract::{ApiJson, ApiPath};
use crate::settings::api_keys;

pub async fn list(a: AdminCaller) -> Answer<Vec<ApiKeyInfo>> {
    Ok(Json(api_keys::list(&a.state.db).await?))
}

pub async fn create(a: AdminCaller, ApiJson(req): ApiJson<ApiKeyCreate>) -> Created<ApiKeyCreated> {
    Ok(created(
        api_keys::create(&a.state, &a.who.0, &a.actor, &req).await?,
    ))
}

pub async fn revoke(a: AdminCaller, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    api_keys::revoke(&a.state, &a.who.0, &a.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
