//! Change Password: the signed-in user proves the current password and
//! chooses a new one.

use sqlx::{Any, Transaction};

use super::new_password::{self, NewPasswordForm};
use super::store::{CredentialStore, PasswordSet, Store};
use super::verify_current_password;
use crate::accounts::session::SessionUser;
use crate::audit::Actor;
use crate::audit::AuditKind;
use crate::db::domains;
use crate::db::users;
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::state::AppState;

/// Changes the password of `session`'s user. The other sessions end; this
/// one no longer needs a change and counts as a fresh password entry.
pub async fn change_password(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    current_password: &str,
    form: &NewPasswordForm<'_>,
) -> AppResult<()> {
    let domain = domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    new_password::check_form(&domain, form)?;
    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let event = actor
        .did(AuditKind::PasswordChange)
        .subject(&session.username_key)
        .domain(&session.domain_slug);

    let ticket =
        verify_current_password(state, &domain, &account, current_password, &event).await?;
    let new = new_password::accept(
        state,
        &ticket,
        &domain,
        &account,
        form,
        Some(current_password),
        &event,
    )
    .await?;
    drop(ticket);

    // Everything else in one transaction; no hashing and no directory
    // inside it.
    let now = state.now();
    let depth = users::history_depth(&domain.policy);
    let store = Store::for_domain(state, &domain)?;
    let Some(written) = store
        .write_password(&account, &new, PasswordSet::Changed)
        .await?
    else {
        return Err(AppError::InvalidCredentials);
    };
    let mut tx = state.db.pool.begin().await?;
    let stored = store
        .store_password(&mut tx, written, &account, PasswordSet::Changed, depth, now)
        .await?;
    if !stored {
        // Changed meanwhile by another request: the current password we
        // verified is no longer current.
        tx.rollback().await?;
        return Err(AppError::InvalidCredentials);
    }
    keep_only_this_session(&mut tx, account.id, &session.session_id, now).await?;
    let detail = if account.temp_password {
        "temporary password replaced"
    } else {
        "password changed"
    };
    notices::record(&mut tx, &state.config, now, &event.detail(detail)).await?;
    tx.commit().await?;
    Ok(())
}

async fn keep_only_this_session(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    session_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE sessions SET must_change = $1, reauth_at = $2 WHERE id = $3")
        .bind(false)
        .bind(now)
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
