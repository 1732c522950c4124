//! Password expiry, where a domain sets a maximum age (off by default):
//! a password older than that signs in only to be changed, the account page
//! says when it expires, and a reminder is mailed some days before. Only
//! passwords Latchkey keeps expire here; a directory's maximum age is the
//! directory's own (its bind says "must change", which signs in the same
//! way).

use latchkey_shared::factors::PasswordExpiry;
use sqlx::Row;

use super::store::StoreKind;
use crate::accounts::self_service::checks as ss;
use crate::db::domains::{self, Domain};
use crate::db::users::{self, UserRecord};
use crate::error::{AppError, AppResult};
use crate::mail::{notices, outbox};
use crate::state::AppState;

const DAY: i64 = 86_400;

/// When `user`'s password expires in `domain`, if it does.
pub async fn expires_at(
    state: &AppState,
    domain: &Domain,
    user: &UserRecord,
) -> AppResult<Option<i64>> {
    if domain.store != StoreKind::Local || user.temp_password {
        return Ok(None);
    }
    let days = ss::settings(&state.db, domain.id)
        .await?
        .password_max_age_days;
    Ok((days > 0).then(|| user.password_changed_at + i64::from(days) * DAY))
}

pub async fn status(state: &AppState, user_id: i64, domain_id: i64) -> AppResult<PasswordExpiry> {
    let domain = domains::by_id(&state.db, domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let user = users::by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let expires_at = expires_at(state, &domain, &user).await?;
    Ok(PasswordExpiry {
        expires_at,
        expired: expires_at.is_some_and(|t| t <= state.now()),
    })
}

/// Mails a reminder to everyone whose password expires within their
/// domain's reminder days and who has not had one for this password;
/// returns how many were queued.
pub async fn remind_due(state: &AppState) -> AppResult<usize> {
    if state.config.mail.is_none() {
        return Ok(0);
    }
    let now = state.now();
    let mut queued = 0;
    let domains: Vec<(i64, String)> = sqlx::query("SELECT id, credential_store FROM domains")
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("credential_store")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    for (domain_id, store) in domains {
        if store != "local" {
            continue;
        }
        let settings = ss::settings(&state.db, domain_id).await?;
        if settings.password_max_age_days == 0 {
            continue;
        }
        let max_age = i64::from(settings.password_max_age_days) * DAY;
        let remind_from = max_age - i64::from(settings.expiry_reminder_days) * DAY;
        let due = sqlx::query(
            "SELECT id, username, display_name, email, password_changed_at FROM users \
             WHERE domain_id = $1 AND temp_password = $2 AND disabled = $2 AND email IS NOT NULL \
             AND password_changed_at + $3 <= $4 \
             AND (expiry_reminded_at IS NULL OR expiry_reminded_at <= password_changed_at) \
             LIMIT 500",
        )
        .bind(domain_id)
        .bind(false)
        .bind(remind_from)
        .bind(now)
        .fetch_all(&state.db.pool)
        .await?;
        for row in due {
            let id: i64 = row.try_get("id")?;
            let email: String = row.try_get("email")?;
            let changed_at: i64 = row.try_get("password_changed_at")?;
            let mail = notices::expiry_reminder_mail(
                &row.try_get::<String, _>("display_name")?,
                &row.try_get::<String, _>("username")?,
                changed_at + max_age,
                &state.config.portal_name,
            );
            let mut tx = state.db.pool.begin().await?;
            let marked = sqlx::query(
                "UPDATE users SET expiry_reminded_at = $1 WHERE id = $2 \
                 AND (expiry_reminded_at IS NULL OR expiry_reminded_at <= password_changed_at)",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // Another instance reminded them first.
            if marked.rows_affected() == 1 && email.contains('@') {
                outbox::enqueue(&mut tx, "expiry_reminder", &email, &mail, now).await?;
                queued += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(queued)
}
