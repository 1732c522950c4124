//! Counters for operators, served as Prometheus text at `GET /metrics`.
//!
//! The endpoint is off unless `metrics_token` (or `metrics_token_file`) is
//! set; then it answers only a request with `Authorization: Bearer <token>`.
//! Sign-in outcomes and lock counts tell an attack from a misconfigured
//! portal, which is worth something to an attacker too, so they are never
//! public.
//!
//! Counters are plain atomics in this process: each instance is scraped on
//! its own, and a `latchkey user …` command, which runs in a process of its
//! own, counts in that process only (its actions are in the audit log).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::accounts::sign_in::Outcome;
use crate::password::Hasher;

/// Where the endpoint is served: outside `/api`, so the API's documents and
/// fuzzers never see it.
pub const PATH: &str = "/metrics";

/// Shortest token the configuration accepts: a guessable one would make the
/// guard decorative.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Which front door a sign-in came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInVia {
    /// `POST /api/session`, the PWA.
    Pwa,
    /// `POST /api/portal/verify`, the portal's password check.
    Portal,
}

impl SignInVia {
    const ALL: [Self; 2] = [Self::Pwa, Self::Portal];

    fn label(self) -> &'static str {
        match self {
            Self::Pwa => "pwa",
            Self::Portal => "portal",
        }
    }
}

/// How a sign-in ended, as far as the credential check is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    Success,
    /// Wrong password, unknown user in a real domain, disabled account.
    Failure,
    /// Refused without a check: the name is locked.
    Locked,
    /// No such domain, or a name no user can have.
    Unknown,
    /// The domain does not offer self-service.
    NotOffered,
}

impl SignInOutcome {
    const ALL: [Self; 5] = [
        Self::Success,
        Self::Failure,
        Self::Locked,
        Self::Unknown,
        Self::NotOffered,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Locked => "locked",
            Self::Unknown => "unknown",
            Self::NotOffered => "not_offered",
        }
    }
}

impl From<&Outcome> for SignInOutcome {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Accepted { .. } => Self::Success,
            Outcome::Refused { .. } => Self::Failure,
            Outcome::Locked => Self::Locked,
            Outcome::Unknown => Self::Unknown,
            Outcome::NotOffered => Self::NotOffered,
        }
    }
}

/// Who lifted a lock or set a password for someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The person themself, with their security questions.
    SelfService,
    /// A Local Registration Authority (or an administrator) in the console.
    Lra,
    /// The `latchkey` command line.
    Cli,
}

impl Channel {
    const ALL: [Self; 3] = [Self::SelfService, Self::Lra, Self::Cli];

    fn label(self) -> &'static str {
        match self {
            Self::SelfService => "self_service",
            Self::Lra => "lra",
            Self::Cli => "cli",
        }
    }
}

/// What a connection closed by the serving loop's deadlines was waiting
/// for ([`crate::http::serve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowClient {
    /// The head of a request (or the TLS handshake) took too long.
    Head,
    /// No next request on a keep-alive connection.
    Idle,
    /// The client stopped reading its answer.
    Reader,
}

impl SlowClient {
    const ALL: [Self; 3] = [Self::Head, Self::Idle, Self::Reader];

    pub fn label(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Idle => "idle",
            Self::Reader => "reader",
        }
    }
}

const VIAS: usize = SignInVia::ALL.len();
const OUTCOMES: usize = SignInOutcome::ALL.len();
const CHANNELS: usize = Channel::ALL.len();

