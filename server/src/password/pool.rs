//! The hashing pool: every argon2 computation runs on a fixed set of
//! `hash_permits` threads, and a request that would wait behind more than
//! `hash_queue` others is refused at once with [`AppError::Busy`].

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use rand::Rng;

use super::{hash_blocking, verify_blocking, Verification};
use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of `permits` OS threads that run all argon2 work. Unlike
/// tokio's blocking pool (up to 512 threads, each keeping its own malloc
/// arena), at most `permits` argon2 memory blocks ever exist, so the
/// server's memory stays bounded under a flood.
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    fn new(threads: usize) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job, not running it.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        // The sender is gone: the hasher was dropped.
                        Err(_) => return,
                    }
                })?;
        }
        Ok(Self {
            jobs: std::sync::Mutex::new(tx),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The request was dropped while this waited (its client went
            // away) and its ticket is back in the queue: skip the work.
            if done.is_closed() {
                return;
            }
            let _ = done.send(work());
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::internal("hash pool lock poisoned"))?
            .send(job)
            // The error holds the job itself, which cannot be shared.
            .map_err(|_| AppError::internal("the hashing threads have stopped"))?;
        result.await.map_err(AppError::internal)
    }
}

/// Bounded, counted password hashing.
pub struct Hasher {
    pool: HashPool,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    /// Requests admitted by [`Hasher::admit`] that have not yet taken a
    /// ticket or been answered without one, and their bound.
    looking: AtomicUsize,
    max_looking: usize,
    /// Of the recent admitted requests, the share (of [`SHARE_ONE`]) that
    /// went on to hash rather than being answered without (a locked name).
    hash_share: AtomicU64,
    verifications: AtomicU64,
    hashes: AtomicU64,
    dummy_hash: String,
    /// 503s not logged yet, and when (ms after `started`) the next log line
    /// may be written: a flood is reported once a second, not per request.
    busy_unlogged: AtomicU64,
    busy_next_log_ms: AtomicU64,
    started: std::time::Instant,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("max_in_flight", &self.max_in_flight)
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// `permits` hashes run at once; up to `queue` more may wait for a permit.
    /// Computes the dummy hash (same parameters) used for unknown users.
    pub async fn new(permits: usize, queue: usize) -> Result<Arc<Self>, AppError> {
        let dummy_secret: String = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let dummy_hash = tokio::task::spawn_blocking(move || hash_blocking(&dummy_secret))
            .await
            .map_err(AppError::internal)??;
        let permits = permits.max(1);
        Ok(Arc::new(Self {
            pool: HashPool::new(permits).map_err(AppError::internal)?,
            in_flight: AtomicUsize::new(0),
            max_in_flight: permits.saturating_add(queue),
            looking: AtomicUsize::new(0),
            max_looking: permits
                .saturating_add(queue)
                .saturating_mul(LOOKING_PER_PLACE),
            hash_share: AtomicU64::new(SHARE_ONE),
            verifications: AtomicU64::new(0),
            hashes: AtomicU64::new(0),
            dummy_hash,
            busy_unlogged: AtomicU64::new(0),
            busy_next_log_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }))
    }

    /// Admits a request that must look something up before it knows
    /// whether it will hash at all (a sign-in to a locked account never
    /// does). Such requests hold no place in the queue while they look, so a
    /// flood of refusals of locked accounts cannot crowd real sign-ins out
    /// of it. End the admission with [`Admission::ticket`] or
    /// [`Admission::answered_without_hashing`].
    ///
    /// Fails at once with [`AppError::Busy`], before any database work, when
    /// the queue would be full if the requests still looking went on to hash
    /// in the proportion recent ones did: during a burst of sign-ins every
    /// request beyond the queue's size is refused without a lookup, while
    /// lookups that end in a lock barely count. At most
    /// [`LOOKING_PER_PLACE`] × (permits + queue) may be looking at once.
    pub fn admit(self: &Arc<Self>) -> Result<Admission, AppError> {
        let in_flight = self.in_flight.load(Ordering::SeqCst) as u64;
        let looking = self.looking.load(Ordering::SeqCst) as u64;
        let share = self.hash_share.load(Ordering::Relaxed);
        let expected = in_flight.saturating_add(looking.saturating_mul(share).div_ceil(SHARE_ONE));
        if expected >= self.max_in_flight as u64 {
            self.note_busy();
            return Err(AppError::Busy);
        }
        let before = self.looking.fetch_add(1, Ordering::SeqCst);
        if before >= self.max_looking {
            self.looking.fetch_sub(1, Ordering::SeqCst);
            self.note_busy();
            return Err(AppError::Busy);
        }
        Ok(Admission {
            hasher: Arc::clone(self),
        })
    }

    fn note_busy(&self) {
        self.busy_unlogged.fetch_add(1, Ordering::Relaxed);
        self.report_busy();
    }

    /// Logs the 503s not reported yet, at most once a second: the first of a
    /// flood at once, the rest when the server's housekeeping calls this.
    pub fn report_busy(&self) {
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.busy_next_log_ms.load(Ordering::Relaxed);
        if now_ms < next || self.busy_unlogged.load(Ordering::Relaxed) == 0 {
            return;
        }
        if self
            .busy_next_log_ms
            .compare_exchange(next, now_ms + 1000, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let refused = self.busy_unlogged.swap(0, Ordering::Relaxed);
            tracing::warn!(
                refused,
                max_in_flight = self.max_in_flight,
                "password hashing queue full; answered 503 (reported at most once a second)"
            );
        }
    }

