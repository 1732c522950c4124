//! The second factors a person holds beside the password: an authenticator
//! app ([`authenticator`], TOTP), a mail address ([`address`]) and the
//! one-time codes mailed to it ([`codes`]), which sign-in and the
//! self-service steps both ask for.

pub mod address;
pub mod authenticator;
pub mod codes;
