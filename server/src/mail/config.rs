//! The mail server Latchkey sends notifications through:
//!
//! ```toml
//! [mail]
//! host = "smtp.example.org"
//! port = 587                         # the default for starttls; 465 for tls
//! security = "starttls"              # or "tls"; "plain" only with allow_plain
//! username = "latchkey"              # optional: no AUTH without it
//! password_env = "LATCHKEY_SMTP_PASSWORD"   # or password_file
//! from = "Latchkey <no-reply@example.org>"
//! ```
//!
//! The password comes from an environment variable or a file, never from the
//! configuration file, and is never logged. Without a `[mail]` section no
//! mail is written or sent.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailSecurity {
    /// Connect in the clear, then STARTTLS (refused if the server cannot).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only with `allow_plain = true`, for a test server on
    /// loopback (a warning is logged at start).
    Plain,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_security")]
    pub security: MailSecurity,
    #[serde(default)]
    pub allow_plain: bool,
    /// PEM file of the CA that signed the server's certificate; default:
    /// the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Seconds a connection or a command may take.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Seconds between two looks at the outbox.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
}

fn default_security() -> MailSecurity {
    MailSecurity::Starttls
}

fn default_timeout_secs() -> u64 {
    10
}

fn default_poll_secs() -> u64 {
    5
}

impl MailConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            MailSecurity::Starttls => 587,
            MailSecurity::Tls => 465,
            MailSecurity::Plain => 25,
        })
    }

    /// What is wrong with these settings, in words an administrator can act
    /// on.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("[mail] host is empty".to_owned());
        }
        if self.security == MailSecurity::Plain && !self.allow_plain {
            return Err(
                "[mail] security = \"plain\" sends mail unencrypted: use starttls or tls, or set allow_plain = true for a test server".to_owned(),
            );
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "[mail] from {:?} is not an address (e.g. \"Latchkey <no-reply@example.org>\")",
                self.from
            ));
        }
        if self.username.is_some() {
            self.password()?;
        }
        if self.poll_secs == 0 || self.timeout_secs == 0 {
            return Err("[mail] poll_secs and timeout_secs must be at least 1".to_owned());
        }
        Ok(())
    }

    /// The SMTP password, from the environment or the file.
    pub fn password(&self) -> Result<Option<SecretString>, String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| Some(SecretString::from(v)))
                .ok_or_else(|| format!("[mail] the environment variable {var} is not set"));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("[mail] cannot read password_file {}: {e}", path.display()))?;
            let first = text.lines().next().unwrap_or("").to_owned();
            if first.is_empty() {
                return Err(format!("[mail] password_file {} is empty", path.display()));
            }
            return Ok(Some(SecretString::from(first)));
        }
        if self.username.is_some() {
            return Err("[mail] username is set: set password_env or password_file".to_owned());
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MailConfig {
        MailConfig {
            host: "smtp.example.org".into(),
            port: None,
            security: MailSecurity::Starttls,
            allow_plain: false,
            ca_file: None,
            username: None,
            password_env: None,
            password_file: None,
            from: "Latchkey <no-reply@example.org>".into(),
            timeout_secs: 10,
            poll_secs: 5,
        }
    }

    #[test]
    fn plain_smtp_needs_an_explicit_allow() {
        let plain = MailConfig {
            security: MailSecurity::Plain,
            ..config()
        };
        assert!(plain.validate().unwrap_err().contains("allow_plain"));
        assert!(MailConfig {
            allow_plain: true,
            ..plain
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn a_sender_that_is_not_an_address_and_a_user_without_password_are_named() {
        let e = MailConfig {
            from: "no-reply".into(),
            ..config()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("from"), "{e}");
        let e = MailConfig {
            username: Some("latchkey".into()),
            ..config()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("password_env"), "{e}");
    }

    #[test]
    fn the_port_follows_the_security_unless_given() {
        assert_eq!(config().port(), 587);
        assert_eq!(
            MailConfig {
                security: MailSecurity::Tls,
                ..config()
            }
            .port(),
            465
        );
        assert_eq!(
            MailConfig {
                port: Some(2525),
                ..config()
            }
            .port(),
            2525
        );
    }
}
