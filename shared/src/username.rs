//! User names, parsed once at the edge so the rest of the code can rely on
//! them being well-formed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest user name accepted, in code points after NFKC.
pub const MAX_USERNAME_LENGTH: usize = 64;

/// A well-formed user name: NFKC, trimmed, 1 to [`MAX_USERNAME_LENGTH`] code
/// points of letters, digits and `. _ - @`.
///
/// Equality compares the form as typed; use [`Username::key`] to look a user
/// up, since sign-in must not depend on the case someone types.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("Enter your user name.")]
    Empty,
    #[error("A user name can be at most {max} characters long.", max = MAX_USERNAME_LENGTH)]
    TooLong,
    #[error("A user name cannot contain control characters.")]
    ControlCharacter,
    #[error("A user name cannot contain spaces.")]
    Whitespace,
    #[error(
        "A user name cannot contain the character {0:?}. Use only letters, digits and . _ - @"
    )]
    InvalidCharacter(char),
}

impl Username {
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        // Normalise before trimming: NFKC can turn a non-space character into
        // a space (e.g. U+00A8 DIAERESIS becomes space + combining mark).
        let normalized = crate::normalize::nfkc(input);
        let trimmed = normalized.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Character checks come before the length check so that someone who
        // pasted a paragraph learns about the real problem first.
        for c in trimmed.chars() {
            if c.is_control() {
                return Err(UsernameError::ControlCharacter);
            }
            if c.is_whitespace() {
                return Err(UsernameError::Whitespace);
            }
            if !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
                return Err(UsernameError::InvalidCharacter(c));
            }
        }
        if trimmed.chars().count() > MAX_USERNAME_LENGTH {
            return Err(UsernameError::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The user name as typed (NFKC, trimmed); for display.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form under which the user is stored and looked up.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Username {
    type Err = UsernameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Username {
    type Error = UsernameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl Serialize for Username {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    // Going through `parse` keeps the invariant for values read from JSON,
    // config files or the database.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for ok in [
            "jsmith",
            "J.Smith",
            "jane_smith-2",
            "jane@example.org",
            "Jos\u{00E9}",
            "\u{6771}\u{4EAC}",
            "a",
        ] {
            let u = Username::parse(ok).unwrap_or_else(|e| panic!("{ok:?} refused: {e}"));
            assert_eq!(u.as_str(), ok);
        }
    }

    #[test]
    fn trims_and_normalises() {
        let u = Username::parse("  \u{FF2A}Smith\t").expect("valid");
        assert_eq!(u.as_str(), "JSmith");
        assert_eq!(u.key(), "jsmith");
        // Decomposed accent becomes one code point.
        let u = Username::parse("Jose\u{0301}").expect("valid");
        assert_eq!(u.as_str(), "Jos\u{00E9}");
        assert_eq!(u.key(), "jos\u{00E9}");
    }

    #[test]
    fn key_ignores_case() {
        let a = Username::parse("JSmith").expect("valid");
        let b = Username::parse("jsmith").expect("valid");
        assert_ne!(a, b);
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse(" \t\u{3000} "), Err(UsernameError::Empty));
    }

    #[test]
    fn length_bounds() {
        let max = "a".repeat(MAX_USERNAME_LENGTH);
        assert!(Username::parse(&max).is_ok());
        let too_long = "a".repeat(MAX_USERNAME_LENGTH + 1);
        assert_eq!(Username::parse(&too_long), Err(UsernameError::TooLong));
        // Counted in code points, not bytes.
        let wide = "\u{00E9}".repeat(MAX_USERNAME_LENGTH);
        assert!(Username::parse(&wide).is_ok());
        // Surrounding whitespace does not count.
        assert!(Username::parse(&format!("  {max}  ")).is_ok());
    }

    #[test]
    fn refuses_control_whitespace_and_symbols() {
        assert_eq!(
            Username::parse("j\u{0007}smith"),
            Err(UsernameError::ControlCharacter)
        );
        assert_eq!(
            Username::parse("j\tsmith"),
            Err(UsernameError::ControlCharacter)
        );
        assert_eq!(
            Username::parse("jane smith"),
            Err(UsernameError::Whitespace)
        );
        assert_eq!(
            Username::parse("jane\u{00A0}smith"),
            Err(UsernameError::Whitespace)
        );
        assert_eq!(
            Username::parse("j/smith"),
            Err(UsernameError::InvalidCharacter('/'))
        );
        assert_eq!(
            Username::parse("j'smith"),
            Err(UsernameError::InvalidCharacter('\''))
        );
        assert_eq!(
            Username::parse("\u{1F600}"),
            Err(UsernameError::InvalidCharacter('\u{1F600}'))
        );
    }

    #[test]
    fn errors_read_as_sentences() {
        let msg = UsernameError::InvalidCharacter('/').to_string();
        assert!(msg.contains("'/'"), "{msg}");
        assert!(UsernameError::TooLong.to_string().contains("64"));
    }

    #[test]
    fn serde_goes_through_parse() {
        let u: Username = serde_json::from_str("\" JSmith \"").expect("valid");
        assert_eq!(u.as_str(), "JSmith");
        assert_eq!(serde_json::to_string(&u).expect("serialize"), "\"JSmith\"");
        assert!(serde_json::from_str::<Username>("\"a b\"").is_err());
    }
}
