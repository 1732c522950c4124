//! The browser's Unicode, so the main bundle carries no NFKC or case-folding
//! tables: `latchkey-shared` is built without `unicode-tables`, and [`install`]
//! hands it this backend before anything is normalised.
//!
//! NFKC is `String.prototype.normalize("NFKC")`, exact. Full case folding is
//! approximated by `toUpperCase().toLowerCase()` (which folds ß to "ss" and
//! the ligatures as folding does), then ς → σ and ẞ's ß → "ss" as folding
//! does, keeping the dotless ı (which folding keeps). The rare remaining
//! differences (Cherokee folds to upper case) only affect the live hints:
//! the server and the strength worker check with Rust's tables.

use js_sys::JsString;
use latchkey_shared::normalize::UnicodeBackend;

struct Browser;

impl UnicodeBackend for Browser {
    fn nfkc(&self, s: &str) -> String {
        if s.is_ascii() {
            return s.to_owned();
        }
        JsString::from(s).normalize("NFKC").into()
    }

    fn case_fold(&self, s: &str) -> String {
        if s.is_ascii() {
            return s.to_ascii_lowercase();
        }
        let mut out = String::with_capacity(s.len());
        for (i, part) in s.split('ı').enumerate() {
            if i > 0 {
                out.push('ı');
            }
            let lower: String = JsString::from(part).to_upper_case().to_lower_case().into();
            for c in lower.chars() {
                match c {
                    'ς' => out.push('σ'),
                    'ß' => out.push_str("ss"),
                    c => out.push(c),
                }
            }
        }
        out
    }
}

/// Makes the browser's Unicode the shared crate's (a no-op in native tests,
/// where the shared crate has its tables).
pub fn install() {
    static BROWSER: Browser = Browser;
    let _ = latchkey_shared::normalize::install(&BROWSER);
}
