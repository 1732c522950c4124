//! A throwaway OpenLDAP server per test: Debian's `slapd` with the ppolicy
//! overlay, configured from `fixtures/slapd/` into a temporary directory and
//! listening on a free loopback port (it needs no root and starts in well
//! under a second). The tests read and change the directory with the
//! OpenLDAP command-line tools, as an administrator outside Latchkey would.
//! If `slapd` is missing, the Debian packages are installed with apt-get.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PEOPLE_DN: &str = "ou=people,dc=latchkey,dc=test";
pub const SERVICE_DN: &str = "cn=latchkey,ou=dsa,dc=latchkey,dc=test";
pub const SERVICE_PASSWORD: &str = "service-Secret-7731";
pub const ALICE_PASSWORD: &str = "alice-Orchid-4471";
pub const BOB_PASSWORD: &str = "bob-Lantern-9032";
const ROOT_DN: &str = "cn=admin,dc=latchkey,dc=test";
const ROOT_PASSWORD: &str = "root-Secret-5519";

const CONFIG: &str = include_str!("../fixtures/slapd/config.ldif");
const DATA: &str = include_str!("../fixtures/slapd/data.ldif");

pub struct Slapd {
    dir: PathBuf,
    port: u16,
}

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

fn install_slapd() {
    if Path::new("/usr/sbin/slapd").exists() && Path::new("/usr/bin/ldapwhoami").exists() {
        return;
    }
    eprintln!("slapd not found: installing the Debian packages slapd and ldap-utils");
    if let Err(e) = super::apt_install(&["slapd", "ldap-utils"]) {
        panic!("{e}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Slapd {
    /// A new server with the fixtures' content; stopped and removed on drop.
    pub fn start() -> Slapd {
        install_slapd();
        let dir = std::env::temp_dir().join(format!("latchkey-slapd-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("slapd.d")).unwrap();
        let config = CONFIG
            .replace("DIR", &dir.display().to_string())
            .replace("UID", &id("-u"))
            .replace("GID", &id("-g"))
            .replace("ROOTPW", ROOT_PASSWORD);
        let data = DATA
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
            port: free_port(),
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.bind(SERVICE_DN, SERVICE_PASSWORD).is_err() {
            assert!(Instant::now() < deadline, "slapd did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("slapd.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
    }

    /// Stops the server (its data stays, for [`Slapd::restart`]).
    pub fn stop(&self) {
        if let Some(pid) = self.pid() {
            let _ = run(Command::new("kill").arg(pid.to_string()));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
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

    /// A simple bind outside Latchkey, asking for the password policy
    /// response: `Err` carries what the tool printed (e.g. "Account locked",
    /// "Password must be changed").
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

    /// Applies an LDIF change as the directory's administrator.
    pub fn modify(&self, ldif: &str) {
        let mut child = Command::new("ldapmodify")
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ldapmodify");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ldapmodify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
