//! Input normalisation, so that the same text typed on different keyboards,
//! operating systems or input methods is treated as the same text.

use unicode_normalization::UnicodeNormalization;

/// NFKC form of a password.
///
/// Compatibility normalisation (as NIST SP 800-63B recommends) means that a
/// password typed as full-width letters on one device, or with a precomposed
/// "é" on one OS and "e" + combining accent on another, still matches. Case
/// and whitespace are kept: they are part of the secret.
pub fn normalize_password(password: &str) -> String {
    password.nfkc().collect()
}

/// Canonical form of a security-question answer: NFKC, full Unicode case
/// folding, trimmed, and inner runs of whitespace collapsed into one space.
///
/// Answers are recalled, not memorised character by character, so "New  York"
/// and "new york" must be the same answer.
pub fn normalize_answer(answer: &str) -> String {
    let compat: String = answer.nfkc().collect();
    let folded = caseless::default_case_fold_str(&compat);
    // Case folding can produce sequences that are no longer in NFKC (e.g. a
    // folded letter followed by a combining mark), so normalise once more to
    // make the result a fixed point.
    let renormalized: String = folded.nfkc().collect();
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
