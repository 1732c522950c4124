//! A key no setting reads stops the start: a misspelled `trusted_proxies`
//! would otherwise leave every proxy untrusted without a word.
//!
//! The known keys are the types' own, never a list kept beside them, so a
//! setting added to [`super::Config`] (or to a table of it) is known the
//! moment it exists:
//! - `Config` and its tables are `#[serde(deny_unknown_fields)]`: serde
//!   refuses the first unknown key and hands over the fields it expected,
//!   from which the nearest is suggested;
//! - as a net under a table that forgot that attribute, the same data is
//!   read again through `serde_ignored`, which reports every key a type
//!   passed over (named, without a suggestion).
//!
//! Every `SSPM_*` variable is read as a setting: a script that needs a
//! variable of its own names it `LATCHKEY_*` (as `./x load` does with
//! `LATCHKEY_BIN`).

use std::fmt;

use figment::error::Kind;
use figment::value::Value;
use figment::Figment;
use serde::de::DeserializeOwned;

use super::{ConfigError, ENV_PREFIX};

/// A key that no setting reads, where it was written, and the known key
/// nearest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The key as the configuration spells it (`trusted_proxy`).
    pub key: String,
    /// The tables above it (`["directories", "corp"]`); empty at the top.
    pub table: Vec<String>,
    pub origin: Origin,
    /// The nearest known key, when one is near enough to be a misspelling.
    pub suggestion: Option<String>,
    /// Every key the table it sits in reads (empty when only the net saw
    /// it).
    pub known: Vec<String>,
}

/// Where an unknown key was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file (`--config`), by its path.
    File(String),
    /// An environment variable, by its name.
    Variable(String),
    /// Neither could be told (a provider without metadata).
    Unknown,
}

