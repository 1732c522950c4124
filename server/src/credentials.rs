//! The one password check behind every sign-in: the PWA's (`POST
//! /api/session`) and the portal's (`POST /api/portal/verify`). Keeping it in
//! one place keeps the properties the lockout depends on in one place:
//!
//! - a wrong domain, an impossible name, an unknown name and a wrong password
//!   all cost one argon2 verification (against the dummy hash where there is
//!   nothing real) and all end as "invalid credentials";
//! - the failure is reserved atomically *before* the password is checked
//!   ([`lockout::reserve`]), so parallel attempts get at most the threshold's
//!   worth of checks;
//! - a locked name costs one read and nothing else: no argon2, no write, no
//!   place in the hashing queue (so refusals of locked accounts cannot
//!   crowd real sign-ins out of it), the same for unknown names as for real
//!   ones;
//! - a right password is [`Outcome::Accepted`], and the caller clears the
//!   count with [`Check::clear_failures`] in the transaction that records
//!   the sign-in.
//!
//! Callers write their own audit events (their actor and kind differ).

use std::sync::LazyLock;

use latchkey_shared::Username;
use sqlx::Row;

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
    /// The password is right. The failure reserved for this attempt is still
    /// counted until the caller calls [`Check::clear_failures`].
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
    /// The place in the hashing queue this check used, if it hashed: keep it
    /// for more hashing of the same request (a rehash), drop it as soon as
    /// the hashing is done.
    pub ticket: Option<HashTicket>,
}

impl Check {
    /// After [`Outcome::Accepted`]: forgets the failures (the one this
    /// attempt reserved included), on `executor`, which should be the
    /// transaction that records the sign-in.
    pub async fn clear_failures<'e, E>(&self, executor: E) -> Result<(), AppError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let (Outcome::Accepted { .. }, Some(domain)) = (&self.outcome, &self.domain) else {
            return Err(AppError::internal(
                "clear_failures without an accepted check",
            ));
        };
        lockout::reset_in(executor, domain.id, &self.key).await?;
        Ok(())
    }
}

/// The domain, the name's failure counter and the user, in one round trip:
/// under attack every round trip is another wait behind the attackers'.
static LOOKUP_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, fc.locked_at AS fc_locked_at, {} \
         FROM domains d \
         LEFT JOIN failure_counters fc ON fc.domain_id = d.id AND fc.username_key = $2 \
         LEFT JOIN users u ON u.domain_id = d.id AND u.username_key = $2 \
         WHERE d.slug = $1",
        domains::prefixed_columns("d", "d_"),
        users::prefixed_columns("u", "u_"),
    )
});

struct Found {
    domain: Domain,
    locked_at: Option<i64>,
    user: Option<UserRecord>,
}

async fn lookup(state: &AppState, domain_slug: &str, key: &str) -> Result<Option<Found>, AppError> {
    let row = sqlx::query(&LOOKUP_SQL)
        .bind(domains::lookup_slug(domain_slug))
        .bind(key)
        .fetch_optional(&state.db.lookups)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let user = match row.try_get::<Option<i64>, _>("u_id")? {
        Some(_) => Some(UserRecord::from_prefixed_row(&row, "u_")?),
        None => None,
    };
    Ok(Some(Found {
        domain: Domain::from_prefixed_row(&row, "d_")?,
        locked_at: row.try_get("fc_locked_at")?,
        user,
    }))
}

/// Checks `password` for `username` in the domain `domain_slug`. Answers
/// [`AppError::Busy`] (503) before anything is counted: at once when the
/// hashing queue is full or too many sign-ins are already looking up (see
/// [`crate::password::Hasher::admit`]), else when the check is about to hash
/// and the queue has filled meanwhile.
#[tracing::instrument(level = "debug", skip_all, fields(domain = %domain_slug))]
pub async fn check(
    state: &AppState,
    domain_slug: &str,
    username: &str,
    password: &str,
) -> Result<Check, AppError> {
    let admission = state.hasher.admit()?;
    // For the audit trail only (which bounds it); never a query parameter.
    let typed_key = username.trim().to_lowercase();
    let parsed = Username::parse(username);
    // An impossible name still looks its domain up, with a key no counter or
    // user can have; its joined columns are not used.
    let lookup_key = users::lookup_key(username);
    let Some(found) = lookup(state, domain_slug, &lookup_key).await? else {
        let ticket = admission.ticket()?;
        ticket.verify_dummy(password).await?;
        return Ok(Check {
            domain: None,
            key: typed_key,
            outcome: Outcome::Unknown,
            detail: "unknown domain",
            ticket: Some(ticket),
        });
    };
    let Found {
        domain,
        locked_at,
        user,
    } = found;
    if !domain.sspm_available {
        return Ok(Check {
            domain: Some(domain),
            key: typed_key,
            outcome: Outcome::NotOffered,
            detail: "self-service not available",
            ticket: None,
        });
    }
    let Ok(username) = parsed else {
        let ticket = admission.ticket()?;
        ticket.verify_dummy(password).await?;
        return Ok(Check {
            domain: Some(domain),
            key: typed_key,
            outcome: Outcome::Unknown,
            detail: "invalid user name",
            ticket: Some(ticket),
        });
    };
    let key = username.key();
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let now = state.now();
    let locked = |domain: Domain, key: String| Check {
        domain: Some(domain),
        key,
        outcome: Outcome::Locked,
        detail: "account locked",
        ticket: None,
    };
    if lockout::lock_active(locked_at, policy, now) {
        admission.answered_without_hashing();
        return Ok(locked(domain, key));
    }

    // From here on this attempt hashes: take its place in the queue before
    // the failure is reserved, so a full queue refuses without counting.
    let ticket = admission.ticket()?;
    let locks = match lockout::reserve(&state.db, domain.id, &key, policy, now).await? {
        // Locked since the lookup (a parallel attempt reached the threshold).
        Reservation::Locked => return Ok(locked(domain, key)),
        Reservation::Allowed { locks, .. } => locks,
    };

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
        Some(u) if matched && !u.disabled => (
            Outcome::Accepted {
                user: Box::new(u),
                needs_rehash,
            },
            "password accepted",
        ),
        None => (Outcome::Refused { locks }, "unknown user"),
        Some(u) if u.disabled && matched => (Outcome::Refused { locks }, "account disabled"),
        Some(_) => (Outcome::Refused { locks }, "wrong password"),
    };
    Ok(Check {
        domain: Some(domain),
        key,
        outcome,
        detail,
        ticket: Some(ticket),
    })
}
