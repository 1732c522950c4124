//! The Local Registration Authority's console API (administrators may use it
//! for every domain): re-authentication, finding users, their state, and the
//! actions on them. An LRA sees only users of their domains (anyone else is
//! 404, as if absent) and acts only on plain users. Every action needs a
//! reason and, since it changes a credential, a password entry within the
//! last 5 minutes; each is an audit event.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_shared::admin::{
    paths, ReauthRequest, ReauthResponse, Role, StaffActionRequest, TemporaryPasswordIssued,
    UserSearchResponse, UserState, UserSummary, REAUTH_WINDOW_SECS,
};
use serde::Deserialize;
use sqlx::Row;

use crate::audit::{self, result, AuditEvent};
use crate::db::RowExt;
use crate::domains;
use crate::error::{AppError, AppResult};
use latchkey_shared::bounds::{check_text, Bounded, FieldError, TextKind, MAX_SEARCH_CHARS};

use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::lockout::{self, LockoutPolicy, Reservation};
use crate::password::generate_temporary_password;
use crate::staff::{self, kind, load_target, valid_reason, Staff, Target};
use crate::state::AppState;
use crate::users;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::STAFF_REAUTH, post(reauth))
        .route(paths::STAFF_USERS, get(search))
        .route(paths::STAFF_USER, get(user_state))
        .route(paths::STAFF_UNLOCK, post(unlock))
        .route(paths::STAFF_TEMP_PASSWORD, post(temporary_password))
        .route(paths::STAFF_CLEAR_ENROLMENT, post(clear_enrolment))
        .route(paths::STAFF_DISABLE, post(disable))
        .route(paths::STAFF_ENABLE, post(enable))
}

/// Who did it and from where, for the audit log.
pub struct Actor<'a> {
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// A successful `kind` by this actor; add subject, domain and detail.
    pub fn did(&self, kind: &'a str) -> AuditEvent<'a> {
        AuditEvent {
            actor: Some(self.name),
            source_ip: self.ip,
            ..AuditEvent::new(kind, result::SUCCESS)
        }
    }
}

pub async fn record(
    state: &AppState,
    actor: &Actor<'_>,
    kind: &str,
    res: &str,
    subject: Option<&str>,
    domain: Option<&str>,
    detail: Option<&str>,
) -> Result<(), AppError> {
    let ev = AuditEvent {
        kind,
        actor: Some(actor.name),
        subject,
        domain,
        source_ip: actor.ip,
        result: res,
        detail,
    };
    audit::record(&state.db.pool, state.now(), &ev).await?;
    Ok(())
}

