//! A throwaway OpenLDAP server per test (the API tests, the end-to-end
//! tests, the load harness): Debian's `slapd` with the ppolicy overlay,
//! configured from this crate's `fixtures/slapd/` into a temporary directory
//! and listening on a free loopback port (it needs no root and starts in
//! well under a second). Stopped (by its own pid) and removed on drop. The
//! tests read and change the directory with the OpenLDAP command-line tools,
//! as an administrator outside Latchkey would. If `slapd` or the tools are
//! missing, Debian's `slapd` and `ldap-utils` are installed with apt-get.
//!
//! A helper that cannot do what it is asked panics with what the tool
//! printed: in a test, that is the failure to read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BASE_DN: &str = "dc=latchkey,dc=test";
pub const PEOPLE_DN: &str = "ou=people,dc=latchkey,dc=test";
pub const SERVICE_DN: &str = "cn=latchkey,ou=dsa,dc=latchkey,dc=test";
pub const SERVICE_PASSWORD: &str = "service-Secret-7731";
pub const ALICE_PASSWORD: &str = "alice-Orchid-4471";
pub const BOB_PASSWORD: &str = "bob-Lantern-9032";
const ROOT_DN: &str = "cn=admin,dc=latchkey,dc=test";
const ROOT_PASSWORD: &str = "root-Secret-5519";

/// A running `slapd`; stopped and its directory removed on drop.
pub struct Slapd {
    dir: PathBuf,
    port: u16,
}

/// The DN of the person `uid` in the fixtures' tree.
pub fn user_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE_DN}")
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn id(flag: &str) -> String {
    String::from_utf8_lossy(&run(Command::new("id").arg(flag)).stdout)
        .trim()
        .to_owned()
}

/// Installs Debian's `slapd` and `ldap-utils` if either is missing.
pub fn install() {
    if Path::new("/usr/sbin/slapd").exists() && Path::new("/usr/bin/ldapwhoami").exists() {
        return;
    }
    eprintln!("slapd not found: installing the Debian packages slapd and ldap-utils");
    if let Err(e) = crate::apt_install(&["slapd", "ldap-utils"]) {
        panic!("{e}");
    }
}

/// The slapd fixtures (`config.ldif`, `data.ldif`), with placeholders for
/// the directory, the user, the group and the passwords.
pub fn fixtures_dir() -> PathBuf {
    crate::fixtures_dir().join("slapd")
}

fn fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

