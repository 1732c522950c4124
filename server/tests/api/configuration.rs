//! The configuration through the binary: `latchkey config check`, a key no
//! setting reads stopping every command, and where the database goes
//! without `database_url`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// `latchkey` with none of the environment's settings or state
/// directories: only what the test gives it. Run in `cwd`, so that
/// anything written to the working directory would be seen.
fn latchkey(cwd: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SSPM_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("STATE_DIRECTORY")
        .env_remove("XDG_STATE_HOME")
        .env("HOME", cwd.join("home"))
        .env("RUST_LOG", "warn")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("latchkey-config-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn output(cmd: &mut tokio::process::Command) -> (bool, String, String) {
    let out = cmd.output().await.expect("latchkey runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value `config check` prints for a top-level key.
fn shown(said: &str, key: &str) -> Option<String> {
    said.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .map(str::to_owned)
}

#[tokio::test]
async fn config_check_prints_the_file_then_the_variables_with_every_secret_redacted() {
    let dir = Scratch::new();
    let secret_key = "q6H0D2hW8V0kz3d7YkQ8z9p3m1n5b7v9c1x3z5a7s9A=";
    let config = dir.file(
        "latchkey.toml",
        &format!(
            "database_url = \"postgres://latchkey:pg-pass-4471@db.example.org/latchkey\"\n\
             listen = \"0.0.0.0:9000\"\n\
             lockout_minutes = 12\n\
             metrics_token = \"metrics-token-5519-abcdef\"\n\
             secret_key = \"{secret_key}\"\n\
             trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n\
             [mail]\nhost = \"smtp.example.org\"\nfrom = \"Latchkey <no-reply@example.org>\"\n\
             username = \"latchkey\"\npassword_env = \"LATCHKEY_TEST_SMTP_PASSWORD\"\n"
        ),
    );
    let (ok, said, err) = output(
        latchkey(&dir.0)
            .args(["config", "check", "--config"])
            .arg(&config)
            .env("SSPM_LOCKOUT_MINUTES", "7")
            .env("LATCHKEY_TEST_SMTP_PASSWORD", "smtp-pass-8812"),
    )
    .await;
    assert!(ok, "{err}");
    for secret in [
        "pg-pass-4471",
        "metrics-token-5519-abcdef",
        secret_key,
        "smtp-pass-8812",
    ] {
        assert!(
            !said.contains(secret) && !err.contains(secret),
            "{secret} printed:\n{said}{err}"
        );
    }
    assert_eq!(
        shown(&said, "database_url").as_deref(),
        Some("\"postgres://latchkey:<redacted>@db.example.org/latchkey\"")
    );
    assert_eq!(
        shown(&said, "metrics_token").as_deref(),
        Some("\"<redacted>\"")
    );
    assert_eq!(
        shown(&said, "secret_key").as_deref(),
        Some("\"<redacted>\"")
    );
    assert_eq!(
        shown(&said, "listen").as_deref(),
        Some("\"0.0.0.0:9000\""),
        "from the file"
    );
    assert_eq!(
        shown(&said, "lockout_minutes").as_deref(),
        Some("7"),
        "the variable wins"
    );
    assert_eq!(
        shown(&said, "lockout_threshold").as_deref(),
        Some("5"),
        "a default"
    );
    assert_eq!(
        shown(&said, "trusted_proxies").as_deref(),
        Some("[\"10.0.0.0/8\", \"::1\"]")
    );
    assert!(
        said.contains("[mail]\nhost = \"smtp.example.org\""),
        "{said}"
    );
    assert!(said.contains("# blocklist_file: not set"), "{said}");

    // What the start would refuse, config check refuses: a password
    // variable that is not set, a secret file that cannot be read.
    let (ok, _, err) = output(
        latchkey(&dir.0)
            .args(["config", "check", "--config"])
            .arg(&config),
    )
    .await;
    assert!(!ok);
    assert!(err.contains("LATCHKEY_TEST_SMTP_PASSWORD"), "{err}");
    let (ok, _, err) = output(
        latchkey(&dir.0)
            .args(["config", "check"])
            .env("SSPM_SECRET_KEY_FILE", dir.0.join("no-such-key")),
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("secret_key_file") && err.contains("no-such-key"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_key_in_the_file_or_a_variable_stops_every_command_naming_the_key_meant() {
    let dir = Scratch::new();
    let typo = dir.file("typo.toml", "trusted_proxy = [\"127.0.0.1\"]\n");
    let in_mail = dir.file(
        "mail.toml",
        "[mail]\nhots = \"smtp.example.org\"\nfrom = \"a@example.org\"\n",
    );
    /// A command, its settings, and what it must say.
    struct Case<'a> {
        args: &'a [&'a str],
        file: Option<&'a Path>,
        variable: Option<(&'a str, &'a str)>,
        says: &'a str,
    }
    let cases = [
        Case {
            args: &["config", "check"],
            file: Some(&typo),
            variable: None,
            says: "unknown setting `trusted_proxy` of the file",
        },
        Case {
            args: &["serve"],
            file: Some(&typo),
            variable: None,
            says: "did you mean `trusted_proxies`?",
        },
        Case {
            args: &["config", "check"],
            file: Some(&in_mail),
            variable: None,
            says: "unknown setting `hots` in [mail] of the file",
        },
        Case {
            args: &["migrate"],
            file: None,
            variable: Some(("SSPM_TRUSTED_PROXY", "127.0.0.1")),
            says: "the environment variable SSPM_TRUSTED_PROXY; did you mean SSPM_TRUSTED_PROXIES?",
        },
    ];
    for case in cases {
        let mut cmd = latchkey(&dir.0);
        cmd.args(case.args).env("SSPM_LISTEN", "127.0.0.1:0");
        if let Some(file) = case.file {
            cmd.arg("--config").arg(file);
        }
        if let Some((k, v)) = case.variable {
            cmd.env(k, v);
        }
        let (ok, said, err) = output(&mut cmd).await;
        assert!(!ok, "{:?} ran: {said}", case.args);
        assert!(err.contains(case.says), "{:?}: {err}", case.args);
        if let Some(file) = case.file {
            assert!(err.contains(&file.display().to_string()), "{err}");
        }
    }
    assert!(
        !dir.0.join("home").exists(),
        "nothing was started: no state directory made"
    );
}

#[tokio::test]
async fn without_database_url_the_database_goes_to_the_state_directory_created_private() {
    let dir = Scratch::new();
    let url_with = |envs: Vec<(&'static str, PathBuf)>| {
        let mut cmd = latchkey(&dir.0);
        cmd.args(["config", "check"]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        async move {
            let (ok, said, err) = output(&mut cmd).await;
            assert!(ok, "{err}");
            shown(&said, "database_url").expect("database_url is printed")
        }
    };
    let home = dir.0.join("home");
    let xdg = dir.0.join("xdg");
    let systemd = dir.0.join("with space").join("state");
    let url = |p: &Path| format!("\"sqlite://{}?mode=rwc\"", p.join("latchkey.db").display());
    assert_eq!(
        url_with(vec![]).await,
        url(&home.join(".local/state/latchkey"))
    );
    assert_eq!(
        url_with(vec![("XDG_STATE_HOME", xdg.clone())]).await,
        url(&xdg.join("latchkey"))
    );
    assert_eq!(
        url_with(vec![
            ("XDG_STATE_HOME", xdg.clone()),
            ("STATE_DIRECTORY", systemd.clone())
        ])
        .await,
        url(&systemd).replace("with space", "with%20space"),
        "systemd's directory first, its space kept as part of the name"
    );
    assert_eq!(
        url_with(vec![
            ("STATE_DIRECTORY", systemd.clone()),
            ("SSPM_DATABASE_URL", PathBuf::from("sqlite://elsewhere.db")),
        ])
        .await,
        "\"sqlite://elsewhere.db\"",
        "database_url, when set, wins"
    );

    // The directory is made, for this user only, where the URL says; the
    // working directory gets nothing.
    let (ok, said, err) = output(
        latchkey(&dir.0)
            .arg("migrate")
            .env("STATE_DIRECTORY", &systemd),
    )
    .await;
    assert!(ok, "{err}");
    assert!(said.contains("Applied migration 1 (initial)"), "{said}");
    assert!(systemd.join("latchkey.db").is_file());
    let mode = std::fs::metadata(&systemd).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
    assert!(!dir.0.join("data").exists() && !dir.0.join("latchkey.db").exists());
    let (ok, said, err) = output(
        latchkey(&dir.0)
            .arg("migrate")
            .env("STATE_DIRECTORY", &systemd),
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        said.starts_with("The database is up to date"),
        "the same file again: {said}"
    );

    // With no state directory at all, the start says what to set.
    let (ok, _, err) = output(
        latchkey(&dir.0)
            .args(["config", "check"])
            .env("HOME", "relative/home"),
    )
    .await;
    assert!(!ok);
    assert!(err.contains("set database_url"), "{err}");
    let (ok, _, err) = output(
        latchkey(&dir.0)
            .args(["config", "check"])
            .env("SSPM_DATABASE_URL", ""),
    )
    .await;
    assert!(!ok, "an empty database_url is not the default");
    assert!(err.contains("database_url"), "{err}");
}
