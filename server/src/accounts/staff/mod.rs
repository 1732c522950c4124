//! What staff (an LRA, an administrator) and the command line do to an
//! account: re-enter their own password, find accounts, see one, unlock it,
//! issue a temporary password, clear its enrolment, disable or enable it,
//! change its role. Each change is one transaction with its audit row.
//!
//! Here: who the caller is ([`StaffScope`]), the target and the checks
//! every action makes ([`prepare_action`]); finding and showing accounts
//! is [`search`], the actions [`actions`], roles [`roles`].

use latchkey_shared::admin::{
    ReauthResponse, Role, UserState, MAX_REASON_CHARS, REAUTH_WINDOW_SECS,
};
use sqlx::{Any, Row, Transaction};

use crate::accounts::lockout::{LockState, LOCK_COLUMNS, LOCK_JOIN};
use crate::accounts::session::SessionUser;
use crate::accounts::store::Store;
use crate::accounts::verify_current_password;
use crate::audit::Actor;
use crate::audit::{self, AuditKind, AuditResult};
use crate::db::domains;
use crate::db::users::{self, UserRecord};
use crate::db::{Db, RowExt};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

mod actions;
mod roles;
mod search;

pub use actions::{
    act, clear_enrolment, end_sessions, issue_temporary_password, set_disabled, temporary_password,
    unlock, unlock_user, UserAction,
};
pub use roles::{change_role, domain_ids, update_role, write_role};
pub use search::{search, user_state, with_directory};

/// What a signed-in LRA or administrator may reach: their session, role,
/// the domains an LRA looks after, and when they last proved the password.
#[derive(Debug, Clone)]
pub struct StaffScope {
    pub user: SessionUser,
    pub role: Role,
    /// The domains an LRA looks after (unused for an administrator).
    pub domain_ids: Vec<i64>,
    /// When the session last proved the password.
    pub reauth_at: Option<i64>,
}

