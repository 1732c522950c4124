//! The notification outbox and the test mail ([`crate::settings::outbox`]).

use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{OutboxEntry, TestMailRequest};

use super::super::Answer;
use crate::http::auth::AdminCaller;
use crate::http::extract::ApiJson;
use crate::settings::outbox;

pub async fn list(a: AdminCaller) -> Answer<Vec<OutboxEntry>> {
    Ok(Json(outbox::recent(&a.state).await?))
}

pub async fn test_mail(
    a: AdminCaller,
    ApiJson(req): ApiJson<TestMailRequest>,
) -> Result<(StatusCode, Json<OutboxEntry>), crate::error::AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(outbox::send_test(&a.state, &a.actor, &req).await?),
    ))
}
