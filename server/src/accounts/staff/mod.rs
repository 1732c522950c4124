//! What staff (an LRA, an administrator) and the command line do to an
//! account: re-enter their own password, find accounts, see one, unlock it,
//! issue a temporary password, clear its enrolment, disable or enable it,
//! change its role. Each change is one transaction with its audit row.

use latchkey_shared::admin::{
    messages, DirectoryAccount, ReauthResponse, Role, RoleUpdate, TemporaryPasswordIssued,
    UserSearchResponse, UserState, UserSummary, MAX_REASON_CHARS, REAUTH_WINDOW_SECS,
};
use sqlx::{Any, Row, Transaction};

use crate::accounts::lockout::{self, LockState, LOCK_COLUMNS, LOCK_JOIN};
use crate::accounts::session::SessionUser;
use crate::accounts::store::{
    CredentialStore, LocalStore, PasswordSet, SearchScope, Store, StoreKind, SEARCH_LIMIT,
};
use crate::accounts::verify_current_password;
use crate::audit::Actor;
use crate::audit::{self, AuditKind, AuditResult};
use crate::db::domains::{self, Domain};
use crate::db::users::{self, UserRecord};
use crate::db::{Db, RowExt};
use crate::directory::DirectoryError;
use crate::error::{AppError, AppResult};
use crate::mail::notices;
use crate::password::generate_temporary_password;
use crate::state::AppState;

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

/// The accounts whose name or display name contains `q`, in the caller's
/// domains: Latchkey's rows for a local domain, the directory itself for a
/// directory-backed one (a directory that does not answer is named in
/// `unavailable`, and its users Latchkey has seen are listed instead).
pub async fn search(
    state: &AppState,
    staff: &StaffScope,
    q: &str,
) -> AppResult<UserSearchResponse> {
    let now = state.now();
    let in_scope: Vec<Domain> = domains::all(&state.db)
        .await?
        .into_iter()
        .filter(|d| staff.covers(d.id))
        .collect();
    let local: Vec<i64> = in_scope
        .iter()
        .filter(|d| d.store == StoreKind::Local)
        .map(|d| d.id)
        .collect();
    let mut users = LocalStore
        .search(
            &state.db,
            &state.config,
            SearchScope::Domains(&local),
            q,
            now,
        )
        .await?;
    let mut unavailable = Vec::new();
    for domain in in_scope.iter().filter(|d| d.store != StoreKind::Local) {
        let found = match Store::for_domain(state, domain) {
            Ok(store) => {
                store
                    .search(&state.db, &state.config, SearchScope::Everyone, q, now)
                    .await
            }
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => users.extend(found),
            Err(e) => {
                tracing::warn!(domain = %domain.slug, error = %e, "directory search failed: listing known users");
                unavailable.push(messages::search_unavailable(&domain.name));
                let known = LocalStore
                    .search(
                        &state.db,
                        &state.config,
                        SearchScope::Domains(&[domain.id]),
                        q,
                        now,
                    )
                    .await?;
                // Latchkey's rows do not know when a directory password was
                // last set: say nothing rather than the row's own date.
                users.extend(known.into_iter().map(|u| UserSummary {
                    password_changed_at: None,
                    ..u
                }));
            }
        }
    }
    users.sort_by(|a, b| {
        (a.username.to_lowercase(), &a.domain).cmp(&(b.username.to_lowercase(), &b.domain))
    });
    let truncated = users.len() > SEARCH_LIMIT;
    users.truncate(SEARCH_LIMIT);
    Ok(UserSearchResponse {
        users,
        truncated,
        unavailable,
    })
}

/// What the directory of a directory-backed domain says about the account
/// now (its lock, when the password was last set), added to `user`: its
/// lock makes the account locked. A directory that does not answer is said
/// so; a local domain's account is left as it is.
pub async fn with_directory(
    state: &AppState,
    domain_id: i64,
    mut user: UserState,
) -> AppResult<UserState> {
    let Some(domain) = domains::by_id(&state.db, domain_id).await? else {
        return Ok(user);
    };
    let StoreKind::Directory(name) = &domain.store else {
        return Ok(user);
    };
    let Some(directory) = state.directories.get(name) else {
        user.directory = Some(DirectoryAccount::Unavailable {
            directory: name.clone(),
            reason: messages::missing_directory(name),
        });
        return Ok(user);
    };
    user.directory = Some(match directory.find_entry(&user.username).await {
        Ok(Some(entry)) => {
            let lock = crate::accounts::store::directory::search::lock_holder(&entry.user.lock);
            user.locked |= lock.is_some();
            if let Some(at) = entry.password_changed_at {
                user.password_changed_at = at;
            }
            DirectoryAccount::Found {
                directory: name.clone(),
                lock,
                password_changed_at: entry.password_changed_at,
                must_change: entry.user.must_change,
            }
        }
        Ok(None) => DirectoryAccount::NotFound {
            directory: name.clone(),
        },
        Err(e) => DirectoryAccount::Unavailable {
            directory: name.clone(),
            reason: match e {
                DirectoryError::Unavailable(_, why) => {
                    messages::directory_not_answering(name, &why)
                }
                DirectoryError::NotAllowed(_, why) => messages::directory_refused(name, &why),
                DirectoryError::Unexpected(_, why) => messages::directory_unexpected(name, &why),
            },
        },
    });
    Ok(user)
}

