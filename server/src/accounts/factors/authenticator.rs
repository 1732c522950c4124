//! An authenticator app on the account page: a new key after the password
//! again (kept encrypted with the server's key, [`crate::password::secret_box`]),
//! confirmed by a code from the app, removed after the password again; and
//! the check of a code, which accepts each time step once so that a code
//! seen over a shoulder or replayed is refused.

use latchkey_shared::factors::{
    self, messages, AuthenticatorSetup, AuthenticatorStatus, TOTP_DIGITS, TOTP_SECRET_BYTES,
    TOTP_SKEW, TOTP_STEP_SECS,
};
use rand::RngCore;
use sqlx::{Any, Row, Transaction};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::accounts::reconfirm;
use crate::accounts::session::SessionUser;
use crate::audit::Actor;
use crate::audit::{AuditKind, AuditResult};
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::password::secret_box::SecretBox;
use crate::state::AppState;

fn totp(secret: Vec<u8>, account: &str, issuer: &str) -> AppResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        TOTP_SKEW,
        TOTP_STEP_SECS,
        secret,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .map_err(AppError::internal)
}

fn key(state: &AppState) -> AppResult<&SecretBox> {
    state
        .secret_box
        .as_deref()
        .ok_or_else(|| AppError::Conflict(messages::NO_KEY.to_owned()))
}

