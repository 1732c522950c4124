//! Configuration: built-in defaults, then an optional TOML file (`--config`),
//! then `SSPM_<KEY>` environment variables, each overriding the one before.
//! The keys are listed in `docs/CONTRACTS.md`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "SSPM_";

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` (default) or `postgres://…`. Secret: it may hold a password.
    pub database_url: SecretString,
    /// Address to bind, e.g. `127.0.0.1:8080`; port 0 picks a free one.
    pub listen: String,
    /// The trunk-built PWA, served at `/`.
    pub static_dir: PathBuf,
    /// Seed the demo data into an empty database at `serve`.
    pub demo: bool,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: u32,
    /// Minutes after which a lock lifts by itself; 0 = only an unlock lifts it.
    pub lockout_minutes: u32,
    /// Hours a temporary password stays valid.
    pub temp_password_hours: u32,
    /// Minutes of inactivity that end a session.
    pub session_idle_minutes: u32,
    /// Password hashes computed at once; default: the number of cores.
    pub hash_permits: Option<usize>,
    /// Requests allowed to wait for a hashing permit before the server answers
    /// 503; default 32 × permits.
    pub hash_queue: Option<usize>,
    /// Optional list of refused (e.g. breached) passwords, one per line.
    pub blocklist_file: Option<PathBuf>,
    /// The address people use; `https://…` makes the session cookie `Secure`.
    pub public_url: Option<String>,
    /// Seconds between purges of expired sessions, counters and flows.
    pub purge_interval_secs: u64,
    /// Directory connections by name (`[directories.<name>]`), for domains
    /// whose passwords live in OpenLDAP or Active Directory.
    pub directories: std::collections::BTreeMap<String, crate::directory::DirectoryConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: SecretString::from("sqlite://data/latchkey.db?mode=rwc"),
            listen: "127.0.0.1:8080".to_owned(),
            static_dir: PathBuf::from("client/dist"),
            demo: false,
            lockout_threshold: 5,
            lockout_minutes: 30,
            temp_password_hours: 72,
            session_idle_minutes: 15,
            hash_permits: None,
            hash_queue: None,
            blocklist_file: None,
            public_url: None,
            purge_interval_secs: 300,
            directories: std::collections::BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &"<secret>")
            .field("listen", &self.listen)
            .field("static_dir", &self.static_dir)
            .field("demo", &self.demo)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("temp_password_hours", &self.temp_password_hours)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("hash_permits", &self.hash_permits)
            .field("hash_queue", &self.hash_queue)
            .field("blocklist_file", &self.blocklist_file)
            .field("public_url", &self.public_url)
            .field("purge_interval_secs", &self.purge_interval_secs)
            .field("directories", &self.directories.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error(transparent)]
    Figment(#[from] Box<figment::Error>),
}

impl Config {
    /// Defaults, then `file` (if given; it must exist), then `SSPM_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::MissingFile(file.to_owned()));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, directory) in &self.directories {
            directory.validate(name).map_err(ConfigError::Invalid)?;
        }
        if self.lockout_threshold == 0 {
            return Err(ConfigError::Invalid(
                "lockout_threshold must be at least 1".into(),
            ));
        }
        if self.session_idle_minutes == 0 {
            return Err(ConfigError::Invalid(
                "session_idle_minutes must be at least 1".into(),
            ));
        }
        if self.hash_permits == Some(0) {
            return Err(ConfigError::Invalid(
                "hash_permits must be at least 1".into(),
            ));
        }
        let url = self.database_url.expose_secret();
        if crate::db::Backend::from_url(url).is_none() {
            return Err(ConfigError::Invalid(
                "database_url must start with sqlite: or postgres://".into(),
            ));
        }
        Ok(())
    }

    pub fn effective_hash_permits(&self) -> usize {
        self.hash_permits.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    pub fn effective_hash_queue(&self) -> usize {
        self.hash_queue
            .unwrap_or_else(|| 32 * self.effective_hash_permits())
    }

    /// Cookies get `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https:"))
    }

    pub fn session_idle_secs(&self) -> i64 {
        i64::from(self.session_idle_minutes) * 60
    }

    pub fn temp_password_secs(&self) -> i64 {
        i64::from(self.temp_password_hours) * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::default();
        assert_eq!(
            c.database_url.expose_secret(),
            "sqlite://data/latchkey.db?mode=rwc"
        );
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.lockout_threshold, 5);
        assert_eq!(c.lockout_minutes, 30);
        assert_eq!(c.temp_password_hours, 72);
        assert_eq!(c.session_idle_minutes, 15);
        assert_eq!(c.effective_hash_queue(), 32 * c.effective_hash_permits());
        assert!(!c.secure_cookies());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "latchkey.toml",
                "listen = \"0.0.0.0:9000\"\nlockout_minutes = 0\npublic_url = \"https://pm.example.org\"\n",
            )?;
            jail.set_env("SSPM_LOCKOUT_MINUTES", "7");
            jail.set_env("SSPM_DEMO", "true");
            let c = Config::load(Some(Path::new("latchkey.toml"))).expect("config loads");
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.lockout_minutes, 7);
            assert!(c.demo);
            assert!(c.secure_cookies());
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/latchkey.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
