//! The person's own mail address (where notifications and one-time codes
//! go), set or changed from the account page and used only once a code
//! mailed to it is typed back (ASVS 2.7: 8 digits, 10 minutes, hashed, a
//! few attempts). Asking for a change needs the password again (the address
//! is where Forgot Password mails its code), is audited with the address,
//! and is limited per account and hour. The old address is told of the
//! change as well as the new. Removing it needs the password again, and the
//! removed address is told.
//! A directory domain's addresses are the directory's own.

use latchkey_shared::factors::{
    messages, AddressStatus, ADDRESS_REQUEST_WINDOW_SECS, MAX_ADDRESS_REQUESTS,
};
use rand::Rng;
use sqlx::{Any, Row, Transaction};

use crate::accounts::reconfirm;
use crate::accounts::self_service::checks as ss;
use crate::accounts::session::SessionUser;
use crate::accounts::store::StoreKind;
use crate::audit::Actor;
use crate::audit::{self, AuditKind, AuditResult};
use crate::db::domains;
use crate::db::users;
use crate::error::{AppError, AppResult};
use crate::mail::{notices, outbox};
use crate::state::AppState;

/// Seconds a confirmation code stays valid.
const CODE_SECS: i64 = 600;
/// Wrong codes before the pending address is dropped.
const MAX_ATTEMPTS: i64 = 5;

fn code_hash(secret: &str, user_id: i64, address: &str, code: &str) -> String {
    hex::encode(ss::keyed_hash(
        secret,
        "address-code",
        &[&user_id.to_string(), address, code],
    ))
}

async fn from_directory(state: &AppState, session: &SessionUser) -> AppResult<bool> {
    let domain = domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    Ok(matches!(domain.store, StoreKind::Directory(_)))
}

pub async fn status(state: &AppState, session: &SessionUser) -> AppResult<AddressStatus> {
    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT address FROM address_changes WHERE user_id = $1 AND expires_at > $2",
    )
    .bind(session.user_id)
    .bind(state.now())
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(AddressStatus {
        address: account.email,
        pending,
        from_directory: from_directory(state, session).await?,
        mail_available: state.config.mail.is_some(),
    })
}

