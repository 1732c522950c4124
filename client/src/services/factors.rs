//! The account page's authenticator app endpoints.

use gloo_net::http::Method;
use latchkey_shared::factors::{
    paths, AuthenticatorSetup, AuthenticatorStatus, BeginAuthenticator, ConfirmAuthenticator,
    RemoveAuthenticator,
};

use super::error::ApiClientError;
use super::requests::{get, post, request};

pub async fn status() -> Result<AuthenticatorStatus, ApiClientError> {
    get(paths::AUTHENTICATOR).await
}

pub async fn setup(password: &str) -> Result<AuthenticatorSetup, ApiClientError> {
    post(
        paths::AUTHENTICATOR_SETUP,
        &BeginAuthenticator {
            password: password.to_owned(),
        },
    )
    .await
}

pub async fn confirm(code: &str) -> Result<AuthenticatorStatus, ApiClientError> {
    post(
        paths::AUTHENTICATOR_CONFIRM,
        &ConfirmAuthenticator {
            code: code.to_owned(),
        },
    )
    .await
}

pub async fn remove(password: &str) -> Result<AuthenticatorStatus, ApiClientError> {
    request(
        Method::DELETE,
        paths::AUTHENTICATOR,
        Some(&RemoveAuthenticator {
            password: password.to_owned(),
        }),
    )
    .await
}

pub async fn address() -> Result<latchkey_shared::factors::AddressStatus, ApiClientError> {
    get(paths::ADDRESS).await
}

pub async fn change_address(
    address: &str,
    password: &str,
) -> Result<latchkey_shared::factors::AddressStatus, ApiClientError> {
    post(
        paths::ADDRESS,
        &latchkey_shared::factors::ChangeAddress {
            address: address.to_owned(),
            password: password.to_owned(),
        },
    )
    .await
}

pub async fn remove_address(
    password: &str,
) -> Result<latchkey_shared::factors::AddressStatus, ApiClientError> {
    request(
        Method::DELETE,
        paths::ADDRESS,
        Some(&latchkey_shared::factors::RemoveAddress {
            password: password.to_owned(),
        }),
    )
    .await
}

pub async fn confirm_address(
    code: &str,
) -> Result<latchkey_shared::factors::AddressStatus, ApiClientError> {
    post(
        paths::ADDRESS_CONFIRM,
        &latchkey_shared::factors::ConfirmAddress {
            code: code.to_owned(),
        },
    )
    .await
}

pub async fn password_expiry() -> Result<latchkey_shared::factors::PasswordExpiry, ApiClientError> {
    get(paths::PASSWORD_EXPIRY).await
}
