//! The organisation's list of refused passwords.

use std::collections::HashSet;
use std::path::Path;

use latchkey_shared::normalize::normalize_password;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_is_case_insensitive() {
        let b = Blocklist::from_lines(["Hunter2Hunter2", "", "  "]);
        assert_eq!(b.len(), 1);
        assert!(b.contains("hunter2hunter2"));
        assert!(b.contains("HUNTER2HUNTER2"));
        assert!(!b.contains("hunter3"));
    }
}