impl StaffScope {
    /// The scope of a signed-in person; 403 for anyone who is not staff.
    pub async fn of(state: &AppState, user: SessionUser) -> AppResult<Self> {
        if !user.role.is_staff() {
            return Err(AppError::Forbidden(
                "This page is for Local Registration Authorities and administrators.".to_owned(),
            ));
        }
        let domain_ids = if user.role == Role::Lra {
            staff_domains(&state.db, user.user_id)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
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
        Ok(Self {
            role: user.role,
            user,
            domain_ids,
            reauth_at,
        })
    }

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

/// The domains an LRA looks after, as (id, slug) by slug: the one read of
/// `staff_domains` (an administrator has none: they cover every domain).
pub async fn staff_domains(db: &Db, user_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT d.id, d.slug FROM staff_domains s JOIN domains d ON d.id = s.domain_id \
         WHERE s.user_id = $1 ORDER BY d.slug",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("slug")?)))
    .collect()
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

/// An account as staff see it, with what is needed to act on it.
#[derive(Debug, Clone)]
pub struct Target {
    pub state: UserState,
    pub domain_id: i64,
    pub username_key: String,
    pub password_hash: String,
}

/// The account `user_id` with its lock, enrolment and staff domains.
pub async fn load_target(state: &AppState, user_id: i64) -> Result<Option<Target>, AppError> {
    let row = sqlx::query(&format!(
        "SELECT u.id, u.username, u.username_key, u.display_name, u.email, u.password_hash, \
                u.password_changed_at, u.temp_password, u.temp_password_expires_at, u.must_change, \
                u.disabled, u.role, u.domain_id, \
                (SELECT MAX(a.created_at) FROM security_answers a WHERE a.user_id = u.id) AS enrolled_at, d.slug, d.name AS domain_name, \
                {LOCK_COLUMNS} \
         FROM users u {LOCK_JOIN} \
         WHERE u.id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let role = Role::parse(&row.try_get::<String, _>("role")?);
    let staff_domains = if role == Role::Lra {
        staff_domains(&state.db, user_id)
            .await?
            .into_iter()
            .map(|(_, slug)| slug)
            .collect()
    } else {
        Vec::new()
    };
    let lock = LockState::from_row(&row, &state.config, state.now())?;
    let enrolled_at: Option<i64> = row.try_get("enrolled_at")?;
    let temporary_password = row.flag("temp_password")?;
    let user = UserState {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        domain: row.try_get("slug")?,
        domain_name: row.try_get("domain_name")?,
        role,
        staff_domains,
        locked: lock.locked,
        locked_until: lock.locked_until,
        failed_attempts: lock.failed_attempts,
        enrolled: enrolled_at.is_some(),
        enrolled_at,
        temporary_password,
        temporary_password_expires_at: if temporary_password {
            row.try_get("temp_password_expires_at")?
        } else {
            None
        },
        must_change: row.flag("must_change")?,
        password_changed_at: row.try_get("password_changed_at")?,
        disabled: row.flag("disabled")?,
        directory: None,
    };
    Ok(Some(Target {
        state: user,
        domain_id: row.try_get("domain_id")?,
        username_key: row.try_get("username_key")?,
        password_hash: row.try_get("password_hash")?,
    }))
}

/// Staff re-enter their password (counted toward the lockout like a
/// sign-in): credential-changing actions need it within the last
/// [`REAUTH_WINDOW_SECS`].
pub async fn reauth(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    password: &str,
) -> AppResult<ReauthResponse> {
    let user = &staff.user;
    let domain = domains::by_id(&state.db, user.domain_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let account = users::by_id(&state.db, user.user_id)
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    let event = actor
        .event(AuditKind::StaffReauth, AuditResult::Success)
        .subject(&user.username_key)
        .domain(&domain.slug);
    drop(verify_current_password(state, &domain, &account, password, &event).await?);
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    mark_reauthenticated(&mut tx, &user.session_id, now).await?;
    audit::record(&mut *tx, now, &event).await?;
    tx.commit().await?;
    Ok(ReauthResponse {
        valid_until: now + REAUTH_WINDOW_SECS,
    })
}

async fn mark_reauthenticated(
    tx: &mut Transaction<'_, Any>,
    session_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET reauth_at = $1 WHERE id = $2")
        .bind(now)
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The account if the caller may see it; 404 otherwise (as if absent), and
/// an audit row for a look outside the caller's domains.
pub async fn visible_target(state: &AppState, staff: &StaffScope, id: i64) -> AppResult<Target> {
    match load_target(state, id).await? {
        Some(t) if staff.covers(t.domain_id) => Ok(t),
        Some(t) => {
            let actor = Actor::new(staff.actor(), None);
            let ev = actor
                .event(AuditKind::StaffView, AuditResult::Refused)
                .subject(&t.username_key)
                .domain(&t.state.domain)
                .detail("outside the caller's domains");
            audit::record(&state.db.pool, state.now(), &ev).await?;
            Err(AppError::NotFound)
        }
        None => Err(AppError::NotFound),
    }
}

/// The checks every staff action makes, in order: scope (404), the target's
/// role (an LRA acts only on plain users; 403), a recent password entry
/// (403 `reauth_required`), a reason (400).
pub async fn prepare_action(
    state: &AppState,
    staff: &StaffScope,
    id: i64,
    reason: &str,
) -> AppResult<(Target, String)> {
    let target = visible_target(state, staff, id).await?;
    if crate::accounts::store::directory::is_retired_key(&target.username_key) {
        return Err(AppError::Conflict(
            "This account's name now belongs to someone else in the directory: it can no longer be acted on."
                .to_owned(),
        ));
    }
    if !staff.is_admin() && is_staff_account(state, &target).await? {
        return Err(AppError::Forbidden(
            "Only an administrator may act on a staff account.".to_owned(),
        ));
    }
    staff.require_fresh(state.now())?;
    let reason = valid_reason(reason)?;
    Ok((target, reason))
}

/// Whether `target` is staff now: its row's role, or, on a
/// directory-backed domain, the role the same person has anywhere (see
/// [`crate::accounts::store::directory::roles::is_staff_anywhere`]), the person being the
/// entry the action itself would write to (`DirectoryStore::entry_of`):
/// not what Latchkey last wrote for this one row.
async fn is_staff_account(state: &AppState, target: &Target) -> AppResult<bool> {
    if target.state.role.is_staff() {
        return Ok(true);
    }
    let (account, store) = account_of(state, target).await?;
    let Store::Directory(store) = store else {
        return Ok(false);
    };
    let entry = store.entry_of(&account).await?;
    crate::accounts::store::directory::roles::is_staff_anywhere(
        state,
        &entry,
        &account.username_key,
    )
    .await
}

/// The account's state as staff see it now (with what its directory says).
pub async fn reload(state: &AppState, id: i64) -> AppResult<UserState> {
    let target = load_target(state, id).await?.ok_or(AppError::NotFound)?;
    with_directory(state, target.domain_id, target.state).await
}

async fn account_of(state: &AppState, target: &Target) -> AppResult<(UserRecord, Store)> {
    let account = users::by_id(&state.db, target.state.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let domain = domains::by_id(&state.db, target.domain_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((account, Store::for_domain(state, &domain)?))
}

/// Who acted, for the metrics: the command line or the console.
fn channel(kind: AuditKind) -> crate::metrics::Channel {
    match kind {
        AuditKind::CliUnlock | AuditKind::CliTemporaryPassword => crate::metrics::Channel::Cli,
        _ => crate::metrics::Channel::Lra,
    }
}
