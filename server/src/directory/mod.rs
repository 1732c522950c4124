//! A directory (OpenLDAP with ppolicy, or Active Directory) as a place
//! where passwords live: look a user up with the service account, bind as
//! the user, change a password as the user, reset one and lift a lock as the
//! service account. Every operation has the configured timeout; a directory
//! that is down or slow is [`DirectoryError::Unavailable`] (the request
//! answers 503 and counts no failure).
//!
//! ldap3 has no pool: [`Pool`] keeps service-account connections open and
//! drops any that closed.

pub mod config;
pub mod policy;
pub mod ppolicy;
pub mod search;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult, Mod, Scope, SearchEntry};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

pub use config::{DirectoryConfig, DirectoryKind};
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

/// Service-account connections, at most `pool_size` open at once.
struct Pool {
    idle: Mutex<Vec<Ldap>>,
    permits: Semaphore,
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

/// A pooled connection, back in the pool when dropped (unless it closed).
struct Pooled<'a> {
    pool: &'a Pool,
    ldap: Option<Ldap>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(mut ldap) = self.ldap.take() {
            if !ldap.is_closed() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(ldap);
                }
            }
        }
    }
}

impl Pooled<'_> {
    fn ldap(&mut self) -> &mut Ldap {
        self.ldap
            .as_mut()
            .expect("a pooled connection until dropped")
    }

    /// Keeps the connection out of the pool (its state is unknown).
    fn discard(&mut self) {
        self.ldap = None;
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

    /// A new connection, not bound.
    async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.config.starttls);
        let settings = match &self.config.ca_file {
            Some(path) => settings.set_config(Arc::new(
                tls_config(path).map_err(|e| DirectoryError::Unexpected(self.name.clone(), e))?,
            )),
            None => settings,
        };
        let connect = LdapConnAsync::with_settings(settings, &self.config.url);
        let (conn, ldap) = tokio::time::timeout(self.timeout(), connect)
            .await
            .map_err(|_| self.unavailable("no answer within the timeout"))?
            .map_err(|e| self.unavailable(e))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    /// A service-account connection from the pool (bound), or a new one.
    async fn service(&self) -> Result<Pooled<'_>, DirectoryError> {
        let permit = tokio::time::timeout(self.timeout(), self.pool.permits.acquire())
            .await
            .map_err(|_| self.unavailable("every connection is busy"))?
            .map_err(|e| self.unavailable(e))?;
        let reused = {
            let mut idle = self
                .pool
                .idle
                .lock()
                .map_err(|_| self.unavailable("pool poisoned"))?;
            let mut found = None;
            while let Some(mut ldap) = idle.pop() {
                if !ldap.is_closed() {
                    found = Some(ldap);
                    break;
                }
            }
            found
        };
        let ldap = match reused {
            Some(ldap) => ldap,
            None => {
                let mut ldap = self.connect().await?;
                let result = self
                    .run(ldap.simple_bind(&self.config.bind_dn, self.password.expose_secret()))
                    .await?;
                if result.rc != rc::SUCCESS {
                    return Err(DirectoryError::NotAllowed(
                        self.name.clone(),
                        format!(
                            "the service account {} cannot bind (result {}: {})",
                            self.config.bind_dn, result.rc, result.text
                        ),
                    ));
                }
                ldap
            }
        };
        Ok(Pooled {
            pool: &self.pool,
            ldap: Some(ldap),
            _permit: permit,
        })
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

    /// The user changes their own password: bind as them with the current
    /// one, then change it on that connection, so the directory's history
    /// and quality rules apply (a change, never a reset).
    ///
    /// OpenLDAP: Password Modify with old and new. Active Directory: one
    /// modify that deletes the old `unicodePwd` and adds the new. A password
    /// that must be changed first (a reset, an expired one) cannot bind on
    /// AD (data 773/532): the same modify then goes over the service
    /// account's connection, where AD still checks the old password and its
    /// history, as it does for "change password at next logon" anywhere.
    #[tracing::instrument(name = "directory.change_password", skip_all, fields(directory = %self.name))]
    pub async fn change_password(
        &self,
        dn: &str,
        old: &str,
        new: &str,
    ) -> Result<ChangeOutcome, DirectoryError> {
        // An unauthenticated bind (see [`Directory::bind`]) proves nothing.
        if latchkey_shared::policy::is_blank_password(old) {
            return Ok(ChangeOutcome::WrongPassword);
        }
        let mut ldap = self.connect().await?;
        let bound = self
            .run(ldap.with_controls(ppolicy_control()).simple_bind(dn, old))
            .await?;
        let outcome = self.bind_outcome(&bound);
        let result = match self.config.kind {
            DirectoryKind::Ldap => {
                if bound.rc != rc::SUCCESS {
                    let _ = ldap.unbind().await;
                    return Ok(ChangeOutcome::WrongPassword);
                }
                let changed = self
                    .run(
                        ldap.with_controls(ppolicy_control())
                            .extended(PasswordModify {
                                user_id: Some(dn),
                                old_pass: Some(old),
                                new_pass: Some(new),
                            }),
                    )
                    .await?;
                let _ = ldap.unbind().await;
                changed.1
            }
            DirectoryKind::ActiveDirectory => {
                let mods = vec![
                    Mod::Delete(UNICODE_PWD.to_vec(), HashSet::from([ad_password(old)])),
                    Mod::Add(UNICODE_PWD.to_vec(), HashSet::from([ad_password(new)])),
                ];
                match outcome {
                    BindOutcome::Accepted => {
                        let changed = self.run(ldap.modify(dn, mods)).await;
                        let _ = ldap.unbind().await;
                        changed?
                    }
                    BindOutcome::MustChange => {
                        let _ = ldap.unbind().await;
                        let mut conn = self.service().await?;
                        match self.run(conn.ldap().modify(dn, mods)).await {
                            Ok(r) => r,
                            Err(e) => {
                                conn.discard();
                                return Err(e);
                            }
                        }
                    }
                    BindOutcome::Locked | BindOutcome::Refused => {
                        let _ = ldap.unbind().await;
                        return Ok(ChangeOutcome::WrongPassword);
                    }
                }
            }
        };
        Ok(match result.rc {
            rc::SUCCESS => ChangeOutcome::Changed,
            rc::INVALID_CREDENTIALS => ChangeOutcome::WrongPassword,
            // AD: the old password did not match.
            _ if result.text.contains("00000056") => ChangeOutcome::WrongPassword,
            _ => ChangeOutcome::Refused(refusal_message(policy_error(&result), &result)),
        })
    }

    /// The service account sets a new password (Forgot Password, a
    /// temporary password) and lifts the directory's lock in the same
    /// modify; `must_change` makes it a password that must be changed at
    /// the next bind anywhere (OpenLDAP `pwdReset`, AD `pwdLastSet: 0`). An
    /// administrator's permanent lock (ppolicy's, a disabled AD account)
    /// stays.
    #[tracing::instrument(name = "directory.reset_password", skip_all, fields(directory = %self.name, must_change))]
    pub async fn reset_password(
        &self,
        user: &DirectoryUser,
        new: &str,
        must_change: bool,
    ) -> Result<(), DirectoryError> {
        let mods = match self.config.kind {
            DirectoryKind::Ldap => {
                let mut mods = vec![replace("userPassword", new.as_bytes().to_vec())];
                if must_change {
                    mods.push(replace("pwdReset", b"TRUE".to_vec()));
                }
                if user.lock == DirectoryLock::Locked {
                    mods.push(Mod::Delete(
                        b"pwdAccountLockedTime".to_vec(),
                        HashSet::new(),
                    ));
                }
                mods
            }
            // A reset does not unlock on AD: `lockoutTime: 0` goes with it
            // (it never enables a disabled account). `pwdLastSet: -1` is
            // "now", so an earlier temporary password's "must change" does
            // not outlive a reset the person chose.
            DirectoryKind::ActiveDirectory => vec![
                replace("unicodePwd", ad_password(new)),
                replace("lockoutTime", b"0".to_vec()),
                replace(
                    "pwdLastSet",
                    if must_change {
                        b"0".to_vec()
                    } else {
                        b"-1".to_vec()
                    },
                ),
            ],
        };
        self.modify_as_service(&user.dn, mods).await
    }

    /// Lifts the directory's own lock (not an administrator's permanent one).
    #[tracing::instrument(name = "directory.unlock", skip_all, fields(directory = %self.name))]
    pub async fn unlock(&self, user: &DirectoryUser) -> Result<(), DirectoryError> {
        if user.lock != DirectoryLock::Locked {
            return Ok(());
        }
        let mods = match self.config.kind {
            DirectoryKind::Ldap => vec![Mod::Delete(
                b"pwdAccountLockedTime".to_vec(),
                HashSet::new(),
            )],
            DirectoryKind::ActiveDirectory => vec![replace("lockoutTime", b"0".to_vec())],
        };
        self.modify_as_service(&user.dn, mods).await
    }

    async fn modify_as_service(
        &self,
        dn: &str,
        mods: Vec<Mod<Vec<u8>>>,
    ) -> Result<(), DirectoryError> {
        let mut conn = self.service().await?;
        let result = match self.run(conn.ldap().modify(dn, mods)).await {
            Ok(r) => r,
            Err(e) => {
                conn.discard();
                return Err(e);
            }
        };
        match result.rc {
            rc::SUCCESS => Ok(()),
            rc::INSUFFICIENT_ACCESS => Err(DirectoryError::NotAllowed(
                self.name.clone(),
                format!(
                    "the service account {} may not change {dn}: {}",
                    self.config.bind_dn,
                    match self.config.kind {
                        DirectoryKind::Ldap =>
                            "give it write access to userPassword, pwdReset and pwdAccountLockedTime",
                        DirectoryKind::ActiveDirectory =>
                            "give it the Reset Password right and write access to lockoutTime and pwdLastSet on user objects",
                    }
                ),
            )),
            rc => Err(DirectoryError::Unexpected(
                self.name.clone(),
                format!("modify result {rc}: {}", result.text),
            )),
        }
    }
}

