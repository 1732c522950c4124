//! Debian packages for the tests' real servers.

/// Installs Debian `packages` for a test's server (`apt-get update` first
/// only if the plain install fails, as on a fresh machine).
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    use std::process::{Command, Stdio};
    let install = || {
        Command::new("apt-get")
            // Another install (a parallel test's) holds the lock: wait for it.
            .args(["-o", "DPkg::Lock::Timeout=600"])
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if install() {
        return Ok(());
    }
    let _ = Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
    if install() {
        Ok(())
    } else {
        Err(format!("apt-get install {} failed", packages.join(" ")))
    }
}
