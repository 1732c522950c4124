//! The seam between Latchkey and the place a domain's passwords live.
//!
//! A [`CredentialStore`] verifies a password, stores a new one (changed by
//! the user, reset by the service, or temporary), says whether a password
//! was used before, lifts a lock of its own and finds accounts for the LRA
//! console. Everything around that (the failure counter reserved before
//! each check, sessions, enrolment, audit) stays in the operations above
//! it, the same for every store. A domain is [`StoreKind::Local`]
//! ([`LocalStore`]: argon2id hashes in Latchkey's database, in this file) or
//! a directory ([`directory::DirectoryStore`]: OpenLDAP, Active Directory).

pub mod directory;

use std::future::Future;

use latchkey_shared::admin::{LockHolder, Role, UserSummary};
use sqlx::{Any, Row, Transaction};

use crate::accounts::lockout::{LockState, LOCK_COLUMNS, LOCK_JOIN};
use crate::db::domains::Domain;
use crate::db::users::{self, UserRecord};
use crate::db::{Db, RowExt};
use crate::error::AppError;
use crate::password::HashTicket;
use crate::state::AppState;
pub use directory::DirectoryStore;

/// Which store a domain uses (the `credential_store` column: `local`, or
/// `directory:<name>` for a connection of the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// Latchkey's own argon2id hashes.
    Local,
    /// The directory connection `[directories.<name>]`.
    Directory(String),
}

impl StoreKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "local" => Some(Self::Local),
            _ => text
                .strip_prefix("directory:")
                .filter(|name| !name.is_empty())
                .map(|name| Self::Directory(name.to_owned())),
        }
    }

    pub fn to_column(&self) -> String {
        match self {
            Self::Local => "local".to_owned(),
            Self::Directory(name) => format!("directory:{name}"),
        }
    }
}

/// What a password check found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub matched: bool,
    /// The stored form should be renewed (older hash parameters).
    pub needs_rehash: bool,
    /// The store itself holds the account locked (a directory's own lock).
    pub locked: bool,
    /// The account the password is right for, as Latchkey keeps it (for a
    /// directory: created or refreshed from the directory's entry).
    pub account: Option<UserRecord>,
}

impl Verified {
    /// Not the password: nothing matched, nothing locked.
    pub fn refused() -> Self {
        Self {
            matched: false,
            needs_rehash: false,
            locked: false,
            account: None,
        }
    }
}

/// A new password made ready to store, outside any transaction: for the
/// local store its argon2id hash (no hashing while a transaction holds a
/// connection); for a directory the password itself, and the current one
/// for a change made as the user.
pub enum NewCredential {
    Hash(String),
    Directory {
        new: secrecy::SecretString,
        current: Option<secrecy::SecretString>,
    },
}

/// Why a password is being stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSet {
    /// By the user, who proved the current one: kept in the history.
    Changed,
    /// By the service after a self-service verification: kept in the history.
    Reset,
    /// Issued by staff or the command line: must be changed at first use
    /// and stops working at `expires_at`.
    Temporary { expires_at: i64 },
}

/// What [`CredentialStore::write_password`] gives back: the new password,
/// and proof, for [`CredentialStore::store_password`], that the store's
/// own write came first (only the stores make one).
pub struct Written<'a>(pub(super) &'a NewCredential);

/// Who may be listed by a search.
#[derive(Debug, Clone, Copy)]
pub enum SearchScope<'a> {
    Everyone,
    /// The domains an LRA looks after.
    Domains(&'a [i64]),
}

/// The most accounts one search lists.
pub const SEARCH_LIMIT: usize = 50;

pub trait CredentialStore {
    /// Checks `password` for the name `key` (`account`: what Latchkey keeps
    /// of it, if anything), or, for a name with no account, does the same
    /// work and fails, so that the cost does not tell them apart.
    fn verify(
        &self,
        db: &Db,
        ticket: &HashTicket,
        key: &str,
        account: Option<&UserRecord>,
        password: &str,
    ) -> impl Future<Output = Result<Verified, AppError>> + Send;

