//! Staff roles from a directory's groups (`[directory_groups.<name>]`): at
//! each right password of a directory user (sign-in, the portal's check,
//! a re-entered password) their role is read from their membership, asked
//! of each group by the service account: a member of `admin_group_dn` is an
//! administrator, else a member of `lra_group_dn` an LRA of the domain they
//! signed in to, else a plain user. A change is written with its audit row
//! (`directory.role_sync`) in one transaction; no change writes nothing.
//! Without the section, roles are set in Latchkey as for local accounts.

use latchkey_shared::admin::Role;

use super::DirectoryStore;
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::db::users::{self, UserRecord};
use crate::db::Db;
use crate::directory::config::DirectoryGroups;
use crate::directory::{Directory, DirectoryError, DirectoryUser};
use crate::error::AppError;
use crate::state::AppState;

/// The role `user`'s groups in `directory` give.
async fn role_of(
    directory: &Directory,
    groups: &DirectoryGroups,
    user: &DirectoryUser,
) -> Result<Role, AppError> {
    if let Some(dn) = &groups.admin_group_dn {
        if directory.is_member(dn, user).await? {
            return Ok(Role::Admin);
        }
    }
    if let Some(dn) = &groups.lra_group_dn {
        if directory.is_member(dn, user).await? {
            return Ok(Role::Lra);
        }
    }
    Ok(Role::User)
}

/// Whether the person the directory entry `entry` is, is staff anywhere:
/// a row of Latchkey's with a staff role for the same entry in any domain
/// (two domains may share one directory), or for the same name with no
/// stable id yet in a directory-backed domain (a sign-in there would adopt
/// it), or, in any directory a domain uses whose groups give roles,
/// membership of a staff group now, the entry found there by its stable
/// id. A role that only a future sign-in would write counts already: an
/// LRA who could set such a person's password could sign in as them and be
/// given it. A directory that cannot answer makes this an error (503),
/// never a "no".
pub async fn is_staff_anywhere(
    state: &AppState,
    entry: &DirectoryUser,
    username_key: &str,
) -> Result<bool, AppError> {
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT u.role FROM users u JOIN domains d ON d.id = u.domain_id \
         WHERE u.directory_id = $1 \
            OR (u.directory_id IS NULL AND u.username_key = $2 \
                AND d.credential_store LIKE 'directory:%')",
    )
    .bind(&entry.id)
    .bind(username_key)
    .fetch_all(&state.db.pool)
    .await?;
    if roles.iter().any(|r| Role::parse(r).is_staff()) {
        return Ok(true);
    }
    let in_use: Vec<String> = sqlx::query_scalar("SELECT DISTINCT credential_store FROM domains")
        .fetch_all(&state.db.pool)
        .await?;
    for (name, groups) in &state.config.directory_groups {
        if !in_use.contains(&format!("directory:{name}")) {
            continue;
        }
        let Some(directory) = state.directories.get(name) else {
            continue;
        };
        let unavailable = |e: DirectoryError| AppError::DirectoryUnavailable(e.to_string());
        let Some(found) = directory.find_by_id(&entry.id).await.map_err(unavailable)? else {
            continue;
        };
        if role_of(directory, groups, &found)
            .await
            .map_err(|e| match e {
                AppError::DirectoryUnavailable(_) => e,
                other => AppError::DirectoryUnavailable(other.to_string()),
            })?
            .is_staff()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `account` with the role its directory groups give now.
pub(super) async fn sync_role(
    store: &DirectoryStore,
    db: &Db,
    groups: &DirectoryGroups,
    user: &DirectoryUser,
    account: UserRecord,
) -> Result<UserRecord, AppError> {
    let role = role_of(&store.directory, groups, user).await?;
    let domains = if role == Role::Lra {
        vec![store.domain_id]
    } else {
        Vec::new()
    };
    let before = Role::parse(&account.role);
    let domains_before = if before == Role::Lra {
        let mut ids: Vec<i64> = crate::accounts::staff::staff_domains(db, account.id)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    } else {
        Vec::new()
    };
    if role == before && domains == domains_before {
        return Ok(account);
    }
    let actor = format!("directory:{}", store.directory.name());
    let detail = format!(
        "{} -> {}{} (directory groups)",
        before.as_str(),
        role.as_str(),
        if role == Role::Lra {
            format!(" ({})", store.domain_slug)
        } else {
            String::new()
        }
    );
    let mut tx = db.pool.begin().await?;
    crate::accounts::staff::write_role(&mut tx, account.id, role, &domains).await?;
    let ev = AuditEvent::new(AuditKind::DirectoryRoleSync, AuditResult::Success)
        .actor(&actor)
        .subject(&account.username_key)
        .domain(&store.domain_slug)
        .detail(&detail);
    audit::record(&mut *tx, store.now, &ev).await?;
    tx.commit().await?;
    users::by_id(db, account.id)
        .await?
        .ok_or_else(|| AppError::internal("a directory user's row vanished"))
}
