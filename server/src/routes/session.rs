//! `POST /api/session` (sign in), `GET /api/session`, `DELETE /api/session`
//! (sign out).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{paths, SignInRequest};
use latchkey_shared::Username;

use crate::audit::{self, kind, result, AuditEvent};
use crate::domains;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::password::Verification;
use crate::session::{self, Authenticated};
use crate::state::AppState;
use crate::users;

pub fn router() -> Router<AppState> {
    Router::new().route(
        paths::SESSION,
        post(sign_in).get(current_session).delete(sign_out),
    )
}

async fn current_session(
    State(state): State<AppState>,
    Authenticated(user): Authenticated,
) -> Json<latchkey_shared::api::SessionInfo> {
    Json(user.info(idle_timeout_secs(&state)))
}

fn idle_timeout_secs(state: &AppState) -> u64 {
    u64::from(state.config.session_idle_minutes) * 60
}

async fn sign_out(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = session::token_from_headers(&headers) {
        // Whoever it was, for the audit trail; an ended session is fine too.
        let who = session::authenticate(&state, &token).await.ok();
        if session::delete_by_token(&state.db, &token).await? {
            if let Some(user) = who {
                let mut ev = AuditEvent::new(kind::SIGN_OUT, result::SUCCESS);
                ev.actor = Some(&user.username_key);
                ev.subject = Some(&user.username_key);
                ev.domain = Some(&user.domain_slug);
                ev.source_ip = ip.as_deref();
                audit::record(&state.db.pool, state.now(), &ev).await?;
            }
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clearing_cookie(state.config.secure_cookies()),
    );
    Ok(response)
}

struct Attempt<'a> {
    state: &'a AppState,
    ip: Option<&'a str>,
    domain: Option<&'a str>,
    subject: Option<&'a str>,
}

impl Attempt<'_> {
    async fn audit(&self, kind: &str, res: &str, detail: &str) -> Result<(), AppError> {
        let ev = AuditEvent {
            kind,
            actor: self.subject,
            subject: self.subject,
            domain: self.domain,
            source_ip: self.ip,
            result: res,
            detail: Some(detail),
        };
        audit::record(&self.state.db.pool, self.state.now(), &ev).await?;
        Ok(())
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> AppResult<Response> {
    let typed_key = req.username.trim().to_lowercase();
    let mut attempt = Attempt {
        state: &state,
        ip: ip.as_deref(),
        domain: None,
        subject: Some(&typed_key),
    };

    // Unknown domain: the same answer at the same cost as a wrong password.
    let Some(domain) = domains::by_slug(&state.db, &req.domain).await? else {
        let ticket = state.hasher.ticket()?;
        ticket.verify_dummy(&req.password).await?;
        drop(ticket);
        attempt
            .audit(kind::SIGN_IN, result::FAILURE, "unknown domain")
            .await?;
        return Err(AppError::InvalidCredentials);
    };
    attempt.domain = Some(&domain.slug);
    if !domain.sspm_available {
        attempt
            .audit(kind::SIGN_IN, result::REFUSED, "self-service not available")
            .await?;
        return Err(AppError::SspmUnavailable(domain.unavailable_message()));
    }

    // A name that cannot exist: same answer and cost, nothing to count.
    let username = match Username::parse(&req.username) {
        Ok(u) => u,
        Err(_) => {
            let ticket = state.hasher.ticket()?;
            ticket.verify_dummy(&req.password).await?;
            drop(ticket);
            attempt
                .audit(kind::SIGN_IN, result::FAILURE, "invalid user name")
                .await?;
            return Err(AppError::InvalidCredentials);
        }
    };
    let key = username.key();
    attempt.subject = Some(&key);

    // Take a place in the hashing queue first (503 at once if full), then
    // reserve the failure atomically; a locked name costs no argon2 at all.
    let ticket = state.hasher.ticket()?;
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let now = state.now();
    let locks = match lockout::reserve(&state.db, domain.id, &key, policy, now).await? {
        Reservation::Locked => {
            drop(ticket);
            attempt
                .audit(kind::SIGN_IN, result::LOCKED, "account locked")
                .await?;
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
    let user = match user {
        Some(u) if verification.matched && !u.disabled => u,
        other => {
            drop(ticket);
            let detail = match other {
                None => "unknown user",
                Some(u) if u.disabled && verification.matched => "account disabled",
                Some(_) => "wrong password",
            };
            attempt
                .audit(kind::SIGN_IN, result::FAILURE, detail)
                .await?;
            if locks {
                attempt
                    .audit(
                        kind::ACCOUNT_LOCKED,
                        result::LOCKED,
                        "failed sign-in threshold reached",
                    )
                    .await?;
            }
            return Err(AppError::InvalidCredentials);
        }
    };

    // The password was right: forget the failures.
    lockout::reset(&state.db, domain.id, &key).await?;
    let now = state.now();
    if user.temp_password_expired(now) {
        drop(ticket);
        attempt
            .audit(kind::SIGN_IN, result::REFUSED, "temporary password expired")
            .await?;
        return Err(AppError::TemporaryPasswordExpired);
    }

    // Upgrade a hash made with older parameters, while we have the password.
    if verification.needs_rehash {
        let new_hash = ticket.hash(&req.password).await?;
        let updated =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(&new_hash)
                .bind(user.id)
                .bind(&user.password_hash)
                .execute(&state.db.pool)
                .await?;
        if updated.rows_affected() > 0 {
            attempt
                .audit(
                    kind::PASSWORD_REHASH,
                    result::SUCCESS,
                    "hash upgraded to current parameters",
                )
                .await?;
        }
    }
    drop(ticket);

    // Replace any session this browser already had.
    if let Some(old) = session::token_from_headers(&headers) {
        session::delete_by_token(&state.db, &old).await?;
    }
    let must_change = user.temp_password || user.must_change;
    let token = session::create(&state.db.pool, user.id, must_change, now).await?;
    attempt
        .audit(
            kind::SIGN_IN,
            result::SUCCESS,
            if must_change {
                "must change password"
            } else {
                "signed in"
            },
        )
        .await?;

    let info = session::SessionUser {
        session_id: session::token_id(&token),
        user_id: user.id,
        username: user.username.clone(),
        username_key: user.username_key.clone(),
        display_name: user.display_name.clone(),
        domain_id: domain.id,
        domain_slug: domain.slug.clone(),
        domain_name: domain.name.clone(),
        must_change,
        role: latchkey_shared::admin::Role::parse(&user.role),
    }
    .info(idle_timeout_secs(&state));
    let mut response = Json(info).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::session_cookie(&token, state.config.secure_cookies()),
    );
    Ok(response)
}
