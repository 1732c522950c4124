//! `POST /api/session` (sign in), `GET /api/session`, `DELETE /api/session`
//! (sign out).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_shared::api::{paths, SignInRequest};

use crate::audit::{self, kind, result, AuditEvent};
use crate::credentials::{self, Outcome};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientIp};
use crate::session::{self, Authenticated};
use crate::state::AppState;

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
    fn event<'e>(&'e self, kind: &'e str, res: &'e str, detail: &'e str) -> AuditEvent<'e> {
        AuditEvent {
            kind,
            actor: self.subject,
            subject: self.subject,
            domain: self.domain,
            source_ip: self.ip,
            result: res,
            detail: Some(detail),
        }
    }

    async fn audit(&self, kind: &str, res: &str, detail: &str) -> Result<(), AppError> {
        let ev = self.event(kind, res, detail);
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
    // 503 at once when the hashing queue is full; otherwise the check takes
    // its place in the queue only once it knows it will hash.
    let mut check = credentials::check(&state, &req.domain, &req.username, &req.password).await?;
    state.metrics.pwa_sign_in(&check.outcome);
    let ticket = check.ticket.take();
    let attempt = Attempt {
        state: &state,
        ip: ip.as_deref(),
        domain: check.domain.as_ref().map(|d| d.slug.as_str()),
        subject: Some(&check.key),
    };
    let (domain, user, needs_rehash) = match &check.outcome {
        Outcome::Accepted { user, needs_rehash } => {
            let domain = check
                .domain
                .as_ref()
                .ok_or_else(|| AppError::internal("accepted without a domain"))?;
            (domain, user, *needs_rehash)
        }
        Outcome::NotOffered => {
            attempt
                .audit(kind::SIGN_IN, result::REFUSED, check.detail)
                .await?;
            let text = check
                .domain
                .as_ref()
                .map(|d| d.unavailable_message())
                .unwrap_or_default();
            return Err(AppError::SspmUnavailable(text));
        }
        Outcome::Locked => {
            // The one refusal an attacker can repeat cheaply: counted in
            // memory and written in a batch (see `audit`).
            let ev = attempt.event(kind::SIGN_IN, result::LOCKED, check.detail);
            audit::record_deferred(&state.deferred_audit, &state.db.pool, state.now(), &ev).await?;
            return Err(AppError::AccountLocked);
        }
        Outcome::Unknown => {
            drop(ticket);
            attempt
                .audit(kind::SIGN_IN, result::FAILURE, check.detail)
                .await?;
            return Err(AppError::InvalidCredentials);
        }
        Outcome::Refused { locks } => {
            drop(ticket);
            let now = state.now();
            if *locks {
                let mut tx = state.db.pool.begin().await?;
                let failed = attempt.event(kind::SIGN_IN, result::FAILURE, check.detail);
                audit::record(&mut *tx, now, &failed).await?;
                let locked = attempt.event(
                    kind::ACCOUNT_LOCKED,
                    result::LOCKED,
                    "failed sign-in threshold reached",
                );
                audit::record(&mut *tx, now, &locked).await?;
                tx.commit().await?;
            } else {
                attempt
                    .audit(kind::SIGN_IN, result::FAILURE, check.detail)
                    .await?;
            }
            return Err(AppError::InvalidCredentials);
        }
    };

    let now = state.now();
    if user.temp_password_expired(now) {
        drop(ticket);
        // The password was right: it does not count towards a lock.
        let mut tx = state.db.pool.begin().await?;
        check.clear_failures(&mut *tx).await?;
        let expired = attempt.event(kind::SIGN_IN, result::REFUSED, "temporary password expired");
        audit::record(&mut *tx, now, &expired).await?;
        tx.commit().await?;
        return Err(AppError::TemporaryPasswordExpired);
    }

    // Upgrade a hash made with older parameters, while we have the password.
    if needs_rehash {
        let ticket = ticket
            .as_ref()
            .ok_or_else(|| AppError::internal("accepted without a hashing ticket"))?;
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

    // What a sign-in changes, together: the failure count is cleared, any
    // session this browser already had is replaced, and the event is
    // recorded. One transaction is also one round trip's wait for the
    // connection instead of four under load.
    let must_change = user.temp_password || user.must_change;
    let mut tx = state.db.pool.begin().await?;
    check.clear_failures(&mut *tx).await?;
    if let Some(old) = session::token_from_headers(&headers) {
        session::delete_by_token_in(&mut *tx, &old).await?;
    }
    let token = session::create(&mut *tx, user.id, must_change, now).await?;
    let signed_in = attempt.event(
        kind::SIGN_IN,
        result::SUCCESS,
        if must_change {
            "must change password"
        } else {
            "signed in"
        },
    );
    audit::record(&mut *tx, now, &signed_in).await?;
    tx.commit().await?;

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
