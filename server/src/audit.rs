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

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Any, AnyPool, Executor};

pub use latchkey_shared::audit::{AuditKind, AuditResult};

/// One event, built with named steps instead of positional arguments:
/// `AuditEvent::new(AuditKind::SignIn, AuditResult::Success).actor(a).subject(s)`.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub result: AuditResult,
    /// Who acted (`user@domain`, `cli`, `api-key:…`).
    pub actor: Option<&'a str>,
    /// Whom it concerned (user name as typed, lower-cased).
    pub subject: Option<&'a str>,
    /// Domain slug.
    pub domain: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    /// A short reason, never a secret.
    pub detail: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(kind: AuditKind, result: AuditResult) -> Self {
        Self {
            kind,
            result,
            actor: None,
            subject: None,
            domain: None,
            source_ip: None,
            detail: None,
        }
    }

    #[must_use]
    pub fn actor(mut self, actor: &'a str) -> Self {
        self.actor = Some(actor);
        self
    }

    #[must_use]
    pub fn subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    #[must_use]
    pub fn domain(mut self, domain: &'a str) -> Self {
        self.domain = Some(domain);
        self
    }

    #[must_use]
    pub fn maybe_domain(mut self, domain: Option<&'a str>) -> Self {
        self.domain = domain;
        self
    }

    #[must_use]
    pub fn source_ip(mut self, ip: Option<&'a str>) -> Self {
        self.source_ip = ip;
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The same event with another result (a refusal of the operation).
    #[must_use]
    pub fn with_result(mut self, result: AuditResult) -> Self {
        self.result = result;
        self
    }

    /// The same event with another kind and result (e.g. the lock that a
    /// failure causes, recorded beside it).
    #[must_use]
    pub fn as_kind(mut self, kind: AuditKind, result: AuditResult) -> Self {
        self.kind = kind;
        self.result = result;
        self
    }
}

/// The most of a name (actor, subject, domain, source) a row and its log line
/// keep: whatever someone types as a user name lands here, refused or not.
pub const MAX_NAME_CHARS: usize = 100;
/// The most of a detail (a reason is at most `MAX_REASON_CHARS`) a row keeps.
pub const MAX_DETAIL_CHARS: usize = 600;

/// `value` as an audit row may hold it: control characters written as
/// escapes (a NUL cannot be stored on PostgreSQL, a newline would forge a log
/// line), and at most `max` characters, the rest replaced by a mark saying
/// how much was cut.
pub fn bounded(value: &str, max: usize) -> Cow<'_, str> {
    let clean = !value.chars().any(char::is_control);
    if clean && value.chars().nth(max).is_none() {
        return Cow::Borrowed(value);
    }
    let total = value.chars().count();
    let mut out = String::new();
    for c in value.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if total > max {
        out.push_str(&format!("… [cut: {total} characters]"));
    }
    Cow::Owned(out)
}

/// An event with every text [`bounded`].
struct Bounded<'a> {
    kind: Cow<'a, str>,
    actor: Option<Cow<'a, str>>,
    subject: Option<Cow<'a, str>>,
    domain: Option<Cow<'a, str>>,
    source_ip: Option<Cow<'a, str>>,
    result: Cow<'a, str>,
    detail: Option<Cow<'a, str>>,
}

impl<'a> Bounded<'a> {
    fn of(e: &AuditEvent<'a>) -> Self {
        let name = |v: Option<&'a str>| v.map(|v| bounded(v, MAX_NAME_CHARS));
        Self {
            kind: Cow::Borrowed(e.kind.as_str()),
            actor: name(e.actor),
            subject: name(e.subject),
            domain: name(e.domain),
            source_ip: name(e.source_ip),
            result: Cow::Borrowed(e.result.as_str()),
            detail: e.detail.map(|v| bounded(v, MAX_DETAIL_CHARS)),
        }
    }
}