    /// Prepares `password` for [`CredentialStore::store_password`];
    /// `current` is the current password when the user typed it.
    fn prepare(
        &self,
        ticket: &HashTicket,
        password: &str,
        current: Option<&str>,
    ) -> impl Future<Output = Result<NewCredential, AppError>> + Send;

    /// Whether `password` is the account's current one or one of its last
    /// `depth` previous ones.
    fn was_used(
        &self,
        db: &Db,
        ticket: &HashTicket,
        account: &UserRecord,
        password: &str,
        depth: i64,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// The store's own write of `new`, made before the caller's transaction
    /// opens, so that no transaction is held open while a directory is
    /// asked (SQLite has one writer: everyone would wait on it). A
    /// directory sets the password here; the local store writes nothing
    /// (its hash goes in with [`CredentialStore::store_password`]). `None`
    /// when the current password a change was sent with is wrong.
    ///
    /// Done first, it is the step a failed commit leaves done: repeating
    /// the whole operation is safe (the same new password is set again).
    fn write_password<'a>(
        &self,
        account: &UserRecord,
        new: &'a NewCredential,
        how: PasswordSet,
    ) -> impl Future<Output = Result<Option<Written<'a>>, AppError>> + Send;

    /// Stores `new` as the account's password, in `tx` (the transaction that
    /// also writes the audit row), once [`CredentialStore::write_password`]
    /// has. Returns false, changing nothing, when the password changed
    /// since `account` was read.
    fn store_password(
        &self,
        tx: &mut Transaction<'_, Any>,
        written: Written<'_>,
        account: &UserRecord,
        how: PasswordSet,
        depth: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Whether the store itself holds the account locked with a lock that
    /// an unlock may lift (not an administrator's).
    fn liftable_lock(
        &self,
        account: &UserRecord,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Lifts a lock the store keeps itself (beside Latchkey's counter,
    /// which the caller clears in its transaction), before that
    /// transaction opens, for the reason [`CredentialStore::write_password`]
    /// gives. Lifting a lifted lock changes nothing, so a retry is safe.
    fn lift_lock(&self, account: &UserRecord) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Accounts whose user name or display name contains `query` (as typed;
    /// any case), at most [`SEARCH_LIMIT`] + 1 so the caller can tell there
    /// were more. The local store lists Latchkey's rows of the domains in
    /// `scope`; a directory store searches its directory (its own domain:
    /// the caller asks it only for a domain in scope) and keeps a row for
    /// every account it lists, so each has an id to act on.
    fn search(
        &self,
        db: &Db,
        config: &crate::config::Config,
        scope: SearchScope<'_>,
        query: &str,
        now: i64,
    ) -> impl Future<Output = Result<Vec<UserSummary>, AppError>> + Send;
}

/// The store of one domain.
pub enum Store {
    Local(LocalStore),
    Directory(DirectoryStore),
}

impl Store {
    /// The store `domain` names; a directory the configuration does not
    /// have is an error (never a silent fallback to the local store).
    pub fn for_domain(state: &AppState, domain: &Domain) -> Result<Self, AppError> {
        match &domain.store {
            StoreKind::Local => Ok(Store::Local(LocalStore)),
            StoreKind::Directory(name) => state
                .directories
                .get(name)
                .map(|d| {
                    Store::Directory(DirectoryStore {
                        directory: d.clone(),
                        domain_id: domain.id,
                        now: state.now(),
                        domain_slug: domain.slug.clone(),
                        groups: state.config.directory_groups.get(name).cloned(),
                    })
                })
                // A configuration that lost the section: the domain cannot
                // work until it is back, like a directory that is down.
                .ok_or_else(|| {
                    AppError::DirectoryUnavailable(format!(
                        "domain {} uses the directory {name:?}, which the configuration does not define",
                        domain.slug
                    ))
                }),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Local($s) => $call,
            Store::Directory($s) => $call,
        }
    };
}

impl CredentialStore for Store {
    async fn verify(
        &self,
        db: &Db,
        ticket: &HashTicket,
        key: &str,
        account: Option<&UserRecord>,
        password: &str,
    ) -> Result<Verified, AppError> {
        dispatch!(self, s => s.verify(db, ticket, key, account, password).await)
    }

    async fn prepare(
        &self,
        ticket: &HashTicket,
        password: &str,
        current: Option<&str>,
    ) -> Result<NewCredential, AppError> {
        dispatch!(self, s => s.prepare(ticket, password, current).await)
    }

    async fn was_used(
        &self,
        db: &Db,
        ticket: &HashTicket,
        account: &UserRecord,
        password: &str,
        depth: i64,
    ) -> Result<bool, AppError> {
        dispatch!(self, s => s.was_used(db, ticket, account, password, depth).await)
    }

    async fn write_password<'a>(
        &self,
        account: &UserRecord,
        new: &'a NewCredential,
        how: PasswordSet,
    ) -> Result<Option<Written<'a>>, AppError> {
        dispatch!(self, s => s.write_password(account, new, how).await)
    }

    async fn store_password(
        &self,
        tx: &mut Transaction<'_, Any>,
        written: Written<'_>,
        account: &UserRecord,
        how: PasswordSet,
        depth: i64,
        now: i64,
    ) -> Result<bool, AppError> {
        dispatch!(self, s => s.store_password(tx, written, account, how, depth, now).await)
    }

    async fn liftable_lock(&self, account: &UserRecord) -> Result<bool, AppError> {
        dispatch!(self, s => s.liftable_lock(account).await)
    }

    async fn lift_lock(&self, account: &UserRecord) -> Result<(), AppError> {
        dispatch!(self, s => s.lift_lock(account).await)
    }

    async fn search(
        &self,
        db: &Db,
        config: &crate::config::Config,
        scope: SearchScope<'_>,
        query: &str,
        now: i64,
    ) -> Result<Vec<UserSummary>, AppError> {
        dispatch!(self, s => s.search(db, config, scope, query, now).await)
    }
}

/// argon2id hashes in the `users` and `password_history` tables.
pub struct LocalStore;

impl CredentialStore for LocalStore {
    #[tracing::instrument(name = "local_store.verify", skip_all, fields(known = account.is_some()))]
    async fn verify(
        &self,
        _db: &Db,
        ticket: &HashTicket,
        _key: &str,
        account: Option<&UserRecord>,
        password: &str,
    ) -> Result<Verified, AppError> {
        match account {
            Some(a) => {
                let v = ticket.verify(password, &a.password_hash).await?;
                Ok(Verified {
                    matched: v.matched,
                    needs_rehash: v.needs_rehash,
                    locked: false,
                    account: v.matched.then(|| a.clone()),
                })
            }
            None => {
                ticket.verify_dummy(password).await?;
                Ok(Verified::refused())
            }
        }
    }

    async fn prepare(
        &self,
        ticket: &HashTicket,
        password: &str,
        _current: Option<&str>,
    ) -> Result<NewCredential, AppError> {
        Ok(NewCredential::Hash(ticket.hash(password).await?))
    }

    #[tracing::instrument(name = "local_store.was_used", skip_all, fields(user_id = account.id, depth))]
    async fn was_used(
        &self,
        db: &Db,
        ticket: &HashTicket,
        account: &UserRecord,
        password: &str,
        depth: i64,
    ) -> Result<bool, AppError> {
        let mut hashes = vec![account.password_hash.clone()];
        hashes.extend(users::password_history(db, account.id, depth).await?);
        users::reuses_any(ticket, password, &hashes).await
    }

    /// Nothing outside the transaction: the hash is a row.
    async fn write_password<'a>(
        &self,
        _account: &UserRecord,
        new: &'a NewCredential,
        _how: PasswordSet,
    ) -> Result<Option<Written<'a>>, AppError> {
        Ok(Some(Written(new)))
    }

