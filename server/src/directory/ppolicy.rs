//! The password policy response control of OpenLDAP's ppolicy overlay
//! (draft-behera-ldap-password-policy, OID 1.3.6.1.4.1.42.2.27.8.5.1): why a
//! bind or a password change was refused, beyond LDAP's result code.
//!
//! ```text
//! PasswordPolicyResponseValue ::= SEQUENCE {
//!     warning [0] CHOICE { timeBeforeExpiration [0] INTEGER,
//!                          graceAuthNsRemaining [1] INTEGER } OPTIONAL,
//!     error   [1] ENUMERATED { … } OPTIONAL }
//! ```

pub const OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The control's `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    PasswordExpired,
    AccountLocked,
    /// A reset password must be changed before anything else.
    ChangeAfterReset,
    PasswordModNotAllowed,
    MustSupplyOldPassword,
    InsufficientPasswordQuality,
    PasswordTooShort,
    PasswordTooYoung,
    PasswordInHistory,
    Other(u8),
}

impl PolicyError {
    fn from_code(code: u8) -> Self {
        match code {
            0 => Self::PasswordExpired,
            1 => Self::AccountLocked,
            2 => Self::ChangeAfterReset,
            3 => Self::PasswordModNotAllowed,
            4 => Self::MustSupplyOldPassword,
            5 => Self::InsufficientPasswordQuality,
            6 => Self::PasswordTooShort,
            7 => Self::PasswordTooYoung,
            8 => Self::PasswordInHistory,
            n => Self::Other(n),
        }
    }
}

/// One BER element: (tag, contents, rest).
fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `error` of a response control's value, if it has one.
pub fn error(value: &[u8]) -> Option<PolicyError> {
    let (tag, mut contents, _) = element(value)?;
    if tag != 0x30 {
        return None;
    }
    while let Some((tag, inner, rest)) = element(contents) {
        // [1] ENUMERATED, implicitly tagged: context-specific, primitive.
        if tag == 0x81 && inner.len() == 1 {
            return Some(PolicyError::from_code(inner[0]));
        }
        contents = rest;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_is_read_with_or_without_a_warning_before_it() {
        assert_eq!(
            error(&[0x30, 0x03, 0x81, 0x01, 0x01]),
            Some(PolicyError::AccountLocked)
        );
        // warning: timeBeforeExpiration 300, then error 8.
        let with_warning = [
            0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x08,
        ];
        assert_eq!(error(&with_warning), Some(PolicyError::PasswordInHistory));
        assert_eq!(error(&[0x30, 0x00]), None);
        assert_eq!(error(&[0x30, 0x05, 0x81]), None, "truncated");
        assert_eq!(error(&[]), None);
    }
}
