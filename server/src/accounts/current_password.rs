//! The current password, proved again (Change Password, changing the
//! enrolment, a staff member's re-entry): written once so that every place
//! counts it toward the lockout and audits it the same way.

use crate::accounts::lockout::{self, LockoutPolicy, Reservation};
use crate::accounts::session::SessionUser;
use crate::audit::{self, AuditEvent, AuditResult};
use crate::db::domains::Domain;
use crate::db::users::{self, UserRecord};
use crate::error::{AppError, AppResult};
use crate::password::HashTicket;
use crate::state::AppState;

use super::store::{CredentialStore, Store, Verified};

/// The signed-in person's row, once `password` is proved again as theirs
/// ([`verify_current_password`]): for a change to their own account that
/// hashes nothing of its own (removing an authenticator or an address).
pub async fn reconfirm(
    state: &AppState,
    session: &SessionUser,
    password: &str,
    event: &AuditEvent<'_>,
) -> AppResult<UserRecord> {
    let domain = crate::db::domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    drop(verify_current_password(state, &domain, &account, password, event).await?);
    Ok(account)
}

/// Checks `password` as `account`'s current one, exactly like a sign-in: a
/// failure is reserved first (so parallel attempts cannot get more checks
/// than the threshold), a locked account is refused without a check, and a
/// right password clears the count. `event` is the operation's audit event
/// (its kind, actor, subject, domain and source): a refusal is recorded
/// with it, and the failure that locks the account also as
/// [`AuditKind::AccountLocked`], in one transaction.
///
/// Returns the place in the hashing queue, for the operation's own hashing.
#[tracing::instrument(name = "verify_current_password", skip_all, fields(user_id = account.id, kind = %event.kind))]
pub async fn verify_current_password(
    state: &AppState,
    domain: &Domain,
    account: &UserRecord,
    password: &str,
    event: &AuditEvent<'_>,
) -> AppResult<HashTicket> {
    let ticket = state.hasher.ticket()?;
    let policy = LockoutPolicy::of(domain, &state.config);
    let now = state.now();
    let locks =
        match lockout::reserve(&state.db, domain.id, &account.username_key, policy, now).await? {
            Reservation::Locked => {
                let refused = event
                    .clone()
                    .with_result(AuditResult::Locked)
                    .detail("account locked");
                audit::record(&state.db.pool, now, &refused).await?;
                return Err(AppError::AccountLocked);
            }
            Reservation::Allowed { locks, .. } => locks,
        };
    // A blank password never reaches a store (see `sign_in::check`).
    let verified = if latchkey_shared::policy::is_blank_password(password) {
        ticket.verify_dummy(password).await?;
        Verified::refused()
    } else {
        Store::for_domain(state, domain)?
            .verify(
                &state.db,
                &ticket,
                &account.username_key,
                Some(account),
                password,
            )
            .await?
    };
    // A directory store answers for whoever holds the name in the directory
    // now: a right password of another person (the name deleted and given
    // to someone new) is not this account's.
    let someone_else = verified
        .account
        .as_ref()
        .is_some_and(|found| found.id != account.id);
    if verified.locked {
        // The store's own lock (a directory's): the password was not judged.
        let refused = event
            .clone()
            .with_result(AuditResult::Locked)
            .detail("account locked by the directory");
        audit::record(&state.db.pool, now, &refused).await?;
        return Err(AppError::AccountLocked);
    }
    if !verified.matched || someone_else || account.disabled {
        let failed = event
            .clone()
            .with_result(AuditResult::Failure)
            .detail("wrong current password");
        super::record_failure(state, &failed, locks).await?;
        return Err(AppError::InvalidCredentials);
    }
    lockout::reset(&state.db, domain.id, &account.username_key).await?;
    Ok(ticket)
}
