//! Sign-in, and the one password check behind every sign-in: the PWA's (`POST
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
//! [`record_refusal`] writes the audit rows of every refusal the same way
//! for both callers (a failure and the lock it causes in one transaction).

use std::sync::LazyLock;

use latchkey_shared::Username;
use sqlx::Row;

use crate::accounts::lockout::{self, LockoutPolicy, Reservation};
use crate::accounts::session::{self, SessionUser};
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::db::domains::{self, Domain};
use crate::db::users::{self, UserRecord};
use crate::error::{AppError, AppResult};
use crate::password::HashTicket;
use crate::state::AppState;

use super::store::{CredentialStore, Store, Verified};

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
#[tracing::instrument(name = "credentials.check", skip_all)]
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
    let policy = LockoutPolicy::of(&domain, &state.config);
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

    let store = Store::for_domain(state, &domain)?;
    // From here on this attempt hashes: take its place in the queue before
    // the failure is reserved, so a full queue refuses without counting.
    let ticket = admission.ticket()?;
    let locks = match lockout::reserve(&state.db, domain.id, &key, policy, now).await? {
        // Locked since the lookup (a parallel attempt reached the threshold).
        Reservation::Locked => return Ok(locked(domain, key)),
        Reservation::Allowed { locks, .. } => locks,
    };

    // A blank password never reaches a store: a directory would take it as
    // an unauthenticated bind and may answer success. It is refused as a
    // wrong one, counted, after the same argon2 work as a local check.
    let blank = latchkey_shared::policy::is_blank_password(password);
    let verified = if blank {
        ticket.verify_dummy(password).await?;
        Ok(Verified::refused())
    } else {
        store
            .verify(&state.db, &ticket, &key, user.as_ref(), password)
            .await
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e @ AppError::DirectoryUnavailable(_)) => {
            // Nothing was checked: the attempt does not count.
            lockout::take_back(&state.db, domain.id, &key, locks).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if verified.locked {
        return Ok(Check {
            detail: "account locked by the directory",
            ..locked(domain, key)
        });
    }
    let (matched, needs_rehash) = (verified.matched, verified.needs_rehash);
    let (outcome, detail) = match verified.account.or(user) {
        Some(u) if matched && !u.disabled => (
            Outcome::Accepted {
                user: Box::new(u),
                needs_rehash,
            },
            "password accepted",
        ),
        _ if blank => (Outcome::Refused { locks }, "empty password"),
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

/// The audit rows and the error of a check that did not accept the
/// password. `event` carries the caller's kind, actor and source; the
/// failure that locks the account and its [`AuditKind::AccountLocked`] row
/// are one transaction. A refusal of an already-locked name is deferred
/// (counted in memory, written in a batch: see [`crate::audit`]): it is the
/// one an attacker can repeat cheaply.
pub async fn record_refusal(state: &AppState, check: &Check, event: AuditEvent<'_>) -> AppError {
    match record_refusal_rows(state, check, event).await {
        Ok(error) => error,
        Err(e) => e,
    }
}

async fn record_refusal_rows(
    state: &AppState,
    check: &Check,
    event: AuditEvent<'_>,
) -> Result<AppError, AppError> {
    let now = state.now();
    let event = event
        .subject(&check.key)
        .maybe_domain(check.domain.as_ref().map(|d| d.slug.as_str()))
        .detail(check.detail);
    Ok(match &check.outcome {
        Outcome::Accepted { .. } => {
            return Err(AppError::internal("record_refusal of an accepted check"))
        }
        Outcome::NotOffered => {
            let ev = event.clone().with_result(AuditResult::Refused);
            audit::record(&state.db.pool, now, &ev).await?;
            AppError::SspmUnavailable(
                check
                    .domain
                    .as_ref()
                    .map(Domain::unavailable_message)
                    .unwrap_or_default(),
            )
        }
        Outcome::Locked => {
            let ev = event.clone().with_result(AuditResult::Locked);
            audit::record_deferred(&state.deferred_audit, &state.db.pool, now, &ev).await?;
            AppError::AccountLocked
        }
        Outcome::Unknown => {
            let ev = event.clone().with_result(AuditResult::Failure);
            audit::record(&state.db.pool, now, &ev).await?;
            AppError::InvalidCredentials
        }
        Outcome::Refused { locks } => {
            let failed = event.clone().with_result(AuditResult::Failure);
            super::record_failure(state, &failed, *locks).await?;
            AppError::InvalidCredentials
        }
    })
}

/// A right password that cannot be used: an expired temporary one. The
/// count is cleared with the refusal's audit row (the password was right:
/// it does not count toward a lock).
async fn refuse_expired(state: &AppState, check: &Check, event: AuditEvent<'_>) -> AppError {
    let result = async {
        let ev = event
            .subject(&check.key)
            .maybe_domain(check.domain.as_ref().map(|d| d.slug.as_str()))
            .with_result(AuditResult::Refused)
            .detail("temporary password expired");
        let mut tx = state.db.pool.begin().await?;
        check.clear_failures(&mut *tx).await?;
        audit::record(&mut *tx, state.now(), &ev).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => AppError::TemporaryPasswordExpired,
        Err(e) => e,
    }
}

/// An accepted check: the account, and whether its stored hash should be
/// renewed. `Err` (with its audit rows written) for every other outcome and
/// for an expired temporary password.
pub async fn accepted<'c>(
    state: &AppState,
    check: &'c Check,
    event: &AuditEvent<'_>,
) -> AppResult<(&'c Domain, &'c UserRecord, bool)> {
    let (Outcome::Accepted { user, needs_rehash }, Some(domain)) = (&check.outcome, &check.domain)
    else {
        return Err(record_refusal(state, check, event.clone()).await);
    };
    if user.temp_password_expired(state.now()) {
        return Err(refuse_expired(state, check, event.clone()).await);
    }
    Ok((domain, user, *needs_rehash))
}

/// A new session for a right password.
pub struct SignedIn {
    /// The session's token, for its cookie.
    pub token: String,
    pub user: SessionUser,
}

/// Signs in (`POST /api/session`): checks the password, upgrades an old
/// hash while the password is at hand, and, in one transaction, clears the
/// failure count, replaces the browser's previous session (`old_token`) and
/// records the sign-in.
pub async fn sign_in(
    state: &AppState,
    actor_ip: Option<&str>,
    domain_slug: &str,
    username: &str,
    password: &str,
    old_token: Option<&str>,
) -> AppResult<SignedIn> {
    // 503 at once when the hashing queue is full; otherwise the check takes
    // its place in the queue only once it knows it will hash.
    let mut check = check(state, domain_slug, username, password).await?;
    state.metrics.pwa_sign_in(&check.outcome);
    let mut ticket = check.ticket.take();
    if !matches!(check.outcome, Outcome::Accepted { .. }) {
        // Its place in the queue is for someone else while the refusal is written.
        drop(ticket.take());
    }
    let key = check.key.clone();
    let event = AuditEvent::new(AuditKind::SignIn, AuditResult::Success)
        .actor(&key)
        .source_ip(actor_ip);
    let accepted = accepted(state, &check, &event).await;
    let (domain, user, needs_rehash) = match accepted {
        Ok(found) => found,
        Err(e) => {
            drop(ticket);
            return Err(e);
        }
    };
    let event = event.subject(&key).domain(&domain.slug);

    if needs_rehash {
        let ticket = ticket
            .as_ref()
            .ok_or_else(|| AppError::internal("accepted without a hashing ticket"))?;
        rehash(state, ticket, user, password, &event).await?;
    }
    drop(ticket);

    let now = state.now();
    let expired = super::expiry::expires_at(state, domain, user)
        .await?
        .is_some_and(|t| t <= now);
    let must_change = user.temp_password || user.must_change || expired;
    let mut tx = state.db.pool.begin().await?;
    check.clear_failures(&mut *tx).await?;
    // The owner is back: a self-service stopped by wrong codes starts again.
    crate::accounts::self_service::checks::clear_code_failures(&mut *tx, domain.id, &key).await?;
    if let Some(old) = old_token {
        session::delete_by_token_in(&mut *tx, old).await?;
    }
    let token = session::create(&mut *tx, user.id, must_change, now).await?;
    let detail = if expired {
        "password expired: must change it"
    } else if must_change {
        "must change password"
    } else {
        "signed in"
    };
    audit::record(&mut *tx, now, &event.clone().detail(detail)).await?;
    tx.commit().await?;

    Ok(SignedIn {
        user: SessionUser {
            session_id: session::token_id(&token),
            user_id: user.id,
            username: user.username.clone(),
            username_key: user.username_key.clone(),
            display_name: user.display_name.clone(),
            domain_id: domain.id,
            domain_slug: domain.slug.clone(),
            domain_name: domain.name.clone(),
            must_change,
            role: latchkey_shared::admin::Role::parse(&user.role),
        },
        token,
    })
}

/// Upgrades a hash made with older parameters (only if it is still the
/// stored one).
async fn rehash(
    state: &AppState,
    ticket: &HashTicket,
    user: &UserRecord,
    password: &str,
    event: &AuditEvent<'_>,
) -> AppResult<()> {
    let new_hash = ticket.hash(password).await?;
    let mut tx = state.db.pool.begin().await?;
    if replace_hash_if_unchanged(&mut tx, user, &new_hash).await? {
        let ev = event
            .clone()
            .as_kind(AuditKind::PasswordRehash, AuditResult::Success)
            .detail("hash upgraded to current parameters");
        audit::record(&mut *tx, state.now(), &ev).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn replace_hash_if_unchanged(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &UserRecord,
    new_hash: &str,
) -> Result<bool, sqlx::Error> {
    let updated =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new_hash)
            .bind(user.id)
            .bind(&user.password_hash)
            .execute(&mut **tx)
            .await?;
    Ok(updated.rows_affected() > 0)
}
