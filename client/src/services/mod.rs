//! The only place that talks HTTP: one file per resource, each a function
//! per request, all through [`requests`]; every failure is an
//! [`error::ApiClientError`]. Pages and components call these, never
//! [`requests`] itself.

pub mod account;
pub mod admin;
pub mod bootstrap;
pub mod error;
pub mod factors;
pub mod json;
mod requests;
pub mod self_service;
pub mod session;
pub mod staff;
pub mod storage;
pub mod strength;