    #[tracing::instrument(name = "local_store.store_password", skip_all, fields(user_id = account.id, ?how))]
    async fn store_password(
        &self,
        tx: &mut Transaction<'_, Any>,
        written: Written<'_>,
        account: &UserRecord,
        how: PasswordSet,
        depth: i64,
        now: i64,
    ) -> Result<bool, AppError> {
        let NewCredential::Hash(hash) = written.0 else {
            return Err(AppError::internal(
                "a local password prepared by another store",
            ));
        };
        match how {
            PasswordSet::Changed | PasswordSet::Reset => {
                users::replace_password(tx, account, hash, depth, now).await
            }
            PasswordSet::Temporary { expires_at } => {
                set_temporary_password(tx, account.id, hash, expires_at, now).await?;
                Ok(true)
            }
        }
    }

    async fn liftable_lock(&self, _account: &UserRecord) -> Result<bool, AppError> {
        // Latchkey's failure counter is the only lock a local account has.
        Ok(false)
    }

    async fn lift_lock(&self, _account: &UserRecord) -> Result<(), AppError> {
        Ok(())
    }

    #[tracing::instrument(name = "local_store.search", skip_all)]
    async fn search(
        &self,
        db: &Db,
        config: &crate::config::Config,
        scope: SearchScope<'_>,
        query: &str,
        now: i64,
    ) -> Result<Vec<UserSummary>, AppError> {
        let rows = search_users(db, scope, &like_pattern(query)).await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let lock = LockState::from_row(row, config, now)?;
            users.push(UserSummary {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                domain: row.try_get("slug")?,
                domain_name: row.try_get("domain_name")?,
                role: Role::parse(&row.try_get::<String, _>("role")?),
                locked: lock.locked,
                disabled: row.flag("disabled")?,
                email: row.try_get("email")?,
                lock: lock.locked.then_some(LockHolder::Latchkey),
                password_changed_at: Some(row.try_get("password_changed_at")?),
            });
        }
        Ok(users)
    }
}