impl Slapd {
    /// A new server with the fixtures' content (the service account, the
    /// ppolicy default policy, alice and bob); stopped and removed on drop.
    pub fn start() -> Slapd {
        install();
        let dir = std::env::temp_dir().join(format!("latchkey-slapd-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("slapd.d")).unwrap();
        let config = fixture("config.ldif")
            .replace("DIR", &dir.display().to_string())
            .replace("UID", &id("-u"))
            .replace("GID", &id("-g"))
            .replace("ROOTPW", ROOT_PASSWORD);
        let data = fixture("data.ldif")
            .replace("SERVICEPW", SERVICE_PASSWORD)
            .replace("ALICEPW", ALICE_PASSWORD)
            .replace("BOBPW", BOB_PASSWORD);
        std::fs::write(dir.join("config.ldif"), config).unwrap();
        std::fs::write(dir.join("data.ldif"), data).unwrap();
        for (db, file) in [("0", "config.ldif"), ("1", "data.ldif")] {
            let out = run(Command::new("/usr/sbin/slapadd")
                .args(["-n", db, "-F"])
                .arg(dir.join("slapd.d"))
                .arg("-l")
                .arg(dir.join(file)));
            assert!(
                out.status.success(),
                "slapadd {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let slapd = Slapd {
            dir,
            port: crate::free_port(),
        };
        slapd.run_server();
        slapd
    }

    fn run_server(&self) {
        let out = run(Command::new("/usr/sbin/slapd")
            .arg("-F")
            .arg(self.dir.join("slapd.d"))
            .arg("-h")
            .arg(self.url()));
        assert!(
            out.status.success(),
            "slapd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.bind(SERVICE_DN, SERVICE_PASSWORD).is_err() {
            assert!(
                Instant::now() < deadline,
                "slapd did not answer on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `ldap://127.0.0.1:PORT/` (plain LDAP on loopback only).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// slapd's own process id (from its pid file), while it runs.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("slapd.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
    }

    /// A file holding the service account's password (mode 0600), for a
    /// configuration's `bind_password_file`.
    pub fn service_password_file(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join("service-password");
        std::fs::write(&path, format!("{SERVICE_PASSWORD}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// A `[directories.NAME]` section of latchkey.toml for this server (plain
    /// LDAP on loopback, allowed explicitly), as `scripts/demo/ldap.sh` writes it.
    pub fn config_section(&self, name: &str) -> String {
        format!(
            "[directories.{name}]\n\
             kind = \"ldap\"\n\
             url = \"{}\"\n\
             allow_plain = true\n\
             base_dn = \"{PEOPLE_DN}\"\n\
             bind_dn = \"{SERVICE_DN}\"\n\
             bind_password_file = \"{}\"\n",
            self.url().trim_end_matches('/'),
            self.service_password_file().display()
        )
    }

    /// Stops the server (its data stays, for [`Slapd::restart`]): SIGTERM to
    /// its own pid, then SIGCONT (a server a failed test left paused would
    /// otherwise keep the signal pending and outlive the test), then waits
    /// for it to go.
    pub fn stop(&self) {
        if let Some(pid) = self.pid() {
            let _ = run(Command::new("kill").arg(pid.to_string()));
            let _ = run(Command::new("kill").args(["-CONT", &pid.to_string()]));
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and requests
    /// are accepted by the kernel but never answered, as a directory that
    /// hangs; [`Slapd::resume`] lets it go on.
    pub fn pause(&self) {
        let pid = self.pid().expect("slapd's pid");
        let _ = run(Command::new("kill").args(["-STOP", &pid.to_string()]));
    }

    pub fn resume(&self) {
        let pid = self.pid().expect("slapd's pid");
        let _ = run(Command::new("kill").args(["-CONT", &pid.to_string()]));
    }

    /// Whether a request sits unread on one of the server's connections
    /// (the receive queue of an established socket on its port, from
    /// `/proc/net/tcp`): with the server paused, a client is waiting on it.
    pub fn has_unread_request(&self) -> bool {
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let port = format!(":{:04X}", self.port);
        tcp.lines().skip(1).any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 4
                && f[1].ends_with(&port)
                && f[3] == "01"
                && f[4]
                    .split(':')
                    .nth(1)
                    .and_then(|rx| u64::from_str_radix(rx, 16).ok())
                    .is_some_and(|rx| rx > 0)
        })
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&self) {
        self.run_server();
    }

    /// A simple bind outside Latchkey (`ldapwhoami`), asking for the
    /// password policy response: `Err` carries what the tool printed (e.g.
    /// "Account locked", "Password must be changed", "Invalid credentials").
    pub fn bind(&self, dn: &str, password: &str) -> Result<String, String> {
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
        ]));
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

    /// Applies an LDIF change to the server's own configuration (`cn=config`,
    /// database 0), as its operator would: stopped, changed offline with
    /// `slapmodify`, started again on the same port.
    pub fn change_config(&self, ldif: &str) {
        self.stop();
        let file = self.dir.join("config-change.ldif");
        std::fs::write(&file, ldif).unwrap();
        let out = run(Command::new("/usr/sbin/slapmodify")
            .args(["-n", "0", "-F"])
            .arg(self.dir.join("slapd.d"))
            .arg("-l")
            .arg(&file));
        assert!(
            out.status.success(),
            "slapmodify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.restart();
    }

    /// Runs `tool` (`ldapmodify`, `ldapadd`) on `ldif` as the directory's
    /// administrator.
    fn as_root(&self, tool: &str, ldif: &str) {
        crate::feed(
            tool,
            Command::new(tool).args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PASSWORD]),
            ldif,
        );
    }

    /// Applies an LDIF change as the directory's administrator.
    pub fn modify(&self, ldif: &str) {
        self.as_root("ldapmodify", ldif);
    }

    /// Adds people `uid` with `password` under `ou=people`.
    pub fn add_users(&self, users: &[(String, String)]) {
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
        self.as_root("ldapadd", &ldif);
    }

    /// The values of `attr` (operational ones too) on the entry `dn`.
    pub fn values(&self, dn: &str, attr: &str) -> Vec<String> {
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
            ]));
        assert!(
            out.status.success(),
            "ldapsearch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prefix = format!("{attr}: ");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// Sets the ppolicy lock on `uid`, as failures elsewhere would.
    pub fn lock(&self, uid: &str, locked_time: &str) {
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: {locked_time}\n",
            user_dn(uid)
        ));
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
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What only the load harness and the browser tests use (the API tests
    /// cover the rest): people added in bulk bind, the password file holds
    /// the service account's password for its owner alone, and the
    /// configuration section names this server.
    #[test]
    fn added_people_bind_and_the_config_section_names_this_server() {
        let slapd = Slapd::start();
        slapd.add_users(&[
            ("load1".to_owned(), "load-Pass-1111".to_owned()),
            ("load2".to_owned(), "load-Pass-2222".to_owned()),
        ]);
        assert!(slapd.bind(&user_dn("load1"), "load-Pass-1111").is_ok());
        assert!(slapd.bind(&user_dn("load2"), "load-Pass-1111").is_err());
        assert_eq!(slapd.values(&user_dn("load2"), "uid"), ["load2"]);

        let file = slapd.service_password_file();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("{SERVICE_PASSWORD}\n")
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let section = slapd.config_section("corp");
        assert!(section.starts_with("[directories.corp]\n"), "{section}");
        assert!(
            section.contains(&format!("url = \"ldap://127.0.0.1:{}\"", slapd.port())),
            "{section}"
        );
        assert!(section.contains(&file.display().to_string()), "{section}");
    }

    /// A stopped server is gone by its pid (no zombie counted as running)
    /// and starts again on the same port with the same data.
    #[test]
    fn a_stopped_server_restarts_on_its_port_with_its_data() {
        let slapd = Slapd::start();
        let pid = slapd.pid().expect("slapd's pid");
        slapd.stop();
        assert!(!alive(pid));
        assert!(slapd.bind(SERVICE_DN, SERVICE_PASSWORD).is_err());
        slapd.restart();
        assert!(slapd.bind(&user_dn("alice"), ALICE_PASSWORD).is_ok());
    }

    /// A test that fails while the server is paused leaves no frozen
    /// `slapd` behind.
    #[test]
    fn a_paused_server_is_gone_after_drop() {
        let slapd = Slapd::start();
        let pid = slapd.pid().expect("slapd's pid");
        slapd.pause();
        drop(slapd);
        assert!(!alive(pid));
    }
}
