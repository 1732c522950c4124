//! Periodic removal of expired state: idle sessions and stale failure
//! counters (and, as later features add them, flows and challenges).
//!
//! Every statement is a plain `DELETE … WHERE <expired>`, so any number of
//! instances may run it at the same moment: the rows one deletes are simply
//! not there for the others, and nothing live matches the conditions.

use std::time::Duration;

use crate::state::AppState;

/// Unlocked failure counters untouched this long are forgotten: a handful of
/// old typos should not count towards a lock days later.
pub const STALE_COUNTER_SECS: i64 = 24 * 60 * 60;

/// How many rows each kind of purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub failure_counters: u64,
    pub flows: u64,
    pub self_service_failures: u64,
    pub source_throttles: u64,
}

/// One pass over every table with expiring rows.
pub async fn purge_once(state: &AppState) -> Result<Purged, sqlx::Error> {
    let now = state.now();
    let idle_secs = i64::from(state.config.session_idle_minutes).saturating_mul(60);
    let sessions = sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1")
        .bind(now - idle_secs)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    // Locked counters stay: whether their lock has lifted depends on the
    // domain's setting, and the next attempt resets them anyway.
    let failure_counters =
        sqlx::query("DELETE FROM failure_counters WHERE locked_at IS NULL AND updated_at <= $1")
            .bind(now - STALE_COUNTER_SECS)
            .execute(&state.db.pool)
            .await?
            .rows_affected();
    // A flow past its deadline can no longer be continued; its CAPTCHA
    // expires sooner still.
    let flows = sqlx::query("DELETE FROM self_service_flows WHERE expires_at <= $1")
        .bind(now)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    let self_service_failures = sqlx::query(
        "DELETE FROM self_service_failures WHERE blocked_at IS NULL AND updated_at <= $1",
    )
    .bind(now - STALE_COUNTER_SECS)
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    let source_throttles = crate::accounts::throttle::purge(&state.db, &state.config, now).await?;
    Ok(Purged {
        source_throttles,
        sessions,
        failure_counters,
        flows,
        self_service_failures,
    })
}

/// Runs [`purge_once`] every `every` until the runtime shuts down.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match purge_once(&state).await {
                Ok(p) if p != Purged::default() => tracing::info!(
                    sessions = p.sessions,
                    failure_counters = p.failure_counters,
                    flows = p.flows,
                    self_service_failures = p.self_service_failures,
                    "purged expired state"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of expired state failed"),
            }
            // Reminders of passwords that expire soon ride on the same tick.
            match crate::accounts::expiry::remind_due(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reminders = n, "queued password expiry reminders"),
                Err(e) => tracing::warn!(error = %e, "password expiry reminders failed"),
            }
        }
    })
}
