//! A real SMTP server per test: `aiosmtpd` (from PyPI, in a virtual
//! environment under `.tools/`, installed here if missing) on a free
//! loopback port, storing what it receives in a Maildir the test reads with
//! Python's own `email` parser (so MIME decoding is not ours to get right).
//!
//! The kit knows nothing of Latchkey's configuration: the server's tests
//! turn a server into a `[mail]` section (`helpers::mail_config`) from
//! [`SmtpServer::port`], [`SmtpServer::security`] and [`SmtpServer::ca_file`].

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How a TLS test server speaks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, required before any mail.
    Starttls,
    /// TLS from the first byte.
    Tls,
}

pub struct SmtpServer {
    port: u16,
    maildir: PathBuf,
    /// STARTTLS or TLS from the first byte, with certificates in this
    /// directory (`ca.pem` signed `cert.pem`); `None`: plain SMTP.
    tls: Option<(Security, PathBuf)>,
    child: Mutex<Option<Child>>,
}

/// One mail as received.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

const AIOSMTPD: &str = "aiosmtpd==1.4.6";

fn venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/smtp-venv")
}

fn python() -> PathBuf {
    venv().join("bin/python")
}

/// The virtual environment with aiosmtpd, made once per process.
fn install() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let ok = Command::new(python())
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(());
        }
        eprintln!(
            "aiosmtpd not found: installing it into {}",
            venv().display()
        );
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv())
            .status()
            .map_err(|e| e.to_string())?;
        if !made.success() {
            return Err("python3 -m venv failed".into());
        }
        let pip = Command::new(python())
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                AIOSMTPD,
            ])
            .status()
            .map_err(|e| e.to_string())?;
        if pip.success() {
            Ok(())
        } else {
            Err(format!("pip install {AIOSMTPD} failed"))
        }
    })
}

impl SmtpServer {
    /// Plain SMTP.
    pub fn start() -> SmtpServer {
        Self::start_with(None)
    }

    /// `security` (STARTTLS, required before any mail, or TLS from the first
    /// byte) with a certificate for 127.0.0.1 from a CA made for this server.
    pub fn start_tls(security: Security) -> SmtpServer {
        let dir = std::env::temp_dir().join(format!("latchkey-smtp-tls-{}", uuid::Uuid::new_v4()));
        if let Err(e) = crate::tls::make_certificates(&dir, &["127.0.0.1"], "localhost") {
            panic!("cannot make the test SMTP server's certificates: {e}");
        }
        Self::start_with(Some((security, dir)))
    }

    fn start_with(tls: Option<(Security, PathBuf)>) -> SmtpServer {
        if let Err(e) = install() {
            panic!("cannot install the test SMTP server: {e}");
        }
        let maildir = std::env::temp_dir().join(format!("latchkey-smtp-{}", uuid::Uuid::new_v4()));
        let server = SmtpServer {
            port: crate::free_port(),
            maildir,
            tls,
            child: Mutex::new(None),
        };
        server.restart();
        server
    }

    /// The CA that signed this server's certificate (TLS servers only).
    pub fn ca_file(&self) -> PathBuf {
        let (_, dir) = self.tls.as_ref().expect("a TLS test SMTP server");
        dir.join("ca.pem")
    }

    /// The host it listens on: always loopback.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How it speaks TLS; `None`: plain SMTP.
    pub fn security(&self) -> Option<Security> {
        self.tls.as_ref().map(|(s, _)| *s)
    }

    /// Starts the server (again) on its port, with the same Maildir.
    pub fn restart(&self) {
        let mut command = Command::new(python());
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("{}:{}", self.host(), self.port));
        if let Some((security, dir)) = &self.tls {
            let (cert, key) = match security {
                Security::Tls => ("--smtpscert", "--smtpskey"),
                Security::Starttls => ("--tlscert", "--tlskey"),
            };
            command
                .arg(cert)
                .arg(dir.join("cert.pem"))
                .arg(key)
                .arg(dir.join("key.pem"));
        }
        let child = command
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((self.host(), self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server; what it received stays.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every mail received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        const READ: &str = r#"
import email, email.policy, json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], create=False)
out = []
for key in sorted(box.keys()):
    msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    out.append({
        "to": str(msg["To"]), "from": str(msg["From"]), "subject": str(msg["Subject"]),
        "text": text.get_content() if text else "", "html": html.get_content() if html else "",
    })
print(json.dumps(out))
"#;
        if !self.maildir.join("new").exists() {
            return Vec::new();
        }
        let out = Command::new(python())
            .args(["-c", READ])
            .arg(&self.maildir)
            .output()
            .expect("python reads the Maildir");
        assert!(
            out.status.success(),
            "reading the Maildir: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the reader's JSON")
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.maildir);
        if let Some((_, dir)) = &self.tls {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
