//! Failed sign-in counting, atomic in the database and done BEFORE the
//! password is checked, so parallel attempts cannot get more checks than the
//! threshold (the bug of GHSA-7h8m-vrxx-vr4m and Keycloak #31726).
//!
//! Each attempt first *reserves* a failure with one upsert. The reservation
//! that brings the count to the threshold sets `locked_at`; while locked the
//! upsert's `WHERE` refuses and returns no row, and the caller answers 423
//! without running argon2. A successful check deletes the row. Counters are
//! keyed by the user name as typed (lower-cased), existing or not.
//!
//! Callers that already read `locked_at` (the sign-in's one lookup) refuse a
//! name that [`lock_active`] says is locked without calling [`reserve`]: the
//! upsert refuses such a name too, but as a write it would take SQLite's
//! single writer (and PostgreSQL's row lock) for every request an attacker
//! sends to a locked account. A lock set between that read and the upsert is
//! still caught by the upsert's `WHERE`.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::config::Config;
use crate::db::domains::Domain;

use crate::db::Db;

/// The lockout settings in force for one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that lock (at least 1).
    pub threshold: i64,
    /// Seconds after which a lock lifts; 0 = never by itself.
    pub lock_secs: i64,
}

impl LockoutPolicy {
    /// The policy in force for `domain`: the one way every operation reads it.
    pub fn of(domain: &Domain, config: &Config) -> Self {
        Self::resolve(domain.lockout_threshold, domain.lockout_minutes, config)
    }

    /// The domain's overrides, else the server-wide settings.
    fn resolve(
        domain_threshold: Option<i64>,
        domain_minutes: Option<i64>,
        config: &Config,
    ) -> Self {
        let threshold = domain_threshold
            .filter(|t| *t >= 1)
            .unwrap_or_else(|| i64::from(config.lockout_threshold))
            .max(1);
        let minutes = domain_minutes
            .filter(|m| *m >= 0)
            .unwrap_or_else(|| i64::from(config.lockout_minutes));
        Self {
            threshold,
            lock_secs: minutes.saturating_mul(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may check the password; `count` failures are now recorded
    /// including this one (it is taken back if the password is right).
    Allowed { count: i64, locks: bool },
    /// The account is locked: refuse without checking anything.
    Locked,
}

const RESERVE_SQL: &str = "\
INSERT INTO failure_counters (domain_id, username_key, failed_count, locked_at, updated_at) \
VALUES ($1, $2, 1, CASE WHEN $3 <= 1 THEN $4 ELSE NULL END, $4) \
ON CONFLICT (domain_id, username_key) DO UPDATE SET \
    failed_count = CASE WHEN failure_counters.locked_at IS NOT NULL THEN 1 \
                        ELSE failure_counters.failed_count + 1 END, \
    locked_at = CASE WHEN (CASE WHEN failure_counters.locked_at IS NOT NULL THEN 1 \
                                ELSE failure_counters.failed_count + 1 END) >= $3 \
                     THEN $4 ELSE NULL END, \
    updated_at = $4 \
WHERE failure_counters.locked_at IS NULL \
   OR ($5 > 0 AND failure_counters.locked_at <= $4 - $5) \
RETURNING failed_count";

/// Records one failure in advance, atomically. See the module docs.
pub async fn reserve(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    policy: LockoutPolicy,
    now: i64,
) -> Result<Reservation, sqlx::Error> {
    let row = sqlx::query(RESERVE_SQL)
        .bind(domain_id)
        .bind(username_key)
        .bind(policy.threshold)
        .bind(now)
        .bind(policy.lock_secs)
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => {
            let count: i64 = row.try_get("failed_count")?;
            Ok(Reservation::Allowed {
                count,
                locks: count >= policy.threshold,
            })
        }
        None => Ok(Reservation::Locked),
    }
}

/// Takes back a failure [`reserve`] recorded for an attempt that could not
/// be checked (the directory did not answer): the count goes down by one,
/// and a lock that this very reservation set (`locked`) is lifted again.
pub async fn take_back(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    locked: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE failure_counters SET failed_count = failed_count - 1, \
         locked_at = CASE WHEN $3 THEN NULL ELSE locked_at END \
         WHERE domain_id = $1 AND username_key = $2 AND failed_count > 0",
    )
    .bind(domain_id)
    .bind(username_key)
    .bind(locked)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A successful check: forget the failures (and any lock the reservation set).
pub async fn reset(db: &Db, domain_id: i64, username_key: &str) -> Result<(), sqlx::Error> {
    reset_in(&db.pool, domain_id, username_key).await
}

/// [`reset`] on `executor`, e.g. the transaction that records the sign-in.
pub async fn reset_in<'e, E>(
    executor: E,
    domain_id: i64,
    username_key: &str,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query("DELETE FROM failure_counters WHERE domain_id = $1 AND username_key = $2")
        .bind(domain_id)
        .bind(username_key)
        .execute(executor)
        .await?;
    Ok(())
}

/// Whether a counter locked at `locked_at` still is at `now`: the negation of
/// the upsert's `WHERE` in [`reserve`], so the two always agree.
pub fn lock_active(locked_at: Option<i64>, policy: LockoutPolicy, now: i64) -> bool {
    match locked_at {
        None => false,
        Some(at) => policy.lock_secs <= 0 || at > now - policy.lock_secs,
    }
}

/// Whether the name is locked now (read-only; for admin views and tests).
pub async fn is_locked(
    db: &Db,
    domain_id: i64,
    username_key: &str,
    policy: LockoutPolicy,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT locked_at FROM failure_counters WHERE domain_id = $1 AND username_key = $2",
    )
    .bind(domain_id)
    .bind(username_key)
    .fetch_optional(&db.pool)
    .await?;
    let locked_at: Option<i64> = match row {
        Some(r) => r.try_get("locked_at")?,
        None => None,
    };
    Ok(lock_active(locked_at, policy, now))
}

