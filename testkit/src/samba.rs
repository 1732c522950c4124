//! A throwaway Active Directory domain controller, started once per test
//! process: Debian's Samba, provisioned offline into a temporary directory
//! (realm LATCHKEY.TEST, only the LDAP service) and run in a network
//! namespace of its own, because its ports are fixed (389, 636). A veth pair
//! joins the namespace to this process: the DC listens only on its end, an
//! address of the tests' own, and nothing else is reachable through it.
//!
//! Simple binds on AD need TLS, and rustls accepts neither Samba's own
//! certificate nor a self-signed one: the DC gets a leaf signed by a CA made
//! here, with the DC's address in subjectAltName, and Latchkey trusts that
//! CA (`ca_file`).
//!
//! The domain's policy: lockout after 10 failed binds (Latchkey's own
//! threshold, 5, comes first), never lifted by time, history 3, length 8, no
//! complexity. A least-privilege service account may reset passwords and
//! write `lockoutTime` and `pwdLastSet` on users, nothing else. Tests share
//! the DC, so each makes its own users ([`Samba::new_user`]).
//!
//! A detached watchdog kills the DC, deletes the namespace (and so the veth
//! pair) and removes the directory when this process ends; a namespace left
//! by a process that died is removed at the next start. If Samba is missing,
//! the Debian packages are installed with apt-get.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;

pub const USERS_DN: &str = "CN=Users,DC=latchkey,DC=test";
pub const SERVICE_DN: &str = "CN=latchkey,CN=Users,DC=latchkey,DC=test";
pub const SERVICE_PASSWORD: &str = "Service-Secret-7731";
/// Failed binds before the DC locks an account itself.
pub const LOCKOUT_THRESHOLD: usize = 10;
const ADMIN_DN: &str = "CN=Administrator,CN=Users,DC=latchkey,DC=test";
const ADMIN_PASSWORD: &str = "Admin-Secret-5519";
const NAMESPACE_PREFIX: &str = "lkad";

/// Access rights granted to the service account on user objects (the
/// inherit-only ACEs of `CN=Users`): the Reset Password extended right, and
/// writing `lockoutTime` and `pwdLastSet`.
const SERVICE_RIGHTS: [&str; 3] = [
    "OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2",
    "OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2",
    "OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2",
];

pub struct Samba {
    dir: PathBuf,
    /// The DC's address (its end of the veth pair).
    ip: String,
    /// The host's end of the veth pair (also in the DC's certificate).
    host_ip: String,
}

/// A user of the shared DC, made for one test.
#[derive(Debug, Clone)]
pub struct AdUser {
    pub name: String,
    pub dn: String,
    pub password: String,
    pub display_name: String,
    pub mail: String,
}

static DC: OnceLock<Result<Samba, String>> = OnceLock::new();

/// The process-wide DC (provisioned and started on first use, about 10 s).
pub fn dc() -> &'static Samba {
    match DC.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("cannot start the test Samba AD DC: {e}"),
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn checked(what: &str, cmd: &mut Command) -> Result<String, String> {
    crate::checked_output(what, Ok(run(cmd)))
}

