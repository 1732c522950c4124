//! A directory (OpenLDAP with ppolicy, or Active Directory) as a place
//! where passwords live: look a user up with the service account, bind as
//! the user, change a password as the user, reset one and lift a lock as the
//! service account. Every operation has the configured timeout; a directory
//! that is down or slow is [`DirectoryError::Unavailable`] (the request
//! answers 503 and counts no failure).
//!
//! Reads and binds are here; the connection pool and TLS are [`pool`], the
//! writes (change, reset, unlock) [`write`].

pub mod config;
pub mod policy;
mod pool;
pub mod ppolicy;
pub mod search;
mod write;

use std::sync::Mutex;
use std::time::Duration;

use ldap3::controls::RawControl;
use ldap3::{LdapResult, Scope, SearchEntry};
use secrecy::SecretString;
use tokio::sync::Semaphore;

pub use config::{DirectoryConfig, DirectoryKind};
use pool::Pool;
use ppolicy::PolicyError;

/// LDAP result codes this module tells apart (RFC 4511, appendix A).
mod rc {
    pub const SUCCESS: u32 = 0;
    pub const CONSTRAINT_VIOLATION: u32 = 19;
    pub const INVALID_CREDENTIALS: u32 = 49;
    pub const INSUFFICIENT_ACCESS: u32 = 50;
    pub const UNWILLING_TO_PERFORM: u32 = 53;
}

/// `pwdAccountLockedTime` of an administrator's lock that never lifts by
/// itself (ppolicy): self-service must never lift it.
pub const PERMANENT_LOCK: &str = "000001010000Z";

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Not reachable, too slow, or it broke the connection: try again later.
    #[error("the directory {0} is not available: {1}")]
    Unavailable(String, String),
    /// The service account may not do what was asked.
    #[error("the directory {0} refused the service account: {1}")]
    NotAllowed(String, String),
    /// Anything else the directory answered that this module did not expect.
    #[error("the directory {0} answered {1}")]
    Unexpected(String, String),
}

/// A directory's own lock on an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryLock {
    None,
    /// Set by failed binds (anywhere): lifted by an unlock.
    Locked,
    /// An administrator's lock: never lifted by self-service.
    Permanent,
}

/// A user as the directory has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub dn: String,
    /// `entryUUID` / `objectGUID`: stays when the user is renamed or moved.
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub lock: DirectoryLock,
    /// A reset password that must be changed before anything else.
    pub must_change: bool,
}

/// How a bind ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOutcome {
    Accepted,
    /// Right password, but it must be changed first (reset, expired).
    MustChange,
    /// The directory's own lock.
    Locked,
    /// Wrong password, or no such user.
    Refused,
}

/// Why the directory refused a new password, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed,
    /// The current password was wrong.
    WrongPassword,
    /// The directory's own rules (history, length, quality, age).
    Refused(String),
}

pub struct Directory {
    name: String,
    config: DirectoryConfig,
    password: SecretString,
    pool: Pool,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("name", &self.name)
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
}

fn binary_first(entry: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first().cloned())
}

fn policy_error(result: &LdapResult) -> Option<PolicyError> {
    result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == ppolicy::OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(ppolicy::error)
}

fn ppolicy_control() -> RawControl {
    RawControl {
        ctype: ppolicy::OID.to_owned(),
        crit: false,
        val: None,
    }
}

