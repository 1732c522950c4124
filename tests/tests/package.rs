//! The Debian package that `./x package` builds (target/package/), installed
//! for real on this machine with apt, as an administrator would: its
//! maintainer scripts run (the service's user, the secret key), and dpkg
//! knows its files and conffile. The machine runs no systemd, so the test
//! does what the unit says instead: the unit's own `ExecStart`, as its
//! `User`, with its `Environment` and its `LoadCredential` files in a
//! credentials directory. Only the database (the unit's `StateDirectory`,
//! which systemd would create) and the port are moved to a temporary place.
//! It ends with a purge, which leaves the data and its key.
//!
//! Everything about the installation is one test: the steps share the
//! machine's package database and must not run in parallel.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use latchkey_e2e::{workspace_root, TempDir};
use latchkey_server::password::secret_box::SecretBox;
use latchkey_shared::api::SessionInfo;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const CONFIG: &str = "/etc/latchkey/latchkey.toml";
const SECRET_KEY: &str = "/etc/latchkey/secret.key";
const BIN: &str = "/usr/bin/latchkey";
const WEB: &str = "/usr/share/latchkey/web";

/// The unit, where the package puts it (`dpkg -L` finds it: `unit_path`).
fn unit_path() -> Result<PathBuf> {
    let out = run(Command::new("dpkg").args(["-L", "latchkey"]))?;
    String::from_utf8(out.stdout)?
        .lines()
        .find(|l| l.ends_with("/systemd/system/latchkey.service"))
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("the package installs no latchkey.service"))
}

/// The package `./x package` built for this version.
pub fn built_package() -> Result<PathBuf> {
    let deb = workspace_root()
        .join("target/package")
        .join(format!("latchkey_{VERSION}-1_amd64.deb"));
    if !deb.is_file() {
        bail!(
            "{} is missing: run `./x package` (or `./x test`, which builds it)",
            deb.display()
        );
    }
    Ok(deb)
}

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

