//! Temporary passwords, as staff and the command line issue them.

use rand::Rng;

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
    fn temporary_passwords_are_long_and_unambiguous() {
        for _ in 0..50 {
            let p = generate_temporary_password();
            assert_eq!(p.chars().count(), 23);
            assert!(!p.contains(['0', 'O', '1', 'l', 'I', 'o']));
        }
        assert_ne!(generate_temporary_password(), generate_temporary_password());
    }
}
