//! Everything the Latchkey client and server must agree on: the password
//! policy and its check, the strength estimate, input normalisation, and the
//! types of every API request, response and error.
//!
//! This crate compiles to wasm32 and native alike, so it must stay free of
//! tokio, sqlx, axum and web-sys.

pub mod admin;
pub mod api;
pub mod audit;
pub mod bounds;
pub mod dates;
pub mod factors;
pub mod normalize;
pub mod policy;
pub mod self_service;
#[cfg(feature = "strength")]
pub mod strength;
pub mod username;

pub use policy::{
    PasswordPolicy, PolicyContext, PolicyReport, RuleId, RuleResult, StrengthEstimate,
};
pub use username::Username;

/// Shown in the UI and used as a forbidden context word in every policy.
pub const PRODUCT_NAME: &str = "Latchkey";
