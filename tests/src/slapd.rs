//! A throwaway OpenLDAP for the end-to-end tests and the load harness:
//! Debian's `slapd` with the ppolicy overlay, configured from the server's
//! fixtures (`server/tests/api/fixtures/slapd/`, read from there, not
//! copied) into a temporary directory and listening on a free loopback
//! port. Stopped (by its own pid) and removed on drop. If `slapd` or the
//! OpenLDAP tools are missing, Debian's `slapd` and `ldap-utils` are
//! installed with apt-get, as the server's helper does.
//!
//! The directory is read and changed with the OpenLDAP command-line tools,
//! as an administrator outside Latchkey would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};

use crate::{free_port, workspace_root, TempDir};

pub const BASE_DN: &str = "dc=latchkey,dc=test";
pub const PEOPLE_DN: &str = "ou=people,dc=latchkey,dc=test";
pub const SERVICE_DN: &str = "cn=latchkey,ou=dsa,dc=latchkey,dc=test";
pub const SERVICE_PASSWORD: &str = "service-Secret-7731";
pub const ALICE_PASSWORD: &str = "alice-Orchid-4471";
pub const BOB_PASSWORD: &str = "bob-Lantern-9032";
const ROOT_DN: &str = "cn=admin,dc=latchkey,dc=test";
const ROOT_PASSWORD: &str = "root-Secret-5519";

/// The DN of the person `uid` in the fixtures' tree.
pub fn user_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE_DN}")
}

/// The server's slapd fixtures (`config.ldif`, `data.ldif`).
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("server/tests/api/fixtures/slapd")
}

fn run(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))
}

fn id(flag: &str) -> Result<String> {
    Ok(
        String::from_utf8_lossy(&run(Command::new("id").arg(flag))?.stdout)
            .trim()
            .to_owned(),
    )
}

/// Installs Debian's `slapd` and `ldap-utils` if either is missing.
pub fn ensure_slapd() -> Result<()> {
    if Path::new("/usr/sbin/slapd").exists() && Path::new("/usr/bin/ldapwhoami").exists() {
        return Ok(());
    }
    eprintln!("slapd not found: installing the Debian packages slapd and ldap-utils");
    crate::apt_install(&["slapd", "ldap-utils"]).map_err(|e| anyhow!(e))
}

/// A running `slapd`; stopped and its directory removed on drop.
pub struct Slapd {
    port: u16,
    dir: TempDir,
}

