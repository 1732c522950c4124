//! What staff do to an account: unlock it, issue a temporary password,
//! clear its enrolment, disable or enable it; each with its audit row in
//! one transaction.

use latchkey_shared::admin::{TemporaryPasswordIssued, UserState};
use sqlx::{Any, Transaction};

use crate::accounts::lockout;
use crate::accounts::store::{CredentialStore, PasswordSet};
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::users;
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::password::generate_temporary_password;
use crate::state::AppState;

use super::*;

/// Lifts a lock: Latchkey's failure counter and the store's own lock, with
/// the audit row, in one transaction.
pub async fn unlock(
    state: &AppState,
    target: &Target,
    actor: &Actor,
    kind: AuditKind,
    reason: &str,
) -> AppResult<()> {
    let (account, store) = account_of(state, target).await?;
    store.lift_lock(&account).await?;
    let mut tx = state.db.pool.begin().await?;
    lockout::reset_in(&mut *tx, target.domain_id, &target.username_key).await?;
    clear_code_failures(&mut tx, target).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(reason);
    notices::record(&mut tx, &state.config, state.now(), &ev).await?;
    tx.commit().await?;
    state.metrics.unlock(channel(kind));
    Ok(())
}

/// A fresh temporary password (shown once): it must be changed at first use
/// and expires after `temp_password_hours`. Also lifts any lock and ends the
/// user's sessions. Returns `(password, expires_at)`.
pub async fn issue_temporary_password(
    state: &AppState,
    target: &Target,
    actor: &Actor,
    kind: AuditKind,
    reason: &str,
) -> AppResult<(String, i64)> {
    let (account, store) = account_of(state, target).await?;
    let password = generate_temporary_password();
    let new = store
        .prepare(&state.hasher.ticket()?, &password, None)
        .await?;
    let now = state.now();
    let expires_at = now + state.config.temp_password_secs();
    let how = PasswordSet::Temporary { expires_at };
    // The store's own work (a directory's) before the transaction opens.
    let written = store
        .write_password(&account, &new, how)
        .await?
        .ok_or_else(|| AppError::internal("a temporary password refused as a wrong one"))?;
    store.lift_lock(&account).await?;
    let mut tx = state.db.pool.begin().await?;
    store
        .store_password(&mut tx, written, &account, how, 0, now)
        .await?;
    end_sessions(&mut tx, account.id).await?;
    lockout::reset_in(&mut *tx, target.domain_id, &target.username_key).await?;
    clear_code_failures(&mut tx, target).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(reason);
    notices::record(&mut tx, &state.config, now, &ev).await?;
    tx.commit().await?;
    state.metrics.reset(channel(kind));
    Ok((password, expires_at))
}

/// [`issue_temporary_password`] for a staff member, answered with the
/// account's new state.
pub async fn temporary_password(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<TemporaryPasswordIssued> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    let (temporary_password, expires_at) = issue_temporary_password(
        state,
        &target,
        actor,
        AuditKind::StaffTemporaryPassword,
        &reason,
    )
    .await?;
    Ok(TemporaryPasswordIssued {
        temporary_password,
        expires_at,
        user: reload(state, id).await?,
    })
}

/// The Help Desk vouched for the person: a self-service stopped by wrong
/// codes starts again (in the caller's transaction).
async fn clear_code_failures(
    tx: &mut Transaction<'_, Any>,
    target: &Target,
) -> Result<(), sqlx::Error> {
    crate::accounts::self_service::checks::clear_code_failures(
        &mut **tx,
        target.domain_id,
        &target.username_key,
    )
    .await
}

/// Ends every session of the user (in the caller's transaction).
pub async fn end_sessions(tx: &mut Transaction<'_, Any>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The user must enrol again: their answers are deleted.
pub async fn clear_enrolment(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    let mut tx = state.db.pool.begin().await?;
    users::clear_enrolment(&mut tx, id).await?;
    clear_code_failures(&mut tx, &target).await?;
    let ev = actor
        .did(AuditKind::StaffClearEnrolment)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&reason);
    notices::record(&mut tx, &state.config, state.now(), &ev).await?;
    tx.commit().await?;
    reload(state, id).await
}

/// A staff action on an account that answers with the account's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Unlock,
    ClearEnrolment,
    Disable,
    Enable,
}

/// `action` on the account `id` by a staff member, after
/// [`prepare_action`]'s checks; the account's state after it.
pub async fn act(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
    action: UserAction,
) -> AppResult<UserState> {
    match action {
        UserAction::Unlock => unlock_user(state, staff, actor, id, reason).await,
        UserAction::ClearEnrolment => clear_enrolment(state, staff, actor, id, reason).await,
        UserAction::Disable => set_disabled(state, staff, actor, id, reason, true).await,
        UserAction::Enable => set_disabled(state, staff, actor, id, reason, false).await,
    }
}

/// [`unlock`] by a staff member.
pub async fn unlock_user(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    unlock(state, &target, actor, AuditKind::StaffUnlock, &reason).await?;
    reload(state, id).await
}

/// Disables (ending the sessions) or enables an account.
pub async fn set_disabled(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
    disabled: bool,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    if target.state.id == staff.user.user_id {
        return Err(AppError::BadRequest(
            "You cannot disable or enable your own account.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    write_disabled(&mut tx, id, disabled).await?;
    if disabled {
        end_sessions(&mut tx, id).await?;
    }
    let kind = if disabled {
        AuditKind::StaffDisable
    } else {
        AuditKind::StaffEnable
    };
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&reason);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    reload(state, id).await
}

async fn write_disabled(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    disabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
