//! A domain whose passwords live in a directory ([`crate::directory`]).
//! Latchkey keeps, per directory user, only what is its own (enrolment,
//! counters, sessions, role, audit) in a `users` row keyed by the
//! directory's stable id, created at the first right password and refreshed
//! at each; its `password_hash` is empty: no directory password or hash is
//! ever stored.
//!
//! What a directory does itself stays its own: its history and quality
//! rules judge a change made as the user, its lock is read and lifted, and
//! a temporary password must be changed at the next bind anywhere.

pub(crate) mod roles;
pub(crate) mod search;

use std::sync::Arc;

use latchkey_shared::admin::UserSummary;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Any, Row, Transaction};

use super::{CredentialStore, NewCredential, PasswordSet, SearchScope, Verified, Written};
use crate::audit::{self, AuditEvent, AuditKind, AuditResult};
use crate::db::users::{self, UserRecord};
use crate::db::Db;
use crate::directory::config::DirectoryGroups;
use crate::directory::{
    BindOutcome, ChangeOutcome, Directory, DirectoryError, DirectoryLock, DirectoryUser,
};
use crate::error::AppError;
use crate::password::HashTicket;

pub struct DirectoryStore {
    pub(super) directory: Arc<Directory>,
    pub(super) domain_id: i64,
    /// The request's time (the app's clock), for the rows it writes.
    pub(super) now: i64,
    pub(super) domain_slug: String,
    /// Staff roles from the directory's groups, when configured.
    pub(super) groups: Option<DirectoryGroups>,
}

impl From<DirectoryError> for AppError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Unavailable(..) => AppError::DirectoryUnavailable(e.to_string()),
            other => AppError::internal(other.to_string()),
        }
    }
}

impl DirectoryStore {
    /// The directory's entry of an account Latchkey keeps: the entry with
    /// the row's stable id, whatever its name is now, so that nothing done
    /// for this row reaches anyone else (a person given the name of a
    /// deleted one, an entry renamed onto it). A row with no stable id yet
    /// (kept before the domain moved to the directory) is the entry with
    /// its name, which a sign-in would adopt; a retired row is no one's.
    pub(crate) async fn entry_of(&self, account: &UserRecord) -> Result<DirectoryUser, AppError> {
        let gone = || {
            AppError::BadRequest(
                "This account is no longer in your organisation's directory. Call the Help Desk."
                    .to_owned(),
            )
        };
        if is_retired_key(&account.username_key) {
            return Err(gone());
        }
        let entry = match &account.directory_id {
            Some(id) => self.directory.find_by_id(id).await?,
            None => self.directory.find_user(&account.username).await?,
        };
        entry.ok_or_else(gone)
    }
}

/// The row Latchkey keeps for `user`, refreshed from the directory or
/// created, with its own transaction. Its `must_change` is Latchkey's own
/// (an administrator's mandatory reset) and is left as it is: the
/// directory's flag is read at each sign-in, never copied.
async fn upsert_shadow(
    store: &DirectoryStore,
    db: &Db,
    user: &DirectoryUser,
) -> Result<UserRecord, AppError> {
    let name = usable_name(&user.username).ok_or_else(|| {
        AppError::BadRequest(
            "Your directory user name cannot be used here. Call the Help Desk.".to_owned(),
        )
    })?;
    let mut tx = db.pool.begin().await?;
    let id = shadow_row(&mut tx, store, &name, user, None).await?;
    tx.commit().await?;
    users::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::internal("a directory user's row vanished"))
}

/// The directory's user name as Latchkey keys it, if it can be one: a
/// valid user name that normalisation leaves as it is. Two entries whose
/// names differ only in a form NFKC folds (`ｂｏｂ` and `bob`) would share a
/// key and retire each other's rows at every sign-in; neither is used.
pub(super) fn usable_name(directory_name: &str) -> Option<latchkey_shared::Username> {
    latchkey_shared::Username::parse(directory_name)
        .ok()
        .filter(|name| name.as_str() == directory_name)
}