fn install_samba() -> Result<(), String> {
    let have = [
        "/usr/sbin/samba",
        "/usr/bin/samba-tool",
        "/usr/bin/ldapsearch",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if have {
        return Ok(());
    }
    eprintln!("samba not found: installing Debian's samba AD DC packages");
    crate::apt_install(&PACKAGES)
}

const PACKAGES: [&str; 6] = [
    "samba",
    "samba-ad-dc",
    "samba-ad-provision",
    "samba-dsdb-modules",
    "winbind",
    "ldap-utils",
];

/// Namespaces of earlier test processes that are gone.
fn remove_stale_namespaces() {
    let list = run(Command::new("ip").args(["netns", "list"]));
    for line in String::from_utf8_lossy(&list.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name.strip_prefix(NAMESPACE_PREFIX) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = run(Command::new("sh").args([
            "-c",
            &format!("ip netns pids {name} | xargs -r kill -9; ip netns del {name}"),
        ]));
    }
}

fn start() -> Result<Samba, String> {
    install_samba()?;
    remove_stale_namespaces();
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("latchkey-samba-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // A /30 of 10.213.0.0/16 of this process's own.
    let net = format!("10.213.{}", (pid / 64) % 256);
    let base = (pid % 64) * 4;
    let (host_ip, ip) = (format!("{net}.{}", base + 1), format!("{net}.{}", base + 2));
    let dir_s = dir.display().to_string();

    checked(
        "samba-tool domain provision",
        Command::new("samba-tool").args([
            "domain",
            "provision",
            &format!("--targetdir={dir_s}"),
            "--realm=LATCHKEY.TEST",
            "--domain=LATCHKEY",
            "--server-role=dc",
            "--dns-backend=NONE",
            "--host-name=dc1",
            &format!("--host-ip={ip}"),
            &format!("--adminpass={ADMIN_PASSWORD}"),
            "--use-rfc2307",
            &format!("--option=interfaces={ip}"),
            "--option=bind interfaces only=yes",
        ]),
    )?;
    // The host's end too: a test's proxy there stands for the DC going away.
    crate::tls::make_certificates(&dir.join("tls"), &[&ip, &host_ip], "dc1.latchkey.test")?;
    let conf = dir.join("etc/smb.conf");
    let text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for line in text.lines() {
        let key = line.trim().split('=').next().unwrap_or_default().trim();
        // Only LDAP; logs, sockets and pid files inside the directory.
        match key {
            "server services" => out.push_str("\tserver services = ldap\n"),
            "log file" => {
                for (k, v) in [
                    ("log file", "log/log.%m"),
                    ("pid directory", "run"),
                    ("ncalrpc dir", "run/ncalrpc"),
                    ("winbindd socket directory", "run/winbindd"),
                    ("ntp signd socket directory", "run/ntp_signd"),
                ] {
                    out.push_str(&format!("\t{k} = {dir_s}/{v}\n"));
                }
                // Samba lets the previous password bind for an hour after a
                // change (Windows does so for NTLM only): off, so a changed
                // password is gone at once, as the tests expect of any bind.
                out.push_str("\told password allowed period = 0\n");
                out.push_str(&format!(
                    "\ttls enabled = yes\n\ttls keyfile = {dir_s}/tls/key.pem\n\
                     \ttls certfile = {dir_s}/tls/cert.pem\n\ttls cafile = {dir_s}/tls/ca.pem\n"
                ));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    std::fs::write(&conf, out).map_err(|e| e.to_string())?;
    for sub in ["log", "run"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    let conf_s = conf.display().to_string();
    checked(
        "samba-tool domain passwordsettings",
        Command::new("samba-tool").args([
            "domain",
            "passwordsettings",
            "set",
            "-s",
            &conf_s,
            &format!("--account-lockout-threshold={LOCKOUT_THRESHOLD}"),
            "--account-lockout-duration=0",
            "--reset-account-lockout-after=30",
            "--min-pwd-length=8",
            "--history-length=3",
            "--complexity=off",
            "--min-pwd-age=0",
            "--max-pwd-age=0",
        ]),
    )?;
    checked(
        "samba-tool user create (service account)",
        Command::new("samba-tool").args([
            "user",
            "create",
            "latchkey",
            SERVICE_PASSWORD,
            "-s",
            &conf_s,
        ]),
    )?;
    let shown = checked(
        "samba-tool user show",
        Command::new("samba-tool").args([
            "user",
            "show",
            "latchkey",
            "-s",
            &conf_s,
            "--attributes=objectSid",
        ]),
    )?;
    let sid = shown
        .lines()
        .find_map(|l| l.strip_prefix("objectSid: "))
        .ok_or("no objectSid for the service account")?
        .trim()
        .to_owned();
    for ace in SERVICE_RIGHTS {
        checked(
            "samba-tool dsacl set",
            Command::new("samba-tool").args([
                "dsacl",
                "set",
                "-s",
                &conf_s,
                &format!("--objectdn={USERS_DN}"),
                &format!("--sddl=({ace};{sid})"),
            ]),
        )?;
    }

    // The namespace, the veth pair, the DC.
    let ns = format!("{NAMESPACE_PREFIX}{pid}");
    let (host_if, ns_if) = (format!("lkh{pid}"), format!("lkn{pid}"));
    let script = format!(
        "set -e; ip netns add {ns}; ip netns exec {ns} ip link set lo up; \
         ip link add {host_if} type veth peer name {ns_if}; ip link set {ns_if} netns {ns}; \
         ip addr add {host_ip}/30 dev {host_if}; ip link set {host_if} up; \
         ip netns exec {ns} ip addr add {ip}/30 dev {ns_if}; ip netns exec {ns} ip link set {ns_if} up; \
         ip netns exec {ns} samba -s {conf_s}"
    );
    checked(
        "the DC's network namespace",
        Command::new("sh").args(["-c", &script]),
    )?;
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         ip netns pids {ns} | xargs -r kill -9; ip netns del {ns}; rm -rf {dir_s}"
    );
    Command::new("setsid")
        .args(["sh", "-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("no watchdog for the DC: {e}"))?;

    let samba = Samba { dir, ip, host_ip };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match samba.bind(SERVICE_DN, SERVICE_PASSWORD) {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => {
                return Err(format!("the DC did not answer within 60 s: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Ok(samba)
}

/// A password as AD's `unicodePwd` takes it, base64 for LDIF.
fn unicode_pwd(password: &str) -> String {
    let bytes: Vec<u8> = format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Samba {
    /// Where the DC answers LDAPS.
    pub fn ldaps_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.ip.parse().expect("an IPv4 address"), 636)
    }

    /// The host's end of the veth pair, an address the DC's certificate
    /// names.
    pub fn host_ip(&self) -> &str {
        &self.host_ip
    }

    /// `ldaps://` to the DC's address.
    pub fn url(&self) -> String {
        format!("ldaps://{}/", self.ip)
    }

    /// `ldap://` to the DC's address, for StartTLS.
    pub fn plain_url(&self) -> String {
        format!("ldap://{}/", self.ip)
    }

    /// The CA that signed the DC's certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.pem")
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(name);
        cmd.env("LDAPTLS_CACERT", self.ca_file())
            .args(["-x", "-H", &self.url()]);
        cmd
    }

    /// A new user, with a name of its own (`prefix` and a number) and
    /// `password`, enabled.
    pub fn new_user(&self, prefix: &str, password: &str) -> AdUser {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.user_named(&name, &format!("{} Example", capitalised(prefix)), password)
    }

    /// A new user named exactly `name` (none may have it now), enabled.
    pub fn new_user_named(&self, name: &str, password: &str) -> AdUser {
        self.user_named(name, &format!("{} Newcomer", capitalised(name)), password)
    }

    fn user_named(&self, name: &str, display_name: &str, password: &str) -> AdUser {
        let name = name.to_owned();
        let user = AdUser {
            dn: format!("CN={name},{USERS_DN}"),
            display_name: display_name.to_owned(),
            mail: format!("{name}@latchkey.test"),
            password: password.to_owned(),
            name,
        };
        self.admin_ldif(
            "ldapadd",
            &format!(
                "dn: {}\nobjectClass: user\nsAMAccountName: {}\ndisplayName: {}\nmail: {}\n\
                 unicodePwd:: {}\nuserAccountControl: 512\n",
                user.dn,
                user.name,
                user.display_name,
                user.mail,
                unicode_pwd(password)
            ),
        );
        user
    }

    /// A new security group with `members` (DNs: users or groups).
    pub fn new_group(&self, prefix: &str, members: &[&str]) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let dn = format!("CN={name},{USERS_DN}");
        let mut ldif = format!("dn: {dn}\nobjectClass: group\nsAMAccountName: {name}\n");
        for m in members {
            ldif.push_str(&format!("member: {m}\n"));
        }
        self.admin_ldif("ldapadd", &ldif);
        dn
    }

    fn admin_ldif(&self, tool: &str, ldif: &str) {
        crate::feed(
            tool,
            self.tool(tool).args(["-D", ADMIN_DN, "-w", ADMIN_PASSWORD]),
            ldif,
        );
    }

    /// Applies an LDIF change as the domain's administrator.
    pub fn modify(&self, ldif: &str) {
        self.admin_ldif("ldapmodify", ldif);
    }

    /// A simple bind outside Latchkey, as any application would: `Err`
    /// carries what the tool printed (e.g. "data 773": must change first).
    pub fn bind(&self, dn: &str, password: &str) -> Result<String, String> {
        let out = run(self.tool("ldapsearch").args([
            "-D", dn, "-w", password, "-b", "", "-s", "base", "-LLL", "dn",
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

    /// The values of `attr` on `dn`, read as the administrator (binary ones
    /// base64-decoded into bytes, then hex).
    pub fn values(&self, dn: &str, attr: &str) -> Vec<String> {
        let out = run(self.tool("ldapsearch").args([
            "-D",
            ADMIN_DN,
            "-w",
            ADMIN_PASSWORD,
            "-LLL",
            "-o",
            "ldif-wrap=no",
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
        let (text, binary) = (format!("{attr}: "), format!("{attr}:: "));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                if let Some(v) = l.strip_prefix(&text) {
                    Some(v.to_owned())
                } else {
                    l.strip_prefix(&binary).map(|v| {
                        hex_of(
                            &base64::engine::general_purpose::STANDARD
                                .decode(v)
                                .expect("base64 from ldapsearch"),
                        )
                    })
                }
            })
            .collect()
    }

    /// `objectGUID` as a UUID (its first three fields little-endian).
    pub fn object_guid(&self, dn: &str) -> String {
        let hex = &self.values(dn, "objectGUID")[0];
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        uuid::Uuid::from_bytes_le(bytes.try_into().expect("16 bytes")).to_string()
    }

    /// Locks `user` the way AD does: failed binds elsewhere, up to the
    /// domain's threshold.
    pub fn lock(&self, user: &AdUser) {
        for i in 0..LOCKOUT_THRESHOLD {
            let _ = self.bind(&user.dn, &format!("wrong-elsewhere-{i}"));
        }
        assert!(self.is_locked(user), "the DC did not lock {}", user.name);
    }

    /// Whether the DC holds `user` locked (`msDS-User-Account-Control-Computed`
    /// bit 0x10, UF_LOCKOUT).
    pub fn is_locked(&self, user: &AdUser) -> bool {
        self.values(&user.dn, "msDS-User-Account-Control-Computed")
            .first()
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| v & 0x10 != 0)
    }

    /// The DC's own count of failed binds since the last good one.
    pub fn bad_password_count(&self, user: &AdUser) -> usize {
        self.values(&user.dn, "badPwdCount")
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Disables `user`: an administrator's lock, never self-service's to lift.
    pub fn disable(&self, user: &AdUser) {
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n",
            user.dn
        ));
    }

    pub fn is_disabled(&self, user: &AdUser) -> bool {
        self.values(&user.dn, "userAccountControl")
            .first()
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| v & 0x2 != 0)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
