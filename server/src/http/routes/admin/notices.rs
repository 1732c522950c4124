//! Notices on the sign-in page, and the one-step mandatory reset
//! ([`crate::settings::notices`]).

use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{
    AdminNotice, MandatoryResetRequest, MandatoryResetResponse, NoticeInput,
};

use super::super::{created, Answer, Created};
use crate::error::AppResult;
use crate::http::auth::AdminCaller;
use crate::http::extract::{ApiJson, ApiPath};
use crate::settings::notices;

pub async fn list(a: AdminCaller) -> Answer<Vec<AdminNotice>> {
    Ok(Json(notices::list(&a.state.db).await?))
}

pub async fn create(a: AdminCaller, ApiJson(n): ApiJson<NoticeInput>) -> Created<AdminNotice> {
    Ok(created(notices::create(&a.state, &a.actor, &n).await?))
}

pub async fn update(
    a: AdminCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NoticeInput>,
) -> Answer<AdminNotice> {
    Ok(Json(notices::update(&a.state, &a.actor, id, &n).await?))
}

pub async fn delete(a: AdminCaller, ApiPath(id): ApiPath<i64>) -> AppResult<StatusCode> {
    notices::delete(&a.state, &a.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mandatory_reset(
    a: AdminCaller,
    ApiJson(req): ApiJson<MandatoryResetRequest>,
) -> Answer<MandatoryResetResponse> {
    let done = notices::mandatory_reset(&a.state, &a.who.0, &a.actor, &req).await?;
    Ok(Json(done))
}