/// apt-get, waiting for the package database if another install holds it.
fn apt_get(args: &[&str]) -> Result<Output> {
    run(Command::new("apt-get")
        .args(["-y", "-q", "-o", "DPkg::Lock::Timeout=600"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn install(deb: &Path) -> Result<Output> {
    // --reinstall: the same version again is the second install; confnew: a
    // conffile left over from an older build is replaced by this one's.
    apt_get(&[
        "install",
        "--reinstall",
        "--no-install-recommends",
        "-o",
        "Dpkg::Options::=--force-confnew",
        deb.to_str().expect("a UTF-8 path"),
    ])
}

fn passwd_entry(user: &str) -> Result<Vec<String>> {
    let out = run(Command::new("getent").args(["passwd", user]))?;
    Ok(String::from_utf8(out.stdout)?
        .trim()
        .split(':')
        .map(str::to_owned)
        .collect())
}

/// What the unit's `[Service]` section says: each key's values in order.
fn unit_settings(unit: &str) -> BTreeMap<String, Vec<String>> {
    let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut in_service = false;
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            in_service = line == "[Service]";
        } else if in_service && !line.starts_with('#') {
            if let Some((key, value)) = line.split_once('=') {
                settings
                    .entry(key.to_owned())
                    .or_default()
                    .push(value.to_owned());
            }
        }
    }
    settings
}

/// The unit's process as systemd would start it, without systemd: its user,
/// its environment with `%d` the credentials directory `creds`, and the
/// credentials copied there readable by that user only.
struct AsTheUnit {
    user: String,
    exec_start: Vec<String>,
    env: Vec<(String, String)>,
}

impl AsTheUnit {
    fn read(unit_file: &Path, creds: &Path) -> Result<AsTheUnit> {
        let settings = unit_settings(&std::fs::read_to_string(unit_file)?);
        let one = |key: &str| -> Result<String> {
            match settings.get(key).map(Vec::as_slice) {
                Some([value]) => Ok(value.clone()),
                other => bail!("the unit has {other:?} for {key}"),
            }
        };
        let user = one("User")?;
        let exec_start = one("ExecStart")?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let creds_dir = creds.to_str().expect("a UTF-8 path");
        let mut env = Vec::new();
        for assignment in settings.get("Environment").into_iter().flatten() {
            let (key, value) = assignment
                .split_once('=')
                .ok_or_else(|| anyhow!("Environment={assignment}"))?;
            env.push((key.to_owned(), value.replace("%d", creds_dir)));
        }
        let owner = passwd_entry(&user)?;
        let (uid, gid): (u32, u32) = (owner[2].parse()?, owner[3].parse()?);
        for credential in settings.get("LoadCredential").into_iter().flatten() {
            let (id, source) = credential
                .split_once(':')
                .ok_or_else(|| anyhow!("LoadCredential={credential}"))?;
            let copy = creds.join(id);
            std::fs::copy(source, &copy).with_context(|| format!("credential {source}"))?;
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o400))?;
            std::os::unix::fs::chown(&copy, Some(uid), Some(gid))?;
        }
        std::os::unix::fs::chown(creds, Some(uid), Some(gid))?;
        std::fs::set_permissions(creds, std::fs::Permissions::from_mode(0o500))?;
        Ok(AsTheUnit {
            user,
            exec_start,
            env,
        })
    }

    /// `program args` as the unit's user with the unit's environment and
    /// `extra` (and no `SSPM_*` of this process).
    fn command(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={}", self.user))
            .arg(format!("--regid={}", self.user))
            .args(["--init-groups", "--no-new-privs", "--"])
            .arg(program)
            .args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("SSPM_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("RUST_LOG", "warn");
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        for (key, value) in extra {
            cmd.env(key, value);
        }
        cmd
    }
}

/// A started server process; killed on drop.
struct Started {
    child: std::process::Child,
    base: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` and waits (at most a minute) for its address line.
fn start(mut cmd: Command) -> Result<Started> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start the installed server")?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = Vec::new();
    let mut started = Started {
        child,
        base: String::new(),
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .map_err(|_| anyhow!("no address line; printed {printed:?}"))?;
        if let Some(addr) = line.strip_prefix("Latchkey listening on ") {
            started.base = addr.trim().to_owned();
            return Ok(started);
        }
        printed.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_installs_twice_runs_its_units_command_as_its_own_user_signs_in_and_purges_keeping_the_data(
) -> Result<()> {
    let deb = built_package()?;

    // What the package holds, before it is installed.
    let contents = String::from_utf8(run(Command::new("dpkg-deb").arg("--contents").arg(&deb))?.stdout)?;
    for path in [
        "./usr/bin/latchkey",
        "./usr/share/latchkey/web/index.html",
        "./etc/latchkey/latchkey.toml",
        "/systemd/system/latchkey.service",
    ] {
        ensure!(contents.contains(path), "{path} is not in the package:\n{contents}");
    }
    let conffiles = String::from_utf8(
        run(Command::new("dpkg-deb").arg("--info").arg(&deb).arg("conffiles"))?.stdout,
    )?;
    ensure!(conffiles.lines().any(|l| l.trim() == CONFIG), "conffiles: {conffiles:?}");

    install(&deb)?;
    let version = run(Command::new(BIN).arg("--version"))?;
    assert_eq!(
        String::from_utf8(version.stdout)?.trim(),
        format!("latchkey {VERSION}")
    );
    // One static binary: nothing for the dynamic loader to find.
    let ldd = Command::new("ldd").arg(BIN).output()?;
    let ldd_said = String::from_utf8_lossy(&ldd.stdout).to_string() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(!ldd_said.contains("=>"), "{BIN} links shared libraries: {ldd_said}");
    assert_eq!(
        std::fs::read_to_string(CONFIG)?,
        std::fs::read_to_string(workspace_root().join("packaging/latchkey.toml"))?,
        "the installed configuration is the packaged one"
    );
    assert!(Path::new(WEB).join("index.html").is_file());

    // The service's own user: a system account that cannot log in.
    let user = passwd_entry("latchkey")?;
    let uid: u32 = user[2].parse()?;
    assert!((1..1000).contains(&uid), "a system uid: {user:?}");
    assert_eq!(user[6], "/usr/sbin/nologin", "{user:?}");
    // The key: made by the package, root's alone, a valid key.
    let key_meta = std::fs::metadata(SECRET_KEY)?;
    assert_eq!(key_meta.mode() & 0o777, 0o600);
    assert_eq!((key_meta.uid(), key_meta.gid()), (0, 0));
    let key = std::fs::read_to_string(SECRET_KEY)?;
    SecretBox::from_base64(key.trim()).map_err(|e| anyhow!("the packaged key: {e}"))?;

    // The same install again changes neither the user nor the key.
    install(&deb)?;
    assert_eq!(passwd_entry("latchkey")?, user);
    assert_eq!(std::fs::read_to_string(SECRET_KEY)?, key);

    // The unit, as systemd would run it.
    let unit_file = unit_path()?;
    let creds = TempDir::new("lk-pkg-creds")?;
    let unit = AsTheUnit::read(&unit_file, creds.path())?;
    assert_eq!(
        unit.exec_start,
        [BIN, "--config", CONFIG, "serve"],
        "the unit runs the installed binary with the installed configuration"
    );
    assert_eq!(unit.user, "latchkey");
    let state = TempDir::new("lk-pkg-state")?;
    std::os::unix::fs::chown(state.path(), Some(uid), Some(uid))?;
    std::fs::set_permissions(state.path(), std::fs::Permissions::from_mode(0o700))?;
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        state.path().join("latchkey.db").display()
    );
    let moved = [
        ("SSPM_DATABASE_URL", db_url.as_str()),
        ("SSPM_LISTEN", "127.0.0.1:0"),
    ];

    // An administrator's first steps, with the installed command line.
    let cli = |args: &[&str]| unit.command(BIN, &[&["--config", CONFIG], args].concat(), &moved);
    run(&mut cli(&["domain", "create", "--slug", "acme", "--name", "Acme"]))?;
    let created = run(&mut cli(&[
        "user",
        "create",
        "--domain",
        "acme",
        "--username",
        "jdoe",
        "--display-name",
        "Jane Doe",
    ]))?;
    let temporary = String::from_utf8(created.stdout)?.trim().to_owned();
    assert!(temporary.chars().count() >= 16, "{temporary:?}");

    let (program, args) = unit.exec_start.split_first().expect("a command");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = start(unit.command(program, &args, &moved))?;
    // setpriv execs the server: its process is the one started, as the
    // service's user.
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))?;
    let uids = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .ok_or_else(|| anyhow!("no Uid line"))?;
    assert!(
        uids.split_whitespace().all(|u| u == uid.to_string()),
        "the server runs as latchkey: Uid {uids}"
    );
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", server.base)).send().await?;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.text().await?,
        std::fs::read_to_string(Path::new(WEB).join("index.html"))?,
        "the installed PWA is what the server serves"
    );
    let response = http
        .post(format!("{}/api/session", server.base))
        .json(&serde_json::json!({"domain": "acme", "username": "jdoe", "password": temporary}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let info: SessionInfo = response.json().await?;
    assert!(info.must_change_password);
    assert_eq!(info.user.display_name, "Jane Doe");
    // The database belongs to the service's user alone.
    let db_meta = std::fs::metadata(state.path().join("latchkey.db"))?;
    assert_eq!(db_meta.uid(), uid);
    drop(server);

    // A missing configuration file stops the start, naming the file.
    let missing = unit
        .command(BIN, &["--config", "/etc/latchkey/missing.toml", "serve"], &moved)
        .output()?;
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/etc/latchkey/missing.toml"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    // A state directory the service's user cannot write stops it too.
    let read_only = TempDir::new("lk-pkg-ro")?;
    let ro_url = format!(
        "sqlite://{}?mode=rwc",
        read_only.path().join("latchkey.db").display()
    );
    let refused = unit
        .command(
            BIN,
            &["--config", CONFIG, "serve"],
            &[("SSPM_DATABASE_URL", ro_url.as_str()), ("SSPM_LISTEN", "127.0.0.1:0")],
        )
        .output()?;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("unable to open database file"), "{said}");

    // A purge takes the package's files and its configuration, not the
    // data's key (nor a database in /var/lib/latchkey).
    let purged = apt_get(&["purge", "latchkey"])?;
    assert!(!Path::new(BIN).exists());
    assert!(!Path::new(CONFIG).exists());
    assert!(!unit_file.exists());
    assert!(!Path::new(WEB).exists());
    assert_eq!(std::fs::read_to_string(SECRET_KEY)?, key, "the key stays");
    let said = String::from_utf8_lossy(&purged.stderr).to_string() + &String::from_utf8_lossy(&purged.stdout);
    assert!(said.contains("kept /var/lib/latchkey and /etc/latchkey/secret.key"), "{said}");
    Ok(())
}
