//! Staff roles, enforced on every request: the [`Staff`] extractor (an LRA or
//! an administrator with a full session) and [`AdminOnly`], and the same
//! with the caller as the audit trail's [`Actor`] ([`StaffCaller`],
//! [`AdminCaller`]); the scope of an
//! LRA (the domains in `staff_domains`); the re-authentication window for
//! credential-changing actions. What staff may do is in
//! [`crate::accounts::staff`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_shared::admin::{Role, MAX_REASON_CHARS, REAUTH_WINDOW_SECS};
use sqlx::Row;

use crate::accounts::Actor;
use crate::error::AppError;
use crate::extract::{Acting, Caller};
use crate::session::{SessionUser, SignedIn};
use crate::state::AppState;

/// A signed-in LRA or administrator (full session, not a temporary password).
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: SessionUser,
    pub role: Role,
    /// The domains an LRA looks after (unused for an administrator).
    pub domain_ids: Vec<i64>,
    /// When the session last proved the password.
    pub reauth_at: Option<i64>,
}

impl Staff {
    /// `username@domain`, as the audit log's actor.
    pub fn actor(&self) -> String {
        format!("{}@{}", self.user.username_key, self.user.domain_slug)
    }

    /// This person as the actor of an operation, from `ip`.
    pub fn as_actor(&self, ip: Option<String>) -> Actor {
        Actor::new(self.actor(), ip)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this person may see and act on users of `domain_id`.
    pub fn covers(&self, domain_id: i64) -> bool {
        self.is_admin() || self.domain_ids.contains(&domain_id)
    }

    /// Refuses unless the password was entered within the last 5 minutes.
    pub fn require_fresh(&self, now: i64) -> Result<(), AppError> {
        match self.reauth_at {
            Some(t) if now - t < REAUTH_WINDOW_SECS && now >= t => Ok(()),
            _ => Err(AppError::ReauthRequired),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if !user.role.is_staff() {
            return Err(AppError::Forbidden(
                "This page is for Local Registration Authorities and administrators.".to_owned(),
            ));
        }
        let domain_ids = if user.role == Role::Lra {
            sqlx::query("SELECT domain_id FROM staff_domains WHERE user_id = $1")
                .bind(user.user_id)
                .fetch_all(&state.db.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("domain_id"))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let reauth_at: Option<i64> = sqlx::query("SELECT reauth_at FROM sessions WHERE id = $1")
            .bind(&user.session_id)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|r| r.try_get("reauth_at"))
            .transpose()?
            .flatten();
        Ok(Staff {
            role: user.role,
            user,
            domain_ids,
            reauth_at,
        })
    }
}

/// An administrator; anyone else gets 403.
#[derive(Debug, Clone)]
pub struct AdminOnly(pub Staff);

impl FromRequestParts<AppState> for AdminOnly {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if !staff.is_admin() {
            return Err(AppError::Forbidden(
                "Only an administrator may do this.".to_owned(),
            ));
        }
        Ok(AdminOnly(staff))
    }
}

/// A staff member with the state and their audit actor: `Caller { who: staff, .. }`.
pub type StaffCaller = Caller<Staff>;
/// An administrator with the state and their audit actor.
pub type AdminCaller = Caller<AdminOnly>;

impl Acting for Staff {
    fn actor_name(&self) -> String {
        self.actor()
    }
}

impl Acting for AdminOnly {
    fn actor_name(&self) -> String {
        self.0.actor()
    }
}

/// A reason: 1-500 characters once trimmed.
pub fn valid_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadRequest(
            "Give a reason for this action; it is recorded in the audit log.".to_owned(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::BadRequest(format!(
            "The reason is too long (at most {MAX_REASON_CHARS} characters)."
        )));
    }
    Ok(reason.to_owned())
}
