//! The throttle per source, in front of every credential check: a password
//! spray tries one password on many names from one place, which no
//! per-account lock sees, and a mass lockout locks many accounts from one
//! place, each call to the Help Desk it causes being the kind this product
//! exists to prevent.
//!
//! - A *source* is an IPv4 address or the /64 of an IPv6 one (one
//!   subscriber's network: an attacker gets a whole /64 for free).
//! - Each attempt at a throttled operation is counted as a failure when it
//!   is admitted, before any argon2 work or directory bind, and taken back
//!   when it did not fail ([`settle`]): so parallel attempts are admitted at
//!   most up to the limit, and a throttled attempt costs one read.
//! - Failures of every kind count the same (a wrong password, wrong
//!   answers, a wrong code, an unknown name): the answer they get is the
//!   same, so counting them apart would make the throttle an oracle.
//! - Past `throttle_free_failures` in the window each failure makes the
//!   source wait before the next attempt, 1 s doubling up to
//!   `throttle_max_delay_secs`; at `throttle_max_failures`, or once it has
//!   locked `throttle_max_locks` accounts, it is refused until the window
//!   ends. The people whose accounts are locked are not: from their own
//!   address they see their lock and can lift it.
//! - The counts are rows of `source_throttles`, so every instance on one
//!   PostgreSQL shares them; on SQLite there is one process anyway.

use std::net::IpAddr;

use latchkey_shared::admin::ThrottledSource;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Actor, AuditEvent, AuditKind, AuditResult};
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::client_addr::TrustedProxies;
use crate::state::AppState;

/// The thresholds, from the configuration.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    free_failures: i64,
    /// 0: the throttle is off.
    max_failures: i64,
    window_secs: i64,
    max_delay_secs: i64,
    /// 0: no limit on locks but the failures' own.
    max_locks: i64,
    exempt: TrustedProxies,
}

impl ThrottlePolicy {
    pub fn of(config: &Config) -> Self {
        Self {
            free_failures: i64::from(config.throttle_free_failures),
            max_failures: i64::from(config.throttle_max_failures),
            window_secs: i64::from(config.throttle_window_minutes).max(1) * 60,
            max_delay_secs: i64::from(config.throttle_max_delay_secs).max(1),
            max_locks: i64::from(config.throttle_max_locks),
            exempt: config.throttle_exempt.clone(),
        }
    }

    /// Whether attempts from `ip` are counted at all.
    pub fn applies_to(&self, ip: IpAddr) -> bool {
        self.max_failures > 0 && !self.exempt.contains(unmapped(ip))
    }

    /// `now` plus the wait after the `failures`-th failure (both SQL
    /// expressions), as SQL: 0 (no wait) up to the free failures. The
    /// numbers are the configuration's, not a request's.
    fn wait_sql(&self, failures: &str, now: &str) -> String {
        let mut sql = format!("CASE WHEN {failures} <= {} THEN 0", self.free_failures);
        let mut n = self.free_failures + 1;
        loop {
            let wait = self.delay_after(n);
            if wait >= self.max_delay_secs {
                break;
            }
            sql.push_str(&format!(" WHEN {failures} = {n} THEN {now} + {wait}"));
            n += 1;
        }
        sql.push_str(&format!(" ELSE {now} + {} END", self.max_delay_secs));
        sql
    }

    /// The wait after the `failures`-th failure of a window: none up to
    /// the free ones, then 1 s, 2 s, 4 s … up to the longest.
    fn delay_after(&self, failures: i64) -> i64 {
        let beyond = failures - self.free_failures;
        if beyond <= 0 {
            return 0;
        }
        let doubled = 1i64
            .checked_shl((beyond - 1).min(62) as u32)
            .unwrap_or(i64::MAX);
        doubled.min(self.max_delay_secs)
    }
}

