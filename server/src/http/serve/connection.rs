//! One connection: hyper's HTTP/1.1 over the socket (or its TLS stream),
//! watched by a deadline of our own that hyper does not have in this form.
//!
//! Between requests a connection is in one of three waits, each bounded:
//! - for the head of its first request, from the accept (the TLS
//!   handshake included): `header_read_timeout_secs`;
//! - idle after an answer: `idle_timeout_secs`; once a byte of the next
//!   request arrives, its head must be whole within
//!   `header_read_timeout_secs` of that byte;
//! - while an answer is written, for the client to read it: the writes must
//!   progress at least every `idle_timeout_secs`.
//!
//! While a handler works there is no connection deadline (the work is
//! bounded by the hashing queue and the database's own timeouts); its body
//! has one of its own ([`super::body`]). Past a deadline the socket is
//! closed without an answer: a client that is that slow is not waiting for
//! one. When the server stops, a connection without a request in flight
//! (idle, or with half a head) is closed at once; one with a request
//! finishes it (hyper closes it after the answer), within the grace period
//! the accept loop enforces.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower::ServiceExt;

use super::body::DeadlineBody;
use super::{Limits, Phase};
use crate::metrics::{Metrics, SlowClient};

/// What a connection is doing, as far as its deadline is concerned.
struct State {
    /// Requests from their head to the end of their answer (more than one
    /// only if a client pipelines).
    handling: usize,
    /// Of those, the ones whose answer is being written.
    answering: usize,
    /// When `handling` last became 0 (at first: the accept).
    waiting_since: Instant,
    /// The first byte read since `waiting_since`: a head has begun.
    head_since: Option<Instant>,
    /// A request has been read: waiting now is being idle.
    served: bool,
    /// The last write that made progress (or the answer's start).
    last_write: Instant,
}

/// The connection's [`State`], shared by its socket, its requests and its
/// watchdog; `changed` wakes the watchdog when a deadline may have moved
/// earlier.
pub(super) struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

impl Activity {
    pub(super) fn new(accepted: Instant) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                handling: 0,
                answering: 0,
                waiting_since: accepted,
                head_since: None,
                served: false,
                last_write: accepted,
            }),
            changed: Notify::new(),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding this lock cannot leave the counters
        // inconsistent in a way that matters more than closing the socket.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    fn read(&self) {
        let began = self.with(|s| {
            if s.handling == 0 && s.head_since.is_none() {
                s.head_since = Some(Instant::now());
                true
            } else {
                false
            }
        });
        if began {
            self.changed.notify_one();
        }
    }

    fn wrote(&self) {
        self.with(|s| s.last_write = Instant::now());
    }

    fn request_started(&self) {
        self.with(|s| {
            s.handling += 1;
            s.head_since = None;
            s.served = true;
        });
    }

    fn answer_started(&self) {
        self.with(|s| {
            s.answering += 1;
            s.last_write = Instant::now();
        });
        self.changed.notify_one();
    }

    fn request_ended(&self, answering: bool) {
        self.with(|s| {
            s.handling = s.handling.saturating_sub(1);
            if answering {
                s.answering = s.answering.saturating_sub(1);
            }
            if s.handling == 0 {
                s.waiting_since = Instant::now();
                s.head_since = None;
            }
        });
        self.changed.notify_one();
    }

    fn handling(&self) -> bool {
        self.with(|s| s.handling > 0)
    }

    /// When the connection is closed unless something happens first, and
    /// what it will have been waiting for.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, SlowClient)> {
        self.with(|s| {
            if s.handling == 0 {
                Some(if !s.served {
                    // The first head counts from the accept, however its
                    // bytes are spread.
                    (s.waiting_since + limits.header_read, SlowClient::Head)
                } else if let Some(head) = s.head_since {
                    (head + limits.header_read, SlowClient::Head)
                } else {
                    (s.waiting_since + limits.idle, SlowClient::Idle)
                })
            } else if s.answering > 0 {
                Some((s.last_write + limits.idle, SlowClient::Reader))
            } else {
                None
            }
        })
    }
}

/// A socket (or TLS stream) that tells its [`Activity`] when bytes move.
pub(super) struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One request, from its head to the end of its answer (or until hyper
/// drops it: a broken connection, a shutdown).
struct InFlight {
    activity: Arc<Activity>,
    metrics: Arc<Metrics>,
    answering: bool,
}

impl InFlight {
    fn start(activity: Arc<Activity>, metrics: Arc<Metrics>) -> Self {
        activity.request_started();
        metrics.request_started();
        Self {
            activity,
            metrics,
            answering: false,
        }
    }

    fn answering(&mut self) {
        self.answering = true;
        self.activity.answer_started();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.request_ended();
        self.activity.request_ended(self.answering);
    }
}

/// An answer's body, which ends its request when hyper is done with it.
struct Answer {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What every connection of a listener shares.
#[derive(Clone)]
pub(super) struct Served {
    pub(super) router: Router,
    pub(super) limits: Limits,
    pub(super) metrics: Arc<Metrics>,
}

/// Serves HTTP/1.1 on `io` until the client leaves, a deadline passes or
/// the server stops.
pub(super) async fn serve<S>(
    io: S,
    peer: SocketAddr,
    activity: Arc<Activity>,
    served: Served,
    mut phase: watch::Receiver<Phase>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Served {
        router,
        limits,
        metrics,
    } = served;
    let service_activity = activity.clone();
    let service_metrics = metrics.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut in_flight = InFlight::start(service_activity.clone(), service_metrics.clone());
        let mut request = request.map(|body| Body::new(DeadlineBody::new(body, limits.body)));
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = router.clone().oneshot(request);
        async move {
            let response = answer.await?;
            in_flight.answering();
            Ok::<_, Infallible>(response.map(|inner| Answer {
                inner,
                _in_flight: in_flight,
            }))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // Our deadlines, not hyper's (which would also bound the idle
        // time by the header time).
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(TokioIo::new(Tracked::new(io, activity.clone())), service);
    tokio::pin!(connection);

    if *phase.borrow_and_update() != Phase::Serving {
        return;
    }
    let mut phase_gone = false;
    loop {
        let deadline = activity.deadline(&limits);
        if let Some((at, why)) = deadline {
            if at <= Instant::now() {
                metrics.slow_client_closed(why);
                tracing::debug!(%peer, reason = why.label(), "closed a slow connection");
                return;
            }
        }
        tokio::select! {
            biased;
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            changed = phase.changed(), if !phase_gone => match changed {
                Ok(()) => match *phase.borrow_and_update() {
                    Phase::Serving => {}
                    // Nothing in flight (idle, or half a head): nothing to
                    // finish. Otherwise hyper answers, flushes and closes.
                    Phase::Draining if !activity.handling() => return,
                    Phase::Draining => connection.as_mut().graceful_shutdown(),
                    Phase::Closing => return,
                },
                // The server's future was dropped without a shutdown (a
                // test's runtime ending): serve on, as before.
                Err(_) => phase_gone = true,
            },
            () = activity.changed.notified() => {}
            () = sleep_until(deadline.map(|(at, _)| at)) => {}
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
