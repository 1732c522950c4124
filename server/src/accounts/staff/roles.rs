//! Roles: an administrator (or the command line) makes someone an LRA for
//! some domains, an administrator or a plain user.

use latchkey_shared::admin::{messages, Role, RoleUpdate, UserState};
use sqlx::{Any, Transaction};

use crate::accounts::store::StoreKind;
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::domains;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

use super::*;

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