impl Directory {
    /// The connection `name` of the configuration; reads the service
    /// account's password now.
    pub fn new(name: &str, config: DirectoryConfig) -> Result<Self, String> {
        config.validate(name)?;
        let password = config.bind_password(name)?;
        if !config.uses_tls() {
            tracing::warn!(
                directory = name,
                url = %config.url,
                "directory connection is not encrypted (allow_plain = true): use it only for a test directory"
            );
        }
        Ok(Self {
            name: name.to_owned(),
            pool: Pool {
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(config.pool_size),
            },
            config,
            password,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn config(&self) -> &DirectoryConfig {
        &self.config
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs)
    }

    fn unavailable(&self, why: impl std::fmt::Display) -> DirectoryError {
        DirectoryError::Unavailable(self.name.clone(), why.to_string())
    }

    /// `operation` within the timeout; a broken connection is unavailable.
    async fn run<T>(
        &self,
        operation: impl std::future::Future<Output = ldap3::result::Result<T>>,
    ) -> Result<T, DirectoryError> {
        tokio::time::timeout(self.timeout(), operation)
            .await
            .map_err(|_| self.unavailable("no answer within the timeout"))?
            .map_err(|e| self.unavailable(e))
    }

    fn attributes(&self) -> Vec<String> {
        let mut attrs = vec![
            self.config.username_attribute().to_owned(),
            self.config.display_name_attribute.clone(),
            self.config.mail_attribute.clone(),
            self.config.id_attribute().to_owned(),
        ];
        match self.config.kind {
            DirectoryKind::Ldap => {
                attrs.extend(["pwdAccountLockedTime", "pwdReset"].map(String::from))
            }
            DirectoryKind::ActiveDirectory => attrs.extend(
                [
                    "lockoutTime",
                    "msDS-User-Account-Control-Computed",
                    "userAccountControl",
                    "pwdLastSet",
                ]
                .map(String::from),
            ),
        }
        attrs
    }

    fn user_from(&self, entry: SearchEntry) -> DirectoryUser {
        let id = match self.config.kind {
            DirectoryKind::Ldap => first(&entry, "entryUUID").unwrap_or_default(),
            // A 16-byte GUID, its first three fields little-endian; an
            // all-UTF-8 value lands among the text attributes.
            DirectoryKind::ActiveDirectory => binary_first(&entry, "objectGUID")
                .or_else(|| first(&entry, "objectGUID").map(String::into_bytes))
                .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                .map(|b| uuid::Uuid::from_bytes_le(b).to_string())
                .unwrap_or_default(),
        };
        let lock = match self.config.kind {
            DirectoryKind::Ldap => match first(&entry, "pwdAccountLockedTime") {
                Some(t) if t == PERMANENT_LOCK => DirectoryLock::Permanent,
                Some(_) => DirectoryLock::Locked,
                None => DirectoryLock::None,
            },
            DirectoryKind::ActiveDirectory => {
                let uac: u32 = first(&entry, "userAccountControl")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let computed: u32 = first(&entry, "msDS-User-Account-Control-Computed")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if uac & 0x2 != 0 {
                    // ACCOUNTDISABLE: an administrator's decision.
                    DirectoryLock::Permanent
                } else if computed & 0x10 != 0 {
                    DirectoryLock::Locked
                } else {
                    DirectoryLock::None
                }
            }
        };
        let must_change = match self.config.kind {
            DirectoryKind::Ldap => first(&entry, "pwdReset").is_some_and(|v| v == "TRUE"),
            DirectoryKind::ActiveDirectory => first(&entry, "pwdLastSet").is_some_and(|v| v == "0"),
        };
        DirectoryUser {
            username: first(&entry, self.config.username_attribute()).unwrap_or_default(),
            display_name: first(&entry, &self.config.display_name_attribute).unwrap_or_default(),
            mail: first(&entry, &self.config.mail_attribute),
            dn: entry.dn,
            id,
            lock,
            must_change,
        }
    }

    /// The user called `username`, looked up with the service account.
    /// More than one match is an error (an ambiguous filter), never a guess.
    #[tracing::instrument(name = "directory.find_user", skip_all, fields(directory = %self.name))]
    pub async fn find_user(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let filter = self
            .config
            .user_filter()
            .replace("{username}", &ldap3::ldap_escape(username));
        self.find_one(&filter).await
    }

    /// The entry whose stable id (`entryUUID`, `objectGUID`: see
    /// [`DirectoryUser::id`]) is `id`, whatever its name is now; `None` for
    /// an id that is not a UUID or that no entry has (deleted).
    #[tracing::instrument(name = "directory.find_by_id", skip_all, fields(directory = %self.name))]
    pub async fn find_by_id(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let Ok(uuid) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let filter = match self.config.kind {
            DirectoryKind::Ldap => format!("(entryUUID={})", uuid.hyphenated()),
            // objectGUID is matched as its 16 bytes, escaped one by one, in
            // the order AD stores them (the first three fields
            // little-endian).
            DirectoryKind::ActiveDirectory => {
                let bytes: String = uuid
                    .to_bytes_le()
                    .iter()
                    .map(|b| format!("\\{b:02x}"))
                    .collect();
                format!("(objectGUID={bytes})")
            }
        };
        Ok(self
            .find_one(&filter)
            .await?
            .filter(|u| u.id.eq_ignore_ascii_case(id)))
    }

    async fn find_one(&self, filter: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let attrs = self.attributes();
        let mut conn = self.service().await?;
        let found = self
            .run(
                conn.ldap()
                    .search(&self.config.base_dn, Scope::Subtree, filter, attrs),
            )
            .await;
        let (entries, result) = match found {
            Ok(r) => (r.0, r.1),
            Err(e) => {
                conn.discard();
                return Err(e);
            }
        };
        if result.rc != rc::SUCCESS {
            conn.discard();
            return Err(DirectoryError::Unexpected(
                self.name.clone(),
                format!("search result {}: {}", result.rc, result.text),
            ));
        }
        let mut users: Vec<_> = entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|e| self.user_from(e))
            .collect();
        match users.len() {
            0 => Ok(None),
            1 => Ok(users.pop()),
            n => Err(DirectoryError::Unexpected(
                self.name.clone(),
                format!("{n} entries for one user name: make user_filter match one user"),
            )),
        }
    }

    /// A DN that cannot exist, to bind as for a name with no user: the same
    /// operations, in the same order, as for a real one.
    pub fn impossible_dn(&self) -> String {
        format!(
            "cn=latchkey-no-such-user-{},{}",
            uuid::Uuid::new_v4().simple(),
            self.config.base_dn
        )
    }

    /// Binds as `dn` with `password` on a connection of its own (so the
    /// service account's are never bound as a user), asking for the
    /// password policy response.
    #[tracing::instrument(name = "directory.bind", skip_all, fields(directory = %self.name))]
    ///
    /// A blank password is refused without a bind: with an empty one the
    /// bind is an unauthenticated bind (RFC 4513 §5.1.2), which a server
    /// that allows it answers with success for any DN, so that success
    /// proves nothing. Callers refuse blank passwords earlier (at the same
    /// cost as a wrong one); this is the last line.
    pub async fn bind(&self, dn: &str, password: &str) -> Result<BindOutcome, DirectoryError> {
        if latchkey_shared::policy::is_blank_password(password) {
            return Ok(BindOutcome::Refused);
        }
        let mut ldap = self.connect().await?;
        let result = self
            .run(
                ldap.with_controls(ppolicy_control())
                    .simple_bind(dn, password),
            )
            .await?;
        let _ = ldap.unbind().await;
        Ok(self.bind_outcome(&result))
    }

    fn bind_outcome(&self, result: &LdapResult) -> BindOutcome {
        match (result.rc, policy_error(result)) {
            (_, Some(PolicyError::AccountLocked)) => BindOutcome::Locked,
            (rc::SUCCESS, Some(PolicyError::ChangeAfterReset | PolicyError::PasswordExpired)) => {
                BindOutcome::MustChange
            }
            (rc::SUCCESS, _) => BindOutcome::Accepted,
            // Active Directory says why in the text: 775 locked, 773 must
            // change, 532 expired, 533 disabled.
            (rc::INVALID_CREDENTIALS, _) if result.text.contains("data 775") => BindOutcome::Locked,
            (rc::INVALID_CREDENTIALS, _) if result.text.contains("data 533") => BindOutcome::Locked,
            (rc::INVALID_CREDENTIALS, _)
                if result.text.contains("data 773") || result.text.contains("data 532") =>
            {
                BindOutcome::MustChange
            }
            _ => BindOutcome::Refused,
        }
    }
}