/// The id of the row Latchkey keeps for the directory's `user`, known as
/// `name`, written in `tx`:
///
/// - the row keyed by the entry's stable id, renamed if the directory
///   renamed it (and brought back if it had been retired: the same entry,
///   restored, is the same person);
/// - else a row with that name and no stable id yet (an account Latchkey
///   kept before the domain moved to the directory), which it adopts;
/// - else a new row.
///
/// A row holding the name for another stable id belongs to someone else (a
/// person deleted and the name given to someone new, or another entry
/// renamed onto it): it is retired first ([`retire`]), never re-keyed,
/// since its enrolment, factors and role are that other person's.
///
/// `password_changed_at`: when the directory says the password was set, if
/// it says (kept otherwise).
pub(super) async fn shadow_row(
    tx: &mut Transaction<'_, Any>,
    store: &DirectoryStore,
    name: &latchkey_shared::Username,
    user: &DirectoryUser,
    password_changed_at: Option<i64>,
) -> Result<i64, AppError> {
    let key = name.key();
    // Twice at most: on PostgreSQL a parallel first sign-in of the same new
    // person can insert between the reads and the insert (SQLite's one
    // writer connection serialises them).
    for _ in 0..2 {
        let mine = row_of_entry(tx, store.domain_id, &user.id).await?;
        if let Some((holder, holder_entry)) = holder_of(tx, store.domain_id, &key).await? {
            let adoptable = mine.is_none() && holder_entry.is_none();
            if Some(holder) != mine && !adoptable {
                retire(tx, store, holder, &key).await?;
            }
        }
        let id = match mine {
            Some(id) => Some(id),
            None => adopt_by_name(tx, store.domain_id, &key, &user.id).await?,
        };
        if let Some(id) = id {
            refresh_row(tx, id, name, user, password_changed_at).await?;
            return Ok(id);
        }
        if let Some(id) = insert_row(
            tx,
            store,
            name,
            user,
            password_changed_at.unwrap_or(store.now),
        )
        .await?
        {
            return Ok(id);
        }
    }
    Err(AppError::internal(
        "a directory user's row changed twice while being written",
    ))
}

async fn row_of_entry(
    tx: &mut Transaction<'_, Any>,
    domain_id: i64,
    directory_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE domain_id = $1 AND directory_id = $2")
        .bind(domain_id)
        .bind(directory_id)
        .fetch_optional(&mut **tx)
        .await
}

/// The row holding the name key `key`, and the stable id it is keyed by.
async fn holder_of(
    tx: &mut Transaction<'_, Any>,
    domain_id: i64,
    key: &str,
) -> Result<Option<(i64, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, directory_id FROM users WHERE domain_id = $1 AND username_key = $2",
    )
    .bind(domain_id)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("directory_id")?)))
        .transpose()
}

/// Keys the row that holds `key` and no stable id to `directory_id`.
async fn adopt_by_name(
    tx: &mut Transaction<'_, Any>,
    domain_id: i64,
    key: &str,
    directory_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE users SET directory_id = $1 \
         WHERE domain_id = $2 AND username_key = $3 AND directory_id IS NULL RETURNING id",
    )
    .bind(directory_id)
    .bind(domain_id)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
}

