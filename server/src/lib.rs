//! Latchkey's server: the HTTP API under `/api`, the built PWA at `/`, the
//! database (SQLite or PostgreSQL) and the `latchkey` command line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub mod accounts;
pub mod audit;
pub mod cli;
pub mod config;
pub mod db;
pub mod directory;
pub mod error;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod password;
pub mod settings;
pub mod state;

pub use config::Config;
pub use error::AppError;
pub use http::{app_router, MAX_BODY_BYTES};
pub use state::clock::{Clock, MockClock, SystemClock};
pub use state::AppState;

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    redirect: Option<(tokio::net::TcpListener, SocketAddr)>,
    certificates: Option<Arc<http::serve::tls::Certificates>>,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects the database (running migrations), reads the TLS
    /// certificate if one is configured, and binds `listen` (and
    /// `http_redirect_listen`).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::build_with_routes(config, clock, Router::new()).await
    }

    /// Like [`Application::build_with_clock`], with extra routes merged into
    /// the API (for tests' probe endpoints).
    pub async fn build_with_routes(
        config: Config,
        clock: Arc<dyn Clock>,
        extra: Router<AppState>,
    ) -> anyhow::Result<Self> {
        let listen = config.listen.clone();
        let redirect_listen = config.http_redirect_listen.clone();
        // Before the database: a bad certificate stops the start early.
        let certificates = match (&config.tls_cert_file, &config.tls_key_file) {
            (Some(cert), Some(key)) => Some(
                http::serve::tls::Certificates::load(cert, key).map_err(|e| anyhow::anyhow!(e))?,
            ),
            _ => None,
        };
        let state = AppState::new(config, clock).await?;
        state.db.open_lookups().await?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let local_addr = listener.local_addr()?;
        let redirect = match redirect_listen {
            Some(address) => {
                let listener = tokio::net::TcpListener::bind(address.trim())
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("cannot listen on {address} (http_redirect_listen): {e}")
                    })?;
                let addr = listener.local_addr()?;
                Some((listener, addr))
            }
            None => None,
        };
        let router = http::app_router(state.clone(), extra);
        Ok(Self {
            listener,
            local_addr,
            redirect,
            certificates,
            router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The plain-HTTP redirect port's address (`http_redirect_listen`).
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().map(|(_, addr)| addr).copied()
    }

    /// `https` when the server serves TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.certificates.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The certificate being served, to reload it (on SIGHUP); `None`
    /// without TLS.
    pub fn certificates(&self) -> Option<Arc<http::serve::tls::Certificates>> {
        self.certificates.clone()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the task is dropped. Deferred audit events are written
    /// every second meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _housekeeping = state::background::housekeeping(&self.state);
        self.serve(std::future::pending()).await
    }

    /// Serves until `signal` completes, then stops accepting, finishes the
    /// requests in flight within `shutdown_grace_secs` (closing idle and
    /// half-sent connections at once) and writes the deferred audit events.
    pub async fn run_with_graceful_shutdown(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let housekeeping = state::background::housekeeping(&state);
        let served = self.serve(signal).await;
        // A code mail written after its answer is not lost to a restart;
        // bounded, as a task stuck on the database must not hold the exit.
        if tokio::time::timeout(
            std::time::Duration::from_secs(10),
            state.background.settled(),
        )
        .await
        .is_err()
        {
            tracing::warn!("background work still running at shutdown: given up");
        }
        housekeeping.finish().await;
        match state.flush_audit().await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "wrote the deferred audit events at shutdown"),
            Err(e) => {
                tracing::error!(error = %e, "could not write the deferred audit events at shutdown")
            }
        }
        served
    }

    async fn serve(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let limits = http::serve::Limits::of(&self.state.config);
        let tls = match &self.certificates {
            Some(certificates) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(
                certificates
                    .server_config()
                    .map_err(std::io::Error::other)?,
            ))),
            None => None,
        };
        let _watching = self.certificates.as_ref().map(|c| AbortOnDrop(c.watch()));
        let redirect = self.redirect.map(|(tcp, _)| {
            let target = http::serve::redirect::Target::new(
                self.state.config.public_url.as_deref(),
                self.local_addr.port(),
            );
            http::serve::Listener {
                tcp,
                tls: None,
                router: http::serve::redirect::router(target),
            }
        });
        let main = http::serve::Listener {
            tcp: self.listener,
            tls,
            router: self.router,
        };
        http::serve::run(main, redirect, limits, self.state.metrics.clone(), signal).await;
        Ok(())
    }
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
