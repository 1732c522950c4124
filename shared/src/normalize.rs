//! Input normalisation, so that the same text typed on different keyboards,
//! operating systems or input methods is treated as the same text.
//!
//! Two Unicode operations underlie it: NFKC and full case folding. With the
//! `unicode-tables` feature (default: the server, the strength worker, every
//! native test) they come from Rust's tables (`unicode-normalization`,
//! `caseless`), the reference behaviour. Without it (the PWA's main bundle,
//! where those tables would be ~100 KB of the first load) the program must
//! [`install`] a [`UnicodeBackend`] before the first normalisation; the PWA
//! installs the browser's `String.prototype.normalize("NFKC")` and case
//! mapping. The client's checks are advisory only: the server re-checks
//! everything with the tables.

/// The Unicode operations that normalisation is built on.
pub trait UnicodeBackend: Sync {
    /// The NFKC form of `s`.
    fn nfkc(&self, s: &str) -> String;
    /// The full (default) case folding of `s`; it need not be in NFKC.
    fn case_fold(&self, s: &str) -> String;
}

/// Rust's Unicode tables: the reference [`UnicodeBackend`].
#[cfg(feature = "unicode-tables")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Tables;

#[cfg(feature = "unicode-tables")]
impl UnicodeBackend for Tables {
    fn nfkc(&self, s: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        s.nfkc().collect()
    }
    fn case_fold(&self, s: &str) -> String {
        caseless::default_case_fold_str(s)
    }
}

#[cfg(not(feature = "unicode-tables"))]
static BACKEND: std::sync::OnceLock<&'static dyn UnicodeBackend> = std::sync::OnceLock::new();

/// Makes `backend` the one every normalisation uses, and returns true; call
/// it once, before the first normalisation. With the `unicode-tables` feature
/// the tables always win (so the behaviour cannot drift from the server's)
/// and this returns false. A second call is ignored and returns false.
pub fn install(backend: &'static dyn UnicodeBackend) -> bool {
    #[cfg(feature = "unicode-tables")]
    {
        let _ = backend;
        false
    }
    #[cfg(not(feature = "unicode-tables"))]
    {
        BACKEND.set(backend).is_ok()
    }
}

fn backend() -> &'static dyn UnicodeBackend {
    #[cfg(feature = "unicode-tables")]
    {
        &Tables
    }
    #[cfg(not(feature = "unicode-tables"))]
    {
        *BACKEND.get().expect(
            "latchkey_shared::normalize::install must be called when the unicode-tables feature is off",
        )
    }
}

/// NFKC form of any text (user names, context words).
pub fn nfkc(s: &str) -> String {
    backend().nfkc(s)
}

/// Full Unicode case folding (not normalised again).
pub fn case_fold(s: &str) -> String {
    backend().case_fold(s)
}

/// NFKC form of a password.
///
/// Compatibility normalisation (as NIST SP 800-63B recommends) means that a
/// password typed as full-width letters on one device, or with a precomposed
/// "é" on one OS and "e" + combining accent on another, still matches. Case
/// and whitespace are kept: they are part of the secret.
pub fn normalize_password(password: &str) -> String {
    nfkc(password)
}

/// Canonical form of a security-question answer: NFKC, full Unicode case
/// folding, trimmed, and inner runs of whitespace collapsed into one space.
///
/// Answers are recalled, not memorised character by character, so "New  York"
/// and "new york" must be the same answer.
pub fn normalize_answer(answer: &str) -> String {
    let compat = nfkc(answer);
    let folded = case_fold(&compat);
    // Case folding can produce sequences that are no longer in NFKC (e.g. a
    // folded letter followed by a combining mark), so normalise once more to
    // make the result a fixed point.
    let renormalized = nfkc(&folded);
    let mut out = String::with_capacity(renormalized.len());
    for word in renormalized.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_nfkc() {
        // Ligature expands to two letters.
        assert_eq!(normalize_password("\u{FB01}"), "fi");
        // Decomposed accent composes into one code point.
        assert_eq!(normalize_password("e\u{0301}"), "\u{00E9}");
        // Full-width letters become ASCII.
        assert_eq!(normalize_password("\u{FF21}\u{FF42}"), "Ab");
    }

    #[test]
    fn password_keeps_case_and_whitespace() {
        assert_eq!(normalize_password("  Pass Word  "), "  Pass Word  ");
        assert_eq!(normalize_password(""), "");
    }

    #[test]
    fn answer_is_folded_trimmed_and_collapsed() {
        assert_eq!(normalize_answer("  New \t\n York  "), "new york");
        assert_eq!(
            normalize_answer("STRASSE"),
            normalize_answer("stra\u{00DF}e")
        );
        assert_eq!(
            normalize_answer("Caf\u{00E9}"),
            normalize_answer("CAFE\u{0301}")
        );
        assert_eq!(normalize_answer("\u{FF2E}\u{FF45}\u{FF57}"), "new");
        // Ideographic space is whitespace too.
        assert_eq!(normalize_answer("a\u{3000}\u{3000}b"), "a b");
        assert_eq!(normalize_answer("   "), "");
    }

    #[test]
    fn answer_is_idempotent() {
        for s in [
            "\u{0130}stanbul",
            "\u{1E9E}",
            "\u{01C5}ungla",
            " \u{00A8}x ",
            "\u{FB03}",
        ] {
            let once = normalize_answer(s);
            assert_eq!(normalize_answer(&once), once, "not idempotent for {s:?}");
        }
    }
}
