//! Where the database lives when `database_url` is not set: a state
//! directory, never the working directory (a service started from `/`, or
//! an operator's `cd`, must not decide where the passwords are kept).
//!
//! In order:
//! 1. `$STATE_DIRECTORY` (systemd's `StateDirectory=`; with several, the
//!    first);
//! 2. `$XDG_STATE_HOME/latchkey`;
//! 3. `$HOME/.local/state/latchkey`.
//!
//! A relative or empty value is not a place (the XDG specification says to
//! ignore it) and the next one is tried. The directory is created with mode
//! 0700 when the database is first opened (`db::ensure_sqlite_parent_dir`),
//! never while the configuration is only read.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The database's file name in the state directory.
pub const DATABASE_FILE: &str = "latchkey.db";

/// The state directory for an environment read through `var`.
pub fn state_directory(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, String> {
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(list) = var("STATE_DIRECTORY") {
        if let Some(first) = std::env::split_paths(&list).find(|p| p.is_absolute()) {
            return Ok(first);
        }
    }
    if let Some(xdg) = absolute("XDG_STATE_HOME") {
        return Ok(xdg.join("latchkey"));
    }
    if let Some(home) = absolute("HOME") {
        return Ok(home.join(".local/state/latchkey"));
    }
    Err(
        "database_url is not set, and there is no state directory to keep the database in \
         (STATE_DIRECTORY, XDG_STATE_HOME and HOME are unset or relative): set database_url"
            .to_owned(),
    )
}

/// `sqlite://…/latchkey.db?mode=rwc` in the state directory.
pub fn default_database_url(var: impl Fn(&str) -> Option<OsString>) -> Result<String, String> {
    sqlite_url(&state_directory(var)?.join(DATABASE_FILE))
}

/// The URL of the SQLite file at the absolute `path`, created if missing.
/// The path is percent-encoded: a space, `?`, `#` or `%` in a directory
/// name stays part of the name (sqlx decodes it).
pub fn sqlite_url(path: &Path) -> Result<String, String> {
    let file = url::Url::from_file_path(path)
        .map_err(|()| format!("{} is not an absolute path", path.display()))?;
    Ok(format!("sqlite://{}?mode=rwc", file.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn systemd_s_state_directory_comes_first_then_xdg_state_home_then_home() {
        let all = [
            ("STATE_DIRECTORY", "/var/lib/latchkey"),
            ("XDG_STATE_HOME", "/home/op/.state"),
            ("HOME", "/home/op"),
        ];
        assert_eq!(
            state_directory(env(&all)).unwrap(),
            Path::new("/var/lib/latchkey")
        );
        assert_eq!(
            state_directory(env(&all[1..])).unwrap(),
            Path::new("/home/op/.state/latchkey")
        );
        assert_eq!(
            state_directory(env(&all[2..])).unwrap(),
            Path::new("/home/op/.local/state/latchkey")
        );
        assert_eq!(
            default_database_url(env(&all)).unwrap(),
            "sqlite:///var/lib/latchkey/latchkey.db?mode=rwc"
        );
    }

    #[test]
    fn a_relative_or_empty_directory_is_passed_over_and_none_at_all_is_an_error() {
        let relative = [
            ("STATE_DIRECTORY", "state"),
            ("XDG_STATE_HOME", ""),
            ("HOME", "/home/op"),
        ];
        assert_eq!(
            state_directory(env(&relative)).unwrap(),
            Path::new("/home/op/.local/state/latchkey")
        );
        let e = state_directory(env(&[("HOME", "relative/home")])).unwrap_err();
        assert!(e.contains("set database_url"), "{e}");
        assert!(state_directory(env(&[])).is_err());
    }

    #[test]
    fn with_several_state_directories_the_first_is_latchkey_s() {
        let several = [("STATE_DIRECTORY", "/var/lib/latchkey:/var/lib/other")];
        assert_eq!(
            state_directory(env(&several)).unwrap(),
            Path::new("/var/lib/latchkey")
        );
    }

    #[test]
    fn a_space_or_a_question_mark_in_the_path_stays_in_the_file_name() {
        let url = sqlite_url(Path::new("/srv/my state?/latchkey.db")).unwrap();
        assert_eq!(url, "sqlite:///srv/my%20state%3F/latchkey.db?mode=rwc");
        assert!(sqlite_url(Path::new("relative.db")).is_err());
    }
}
