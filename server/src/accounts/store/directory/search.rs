//! The LRA's search on a directory-backed domain: the directory is
//! searched (user name or display name containing the query, escaped,
//! limited, as the service account) and every account it lists gets a row
//! of Latchkey's (found by the directory's stable id, or by name, or
//! created), so it has an id to act on even if it never signed in. What is
//! shown comes from the directory (name, display name, mail, its own lock,
//! when the password was last set) and from Latchkey (its lock, role,
//! disabled).

use latchkey_shared::admin::{LockHolder, Role, UserSummary};
use sqlx::{Any, Row, Transaction};

use super::{shadow_row, DirectoryStore};
use crate::accounts::lockout::{LockState, LockoutPolicy};
use crate::accounts::store::SEARCH_LIMIT;
use crate::db::domains;
use crate::db::{Db, RowExt};
use crate::directory::search::DirectoryEntry;
use crate::directory::DirectoryLock;
use crate::error::AppError;

/// The directory's lock as the console names it.
pub(crate) fn lock_holder(lock: &DirectoryLock) -> Option<LockHolder> {
    match lock {
        DirectoryLock::None => None,
        DirectoryLock::Locked => Some(LockHolder::Directory),
        DirectoryLock::Permanent => Some(LockHolder::DirectoryAdministrator),
    }
}

/// At most [`SEARCH_LIMIT`] + 1 accounts: the directory is asked for that
/// many, so the caller tells there were more.
pub(super) async fn search(
    store: &DirectoryStore,
    db: &Db,
    config: &crate::config::Config,
    query: &str,
    now: i64,
) -> Result<Vec<UserSummary>, AppError> {
    let domain = domains::by_id(db, store.domain_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let found = store
        .directory
        .search_users(query, SEARCH_LIMIT + 1)
        .await?;
    let policy = LockoutPolicy::of(&domain, config);
    let mut users = Vec::with_capacity(found.entries.len());
    let mut tx = db.pool.begin().await?;
    for entry in &found.entries {
        // A directory name Latchkey cannot use is not listed (its sign-in
        // is refused with a message too).
        let Some(name) = super::usable_name(&entry.user.username) else {
            continue;
        };
        let row = keep_row(&mut tx, store, &name, entry).await?;
        let latchkey = LockState::of(
            policy,
            row.try_get("failed_count")?,
            row.try_get("locked_at")?,
            now,
        );
        let directory_lock = lock_holder(&entry.user.lock);
        let lock = match directory_lock {
            Some(LockHolder::DirectoryAdministrator) => directory_lock,
            _ if latchkey.locked => Some(LockHolder::Latchkey),
            _ => directory_lock,
        };
        users.push(UserSummary {
            id: row.try_get("id")?,
            username: name.as_str().to_owned(),
            display_name: entry.user.display_name.clone(),
            domain: domain.slug.clone(),
            domain_name: domain.name.clone(),
            role: Role::parse(&row.try_get::<String, _>("role")?),
            locked: lock.is_some(),
            disabled: row.flag("disabled")?,
            email: entry.user.mail.clone(),
            lock,
            password_changed_at: entry.password_changed_at,
        });
    }
    tx.commit().await?;
    Ok(users)
}

/// The row Latchkey keeps for a listed account ([`shadow_row`]), with its
/// role and Latchkey's lock.
async fn keep_row(
    tx: &mut Transaction<'_, Any>,
    store: &DirectoryStore,
    name: &latchkey_shared::Username,
    entry: &DirectoryEntry,
) -> Result<sqlx::any::AnyRow, AppError> {
    let id = shadow_row(tx, store, name, &entry.user, entry.password_changed_at).await?;
    Ok(sqlx::query(
        "SELECT u.id, u.role, u.disabled, f.failed_count, f.locked_at FROM users u \
         LEFT JOIN failure_counters f ON f.domain_id = u.domain_id AND f.username_key = u.username_key \
         WHERE u.id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?)
}
