//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2,
//! p = 1) in PHC strings, run on the blocking pool behind a semaphore so memory
//! stays bounded under a flood. A request that would wait behind more than
//! `hash_queue` others is refused at once with [`AppError::Busy`].
//!
//! Every function here NFKC-normalises the password first (the shared
//! `normalize_password`), so no caller can forget.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use latchkey_shared::normalize::normalize_password;
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Memory cost in KiB (OWASP: 19 MiB).
pub const M_COST: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;

/// The parameters every new hash uses.
pub fn current_params() -> Params {
    Params::new(M_COST, T_COST, P_COST, None).expect("OWASP argon2 parameters are valid")
}

fn argon2_with(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes (after NFKC normalisation) with the given parameters. Blocking and
/// slow: call it from `spawn_blocking` (the [`Hasher`] does) or a CLI.
pub fn hash_with_params(password: &str, params: Params) -> Result<String, AppError> {
    let normalized = normalize_password(password);
    let mut salt_bytes = [0u8; 16];
    rand::rngs::OsRng.fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(AppError::internal)?;
    argon2_with(params)
        .hash_password(normalized.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Hashes with the current parameters (blocking).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    hash_with_params(password, current_params())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matched: bool,
    /// The stored hash uses other parameters than [`current_params`]: re-hash
    /// it after a successful sign-in.
    pub needs_rehash: bool,
}

/// Checks (after NFKC normalisation) against a PHC string (blocking). A stored
/// value that is not a valid PHC string never matches.
pub fn verify_blocking(password: &str, phc: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("stored password hash is not a valid PHC string");
        return Verification {
            matched: false,
            needs_rehash: true,
        };
    };
    let needs_rehash = !uses_current_params(&parsed);
    let normalized = normalize_password(password);
    // The parameters are taken from the PHC string itself.
    let matched = Argon2::default()
        .verify_password(normalized.as_bytes(), &parsed)
        .is_ok();
    Verification {
        matched,
        needs_rehash,
    }
}

fn uses_current_params(parsed: &PasswordHash<'_>) -> bool {
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    if parsed.version != Some(Version::V0x13 as u32) {
        return false;
    }
    match Params::try_from(parsed) {
        Ok(p) => p.m_cost() == M_COST && p.t_cost() == T_COST && p.p_cost() == P_COST,
        Err(_) => false,
    }
}

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
            let _ = done.send(work());
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::internal("hash pool lock poisoned"))?
            .send(job)
            .map_err(AppError::internal)?;
        result.await.map_err(AppError::internal)
    }
}

/// Bounded, counted password hashing.
pub struct Hasher {
    pool: HashPool,
    semaphore: Arc<Semaphore>,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    verifications: AtomicU64,
    hashes: AtomicU64,
    dummy_hash: String,
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
            semaphore: Arc::new(Semaphore::new(permits)),
            in_flight: AtomicUsize::new(0),
            max_in_flight: permits.saturating_add(queue),
            verifications: AtomicU64::new(0),
            hashes: AtomicU64::new(0),
            dummy_hash,
        }))
    }

    /// Takes a place in the hashing queue, or fails at once with
    /// [`AppError::Busy`] when `permits + queue` requests already hold one.
    pub fn ticket(self: &Arc<Self>) -> Result<HashTicket, AppError> {
        let before = self.in_flight.fetch_add(1, Ordering::SeqCst);
        if before >= self.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(
                in_flight = before,
                "password hashing queue full; answering 503"
            );
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

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        self.pool.run(work).await
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
    pub async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let dummy = self.hasher.dummy_hash.clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// Hashes `password` with the current parameters.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        self.hasher.hashes.fetch_add(1, Ordering::SeqCst);
        let password = password.to_owned();
        self.hasher.run(move || hash_blocking(&password)).await?
    }
}

/// The organisation's list of refused passwords (e.g. breached ones), held in
/// memory as lower-case lines.
#[derive(Debug, Default)]
pub struct Blocklist {
    entries: HashSet<String>,
}

impl Blocklist {
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn load(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self::from_lines(text.lines()))
    }

    pub fn from_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let entries = lines
            .into_iter()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(|l| normalize_password(l).to_lowercase())
            .collect();
        Self { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Case-insensitive, after NFKC normalisation.
    pub fn contains(&self, password: &str) -> bool {
        !self.entries.is_empty()
            && self
                .entries
                .contains(&normalize_password(password).to_lowercase())
    }
}

/// Characters of temporary passwords: no 0/O, 1/l/I, 5/S, 2/Z lookalikes.
const TEMP_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRTUVWXYabcdefghijkmnpqrstuvwxyz346789";

/// A random temporary password of four groups of five readable characters,
/// e.g. `Kq7mW-x3vTp-9wRn4-sHbEe` (23 characters, about 114 bits).
pub fn generate_temporary_password() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut out = String::with_capacity(23);
    for group in 0..4 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..5 {
            let i = rng.gen_range(0..TEMP_ALPHABET.len());
            out.push(char::from(TEMP_ALPHABET[i]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let v = verify_blocking("correct horse battery staple", &h);
        assert!(v.matched && !v.needs_rehash);
        assert!(!verify_blocking("wrong", &h).matched);
    }

    #[test]
    fn older_parameters_ask_for_a_rehash() {
        let old = hash_with_params("pw", Params::new(4096, 1, 1, None).unwrap()).unwrap();
        let v = verify_blocking("pw", &old);
        assert!(v.matched && v.needs_rehash);
    }

    #[test]
    fn garbage_hashes_never_match() {
        assert!(!verify_blocking("pw", "not a hash").matched);
    }

    #[test]
    fn temporary_passwords_are_long_and_unambiguous() {
        for _ in 0..50 {
            let p = generate_temporary_password();
            assert_eq!(p.chars().count(), 23);
            assert!(!p.contains(['0', 'O', '1', 'l', 'I', 'o']));
        }
        assert_ne!(generate_temporary_password(), generate_temporary_password());
    }

    #[test]
    fn blocklist_is_case_insensitive() {
        let b = Blocklist::from_lines(["Hunter2Hunter2", "", "  "]);
        assert_eq!(b.len(), 1);
        assert!(b.contains("hunter2hunter2"));
        assert!(b.contains("HUNTER2HUNTER2"));
        assert!(!b.contains("hunter3"));
    }

    #[tokio::test]
    async fn the_queue_refuses_past_its_bound() {
        let h = Hasher::new(1, 1).await.unwrap();
        let a = h.ticket().unwrap();
        let b = h.ticket().unwrap();
        assert!(matches!(h.ticket(), Err(AppError::Busy)));
        drop(a);
        let _c = h.ticket().unwrap();
        drop(b);
    }
}
