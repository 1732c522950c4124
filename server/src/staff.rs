//! Staff roles, enforced on every request: the [`Staff`] extractor (an LRA or
//! an administrator with a full session) and [`AdminOnly`], and the same
//! with the caller as the audit trail's actor ([`StaffCaller`],
//! [`AdminCaller`]). Each reads the caller's [`StaffScope`] (role, an LRA's
//! domains, the last re-authentication); what staff may do with it is in
//! [`crate::accounts::staff`], which never sees this module.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_shared::admin::Role;
use sqlx::Row;

use crate::accounts::staff::StaffScope;
use crate::error::AppError;
use crate::extract::{Acting, Caller};
use crate::session::SignedIn;
use crate::state::AppState;

/// A signed-in LRA or administrator (full session, not a temporary
/// password): the HTTP side of [`StaffScope`], which is what the service
/// layer takes.
#[derive(Debug, Clone)]
pub struct Staff(pub StaffScope);

impl std::ops::Deref for Staff {
    type Target = StaffScope;

    fn deref(&self) -> &StaffScope {
        &self.0
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
        Ok(Staff(StaffScope {
            role: user.role,
            user,
            domain_ids,
            reauth_at,
        }))
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
