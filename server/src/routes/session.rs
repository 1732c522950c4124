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
    // Take a place in the hashing queue first (503 at once if full); the
    // check then reserves the failure before it verifies anything.
    let ticket = state.hasher.ticket()?;
    let check =
        credentials::check(&state, &ticket, &req.domain, &req.username, &req.password).await?;
    let attempt = Attempt {
        state: &state,
        ip: ip.as_deref(),
        domain: check.domain.as_ref().map(|d| d.slug.as_str()),
        subject: Some(&check.key),
    };
    let (domain, user, needs_rehash) = match check.outcome {
        Outcome::Accepted { user, needs_rehash } => {
            let domain = check
                .domain
                .as_ref()
                .ok_or_else(|| AppError::internal("accepted without a domain"))?;
            (domain, user, needs_rehash)
        }
        Outcome::NotOffered => {
            drop(ticket);
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
            drop(ticket);
            attempt
                .audit(kind::SIGN_IN, result::LOCKED, check.detail)
                .await?;
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
            attempt
                .audit(kind::SIGN_IN, result::FAILURE, check.detail)
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

    let now = state.now();
    if user.temp_password_expired(now) {
        drop(ticket);
        attempt
            .audit(kind::SIGN_IN, result::REFUSED, "temporary password expired")
            .await?;
        return Err(AppError::TemporaryPasswordExpired);
    }

    // Upgrade a hash made with older parameters, while we have the password.
    if needs_rehash {
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
