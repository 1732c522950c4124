//! Latchkey's server: the HTTP API under `/api`, the built PWA at `/`, the
//! database (SQLite or PostgreSQL) and the `latchkey` command line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod admin;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod domains;
pub mod error;
pub mod extract;
pub mod lockout;
pub mod middleware;
pub mod password;
pub mod purge;
pub mod routes;
pub mod self_service;
pub mod session;
pub mod staff;
pub mod staff_cli;
pub mod state;
pub mod static_files;
pub mod users;

pub use clock::{Clock, MockClock, SystemClock};
pub use config::Config;
pub use error::AppError;
pub use state::AppState;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application for `state`, with `extra` API routes merged in
/// (empty in production; tests use it for probe endpoints).
pub fn app_router(state: AppState, extra: Router<AppState>) -> Router {
    routes::api_router()
        .merge(extra)
        .fallback(static_files::serve)
        .layer(axum::middleware::from_fn(middleware::api_headers))
        .layer(axum::middleware::from_fn(middleware::csrf))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

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
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let local_addr = listener.local_addr()?;
        let router = app_router(state.clone(), extra);
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

    /// Serves until the task is dropped or the listener fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }

    /// Serves until `signal` completes, then finishes the requests in flight.
    pub async fn run_with_graceful_shutdown(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await
    }
}
