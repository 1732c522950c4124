//! Finding accounts and showing one, with what its directory says now.

use latchkey_shared::admin::{
    messages, DirectoryAccount, UserSearchResponse, UserState, UserSummary,
};

use crate::accounts::store::{
    CredentialStore, LocalStore, SearchScope, Store, StoreKind, SEARCH_LIMIT,
};
use crate::db::domains::{self, Domain};
use crate::directory::DirectoryError;
use crate::error::AppResult;
use crate::state::AppState;

use super::*;

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
