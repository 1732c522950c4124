//! `GET /api/bootstrap`: what the sign-in page needs (domains and their
//! policies, notices, the Help Desk), asked conditionally so that a copy in
//! local storage costs a 304.

use std::future::Future;

use latchkey_shared::api::{paths, Bootstrap};

use super::error::ApiClientError;
use super::requests;
pub use super::requests::Conditional;

/// The answer to a conditional `GET /api/bootstrap`.
pub type BootstrapFetch = Conditional<Bootstrap>;

/// A plain function returning the request's future rather than an `async
/// fn`: the first-load module then carries no panic location naming this
/// file (about 30 bytes of a budget that has less than 100 to spare).
pub fn get_bootstrap(
    etag: Option<&str>,
) -> impl Future<Output = Result<BootstrapFetch, ApiClientError>> + '_ {
    requests::get_conditional(paths::BOOTSTRAP, etag)
}