/// The account `id` as the caller may see it (404 otherwise), with what its
/// directory says.
pub async fn user_state(state: &AppState, staff: &StaffScope, id: i64) -> AppResult<UserState> {
    let target = visible_target(state, staff, id).await?;
    with_directory(state, target.domain_id, target.state).await
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

/// Lifts a lock: Latchkey's failure counter and the store's own lock, with
/// the audit row, in one transaction.
pub async fn unlock(
    state: &AppState,
    target: &Target,
    actor: &Actor,
    kind: AuditKind,
    reason: &str,
) -> AppResult<()> {
    let (account, store) = account_of(state, target).await?;
    store.lift_lock(&account).await?;
    let mut tx = state.db.pool.begin().await?;
    lockout::reset_in(&mut *tx, target.domain_id, &target.username_key).await?;
    clear_code_failures(&mut tx, target).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(reason);
    notices::record(&mut tx, &state.config, state.now(), &ev).await?;
    tx.commit().await?;
    state.metrics.unlock(channel(kind));
    Ok(())
}

/// A fresh temporary password (shown once): it must be changed at first use
/// and expires after `temp_password_hours`. Also lifts any lock and ends the
/// user's sessions. Returns `(password, expires_at)`.
pub async fn issue_temporary_password(
    state: &AppState,
    target: &Target,
    actor: &Actor,
    kind: AuditKind,
    reason: &str,
) -> AppResult<(String, i64)> {
    let (account, store) = account_of(state, target).await?;
    let password = generate_temporary_password();
    let new = store
        .prepare(&state.hasher.ticket()?, &password, None)
        .await?;
    let now = state.now();
    let expires_at = now + state.config.temp_password_secs();
    let how = PasswordSet::Temporary { expires_at };
    // The store's own work (a directory's) before the transaction opens.
    let written = store
        .write_password(&account, &new, how)
        .await?
        .ok_or_else(|| AppError::internal("a temporary password refused as a wrong one"))?;
    store.lift_lock(&account).await?;
    let mut tx = state.db.pool.begin().await?;
    store
        .store_password(&mut tx, written, &account, how, 0, now)
        .await?;
    end_sessions(&mut tx, account.id).await?;
    lockout::reset_in(&mut *tx, target.domain_id, &target.username_key).await?;
    clear_code_failures(&mut tx, target).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(reason);
    notices::record(&mut tx, &state.config, now, &ev).await?;
    tx.commit().await?;
    state.metrics.reset(channel(kind));
    Ok((password, expires_at))
}

/// [`issue_temporary_password`] for a staff member, answered with the
/// account's new state.
pub async fn temporary_password(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<TemporaryPasswordIssued> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    let (temporary_password, expires_at) = issue_temporary_password(
        state,
        &target,
        actor,
        AuditKind::StaffTemporaryPassword,
        &reason,
    )
    .await?;
    Ok(TemporaryPasswordIssued {
        temporary_password,
        expires_at,
        user: reload(state, id).await?,
    })
}

/// The Help Desk vouched for the person: a self-service stopped by wrong
/// codes starts again (in the caller's transaction).
async fn clear_code_failures(
    tx: &mut Transaction<'_, Any>,
    target: &Target,
) -> Result<(), sqlx::Error> {
    crate::accounts::self_service::checks::clear_code_failures(
        &mut **tx,
        target.domain_id,
        &target.username_key,
    )
    .await
}

/// Ends every session of the user (in the caller's transaction).
pub async fn end_sessions(tx: &mut Transaction<'_, Any>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The user must enrol again: their answers are deleted.
pub async fn clear_enrolment(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    let mut tx = state.db.pool.begin().await?;
    users::clear_enrolment(&mut tx, id).await?;
    clear_code_failures(&mut tx, &target).await?;
    let ev = actor
        .did(AuditKind::StaffClearEnrolment)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&reason);
    notices::record(&mut tx, &state.config, state.now(), &ev).await?;
    tx.commit().await?;
    reload(state, id).await
}

/// A staff action on an account that answers with the account's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Unlock,
    ClearEnrolment,
    Disable,
    Enable,
}