    /// Takes a place in the hashing queue, or fails at once with
    /// [`AppError::Busy`] when `permits + queue` requests already hold one.
    pub fn ticket(self: &Arc<Self>) -> Result<HashTicket, AppError> {
        let before = self.in_flight.fetch_add(1, Ordering::SeqCst);
        if before >= self.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.note_busy();
            return Err(AppError::Busy);
        }
        Ok(HashTicket {
            hasher: Arc::clone(self),
        })
    }

    /// Password verifications performed since start (dummy ones included).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// New hashes computed since start (the dummy hash excluded).
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::SeqCst)
    }

    /// Places in the hashing queue held now: running or waiting for a
    /// thread.
    pub fn queue_depth(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Places there are (`permits + queue`); one more request gets a 503.
    pub fn queue_capacity(&self) -> usize {
        self.max_in_flight
    }

    /// Queues `work` straight on the pool: its `permits` threads bound how
    /// much runs at once, the tickets how much waits, and a thread that
    /// finishes a job takes the next one at once instead of idling until an
    /// async task has been scheduled to hand it one.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        self.pool.run(work).await
    }
}

/// How many admitted requests may be looking things up per place in the
/// hashing queue. Above the number of clients a flood of refusals of locked
/// accounts keeps busy at once in the load test (200 against 66 places on
/// two cores), so those never turn a real sign-in away; low enough that a
/// burst of sign-ins is refused after a few hundred lookups, not a thousand.
pub const LOOKING_PER_PLACE: usize = 4;

/// [`Hasher`]'s `hash_share` in fixed point: this is all of them.
const SHARE_ONE: u64 = 1024;

/// See [`Hasher::admit`]; released on drop.
pub struct Admission {
    hasher: Arc<Hasher>,
}

impl Admission {
    /// The request goes on to hash: takes its place in the queue (or fails
    /// with [`AppError::Busy`] if it filled meanwhile).
    pub fn ticket(self) -> Result<HashTicket, AppError> {
        self.record(true);
        self.hasher.ticket()
    }

    /// The request was answered without hashing (a locked name).
    pub fn answered_without_hashing(self) {
        self.record(false);
    }

    /// Moves the share 1/16 of the way towards this outcome: a few dozen
    /// requests decide it, so it follows a change of traffic within a burst.
    fn record(&self, hashed: bool) {
        let _ =
            self.hasher
                .hash_share
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |share| {
                    Some(if hashed {
                        share + (SHARE_ONE - share).div_ceil(16)
                    } else {
                        share - share.div_ceil(16)
                    })
                });
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.hasher.looking.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A place in the hashing queue; released on drop. Hold it for all the
/// hashing one request does.
pub struct HashTicket {
    hasher: Arc<Hasher>,
}

impl Drop for HashTicket {
    fn drop(&mut self) {
        self.hasher.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashTicket {
    /// Verifies `password` against `phc`.
    // The password and the hash never go into a span.
    #[tracing::instrument(name = "password.verify", level = "debug", skip_all)]
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verification, AppError> {
        self.hasher.verifications.fetch_add(1, Ordering::SeqCst);
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.hasher
            .run(move || verify_blocking(&password, &phc))
            .await
    }

    /// Spends the same work as a real verification, for unknown users and
    /// domains; always "no match".
    #[tracing::instrument(name = "password.verify_dummy", level = "debug", skip_all)]
    pub async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let dummy = self.hasher.dummy_hash.clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// Hashes `password` with the current parameters.
    #[tracing::instrument(name = "password.hash", level = "debug", skip_all)]
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        self.hasher.hashes.fetch_add(1, Ordering::SeqCst);
        let password = password.to_owned();
        self.hasher.run(move || hash_blocking(&password)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_refuses_past_its_bound() {
        let h = Hasher::new(1, 1).await.unwrap();
        let a = h.ticket().unwrap();
        let b = h.ticket().unwrap();
        assert!(matches!(h.ticket(), Err(AppError::Busy)));
        assert!(matches!(h.admit(), Err(AppError::Busy)));
        drop(a);
        let _c = h.ticket().unwrap();
        drop(b);
    }

    #[tokio::test]
    async fn lookups_count_against_the_queue_as_much_as_recent_ones_hashed() {
        let h = Hasher::new(1, 1).await.unwrap();
        // At first every lookup is expected to hash: two may look (1 + 1).
        let first = h.admit().unwrap();
        let second = h.admit().unwrap();
        assert!(matches!(h.admit(), Err(AppError::Busy)));
        drop((first, second));
        // Once recent lookups ended without hashing (locked names), many
        // more may look at once, up to LOOKING_PER_PLACE per place...
        for _ in 0..100 {
            h.admit().unwrap().answered_without_hashing();
        }
        let looking: Vec<_> = (0..2 * LOOKING_PER_PLACE)
            .map(|_| h.admit().unwrap())
            .collect();
        assert!(matches!(h.admit(), Err(AppError::Busy)));
        drop(looking);
        // ...and a full queue still refuses at once.
        let t1 = h.admit().unwrap().ticket().unwrap();
        let t2 = h.admit().unwrap().ticket().unwrap();
        assert!(matches!(h.admit(), Err(AppError::Busy)));
        drop((t1, t2));
        assert!(h.admit().is_ok());
    }
}
