//! Certificates made for a test run with `openssl`: the real servers the
//! tests start (the Samba DC, the SMTP server) speak TLS with them, and
//! Latchkey trusts only the CA given in its configuration.

use std::path::Path;
use std::process::Command;

fn checked(what: &str, cmd: &mut Command) -> Result<String, String> {
    crate::checked_output(what, cmd.output())
}

/// A CA (`ca.pem`, `ca.key`) and a server leaf (`cert.pem`, `key.pem`, the
/// key readable by its owner only) for `ips` and `dns`, signed by it, valid
/// two days.
pub fn make_certificates(tls: &Path, ips: &[&str], dns: &str) -> Result<(), String> {
    if Command::new("openssl").arg("version").output().is_err() {
        crate::apt_install(&["openssl"])?;
    }
    std::fs::create_dir_all(tls).map_err(|e| e.to_string())?;
    let path = |f: &str| tls.join(f).display().to_string();
    checked(
        "openssl CA",
        Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Latchkey Test CA",
            "-keyout",
            &path("ca.key"),
            "-out",
            &path("ca.pem"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]),
    )?;
    checked(
        "openssl leaf request",
        Command::new("openssl").args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={dns}"),
            "-keyout",
            &path("key.pem"),
            "-out",
            &path("leaf.csr"),
        ]),
    )?;
    std::fs::write(
        tls.join("ext.cnf"),
        format!(
            "subjectAltName={},DNS:{dns}\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
            ips.iter()
                .map(|ip| format!("IP:{ip}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .map_err(|e| e.to_string())?;
    checked(
        "openssl sign",
        Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            &path("leaf.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &path("ext.cnf"),
            "-out",
            &path("cert.pem"),
        ]),
    )?;
    // Samba refuses a key file others may read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tls.join("key.pem"), std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())
}