/// An IPv4 address (also one written as IPv4-mapped IPv6), or an IPv6 /64,
/// as text: the key of its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(String);

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Source {
    pub fn of(ip: IpAddr) -> Self {
        match unmapped(ip) {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                Self(format!("{}/64", std::net::Ipv6Addr::from(segments)))
            }
        }
    }

    /// A source as an administrator types it: an address (an IPv6 one
    /// stands for its /64), or an IPv6 /64 as the console shows it.
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let text = text.trim();
        let address = text.strip_suffix("/64").unwrap_or(text);
        match address.parse::<IpAddr>() {
            Ok(ip) if address == text || matches!(unmapped(ip), IpAddr::V6(_)) => Ok(Self::of(ip)),
            // `text` is bounded by the request's bounds (`MAX_SOURCE_CHARS`).
            _ => Err(AppError::BadRequest(format!(
                "\u{201c}{text}\u{201d} is not a source: type an IPv4 address, or an IPv6 address or /64"
            ))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An admitted attempt, counted as a failure until [`settle`] says it did
/// not fail.
#[derive(Debug)]
pub struct Ticket {
    source: Source,
    window_start: i64,
    /// This attempt's number among the window's failures.
    failures: i64,
}

/// The refusal of an attempt from a throttled source, `wait` seconds
/// before it may try again.
fn throttled(state: &AppState, wait: i64) -> AppError {
    state.metrics.throttled();
    let wait = wait.max(1);
    AppError::TooMany {
        message: latchkey_shared::api::messages::throttled_source(wait),
        retry_after: wait,
    }
}

struct Counts {
    window_start: i64,
    failures: i64,
    locks: i64,
    blocked_until: i64,
}

impl Counts {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            window_start: row.try_get("window_start")?,
            failures: row.try_get("failures")?,
            locks: row.try_get("locks")?,
            blocked_until: row.try_get("blocked_until")?,
        })
    }

    /// Until when the source may not try (`None`: it may now).
    fn refused_until(&self, policy: &ThrottlePolicy, now: i64) -> Option<i64> {
        let window_end = self.window_start + policy.window_secs;
        let mut until = self.blocked_until;
        if window_end > now && self.failures >= policy.max_failures {
            until = until.max(window_end);
        }
        (until > now).then_some(until)
    }
}

const COUNT_COLUMNS: &str = "window_start, failures, locks, blocked_until";

async fn counts(db: &Db, source: &Source) -> Result<Option<Counts>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COUNT_COLUMNS} FROM source_throttles WHERE source = $1"
    ))
    .bind(source.as_str())
    .fetch_optional(&db.lookups)
    .await?;
    row.as_ref().map(Counts::from_row).transpose()
}

/// Counts one more failure unless the source is refused; a window that
/// has passed starts again. Past the free failures the wait before the
/// next attempt starts here, in the same statement, not when this one
/// turns out to fail: parallel attempts at the end of a wait would all be
/// admitted otherwise. `None`: refused (by a parallel attempt meanwhile).
async fn count_attempt(
    db: &Db,
    source: &Source,
    policy: &ThrottlePolicy,
    now: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let new_failures = "CASE WHEN source_throttles.window_start <= $3 THEN 1 \
                        ELSE source_throttles.failures + 1 END";
    let sql = format!(
        "INSERT INTO source_throttles \
           (source, window_start, failures, locks, blocked_until, updated_at) \
         VALUES ($1, $2, 1, 0, $5, $2) \
         ON CONFLICT (source) DO UPDATE SET \
           failures = {new_failures}, \
           locks = CASE WHEN source_throttles.window_start <= $3 THEN 0 \
                   ELSE source_throttles.locks END, \
           window_start = CASE WHEN source_throttles.window_start <= $3 THEN $2 \
                          ELSE source_throttles.window_start END, \
           blocked_until = {}, \
           updated_at = $2 \
         WHERE source_throttles.blocked_until <= $2 \
           AND (source_throttles.window_start <= $3 OR source_throttles.failures < $4) \
         RETURNING window_start, failures",
        policy.wait_sql(new_failures, "$2")
    );
    let first_wait = policy.delay_after(1);
    let row = sqlx::query(&sql)
        .bind(source.as_str())
        .bind(now)
        .bind(now - policy.window_secs)
        .bind(policy.max_failures)
        .bind(if first_wait > 0 { now + first_wait } else { 0 })
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((r.try_get("window_start")?, r.try_get("failures")?)))
        .transpose()
}