/// The time step `code` stands for, if it is one of the accepted steps
/// around `now` (compared in constant time).
pub fn matching_step(totp: &TOTP, code: &str, now: i64) -> Option<u64> {
    let now = u64::try_from(now).ok()?;
    let base = now / TOTP_STEP_SECS;
    let skew = u64::from(TOTP_SKEW);
    (base.saturating_sub(skew)..=base + skew).find(|step| {
        let expected = totp.generate(step * TOTP_STEP_SECS);
        expected.len() == code.len()
            && expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

struct Stored {
    secret: String,
    confirmed_at: Option<i64>,
    last_step: i64,
}

async fn stored<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    user_id: i64,
) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query("SELECT secret, confirmed_at, last_step FROM authenticators WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(executor)
        .await?
        .map(|r| {
            Ok(Stored {
                secret: r.try_get("secret")?,
                confirmed_at: r.try_get("confirmed_at")?,
                last_step: r.try_get("last_step")?,
            })
        })
        .transpose()
}

pub async fn status(state: &AppState, user_id: i64) -> AppResult<AuthenticatorStatus> {
    let found = stored(&state.db.pool, user_id).await?;
    let since = found.and_then(|s| s.confirmed_at);
    Ok(AuthenticatorStatus {
        active: since.is_some(),
        since,
        available: state.secret_box.is_some(),
    })
}

/// A new key for `session`'s user after the password again (a session
/// alone adds no second factor), not used until confirmed.
pub async fn begin(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    password: &str,
) -> AppResult<AuthenticatorSetup> {
    let sealer = key(state)?;
    if status(state, session.user_id).await?.active {
        return Err(AppError::Conflict(messages::ALREADY.to_owned()));
    }
    let ev = actor
        .did(AuditKind::AuthenticatorSetup)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
    reconfirm(state, session, password, &ev).await?;
    let mut secret = vec![0u8; TOTP_SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let issuer = state.config.portal_name.clone();
    let account = format!("{}@{}", session.username, session.domain_slug);
    let totp = totp(secret.clone(), &account, &issuer)?;
    let sealed = sealer
        .seal(session.user_id, &secret)
        .map_err(AppError::internal)?;
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    // One statement: parallel setups each replace the key being set up (the
    // last one wins) instead of colliding on the row, and a key in use is
    // never replaced.
    let put = sqlx::query(
        "INSERT INTO authenticators (user_id, secret, confirmed_at, last_step, created_at) \
         VALUES ($1, $2, NULL, 0, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret = $2, last_step = 0, created_at = $3 \
         WHERE authenticators.confirmed_at IS NULL",
    )
    .bind(session.user_id)
    .bind(&sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if put.rows_affected() == 0 {
        tx.rollback().await?;
        return Err(AppError::Conflict(messages::ALREADY.to_owned()));
    }
    crate::audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    let base32 = Secret::Raw(secret).to_encoded().to_string();
    let grouped = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(AuthenticatorSetup {
        secret: grouped,
        otpauth_uri: totp.get_url(),
    })
}

/// `user_id`'s key, if it opens with the server's key. One that does not
/// (`secret_key` changed or removed) is no authenticator for the code
/// check: an error here would answer differently for the people who have
/// one. The administrator is told once per process (never the key).
fn open(state: &AppState, user_id: i64, sealed: &str) -> Option<Vec<u8>> {
    static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let opened = state
        .secret_box
        .as_deref()
        .and_then(|key| key.open(user_id, sealed).ok());
    if opened.is_none() && !TOLD.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "an authenticator's key does not open with the server's secret_key (was it changed \
             or removed?): such authenticators count as none in Unlock Account and Forgot \
             Password; the console's Domains page counts them (docs/second-factor.md)"
        );
    }
    opened
}

/// Whether `user_id`'s sealed key opens with the server's key.
pub fn opens(state: &AppState, user_id: i64, sealed: &str) -> bool {
    open(state, user_id, sealed).is_some()
}

/// Accepts `code` for `user_id`'s authenticator (`confirmed`: the one in
/// use, or else the one being set up) if it matches a step later than the
/// last accepted one, and records that step in `tx` (compare-and-swap, so
/// two requests cannot both use one code). `false` for no authenticator.
pub async fn accept_code(
    state: &AppState,
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    code: &str,
    confirmed: bool,
) -> AppResult<bool> {
    // Read in the transaction: on SQLite it may hold the only writer.
    let Some(found) = stored(&mut **tx, user_id).await? else {
        return Ok(false);
    };
    if found.confirmed_at.is_some() != confirmed {
        return Ok(false);
    }
    let Some(code) = factors::parse_code(code) else {
        return Ok(false);
    };
    let Some(secret) = open(state, user_id, &found.secret) else {
        return Ok(false);
    };
    let totp = totp(secret, "", "")?;
    let Some(step) = matching_step(&totp, &code, state.now()) else {
        return Ok(false);
    };
    let step = i64::try_from(step).map_err(AppError::internal)?;
    if step <= found.last_step {
        return Ok(false);
    }
    let used = sqlx::query(
        "UPDATE authenticators SET last_step = $1 WHERE user_id = $2 AND last_step = $3",
    )
    .bind(step)
    .bind(user_id)
    .bind(found.last_step)
    .execute(&mut **tx)
    .await?;
    Ok(used.rows_affected() == 1)
}

/// Confirms the key being set up with a code from the app.
pub async fn confirm(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    code: &str,
) -> AppResult<AuthenticatorStatus> {
    key(state)?;
    if factors::parse_code(code).is_none() {
        return Err(AppError::BadRequest(messages::NOT_A_CODE.to_owned()));
    }
    match stored(&state.db.pool, session.user_id).await? {
        None => return Err(AppError::BadRequest(messages::NO_SETUP.to_owned())),
        Some(s) if s.confirmed_at.is_some() => {
            return Err(AppError::Conflict(messages::ALREADY.to_owned()))
        }
        Some(_) => {}
    }
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let ev = actor
        .did(AuditKind::AuthenticatorAdded)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
    if !accept_code(state, &mut tx, session.user_id, code, false).await? {
        // Nothing changed: the row goes in on its own, so that on SQLite this
        // read-only transaction never has to become a writer.
        tx.rollback().await?;
        let failed = ev
            .with_result(AuditResult::Failure)
            .detail("wrong code for the new key");
        crate::audit::record(&state.db.pool, now, &failed).await?;
        return Err(AppError::BadRequest(messages::WRONG_CODE.to_owned()));
    }
    sqlx::query("UPDATE authenticators SET confirmed_at = $1 WHERE user_id = $2")
        .bind(now)
        .bind(session.user_id)
        .execute(&mut *tx)
        .await?;
    notices::record(&mut tx, &state.config, now, &ev).await?;
    tx.commit().await?;
    status(state, session.user_id).await
}

/// Removes the authenticator after the password again.
pub async fn remove(
    state: &AppState,
    session: &SessionUser,
    actor: &Actor,
    password: &str,
) -> AppResult<AuthenticatorStatus> {
    let ev = actor
        .did(AuditKind::AuthenticatorRemoved)
        .subject(&session.username_key)
        .domain(&session.domain_slug);
    reconfirm(state, session, password, &ev).await?;
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let gone =
        sqlx::query("DELETE FROM authenticators WHERE user_id = $1 AND confirmed_at IS NOT NULL")
            .bind(session.user_id)
            .execute(&mut *tx)
            .await?;
    if gone.rows_affected() == 0 {
        tx.rollback().await?;
        return Err(AppError::BadRequest(messages::NONE.to_owned()));
    }
    notices::record(&mut tx, &state.config, now, &ev).await?;
    tx.commit().await?;
    status(state, session.user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        // RFC 6238's SHA-1 test key.
        let totp = totp(b"12345678901234567890".to_vec(), "a", "b").unwrap();
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(matching_step(&totp, "287082", 89), Some(1), "one step late");
        assert_eq!(matching_step(&totp, "287082", 120), None, "two steps late");
        assert_eq!(matching_step(&totp, "000000", 59), None);
    }
}