/// Active Directory's password attribute.
const UNICODE_PWD: &[u8] = b"unicodePwd";

/// A password as AD's `unicodePwd` takes it: in double quotes, UTF-16LE.
fn ad_password(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn replace(attr: &str, value: Vec<u8>) -> Mod<Vec<u8>> {
    Mod::Replace(attr.as_bytes().to_vec(), HashSet::from([value]))
}

/// A directory's refusal of a new password, in words a person can act on.
fn refusal_message(error: Option<PolicyError>, result: &LdapResult) -> String {
    match error {
        Some(PolicyError::PasswordInHistory) => {
            "Your organisation's directory refused this password: it was used recently. Choose one you have not used before.".to_owned()
        }
        Some(PolicyError::PasswordTooShort) => {
            "Your organisation's directory refused this password: it is too short for its rules.".to_owned()
        }
        Some(PolicyError::PasswordTooYoung) => {
            "Your organisation's directory does not allow another change yet: your password was changed too recently. Try again later.".to_owned()
        }
        Some(PolicyError::InsufficientPasswordQuality) => {
            "Your organisation's directory refused this password: it does not meet its quality rules.".to_owned()
        }
        Some(PolicyError::PasswordModNotAllowed) => {
            "Your organisation's directory does not let you change this password yourself. Call the Help Desk.".to_owned()
        }
        // Samba says which of AD's rules it was; Windows says only 0000052D.
        _ if result.text.contains("0000052D") && result.text.contains("history") => {
            refusal_message(Some(PolicyError::PasswordInHistory), result)
        }
        _ if result.rc == rc::CONSTRAINT_VIOLATION || result.rc == rc::UNWILLING_TO_PERFORM
            || result.text.contains("0000052D") =>
        {
            "Your organisation's directory refused this password by its own rules (history, length or complexity). Choose another.".to_owned()
        }
        _ => format!(
            "Your organisation's directory refused this password (result {}). Choose another, or call the Help Desk.",
            result.rc
        ),
    }
}

/// A TLS configuration that trusts only the CA certificates in `path` (PEM).
fn tls_config(path: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("ca_file {} holds no certificate", path.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ad_password_is_quoted_utf16_little_endian() {
        assert_eq!(ad_password("ab"), vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
        // Outside the BMP: a surrogate pair, each half little-endian.
        assert_eq!(ad_password("\u{1F511}").len(), 2 + 4 + 2);
    }
}
