//! The person's own mail address (where notifications and one-time codes
//! go), set or changed from the account page and used only once a code
//! mailed to it is typed back (ASVS 2.7: 8 digits, 10 minutes, hashed, a
//! few attempts). The old address is told of the change as well as the new.
//! Removing it needs the password again, and the removed address is told.
//! A directory domain's addresses are the directory's own.

use latchkey_shared::factors::{messages, AddressStatus};
use rand::Rng;
use sqlx::Row;

use super::store::StoreKind;
use super::{reconfirm, Actor};
use crate::audit::AuditKind;
use crate::domains;
use crate::error::{AppError, AppResult};
use crate::mail::{notices, outbox};
use crate::self_service as ss;
use crate::session::SessionUser;
use crate::state::AppState;
use crate::users;

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

/// Mails a code to `address`; the address is used once it is confirmed.
pub async fn request_change(
    state: &AppState,
    session: &SessionUser,
    address: &str,
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
    let code: String = {
        let mut rng = rand::rngs::OsRng;
        (0..8)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    let secret = super::codes::code_secret(state).await?;
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
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
    outbox::enqueue_until(
        &mut tx,
        outbox::CODE_KIND,
        address,
        &mail,
        now,
        now + CODE_SECS,
    )
    .await?;
    tx.commit().await?;
    status(state, session).await
}

/// The code from the mail: the pending address becomes the person's.
pub async fn confirm(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    code: &str,
) -> AppResult<AddressStatus> {
    let now = state.now();
    let row = sqlx::query(
        "SELECT address, code_hash, expires_at, attempts FROM address_changes WHERE user_id = $1",
    )
    .bind(session.user_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| AppError::BadRequest(messages::NO_PENDING_ADDRESS.to_owned()))?;
    let address: String = row.try_get("address")?;
    let stored: String = row.try_get("code_hash")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let attempts: i64 = row.try_get("attempts")?;
    let secret = super::codes::code_secret(state).await?;
    let typed = code.trim().replace([' ', '-'], "");
    let right = code_hash(&secret, session.user_id, &address, &typed) == stored;
    if !right || expires_at <= now || attempts >= MAX_ATTEMPTS {
        // Counted with a compare-and-swap, so parallel guesses count too.
        sqlx::query(
            "UPDATE address_changes SET attempts = attempts + 1 WHERE user_id = $1 AND attempts = $2",
        )
        .bind(session.user_id)
        .bind(attempts)
        .execute(&state.db.pool)
        .await?;
        if attempts + 1 >= MAX_ATTEMPTS || expires_at <= now {
            sqlx::query("DELETE FROM address_changes WHERE user_id = $1")
                .bind(session.user_id)
                .execute(&state.db.pool)
                .await?;
        }
        return Err(AppError::BadRequest(
            messages::WRONG_ADDRESS_CODE.to_owned(),
        ));
    }
    let account = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let mut tx = state.db.pool.begin().await?;
    let taken = sqlx::query("DELETE FROM address_changes WHERE user_id = $1 AND code_hash = $2")
        .bind(session.user_id)
        .bind(&stored)
        .execute(&mut *tx)
        .await?;
    if taken.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(AppError::BadRequest(
            messages::WRONG_ADDRESS_CODE.to_owned(),
        ));
    }
    sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
        .bind(&address)
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    let ev = actor
        .did(AuditKind::AddressChanged)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
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
