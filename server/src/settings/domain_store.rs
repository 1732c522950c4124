//! Where a domain's passwords live (`local`, or a directory connection of
//! the configuration): the console's view of it, with the directory's own
//! password policy beside the domain's and the warnings where they
//! disagree, and the one operation that moves a domain to another store,
//! for the console and `latchkey domain store` alike. A directory that is
//! down is said so in the view, never a 500.

use latchkey_shared::admin::{
    directory_warnings, messages, DirectoryInfo, DirectoryPolicyReport, DomainStore, StoreUpdate,
};

use crate::accounts::lockout::LockoutPolicy;
use crate::accounts::staff::StaffScope;
use crate::accounts::store::StoreKind;
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::domains::{self, Domain};
use crate::directory::DirectoryError;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The directory connections of the configuration, by name.
pub fn directories(state: &AppState) -> Vec<DirectoryInfo> {
    state
        .directories
        .iter()
        .map(|(name, d)| info(state, name, d.config().kind))
        .collect()
}

fn info(
    state: &AppState,
    name: &str,
    kind: latchkey_shared::admin::DirectoryKind,
) -> DirectoryInfo {
    DirectoryInfo {
        name: name.to_owned(),
        kind,
        roles_from_groups: state.config.directory_groups.contains_key(name),
    }
}

/// The store of the domain `slug`, what it may be set to and, for a
/// directory, its policy and the warnings.
pub async fn view(state: &AppState, slug: &str) -> AppResult<DomainStore> {
    let domain = domains::by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(view_of(state, &domain).await)
}

async fn view_of(state: &AppState, domain: &Domain) -> DomainStore {
    let directory = match &domain.store {
        StoreKind::Local => None,
        StoreKind::Directory(name) => Some(report(state, domain, name).await),
    };
    DomainStore {
        store: domain.store.to_column(),
        directories: directories(state),
        directory,
    }
}

/// The directory `name` of `domain`: its policy read now, and where the
/// domain's rules are weaker or conflict.
async fn report(state: &AppState, domain: &Domain, name: &str) -> DirectoryPolicyReport {
    let Some(directory) = state.directories.get(name) else {
        return DirectoryPolicyReport {
            directory: DirectoryInfo {
                name: name.to_owned(),
                kind: latchkey_shared::admin::DirectoryKind::Ldap,
                roles_from_groups: false,
            },
            policy: None,
            unavailable: Some(messages::missing_directory(name)),
            warnings: Vec::new(),
        };
    };
    let info = info(state, name, directory.config().kind);
    let (policy, unavailable) = match directory.policy().await {
        Ok(Some(policy)) => (Some(policy), None),
        Ok(None) => (None, Some(messages::NO_POLICY_ENTRY.to_owned())),
        Err(DirectoryError::Unavailable(_, why)) => {
            (None, Some(messages::directory_down(name, &why)))
        }
        Err(DirectoryError::NotAllowed(_, why)) => {
            (None, Some(messages::directory_refused(name, &why)))
        }
        Err(DirectoryError::Unexpected(_, why)) => {
            (None, Some(messages::directory_unexpected(name, &why)))
        }
    };
    let lockout = LockoutPolicy::of(domain, &state.config);
    let warnings = policy.as_ref().map_or_else(Vec::new, |p| {
        directory_warnings(&domain.policy, lockout.threshold, lockout.lock_secs / 60, p)
    });
    DirectoryPolicyReport {
        directory: info,
        policy,
        unavailable,
        warnings,
    }
}

/// `text` as a store this configuration has: `local`, or one of its
/// directories; a 400 that says what there is otherwise.
pub fn parse_store(state: &AppState, text: &str) -> AppResult<StoreKind> {
    let store = StoreKind::parse(text.trim())
        .ok_or_else(|| AppError::BadRequest(messages::BAD_STORE.to_owned()))?;
    if let StoreKind::Directory(name) = &store {
        if !state.directories.contains_key(name) {
            let known: Vec<String> = state.directories.keys().cloned().collect();
            return Err(AppError::BadRequest(messages::unknown_directory(
                name, &known,
            )));
        }
    }
    Ok(store)
}

/// Makes `domain` keep its passwords in `store`, with the audit row (`kind`:
/// the console's or the command line's) in the same transaction. Setting
/// the store it has changes nothing and records nothing.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    kind: AuditKind,
    domain: &Domain,
    store: &StoreKind,
) -> AppResult<()> {
    if let StoreKind::Directory(name) = store {
        if !state.directories.contains_key(name) {
            let known: Vec<String> = state.directories.keys().cloned().collect();
            return Err(AppError::BadRequest(messages::unknown_directory(
                name, &known,
            )));
        }
    }
    if *store == domain.store {
        return Ok(());
    }
    let detail = format!("{} -> {}", domain.store.to_column(), store.to_column());
    let mut tx = state.db.pool.begin().await?;
    write_store(&mut tx, domain.id, &store.to_column()).await?;
    let ev = actor.did(kind).domain(&domain.slug).detail(&detail);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The console's change: a recent password entry, then [`set`]; the new
/// view.
pub async fn update(
    state: &AppState,
    admin: &StaffScope,
    actor: &Actor,
    slug: &str,
    req: &StoreUpdate,
) -> AppResult<DomainStore> {
    let domain = domains::by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    admin.require_fresh(state.now())?;
    let store = parse_store(state, &req.store)?;
    set(state, actor, AuditKind::AdminDomainStore, &domain, &store).await?;
    let domain = domains::by_id(&state.db, domain.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(view_of(state, &domain).await)
}

async fn write_store(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    domain_id: i64,
    column: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE domains SET credential_store = $1 WHERE id = $2")
        .bind(column)
        .bind(domain_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
