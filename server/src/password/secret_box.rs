//! Secrets Latchkey must read back (an authenticator's key), kept in the
//! database only encrypted with the server's key: XChaCha20-Poly1305, a
//! random nonce per secret, and the owning row's id as associated data, so
//! a ciphertext copied onto another user's row does not open.
//!
//! The key is 32 random bytes, base64, from `secret_key` (the
//! configuration or `SSPM_SECRET_KEY`) or the first line of
//! `secret_key_file`; `latchkey secret-key` prints a new one. Without a key
//! the features that need one say so (409) and nothing is stored.

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const NONCE_LEN: usize = 24;

pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Keys hashes of one-time codes: derived from the key, so it is as far
    /// from the database as the key is, and a code's hash in a copy of the
    /// database cannot be searched.
    code_key: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SecretBox {
    /// The key from its base64 text; the error never repeats it.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = b64().decode(text.trim()).map_err(|_| {
            "secret_key is not base64 (make one with `latchkey secret-key`)".to_owned()
        })?;
        if bytes.len() != 32 {
            return Err(format!(
                "secret_key must be 32 bytes (base64 of 32 random bytes), not {}: make one with `latchkey secret-key`",
                bytes.len()
            ));
        }
        // A separate key for hashing, so the cipher's key is used for one thing.
        let code_key = hex::encode(crate::accounts::self_service::checks::keyed_hash(
            &b64().encode(&bytes),
            "secret-box/code-key",
            &[],
        ));
        Ok(Self {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes).map_err(|e| e.to_string())?,
            code_key,
        })
    }

    /// The secret that keys the hashes of one-time codes (for
    /// [`crate::accounts::self_service::checks::keyed_hash`]).
    pub fn code_key(&self) -> &str {
        &self.code_key
    }

    /// A new random key, base64.
    pub fn generate_key() -> String {
        b64().encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// `plain` sealed for the row `owner`: base64 of nonce and ciphertext.
    pub fn seal(&self, owner: i64, plain: &[u8]) -> Result<String, String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = owner.to_be_bytes();
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(b64().encode(out))
    }

    /// What [`SecretBox::seal`] sealed for `owner`; `Err` for another key,
    /// another owner, or a changed text.
    pub fn open(&self, owner: i64, sealed: &str) -> Result<Vec<u8>, String> {
        let bytes = b64()
            .decode(sealed)
            .map_err(|_| "not a sealed secret".to_owned())?;
        if bytes.len() <= NONCE_LEN {
            return Err("not a sealed secret".to_owned());
        }
        let (nonce, text) = bytes.split_at(NONCE_LEN);
        let aad = owner.to_be_bytes();
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: text,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                "the secret does not open with this key (was secret_key changed?)".to_owned()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_its_key() {
        let key = SecretBox::generate_key();
        let sb = SecretBox::from_base64(&key).unwrap();
        let sealed = sb.seal(7, b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(sb.open(7, &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(sb.open(8, &sealed).is_err(), "another row");
        let other = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        assert!(other.open(7, &sealed).is_err(), "another key");
        assert_ne!(sb.code_key(), other.code_key());
        assert_eq!(
            sb.code_key(),
            SecretBox::from_base64(&key).unwrap().code_key(),
            "the same key keys codes the same way after a restart"
        );
        assert!(!sb.code_key().contains(&key));
        // Two seals of one secret differ (a nonce each).
        assert_ne!(sealed, sb.seal(7, b"JBSWY3DPEHPK3PXP").unwrap());
    }

    #[test]
    fn a_key_of_the_wrong_size_is_named_without_repeating_it() {
        let e = SecretBox::from_base64("c2hvcnQ=").unwrap_err();
        assert!(e.contains("32 bytes") && !e.contains("c2hvcnQ"), "{e}");
        assert!(SecretBox::from_base64("not base64!").is_err());
    }
}
