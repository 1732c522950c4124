//! The serving loop: accepts connections on a listener (plain TCP, or TLS
//! with [`tls`]), serves each with HTTP/1.1 under the deadlines of
//! [`connection`] and [`body`], and stops gracefully.
//!
//! - At most `max_connections` are served at once per listener. Beyond
//!   that the loop stops accepting: new connections wait in the kernel's
//!   accept queue (they are not refused) and are taken as others close,
//!   which the deadlines guarantee happens. The waits are counted in the
//!   metrics and logged at most once a minute.
//! - HTTP/1.1 only: every deadline is defined for it; a proxy in front may
//!   speak HTTP/2 to browsers.
//! - Each request carries `ConnectInfo<SocketAddr>` (its socket's peer),
//!   which [`crate::http::extract::ClientIp`] reads.
//! - Stopping ([`run`]'s signal): the listeners close at once, idle
//!   connections and half-sent heads are closed, requests in flight finish
//!   within `shutdown_grace_secs`; then whatever is left is closed.

mod body;
mod connection;
pub mod redirect;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

pub use body::{is_body_timeout, BodyTimeout};

use crate::config::Config;
use crate::metrics::Metrics;
use connection::{Activity, Served};

/// The connection limits of `Config`, as durations.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    pub body: Duration,
    pub max_connections: usize,
    pub grace: Duration,
}

impl Limits {
    pub fn of(config: &Config) -> Self {
        Self {
            header_read: Duration::from_secs(config.header_read_timeout_secs),
            idle: Duration::from_secs(config.idle_timeout_secs),
            body: Duration::from_secs(config.body_timeout_secs),
            max_connections: config.max_connections,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        }
    }
}

/// Where the server is in its life; every connection watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving,
    /// Stopped accepting; requests in flight finish.
    Draining,
    /// The grace period is over: every connection closes now.
    Closing,
}

/// Counts open connections, so a stop can wait for them.
#[derive(Clone)]
struct Tracker(Arc<watch::Sender<usize>>);

struct Open(Tracker, Arc<Metrics>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0 .0.send_modify(|n| *n = n.saturating_sub(1));
        self.1.connection_closed();
    }
}

impl Tracker {
    fn open(&self, metrics: &Arc<Metrics>) -> Open {
        self.0.send_modify(|n| *n += 1);
        metrics.connection_opened();
        Open(self.clone(), metrics.clone())
    }

    fn count(&self) -> usize {
        *self.0.borrow()
    }

    async fn all_closed(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`: this cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// One listener and what it serves.
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) router: Router,
}

/// Serves `main` (and the `redirect` listener, if any) until `signal`
/// completes, then stops gracefully (see the module's notes).
pub(crate) async fn run(
    main: Listener,
    redirect: Option<Listener>,
    limits: Limits,
    metrics: Arc<Metrics>,
    signal: impl Future<Output = ()>,
) {
    let (phase, watched) = watch::channel(Phase::Serving);
    let tracker = Tracker(Arc::new(watch::Sender::new(0)));
    let accepting = async {
        let main = accept_loop(
            main,
            limits,
            metrics.clone(),
            watched.clone(),
            tracker.clone(),
        );
        let redirect = async {
            if let Some(redirect) = redirect {
                accept_loop(
                    redirect,
                    limits,
                    metrics.clone(),
                    watched.clone(),
                    tracker.clone(),
                )
                .await;
            }
        };
        tokio::join!(main, redirect);
    };
    tokio::pin!(accepting);
    tokio::select! {
        () = signal => {}
        () = &mut accepting => {}
    }
    phase.send_replace(Phase::Draining);
    // The accept loops end at once: the listeners close.
    accepting.await;
    let open = tracker.count();
    if open > 0 {
        tracing::info!(
            connections = open,
            grace_secs = limits.grace.as_secs(),
            "stopped accepting; finishing the requests in flight"
        );
    }
    if tokio::time::timeout(limits.grace, tracker.all_closed())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = tracker.count(),
            "requests still in flight after shutdown_grace_secs: closing their connections"
        );
        phase.send_replace(Phase::Closing);
        // Each closes at its next poll; bounded all the same.
        let _ = tokio::time::timeout(Duration::from_secs(5), tracker.all_closed()).await;
    }
}

async fn accept_loop(
    listener: Listener,
    limits: Limits,
    metrics: Arc<Metrics>,
    phase: watch::Receiver<Phase>,
    tracker: Tracker,
) {
    let Listener { tcp, tls, router } = listener;
    let served = Served {
        router,
        limits,
        metrics: metrics.clone(),
    };
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut stop = phase.clone();
    let stopped = async move {
        let _ = stop.wait_for(|p| *p != Phase::Serving).await;
    };
    tokio::pin!(stopped);
    let mut warned: Option<Instant> = None;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                metrics.connection_cap_reached();
                if warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    warned = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "max_connections reached: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                    () = &mut stopped => return,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: the connections open
                    // now go on; try again in a moment.
                    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut stopped => return,
                    }
                }
            },
            () = &mut stopped => return,
        };
        let open = tracker.open(&metrics);
        let served = served.clone();
        let tls = tls.clone();
        let phase = phase.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = open;
            serve_stream(stream, peer, tls, served, phase).await;
        });
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

async fn serve_stream(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    served: Served,
    phase: watch::Receiver<Phase>,
) {
    let accepted = Instant::now();
    // Small answers go out at once rather than after the client's ACK.
    let _ = stream.set_nodelay(true);
    let activity = Activity::new(accepted);
    let Some(acceptor) = tls else {
        connection::serve(stream, peer, activity, served, phase).await;
        return;
    };
    // The handshake is part of the first head's time: a client that stalls
    // in it is as slow as one that stalls in its headers.
    let mut stop = phase.clone();
    let handshake = tokio::time::timeout_at(
        accepted + served.limits.header_read,
        acceptor.accept(stream),
    );
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                served.metrics.slow_client_closed(crate::metrics::SlowClient::Head);
                tracing::debug!(%peer, "TLS handshake took too long");
                return;
            }
        },
        Ok(_) = stop.wait_for(|p| *p != Phase::Serving) => return,
    };
    connection::serve(stream, peer, activity, served, phase).await;
}