/// Mails a code to `address` after the password again; the address is used
/// once it is confirmed. Each request is audited with the address, and at
/// most [`MAX_ADDRESS_REQUESTS`] an hour are mailed.
pub async fn request_change(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    address: &str,
    password: &str,
) -> AppResult<AddressStatus> {
    if state.config.mail.is_none() {
        return Err(AppError::Conflict(messages::NO_MAIL.to_owned()));
    }
    if from_directory(state, session).await? {
        return Err(AppError::Conflict(
            messages::ADDRESS_FROM_DIRECTORY.to_owned(),
        ));
    }
    let address = address.trim();
    if address.parse::<lettre::Address>().is_err() {
        return Err(AppError::BadRequest(messages::NOT_AN_ADDRESS.to_owned()));
    }
    let detail = format!("to {address}");
    let ev = actor
        .did(AuditKind::AddressChangeRequested)
        .subject(&session.username_key)
        .domain(&session.domain_slug)
        .detail(&detail);
    reconfirm(state, session, password, &ev).await?;
    let code: String = {
        let mut rng = rand::rngs::OsRng;
        (0..8)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    let secret = super::codes::code_secret(state).await?;
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    if let Some(wait) = count_request(&mut tx, session.user_id, now).await? {
        let refused = ev.clone().with_result(AuditResult::Refused);
        audit::record(&mut *tx, now, &refused).await?;
        tx.commit().await?;
        return Err(AppError::TooMany {
            message: messages::too_many_address_requests((wait + 59) / 60),
            retry_after: wait,
        });
    }
    sqlx::query("DELETE FROM address_changes WHERE user_id = $1")
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO address_changes (user_id, address, code_hash, expires_at, attempts) \
         VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(session.user_id)
    .bind(address)
    .bind(code_hash(&secret, session.user_id, address, &code))
    .bind(now + CODE_SECS)
    .execute(&mut *tx)
    .await?;
    let mail = notices::address_code_mail(&code, CODE_SECS / 60, &state.config.portal_name);
    // The code's mail expires with the code (see `outbox::enqueue_until`).
    outbox::enqueue_until(
        &mut tx,
        outbox::CODE_KIND,
        address,
        &mail,
        now,
        now + CODE_SECS,
    )
    .await?;
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    status(state, session).await
}

/// Counts one address request of `user_id` in its hour, in one statement so
/// that parallel requests each take their own place; the seconds until the
/// next one is allowed if this one is past the limit.
async fn count_request(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    now: i64,
) -> AppResult<Option<i64>> {
    let row = sqlx::query(
        "INSERT INTO address_requests (user_id, window_start, requests) VALUES ($1, $2, 1) \
         ON CONFLICT (user_id) DO UPDATE SET \
             requests = CASE WHEN address_requests.window_start <= $2 - $3 THEN 1 \
                             ELSE address_requests.requests + 1 END, \
             window_start = CASE WHEN address_requests.window_start <= $2 - $3 THEN $2 \
                                 ELSE address_requests.window_start END \
         RETURNING requests, window_start",
    )
    .bind(user_id)
    .bind(now)
    .bind(ADDRESS_REQUEST_WINDOW_SECS)
    .fetch_one(&mut **tx)
    .await?;
    let requests: i64 = row.try_get("requests")?;
    let window_start: i64 = row.try_get("window_start")?;
    Ok((requests > MAX_ADDRESS_REQUESTS)
        .then(|| (window_start + ADDRESS_REQUEST_WINDOW_SECS - now).max(1)))
}

/// The code from the mail: the pending address becomes the person's.
pub async fn confirm(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    code: &str,
) -> AppResult<AddressStatus> {
    let secret = super::codes::code_secret(state).await?;
    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let typed = code.trim().replace([' ', '-'], "");
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    // The attempt is counted before the code is judged, in one statement:
    // parallel guesses each use up one attempt, and none is judged past the
    // last (the row also stays locked until this transaction ends).
    let row = sqlx::query(
        "UPDATE address_changes SET attempts = attempts + 1 WHERE user_id = $1 \
         RETURNING address, code_hash, expires_at, attempts",
    )
    .bind(session.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Err(AppError::BadRequest(
            messages::NO_PENDING_ADDRESS.to_owned(),
        ));
    };
    let address: String = row.try_get("address")?;
    let stored: String = row.try_get("code_hash")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let attempts: i64 = row.try_get("attempts")?;
    let expired = expires_at <= now;
    let right = !expired
        && attempts <= MAX_ATTEMPTS
        && code_hash(&secret, session.user_id, &address, &typed) == stored;
    let ev = actor
        .did(AuditKind::AddressChanged)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
    if !right {
        let spent = expired || attempts >= MAX_ATTEMPTS;
        if spent {
            sqlx::query("DELETE FROM address_changes WHERE user_id = $1")
                .bind(session.user_id)
                .execute(&mut *tx)
                .await?;
        }
        let detail = if expired {
            format!("expired code for {address}")
        } else if spent {
            format!("wrong code for {address}; no attempt left, the address dropped")
        } else {
            format!("wrong code for {address}")
        };
        let failed = ev.with_result(AuditResult::Failure).detail(&detail);
        audit::record(&mut *tx, now, &failed).await?;
        tx.commit().await?;
        return Err(AppError::BadRequest(
            messages::WRONG_ADDRESS_CODE.to_owned(),
        ));
    }
    sqlx::query("DELETE FROM address_changes WHERE user_id = $1")
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
        .bind(&address)
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    notices::record(&mut tx, &state.config, now, &ev).await?;
    if let Some(old) = account.email.as_deref().filter(|old| *old != address) {
        notices::also_to(&mut tx, &state.config, now, &ev, old).await?;
    }
    tx.commit().await?;
    status(state, session).await
}

/// No more mail to the address on file, after the password again; the
/// address is told, last, that it was removed.
pub async fn remove(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    password: &str,
) -> AppResult<AddressStatus> {
    if from_directory(state, session).await? {
        return Err(AppError::Conflict(
            messages::ADDRESS_FROM_DIRECTORY.to_owned(),
        ));
    }
    let ev = actor
        .did(AuditKind::AddressRemoved)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
    let account = reconfirm(state, session, password, &ev).await?;
    let Some(old) = account.email.clone() else {
        return Err(AppError::BadRequest(messages::NO_ADDRESS.to_owned()));
    };
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    // Only the address the password was checked against: a change confirmed
    // meanwhile stays.
    let gone = sqlx::query("UPDATE users SET email = NULL WHERE id = $1 AND email = $2")
        .bind(session.user_id)
        .bind(&old)
        .execute(&mut *tx)
        .await?;
    if gone.rows_affected() == 0 {
        tx.rollback().await?;
        return Err(AppError::Conflict(
            messages::ADDRESS_CHANGED_MEANWHILE.to_owned(),
        ));
    }
    sqlx::query("DELETE FROM address_changes WHERE user_id = $1")
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record(&mut *tx, now, &ev).await?;
    notices::also_to(&mut tx, &state.config, now, &ev, &old).await?;
    tx.commit().await?;
    status(state, session).await
}
