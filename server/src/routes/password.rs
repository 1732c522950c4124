//! `POST /api/password/change`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{messages, paths, ChangePasswordRequest, ChangePasswordResponse};
use latchkey_shared::normalize::normalize_password;
use latchkey_shared::{PolicyContext, PolicyReport, RuleId, RuleResult, PRODUCT_NAME};

use crate::audit::{self, kind, result, AuditEvent};
use crate::domains;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::password::Blocklist;
use crate::session::Authenticated;
use crate::state::AppState;
use crate::users;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::CHANGE_PASSWORD, post(change_password))
}

/// The shared check plus the server-only breached-password list.
pub fn full_report(
    policy: &latchkey_shared::PasswordPolicy,
    password: &str,
    context: &PolicyContext,
    blocklist: &Blocklist,
) -> PolicyReport {
    let mut report = latchkey_shared::strength::check_password(policy, password, context);
    if !blocklist.is_empty() {
        let entry = RuleResult {
            rule: RuleId::NotBreached,
            passed: !blocklist.contains(password),
            message: "Not in the list of known breached passwords".to_owned(),
        };
        let at = report
            .rules
            .iter()
            .position(|r| r.rule == RuleId::MinStrength)
            .unwrap_or(report.rules.len());
        report.rules.insert(at, entry);
    }
    report
}

async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Authenticated(session): Authenticated,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Json<ChangePasswordResponse>> {
    let audit_event = |res: &'static str, detail: &'static str| AuditEvent {
        kind: kind::PASSWORD_CHANGE,
        actor: Some(&session.username_key),
        subject: Some(&session.username_key),
        domain: Some(&session.domain_slug),
        source_ip: ip.as_deref(),
        result: res,
        detail: Some(detail),
    };

    let domain = domains::by_id(&state.db, session.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    if !domain.sspm_available {
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }
    if req.policy_version != domain.policy.version {
        return Err(AppError::PolicyChanged(Box::new(domain.policy.clone())));
    }
    let new_password = normalize_password(&req.new_password);
    if new_password != normalize_password(&req.confirm_password) {
        return Err(AppError::PasswordsDoNotMatch);
    }

    // The current password counts toward the lockout exactly like a sign-in.
    let user = users::by_id(&state.db, session.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let ticket = state.hasher.ticket()?;
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let locks = match lockout::reserve(
        &state.db,
        domain.id,
        &user.username_key,
        policy,
        state.now(),
    )
    .await?
    {
        Reservation::Locked => {
            audit::record(
                &state.db.pool,
                state.now(),
                &audit_event(result::LOCKED, "account locked"),
            )
            .await?;
            return Err(AppError::AccountLocked);
        }
        Reservation::Allowed { locks, .. } => locks,
    };
    let verification = ticket
        .verify(&req.current_password, &user.password_hash)
        .await?;
    if !verification.matched || user.disabled {
        audit::record(
            &state.db.pool,
            state.now(),
            &audit_event(result::FAILURE, "wrong current password"),
        )
        .await?;
        if locks {
            state.metrics.lock();
            let mut ev = audit_event(result::LOCKED, "failed sign-in threshold reached");
            ev.kind = kind::ACCOUNT_LOCKED;
            audit::record(&state.db.pool, state.now(), &ev).await?;
        }
        return Err(AppError::InvalidCredentials);
    }
    lockout::reset(&state.db, domain.id, &user.username_key).await?;

    // The domain's current policy, re-checked here: the client is not trusted.
    let context = PolicyContext {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        domain_name: domain.name.clone(),
        product_name: PRODUCT_NAME.to_owned(),
    };
    let report = {
        let policy = domain.policy.clone();
        let password = req.new_password.clone();
        let blocklist = state.blocklist.clone();
        // zxcvbn can take a few milliseconds on long inputs: keep it off the
        // async workers.
        tokio::task::spawn_blocking(move || full_report(&policy, &password, &context, &blocklist))
            .await
            .map_err(AppError::internal)?
    };
    if !report.passed() {
        audit::record(
            &state.db.pool,
            state.now(),
            &audit_event(result::REFUSED, "policy"),
        )
        .await?;
        return Err(AppError::PasswordRejected(Box::new(report)));
    }

    // Not the current password (known: it was just verified) nor a recent one.
    if new_password == normalize_password(&req.current_password) {
        audit::record(
            &state.db.pool,
            state.now(),
            &audit_event(result::REFUSED, "reused"),
        )
        .await?;
        return Err(AppError::PasswordReused);
    }
    let depth = users::history_depth(&domain.policy);
    let history = users::password_history(&state.db, user.id, depth).await?;
    if users::reuses_any(&ticket, &req.new_password, &history).await? {
        audit::record(
            &state.db.pool,
            state.now(),
            &audit_event(result::REFUSED, "reused"),
        )
        .await?;
        return Err(AppError::PasswordReused);
    }

    let new_hash = ticket.hash(&req.new_password).await?;
    drop(ticket);

    // Everything else in one transaction; no hashing inside it.
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    if !users::replace_password(&mut tx, &user, &new_hash, depth, now).await? {
        // Changed meanwhile by another request: the current password we
        // verified is no longer current.
        tx.rollback().await?;
        return Err(AppError::InvalidCredentials);
    }
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user.id)
        .bind(&session.session_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE sessions SET must_change = $1, reauth_at = $2 WHERE id = $3")
        .bind(false)
        .bind(now)
        .bind(&session.session_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        now,
        &audit_event(
            result::SUCCESS,
            if user.temp_password {
                "temporary password replaced"
            } else {
                "password changed"
            },
        ),
    )
    .await?;
    tx.commit().await?;

    Ok(Json(ChangePasswordResponse {
        message: messages::password_changed(&state.config.portal_name),
    }))
}