/// Writes the event (in the caller's transaction if given one) and logs it,
/// each text [`bounded`].
pub async fn record<'e, E>(executor: E, at: i64, event: &AuditEvent<'_>) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let event = Bounded::of(event);
    tracing::info!(
        target: "audit",
        kind = %event.kind,
        result = %event.result,
        actor = event.actor.as_deref(),
        subject = event.subject.as_deref(),
        domain = event.domain.as_deref(),
        source_ip = event.source_ip.as_deref(),
        detail = event.detail.as_deref(),
        "audit event"
    );
    sqlx::query(
        "INSERT INTO audit_events (at, kind, actor, subject, domain, source_ip, result, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(at)
    .bind(event.kind.as_ref())
    .bind(event.actor.as_deref())
    .bind(event.subject.as_deref())
    .bind(event.domain.as_deref())
    .bind(event.source_ip.as_deref())
    .bind(event.result.as_ref())
    .bind(event.detail.as_deref())
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
    kind: AuditKind,
    actor: Option<String>,
    subject: Option<String>,
    domain: Option<String>,
    source_ip: Option<String>,
    result: AuditResult,
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
        // Bounded before it is kept, so what waits in memory is bounded too.
        let (kind_of, result_of) = (event.kind, event.result);
        let event = Bounded::of(event);
        let owned = |v: Option<Cow<'_, str>>| v.map(Cow::into_owned);
        let key = DeferredKey {
            kind: kind_of,
            actor: owned(event.actor),
            subject: owned(event.subject),
            domain: owned(event.domain),
            source_ip: owned(event.source_ip),
            result: result_of,
            detail: owned(event.detail),
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
            kind: key.kind,
            actor: key.actor.as_deref(),
            subject: key.subject.as_deref(),
            domain: key.domain.as_deref(),
            source_ip: key.source_ip.as_deref(),
            result: key.result,
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
        AuditEvent::new(AuditKind::SignIn, AuditResult::Locked)
            .subject(subject)
            .detail("account locked")
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
    fn a_long_name_is_kept_cut_and_marked() {
        let long = "x".repeat(65_000);
        let kept = bounded(&long, MAX_NAME_CHARS);
        assert!(kept.starts_with(&"x".repeat(MAX_NAME_CHARS)));
        assert!(kept.ends_with("… [cut: 65000 characters]"), "{kept}");
        assert!(kept.chars().count() < MAX_NAME_CHARS + 40);
        assert!(matches!(
            bounded("jsmith", MAX_NAME_CHARS),
            Cow::Borrowed("jsmith")
        ));
    }

    #[test]
    fn control_characters_are_kept_as_escapes() {
        assert_eq!(bounded("a\u{0}b\nc", 10), "a\\u{0}b\\nc");
    }

    #[test]
    fn deferred_events_are_bounded_before_they_wait() {
        let deferred = Deferred::default();
        let long = "y".repeat(10_000);
        assert!(deferred.push(1, &event(&long)));
        let pending = deferred.pending.lock().unwrap();
        let subject = pending.keys().next().unwrap().subject.clone().unwrap();
        assert!(subject.chars().count() < MAX_NAME_CHARS + 40, "{subject}");
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

/// Who acts and from where, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user@domain` for staff, the user name for a user acting on their
    /// own account, `cli`, `api-key:<name>`.
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>, ip: Option<String>) -> Self {
        Self {
            name: name.into(),
            ip,
        }
    }

    /// The command line (no address).
    pub fn cli() -> Self {
        Self::new("cli", None)
    }

    /// An event by this actor, from their address.
    pub fn event(&self, kind: AuditKind, result: AuditResult) -> AuditEvent<'_> {
        AuditEvent::new(kind, result)
            .actor(&self.name)
            .source_ip(self.ip.as_deref())
    }

    /// A successful `kind` by this actor; add subject, domain and detail.
    pub fn did(&self, kind: AuditKind) -> AuditEvent<'_> {
        self.event(kind, AuditResult::Success)
    }
}
