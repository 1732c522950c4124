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

use std::sync::Arc;

use latchkey_shared::admin::UserSummary;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Any, Row, Transaction};

use super::store::{CredentialStore, NewCredential, PasswordSet, SearchScope, Verified};
use crate::db::Db;
use crate::directory::config::DirectoryGroups;
use crate::directory::{
    BindOutcome, ChangeOutcome, Directory, DirectoryError, DirectoryLock, DirectoryUser,
};
use crate::error::AppError;
use crate::password::HashTicket;
use crate::users::{self, UserRecord};

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
    /// The directory's entry of an account Latchkey keeps.
    async fn entry_of(&self, account: &UserRecord) -> Result<DirectoryUser, AppError> {
        self.directory
            .find_user(&account.username)
            .await?
            .ok_or_else(|| {
                AppError::BadRequest(
                    "This account is no longer in your organisation's directory. Call the Help Desk."
                        .to_owned(),
                )
            })
    }
}

/// The row Latchkey keeps for `user`: found by the directory's id (so a
/// renamed user keeps it) or by name, refreshed from the directory, or
/// created. Its `must_change` is Latchkey's own (an administrator's
/// mandatory reset) and is left as it is: the directory's flag is read at
/// each sign-in, never copied.
async fn upsert_shadow(
    db: &Db,
    domain_id: i64,
    user: &DirectoryUser,
    now: i64,
) -> Result<UserRecord, AppError> {
    let name = latchkey_shared::Username::parse(&user.username).map_err(|_| {
        AppError::BadRequest(
            "Your directory user name cannot be used here. Call the Help Desk.".to_owned(),
        )
    })?;
    let key = name.key();
    let mut tx = db.pool.begin().await?;
    let renamed = sqlx::query(
        "UPDATE users SET username = $1, username_key = $2, display_name = $3, email = $4 \
         WHERE domain_id = $5 AND directory_id = $6 RETURNING id",
    )
    .bind(name.as_str())
    .bind(&key)
    .bind(&user.display_name)
    .bind(user.mail.as_deref())
    .bind(domain_id)
    .bind(&user.id)
    .fetch_optional(&mut *tx)
    .await?;
    let id: i64 = match renamed {
        Some(row) => row.try_get("id")?,
        None => sqlx::query(
            "INSERT INTO users (domain_id, username, username_key, display_name, email, \
             password_hash, password_changed_at, must_change, role, created_at, directory_id) \
             VALUES ($1, $2, $3, $4, $5, '', $6, $7, 'user', $6, $8) \
             ON CONFLICT (domain_id, username_key) DO UPDATE SET \
             display_name = excluded.display_name, email = excluded.email, \
             directory_id = excluded.directory_id \
             RETURNING id",
        )
        .bind(domain_id)
        .bind(name.as_str())
        .bind(&key)
        .bind(&user.display_name)
        .bind(user.mail.as_deref())
        .bind(now)
        .bind(false)
        .bind(&user.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?,
    };
    tx.commit().await?;
    users::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::internal("a directory user's row vanished"))
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
/// directory says (the same entry, name, display name and mail):
/// then a sign-in refreshes nothing, so it writes nothing. `account` is the
/// row the sign-in's lookup found by name in this domain; one read on the
/// lookup connections checks it belongs to the same directory entry.
async fn unchanged_shadow(
    db: &Db,
    account: Option<&UserRecord>,
    user: &DirectoryUser,
) -> Result<Option<UserRecord>, AppError> {
    let Some(account) = account else {
        return Ok(None);
    };
    let Ok(name) = latchkey_shared::Username::parse(&user.username) else {
        return Ok(None);
    };
    if account.username != name.as_str()
        || account.username_key != name.key()
        || account.display_name != user.display_name
        || account.email != user.mail
    {
        return Ok(None);
    }
    let directory_id: Option<String> =
        sqlx::query_scalar("SELECT directory_id FROM users WHERE id = $1")
            .bind(account.id)
            .fetch_optional(&db.lookups)
            .await?
            .flatten();
    Ok((directory_id.as_deref() == Some(user.id.as_str())).then(|| account.clone()))
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
                let account = match unchanged_shadow(db, account, &user).await? {
                    Some(account) => account,
                    None => upsert_shadow(db, self.domain_id, &user, self.now).await?,
                };
                let mut account = match &self.groups {
                    Some(groups) => {
                        super::directory_roles::sync_role(self, db, groups, &user, account).await?
                    }
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

    /// The directory is written before the caller's transaction commits:
    /// if that commit then fails, the password is changed without its audit
    /// row (see docs/directories.md); a retry of the same operation is safe.
    async fn store_password(
        &self,
        tx: &mut Transaction<'_, Any>,
        account: &UserRecord,
        new: &NewCredential,
        how: PasswordSet,
        _depth: i64,
        _now: i64,
    ) -> Result<bool, AppError> {
        let NewCredential::Directory { new, current } = new else {
            return Err(AppError::internal(
                "a directory password prepared by another store",
            ));
        };
        let entry = self.entry_of(account).await?;
        // A new password answers an administrator's mandatory reset; a
        // temporary one is the directory's to flag.
        satisfy_mandate(tx, account.id).await?;
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
                    ChangeOutcome::Changed => Ok(true),
                    ChangeOutcome::WrongPassword => Ok(false),
                    ChangeOutcome::Refused(message) => Err(AppError::BadRequest(message)),
                }
            }
            PasswordSet::Reset => {
                self.directory
                    .reset_password(&entry, new.expose_secret(), false)
                    .await?;
                Ok(true)
            }
            PasswordSet::Temporary { .. } => {
                self.directory
                    .reset_password(&entry, new.expose_secret(), true)
                    .await?;
                Ok(true)
            }
        }
    }

    async fn liftable_lock(&self, account: &UserRecord) -> Result<bool, AppError> {
        Ok(self.entry_of(account).await?.lock == DirectoryLock::Locked)
    }

    async fn lift_lock(
        &self,
        _tx: &mut Transaction<'_, Any>,
        account: &UserRecord,
    ) -> Result<(), AppError> {
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
        super::directory_search::search(self, db, config, query, now).await
    }
}
