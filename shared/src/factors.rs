//! Second factors: an authenticator app (TOTP, RFC 6238). The parameters
//! every authenticator app understands, the account page's requests, and
//! the messages.

use serde::{Deserialize, Serialize};

pub mod paths {
    /// `GET` → [`super::AuthenticatorStatus`]; `DELETE`
    /// [`super::RemoveAuthenticator`] → [`super::AuthenticatorStatus`]
    /// (the password again).
    pub const AUTHENTICATOR: &str = "/api/account/authenticator";
    /// `POST` [`super::BeginAuthenticator`] (the password again) →
    /// [`super::AuthenticatorSetup`]: a new key, not in use until confirmed
    /// (replaces an unconfirmed one).
    pub const AUTHENTICATOR_SETUP: &str = "/api/account/authenticator/setup";
    /// `POST` [`super::ConfirmAuthenticator`] → [`super::AuthenticatorStatus`].
    pub const AUTHENTICATOR_CONFIRM: &str = "/api/account/authenticator/confirm";
    /// `GET` → [`super::AddressStatus`]; `POST` [`super::ChangeAddress`]
    /// (the password again; at most [`super::MAX_ADDRESS_REQUESTS`] an hour)
    /// → [`super::AddressStatus`]: a code is mailed to the new address,
    /// which is used once confirmed; `DELETE` [`super::RemoveAddress`] →
    /// [`super::AddressStatus`] (the password again).
    pub const ADDRESS: &str = "/api/account/address";
    /// `POST` [`super::ConfirmAddress`] → [`super::AddressStatus`].
    pub const ADDRESS_CONFIRM: &str = "/api/account/address/confirm";
    /// `GET` → [`super::PasswordExpiry`].
    pub const PASSWORD_EXPIRY: &str = "/api/account/password-expiry";
}

/// When the signed-in person's password expires, where the domain sets a
/// maximum age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordExpiry {
    /// Unix seconds; `None`: it does not expire.
    pub expires_at: Option<i64>,
    pub expired: bool,
}

/// Digits of a code.
pub const TOTP_DIGITS: usize = 6;
/// Seconds a code stands for.
pub const TOTP_STEP_SECS: u64 = 30;
/// Steps before and after now that are accepted (a clock a little off).
pub const TOTP_SKEW: u8 = 1;
/// Bytes of a new key (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_BYTES: usize = 20;
/// Characters a typed code may have (spaces between groups are allowed).
pub const MAX_CODE_CHARS: usize = 16;
/// Address changes (each mails a code to the address typed) one account may
/// ask for within [`ADDRESS_REQUEST_WINDOW_SECS`]: a stolen session cannot
/// use the server to mail anyone it likes.
pub const MAX_ADDRESS_REQUESTS: i64 = 5;
/// The window [`MAX_ADDRESS_REQUESTS`] counts in (an hour from the first).
pub const ADDRESS_REQUEST_WINDOW_SECS: i64 = 3600;

/// Wrong codes (authenticator or mail) one name may type in Unlock Account
/// and Forgot Password, in total: the per-window block alone lets a code be
/// guessed for ever. At this many the name's self-service stops until the
/// owner signs in or the Help Desk unlocks the account or clears its
/// enrolment; the owner is told by mail.
pub const MAX_WRONG_CODES: u32 = 10;
/// Codes mailed to one account per hour. A request while a mailed code is
/// still valid mails nothing new: the code already sent works.
pub const MAIL_CODES_PER_HOUR: u32 = 3;

pub mod messages {
    pub const WRONG_CODE: &str =
        "That code is not right. Type the 6 digits your authenticator app shows now.";
    pub const NOT_A_CODE: &str = "Type the 6 digits your authenticator app shows.";
    pub const NO_SETUP: &str = "Start again: choose \"Add an authenticator\" to get a new key.";
    pub const NO_KEY: &str = "Authenticator apps are not available here: the server has no secret_key. Ask your administrator.";
    pub const ALREADY: &str = "You have an authenticator already. Remove it first to add another.";
    pub const NONE: &str = "You have no authenticator.";
    pub const NOT_AN_ADDRESS: &str = "Type a mail address such as jane.smith@example.org.";
    pub const ADDRESS_FROM_DIRECTORY: &str = "Your mail address comes from your organisation's directory: ask your Help Desk to change it there.";
    pub const NO_MAIL: &str =
        "Mail is not set up here, so no address can be confirmed. Ask your administrator.";
    pub const WRONG_ADDRESS_CODE: &str = "That code is not right or has expired. Type the code from the mail we sent to the new address, or ask for a new one.";
    pub const NO_ADDRESS: &str = "You have no mail address on file.";
    pub const ADDRESS_CHANGED_MEANWHILE: &str =
        "Your mail address changed meanwhile. Reload the page and try again.";
    pub const NO_PENDING_ADDRESS: &str =
        "There is no address waiting for confirmation: type the new address first.";
    pub const PASSWORD_NEEDED: &str = "Enter your password to confirm it is you.";

    /// The refusal of an address change beyond [`super::MAX_ADDRESS_REQUESTS`]
    /// an hour; `minutes`: until the next one is allowed.
    pub fn too_many_address_requests(minutes: i64) -> String {
        format!(
            "You have asked for {} address codes within an hour. Use the code from the last mail, or try again in {} minute{}.",
            super::MAX_ADDRESS_REQUESTS,
            minutes,
            if minutes == 1 { "" } else { "s" }
        )
    }
}

/// The signed-in person's mail address (where notifications and one-time
/// codes go).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressStatus {
    pub address: Option<String>,
    /// A new address waiting for its code.
    pub pending: Option<String>,
    /// The address is the directory's and cannot be changed here.
    pub from_directory: bool,
    /// Mail is configured (a code can be sent).
    pub mail_available: bool,
}

/// A new address, after the password again: with a session alone an
/// address (where Forgot Password mails its code) cannot be changed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeAddress {
    pub address: String,
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for ChangeAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeAddress")
            .field("address", &self.address)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmAddress {
    pub code: String,
}

/// The digits of a typed code (spaces and dashes between groups dropped),
/// if it is one.
pub fn parse_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthenticatorStatus {
    /// A confirmed authenticator is in use.
    pub active: bool,
    /// Unix seconds it was confirmed.
    pub since: Option<i64>,
    /// The server can keep authenticators (it has a key).
    pub available: bool,
}

/// A new key, shown once: as text for typing and as an `otpauth://` URI for
/// the QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthenticatorSetup {
    /// Base32, in groups of four for reading.
    pub secret: String,
    pub otpauth_uri: String,
}

/// A new authenticator key, after the password again: with a session alone
/// no second factor can be added.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BeginAuthenticator {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmAuthenticator {
    pub code: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveAuthenticator {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

/// Stop mail to the address on file (notifications and codes) after the
/// password again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveAddress {
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub password: String,
}

// Never let a password reach a log line through `{:?}`.
macro_rules! redacted_debug {
    ($($ty:ident),+) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("password", &"<redacted>")
                    .finish()
            }
        }
    )+};
}
redacted_debug!(RemoveAuthenticator, RemoveAddress, BeginAuthenticator);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_digits_with_spaces_or_a_dash_allowed_between_groups() {
        assert_eq!(parse_code("123 456").as_deref(), Some("123456"));
        assert_eq!(parse_code("123-456").as_deref(), Some("123456"));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("1234567"), None);
        assert_eq!(parse_code("12a456"), None);
        assert_eq!(parse_code("١٢٣٤٥٦"), None, "ASCII digits only");
    }
}