async fn reauth(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> AppResult<Json<ReauthResponse>> {
    let actor_name = staff.actor();
    let actor = Actor {
        name: &actor_name,
        ip: ip.as_deref(),
    };
    let user = &staff.user;
    let domain = domains::by_id(&state.db, user.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let record_user = users::by_id(&state.db, user.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    // Counts toward the lockout exactly like a sign-in.
    let ticket = state.hasher.ticket()?;
    let policy = LockoutPolicy::resolve(
        domain.lockout_threshold,
        domain.lockout_minutes,
        &state.config,
    );
    let subject = Some(user.username_key.as_str());
    let dom = Some(domain.slug.as_str());
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
            record(
                &state,
                &actor,
                kind::REAUTH,
                result::LOCKED,
                subject,
                dom,
                None,
            )
            .await?;
            return Err(AppError::AccountLocked);
        }
        Reservation::Allowed { locks, .. } => locks,
    };
    let verification = ticket
        .verify(&req.password, &record_user.password_hash)
        .await?;
    drop(ticket);
    if !verification.matched {
        record(
            &state,
            &actor,
            kind::REAUTH,
            result::FAILURE,
            subject,
            dom,
            Some("wrong password"),
        )
        .await?;
        if locks {
            state.metrics.lock();
            record(
                &state,
                &actor,
                audit::kind::ACCOUNT_LOCKED,
                result::LOCKED,
                subject,
                dom,
                Some("failed sign-in threshold reached"),
            )
            .await?;
        }
        return Err(AppError::InvalidCredentials);
    }
    lockout::reset(&state.db, domain.id, &user.username_key).await?;
    let now = state.now();
    sqlx::query("UPDATE sessions SET reauth_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&user.session_id)
        .execute(&state.db.pool)
        .await?;
    record(
        &state,
        &actor,
        kind::REAUTH,
        result::SUCCESS,
        subject,
        dom,
        None,
    )
    .await?;
    Ok(Json(ReauthResponse {
        valid_until: now + REAUTH_WINDOW_SECS,
    }))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

impl Bounded for SearchQuery {
    fn check_bounds(&self) -> Result<(), FieldError> {
        check_text("q", &self.q, MAX_SEARCH_CHARS, TextKind::Line)
    }
}

const SEARCH_LIMIT: usize = 50;

/// `%`, `_` and `\` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

async fn search(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<UserSearchResponse>> {
    let pattern = like_pattern(&q.q);
    let base = "SELECT u.id, u.username, u.username_key, u.display_name, u.role, u.disabled, \
                d.slug, d.name AS domain_name, d.lockout_threshold, d.lockout_minutes, \
                f.failed_count, f.locked_at \
         FROM users u JOIN domains d ON d.id = u.domain_id \
         LEFT JOIN failure_counters f ON f.domain_id = u.domain_id AND f.username_key = u.username_key \
         WHERE (u.username_key LIKE $1 ESCAPE '\\' OR LOWER(u.display_name) LIKE $1 ESCAPE '\\')";
    let limit = i64::try_from(SEARCH_LIMIT + 1).unwrap_or(51);
    let rows = if staff.is_admin() {
        sqlx::query(&format!("{base} ORDER BY u.username_key, d.slug LIMIT $2"))
            .bind(&pattern)
            .bind(limit)
            .fetch_all(&state.db.pool)
            .await?
    } else {
        sqlx::query(&format!(
            "{base} AND u.domain_id IN (SELECT domain_id FROM staff_domains WHERE user_id = $2) \
             ORDER BY u.username_key, d.slug LIMIT $3"
        ))
        .bind(&pattern)
        .bind(staff.user.user_id)
        .bind(limit)
        .fetch_all(&state.db.pool)
        .await?
    };
    let now = state.now();
    let mut users = Vec::with_capacity(rows.len());
    for row in &rows {
        let policy = LockoutPolicy::resolve(
            row.try_get("lockout_threshold")?,
            row.try_get("lockout_minutes")?,
            &state.config,
        );
        let (locked, _, _) = staff::lock_state(
            policy,
            row.try_get("failed_count")?,
            row.try_get("locked_at")?,
            now,
        );
        users.push(UserSummary {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            domain: row.try_get("slug")?,
            domain_name: row.try_get("domain_name")?,
            role: Role::parse(&row.try_get::<String, _>("role")?),
            locked,
            disabled: row.flag("disabled")?,
        });
    }
    let truncated = users.len() > SEARCH_LIMIT;
    users.truncate(SEARCH_LIMIT);
    Ok(Json(UserSearchResponse { users, truncated }))
}

/// The account if the caller may see it; 404 otherwise (as if absent).
async fn visible_target(state: &AppState, staff: &Staff, id: i64) -> AppResult<Target> {
    match load_target(state, id).await? {
        Some(t) if staff.covers(t.domain_id) => Ok(t),
        Some(t) => {
            let actor = staff.actor();
            record(
                state,
                &Actor {
                    name: &actor,
                    ip: None,
                },
                "staff.view",
                result::REFUSED,
                Some(&t.username_key),
                Some(&t.state.domain),
                Some("outside the caller's domains"),
            )
            .await?;
            Err(AppError::NotFound)
        }
        None => Err(AppError::NotFound),
    }
}

async fn user_state(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UserState>> {
    Ok(Json(visible_target(&state, &staff, id).await?.state))
}

/// The checks every action makes, in order: scope (404), the target's role
/// (an LRA acts only on plain users; 403), a recent password entry (403
/// `reauth_required`), a reason (400).
async fn prepare_action(
    state: &AppState,
    staff: &Staff,
    id: i64,
    reason: &str,
) -> AppResult<(Target, String)> {
    let target = visible_target(state, staff, id).await?;
    if !staff.is_admin() && target.state.role != Role::User {
        return Err(AppError::Forbidden(
            "Only an administrator may act on a staff account.".to_owned(),
        ));
    }
    staff.require_fresh(state.now())?;
    let reason = valid_reason(reason)?;
    Ok((target, reason))
}

async fn reload(state: &AppState, id: i64) -> AppResult<UserState> {
    Ok(load_target(state, id)
        .await?
        .ok_or(AppError::NotFound)?
        .state)
}

/// Lifts a lock (and forgets the failed attempts).
pub async fn unlock_user(
    state: &AppState,
    target: &Target,
    actor: &Actor<'_>,
    kind: &str,
    reason: &str,
) -> AppResult<()> {
    let mut tx = state.db.pool.begin().await?;
    lockout::reset_in(&mut *tx, target.domain_id, &target.username_key).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(reason);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// A fresh temporary password (shown once): it must be changed at first use
/// and expires after `temp_password_hours`. Also lifts any lock and ends the
/// user's sessions. Returns `(password, expires_at)`.
pub async fn issue_temporary_password(
    state: &AppState,
    target: &Target,
    actor: &Actor<'_>,
    kind: &str,
    reason: &str,
) -> AppResult<(String, i64)> {
    let password = generate_temporary_password();
    let hash = state.hasher.ticket()?.hash(&password).await?;
    let now = state.now();
    let expires = now + state.config.temp_password_secs();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, temp_password = $3, \
         temp_password_expires_at = $4, must_change = $5 WHERE id = $6",
    )
    .bind(&hash)
    .bind(now)
    .bind(true)
    .bind(expires)
    .bind(false)
    .bind(target.state.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(target.state.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM failure_counters WHERE domain_id = $1 AND username_key = $2")
        .bind(target.domain_id)
        .bind(&target.username_key)
        .execute(&mut *tx)
        .await?;
    let ev = AuditEvent {
        kind,
        actor: Some(actor.name),
        subject: Some(&target.username_key),
        domain: Some(&target.state.domain),
        source_ip: actor.ip,
        result: result::SUCCESS,
        detail: Some(reason),
    };
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    Ok((password, expires))
}

async fn unlock(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let (target, reason) = prepare_action(&state, &staff, id, &req.reason).await?;
    let name = staff.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    unlock_user(&state, &target, &actor, kind::UNLOCK, &reason).await?;
    state.metrics.unlock(crate::metrics::Channel::Lra);
    Ok(Json(reload(&state, id).await?))
}

async fn temporary_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<TemporaryPasswordIssued>> {
    let (target, reason) = prepare_action(&state, &staff, id, &req.reason).await?;
    let name = staff.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let (temporary_password, expires_at) =
        issue_temporary_password(&state, &target, &actor, kind::TEMPORARY_PASSWORD, &reason)
            .await?;
    state.metrics.reset(crate::metrics::Channel::Lra);
    Ok(Json(TemporaryPasswordIssued {
        temporary_password,
        expires_at,
        user: reload(&state, id).await?,
    }))
}

async fn clear_enrolment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    let (target, reason) = prepare_action(&state, &staff, id, &req.reason).await?;
    let name = staff.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let mut tx = state.db.pool.begin().await?;
    users::clear_enrolment(&mut tx, id).await?;
    let ev = actor
        .did(kind::CLEAR_ENROLMENT)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&reason);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(reload(&state, id).await?))
}

async fn set_disabled(
    state: &AppState,
    ip: Option<String>,
    staff: &Staff,
    id: i64,
    reason: &str,
    disabled: bool,
) -> AppResult<Json<UserState>> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    if target.state.id == staff.user.user_id {
        return Err(AppError::BadRequest(
            "You cannot disable or enable your own account.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let name = staff.actor();
    let ev = AuditEvent {
        kind: if disabled {
            kind::DISABLE
        } else {
            kind::ENABLE
        },
        actor: Some(&name),
        subject: Some(&target.username_key),
        domain: Some(&target.state.domain),
        source_ip: ip.as_deref(),
        result: result::SUCCESS,
        detail: Some(&reason),
    };
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(reload(state, id).await?))
}

async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    set_disabled(&state, ip, &staff, id, &req.reason, true).await
}

async fn enable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StaffActionRequest>,
) -> AppResult<Json<UserState>> {
    set_disabled(&state, ip, &staff, id, &req.reason, false).await
}
