//! The signed-in person's own password (the account page's Change Password
//! tab). The second factors are in [`super::factors`], the security
//! questions in [`super::self_service`].

use latchkey_shared::api::{paths, ChangePasswordRequest, ChangePasswordResponse};

use super::error::ApiClientError;
use super::requests;

pub async fn change_password(
    request: &ChangePasswordRequest,
) -> Result<ChangePasswordResponse, ApiClientError> {
    requests::post(paths::CHANGE_PASSWORD, request).await
}
