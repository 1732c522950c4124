//! A directory connection as the configuration file names it:
//!
//! ```toml
//! [directories.corp]
//! kind = "ldap"                      # or "active_directory"
//! url = "ldaps://ldap.example.org"   # or ldap:// with starttls = true
//! base_dn = "ou=people,dc=example,dc=org"
//! bind_dn = "cn=latchkey,ou=dsa,dc=example,dc=org"
//! bind_password_env = "LATCHKEY_CORP_BIND_PASSWORD"   # or bind_password_file
//! ```
//!
//! The service account's password comes from an environment variable or a
//! file, never from the configuration file or the database, and is never
//! logged. Plain LDAP (no TLS) is refused unless `allow_plain = true`.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Which dialect the directory speaks for passwords and locks (one type
/// with the console's).
pub use latchkey_shared::admin::DirectoryKind;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    /// `ldaps://host[:port]` or `ldap://host[:port]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS.
    #[serde(default)]
    pub starttls: bool,
    /// Allow `ldap://` without StartTLS (only for a test directory on
    /// loopback; a warning is logged at start).
    #[serde(default)]
    pub allow_plain: bool,
    /// PEM file of the CA that signed the directory's certificate; default:
    /// the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// The search filter; `{username}` is replaced by the escaped name.
    #[serde(default)]
    pub user_filter: Option<String>,
    /// The attribute that holds the user name.
    #[serde(default)]
    pub username_attribute: Option<String>,
    #[serde(default = "default_display_name_attribute")]
    pub display_name_attribute: String,
    #[serde(default = "default_mail_attribute")]
    pub mail_attribute: String,
    /// The service account that looks users up and resets passwords.
    pub bind_dn: String,
    /// The environment variable that holds the service account's password.
    #[serde(default)]
    pub bind_password_env: Option<String>,
    /// Or a file that holds it (its first line).
    #[serde(default)]
    pub bind_password_file: Option<PathBuf>,
    /// Seconds an operation (connect, bind, search, modify) may take before
    /// the request answers 503.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Service-account connections kept open.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

/// Staff roles of a directory's users from its groups
/// (`[directory_groups.<name>]`, beside `[directories.<name>]`): at each
/// sign-in a member of `admin_group_dn` is an administrator, else a member of
/// `lra_group_dn` an LRA of the domain they signed in to, else a plain user.
/// Without this section roles are set in Latchkey (console, command line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryGroups {
    /// Members are Local Registration Authorities of the domain they sign in to.
    #[serde(default)]
    pub lra_group_dn: Option<String>,
    /// Members are administrators.
    #[serde(default)]
    pub admin_group_dn: Option<String>,
}

impl DirectoryGroups {
    /// What is wrong with this section, in words an administrator can act on.
    pub fn validate(&self, name: &str, directories: &[&String]) -> Result<(), String> {
        if !directories.iter().any(|d| d.as_str() == name) {
            return Err(format!(
                "[directory_groups.{name}] has no [directories.{name}] to belong to"
            ));
        }
        let groups = [&self.lra_group_dn, &self.admin_group_dn];
        if groups.iter().all(|g| g.is_none()) {
            return Err(format!(
                "[directory_groups.{name}]: set lra_group_dn, admin_group_dn or both \
                 (or remove the section to set roles in Latchkey)"
            ));
        }
        if groups.iter().any(|g| {
            g.as_deref()
                .is_some_and(|dn| dn.trim().is_empty() || !dn.contains('='))
        }) {
            return Err(format!(
                "[directory_groups.{name}]: a group must be a DN such as cn=latchkey-lra,ou=groups,dc=example,dc=org"
            ));
        }
        Ok(())
    }
}

fn default_display_name_attribute() -> String {
    "cn".to_owned()
}

fn default_mail_attribute() -> String {
    "mail".to_owned()
}

fn default_timeout_secs() -> u64 {
    3
}

fn default_pool_size() -> usize {
    4
}

impl DirectoryConfig {
    /// The attribute that holds the user name.
    pub fn username_attribute(&self) -> &str {
        self.username_attribute
            .as_deref()
            .unwrap_or(match self.kind {
                DirectoryKind::Ldap => "uid",
                DirectoryKind::ActiveDirectory => "sAMAccountName",
            })
    }

    /// The search filter with `{username}` still in it.
    pub fn user_filter(&self) -> String {
        self.user_filter.clone().unwrap_or_else(|| match self.kind {
            DirectoryKind::Ldap => format!(
                "(&(objectClass=inetOrgPerson)({}={{username}}))",
                self.username_attribute()
            ),
            DirectoryKind::ActiveDirectory => format!(
                "(&(objectCategory=person)(objectClass=user)({}={{username}}))",
                self.username_attribute()
            ),
        })
    }

