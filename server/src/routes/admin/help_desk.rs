//! The Help Desk contact shown on every page.

use axum::extract::State;
use axum::Json;
use latchkey_shared::api::HelpDesk;
use sqlx::Row;

use crate::audit::{self, AuditKind};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::site::{HELP_DESK_EMAIL, HELP_DESK_PHONE};
use crate::staff::AdminOnly;
use crate::state::AppState;

pub(super) async fn read_setting(state: &AppState, key: &str) -> AppResult<String> {
    Ok(sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|r| r.try_get::<String, _>("value"))
        .transpose()?
        .unwrap_or_default())
}

pub(super) async fn get_help_desk(
    State(state): State<AppState>,
    _admin: AdminOnly,
) -> AppResult<Json<HelpDesk>> {
    Ok(Json(HelpDesk {
        phone: read_setting(&state, HELP_DESK_PHONE).await?,
        email: read_setting(&state, HELP_DESK_EMAIL).await?,
    }))
}

pub(super) async fn put_help_desk(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<HelpDesk>,
) -> AppResult<Json<HelpDesk>> {
    let phone = req.phone.trim();
    let email = req.email.trim();
    if !email.is_empty() && !email.contains('@') {
        return Err(AppError::BadRequest(
            "The e-mail address must contain an @.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    for (key, value) in [(HELP_DESK_PHONE, phone), (HELP_DESK_EMAIL, email)] {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    }
    let actor = admin.as_actor(ip);
    audit::record(
        &mut *tx,
        state.now(),
        &actor.did(AuditKind::AdminHelpDeskUpdate),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(HelpDesk {
        phone: phone.to_owned(),
        email: email.to_owned(),
    }))
}
