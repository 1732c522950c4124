//! The portal's password check (`POST /api/portal/verify`): the
//! organisation's portal delegates its sign-in here with an API key. It is
//! the sign-in's check with the sign-in's lockout and answers, recorded as
//! [`AuditKind::PortalVerify`] by `api-key:<name>`.

use latchkey_shared::admin::{PasswordStatus, PortalVerifyResponse};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::sign_in::{accepted, check};
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How API keys are stored: their SHA-256 (a key is 256 random bits, so a
/// slow hash adds nothing).
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The name of the live API key `key`, else 403; marks it used.
pub async fn authenticate_api_key(state: &AppState, key: Option<&str>) -> AppResult<String> {
    let refused = || {
        AppError::Forbidden(
            "A valid API key is required: send `Authorization: Bearer <key>`.".to_owned(),
        )
    };
    let key = key
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(refused)?;
    let row = mark_key_used(state, key).await?.ok_or_else(refused)?;
    Ok(row.try_get("name")?)
}

async fn mark_key_used(
    state: &AppState,
    key: &str,
) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL \
         RETURNING name",
    )
    .bind(state.now())
    .bind(api_key_hash(key))
    .fetch_optional(&state.db.pool)
    .await
}

/// Checks a password for the portal. A right one clears the count with its
/// audit row in one transaction; every refusal is recorded like a sign-in's.
pub async fn verify(
    state: &AppState,
    key_name: &str,
    ip: Option<&str>,
    domain: &str,
    username: &str,
    password: &str,
) -> AppResult<PortalVerifyResponse> {
    let actor = format!("api-key:{key_name}");
    let mut check = check(state, domain, username, password).await?;
    state.metrics.portal_sign_in(&check.outcome);
    drop(check.ticket.take());
    let event = AuditEvent::new(AuditKind::PortalVerify, AuditResult::Success)
        .actor(&actor)
        .source_ip(ip);
    let (domain, user, _) = accepted(state, &check, &event).await?;
    // The same order of reasons as a sign-in's (`sign_in::sign_in`): the
    // portal must send the person to change it whenever the PWA would.
    let expired = super::expiry::expires_at(state, domain, user)
        .await?
        .is_some_and(|t| t <= state.now());
    let status = if user.temp_password {
        PasswordStatus::Temporary
    } else if expired {
        PasswordStatus::Expired
    } else if user.must_change {
        PasswordStatus::ChangeRequired
    } else {
        PasswordStatus::Valid
    };
    let detail = match status {
        PasswordStatus::Valid => "verified",
        PasswordStatus::Temporary => "verified: temporary password",
        PasswordStatus::ChangeRequired => "verified: must change password",
        PasswordStatus::Expired => "verified: password expired",
    };
    let ev = event
        .clone()
        .subject(&check.key)
        .domain(&domain.slug)
        .detail(detail);
    let mut tx = state.db.pool.begin().await?;
    check.clear_failures(&mut *tx).await?;
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(PortalVerifyResponse {
        status,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        domain: domain.slug.clone(),
        expires_at: if user.temp_password {
            user.temp_password_expires_at
        } else {
            None
        },
    })
}
