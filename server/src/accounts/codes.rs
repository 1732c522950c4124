//! The code step of Unlock Account and Forgot Password, in domains that ask
//! for a second factor: a code from the person's authenticator app, or, for
//! someone without one, a one-time code mailed to the address on file.
//!
//! Every name takes the same path: a mail code is drawn and its keyed hash
//! kept in the flow for all (only a real person with an address and no
//! authenticator is sent it), and the check compares both kinds for all,
//! so the step's answers and queries do not tell who has what.

use latchkey_shared::self_service::FlowKind;
use rand::Rng;
use sqlx::{Any, Row, Transaction};

use super::authenticator;
use crate::error::AppResult;
use crate::mail::{notices, outbox};
use crate::self_service as ss;
use crate::state::AppState;

/// Digits of a mailed code (ASVS 2.7: at least 6, from a CSPRNG).
pub const MAIL_CODE_DIGITS: usize = 8;
/// Seconds a mailed code stays valid (ASVS 2.7.2: at most 10 minutes).
pub const MAIL_CODE_SECS: i64 = 600;

fn mail_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..MAIL_CODE_DIGITS)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

fn code_hash(secret: &str, flow_id: &str, code: &str) -> String {
    hex::encode(ss::keyed_hash(secret, "mail-code", &[flow_id, code]))
}

/// What the code step knows of a person: their address and whether they
/// have an authenticator in use (one query, for unknown names too).
async fn factors_of(
    tx: &mut Transaction<'_, Any>,
    user_id: Option<i64>,
) -> Result<(Option<String>, bool), sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.email, a.confirmed_at FROM users u \
         LEFT JOIN authenticators a ON a.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id.unwrap_or(-1))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => (
            r.try_get::<Option<String>, _>("email")?
                .filter(|e| e.contains('@')),
            r.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
        ),
        None => (None, false),
    })
}

/// At the identify step: a mail code for the flow, kept hashed, and mailed
/// to a person who has an address and no authenticator.
pub async fn issue(
    state: &AppState,
    tx: &mut Transaction<'_, Any>,
    flow_id: &str,
    kind: FlowKind,
    user_id: Option<i64>,
    now: i64,
) -> AppResult<()> {
    let code = mail_code();
    let secret = ss::secret(&state.db).await?;
    sqlx::query("UPDATE self_service_flows SET code_hash = $1, code_expires_at = $2 WHERE id = $3")
        .bind(code_hash(&secret, flow_id, &code))
        .bind(now + MAIL_CODE_SECS)
        .bind(flow_id)
        .execute(&mut **tx)
        .await?;
    let (email, has_authenticator) = factors_of(tx, user_id).await?;
    if let (Some(email), false, Some(_)) = (email, has_authenticator, &state.config.mail) {
        let phone: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(crate::settings::help_desk::HELP_DESK_PHONE)
            .fetch_optional(&mut **tx)
            .await?;
        let mail = notices::code_mail(
            kind,
            &code,
            MAIL_CODE_SECS / 60,
            phone.as_deref().unwrap_or(""),
            &state.config.portal_name,
        );
        outbox::enqueue(tx, outbox::CODE_KIND, &email, &mail, now).await?;
    }
    Ok(())
}

/// At the answers step: whether `typed` is the person's code: the current
/// one of their authenticator (used up), or the flow's mail code (used up
/// whatever the outcome, and only within its ten minutes).
pub async fn check(
    state: &AppState,
    flow_id: &str,
    user_id: Option<i64>,
    typed: &str,
) -> AppResult<bool> {
    let now = state.now();
    let secret = ss::secret(&state.db).await?;
    let mut tx = state.db.pool.begin().await?;
    let row =
        sqlx::query("SELECT code_hash, code_expires_at FROM self_service_flows WHERE id = $1")
            .bind(flow_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (stored, expires): (Option<String>, Option<i64>) = match row {
        Some(r) => (r.try_get("code_hash")?, r.try_get("code_expires_at")?),
        None => (None, None),
    };
    sqlx::query("UPDATE self_service_flows SET code_hash = NULL WHERE id = $1")
        .bind(flow_id)
        .execute(&mut *tx)
        .await?;
    let typed = typed.trim().replace([' ', '-'], "");
    let mailed = stored.is_some_and(|h| h == code_hash(&secret, flow_id, &typed))
        && expires.is_some_and(|e| e > now);
    let (_, has_authenticator) = factors_of(&mut tx, user_id).await?;
    let from_app = match (user_id, has_authenticator) {
        (Some(id), true) => authenticator::accept_code(state, &mut tx, id, &typed, true).await?,
        _ => false,
    };
    tx.commit().await?;
    Ok(user_id.is_some() && (mailed || from_app))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_code_has_eight_digits_and_codes_differ() {
        let a = mail_code();
        assert_eq!(a.len(), MAIL_CODE_DIGITS);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(a, mail_code());
    }
}
