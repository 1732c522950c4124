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
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects the database (running migrations) and binds `listen`.
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
        let state = AppState::new(config, clock).await?;
        state.db.open_lookups().await?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let local_addr = listener.local_addr()?;
        let router = http::app_router(state.clone(), extra);
        Ok(Self {
            listener,
            local_addr,
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

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the task is dropped or the listener fails. Deferred
    /// audit events are written every second meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _housekeeping = state::background::housekeeping(&self.state);
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }

    /// Serves until `signal` completes, then finishes the requests in flight
    /// and writes the deferred audit events.
    pub async fn run_with_graceful_shutdown(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let housekeeping = state::background::housekeeping(&state);
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await;
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
}
