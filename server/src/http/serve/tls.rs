//! HTTPS served directly: the certificate chain and key of
//! `tls_cert_file` / `tls_key_file` (PEM), with rustls and ring.
//!
//! The certificate in use sits behind a lock that a reload swaps, so a
//! renewed certificate is served to the next handshake without a restart:
//! on SIGHUP ([`Certificates::reload`], from the command line) and when the
//! files change (looked at every [`CHECK_EVERY`]; a change is read once the
//! files have stayed the same for one more look, so a renewal that writes
//! the chain and then the key is not read half done). A new pair that
//! cannot be used (unreadable, not PEM, a key that does not match) is
//! logged at ERROR and the previous one is served on. Only TLS 1.3 and 1.2,
//! only `http/1.1` offered by ALPN.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// How often the files are looked at for a change.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

fn provider() -> Arc<CryptoProvider> {
    // Named, not the process default: the workspace's test crates compile
    // rustls with a second provider.
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate being served, and where it is read from.
pub struct Certificates {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

impl Certificates {
    /// Reads the pair; an error names the file and what is wrong with it.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<Self>, String> {
        let key = read_pair(cert_file, key_file)?;
        tracing::info!(
            certificate = %cert_file.display(),
            sha256 = %fingerprint(&key),
            "serving HTTPS"
        );
        Ok(Arc::new(Self {
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Reads the files again and serves them from the next handshake on;
    /// if they cannot be used, says why and keeps serving the old pair.
    /// `trigger` (`SIGHUP`, `file change`) goes into the log line.
    pub fn reload(&self, trigger: &'static str) -> Result<(), String> {
        match read_pair(&self.cert_file, &self.key_file) {
            Ok(key) => {
                tracing::info!(
                    trigger,
                    certificate = %self.cert_file.display(),
                    sha256 = %fingerprint(&key),
                    "reloaded the TLS certificate"
                );
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    trigger,
                    error = %e,
                    "the new TLS certificate cannot be used: still serving the previous one"
                );
                Err(e)
            }
        }
    }

    /// The rustls configuration serving whatever [`Self::current`] is.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn stamp(&self) -> Option<(Stamp, Stamp)> {
        Some((Stamp::of(&self.cert_file)?, Stamp::of(&self.key_file)?))
    }

    /// Reloads the pair when its files change, while the returned task
    /// lives.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut loaded = this.stamp();
            let mut seen = loaded.clone();
            let mut tick = tokio::time::interval(CHECK_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let now = this.stamp();
                // Unchanged since the last look, and not what was loaded: a
                // finished replacement (a failed one is not read again
                // until the files change once more).
                if now.is_some() && now == seen && now != loaded {
                    let _ = this.reload("file change");
                    loaded = now.clone();
                }
                seen = now;
            }
        })
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// What a file looks like from outside: a renewal changes one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        // Follows links: a secret store that swaps a link is a change.
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: meta.ino(),
        })
    }
}

fn read_pair(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("cannot read tls_cert_file {}: {e}", cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls_cert_file {} is not PEM: {e}", cert_file.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "tls_cert_file {} holds no certificate (-----BEGIN CERTIFICATE-----)",
            cert_file.display()
        ));
    }
    // The error names the file, never its content.
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        format!(
            "tls_key_file {} holds no usable private key (PEM): {e}",
            key_file.display()
        )
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        format!(
            "tls_key_file {} does not go with tls_cert_file {}: {e}",
            key_file.display(),
            cert_file.display()
        )
    })
}

/// SHA-256 of the server's certificate, as `openssl x509 -fingerprint
/// -sha256` shows it: how an operator tells which one is served.
fn fingerprint(key: &CertifiedKey) -> String {
    key.cert
        .first()
        .map(|cert| {
            Sha256::digest(cert.as_ref())
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_default()
}
