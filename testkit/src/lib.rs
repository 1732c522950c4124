//! The real servers Latchkey's tests start, shared by the server's API tests
//! (`server/tests/api`, a dev-dependency) and the end-to-end tests (`tests/`):
//! a PostgreSQL cluster ([`postgres`]), OpenLDAP ([`slapd`]), a Samba AD DC
//! ([`samba`]), an SMTP server ([`smtp`]), the certificates they speak TLS
//! with ([`tls`]), a TCP forwarder a test can cut ([`proxy`]), nginx in front
//! of Latchkey ([`nginx`]), and the Debian packages they need
//! ([`apt_install`]). Their fixtures live in `fixtures/`
//! of this crate ([`fixtures_dir`]).
//!
//! Nothing here is mocked and nothing skips itself: a missing server is
//! installed, a server that does not start fails the test with what it said.
//! The kit does not depend on the server crate, so it is built once and not
//! again with each change to the server.

mod apt;
pub mod nginx;
pub mod postgres;
pub mod proxy;
pub mod samba;
pub mod slapd;
pub mod smtp;
pub mod tls;

pub use apt::apt_install;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// This crate's fixtures (`testkit/fixtures/`), e.g. `slapd/config.ldif`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Runs `cmd` with `input` on its standard input; panics with what it wrote
/// on standard error unless it succeeds (an LDIF fed to `ldapmodify`).
pub fn feed(what: &str, cmd: &mut Command, input: &str) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    child
        .stdin
        .take()
        .expect("a piped standard input")
        .write_all(input.as_bytes())
        .unwrap_or_else(|e| panic!("{what}: cannot write its input: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The standard output of `cmd`, or `what` with everything it printed.
pub fn checked_output(
    what: &str,
    out: std::io::Result<std::process::Output>,
) -> Result<String, String> {
    let out = out.map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
