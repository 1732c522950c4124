//! The Debian package's configuration file (`packaging/latchkey.toml`, which
//! becomes `/etc/latchkey/latchkey.toml`) lists every setting: the keys it
//! sets or shows commented out are exactly the fields of `Config` and of its
//! tables, read from the types themselves, so a new setting fails here until
//! it is documented there. The package itself is tested by the e2e crate
//! (`tests/tests/package.rs`), which needs the static release build.

use std::collections::BTreeSet;
use std::path::PathBuf;

use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use latchkey_server::directory::config::DirectoryGroups;
use latchkey_server::directory::DirectoryConfig;
use latchkey_server::mail::config::MailConfig;
use latchkey_server::Config;
use serde::de::{self, Deserialize, Visitor};

fn packaged_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../packaging/latchkey.toml")
}

/// The file with its example lines (`#key = …`, `#[table]`) switched on;
/// prose comments (`# …`) stay comments.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if !rest.is_empty() && !rest.starts_with([' ', '#']) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse(toml: &str) -> Dict {
    Figment::from(Toml::string(toml))
        .extract::<Dict>()
        .expect("the packaged configuration, uncommented, is TOML")
}

/// The field names a derived `Deserialize` asks its deserializer for: the
/// keys the type reads, as the type itself declares them.
fn fields_of<T: for<'de> Deserialize<'de>>() -> BTreeSet<String> {
    struct Introspect<'a>(&'a mut Vec<&'static str>);
    #[derive(Debug)]
    struct Done;
    impl std::fmt::Display for Done {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("introspection only")
        }
    }
    impl std::error::Error for Done {}
    impl de::Error for Done {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Done
        }
    }
    impl<'de> de::Deserializer<'de> for Introspect<'_> {
        type Error = Done;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Done> {
            Err(Done)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Done> {
            self.0.extend_from_slice(fields);
            Err(Done)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Vec::new();
    let _ = T::deserialize(Introspect(&mut fields));
    assert!(
        !fields.is_empty(),
        "{} is not read as a plain struct: derive the key list another way",
        std::any::type_name::<T>()
    );
    fields.into_iter().map(str::to_owned).collect()
}

fn keys(table: &Dict) -> BTreeSet<String> {
    table.keys().cloned().collect()
}

fn table<'a>(dict: &'a Dict, path: &[&str]) -> &'a Dict {
    let mut current = dict;
    for key in path {
        current = match current.get(*key) {
            Some(Value::Dict(_, d)) => d,
            other => panic!(
                "[{}] is not a table in the packaged file: {other:?}",
                path.join(".")
            ),
        };
    }
    current
}

#[test]
fn the_packaged_configuration_shows_every_setting_of_every_table_and_no_other() {
    let text = std::fs::read_to_string(packaged_file()).expect("packaging/latchkey.toml");
    let file = parse(&uncommented(&text));
    assert_eq!(
        keys(&file),
        fields_of::<Config>(),
        "packaging/latchkey.toml (left) must list exactly Config's keys (right)"
    );
    assert_eq!(keys(table(&file, &["mail"])), fields_of::<MailConfig>());
    assert_eq!(
        keys(table(&file, &["directories", "corp"])),
        fields_of::<DirectoryConfig>()
    );
    assert_eq!(
        keys(table(&file, &["directory_groups", "corp"])),
        fields_of::<DirectoryGroups>()
    );
}

#[test]
fn the_packaged_configuration_as_shipped_loads_with_the_package_paths() {
    // The file alone (Config::load would let SSPM_* variables of this
    // process override it), then the checks a start makes.
    let config: Config = Figment::from(Toml::file(packaged_file()))
        .extract()
        .expect("the shipped file loads");
    config.validate().expect("the shipped file is valid");
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&config.database_url),
        "sqlite:///var/lib/latchkey/latchkey.db?mode=rwc",
        "the database lives in the unit's StateDirectory, named explicitly"
    );
    assert_eq!(config.static_dir, PathBuf::from("/usr/share/latchkey/web"));
    assert_eq!(config.listen, "127.0.0.1:8080");
    assert!(!config.demo);
    assert!(config.secret_key.is_none() && config.secret_key_file.is_none());
}

#[test]
fn the_key_check_sees_a_setting_missing_from_the_file_and_one_the_type_does_not_have() {
    // The check above could pass vacuously if uncommenting or parsing lost
    // keys; a file without one setting and with one typo must differ.
    let text = std::fs::read_to_string(packaged_file()).expect("packaging/latchkey.toml");
    let altered = uncommented(&text)
        .replace("\nlockout_minutes =", "\nlockout_minute =")
        .replace("\nportal_name =", "\n# portal_name =");
    let found = keys(&parse(&altered));
    let wanted = fields_of::<Config>();
    assert!(wanted.contains("lockout_minutes") && !found.contains("lockout_minutes"));
    assert!(found.contains("lockout_minute") && !wanted.contains("lockout_minute"));
    assert!(wanted.contains("portal_name") && !found.contains("portal_name"));
}

/// The package's unit points `database_url` at its state directory; when
/// that cannot be used the start must say which file or directory it is.
#[tokio::test]
async fn a_database_that_cannot_be_opened_is_named_in_the_error() {
    let blocker = std::env::temp_dir().join(format!(
        "latchkey-not-a-dir-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&blocker, "a file where a directory should be").expect("written");
    let under_a_file = blocker.join("state");
    let unopenable =
        std::env::temp_dir().join(format!("latchkey-a-dir-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&unopenable).expect("a directory");
    for (url, named) in [
        (
            format!("sqlite://{}/latchkey.db?mode=rwc", under_a_file.display()),
            format!(
                "cannot create the database's directory {}",
                under_a_file.display()
            ),
        ),
        // The database "file" is a directory: SQLite cannot open it.
        (
            format!("sqlite://{}?mode=rwc", unopenable.display()),
            format!("cannot open the SQLite database {}", unopenable.display()),
        ),
    ] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
        for (key, _) in std::env::vars() {
            if key.starts_with("SSPM_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd
            .arg("serve")
            .env("SSPM_DATABASE_URL", &url)
            .env("SSPM_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("latchkey runs");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{said}");
        assert!(said.contains(&named), "{said}");
    }
    std::fs::remove_file(blocker).expect("removed");
    std::fs::remove_dir(unopenable).expect("removed");
}
