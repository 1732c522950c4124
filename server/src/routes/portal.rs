//! `POST /api/portal/verify`: the organisation's portal delegates its sign-in
//! here with an API key (`Authorization: Bearer lk_…`, stored hashed). A
//! check counts toward the same lockout as a sign-in and gets the same
//! uniform answers (401 `invalid_credentials` for any wrong name, domain or
//! password; 423 `account_locked`; 403 `temporary_password_expired`), so that
//! failures at the portal lock the account exactly like failures here. A
//! right password answers 200 with whether it is temporary or must be changed.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::admin::{paths, PasswordStatus, PortalVerifyRequest, PortalVerifyResponse};
use sqlx::Row;

use crate::audit::{self, result, AuditEvent};
use crate::credentials::{self, Outcome};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::routes::admin::api_key_hash;
use crate::staff::kind;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::PORTAL_VERIFY, post(verify))
}

/// The name of the live API key in the `Authorization` header, else 403.
async fn api_key_name(state: &AppState, headers: &HeaderMap) -> AppResult<String> {
    let refused = || {
        AppError::Forbidden(
            "A valid API key is required: send `Authorization: Bearer <key>`.".to_owned(),
        )
    };
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(refused)?;
    let row = sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL \
         RETURNING name",
    )
    .bind(state.now())
    .bind(api_key_hash(key))
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(refused)?;
    Ok(row.try_get("name")?)
}

async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PortalVerifyRequest>,
) -> AppResult<Json<PortalVerifyResponse>> {
    let key_name = api_key_name(&state, &headers).await?;
    let actor = format!("api-key:{key_name}");
    let audit =
        |domain: Option<String>, subject: String, res: &'static str, detail: &'static str| {
            let state = state.clone();
            let actor = actor.clone();
            let ip = ip.clone();
            async move {
                let ev = AuditEvent {
                    kind: kind::PORTAL_VERIFY,
                    actor: Some(&actor),
                    subject: Some(&subject),
                    domain: domain.as_deref(),
                    source_ip: ip.as_deref(),
                    result: res,
                    detail: Some(detail),
                };
                audit::record(&state.db.pool, state.now(), &ev).await
            }
        };

    let mut check = credentials::check(&state, &req.domain, &req.username, &req.password).await?;
    state.metrics.portal_sign_in(&check.outcome);
    drop(check.ticket.take());
    let slug = check.domain.as_ref().map(|d| d.slug.clone());
    let key = check.key.clone();
    let user = match &check.outcome {
        Outcome::Accepted { user, .. } => user,
        Outcome::NotOffered => {
            audit(slug, key, result::REFUSED, check.detail).await?;
            let text = check
                .domain
                .as_ref()
                .map(|d| d.unavailable_message())
                .unwrap_or_default();
            return Err(AppError::SspmUnavailable(text));
        }
        Outcome::Locked => {
            // Written in a batch, like the sign-in's (see `audit`).
            let ev = AuditEvent {
                kind: kind::PORTAL_VERIFY,
                actor: Some(&actor),
                subject: Some(&key),
                domain: slug.as_deref(),
                source_ip: ip.as_deref(),
                result: result::LOCKED,
                detail: Some(check.detail),
            };
            audit::record_deferred(&state.deferred_audit, &state.db.pool, state.now(), &ev).await?;
            return Err(AppError::AccountLocked);
        }
        Outcome::Unknown => {
            audit(slug, key, result::FAILURE, check.detail).await?;
            return Err(AppError::InvalidCredentials);
        }
        Outcome::Refused { locks } => {
            audit(slug.clone(), key.clone(), result::FAILURE, check.detail).await?;
            if *locks {
                let ev = AuditEvent {
                    kind: audit::kind::ACCOUNT_LOCKED,
                    actor: Some(&actor),
                    subject: Some(&key),
                    domain: slug.as_deref(),
                    source_ip: ip.as_deref(),
                    result: result::LOCKED,
                    detail: Some("failed sign-in threshold reached (portal)"),
                };
                audit::record(&state.db.pool, state.now(), &ev).await?;
            }
            return Err(AppError::InvalidCredentials);
        }
    };
    let domain_slug = slug.clone().unwrap_or_default();
    if user.temp_password_expired(state.now()) {
        // The password was right: it does not count towards a lock.
        check.clear_failures(&state.db.pool).await?;
        audit(slug, key, result::REFUSED, "temporary password expired").await?;
        return Err(AppError::TemporaryPasswordExpired);
    }
    let status = if user.temp_password {
        PasswordStatus::Temporary
    } else if user.must_change {
        PasswordStatus::ChangeRequired
    } else {
        PasswordStatus::Valid
    };
    // The count is cleared and the check recorded together.
    let ev = AuditEvent {
        kind: kind::PORTAL_VERIFY,
        actor: Some(&actor),
        subject: Some(&key),
        domain: slug.as_deref(),
        source_ip: ip.as_deref(),
        result: result::SUCCESS,
        detail: Some(match status {
            PasswordStatus::Valid => "verified",
            PasswordStatus::Temporary => "verified: temporary password",
            PasswordStatus::ChangeRequired => "verified: must change password",
        }),
    };
    let mut tx = state.db.pool.begin().await?;
    check.clear_failures(&mut *tx).await?;
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(PortalVerifyResponse {
        status,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        domain: domain_slug,
        expires_at: if user.temp_password {
            user.temp_password_expires_at
        } else {
            None
        },
    }))
}
