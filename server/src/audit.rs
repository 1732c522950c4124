//! The audit trail: one row per security-relevant event, also emitted as a
//! tracing event (target `audit`). Never pass a password or token here.
//!
//! Every event is written at once, in the transaction of the change it
//! records, except the refusals of an already-locked account ([`Deferred`]):
//! an attacker can send thousands of those a second, each costing nothing
//! else, so they are counted in memory and written about once a second, one
//! row per account, source and outcome, with the count in `detail`. A crash
//! loses at most the last second of those counts; a graceful shutdown
//! writes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Any, AnyPool, Executor};

/// Kinds of audit events.
pub mod kind {
    pub const SIGN_IN: &str = "sign_in";
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    pub const SIGN_OUT: &str = "sign_out";
    pub const PASSWORD_CHANGE: &str = "password_change";
    pub const PASSWORD_REHASH: &str = "password_rehash";
    pub const DOMAIN_CREATE: &str = "cli.domain_create";
    pub const USER_CREATE: &str = "cli.user_create";
    pub const DEMO_SEED: &str = "cli.demo_seed";
}

/// Results of audit events.
pub mod result {
    pub const SUCCESS: &str = "success";
    pub const FAILURE: &str = "failure";
    pub const LOCKED: &str = "locked";
    pub const REFUSED: &str = "refused";
}

#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    pub kind: &'a str,
    /// Who acted (user name, or `cli`).
    pub actor: Option<&'a str>,
    /// Whom it concerned (user name as typed, lower-cased).
    pub subject: Option<&'a str>,
    /// Domain slug.
    pub domain: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub result: &'a str,
    /// A short reason, never a secret.
    pub detail: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(kind: &'a str, result: &'a str) -> Self {
        Self {
            kind,
            result,
            ..Self::default()
        }
    }
}

/// Writes the event (in the caller's transaction if given one) and logs it.
pub async fn record<'e, E>(executor: E, at: i64, event: &AuditEvent<'_>) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    tracing::info!(
        target: "audit",
        kind = event.kind,
        result = event.result,
        actor = event.actor,
        subject = event.subject,
        domain = event.domain,
        source_ip = event.source_ip,
        detail = event.detail,
        "audit event"
    );
    sqlx::query(
        "INSERT INTO audit_events (at, kind, actor, subject, domain, source_ip, result, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(at)
    .bind(event.kind)
    .bind(event.actor)
    .bind(event.subject)
    .bind(event.domain)
    .bind(event.source_ip)
    .bind(event.result)
    .bind(event.detail)
    .execute(executor)
    .await?;
    Ok(())
}

/// How often [`spawn_flusher`] runs: the deferred events are written this
/// often at least.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Distinct pending rows that make the flusher write before its next tick.
const FLUSH_EARLY_AT: usize = 1_000;
/// Beyond this many pending rows (e.g. the database has been unreachable for
/// a while) events are written at once again rather than held in memory.
const MAX_PENDING: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DeferredKey {
    kind: String,
    actor: Option<String>,
    subject: Option<String>,
    domain: Option<String>,
    source_ip: Option<String>,
    result: String,
    detail: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    first_at: i64,
    last_at: i64,
    count: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.first_at = self.first_at.min(other.first_at);
        self.last_at = self.last_at.max(other.last_at);
        self.count = self.count.saturating_add(other.count);
    }
}

/// Audit events counted in memory and written in batches; see the module
/// docs for which ones. Per process, but it decides nothing: it only delays
/// writing what already happened.
#[derive(Debug, Default)]
pub struct Deferred {
    pending: Mutex<HashMap<DeferredKey, Tally>>,
    wake: tokio::sync::Notify,
}

impl Deferred {
    /// Counts `event` for the next flush. Returns false, keeping nothing,
    /// when too much is pending already: then the caller writes it itself.
    fn push(&self, at: i64, event: &AuditEvent<'_>) -> bool {
        let key = DeferredKey {
            kind: event.kind.to_owned(),
            actor: event.actor.map(str::to_owned),
            subject: event.subject.map(str::to_owned),
            domain: event.domain.map(str::to_owned),
            source_ip: event.source_ip.map(str::to_owned),
            result: event.result.to_owned(),
            detail: event.detail.map(str::to_owned),
        };
        let tally = Tally {
            first_at: at,
            last_at: at,
            count: 1,
        };
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        let len = pending.len();
        match pending.get_mut(&key) {
            Some(t) => t.merge(tally),
            None if len >= MAX_PENDING => return false,
            None => {
                pending.insert(key, tally);
                if len + 1 == FLUSH_EARLY_AT {
                    self.wake.notify_one();
                }
            }
        }
        true
    }