/// Admits an attempt from `ip` at a throttled operation, counting it as a
/// failure; `None` when the throttle does not apply (off, or an exempt
/// source). Refuses (429 with `Retry-After`) a source that must wait.
pub async fn admit(state: &AppState, ip: IpAddr) -> AppResult<Option<Ticket>> {
    let policy = ThrottlePolicy::of(&state.config);
    if !policy.applies_to(ip) {
        return Ok(None);
    }
    let source = Source::of(ip);
    let now = state.now();
    // A read first: a refused source (the attacker, most of the time) costs
    // no write, which on SQLite would queue behind everyone's.
    if let Some(counts) = counts(&state.db, &source).await? {
        if let Some(until) = counts.refused_until(&policy, now) {
            return Err(throttled(state, until - now));
        }
    }
    match count_attempt(&state.db, &source, &policy, now).await? {
        Some((window_start, failures)) => Ok(Some(Ticket {
            source,
            window_start,
            failures,
        })),
        None => {
            let wait = counts(&state.db, &source)
                .await?
                .and_then(|c| c.refused_until(&policy, now))
                .map_or(1, |until| until - now);
            Err(throttled(state, wait))
        }
    }
}

/// Ends an admitted attempt: one that did not fail is taken back (its wait,
/// if any, stands); the failure that reaches the limit is audited.
pub async fn settle(state: &AppState, ticket: Ticket, failed: bool) -> AppResult<()> {
    let policy = ThrottlePolicy::of(&state.config);
    if !failed {
        // Only within its own window: a new window starts from nothing.
        sqlx::query(
            "UPDATE source_throttles SET failures = failures - 1 \
             WHERE source = $1 AND window_start = $2 AND failures > 0",
        )
        .bind(ticket.source.as_str())
        .bind(ticket.window_start)
        .execute(&state.db.pool)
        .await?;
        return Ok(());
    }
    if ticket.failures == policy.max_failures {
        let detail = format!(
            "{} failed attempts within {} minutes: refused until the window ends",
            ticket.failures,
            policy.window_secs / 60
        );
        record_throttled(state, &ticket.source, &detail).await?;
    }
    Ok(())
}

/// The audit row of a source that has just become refused (written once,
/// when it reaches the limit).
async fn record_throttled(state: &AppState, source: &Source, detail: &str) -> AppResult<()> {
    state.metrics.source_throttled();
    let ev = AuditEvent::new(AuditKind::SourceThrottled, AuditResult::Refused)
        .source_ip(Some(source.as_str()))
        .detail(detail);
    audit::record(&state.db.pool, state.now(), &ev).await?;
    Ok(())
}