/// `action` on the account `id` by a staff member, after
/// [`prepare_action`]'s checks; the account's state after it.
pub async fn act(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
    action: UserAction,
) -> AppResult<UserState> {
    match action {
        UserAction::Unlock => unlock_user(state, staff, actor, id, reason).await,
        UserAction::ClearEnrolment => clear_enrolment(state, staff, actor, id, reason).await,
        UserAction::Disable => set_disabled(state, staff, actor, id, reason, true).await,
        UserAction::Enable => set_disabled(state, staff, actor, id, reason, false).await,
    }
}

/// [`unlock`] by a staff member.
pub async fn unlock_user(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    unlock(state, &target, actor, AuditKind::StaffUnlock, &reason).await?;
    reload(state, id).await
}

/// Disables (ending the sessions) or enables an account.
pub async fn set_disabled(
    state: &AppState,
    staff: &StaffScope,
    actor: &Actor,
    id: i64,
    reason: &str,
    disabled: bool,
) -> AppResult<UserState> {
    let (target, reason) = prepare_action(state, staff, id, reason).await?;
    if target.state.id == staff.user.user_id {
        return Err(AppError::BadRequest(
            "You cannot disable or enable your own account.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    write_disabled(&mut tx, id, disabled).await?;
    if disabled {
        end_sessions(&mut tx, id).await?;
    }
    let kind = if disabled {
        AuditKind::StaffDisable
    } else {
        AuditKind::StaffEnable
    };
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&reason);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    reload(state, id).await
}

async fn write_disabled(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    disabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a user's role (and an LRA's domains) in `tx`.
pub async fn write_role(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    role: Role,
    domain_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM staff_domains WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    if role == Role::Lra {
        for d in domain_ids {
            sqlx::query("INSERT INTO staff_domains (user_id, domain_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(d)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The ids of the domains named by `slugs`; the first unknown one is named
/// in the error.
pub async fn domain_ids(state: &AppState, slugs: &[String]) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(slugs.len());
    for slug in slugs {
        let d = domains::by_slug(&state.db, slug)
            .await?
            .ok_or_else(|| AppError::BadRequest(format!("There is no domain {slug:?}.")))?;
        ids.push(d.id);
    }
    Ok(ids)
}

/// Gives `target` the role `role` (an LRA: for `lra_domains`), with its
/// audit row, in one transaction.
pub async fn change_role(
    state: &AppState,
    target: &Target,
    actor: &Actor,
    kind: AuditKind,
    role: Role,
    lra_domains: &[String],
    reason: Option<&str>,
) -> AppResult<()> {
    refuse_if_roles_from_groups(state, target.domain_id).await?;
    let ids = if role == Role::Lra {
        if lra_domains.is_empty() {
            return Err(AppError::BadRequest(
                "Choose at least one domain for the Local Registration Authority.".to_owned(),
            ));
        }
        domain_ids(state, lra_domains).await?
    } else {
        Vec::new()
    };
    let mut detail = format!("{} -> {}", target.state.role.as_str(), role.as_str());
    if role == Role::Lra {
        detail.push_str(&format!(" ({})", lra_domains.join(",")));
    }
    if let Some(reason) = reason {
        detail.push_str(&format!(": {reason}"));
    }
    let mut tx = state.db.pool.begin().await?;
    write_role(&mut tx, target.state.id, role, &ids).await?;
    let ev = actor
        .did(kind)
        .subject(&target.username_key)
        .domain(&target.state.domain)
        .detail(&detail);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// A 409 when the account's domain takes its roles from its directory's
/// groups: a role set here would be undone at the next sign-in.
async fn refuse_if_roles_from_groups(state: &AppState, domain_id: i64) -> AppResult<()> {
    let domain = domains::by_id(&state.db, domain_id)
        .await?
        .ok_or(AppError::NotFound)?;
    match &domain.store {
        StoreKind::Directory(name) if state.config.directory_groups.contains_key(name) => {
            Err(AppError::Conflict(messages::role_from_groups(name)))
        }
        _ => Ok(()),
    }
}

/// An administrator changes someone else's role.
pub async fn update_role(
    state: &AppState,
    admin: &StaffScope,
    actor: &Actor,
    id: i64,
    req: &RoleUpdate,
) -> AppResult<UserState> {
    let target = load_target(state, id).await?.ok_or(AppError::NotFound)?;
    admin.require_fresh(state.now())?;
    let reason = valid_reason(&req.reason)?;
    if id == admin.user.user_id {
        return Err(AppError::BadRequest(
            "You cannot change your own role.".to_owned(),
        ));
    }
    change_role(
        state,
        &target,
        actor,
        AuditKind::AdminRoleChange,
        req.role,
        &req.domains,
        Some(&reason),
    )
    .await?;
    reload(state, id).await
}