impl fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let section = if self.table.is_empty() {
            String::new()
        } else {
            format!(" in [{}]", self.table.join("."))
        };
        match &self.origin {
            Origin::Variable(name) if self.table.is_empty() => {
                write!(f, "unknown setting: the environment variable {name}")?;
                if let Some(s) = &self.suggestion {
                    write!(f, "; did you mean {ENV_PREFIX}{}?", s.to_ascii_uppercase())?;
                }
            }
            origin => {
                let from = match origin {
                    Origin::File(path) => format!(" of the file {path}"),
                    Origin::Variable(name) => format!(" of the environment variable {name}"),
                    Origin::Unknown => String::new(),
                };
                write!(f, "unknown setting `{}`{section}{from}", self.key)?;
                if let Some(s) = &self.suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
            }
        }
        if self.suggestion.is_none() {
            write!(
                f,
                " (no setting has this name: `latchkey config check` prints them all)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownKey {}

/// Reads `figment` into `T`, refusing a key that no setting reads.
pub fn extract<T: DeserializeOwned>(figment: &Figment) -> Result<T, ConfigError> {
    let value = match figment.extract::<T>() {
        Ok(value) => value,
        Err(error) => {
            return Err(match &error.kind {
                Kind::UnknownField(key, known) => {
                    ConfigError::UnknownKey(Box::new(unknown_key(figment, &error.path, key, known)))
                }
                _ => ConfigError::Figment(Box::new(error)),
            })
        }
    };
    if let Some(path) = passed_over::<T>(figment).into_iter().next() {
        let key = path.last().expect("a key path is never empty");
        return Err(ConfigError::UnknownKey(Box::new(unknown_key(
            figment,
            &path,
            key,
            &[],
        ))));
    }
    Ok(value)
}

/// The keys `T` passed over (a table without `deny_unknown_fields`), each
/// as its path from the top.
fn passed_over<T: DeserializeOwned>(figment: &Figment) -> Vec<Vec<String>> {
    let Ok(value) = figment.extract::<Value>() else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    // `extract` above read the same data: this second reading cannot fail
    // where that one did not, and it is only asked what was passed over.
    let _ = serde_ignored::deserialize::<_, _, T>(&value, |path| paths.push(segments(&path)));
    paths
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut s = segments(parent);
            s.push(index.to_string());
            s
        }
        Path::Map { parent, key } => {
            let mut s = segments(parent);
            s.push(key.clone());
            s
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

/// `key` found where `path` points: figment's path of the error, which
/// ends with the key itself when the key's value was being read.
fn unknown_key(figment: &Figment, path: &[String], key: &str, known: &[&str]) -> UnknownKey {
    let table: Vec<String> = match path.split_last() {
        Some((last, above)) if last == key => above.to_vec(),
        _ => path.to_vec(),
    };
    let mut full = table.clone();
    full.push(key.to_owned());
    let origin = origin(figment, &full);
    UnknownKey {
        key: key.to_owned(),
        suggestion: nearest(key, known).map(str::to_owned),
        known: known.iter().map(|k| (*k).to_owned()).collect(),
        table,
        origin,
    }
}

fn origin(figment: &Figment, path: &[String]) -> Origin {
    let Some(metadata) = figment.find_metadata(&path.join(".")) else {
        return Origin::Unknown;
    };
    match &metadata.source {
        Some(figment::Source::File(file)) => Origin::File(file.display().to_string()),
        // The environment provider has no source; its keys are one
        // variable each, the top-level key upper-cased after the prefix.
        _ if metadata.name.contains("environment") => Origin::Variable(format!(
            "{ENV_PREFIX}{}",
            path.first()
                .map(String::as_str)
                .unwrap_or("")
                .to_ascii_uppercase()
        )),
        _ => Origin::Unknown,
    }
}

/// The known key nearest to `key`, if near enough to be a typing slip
/// rather than another word: at most a third of its letters (two for
/// short keys) inserted, dropped, changed or swapped.
pub fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&key, k), *k))
        .filter(|(distance, k)| *distance <= (k.chars().count() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_of_the_keyboard_finds_its_key_and_another_word_finds_none() {
        let known = [
            "trusted_proxies",
            "listen",
            "lockout_minutes",
            "lockout_threshold",
        ];
        assert_eq!(nearest("trusted_proxy", &known), Some("trusted_proxies"));
        assert_eq!(nearest("trusted_proxie", &known), Some("trusted_proxies"));
        assert_eq!(nearest("lsiten", &known), Some("listen"));
        assert_eq!(nearest("LISTEN", &known), Some("listen"));
        assert_eq!(nearest("lockout_minute", &known), Some("lockout_minutes"));
        assert_eq!(nearest("port", &known), None);
        assert_eq!(nearest("", &known), None);
        assert_eq!(nearest("listen", &[]), None);
    }

    /// The net is only as good as its second reading: it must read the
    /// whole configuration, every table and every kind of value a variable
    /// gives, as figment does (else it would pass over nothing, silently).
    #[test]
    #[allow(clippy::result_large_err)]
    fn the_net_reads_the_whole_configuration_as_figment_does() {
        figment::Jail::expect_with(|jail| {
            use figment::providers::{Env, Format, Toml};
            jail.create_file(
                "full.toml",
                "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n\
                 [mail]\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\nport = 2525\n\
                 [directories.corp]\nkind = \"active_directory\"\nurl = \"ldaps://dc.example.org\"\n\
                 base_dn = \"dc=example,dc=org\"\nbind_dn = \"cn=l,dc=example,dc=org\"\n\
                 bind_password_env = \"X\"\n\
                 [directory_groups.corp]\nadmin_group_dn = \"cn=a,dc=example,dc=org\"\n",
            )?;
            for (k, v) in [
                ("SSPM_LOCKOUT_MINUTES", "7"),
                ("SSPM_DEMO", "true"),
                ("SSPM_HASH_PERMITS", "2"),
                ("SSPM_LOG_FORMAT", "json"),
                ("SSPM_TRUSTED_PROXIES", "127.0.0.1, 192.0.2.0/24"),
                ("SSPM_METRICS_TOKEN", "a-long-enough-metrics-token"),
                ("SSPM_BLOCKLIST_FILE", "/etc/latchkey/blocklist.txt"),
            ] {
                jail.set_env(k, v);
            }
            let figment = Figment::new()
                .merge(Toml::file("full.toml"))
                .merge(Env::prefixed(ENV_PREFIX));
            figment
                .extract::<super::super::Config>()
                .expect("figment reads it");
            let value = figment.extract::<Value>().expect("the merged data");
            let mut passed = Vec::new();
            serde_ignored::deserialize::<_, _, super::super::Config>(&value, |p| {
                passed.push(p.to_string())
            })
            .expect("the net reads what figment reads");
            assert!(passed.is_empty(), "{passed:?}");
            Ok(())
        });
    }

    /// A table that forgot `deny_unknown_fields` still refuses a key no
    /// field reads: the net names it and where it was written.
    #[test]
    #[allow(clippy::result_large_err)]
    fn a_key_under_a_table_without_deny_unknown_fields_is_still_refused() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Top {
            #[serde(default)]
            #[allow(dead_code)]
            throttle: Option<Lenient>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Lenient {
            #[allow(dead_code)]
            window_secs: u64,
        }
        figment::Jail::expect_with(|jail| {
            use figment::providers::{Format, Toml};
            jail.create_file("t.toml", "[throttle]\nwindow_secs = 60\nwindow_sec = 6\n")?;
            let e = extract::<Top>(&Figment::new().merge(Toml::file("t.toml"))).unwrap_err();
            let ConfigError::UnknownKey(unknown) = &e else {
                panic!("{e}")
            };
            assert_eq!(unknown.key, "window_sec");
            assert_eq!(unknown.table, ["throttle"]);
            assert!(matches!(&unknown.origin, Origin::File(f) if f.ends_with("t.toml")));
            assert!(e.to_string().contains("[throttle]"), "{e}");
            jail.create_file("ok.toml", "[throttle]\nwindow_secs = 60\n")?;
            assert!(extract::<Top>(&Figment::new().merge(Toml::file("ok.toml"))).is_ok());
            Ok(())
        });
    }
}