impl Slapd {
    /// A new server with the fixtures' content (the service account, the
    /// ppolicy default policy, alice and bob).
    pub fn start() -> Result<Slapd> {
        ensure_slapd()?;
        let dir = TempDir::new("lk-slapd")?;
        std::fs::create_dir_all(dir.path().join("data"))?;
        std::fs::create_dir_all(dir.path().join("slapd.d"))?;
        let fixtures = fixtures_dir();
        let read = |name: &str| {
            std::fs::read_to_string(fixtures.join(name))
                .with_context(|| format!("read {}", fixtures.join(name).display()))
        };
        let config = read("config.ldif")?
            .replace("DIR", &dir.path().display().to_string())
            .replace("UID", &id("-u")?)
            .replace("GID", &id("-g")?)
            .replace("ROOTPW", ROOT_PASSWORD);
        let data = read("data.ldif")?
            .replace("SERVICEPW", SERVICE_PASSWORD)
            .replace("ALICEPW", ALICE_PASSWORD)
            .replace("BOBPW", BOB_PASSWORD);
        std::fs::write(dir.path().join("config.ldif"), config)?;
        std::fs::write(dir.path().join("data.ldif"), data)?;
        for (db, file) in [("0", "config.ldif"), ("1", "data.ldif")] {
            let out = run(Command::new("/usr/sbin/slapadd")
                .args(["-n", db, "-F"])
                .arg(dir.path().join("slapd.d"))
                .arg("-l")
                .arg(dir.path().join(file)))?;
            ensure!(
                out.status.success(),
                "slapadd {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let slapd = Slapd {
            port: free_port(),
            dir,
        };
        let out = run(Command::new("/usr/sbin/slapd")
            .arg("-F")
            .arg(slapd.dir.path().join("slapd.d"))
            .arg("-h")
            .arg(slapd.url()))?;
        ensure!(
            out.status.success(),
            "slapd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while slapd.bind(SERVICE_DN, SERVICE_PASSWORD).is_err() {
            if Instant::now() > deadline {
                bail!("slapd did not answer on {}", slapd.url());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(slapd)
    }

    /// `ldap://127.0.0.1:PORT/` (plain LDAP on loopback only).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// slapd's own process id (from its pid file).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("slapd.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
    }

    /// A file holding the service account's password (mode 0600), for a
    /// configuration's `bind_password_file`.
    pub fn service_password_file(&self) -> Result<PathBuf> {
        let path = self.dir.path().join("service-password");
        std::fs::write(&path, format!("{SERVICE_PASSWORD}\n"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(path)
    }

    /// A `[directories.NAME]` section of latchkey.toml for this server (plain
    /// LDAP on loopback, allowed explicitly), as `scripts/demo/ldap.sh` writes it.
    pub fn config_section(&self, name: &str) -> Result<String> {
        Ok(format!(
            "[directories.{name}]\n\
             kind = \"ldap\"\n\
             url = \"{}\"\n\
             allow_plain = true\n\
             base_dn = \"{PEOPLE_DN}\"\n\
             bind_dn = \"{SERVICE_DN}\"\n\
             bind_password_file = \"{}\"\n",
            self.url().trim_end_matches('/'),
            self.service_password_file()?.display()
        ))
    }

    /// A simple bind outside Latchkey (`ldapwhoami`), asking for the
    /// password policy response: `Err` carries what the tool printed (e.g.
    /// "Account locked", "Password must be changed", "Invalid credentials").
    pub fn bind(&self, dn: &str, password: &str) -> std::result::Result<String, String> {
        let out = run(Command::new("ldapwhoami").args([
            "-x",
            "-e",
            "ppolicy",
            "-H",
            &self.url(),
            "-D",
            dn,
            "-w",
            password,
        ]))
        .map_err(|e| e.to_string())?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    fn as_root(&self, tool: &str, ldif: &str) -> Result<()> {
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {tool}"))?;
        child
            .stdin
            .take()
            .ok_or_else(|| anyhow!("{tool} has no stdin"))?
            .write_all(ldif.as_bytes())?;
        let out = child.wait_with_output()?;
        ensure!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// Applies an LDIF change as the directory's administrator.
    pub fn modify(&self, ldif: &str) -> Result<()> {
        self.as_root("ldapmodify", ldif)
    }

    /// Adds people `uid` with `password` under `ou=people`.
    pub fn add_users(&self, users: &[(String, String)]) -> Result<()> {
        let ldif: String = users
            .iter()
            .map(|(uid, password)| {
                format!(
                    "dn: {}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Load\n\
                     userPassword: {password}\n\n",
                    user_dn(uid)
                )
            })
            .collect();
        self.as_root("ldapadd", &ldif)
    }

    /// The values of `attr` (operational ones too) on the entry `dn`.
    pub fn values(&self, dn: &str, attr: &str) -> Result<Vec<String>> {
        let out = run(Command::new("ldapsearch")
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &self.url()])
            .args([
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
                "-s",
                "base",
                "-b",
                dn,
                attr,
            ]))?;
        ensure!(
            out.status.success(),
            "ldapsearch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prefix = format!("{attr}: ");
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }

    /// Stops the server: SIGTERM to its own pid, then waits for it to go.
    pub fn stop(&self) {
        if let Some(pid) = self.pid() {
            let _ = run(Command::new("kill").arg(pid.to_string()));
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Whether `pid` is still running (a zombie waiting for its reaper is not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

impl Drop for Slapd {
    fn drop(&mut self) {
        // Then `dir` (a TempDir) removes the data.
        self.stop();
    }
}
