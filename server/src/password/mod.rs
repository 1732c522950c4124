//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2,
//! p = 1) in PHC strings, run on a fixed pool of `hash_permits` threads so
//! memory stays bounded under a flood. A request that would wait behind more
//! than `hash_queue` others is refused at once with [`AppError::Busy`].
//!
//! The pool is [`pool`]; the organisation's blocklist [`Blocklist`];
//! temporary passwords [`generate_temporary_password`].
//!
//! Every function here NFKC-normalises the password first (the shared
//! `normalize_password`), so no caller can forget.

mod blocklist;
mod pool;
pub mod secret_box;
mod temporary;

pub use blocklist::Blocklist;
pub use pool::{Admission, HashTicket, Hasher, LOOKING_PER_PLACE};
pub use temporary::generate_temporary_password;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use latchkey_shared::normalize::normalize_password;
use rand::Rng;

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
/// slow: call it from a thread that may block (the [`Hasher`]'s pool) or a CLI.
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
    let matched = if needs_rehash {
        // The parameters are taken from the PHC string itself.
        Argon2::default()
            .verify_password(normalized.as_bytes(), &parsed)
            .is_ok()
    } else {
        verify_current(normalized.as_bytes(), &parsed)
    };
    Verification {
        matched,
        needs_rehash,
    }
}

thread_local! {
    /// This thread's argon2 memory for the current parameters, kept between
    /// verifications. Allocating a fresh 19 MiB per verification (as
    /// `verify_password` does) means zero-filling it and faulting in ~4900
    /// pages each time, on the very cores the hashing is bounded by. Only
    /// the hashing threads (`permits` of them) ever hold one, which the
    /// memory budget already counts. argon2 writes every block before it
    /// reads it, so what a previous verification left there is never used.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `verify_password` for a hash with the current parameters, on this
/// thread's reused memory. Same computation, same constant-time comparison
/// (`Output`'s `==`).
fn verify_current(normalized: &[u8], parsed: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon2 = argon2_with(params.clone());
    let computed = argon2::password_hash::Output::init_with(expected.len(), |out| {
        BLOCKS.with_borrow_mut(|blocks| {
            let count = params.block_count();
            if blocks.len() != count {
                blocks.resize(count, argon2::Block::default());
            }
            argon2
                .hash_password_into_with_memory(normalized, salt, out, &mut blocks[..])
                .map_err(Into::into)
        })
    });
    computed.is_ok_and(|computed| computed == expected)
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
    fn verification_on_reused_memory_agrees_with_the_argon2_crate() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        let parsed = PasswordHash::new(&h).unwrap();
        for (password, expected) in [
            ("correct horse battery staple", true),
            ("correct horse battery stapl", false),
            ("", false),
            ("correct horse battery staple", true),
        ] {
            let normalized = normalize_password(password);
            let by_crate = Argon2::default()
                .verify_password(normalized.as_bytes(), &parsed)
                .is_ok();
            assert_eq!(by_crate, expected, "{password:?}");
            assert_eq!(
                verify_current(normalized.as_bytes(), &parsed),
                expected,
                "{password:?}"
            );
        }
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
}
