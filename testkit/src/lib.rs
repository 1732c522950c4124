//! The real servers Latchkey's tests start, shared by the server's API tests
//! (`server/tests/api`, a dev-dependency) and the end-to-end tests (`tests/`):
//! a PostgreSQL cluster ([`postgres`]), OpenLDAP ([`slapd`]), a Samba AD DC
//! ([`samba`]), an SMTP server ([`smtp`]), the certificates they speak TLS
//! with ([`tls`]), a TCP forwarder a test can cut ([`proxy`]), and the Debian
//! packages they need ([`apt_install`]). Their fixtures live in `fixtures/`
//! of this crate ([`fixtures_dir`]).
//!
//! Nothing here is mocked and nothing skips itself: a missing server is
//! installed, a server that does not start fails the test with what it said.
//! The kit does not depend on the server crate, so it is built once and not
//! again with each change to the server.

mod apt;
pub mod postgres;
pub mod proxy;
pub mod samba;
pub mod slapd;
pub mod smtp;
pub mod tls;

pub use apt::apt_install;

use std::path::{Path, PathBuf};

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
