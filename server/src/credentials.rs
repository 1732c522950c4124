//! The one password check behind every sign-in: the PWA's (`POST
//! /api/session`) and the portal's (`POST /api/portal/verify`). Keeping it in
//! one place keeps the properties the lockout depends on in one place:
//!
//! - a wrong domain, an impossible name, an unknown name and a wrong password
//!   all cost one argon2 verification (against the dummy hash where there is
//!   nothing real) and all end as "invalid credentials";
//! - the failure is reserved atomically *before* the password is checked
//!   ([`lockout::reserve`]), so parallel attempts get at most the threshold's
//!   worth of checks, and a locked name costs no argon2 at all;
//! - a right password clears the count.
//!
//! Callers write their own audit events (their actor and kind differ).

use latchkey_shared::Username;

use crate::domains::{self, Domain};
use crate::error::AppError;
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::password::HashTicket;
use crate::state::AppState;
use crate::users::{self, UserRecord};

/// What the check found.
pub enum Outcome {
    /// No such domain, or a name no user can have: the dummy verification ran,
    /// nothing was counted.
    Unknown,
    /// The domain does not offer self-service; nothing was checked.
    NotOffered,
    /// The name is locked: refused without checking the password.
    Locked,
    /// Wrong password, unknown user or disabled account. `locks`: this
    /// failure reached the threshold.
    Refused { locks: bool },
    /// The password is right and the failure count is cleared.
    Accepted {
        user: Box<UserRecord>,
        needs_rehash: bool,
    },
}

pub struct Check {
    /// `None` when the domain does not exist.
    pub domain: Option<Domain>,
    /// The user name as the counters and audit events know it.
    pub key: String,
    pub outcome: Outcome,
    /// Why, for the audit trail (never shown to the person signing in).
    pub detail: &'static str,
}

/// Checks `password` for `username` in the domain `domain_slug`, spending
/// `ticket`'s place in the hashing queue (taken first, so a full queue
/// answers 503 before anything is counted).
pub async fn check(
    state: &AppState,
    ticket: &HashTicket,
    domain_slug: &str,
    username: &str,
    password: &str,
) -> Result<Check, AppError> {
    let typed_key = username.trim().to_lowercase();
    let Some(domain) = domains::by_slug(&state.db, domain_slug).await? else {
        ticket.verify_dummy(password).await?;
        return Ok(Check {
            domain: None,
            key: typed_key,
            outcome: Outcome::Unknown,
            detail: "unknown domain",
        });
    };
    if !domain.sspm_available {
        return Ok(Check {
            domain: Some(domain),
            key: typed_key,
            outcome: Outcome::NotOffered,
            detail: "self-service not available",
        });
    }
    let Ok(username) = Username::parse(username) else {
        ticket.verify_dummy(password).await?;
        return Ok(Check {
            domain: Some(domain),
            key: typed_key,
            outcome: Outcome::Unknown,
            detail: "invalid user name",
        });
    };
    let key = username.key();
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let locks = match lockout::reserve(&state.db, domain.id, &key, policy, state.now()).await? {
        Reservation::Locked => {
            return Ok(Check {
                domain: Some(domain),
                key,
                outcome: Outcome::Locked,
                detail: "account locked",
            })
        }
        Reservation::Allowed { locks, .. } => locks,
    };

    let user = users::by_key(&state.db, domain.id, &key).await?;
    let (matched, needs_rehash) = match &user {
        Some(u) => {
            let v = ticket.verify(password, &u.password_hash).await?;
            (v.matched, v.needs_rehash)
        }
        None => {
            ticket.verify_dummy(password).await?;
            (false, false)
        }
    };
    let (outcome, detail) = match user {
        Some(u) if matched && !u.disabled => {
            lockout::reset(&state.db, domain.id, &key).await?;
            (
                Outcome::Accepted {
                    user: Box::new(u),
                    needs_rehash,
                },
                "password accepted",
            )
        }
        None => (Outcome::Refused { locks }, "unknown user"),
        Some(u) if u.disabled && matched => (Outcome::Refused { locks }, "account disabled"),
        Some(_) => (Outcome::Refused { locks }, "wrong password"),
    };
    Ok(Check {
        domain: Some(domain),
        key,
        outcome,
        detail,
    })
}