async fn set_temporary_password(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, temp_password = $3, \
         temp_password_expires_at = $4, must_change = $5 WHERE id = $6",
    )
    .bind(hash)
    .bind(now)
    .bind(true)
    .bind(expires_at)
    .bind(false)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `query` as a `LIKE … ESCAPE '\'` pattern of any text containing it
/// (lower-cased): `%`, `_` and `\` taken literally.
pub fn like_pattern(query: &str) -> String {
    let mut out = String::from("%");
    for c in query.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

async fn search_users(
    db: &Db,
    scope: SearchScope<'_>,
    pattern: &str,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let base = format!(
        "SELECT u.id, u.username, u.username_key, u.display_name, u.email, \
                u.password_changed_at, u.role, u.disabled, \
                d.slug, d.name AS domain_name, {LOCK_COLUMNS} \
         FROM users u {LOCK_JOIN} \
         WHERE u.retired_at IS NULL \
         AND (u.username_key LIKE $1 ESCAPE '\\' OR LOWER(u.display_name) LIKE $1 ESCAPE '\\')"
    );
    let limit = i64::try_from(SEARCH_LIMIT + 1).unwrap_or(i64::MAX);
    match scope {
        SearchScope::Everyone => {
            sqlx::query(&format!("{base} ORDER BY u.username_key, d.slug LIMIT $2"))
                .bind(pattern)
                .bind(limit)
                .fetch_all(&db.pool)
                .await
        }
        SearchScope::Domains(ids) => {
            // The ids are the caller's own, read from `staff_domains`: bound
            // one by one, never spliced in.
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let placeholders = (0..ids.len())
                .map(|i| format!("${}", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "{base} AND u.domain_id IN ({placeholders}) ORDER BY u.username_key, d.slug LIMIT $2"
            );
            let mut query = sqlx::query(&sql).bind(pattern).bind(limit);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(&db.pool).await
        }
    }
}