/// A name's lock as staff see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    pub locked: bool,
    /// When the lock lifts by itself; `None` while locked means never.
    pub locked_until: Option<i64>,
    pub failed_attempts: i64,
}

/// What a query that lists accounts with their locks selects beside the
/// account's own columns (`u`), and joins: the domain (`d`) and its
/// failure counter (`f`). Read back with [`LockState::from_row`], so a
/// lock is computed one way everywhere an account is shown.
pub const LOCK_COLUMNS: &str =
    "d.lockout_threshold, d.lockout_minutes, f.failed_count, f.locked_at";
/// See [`LOCK_COLUMNS`].
pub const LOCK_JOIN: &str = "JOIN domains d ON d.id = u.domain_id \
     LEFT JOIN failure_counters f ON f.domain_id = u.domain_id AND f.username_key = u.username_key";

impl LockState {
    /// The lock of a row selected with [`LOCK_COLUMNS`] and [`LOCK_JOIN`].
    pub fn from_row(row: &AnyRow, config: &Config, now: i64) -> Result<Self, sqlx::Error> {
        let policy = LockoutPolicy::resolve(
            row.try_get("lockout_threshold")?,
            row.try_get("lockout_minutes")?,
            config,
        );
        Ok(Self::of(
            policy,
            row.try_get("failed_count")?,
            row.try_get("locked_at")?,
            now,
        ))
    }

    /// From a failure counter row (`None`s when there is none), with
    /// [`lock_active`] deciding, so it agrees with the sign-in.
    pub fn of(
        policy: LockoutPolicy,
        failed: Option<i64>,
        locked_at: Option<i64>,
        now: i64,
    ) -> Self {
        let failed = failed.unwrap_or(0);
        match locked_at {
            Some(at) if lock_active(locked_at, policy, now) => Self {
                locked: true,
                locked_until: (policy.lock_secs > 0).then(|| at + policy.lock_secs),
                failed_attempts: failed,
            },
            // The lock has lifted by itself: the next attempt starts afresh.
            Some(_) => Self {
                locked: false,
                locked_until: None,
                failed_attempts: 0,
            },
            None => Self {
                locked: false,
                locked_until: None,
                failed_attempts: failed,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(s: LockState) -> (bool, Option<i64>, i64) {
        (s.locked, s.locked_until, s.failed_attempts)
    }

    #[test]
    fn locks_lift_after_their_time() {
        let p = LockoutPolicy {
            threshold: 5,
            lock_secs: 60,
        };
        assert_eq!(
            state(LockState::of(p, Some(5), Some(100), 120)),
            (true, Some(160), 5)
        );
        assert_eq!(
            state(LockState::of(p, Some(5), Some(100), 160)),
            (false, None, 0)
        );
        assert_eq!(
            state(LockState::of(p, Some(2), None, 160)),
            (false, None, 2)
        );
        let forever = LockoutPolicy {
            threshold: 5,
            lock_secs: 0,
        };
        assert_eq!(
            state(LockState::of(forever, Some(5), Some(1), 1_000_000)),
            (true, None, 5)
        );
    }
}
