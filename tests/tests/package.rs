//! The Debian package that `./x package` builds (target/package/), installed
//! for real on this machine with apt, as an administrator would: its
//! maintainer scripts run (the service's user, the secret key) and dpkg
//! knows its files and its conffile. Then the installed unit runs under a
//! real systemd: this machine has none as its init, so the test boots one
//! (Debian's systemd-nspawn) over an overlay of this machine's own root,
//! installed package included, with its writes kept in memory and the
//! host's network shared. systemd starts `latchkey.service` with all its
//! hardening, its user, its `LoadCredential=` and its `StateDirectory=`;
//! only the port is moved, by a drop-in as `systemctl edit` would write. The
//! test signs in through it. It ends with a purge, which keeps the data's
//! key.
//!
//! Everything about the installation is one test: the steps share the
//! machine's package database and must not run in parallel.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use latchkey_e2e::{free_port, workspace_root, TempDir};
use latchkey_server::password::secret_box::SecretBox;
use latchkey_shared::api::SessionInfo;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const CONFIG: &str = "/etc/latchkey/latchkey.toml";
const SECRET_KEY: &str = "/etc/latchkey/secret.key";
const BIN: &str = "/usr/bin/latchkey";
const WEB: &str = "/usr/share/latchkey/web";
/// The worst `systemd-analyze security` exposure the unit may have (it has
/// 1.1; 0 is the best, 10 the worst): a weakened unit fails here.
const MAX_EXPOSURE: f64 = 2.0;

/// The package `./x package` built for this version.
fn built_package() -> Result<PathBuf> {
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

fn stdout_of(cmd: &mut Command) -> Result<String> {
    Ok(String::from_utf8(run(cmd)?.stdout)?)
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
    // conffile left by an older build of this version is replaced.
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
    Ok(stdout_of(Command::new("getent").args(["passwd", user]))?
        .trim()
        .split(':')
        .map(str::to_owned)
        .collect())
}

/// The unit, where the package put it.
fn unit_path() -> Result<PathBuf> {
    stdout_of(Command::new("dpkg").args(["-L", "latchkey"]))?
        .lines()
        .find(|l| l.ends_with("/systemd/system/latchkey.service"))
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("the package installs no latchkey.service"))
}

/// `program args` as the service's user (as `sudo -u latchkey` would), with
/// no `SSPM_*` of this process but `env`.
fn as_latchkey(program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=latchkey",
        "--regid=latchkey",
        "--init-groups",
        "--no-new-privs",
        "--",
    ])
    .arg(program)
    .args(args)
    .env("RUST_LOG", "warn")
    .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("SSPM_") {
            cmd.env_remove(key);
        }
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd
}

/// A systemd booted in a container over an overlay of this machine's root
/// (see the module's comment), in a control group of its own; shut down,
/// unmounted and removed on drop, pass or fail.
struct Booted {
    nspawn: Option<Child>,
    root: PathBuf,
    cgroups: Vec<PathBuf>,
    log: PathBuf,
    dir: Option<TempDir>,
}

