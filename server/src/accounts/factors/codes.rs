//! The code step of Unlock Account and Forgot Password, in domains that ask
//! for a second factor: a code from the person's authenticator app, or, for
//! someone without one, a one-time code mailed to the address on file.
//!
//! A mailed code belongs to the account, not to the flow: a second request
//! while it is valid mails nothing new (the code already sent works in any
//! flow), and no more than [`MAIL_CODES_PER_HOUR`] are mailed an hour, so
//! Forgot Password cannot be used to flood someone's mailbox. The mail is
//! written after the identify step's answer ([`crate::state::background`]), for
//! every name alike, so the answer's timing does not tell who has an
//! address. The codes' hashes are keyed with the server's `secret_key`
//! where there is one, so a copy of the database alone cannot find them.

use latchkey_shared::factors::MAIL_CODES_PER_HOUR;
use latchkey_shared::self_service::FlowKind;
use rand::Rng;
use sqlx::{Any, Row, Transaction};

use super::authenticator;
use crate::accounts::self_service::checks as ss;
use crate::error::AppResult;
use crate::mail::{notices, outbox};
use crate::state::AppState;

/// Digits of a mailed code (ASVS 2.7: at least 6, from a CSPRNG).
pub const MAIL_CODE_DIGITS: usize = 8;
/// Seconds a mailed code stays valid (ASVS 2.7.2: at most 10 minutes).
pub const MAIL_CODE_SECS: i64 = 600;
/// The window of [`MAIL_CODES_PER_HOUR`].
const HOUR_SECS: i64 = 3600;

fn mail_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..MAIL_CODE_DIGITS)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// The secret that keys the hashes of one-time codes: derived from
/// `secret_key`, kept outside the database. Without one, the database's own
/// secret (the weaker mode docs/second-factor.md describes: a copy of the
/// database holds both the hashes and their key).
pub async fn code_secret(state: &AppState) -> AppResult<String> {
    match &state.secret_box {
        Some(key) => Ok(key.code_key().to_owned()),
        None => ss::secret(&state.db).await,
    }
}

fn code_hash(secret: &str, user_id: i64, code: &str) -> String {
    hex::encode(ss::keyed_hash(
        secret,
        "mail-code",
        &[&user_id.to_string(), code],
    ))
}

/// What the code step knows of a person: their address and whether they
/// have an authenticator in use that the server can read (one query, for
/// unknown names too). An authenticator whose key does not open (the
/// `secret_key` changed or was removed) counts as none.
async fn factors_of(
    state: &AppState,
    tx: &mut Transaction<'_, Any>,
    user_id: Option<i64>,
) -> AppResult<(Option<String>, bool)> {
    let row = sqlx::query(
        "SELECT u.email, a.confirmed_at, a.secret FROM users u \
         LEFT JOIN authenticators a ON a.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id.unwrap_or(-1))
    .fetch_optional(&mut **tx)
    .await?;
    let (Some(r), Some(id)) = (row, user_id) else {
        return Ok((None, false));
    };
    let email = r
        .try_get::<Option<String>, _>("email")?
        .filter(|e| e.contains('@'));
    let confirmed = r.try_get::<Option<i64>, _>("confirmed_at")?.is_some();
    let sealed: Option<String> = r.try_get("secret")?;
    let usable = confirmed && sealed.is_some_and(|s| authenticator::opens(state, id, &s));
    Ok((email, usable))
}

/// After the identify step's answer, for every name: mails a code to a
/// person who has an address and no usable authenticator, unless a code
/// mailed to them is still valid or the hour's codes are used up.
pub fn deliver_later(state: &AppState, kind: FlowKind, user_id: Option<i64>) {
    let task_state = state.clone();
    state
        .background
        .spawn("mailing a one-time code", async move {
            deliver(&task_state, kind, user_id).await
        });
}

async fn deliver(state: &AppState, kind: FlowKind, user_id: Option<i64>) -> AppResult<()> {
    let now = state.now();
    let secret = code_secret(state).await?;
    let mut tx = state.db.pool.begin().await?;
    let (email, has_authenticator) = factors_of(state, &mut tx, user_id).await?;
    let (Some(id), Some(email), false, Some(_)) =
        (user_id, email, has_authenticator, &state.config.mail)
    else {
        return Ok(());
    };
    let code = mail_code();
    let expires_at = now + MAIL_CODE_SECS;
    if !claim(&mut tx, id, &code_hash(&secret, id, &code), expires_at, now).await? {
        return Ok(());
    }
    let phone: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(crate::settings::help_desk::HELP_DESK_PHONE)
        .fetch_optional(&mut *tx)
        .await?;
    let mail = notices::code_mail(
        kind,
        &code,
        MAIL_CODE_SECS / 60,
        phone.as_deref().unwrap_or(""),
        &state.config.portal_name,
    );
    // The mail goes with the code: unsent when the code expires, it is
    // never sent.
    outbox::enqueue_until(&mut tx, outbox::CODE_KIND, &email, &mail, now, expires_at).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes `code_hash` the account's code, in one statement so that of two
/// parallel requests one mails: `false` while the last code is valid (it
/// stands) or once the hour's codes are used up.
async fn claim(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    code_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO mail_codes (user_id, code_hash, expires_at, window_start, sent_in_window) \
         VALUES ($1, $2, $3, $4, 1) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = $2, expires_at = $3, \
             window_start = CASE WHEN mail_codes.window_start <= $4 - $6 THEN $4 \
                                 ELSE mail_codes.window_start END, \
             sent_in_window = CASE WHEN mail_codes.window_start <= $4 - $6 THEN 1 \
                                   ELSE mail_codes.sent_in_window + 1 END \
         WHERE (mail_codes.code_hash IS NULL OR mail_codes.expires_at <= $4) \
           AND (mail_codes.window_start <= $4 - $6 OR mail_codes.sent_in_window < $5) \
         RETURNING user_id",
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(expires_at)
    .bind(now)
    .bind(i64::from(MAIL_CODES_PER_HOUR))
    .bind(HOUR_SECS)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

/// At the answers step: whether `typed` is the person's code: the current
/// one of their authenticator (used up), or the code mailed to them while
/// it is valid (used up when right; a wrong guess does not spend the code
/// the owner may be typing in their own flow: guesses are capped by
/// [`ss::reserve_code_guess`] instead). The same queries for every name.
pub async fn check(state: &AppState, user_id: Option<i64>, typed: &str) -> AppResult<bool> {
    let now = state.now();
    let secret = code_secret(state).await?;
    let typed = typed.trim().replace([' ', '-'], "");
    let id = user_id.unwrap_or(-1);
    let mut tx = state.db.pool.begin().await?;
    let used = sqlx::query(
        "UPDATE mail_codes SET code_hash = NULL \
         WHERE user_id = $1 AND code_hash = $2 AND expires_at > $3",
    )
    .bind(id)
    .bind(code_hash(&secret, id, &typed))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let mailed = used.rows_affected() == 1;
    let (_, has_authenticator) = factors_of(state, &mut tx, user_id).await?;
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

    #[test]
    fn a_code_hash_depends_on_the_key_and_the_account() {
        assert_ne!(
            code_hash("k1", 7, "12345678"),
            code_hash("k2", 7, "12345678")
        );
        assert_ne!(
            code_hash("k1", 7, "12345678"),
            code_hash("k1", 8, "12345678")
        );
    }
}