/// Counts a lock caused by a failure from `source_ip`, in the transaction
/// that writes the lock's audit row; at the limit the source is refused
/// until its window ends, and that is audited in the same transaction.
/// Nothing for a source the throttle does not count (exempt, or an
/// operation the throttle does not guard, such as the portal's check).
pub async fn count_lock(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    state: &AppState,
    source_ip: Option<&str>,
) -> AppResult<()> {
    let policy = ThrottlePolicy::of(&state.config);
    let Some(ip) = source_ip.and_then(|s| s.parse::<IpAddr>().ok()) else {
        return Ok(());
    };
    if !policy.applies_to(ip) {
        return Ok(());
    }
    let source = Source::of(ip);
    let row = sqlx::query(
        "UPDATE source_throttles SET locks = locks + 1 WHERE source = $1 \
         RETURNING window_start, locks",
    )
    .bind(source.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let (window_start, locks): (i64, i64) = (row.try_get("window_start")?, row.try_get("locks")?);
    if policy.max_locks == 0 || locks < policy.max_locks {
        return Ok(());
    }
    sqlx::query(
        "UPDATE source_throttles SET blocked_until = $2 WHERE source = $1 AND blocked_until < $2",
    )
    .bind(source.as_str())
    .bind(window_start + policy.window_secs)
    .execute(&mut **tx)
    .await?;
    if locks == policy.max_locks {
        state.metrics.source_throttled();
        let detail = format!(
            "{locks} accounts locked within {} minutes: refused until the window ends",
            policy.window_secs / 60
        );
        let ev = AuditEvent::new(AuditKind::SourceThrottled, AuditResult::Refused)
            .source_ip(Some(source.as_str()))
            .detail(&detail);
        audit::record(&mut **tx, state.now(), &ev).await?;
    }
    Ok(())
}

/// The sources refused now or waiting between failures, or past the free
/// failures of their window: the administrator's view, most recent first.
pub async fn list(state: &AppState) -> AppResult<Vec<ThrottledSource>> {
    let policy = ThrottlePolicy::of(&state.config);
    let now = state.now();
    let rows = sqlx::query(&format!(
        "SELECT source, {COUNT_COLUMNS}, updated_at FROM source_throttles \
         WHERE blocked_until > $1 OR (window_start > $2 AND (failures > $3 OR locks > 0)) \
         ORDER BY updated_at DESC, source LIMIT 500"
    ))
    .bind(now)
    .bind(now - policy.window_secs)
    .bind(policy.free_failures)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let counts = Counts::from_row(row)?;
            Ok(ThrottledSource {
                source: row.try_get("source")?,
                failures: counts.failures,
                locks: counts.locks,
                window_ends_at: counts.window_start + policy.window_secs,
                refused_until: counts.refused_until(&policy, now),
                last_attempt_at: row.try_get("updated_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Lifts the throttle of `source` (its counts start again from nothing),
/// with its audit row in the same transaction; 404 when nothing is
/// counted for it.
pub async fn lift(state: &AppState, admin: &Actor, source: &str) -> AppResult<()> {
    let source = Source::parse(source)?;
    let mut tx = state.db.pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM source_throttles WHERE source = $1")
        .bind(source.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    let ev = admin
        .did(AuditKind::AdminThrottleLift)
        .detail(source.as_str());
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets sources whose window has passed and that are refused no more.
pub async fn purge(db: &Db, config: &Config, now: i64) -> Result<u64, sqlx::Error> {
    let policy = ThrottlePolicy::of(config);
    Ok(
        sqlx::query(
            "DELETE FROM source_throttles WHERE window_start <= $1 AND blocked_until <= $2",
        )
        .bind(now - policy.window_secs)
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_ipv6_source_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        assert_eq!(Source::of(ip("203.0.113.7")).as_str(), "203.0.113.7");
        assert_eq!(Source::of(ip("::ffff:203.0.113.7")).as_str(), "203.0.113.7");
        assert_eq!(
            Source::of(ip("2001:db8:1:2:3:4:5:6")).as_str(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            Source::of(ip("2001:db8:1:2:ffff::1")),
            Source::of(ip("2001:db8:1:2::9"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn a_typed_source_is_an_address_or_an_ipv6_64() {
        assert_eq!(
            Source::parse(" 203.0.113.7 ").unwrap().as_str(),
            "203.0.113.7"
        );
        assert_eq!(
            Source::parse("2001:db8:1:2::/64").unwrap().as_str(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            Source::parse("2001:db8:1:2::77").unwrap().as_str(),
            "2001:db8:1:2::/64"
        );
        for bad in [
            "",
            "   ",
            "203.0.113.7/64",
            "10.0.0.0/8",
            "example.org",
            "2001:db8::/48",
        ] {
            assert!(
                matches!(Source::parse(bad), Err(AppError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_wait_doubles_past_the_free_failures_up_to_the_longest() {
        let policy = ThrottlePolicy::of(&Config::default());
        let waits: Vec<i64> = (9..=18).map(|n| policy.delay_after(n)).collect();
        assert_eq!(waits, [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.delay_after(10_000), 60);
    }

    #[test]
    fn an_exempt_source_and_a_zero_limit_are_not_counted() {
        let mut config = Config {
            throttle_exempt: TrustedProxies::parse(["10.0.0.0/8"]).unwrap(),
            ..Config::default()
        };
        let policy = ThrottlePolicy::of(&config);
        assert!(!policy.applies_to(ip("10.1.2.3")));
        assert!(!policy.applies_to(ip("::ffff:10.1.2.3")));
        assert!(policy.applies_to(ip("11.1.2.3")));
        config.throttle_max_failures = 0;
        assert!(!ThrottlePolicy::of(&config).applies_to(ip("11.1.2.3")));
    }
}