impl Booted {
    /// Boots into `latchkey.service` alone (and what it needs), the unit's
    /// port moved to `port` by a drop-in.
    fn boot(port: u16) -> Result<Booted> {
        latchkey_testkit::apt_install(&["systemd-container"]).map_err(|e| anyhow!(e))?;
        let dir = TempDir::new("lk-pkg-boot")?;
        let layer = dir.path().join("layer");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&layer)?;
        std::fs::create_dir_all(&root)?;
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a name")
            .to_owned();
        // Each hierarchy the container's systemd uses: both of a hybrid
        // set-up like this machine's, or the one of a unified one.
        let hierarchies: Vec<PathBuf> = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]
            .iter()
            .map(PathBuf::from)
            .filter(|h| h.join("cgroup.procs").exists())
            .collect();
        let hierarchies = if hierarchies.is_empty() {
            vec![PathBuf::from("/sys/fs/cgroup")]
        } else {
            hierarchies
        };
        let mut booted = Booted {
            nspawn: None,
            root: root.clone(),
            cgroups: hierarchies.iter().map(|h| h.join(&name)).collect(),
            log: dir.path().join("console.log"),
            dir: Some(dir),
        };
        // The writable layer in memory (an upper layer on the root's own
        // file system would be inside the lower one).
        run(Command::new("mount")
            .args(["-t", "tmpfs", "tmpfs"])
            .arg(&layer))?;
        std::fs::create_dir_all(layer.join("upper"))?;
        std::fs::create_dir_all(layer.join("work"))?;
        run(Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o"])
            .arg(format!(
                "lowerdir=/,upperdir={},workdir={}",
                layer.join("upper").display(),
                layer.join("work").display()
            ))
            .arg(&root))?;
        let drop_in = root.join("etc/systemd/system/latchkey.service.d");
        std::fs::create_dir_all(&drop_in)?;
        std::fs::write(
            drop_in.join("port.conf"),
            format!("[Service]\nEnvironment=SSPM_LISTEN=127.0.0.1:{port}\n"),
        )?;
        for cgroup in &booted.cgroups {
            std::fs::create_dir_all(cgroup)?;
        }
        let procs: Vec<String> = booted
            .cgroups
            .iter()
            .map(|c| c.join("cgroup.procs").display().to_string())
            .collect();
        let log = std::fs::File::create(&booted.log)?;
        // A machine id of its own: the host's would be refused for journals.
        let uuid = uuid_hex();
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#"for p in $LK_CGROUP_PROCS; do echo $$ > "$p"; done; exec systemd-nspawn "$@""#)
            .arg("sh")
            .arg("--directory")
            .arg(&root)
            .args(["--register=no", "--keep-unit", "--boot"])
            .arg(format!("--uuid={uuid}"))
            .args(["--", "systemd.unit=latchkey.service"])
            .env("LK_CGROUP_PROCS", procs.join(" "))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start systemd-nspawn")?;
        booted.nspawn = Some(child);
        Ok(booted)
    }

    fn console(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (a bounded number of tries) until the service answers
    /// `/api/health/live` on `base`.
    async fn wait_live(&mut self, base: &str) -> Result<()> {
        let http = reqwest::Client::new();
        for _ in 0..360 {
            if let Some(status) = self.nspawn.as_mut().expect("started").try_wait()? {
                bail!("the container ended ({status}):\n{}", self.console());
            }
            let console = self.console();
            if console
                .lines()
                .any(|l| l.contains("Failed to start") && l.contains("latchkey.service"))
            {
                bail!("systemd could not start latchkey.service:\n{console}");
            }
            if let Ok(r) = http.get(format!("{base}/api/health/live")).send().await {
                if r.status() == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        bail!("latchkey.service never answered:\n{}", self.console())
    }

    /// The service's main process, from its control group.
    fn service_pid(&self) -> Result<String> {
        for cgroup in &self.cgroups {
            if let Some(dir) = find_dir(cgroup, "latchkey.service") {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs"))?;
                if let Some(pid) = procs.lines().next() {
                    return Ok(pid.to_owned());
                }
            }
        }
        bail!("no process in latchkey.service's control group")
    }

    /// SIGTERM, as a host's shutdown would send: systemd stops the service
    /// and powers the container off.
    fn shut_down(&mut self) -> Result<std::process::ExitStatus> {
        let child = self.nspawn.as_mut().expect("started");
        run(Command::new("kill").args(["-TERM", &child.id().to_string()]))?;
        for _ in 0..600 {
            if let Some(status) = child.try_wait()? {
                self.nspawn = None;
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the container did not shut down:\n{}", self.console())
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        if let Some(mut child) = self.nspawn.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // What a killed container left running: its processes, by id.
        for cgroup in &self.cgroups {
            for pid in all_procs(cgroup) {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        }
        for _ in 0..50 {
            if self.cgroups.iter().all(|c| all_procs(c).is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let unmounted = [self.root.clone(), self.root.with_file_name("layer")]
            .iter()
            .all(|m| {
                Command::new("umount")
                    .arg(m)
                    .status()
                    .is_ok_and(|s| s.success())
            });
        if !unmounted {
            // Never delete through a mount of this machine's root.
            std::mem::forget(self.dir.take());
        }
        for cgroup in &self.cgroups {
            remove_cgroup(cgroup);
        }
    }
}

fn uuid_hex() -> String {
    let bytes = std::fs::read_to_string("/proc/sys/kernel/random/uuid").expect("a random uuid");
    bytes.trim().replace('-', "")
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

fn find_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    for sub in subdirs(dir) {
        if sub.file_name().is_some_and(|n| n == name) {
            return Some(sub);
        }
        if let Some(found) = find_dir(&sub, name) {
            return Some(found);
        }
    }
    None
}

fn all_procs(cgroup: &Path) -> Vec<String> {
    let mut pids: Vec<String> = std::fs::read_to_string(cgroup.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    for sub in subdirs(cgroup) {
        pids.extend(all_procs(&sub));
    }
    pids
}

/// Removes an empty control group and the ones inside it.
fn remove_cgroup(cgroup: &Path) {
    for sub in subdirs(cgroup) {
        remove_cgroup(&sub);
    }
    let _ = std::fs::remove_dir(cgroup);
}

/// A field of `/proc/PID/status`.
fn proc_status(pid: &str, field: &str) -> Result<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| anyhow!("no {field} in /proc/{pid}/status"))
}

fn exposure(unit: &Path) -> Result<f64> {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level for latchkey.service:"))
        .ok_or_else(|| anyhow!("no overall exposure in: {text}"))?;
    let value = line
        .split(':')
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .ok_or_else(|| anyhow!("unparsable {line:?}"))?;
    Ok(value.parse()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_installs_twice_and_its_unit_runs_hardened_under_systemd_signs_in_and_purges_keeping_the_key(
) -> Result<()> {
    let deb = built_package()?;

    // What the package holds, before it is installed.
    let contents = stdout_of(Command::new("dpkg-deb").arg("--contents").arg(&deb))?;
    for path in [
        "./usr/bin/latchkey",
        "./usr/share/latchkey/web/index.html",
        "./etc/latchkey/latchkey.toml",
        "/systemd/system/latchkey.service",
    ] {
        ensure!(
            contents.contains(path),
            "{path} is not in the package:\n{contents}"
        );
    }
    let conffiles = stdout_of(
        Command::new("dpkg-deb")
            .arg("--info")
            .arg(&deb)
            .arg("conffiles"),
    )?;
    ensure!(
        conffiles.lines().any(|l| l.trim() == CONFIG),
        "conffiles: {conffiles:?}"
    );

    install(&deb)?;
    assert_eq!(
        stdout_of(Command::new(BIN).arg("--version"))?.trim(),
        format!("latchkey {VERSION}")
    );
    // One static binary: nothing for the dynamic loader to find.
    let ldd = Command::new("ldd").arg(BIN).output()?;
    let ldd_said = format!(
        "{}{}",
        String::from_utf8_lossy(&ldd.stdout),
        String::from_utf8_lossy(&ldd.stderr)
    );
    assert!(
        !ldd_said.contains("=>"),
        "{BIN} links shared libraries: {ldd_said}"
    );
    assert_eq!(
        std::fs::read_to_string(CONFIG)?,
        std::fs::read_to_string(workspace_root().join("packaging/latchkey.toml"))?,
        "the installed configuration is the packaged one"
    );
    let index = std::fs::read_to_string(Path::new(WEB).join("index.html"))?;

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

    // systemd's own checks of the unit.
    let unit = unit_path()?;
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()?;
    assert!(
        verify.status.success(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let score = exposure(&unit)?;
    assert!(
        score <= MAX_EXPOSURE,
        "systemd-analyze security: {score} > {MAX_EXPOSURE}"
    );

    // The unit under systemd.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut booted = Booted::boot(port)?;
    booted.wait_live(&base).await?;

    let pid = booted.service_pid()?;
    let uids = proc_status(&pid, "Uid")?;
    assert!(
        uids.split_whitespace().all(|u| u == uid.to_string()),
        "the service runs as latchkey: Uid {uids}"
    );
    assert_eq!(proc_status(&pid, "NoNewPrivs")?, "1");
    assert_eq!(proc_status(&pid, "Seccomp")?, "2", "a system call filter");
    assert_eq!(
        proc_status(&pid, "CapEff")?,
        "0000000000000000",
        "no capabilities"
    );
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or_else(|| anyhow!("no open-file limit: {limits}"))?;
    assert_eq!(
        open_files.split_whitespace().nth(3),
        Some("16384"),
        "room for max_connections: {open_files}"
    );

    // An administrator's first steps, with the installed command line as
    // the service's user, on the database in the unit's StateDirectory.
    let state = booted.root.join("var/lib/latchkey");
    let db_url = format!("sqlite://{}?mode=rwc", state.join("latchkey.db").display());
    let cli = |args: &[&str]| {
        as_latchkey(
            BIN,
            &[&["--config", CONFIG], args].concat(),
            &[("SSPM_DATABASE_URL", &db_url)],
        )
    };
    run(&mut cli(&[
        "domain", "create", "--slug", "acme", "--name", "Acme",
    ]))?;
    let temporary = stdout_of(&mut cli(&[
        "user",
        "create",
        "--domain",
        "acme",
        "--username",
        "jdoe",
        "--display-name",
        "Jane Doe",
    ]))?
    .trim()
    .to_owned();
    assert!(temporary.chars().count() >= 16, "{temporary:?}");

    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/")).send().await?;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.text().await?,
        index,
        "the installed PWA is what the service serves"
    );
    let response = http
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({"domain": "acme", "username": "jdoe", "password": temporary}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let info: SessionInfo = response.json().await?;
    assert!(info.must_change_password);
    assert_eq!(info.user.display_name, "Jane Doe");

    // The state directory and the database: the service's user's alone.
    let state_meta = std::fs::metadata(&state)?;
    assert_eq!((state_meta.uid(), state_meta.mode() & 0o777), (uid, 0o700));
    let db_meta = std::fs::metadata(state.join("latchkey.db"))?;
    assert_eq!((db_meta.uid(), db_meta.mode() & 0o777), (uid, 0o600));

    let ended = booted.shut_down()?;
    let console = booted.console();
    assert!(ended.success(), "{ended}:\n{console}");
    assert!(
        console
            .lines()
            .any(|l| l.contains("Stopped") && l.contains("latchkey.service")),
        "{console}"
    );
    assert!(
        !console
            .lines()
            .any(|l| l.contains("Failed") && l.contains("latchkey")),
        "{console}"
    );
    drop(booted);

    // A missing configuration file stops the start, naming the file.
    let missing = as_latchkey(
        BIN,
        &["--config", "/etc/latchkey/missing.toml", "serve"],
        &[],
    )
    .output()?;
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/etc/latchkey/missing.toml"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    // A state directory the service's user cannot write stops the start,
    // naming the database.
    let not_writable = TempDir::new("lk-pkg-root-owned")?;
    let file = not_writable.path().join("latchkey.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let refused = as_latchkey(
        BIN,
        &["--config", CONFIG, "serve"],
        &[("SSPM_DATABASE_URL", &url), ("SSPM_LISTEN", "127.0.0.1:0")],
    )
    .output()?;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!(
            "cannot open the SQLite database {}",
            file.display()
        )),
        "{said}"
    );
    // So does a missing one it cannot make: /var/lib/latchkey, which only
    // systemd makes (StateDirectory=), as the installed configuration says.
    if !Path::new("/var/lib/latchkey").exists() {
        let refused = as_latchkey(
            BIN,
            &["--config", CONFIG, "serve"],
            &[("SSPM_LISTEN", "127.0.0.1:0")],
        )
        .output()?;
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains("cannot create the database's directory /var/lib/latchkey"),
            "{said}"
        );
    }

    // A purge takes the package's files and its configuration, not the
    // data's key.
    let purged = apt_get(&["purge", "latchkey"])?;
    for gone in [BIN, CONFIG, WEB] {
        assert!(!Path::new(gone).exists(), "{gone} is still there");
    }
    assert!(!unit.exists());
    assert_eq!(std::fs::read_to_string(SECRET_KEY)?, key, "the key stays");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&purged.stdout),
        String::from_utf8_lossy(&purged.stderr)
    );
    assert!(
        said.contains("kept /var/lib/latchkey and /etc/latchkey/secret.key"),
        "{said}"
    );
    Ok(())
}
