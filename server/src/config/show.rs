//! The effective settings as `latchkey config check` prints them: every key
//! of [`Config`] (its `Serialize`, so a new setting is printed the moment
//! it exists), secrets replaced by [`REDACTED`].
//!
//! A secret cannot be printed by mistake: `SecretString` has no
//! `Serialize`, so a new secret field does not compile until it names one
//! of the functions here.

use secrecy::{ExposeSecret, SecretString};
use serde::Serializer;

use super::{Config, ConfigError};

/// What a secret is printed as.
pub const REDACTED: &str = "<redacted>";

/// `serialize_with` for a secret.
pub fn secret<S: Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(REDACTED)
}

/// `serialize_with` for an optional secret: unset stays unset.
pub fn optional_secret<S: Serializer>(
    value: &Option<SecretString>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_some(REDACTED),
        None => s.serialize_none(),
    }
}

/// `serialize_with` for `database_url`: where the database is, without
/// its password.
pub fn database_url<S: Serializer>(url: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redacted_url(url.expose_secret()))
}

/// A database URL with its password (in the user part, or as a
/// `password` / `sslpassword` parameter) replaced. A SQLite URL names a
/// file and holds no secret; a PostgreSQL URL that does not parse is
/// hidden whole rather than guessed at.
pub fn redacted_url(url: &str) -> String {
    if crate::db::Backend::from_url(url) == Some(crate::db::Backend::Sqlite) {
        return url.to_owned();
    }
    let Ok(mut parsed) = url::Url::parse(url.trim()) else {
        return REDACTED.to_owned();
    };
    // `Url` percent-encodes what it is given: a marker it leaves alone is
    // set, then replaced by the words.
    const MARK: &str = "REDACTEDxPASSWORD";
    if parsed.password().is_some() && parsed.set_password(Some(MARK)).is_err() {
        return REDACTED.to_owned();
    }
    let secret_parameter =
        |k: &str| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword");
    if parsed.query_pairs().any(|(k, _)| secret_parameter(&k)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_parameter(&k) {
                    MARK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string().replace(MARK, REDACTED)
}

impl Config {
    /// The settings as TOML, secrets redacted, with a comment naming each
    /// key that is not set (its absence means its default behaviour).
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid(e.to_string());
        let body = toml::to_string(self).map_err(|e| invalid(&e))?;
        let tree = serde_json::to_value(self).map_err(|e| invalid(&e))?;
        let mut unset = Vec::new();
        unset_keys(&tree, &mut Vec::new(), &mut unset);
        let mut out = String::from(
            "# Latchkey's effective settings: the defaults, then the --config file, then SSPM_*\n\
             # variables. Secrets are shown as \"<redacted>\".\n",
        );
        for key in unset {
            out.push_str(&format!("# {key}: not set\n"));
        }
        out.push('\n');
        out.push_str(&body);
        Ok(out)
    }
}

/// The dotted path of every `null` (an unset `Option`) under `value`.
fn unset_keys(value: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => out.push(path.join(".")),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                path.push(key.clone());
                unset_keys(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgresql_password_is_redacted_wherever_the_url_holds_it() {
        assert_eq!(
            redacted_url("postgres://latchkey:s3cr%3At@db.example.org:5432/latchkey"),
            "postgres://latchkey:<redacted>@db.example.org:5432/latchkey"
        );
        let with_parameter =
            redacted_url("postgresql://latchkey@db/latchkey?sslmode=require&password=hunter2");
        assert!(!with_parameter.contains("hunter2"), "{with_parameter}");
        assert!(
            with_parameter.contains("sslmode=require"),
            "{with_parameter}"
        );
        assert!(
            with_parameter.contains("password=<redacted>"),
            "{with_parameter}"
        );
        assert_eq!(
            redacted_url("postgres://latchkey@db/latchkey"),
            "postgres://latchkey@db/latchkey",
            "nothing to hide"
        );
        assert_eq!(redacted_url("postgres://user:pw@[bad/x"), REDACTED);
        assert_eq!(
            redacted_url("sqlite:///var/lib/latchkey/latchkey.db?mode=rwc"),
            "sqlite:///var/lib/latchkey/latchkey.db?mode=rwc"
        );
    }
}