    /// The attribute whose value stays when a user is renamed or moved.
    pub fn id_attribute(&self) -> &'static str {
        match self.kind {
            DirectoryKind::Ldap => "entryUUID",
            DirectoryKind::ActiveDirectory => "objectGUID",
        }
    }

    /// Whether the connection is encrypted (ldaps, or StartTLS).
    pub fn uses_tls(&self) -> bool {
        self.url.starts_with("ldaps://") || self.starttls
    }

    /// What is wrong with this connection's settings, in words an
    /// administrator can act on.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return Err(format!(
                "directory {name:?}: url must start with ldap:// or ldaps:// (got {:?})",
                self.url
            ));
        }
        if self.url.starts_with("ldaps://") && self.starttls {
            return Err(format!(
                "directory {name:?}: starttls is for ldap:// URLs; ldaps:// is already encrypted"
            ));
        }
        if !self.uses_tls() && !self.allow_plain {
            return Err(format!(
                "directory {name:?}: {} is not encrypted: use ldaps://, or starttls = true, \
                 or (for a test directory only) allow_plain = true",
                self.url
            ));
        }
        if !self.user_filter().contains("{username}") {
            return Err(format!(
                "directory {name:?}: user_filter must contain {{username}}"
            ));
        }
        match (&self.bind_password_env, &self.bind_password_file) {
            (None, None) => Err(format!(
                "directory {name:?}: set bind_password_env or bind_password_file for the service account"
            )),
            (Some(_), Some(_)) => Err(format!(
                "directory {name:?}: set only one of bind_password_env and bind_password_file"
            )),
            _ if self.timeout_secs == 0 => Err(format!(
                "directory {name:?}: timeout_secs must be at least 1"
            )),
            _ if self.pool_size == 0 => Err(format!(
                "directory {name:?}: pool_size must be at least 1"
            )),
            _ => Ok(()),
        }
    }

    /// The service account's password, read now from its variable or file.
    pub fn bind_password(&self, name: &str) -> Result<SecretString, String> {
        if let Some(var) = &self.bind_password_env {
            return std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or_else(|| {
                    format!("directory {name:?}: the environment variable {var} is not set")
                });
        }
        if let Some(path) = &self.bind_password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "directory {name:?}: cannot read bind_password_file {}: {e}",
                    path.display()
                )
            })?;
            let first = text.lines().next().unwrap_or("").to_owned();
            if first.is_empty() {
                return Err(format!(
                    "directory {name:?}: bind_password_file {} is empty",
                    path.display()
                ));
            }
            return Ok(SecretString::from(first));
        }
        Err(format!(
            "directory {name:?}: set bind_password_env or bind_password_file"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> DirectoryConfig {
        DirectoryConfig {
            kind: DirectoryKind::Ldap,
            url: url.to_owned(),
            starttls: false,
            allow_plain: false,
            ca_file: None,
            base_dn: "ou=people,dc=example,dc=org".into(),
            user_filter: None,
            username_attribute: None,
            display_name_attribute: default_display_name_attribute(),
            mail_attribute: default_mail_attribute(),
            bind_dn: "cn=latchkey,dc=example,dc=org".into(),
            bind_password_env: Some("X".into()),
            bind_password_file: None,
            timeout_secs: 3,
            pool_size: 4,
        }
    }

    #[test]
    fn plain_ldap_is_refused_unless_allowed_explicitly() {
        assert!(config("ldaps://ldap.example.org").validate("c").is_ok());
        let e = config("ldap://ldap.example.org").validate("c").unwrap_err();
        assert!(e.contains("not encrypted"), "{e}");
        let starttls = DirectoryConfig {
            starttls: true,
            ..config("ldap://ldap.example.org")
        };
        assert!(starttls.validate("c").is_ok());
        let plain = DirectoryConfig {
            allow_plain: true,
            ..config("ldap://127.0.0.1:3890")
        };
        assert!(plain.validate("c").is_ok());
        assert!(config("http://x").validate("c").is_err());
    }

    #[test]
    fn the_default_filter_finds_by_the_kinds_user_name_attribute() {
        let ldap = config("ldaps://x");
        assert_eq!(
            ldap.user_filter(),
            "(&(objectClass=inetOrgPerson)(uid={username}))"
        );
        let ad = DirectoryConfig {
            kind: DirectoryKind::ActiveDirectory,
            ..config("ldaps://x")
        };
        assert!(ad.user_filter().contains("(sAMAccountName={username})"));
        assert_eq!(ad.id_attribute(), "objectGUID");
    }

    #[test]
    fn a_groups_section_needs_its_directory_and_a_group_dn() {
        let corp = "corp".to_owned();
        let groups = DirectoryGroups {
            lra_group_dn: Some("cn=lra,ou=groups,dc=x".into()),
            admin_group_dn: None,
        };
        assert!(groups.validate("corp", &[&corp]).is_ok());
        let e = groups.validate("other", &[&corp]).unwrap_err();
        assert!(e.contains("[directories.other]"), "{e}");
        let e = DirectoryGroups::default()
            .validate("corp", &[&corp])
            .unwrap_err();
        assert!(e.contains("lra_group_dn"), "{e}");
        let e = DirectoryGroups {
            admin_group_dn: Some("admins".into()),
            ..groups
        }
        .validate("corp", &[&corp])
        .unwrap_err();
        assert!(e.contains("DN"), "{e}");
    }

    #[test]
    fn the_service_password_needs_exactly_one_source() {
        let none = DirectoryConfig {
            bind_password_env: None,
            ..config("ldaps://x")
        };
        assert!(none.validate("c").unwrap_err().contains("bind_password"));
        let both = DirectoryConfig {
            bind_password_file: Some("/p".into()),
            ..config("ldaps://x")
        };
        assert!(both.validate("c").unwrap_err().contains("only one"));
    }
}
