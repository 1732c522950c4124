//! The outbox: mail written in the transaction of the change it reports,
//! sent later by [`super::sender`]. A row is `waiting` until an instance
//! claims it (`sending`, with a lease), then `sent`, or back to `waiting`
//! with a later attempt after a temporary failure, or `failed` after a
//! permanent one or too many attempts. The claim is one UPDATE whose
//! conditions are checked again on the row it changes, so of several
//! instances one claims each row.

use latchkey_shared::admin::{OutboxEntry, OutboxStatus};
use sqlx::{Any, Row, Transaction};

use super::notices::Rendered;
use crate::db::Db;

/// The outbox kind of a one-time code: its body is blanked once sent (or
/// given up), so the code does not stay in the database.
pub const CODE_KIND: &str = "code";

/// Attempts before a mail is given up as failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// Seconds an instance may take to send what it claimed before another may
/// claim it again.
pub const LEASE_SECS: i64 = 300;

/// A claimed mail, to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: i64,
}

pub async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    kind: &str,
    recipient: &str,
    mail: &Rendered,
    now: i64,
) -> Result<(), sqlx::Error> {
    insert(tx, kind, recipient, mail, now, None).await
}

/// A mail that is worthless from `expires_at` (a one-time code): not sent
/// after it, and its body blanked then ([`expire`]), so a code does not sit
/// in the database while the mail server is down.
pub async fn enqueue_until(
    tx: &mut Transaction<'_, Any>,
    kind: &str,
    recipient: &str,
    mail: &Rendered,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    insert(tx, kind, recipient, mail, now, Some(expires_at)).await
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    kind: &str,
    recipient: &str,
    mail: &Rendered,
    now: i64,
    expires_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, status, attempts, \
         next_attempt_at, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, 'waiting', 0, $6, $6, $7)",
    )
    .bind(kind)
    .bind(recipient)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What [`expire`] writes as the reason a mail was not sent.
pub const EXPIRED: &str = "not sent: it expired first (a one-time code is worthless once expired)";

/// Gives up the unsent mails past their `expires_at`, blanking their bodies;
/// returns how many.
pub async fn expire(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = $1, \
         body_text = '', body_html = '' \
         WHERE expires_at <= $2 AND status IN ('waiting', 'sending')",
    )
    .bind(EXPIRED)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

/// Claims up to `limit` mails that are due (or whose claim lapsed).
pub async fn claim(db: &Db, now: i64, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let due = "((status = 'waiting' AND next_attempt_at <= $2) \
               OR (status = 'sending' AND claimed_until < $2)) \
               AND (expires_at IS NULL OR expires_at > $2)";
    let rows = sqlx::query(&format!(
        "UPDATE outbox SET status = 'sending', claimed_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $3) AND {due} \
         RETURNING id, recipient, subject, body_text, body_html, attempts"
    ))
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                recipient: r.try_get("recipient")?,
                subject: r.try_get("subject")?,
                text: r.try_get("body_text")?,
                html: r.try_get("body_html")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Puts back mails claimed and not attempted (the sender is stopping):
/// due at once, for the next start or another instance, their attempt
/// not counted.
pub async fn release(db: &Db, ids: &[i64]) -> Result<(), sqlx::Error> {
    for id in ids {
        sqlx::query(
            "UPDATE outbox SET status = 'waiting', claimed_until = NULL, attempts = attempts - 1 \
             WHERE id = $1 AND status = 'sending'",
        )
        .bind(id)
        .execute(&db.pool)
        .await?;
    }
    Ok(())
}

pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $1, claimed_until = NULL, last_error = NULL, \
         body_text = CASE WHEN kind = 'code' THEN '' ELSE body_text END, \
         body_html = CASE WHEN kind = 'code' THEN '' ELSE body_html END \
         WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Seconds before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (30_i64 << exp).min(3600)
}

/// A failed attempt: another later, or `failed` if `permanent` or the last.
pub async fn mark_failed(
    db: &Db,
    mail: &Claimed,
    error: &str,
    permanent: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let error: String = error.chars().take(500).collect();
    if permanent || mail.attempts >= MAX_ATTEMPTS {
        sqlx::query(
            "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = $1, \
             body_text = CASE WHEN kind = 'code' THEN '' ELSE body_text END, \
             body_html = CASE WHEN kind = 'code' THEN '' ELSE body_html END WHERE id = $2",
        )
        .bind(&error)
        .bind(mail.id)
        .execute(&db.pool)
        .await?;
    } else {
        sqlx::query(
            "UPDATE outbox SET status = 'waiting', claimed_until = NULL, last_error = $1, \
             next_attempt_at = $2 WHERE id = $3",
        )
        .bind(&error)
        .bind(now + backoff_secs(mail.attempts))
        .bind(mail.id)
        .execute(&db.pool)
        .await?;
    }
    Ok(())
}

/// The newest `limit` mails, for the console (no bodies).
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<OutboxEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, recipient, subject, status, attempts, created_at, sent_at, \
         next_attempt_at, last_error FROM outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(OutboxEntry {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                recipient: r.try_get("recipient")?,
                subject: r.try_get("subject")?,
                status: match status.as_str() {
                    "sent" => OutboxStatus::Sent,
                    "failed" => OutboxStatus::Failed,
                    _ => OutboxStatus::Waiting,
                },
                attempts: r.try_get("attempts")?,
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff_secs(1), 30);
        assert_eq!(backoff_secs(2), 60);
        assert_eq!(backoff_secs(3), 120);
        assert_eq!(backoff_secs(8), 3600);
        assert_eq!(backoff_secs(50), 3600);
    }
}