    /// Writes everything pending in one transaction; returns the rows
    /// written. On failure, or if this is dropped before the write ends,
    /// the events stay pending for the next attempt.
    pub async fn flush(&self, pool: &AnyPool) -> Result<usize, sqlx::Error> {
        let batch: Vec<(DeferredKey, Tally)> = match self.pending.lock() {
            Ok(mut pending) if !pending.is_empty() => {
                std::mem::take(&mut *pending).into_iter().collect()
            }
            _ => return Ok(0),
        };
        let mut taken = Taken {
            deferred: self,
            batch,
            written: false,
        };
        write_batch(pool, &taken.batch).await?;
        taken.written = true;
        Ok(taken.batch.len())
    }
}

/// A batch being written: put back unless it was.
struct Taken<'a> {
    deferred: &'a Deferred,
    batch: Vec<(DeferredKey, Tally)>,
    written: bool,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if self.written {
            return;
        }
        if let Ok(mut pending) = self.deferred.pending.lock() {
            for (key, tally) in self.batch.drain(..) {
                pending
                    .entry(key)
                    .and_modify(|t| t.merge(tally))
                    .or_insert(tally);
            }
        }
    }
}

/// The row's `detail`: the event's own for one event, with the count and
/// the seconds they spanned (`at` is the first one's) for several.
fn counted_detail(detail: Option<&str>, tally: Tally) -> Option<String> {
    let span = tally.last_at - tally.first_at + 1;
    match (detail, tally.count) {
        (detail, 1) => detail.map(str::to_owned),
        (Some(detail), n) => Some(format!("{detail} (×{n} within {span} s)")),
        (None, n) => Some(format!("×{n} within {span} s")),
    }
}

async fn write_batch(pool: &AnyPool, batch: &[(DeferredKey, Tally)]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (key, tally) in batch {
        let detail = counted_detail(key.detail.as_deref(), *tally);
        let event = AuditEvent {
            kind: &key.kind,
            actor: key.actor.as_deref(),
            subject: key.subject.as_deref(),
            domain: key.domain.as_deref(),
            source_ip: key.source_ip.as_deref(),
            result: &key.result,
            detail: detail.as_deref(),
        };
        record(&mut *tx, tally.first_at, &event).await?;
    }
    tx.commit().await
}

/// Records `event` through `deferred` (see the module docs for which events
/// may be), or at once when too much is pending.
pub async fn record_deferred(
    deferred: &Deferred,
    pool: &AnyPool,
    at: i64,
    event: &AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    if deferred.push(at, event) {
        Ok(())
    } else {
        record(pool, at, event).await
    }
}

/// Runs `every_tick` every [`FLUSH_EVERY`], and sooner whenever much audit
/// is pending, until `stop` is notified; `every_tick` should flush
/// `deferred`. A final flush at shutdown is the caller's.
pub fn spawn_flusher<F, Fut>(
    deferred: Arc<Deferred>,
    stop: Arc<tokio::sync::Notify>,
    every_tick: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = deferred.wake.notified() => {}
                () = stop.notified() => return,
            }
            every_tick().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(subject: &str) -> AuditEvent<'_> {
        AuditEvent {
            subject: Some(subject),
            detail: Some("account locked"),
            ..AuditEvent::new(kind::SIGN_IN, result::LOCKED)
        }
    }

    #[test]
    fn repeated_events_are_counted_in_one_row_per_account() {
        let deferred = Deferred::default();
        for at in [100, 100, 101] {
            assert!(deferred.push(at, &event("jsmith")));
        }
        assert!(deferred.push(101, &event("ghost")));
        let pending = deferred.pending.lock().unwrap();
        assert_eq!(pending.len(), 2);
        let jsmith = pending
            .iter()
            .find(|(k, _)| k.subject.as_deref() == Some("jsmith"))
            .map(|(_, t)| *t)
            .unwrap();
        assert_eq!(
            (jsmith.first_at, jsmith.last_at, jsmith.count),
            (100, 101, 3)
        );
        assert_eq!(
            counted_detail(Some("account locked"), jsmith).as_deref(),
            Some("account locked (×3 within 2 s)")
        );
    }

    #[test]
    fn a_single_event_keeps_its_own_detail() {
        let one = Tally {
            first_at: 5,
            last_at: 5,
            count: 1,
        };
        assert_eq!(
            counted_detail(Some("account locked"), one).as_deref(),
            Some("account locked")
        );
        assert_eq!(counted_detail(None, one), None);
    }
}
