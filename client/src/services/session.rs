//! The session: sign in, read it back after a reload, sign out.

use latchkey_shared::api::{paths, SessionInfo, SignInRequest};

use super::error::ApiClientError;
use super::requests;

pub async fn sign_in(request: &SignInRequest) -> Result<SessionInfo, ApiClientError> {
    requests::post(paths::SESSION, request).await
}

pub async fn get_session() -> Result<SessionInfo, ApiClientError> {
    requests::get(paths::SESSION).await
}

/// Ends the session. Already ended counts as success.
pub async fn sign_out() -> Result<(), ApiClientError> {
    match requests::delete(paths::SESSION).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_authenticated() => Ok(()),
        Err(e) => Err(e),
    }
}