async fn refresh_row(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    name: &latchkey_shared::Username,
    user: &DirectoryUser,
    password_changed_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET username = $1, username_key = $2, display_name = $3, email = $4, \
         password_changed_at = COALESCE($5, password_changed_at), retired_at = NULL \
         WHERE id = $6",
    )
    .bind(name.as_str())
    .bind(name.key())
    .bind(&user.display_name)
    .bind(user.mail.as_deref())
    .bind(password_changed_at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A new row; `None` when a parallel writer took the name or the entry first.
async fn insert_row(
    tx: &mut Transaction<'_, Any>,
    store: &DirectoryStore,
    name: &latchkey_shared::Username,
    user: &DirectoryUser,
    password_changed_at: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (domain_id, username, username_key, display_name, email, \
         password_hash, password_changed_at, must_change, role, created_at, directory_id) \
         VALUES ($1, $2, $3, $4, $5, '', $6, $7, 'user', $8, $9) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(store.domain_id)
    .bind(name.as_str())
    .bind(name.key())
    .bind(&user.display_name)
    .bind(user.mail.as_deref())
    .bind(password_changed_at)
    // Latchkey's own demand only; the directory's flag is read at sign-in.
    .bind(false)
    .bind(store.now)
    .bind(&user.id)
    .fetch_optional(&mut **tx)
    .await
}

/// The name key a retired row is given: no user name can contain `#`, so
/// no sign-in, search or flow finds it by name again.
fn retired_key(id: i64) -> String {
    format!("#retired:{id}")
}

/// Whether `key` is a retired row's ([`retired_key`]).
pub(crate) fn is_retired_key(key: &str) -> bool {
    key.starts_with("#retired:")
}

/// Sets the row `id` apart from the name `key`, which now belongs to
/// another directory entry: its name key becomes [`retired_key`], its
/// sessions end, and an audit row says so. Everything else it holds stays
/// with it, out of reach of whoever has the name now.
async fn retire(
    tx: &mut Transaction<'_, Any>,
    store: &DirectoryStore,
    id: i64,
    key: &str,
) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET username_key = $1, retired_at = $2 WHERE id = $3")
        .bind(retired_key(id))
        .bind(store.now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    crate::accounts::staff::end_sessions(tx, id).await?;
    // A flow already under way for the old row ends too: its answers and
    // factors are the old person's.
    sqlx::query("DELETE FROM self_service_flows WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let actor = format!("directory:{}", store.directory.name());
    let ev = AuditEvent::new(AuditKind::DirectoryIdentityRetired, AuditResult::Success)
        .actor(&actor)
        .subject(key)
        .domain(&store.domain_slug)
        .detail("the name now belongs to another directory entry: the old row is kept apart");
    audit::record(&mut **tx, store.now, &ev).await?;
    Ok(())
}

async fn satisfy_mandate(tx: &mut Transaction<'_, Any>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET must_change = $1 WHERE id = $2")
        .bind(false)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The row Latchkey already keeps for `user`, when it still says what the
/// directory says (the same entry, name, display name and mail): then a
/// sign-in refreshes nothing, so it writes nothing. `account` is the row
/// the sign-in's lookup found by name in this domain.
fn unchanged_shadow(account: Option<&UserRecord>, user: &DirectoryUser) -> Option<UserRecord> {
    let account = account?;
    let name = usable_name(&user.username)?;
    let same = account.directory_id.as_deref() == Some(user.id.as_str())
        && account.username == name.as_str()
        && account.username_key == name.key()
        && account.display_name == user.display_name
        && account.email == user.mail;
    same.then(|| account.clone())
}

impl CredentialStore for DirectoryStore {
    /// Look up with the service account, then bind as the user; a name with
    /// no user binds as a DN that cannot exist, so both take the same two
    /// operations in the same order.
    #[tracing::instrument(name = "directory_store.verify", skip_all, fields(directory = %self.directory.name()))]
    async fn verify(
        &self,
        db: &Db,
        _ticket: &HashTicket,
        key: &str,
        account: Option<&UserRecord>,
        password: &str,
    ) -> Result<Verified, AppError> {
        let found = self.directory.find_user(key).await?;
        let dn = found
            .as_ref()
            .map(|u| u.dn.clone())
            .unwrap_or_else(|| self.directory.impossible_dn());
        let outcome = self.directory.bind(&dn, password).await?;
        let refused = |locked| Verified {
            matched: false,
            needs_rehash: false,
            locked,
            account: None,
        };
        Ok(match (found, outcome) {
            (Some(user), BindOutcome::Accepted | BindOutcome::MustChange)
                if user.lock == DirectoryLock::None =>
            {
                let directory_says = outcome == BindOutcome::MustChange || user.must_change;
                let account = match unchanged_shadow(account, &user) {
                    Some(account) => account,
                    None => upsert_shadow(self, db, &user).await?,
                };
                let mut account = match &self.groups {
                    Some(groups) => roles::sync_role(self, db, groups, &user, account).await?,
                    None => account,
                };
                account.must_change |= directory_says;
                Verified {
                    matched: true,
                    needs_rehash: false,
                    locked: false,
                    account: Some(account),
                }
            }
            // The directory's own lock (failures elsewhere, an
            // administrator's), whatever the bind said: some directories
            // accept a right password on a locked account.
            (Some(user), _) if user.lock != DirectoryLock::None => refused(true),
            (Some(_), BindOutcome::Locked) => refused(true),
            _ => refused(false),
        })
    }

    async fn prepare(
        &self,
        _ticket: &HashTicket,
        password: &str,
        current: Option<&str>,
    ) -> Result<NewCredential, AppError> {
        Ok(NewCredential::Directory {
            new: SecretString::from(password.to_owned()),
            current: current.map(|c| SecretString::from(c.to_owned())),
        })
    }

    /// The directory's own history decides, at the change itself.
    async fn was_used(
        &self,
        _db: &Db,
        _ticket: &HashTicket,
        _account: &UserRecord,
        _password: &str,
        _depth: i64,
    ) -> Result<bool, AppError> {
        Ok(false)
    }

    /// The directory is written here, before the caller's transaction
    /// opens; if that transaction then fails, the password is changed
    /// without its audit row (see docs/directories.md), and a retry of the
    /// same operation is safe.
    async fn write_password<'a>(
        &self,
        account: &UserRecord,
        credential: &'a NewCredential,
        how: PasswordSet,
    ) -> Result<Option<Written<'a>>, AppError> {
        let NewCredential::Directory { new, current } = credential else {
            return Err(AppError::internal(
                "a directory password prepared by another store",
            ));
        };
        let entry = self.entry_of(account).await?;
        match how {
            PasswordSet::Changed => {
                let current = current.as_ref().ok_or_else(|| {
                    AppError::internal("a change as the user without the current password")
                })?;
                match self
                    .directory
                    .change_password(&entry.dn, current.expose_secret(), new.expose_secret())
                    .await?
                {
                    ChangeOutcome::Changed => Ok(Some(Written(credential))),
                    ChangeOutcome::WrongPassword => Ok(None),
                    ChangeOutcome::Refused(message) => Err(AppError::BadRequest(message)),
                }
            }
            PasswordSet::Reset => {
                self.directory
                    .reset_password(&entry, new.expose_secret(), false)
                    .await?;
                Ok(Some(Written(credential)))
            }
            PasswordSet::Temporary { .. } => {
                self.directory
                    .reset_password(&entry, new.expose_secret(), true)
                    .await?;
                Ok(Some(Written(credential)))
            }
        }
    }

    /// Only Latchkey's own part: a new password answers an administrator's
    /// mandatory reset (a temporary one is the directory's to flag).
    async fn store_password(
        &self,
        tx: &mut Transaction<'_, Any>,
        _written: Written<'_>,
        account: &UserRecord,
        _how: PasswordSet,
        _depth: i64,
        _now: i64,
    ) -> Result<bool, AppError> {
        satisfy_mandate(tx, account.id).await?;
        Ok(true)
    }

    async fn liftable_lock(&self, account: &UserRecord) -> Result<bool, AppError> {
        Ok(self.entry_of(account).await?.lock == DirectoryLock::Locked)
    }

    async fn lift_lock(&self, account: &UserRecord) -> Result<(), AppError> {
        // `Directory::unlock` lifts only the directory's own lock, never an
        // administrator's.
        let entry = self.entry_of(account).await?;
        Ok(self.directory.unlock(&entry).await?)
    }

    /// The directory's users whose name or display name contains `query`,
    /// each with a row of Latchkey's (created if new), the directory's lock
    /// or Latchkey's, and when the password was last set in the directory.
    async fn search(
        &self,
        db: &Db,
        config: &crate::config::Config,
        _scope: SearchScope<'_>,
        query: &str,
        now: i64,
    ) -> Result<Vec<UserSummary>, AppError> {
        search::search(self, db, config, query, now).await
    }
}