/// The counters, and the token that guards them.
pub struct Metrics {
    sign_ins: [[AtomicU64; OUTCOMES]; VIAS],
    locks: AtomicU64,
    unlocks: [AtomicU64; CHANNELS],
    resets: [AtomicU64; CHANNELS],
    busy: AtomicU64,
    throttled: AtomicU64,
    sources_throttled: AtomicU64,
    connections_open: AtomicU64,
    requests_in_flight: AtomicU64,
    connection_cap_waits: AtomicU64,
    slow_clients: [AtomicU64; SlowClient::ALL.len()],
    /// SHA-256 of the bearer token; `None`: the endpoint is off. Comparing
    /// digests keeps the comparison's time independent of the token.
    token_digest: Option<[u8; 32]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Metrics {
    /// Counters at zero; `/metrics` is served only if `token` is given.
    pub fn new(token: Option<&SecretString>) -> Self {
        Self {
            sign_ins: Default::default(),
            locks: AtomicU64::new(0),
            unlocks: Default::default(),
            resets: Default::default(),
            busy: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            sources_throttled: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            requests_in_flight: AtomicU64::new(0),
            connection_cap_waits: AtomicU64::new(0),
            slow_clients: Default::default(),
            token_digest: token.map(|t| digest(t.expose_secret())),
        }
    }

    pub fn enabled(&self) -> bool {
        self.token_digest.is_some()
    }

    /// One credential check ended with `outcome` (a lock it causes is
    /// counted where its audit row is written: [`Self::lock`]).
    pub fn sign_in(&self, via: SignInVia, outcome: &Outcome) {
        let kind = SignInOutcome::from(outcome);
        self.sign_ins[via as usize][kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// [`Self::sign_in`] through the PWA.
    pub fn pwa_sign_in(&self, outcome: &Outcome) {
        self.sign_in(SignInVia::Pwa, outcome);
    }

    /// [`Self::sign_in`] through the portal.
    pub fn portal_sign_in(&self, outcome: &Outcome) {
        self.sign_in(SignInVia::Portal, outcome);
    }

    /// An account locked after too many failed password checks.
    pub fn lock(&self) {
        self.locks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unlock(&self, channel: Channel) {
        self.unlocks[channel as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A password set for someone who had forgotten theirs: a self-service
    /// reset or a temporary password.
    pub fn reset(&self, channel: Channel) {
        self.resets[channel as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A 503 answer (counted by the middleware, whatever made it).
    /// An attempt refused by the per-source throttle, before any password
    /// work ([`crate::accounts::throttle`]).
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// A source that reached the failures or locks its window allows.
    pub fn source_throttled(&self) {
        self.sources_throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn busy(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn request_started(&self) {
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request_ended(&self) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The accept loop found `max_connections` open and waits for one to
    /// close.
    pub fn connection_cap_reached(&self) {
        self.connection_cap_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed by a deadline of the serving loop.
    pub fn slow_client_closed(&self, why: SlowClient) {
        self.slow_clients[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections open now (every listener of this process).
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// Connections closed so far because of `why`.
    pub fn slow_clients_closed(&self, why: SlowClient) -> u64 {
        self.slow_clients[why as usize].load(Ordering::Relaxed)
    }

    /// Requests read and not yet fully answered, now.
    pub fn requests_in_flight(&self) -> u64 {
        self.requests_in_flight.load(Ordering::Relaxed)
    }

    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = self.token_digest else {
            return false;
        };
        let offered = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        offered.is_some_and(|t| digest(t) == expected)
    }

    /// The Prometheus text exposition (format 0.0.4) of every counter and
    /// of the hasher's gauges.
    pub fn render(&self, hasher: &Hasher) -> String {
        let mut out = String::with_capacity(2048);
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        family(
            &mut out,
            "latchkey_sign_ins_total",
            "counter",
            "Credential checks of sign-ins, by entry point and outcome.",
        );
        for via in SignInVia::ALL {
            for outcome in SignInOutcome::ALL {
                let _ = writeln!(
                    out,
                    "latchkey_sign_ins_total{{via=\"{}\",outcome=\"{}\"}} {}",
                    via.label(),
                    outcome.label(),
                    read(&self.sign_ins[via as usize][outcome as usize])
                );
            }
        }
        family(
            &mut out,
            "latchkey_locks_total",
            "counter",
            "Accounts locked after too many failed password checks.",
        );
        let _ = writeln!(out, "latchkey_locks_total {}", read(&self.locks));
        for (name, help, counters) in [
            (
                "latchkey_unlocks_total",
                "Locks lifted, by channel.",
                &self.unlocks,
            ),
            (
                "latchkey_resets_total",
                "Passwords reset (self-service) or replaced by a temporary one, by channel.",
                &self.resets,
            ),
        ] {
            family(&mut out, name, "counter", help);
            for channel in Channel::ALL {
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{}\"}} {}",
                    channel.label(),
                    read(&counters[channel as usize])
                );
            }
        }
        family(
            &mut out,
            "latchkey_busy_answers_total",
            "counter",
            "Requests answered 503 (the hashing queue was full).",
        );
        let _ = writeln!(out, "latchkey_busy_answers_total {}", read(&self.busy));
        family(
            &mut out,
            "latchkey_http_slow_clients_closed_total",
            "counter",
            "Connections closed by a deadline, by what they were waiting for (head: the request's head or the TLS handshake; idle: a next request; reader: the client to read its answer).",
        );
        for why in SlowClient::ALL {
            let _ = writeln!(
                out,
                "latchkey_http_slow_clients_closed_total{{waiting_for=\"{}\"}} {}",
                why.label(),
                read(&self.slow_clients[why as usize])
            );
        }
        for (name, kind, help, value) in [
            (
                "latchkey_throttled_attempts_total",
                "counter",
                "Attempts refused by the per-source throttle before any password work.",
                read(&self.throttled),
            ),
            (
                "latchkey_sources_throttled_total",
                "counter",
                "Sources that reached the failed checks or the locks their window allows.",
                read(&self.sources_throttled),
            ),
            (
                "latchkey_http_connections_open",
                "gauge",
                "Connections open now.",
                read(&self.connections_open),
            ),
            (
                "latchkey_http_requests_in_flight",
                "gauge",
                "Requests read and not yet fully answered.",
                read(&self.requests_in_flight),
            ),
            (
                "latchkey_http_connection_cap_waits_total",
                "counter",
                "Times the server had max_connections open and new connections had to wait.",
                read(&self.connection_cap_waits),
            ),
            (
                "latchkey_hashing_queue_depth",
                "gauge",
                "Requests hashing or waiting to hash now.",
                hasher.queue_depth() as u64,
            ),
            (
                "latchkey_hashing_queue_capacity",
                "gauge",
                "Requests that may hash or wait before the server answers 503.",
                hasher.queue_capacity() as u64,
            ),
            (
                "latchkey_password_verifications_total",
                "counter",
                "argon2 verifications, the dummy ones for unknown names included.",
                hasher.verifications(),
            ),
            (
                "latchkey_password_hashes_total",
                "counter",
                "New argon2 hashes computed.",
                hasher.hashes(),
            ),
        ] {
            family(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> SecretString {
        SecretString::from("a-long-enough-metrics-token")
    }

    fn bearer(value: &str) -> Option<&str> {
        Some(value)
    }

    #[test]
    fn only_the_configured_token_is_let_in() {
        let on = Metrics::new(Some(&token()));
        assert!(on.authorized(bearer("Bearer a-long-enough-metrics-token")));
        assert!(!on.authorized(bearer("Bearer a-long-enough-metrics-tokeN")));
        assert!(!on.authorized(bearer("a-long-enough-metrics-token")));
        assert!(!on.authorized(None));
        let off = Metrics::new(None);
        assert!(!off.enabled());
        assert!(!off.authorized(bearer("Bearer a-long-enough-metrics-token")));
    }

    #[test]
    fn the_token_is_not_in_the_debug_output() {
        let text = format!("{:?}", Metrics::new(Some(&token())));
        assert!(!text.contains("metrics-token"), "{text}");
    }

    #[tokio::test]
    async fn counters_are_rendered_with_their_labels() {
        let metrics = Metrics::new(None);
        metrics.sign_in(SignInVia::Portal, &Outcome::Refused { locks: true });
        metrics.lock();
        metrics.unlock(Channel::Cli);
        metrics.reset(Channel::SelfService);
        metrics.busy();
        let hasher = Hasher::new(1, 2).await.expect("hasher");
        let text = metrics.render(&hasher);
        for line in [
            "latchkey_sign_ins_total{via=\"portal\",outcome=\"failure\"} 1",
            "latchkey_sign_ins_total{via=\"pwa\",outcome=\"failure\"} 0",
            "latchkey_locks_total 1",
            "latchkey_unlocks_total{channel=\"cli\"} 1",
            "latchkey_resets_total{channel=\"self_service\"} 1",
            "latchkey_busy_answers_total 1",
            "latchkey_hashing_queue_depth 0",
            "latchkey_hashing_queue_capacity 3",
            "# TYPE latchkey_hashing_queue_depth gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
