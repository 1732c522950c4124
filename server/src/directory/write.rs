//! What Latchkey writes to a directory: a password changed as the user, a
//! password reset and a lock lifted as the service account.

use std::collections::HashSet;

use ldap3::exop::PasswordModify;
use ldap3::{LdapResult, Mod};

use super::ppolicy::PolicyError;
use super::*;

impl Directory {
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
