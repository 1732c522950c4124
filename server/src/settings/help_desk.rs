//! The Help Desk contact shown on every page.

use latchkey_shared::api::HelpDesk;
use sqlx::{Any, Row, Transaction};

use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Settings keys of the help desk contact.
pub const HELP_DESK_PHONE: &str = "help_desk_phone";
pub const HELP_DESK_EMAIL: &str = "help_desk_email";

/// The contact as stored (empty where unset).
pub async fn current(db: &Db) -> AppResult<HelpDesk> {
    Ok(HelpDesk {
        phone: read_setting(db, HELP_DESK_PHONE).await?,
        email: read_setting(db, HELP_DESK_EMAIL).await?,
    })
}

/// Sets the contact (trimmed; the e-mail address, if any, has an `@`).
pub async fn set(state: &AppState, actor: &Actor, req: &HelpDesk) -> AppResult<HelpDesk> {
    let contact = HelpDesk {
        phone: req.phone.trim().to_owned(),
        email: req.email.trim().to_owned(),
    };
    if !contact.email.is_empty() && !contact.email.contains('@') {
        return Err(AppError::BadRequest(
            "The e-mail address must contain an @.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    write_setting(&mut tx, HELP_DESK_PHONE, &contact.phone).await?;
    write_setting(&mut tx, HELP_DESK_EMAIL, &contact.email).await?;
    let ev = actor.did(AuditKind::AdminHelpDeskUpdate);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(contact)
}

async fn read_setting(db: &Db, key: &str) -> AppResult<String> {
    Ok(sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get::<String, _>("value"))
        .transpose()?
        .unwrap_or_default())
}

async fn write_setting(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
