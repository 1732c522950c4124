//! The session: sign in, read it back after a reload, sign out.
//!
//! `sign_in` and `get_session` return the request's future rather than
//! being `async fn`s: the first-load module (which signs in) then carries
//! no panic location naming this file, about 30 bytes of a budget that has
//! less than 100 to spare.

use std::future::Future;

use latchkey_shared::api::{paths, SessionInfo, SignInRequest};

use super::error::ApiClientError;
use super::requests;

pub fn sign_in(
    request: &SignInRequest,
) -> impl Future<Output = Result<SessionInfo, ApiClientError>> + '_ {
    requests::post(paths::SESSION, request)
}

pub fn get_session() -> impl Future<Output = Result<SessionInfo, ApiClientError>> {
    requests::get(paths::SESSION)
}

/// Ends the session. Already ended counts as success.
pub async fn sign_out() -> Result<(), ApiClientError> {
    match requests::delete(paths::SESSION).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_authenticated() => Ok(()),
        Err(e) => Err(e),
    }
}
