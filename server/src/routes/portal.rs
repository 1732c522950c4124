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
use latchkey_shared::Username;
use sqlx::Row;

use crate::audit::{self, result, AuditEvent};
use crate::domains;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::password::Verification;
use crate::routes::admin::api_key_hash;
use crate::staff::kind;
use crate::state::AppState;
use crate::users;

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
    let typed_key = req.username.trim().to_lowercase();
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

    let Some(domain) = domains::by_slug(&state.db, &req.domain).await? else {
        let ticket = state.hasher.ticket()?;
        ticket.verify_dummy(&req.password).await?;
        drop(ticket);
        audit(None, typed_key, result::FAILURE, "unknown domain").await?;
        return Err(AppError::InvalidCredentials);
    };
    let slug = Some(domain.slug.clone());
    if !domain.sspm_available {
        audit(
            slug,
            typed_key,
            result::REFUSED,
            "self-service not available",
        )
        .await?;
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    let Ok(username) = Username::parse(&req.username) else {
        let ticket = state.hasher.ticket()?;
        ticket.verify_dummy(&req.password).await?;
        drop(ticket);
        audit(slug, typed_key, result::FAILURE, "invalid user name").await?;
        return Err(AppError::InvalidCredentials);
    };
    let key = username.key();
    let ticket = state.hasher.ticket()?;
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let locks = match lockout::reserve(&state.db, domain.id, &key, policy, state.now()).await? {
        Reservation::Locked => {
            drop(ticket);
            audit(slug, key, result::LOCKED, "account locked").await?;
            return Err(AppError::AccountLocked);
        }
        Reservation::Allowed { locks, .. } => locks,
    };
    let user = users::by_key(&state.db, domain.id, &key).await?;
    let verification = match &user {
        Some(u) => ticket.verify(&req.password, &u.password_hash).await?,
        None => {
            ticket.verify_dummy(&req.password).await?;
            Verification {
                matched: false,
                needs_rehash: false,
            }
        }
    };
    drop(ticket);
    let user = match user {
        Some(u) if verification.matched && !u.disabled => u,
        other => {
            let detail = match other {
                None => "unknown user",
                Some(u) if u.disabled && verification.matched => "account disabled",
                Some(_) => "wrong password",
            };
            audit(slug.clone(), key.clone(), result::FAILURE, detail).await?;
            if locks {
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
    lockout::reset(&state.db, domain.id, &key).await?;
    if user.temp_password_expired(state.now()) {
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
    audit(
        slug,
        key,
        result::SUCCESS,
        match status {
            PasswordStatus::Valid => "verified",
            PasswordStatus::Temporary => "verified: temporary password",
            PasswordStatus::ChangeRequired => "verified: must change password",
        },
    )
    .await?;
    Ok(Json(PortalVerifyResponse {
        status,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        domain: domain.slug.clone(),
        expires_at: if user.temp_password {
            user.temp_password_expires_at
        } else {
            None
        },
    }))
}
