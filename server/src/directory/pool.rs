//! ldap3 has no pool: [`Pool`] keeps service-account connections open,
//! at most `pool_size` at once, and drops any that closed. Connections
//! trust only the configured CA.

use std::sync::{Arc, Mutex};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use super::*;

/// Service-account connections, at most `pool_size` open at once.
pub(super) struct Pool {
    pub(super) idle: Mutex<Vec<Ldap>>,
    pub(super) permits: Semaphore,
}

/// A pooled connection, back in the pool when dropped (unless it closed).
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    ldap: Option<Ldap>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(mut ldap) = self.ldap.take() {
            if !ldap.is_closed() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(ldap);
                }
            }
        }
    }
}

impl Pooled<'_> {
    pub(super) fn ldap(&mut self) -> &mut Ldap {
        self.ldap
            .as_mut()
            .expect("a pooled connection until dropped")
    }

    /// Keeps the connection out of the pool (its state is unknown).
    pub(super) fn discard(&mut self) {
        self.ldap = None;
    }
}

impl Directory {
    /// A new connection, not bound.
    pub(super) async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.config.starttls);
        let settings = match &self.config.ca_file {
            Some(path) => settings.set_config(Arc::new(
                tls_config(path).map_err(|e| DirectoryError::Unexpected(self.name.clone(), e))?,
            )),
            None => settings,
        };
        let connect = LdapConnAsync::with_settings(settings, &self.config.url);
        let (conn, ldap) = tokio::time::timeout(self.timeout(), connect)
            .await
            .map_err(|_| self.unavailable("no answer within the timeout"))?
            .map_err(|e| self.unavailable(e))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    /// A service-account connection from the pool (bound), or a new one.
    pub(super) async fn service(&self) -> Result<Pooled<'_>, DirectoryError> {
        let permit = tokio::time::timeout(self.timeout(), self.pool.permits.acquire())
            .await
            .map_err(|_| self.unavailable("every connection is busy"))?
            .map_err(|e| self.unavailable(e))?;
        let reused = {
            let mut idle = self
                .pool
                .idle
                .lock()
                .map_err(|_| self.unavailable("pool poisoned"))?;
            let mut found = None;
            while let Some(mut ldap) = idle.pop() {
                if !ldap.is_closed() {
                    found = Some(ldap);
                    break;
                }
            }
            found
        };
        let ldap = match reused {
            Some(ldap) => ldap,
            None => {
                let mut ldap = self.connect().await?;
                let result = self
                    .run(ldap.simple_bind(&self.config.bind_dn, self.password.expose_secret()))
                    .await?;
                if result.rc != rc::SUCCESS {
                    return Err(DirectoryError::NotAllowed(
                        self.name.clone(),
                        format!(
                            "the service account {} cannot bind (result {}: {})",
                            self.config.bind_dn, result.rc, result.text
                        ),
                    ));
                }
                ldap
            }
        };
        Ok(Pooled {
            pool: &self.pool,
            ldap: Some(ldap),
            _permit: permit,
        })
    }
}

/// A TLS configuration that trusts only the CA certificates in `path` (PEM).
fn tls_config(path: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("ca_file {} holds no certificate", path.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
