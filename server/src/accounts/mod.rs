//! The service layer: every operation on an account, whoever asks for it (a
//! route, the command line, the demo seed). A route parses its request,
//! calls one operation here and maps the result to a response; nothing here
//! knows about HTTP beyond [`AppError`](crate::error::AppError).
//!
//! Lockout, sessions, enrolment and audit are Latchkey's and live here,
//! above the domain's [`CredentialStore`](store::CredentialStore): the store
//! only verifies, stores and resets passwords (and, for a directory, reads
//! its own locks), so a second kind of store plugs in below without
//! touching the routes or the lockout.

pub mod change;
mod current_password;
pub mod enrolment;
pub mod expiry;
pub mod factors;
pub mod lockout;
pub mod new_password;
pub mod portal;
pub mod self_service;
pub mod session;
pub mod sign_in;
pub mod staff;
pub mod store;
pub mod throttle;

pub use current_password::{reconfirm, verify_current_password};

use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::error::AppError;
use crate::mail::notices;
use crate::state::AppState;

/// A wrong password's audit row (`failed`, the operation's event) and, when
/// this failure reached the threshold, the lock's row beside it, in one
/// transaction: the trail never shows a lock without its cause.
pub(crate) async fn record_failure(
    state: &AppState,
    failed: &AuditEvent<'_>,
    locks: bool,
) -> Result<(), AppError> {
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    audit::record(&mut *tx, now, failed).await?;
    if locks {
        state.metrics.lock();
        let locked = failed
            .clone()
            .as_kind(AuditKind::AccountLocked, AuditResult::Locked)
            .detail("failed sign-in threshold reached");
        notices::record(&mut tx, &state.config, now, &locked).await?;
        throttle::count_lock(&mut tx, state, failed.source_ip).await?;
    }
    tx.commit().await?;
    Ok(())
}
