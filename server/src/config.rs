//! Configuration: built-in defaults, then an optional TOML file (`--config`),
//! then `SSPM_<KEY>` environment variables, each overriding the one before.
//! The keys are listed in `docs/CONTRACTS.md`. A key no setting reads stops
//! the start ([`keys`]); `latchkey config check` prints them all
//! ([`show`]). Without `database_url` the database is kept in a state
//! directory ([`state_dir`]).

mod keys;
pub mod show;
pub mod state_dir;

pub use keys::{Origin, UnknownKey};

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "SSPM_";

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`. Secret: it may hold a password.
    /// Default: `latchkey.db` in the state directory ([`state_dir`]).
    #[serde(serialize_with = "show::database_url")]
    pub database_url: SecretString,
    /// Address to bind, e.g. `127.0.0.1:8080`; port 0 picks a free one.
    pub listen: String,
    /// The trunk-built PWA, served at `/`.
    pub static_dir: PathBuf,
    /// Seed the demo data into an empty database at `serve`.
    pub demo: bool,
    /// `text` (the default, for a person) or `json` (one object a line,
    /// for a log shipper). `RUST_LOG` filters either.
    pub log_format: LogFormat,
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
    /// Staff roles from a directory's groups (`[directory_groups.<name>]`,
    /// one per directory that wants it); without it roles are set in Latchkey.
    pub directory_groups:
        std::collections::BTreeMap<String, crate::directory::config::DirectoryGroups>,
    /// What people call the portal whose password Latchkey manages, in the
    /// messages that send them back to it (the demo: `ClinicalConnect`).
    pub portal_name: String,
    /// Bearer token that opens `GET /metrics`; without it (or
    /// `metrics_token_file`) the endpoint is off. Secret.
    #[serde(serialize_with = "show::optional_secret")]
    pub metrics_token: Option<SecretString>,
    /// A file holding the metrics token (first line), for secret stores
    /// that mount files.
    pub metrics_token_file: Option<PathBuf>,
    /// The SMTP server for notifications (`[mail]`); without it no mail is
    /// written or sent.
    pub mail: Option<crate::mail::config::MailConfig>,
    /// The key that encrypts the authenticators' secrets (base64 of 32
    /// bytes; `latchkey secret-key` makes one). Secret.
    #[serde(serialize_with = "show::optional_secret")]
    pub secret_key: Option<SecretString>,
    /// Or a file holding it (first line).
    pub secret_key_file: Option<PathBuf>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers are
    /// believed (addresses and CIDR ranges; none by default): see
    /// [`crate::http::client_addr`].
    pub trusted_proxies: crate::http::client_addr::TrustedProxies,
    /// Failed credential checks a source (an IPv4 address, an IPv6 /64)
    /// may make in a window before each further one must wait: see
    /// [`crate::accounts::throttle`].
    pub throttle_free_failures: u32,
    /// Failed checks in a window after which the source is refused (429)
    /// until the window ends; 0 turns the per-source throttle off.
    pub throttle_max_failures: u32,
    /// The window the failures and locks of a source are counted in.
    pub throttle_window_minutes: u32,
    /// The longest wait imposed between two failures (it doubles from 1 s).
    pub throttle_max_delay_secs: u32,
    /// Accounts a source may lock in a window; at this many it is refused
    /// until the window ends; 0: no limit but the failures' own.
    pub throttle_max_locks: u32,
    /// Sources never throttled (addresses and CIDR ranges), such as an
    /// organisation's own NAT where many people share one address. The
    /// per-account lockout still applies to them.
    pub throttle_exempt: crate::http::client_addr::TrustedProxies,
    /// Seconds a client has to send a request's head (request line and
    /// headers), counted from the connection's opening (the TLS handshake
    /// included) or from its first byte after an answer. 1 to 3600.
    pub header_read_timeout_secs: u64,
    /// Seconds a keep-alive connection may wait for its next request, and
    /// a client may stop reading an answer, before it is closed. 1 to 3600.
    pub idle_timeout_secs: u64,
    /// Seconds from a request's head to the end of its body; later, the
    /// request is answered 408. 1 to 3600.
    pub body_timeout_secs: u64,
    /// Connections served at once (each is a file descriptor: keep it
    /// below `ulimit -n`); beyond it, new connections wait in the kernel's
    /// queue until one closes. 1 to 1,000,000.
    pub max_connections: usize,
    /// Seconds the requests in flight have to finish after SIGTERM before
    /// their connections are closed. 1 to 3600.
    pub shutdown_grace_secs: u64,
    /// The certificate chain (PEM, the server's certificate first): with
    /// `tls_key_file`, `listen` serves HTTPS. Read again on SIGHUP and
    /// when the files change.
    pub tls_cert_file: Option<PathBuf>,
    /// The private key of `tls_cert_file` (PEM). Secret: readable by the
    /// server alone.
    pub tls_key_file: Option<PathBuf>,
    /// A plain-HTTP address (e.g. `0.0.0.0:80`) that answers every request
    /// with a 308 to the https address, and nothing else.
    pub http_redirect_listen: Option<String>,
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// [`Config::portal_name`] unless configured: no particular product.
pub const DEFAULT_PORTAL_NAME: &str = "your organisation's portal";

/// Longest timeout of the serving loop (`*_timeout_secs`,
/// `shutdown_grace_secs`): an hour.
pub const MAX_SERVING_SECS: u64 = 3600;

/// Most `max_connections`.
pub const MAX_CONNECTIONS: usize = 1_000_000;

/// Longest [`Config::portal_name`]: it is part of sentences on small screens.
pub const MAX_PORTAL_NAME_CHARS: usize = 60;

impl Default for Config {
    fn default() -> Self {
        Self {
            // Empty when there is no state directory: `validate` says so.
            database_url: SecretString::from(
                state_dir::default_database_url(|name| std::env::var_os(name)).unwrap_or_default(),
            ),
            listen: "127.0.0.1:8080".to_owned(),
            static_dir: PathBuf::from("client/dist"),
            demo: false,
            log_format: LogFormat::Text,
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
            directory_groups: std::collections::BTreeMap::new(),
            portal_name: DEFAULT_PORTAL_NAME.to_owned(),
            metrics_token: None,
            metrics_token_file: None,
            mail: None,
            secret_key: None,
            secret_key_file: None,
            trusted_proxies: Default::default(),
            throttle_free_failures: 10,
            throttle_max_failures: 50,
            throttle_window_minutes: 60,
            throttle_max_delay_secs: 60,
            throttle_max_locks: 3,
            throttle_exempt: Default::default(),
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            body_timeout_secs: 30,
            max_connections: 1024,
            shutdown_grace_secs: 10,
            tls_cert_file: None,
            tls_key_file: None,
            http_redirect_listen: None,
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
            .field("log_format", &self.log_format)
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
            .field("directory_groups", &self.directory_groups)
            .field("portal_name", &self.portal_name)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<secret>"),
            )
            .field("metrics_token_file", &self.metrics_token_file)
            .field("mail", &self.mail.as_ref().map(|m| (&m.host, m.port())))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<secret>"))
            .field("secret_key_file", &self.secret_key_file)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("throttle_free_failures", &self.throttle_free_failures)
            .field("throttle_max_failures", &self.throttle_max_failures)
            .field("throttle_window_minutes", &self.throttle_window_minutes)
            .field("throttle_max_delay_secs", &self.throttle_max_delay_secs)
            .field("throttle_max_locks", &self.throttle_max_locks)
            .field("throttle_exempt", &self.throttle_exempt)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .field("http_redirect_listen", &self.http_redirect_listen)
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
    #[error(transparent)]
    UnknownKey(Box<UnknownKey>),
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
        let config: Config = keys::extract(&figment)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, directory) in &self.directories {
            directory.validate(name).map_err(ConfigError::Invalid)?;
        }
        if let Some(mail) = &self.mail {
            mail.validate().map_err(ConfigError::Invalid)?;
        }
        let names: Vec<&String> = self.directories.keys().collect();
        for (name, groups) in &self.directory_groups {
            groups
                .validate(name, &names)
                .map_err(ConfigError::Invalid)?;
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
        if self.throttle_window_minutes == 0 {
            return Err(ConfigError::Invalid(
                "throttle_window_minutes must be at least 1 (to turn the throttle off, set throttle_max_failures = 0)".into(),
            ));
        }
        if self.throttle_max_delay_secs == 0 {
            return Err(ConfigError::Invalid(
                "throttle_max_delay_secs must be at least 1".into(),
            ));
        }
        if self.throttle_max_failures != 0
            && self.throttle_free_failures >= self.throttle_max_failures
        {
            return Err(ConfigError::Invalid(format!(
                "throttle_free_failures ({}) must be below throttle_max_failures ({})",
                self.throttle_free_failures, self.throttle_max_failures
            )));
        }
        if self.hash_permits == Some(0) {
            return Err(ConfigError::Invalid(
                "hash_permits must be at least 1".into(),
            ));
        }
        let portal = self.portal_name.trim();
        if portal.is_empty() || portal.chars().count() > MAX_PORTAL_NAME_CHARS {
            return Err(ConfigError::Invalid(format!(
                "portal_name must have 1 to {MAX_PORTAL_NAME_CHARS} characters"
            )));
        }
        if self.metrics_token.is_some() && self.metrics_token_file.is_some() {
            return Err(ConfigError::Invalid(
                "set metrics_token or metrics_token_file, not both".into(),
            ));
        }
        if let Some(token) = &self.metrics_token {
            check_metrics_token(token.expose_secret())?;
        }
        let url = self.database_url.expose_secret();
        if url.trim().is_empty() {
            return Err(ConfigError::Invalid(
                state_dir::state_directory(|name| std::env::var_os(name))
                    .err()
                    .unwrap_or_else(|| "database_url is empty".to_owned()),
            ));
        }
        if crate::db::Backend::from_url(url).is_none() {
            return Err(ConfigError::Invalid(
                "database_url must start with sqlite: or postgres://".into(),
            ));
        }
        self.validate_serving()
    }

    /// The connection limits and TLS: a limit of 0 (no time at all, no
    /// connection) is refused rather than read as "unlimited", and so is
    /// one too large to mean anything.
    fn validate_serving(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
            ("shutdown_grace_secs", self.shutdown_grace_secs),
        ] {
            if !(1..=MAX_SERVING_SECS).contains(&value) {
                return Err(ConfigError::Invalid(format!(
                    "{key} must be 1 to {MAX_SERVING_SECS} seconds (got {value})"
                )));
            }
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(ConfigError::Invalid(format!(
                "max_connections must be 1 to {MAX_CONNECTIONS} (got {})",
                self.max_connections
            )));
        }
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => {
                return Err(ConfigError::Invalid(
                    "tls_cert_file needs tls_key_file (the certificate's private key)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "tls_key_file needs tls_cert_file (the certificate chain)".into(),
                ))
            }
            _ => {}
        }
        let public_https = self.secure_public_url();
        if self.tls_enabled()
            && self
                .public_url
                .as_deref()
                .is_some_and(|u| !u.trim().is_empty())
            && !public_https
        {
            return Err(ConfigError::Invalid(
                "public_url must be an https address when the server serves TLS (tls_cert_file)"
                    .into(),
            ));
        }
        if let Some(redirect) = &self.http_redirect_listen {
            if redirect.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "http_redirect_listen is empty: give an address such as 0.0.0.0:80, or leave it out".into(),
                ));
            }
            if !self.tls_enabled() && !public_https {
                return Err(ConfigError::Invalid(
                    "http_redirect_listen sends people to https: set tls_cert_file and \
                     tls_key_file, or an https public_url"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// The key for secrets kept encrypted, from `secret_key` or
    /// `secret_key_file`; `None`: no authenticators can be added.
    pub fn secret_box(
        &self,
    ) -> Result<Option<crate::password::secret_box::SecretBox>, ConfigError> {
        if self.secret_key.is_some() && self.secret_key_file.is_some() {
            return Err(ConfigError::Invalid(
                "set secret_key or secret_key_file, not both".into(),
            ));
        }
        let text = match (&self.secret_key, &self.secret_key_file) {
            (Some(key), _) => key.expose_secret().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| {
                    ConfigError::Invalid(format!(
                        "cannot read secret_key_file {}: {e}",
                        path.display()
                    ))
                })?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            (None, None) => return Ok(None),
        };
        crate::password::secret_box::SecretBox::from_base64(&text)
            .map(Some)
            .map_err(ConfigError::Invalid)
    }

    /// The token that opens `/metrics`, read from `metrics_token_file` if
    /// that is the one set; `None`: the endpoint is off.
    pub fn effective_metrics_token(&self) -> Result<Option<SecretString>, ConfigError> {
        if let Some(token) = &self.metrics_token {
            return Ok(Some(token.clone()));
        }
        let Some(path) = &self.metrics_token_file else {
            return Ok(None);
        };
        // The error names the file, never its content.
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::Invalid(format!(
                "cannot read metrics_token_file {}: {e}",
                path.display()
            ))
        })?;
        let token = text.lines().next().unwrap_or_default().trim();
        check_metrics_token(token)?;
        Ok(Some(SecretString::from(token.to_owned())))
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

    /// Cookies get `Secure` (and answers HSTS) on every request when the
    /// public address is https or the server serves TLS itself; otherwise
    /// only on a request a trusted proxy says came over https
    /// ([`crate::http::extract::OverHttps`]).
    pub fn secure_cookies(&self) -> bool {
        self.secure_public_url() || self.tls_enabled()
    }

    fn secure_public_url(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https:"))
    }

    /// `listen` serves HTTPS (`tls_cert_file` and `tls_key_file`).
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    pub fn session_idle_secs(&self) -> i64 {
        i64::from(self.session_idle_minutes) * 60
    }

    pub fn temp_password_secs(&self) -> i64 {
        i64::from(self.temp_password_hours) * 3600
    }
}

fn check_metrics_token(token: &str) -> Result<(), ConfigError> {
    let min = crate::metrics::MIN_TOKEN_CHARS;
    // Bounded like every other input; printable so it fits in a header.
    let printable = token.chars().all(|c| c.is_ascii_graphic());
    if token.chars().count() < min || token.len() > 512 || !printable {
        return Err(ConfigError::Invalid(format!(
            "the metrics token must be {min} to 512 printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::default();
        assert_eq!(
            c.database_url.expose_secret(),
            state_dir::default_database_url(|name| std::env::var_os(name)).unwrap(),
            "in the state directory, never the working directory"
        );
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.lockout_threshold, 5);
        assert_eq!(c.lockout_minutes, 30);
        assert_eq!(c.temp_password_hours, 72);
        assert_eq!(c.session_idle_minutes, 15);
        assert_eq!(c.effective_hash_queue(), 32 * c.effective_hash_permits());
        assert!(!c.secure_cookies());
        assert_eq!(c.portal_name, DEFAULT_PORTAL_NAME);
        assert!(c.effective_metrics_token().expect("no file").is_none());
    }

    #[test]
    fn metrics_tokens_are_long_and_never_printed() {
        let mut c = Config {
            metrics_token: Some(SecretString::from("short")),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c.metrics_token = Some(SecretString::from("a-long-enough-metrics-token"));
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("metrics-token"));
        c.metrics_token_file = Some(PathBuf::from("/run/secrets/metrics"));
        assert!(c.validate().is_err(), "both set");
    }

    #[test]
    fn the_metrics_token_may_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("latchkey-metrics-{}", std::process::id()));
        std::fs::write(&path, "a-long-enough-metrics-token\n").expect("written");
        let c = Config {
            metrics_token_file: Some(path.clone()),
            ..Config::default()
        };
        let token = c.effective_metrics_token().expect("read").expect("set");
        assert_eq!(token.expose_secret(), "a-long-enough-metrics-token");
        std::fs::remove_file(path).expect("removed");
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
    #[allow(clippy::result_large_err)]
    fn trusted_proxies_are_read_from_the_file_or_the_environment_and_a_bad_one_stops_the_start() {
        figment::Jail::expect_with(|jail| {
            use std::net::IpAddr;
            jail.create_file(
                "latchkey.toml",
                "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
            )?;
            let c = Config::load(Some(Path::new("latchkey.toml"))).expect("config loads");
            assert!(c
                .trusted_proxies
                .contains("10.9.8.7".parse::<IpAddr>().unwrap()));
            assert!(c.trusted_proxies.contains("::1".parse::<IpAddr>().unwrap()));
            assert!(!c
                .trusted_proxies
                .contains("127.0.0.1".parse::<IpAddr>().unwrap()));
            jail.set_env("SSPM_TRUSTED_PROXIES", "127.0.0.1, 192.0.2.0/24");
            let c = Config::load(Some(Path::new("latchkey.toml"))).expect("config loads");
            assert!(c
                .trusted_proxies
                .contains("192.0.2.9".parse::<IpAddr>().unwrap()));
            assert!(!c
                .trusted_proxies
                .contains("10.9.8.7".parse::<IpAddr>().unwrap()));
            jail.set_env("SSPM_TRUSTED_PROXIES", "127.0.0.1,proxy.example.org");
            let e = Config::load(Some(Path::new("latchkey.toml"))).unwrap_err();
            assert!(e.to_string().contains("proxy.example.org"), "{e}");
            assert!(Config::default().trusted_proxies.is_empty());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn throttle_settings_that_cannot_work_stop_the_start() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SSPM_THROTTLE_EXEMPT", "10.0.0.0/8, ::1");
            let c = Config::load(None).expect("config loads");
            assert!(c.throttle_exempt.contains("10.1.2.3".parse().unwrap()));
            assert_eq!(c.throttle_max_failures, 50);
            jail.set_env("SSPM_THROTTLE_EXEMPT", "10.0.0.0/8, our-nat");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(
                e.contains("our-nat") && e.to_lowercase().contains("throttle_exempt"),
                "{e}"
            );
            jail.set_env("SSPM_THROTTLE_EXEMPT", "");
            jail.set_env("SSPM_THROTTLE_WINDOW_MINUTES", "0");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("throttle_window_minutes"), "{e}");
            jail.set_env("SSPM_THROTTLE_WINDOW_MINUTES", "60");
            jail.set_env("SSPM_THROTTLE_MAX_DELAY_SECS", "0");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("throttle_max_delay_secs"), "{e}");
            jail.set_env("SSPM_THROTTLE_MAX_DELAY_SECS", "60");
            jail.set_env("SSPM_THROTTLE_FREE_FAILURES", "50");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("throttle_free_failures (50)"), "{e}");
            // Off: the free failures no longer matter.
            jail.set_env("SSPM_THROTTLE_MAX_FAILURES", "0");
            assert!(Config::load(None).is_ok());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn directory_groups_are_read_beside_their_directory_and_refused_without_it() {
        figment::Jail::expect_with(|jail| {
            let directory = "[directories.corp]\nkind = \"ldap\"\nurl = \"ldaps://ldap.example.org\"\n\
                base_dn = \"ou=people,dc=example,dc=org\"\nbind_dn = \"cn=latchkey,dc=example,dc=org\"\n\
                bind_password_env = \"CORP_PW\"\n";
            jail.create_file(
                "latchkey.toml",
                &format!(
                    "{directory}[directory_groups.corp]\nlra_group_dn = \"cn=lra,ou=groups,dc=example,dc=org\"\n"
                ),
            )?;
            let c = Config::load(Some(Path::new("latchkey.toml"))).expect("config loads");
            let groups = &c.directory_groups["corp"];
            assert_eq!(
                groups.lra_group_dn.as_deref(),
                Some("cn=lra,ou=groups,dc=example,dc=org")
            );
            assert_eq!(groups.admin_group_dn, None);
            jail.create_file(
                "other.toml",
                &format!(
                    "{directory}[directory_groups.elsewhere]\nadmin_group_dn = \"cn=a,dc=x\"\n"
                ),
            )?;
            let e = Config::load(Some(Path::new("other.toml"))).unwrap_err();
            assert!(e.to_string().contains("[directories.elsewhere]"), "{e}");
            jail.create_file(
                "typo.toml",
                &format!("{directory}[directory_groups.corp]\nlra_group = \"cn=a,dc=x\"\n"),
            )?;
            assert!(
                Config::load(Some(Path::new("typo.toml"))).is_err(),
                "unknown key"
            );
            Ok(())
        });
    }

    fn unknown(e: ConfigError) -> UnknownKey {
        match e {
            ConfigError::UnknownKey(unknown) => *unknown,
            other => panic!("not an unknown key: {other}"),
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn a_misspelled_key_in_the_file_stops_the_start_naming_the_file_and_the_key_meant() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("latchkey.toml", "trusted_proxy = [\"127.0.0.1\"]\n")?;
            let e = Config::load(Some(Path::new("latchkey.toml"))).unwrap_err();
            let text = e.to_string();
            let key = unknown(e);
            assert_eq!(key.key, "trusted_proxy");
            assert!(key.table.is_empty());
            assert!(matches!(&key.origin, Origin::File(f) if f.ends_with("latchkey.toml")));
            assert_eq!(key.suggestion.as_deref(), Some("trusted_proxies"));
            assert!(text.contains("`trusted_proxy`"), "{text}");
            assert!(text.contains("latchkey.toml"), "{text}");
            assert!(text.contains("did you mean `trusted_proxies`?"), "{text}");

            jail.create_file("far.toml", "colour = \"blue\"\n")?;
            let e = Config::load(Some(Path::new("far.toml"))).unwrap_err();
            let text = e.to_string();
            assert_eq!(unknown(e).suggestion, None, "nothing is near `colour`");
            assert!(text.contains("no setting has this name"), "{text}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn a_misspelled_key_in_a_table_names_the_table() {
        figment::Jail::expect_with(|jail| {
            let directory = "[directories.corp]\nkind = \"ldap\"\nurl = \"ldaps://ldap.example.org\"\n\
                base_dn = \"ou=people,dc=example,dc=org\"\nbind_dn = \"cn=latchkey,dc=example,dc=org\"\n\
                bind_password_env = \"CORP_PW\"\n";
            let cases = [
                (
                    "mail.toml".to_owned(),
                    "[mail]\nhots = \"smtp.example.org\"\nfrom = \"a@example.org\"\n".to_owned(),
                    "hots",
                    vec!["mail"],
                    "host",
                ),
                (
                    "directory.toml".to_owned(),
                    format!("{directory}timeout_sec = 3\n"),
                    "timeout_sec",
                    vec!["directories", "corp"],
                    "timeout_secs",
                ),
                (
                    "groups.toml".to_owned(),
                    format!("{directory}[directory_groups.corp]\nlra_group = \"cn=a,dc=x\"\n"),
                    "lra_group",
                    vec!["directory_groups", "corp"],
                    "lra_group_dn",
                ),
            ];
            for (file, text, key, table, meant) in cases {
                jail.create_file(&file, &text)?;
                let e = Config::load(Some(Path::new(&file))).unwrap_err();
                let said = e.to_string();
                let found = unknown(e);
                assert_eq!(found.key, key, "{said}");
                assert_eq!(found.table, table, "{said}");
                assert_eq!(found.suggestion.as_deref(), Some(meant), "{said}");
                assert!(
                    matches!(&found.origin, Origin::File(f) if f.ends_with(&file)),
                    "{said}"
                );
                assert!(said.contains(&format!("[{}]", table.join("."))), "{said}");
            }
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn a_misspelled_variable_stops_the_start_naming_the_variable_and_the_one_meant() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SSPM_TRUSTED_PROXY", "127.0.0.1");
            let e = Config::load(None).unwrap_err();
            let text = e.to_string();
            let key = unknown(e);
            assert_eq!(key.origin, Origin::Variable("SSPM_TRUSTED_PROXY".into()));
            assert!(
                text.contains("environment variable SSPM_TRUSTED_PROXY"),
                "{text}"
            );
            assert!(
                text.contains("did you mean SSPM_TRUSTED_PROXIES?"),
                "{text}"
            );

            std::env::remove_var("SSPM_TRUSTED_PROXY");
            jail.set_env("SSPM_LISTN", "127.0.0.1:0");
            let key = unknown(Config::load(None).unwrap_err());
            assert_eq!(key.origin, Origin::Variable("SSPM_LISTN".into()));
            assert_eq!(key.suggestion.as_deref(), Some("listen"));
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn every_known_key_is_accepted_and_printed_by_config_check() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("probe.toml", "no_such_key = 1\n")?;
            let known = unknown(Config::load(Some(Path::new("probe.toml"))).unwrap_err()).known;
            assert!(known.contains(&"trusted_proxies".to_owned()), "{known:?}");
            assert!(known.contains(&"database_url".to_owned()), "{known:?}");
            let shown = Config::default().to_redacted_toml().expect("printable");
            for key in &known {
                assert!(
                    shown.contains(&format!("\n{key} = "))
                        || shown.contains(&format!("# {key}: not set"))
                        || shown.contains(&format!("[{key}")),
                    "config check leaves `{key}` out:\n{shown}"
                );
            }
            Ok(())
        });
    }

    #[test]
    fn config_check_prints_no_secret() {
        let c = Config {
            database_url: SecretString::from(
                "postgres://latchkey:db-pass-123@db.example.org/latchkey",
            ),
            metrics_token: Some(SecretString::from("metrics-token-abcdefgh")),
            secret_key: Some(SecretString::from("c2VjcmV0LWtleS1iYXNlNjQ=")),
            ..Config::default()
        };
        let shown = c.to_redacted_toml().expect("printable");
        for secret in [
            "db-pass-123",
            "metrics-token-abcdefgh",
            "c2VjcmV0LWtleS1iYXNlNjQ=",
        ] {
            assert!(!shown.contains(secret), "{secret} printed:\n{shown}");
        }
        assert!(shown.contains("metrics_token = \"<redacted>\""), "{shown}");
        assert!(shown.contains("secret_key = \"<redacted>\""), "{shown}");
        assert!(
            shown.contains("postgres://latchkey:<redacted>@db.example.org/latchkey"),
            "where the database is stays readable:\n{shown}"
        );
        assert!(shown.contains("# blocklist_file: not set"), "{shown}");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn an_empty_file_and_no_variables_give_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("empty.toml", "")?;
            let c = Config::load(Some(Path::new("empty.toml"))).expect("defaults");
            assert_eq!(c.listen, Config::default().listen);
            Ok(())
        });
    }

    #[test]
    fn serving_limits_refuse_zero_and_the_absurd_and_accept_their_widest() {
        let defaults = Config::default();
        assert_eq!(defaults.header_read_timeout_secs, 10);
        assert_eq!(defaults.idle_timeout_secs, 30);
        assert_eq!(defaults.body_timeout_secs, 30);
        assert_eq!(defaults.max_connections, 1024);
        assert_eq!(defaults.shutdown_grace_secs, 10);
        assert!(defaults.validate().is_ok());
        type Set = fn(&mut Config, u64);
        let keys: [(&str, Set); 5] = [
            ("header_read_timeout_secs", |c, v| {
                c.header_read_timeout_secs = v
            }),
            ("idle_timeout_secs", |c, v| c.idle_timeout_secs = v),
            ("body_timeout_secs", |c, v| c.body_timeout_secs = v),
            ("shutdown_grace_secs", |c, v| c.shutdown_grace_secs = v),
            ("max_connections", |c, v| c.max_connections = v as usize),
        ];
        for (key, set) in keys {
            let widest = if key == "max_connections" {
                MAX_CONNECTIONS as u64
            } else {
                MAX_SERVING_SECS
            };
            for (value, ok) in [(0, false), (1, true), (widest, true), (widest + 1, false)] {
                let mut c = Config::default();
                set(&mut c, value);
                match c.validate() {
                    Ok(()) => assert!(ok, "{key} = {value} accepted"),
                    Err(e) => {
                        assert!(!ok, "{key} = {value} refused: {e}");
                        let e = e.to_string();
                        assert!(e.contains(key) && e.contains(&value.to_string()), "{e}");
                    }
                }
            }
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn serving_limits_are_read_from_the_environment_and_a_zero_stops_the_start() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SSPM_MAX_CONNECTIONS", "3");
            jail.set_env("SSPM_SHUTDOWN_GRACE_SECS", "45");
            let c = Config::load(None).expect("config loads");
            assert_eq!((c.max_connections, c.shutdown_grace_secs), (3, 45));
            jail.set_env("SSPM_HEADER_READ_TIMEOUT_SECS", "0");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(
                e.contains("header_read_timeout_secs must be 1 to 3600"),
                "{e}"
            );
            jail.set_env("SSPM_HEADER_READ_TIMEOUT_SECS", "-1");
            assert!(Config::load(None).is_err(), "negative");
            Ok(())
        });
    }

    #[test]
    fn tls_needs_both_files_an_https_public_url_and_the_redirect_an_https_target() {
        let tls = |c: &mut Config| {
            c.tls_cert_file = Some(PathBuf::from("/etc/ssl/cert.pem"));
            c.tls_key_file = Some(PathBuf::from("/etc/ssl/key.pem"));
        };
        let mut c = Config::default();
        tls(&mut c);
        assert!(c.validate().is_ok());
        assert!(c.secure_cookies(), "TLS makes every cookie Secure");
        c.tls_key_file = None;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("tls_key_file"));
        let c = Config {
            tls_key_file: Some(PathBuf::from("/etc/ssl/key.pem")),
            ..Config::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("tls_cert_file"));

        let mut c = Config::default();
        tls(&mut c);
        c.public_url = Some("http://pm.example.org".into());
        assert!(c.validate().unwrap_err().to_string().contains("public_url"));
        c.public_url = Some("https://pm.example.org".into());
        assert!(c.validate().is_ok());

        let mut c = Config {
            http_redirect_listen: Some("127.0.0.1:8081".into()),
            ..Config::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("http_redirect_listen"), "{e}");
        c.public_url = Some("https://pm.example.org".into());
        assert!(c.validate().is_ok(), "behind a TLS proxy");
        c.http_redirect_listen = Some(" ".into());
        assert!(c.validate().is_err(), "empty");
        let mut c = Config::default();
        tls(&mut c);
        c.http_redirect_listen = Some("127.0.0.1:8081".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/latchkey.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
