//! The account page's second factors: the authenticator app (status, a new
//! key, its confirmation, its removal: [`crate::accounts::factors::authenticator`])
//! and the mail address ([`crate::accounts::factors::address`]).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_shared::factors::{
    paths, AddressStatus, AuthenticatorSetup, AuthenticatorStatus, BeginAuthenticator,
    ChangeAddress, ConfirmAddress, ConfirmAuthenticator, RemoveAddress, RemoveAuthenticator,
};

use super::Answer;
use crate::accounts::factors::{address, authenticator};
use crate::http::auth::{Authenticated, SignedIn};
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::AUTHENTICATOR, get(status).delete(remove))
        .route(paths::AUTHENTICATOR_SETUP, post(setup))
        .route(paths::AUTHENTICATOR_CONFIRM, post(confirm))
        .route(
            paths::ADDRESS,
            get(address_status)
                .post(change_address)
                .delete(remove_address),
        )
        .route(paths::ADDRESS_CONFIRM, post(confirm_address))
        .route(paths::PASSWORD_EXPIRY, get(password_expiry))
}

/// Open to a must-change session: its page says why the password must change.
async fn password_expiry(
    Authenticated(session): Authenticated,
    State(state): State<AppState>,
) -> Answer<latchkey_shared::factors::PasswordExpiry> {
    Ok(Json(
        crate::accounts::expiry::status(&state, session.user_id, session.domain_id).await?,
    ))
}

async fn address_status(
    SignedIn(session): SignedIn,
    State(state): State<AppState>,
) -> Answer<AddressStatus> {
    Ok(Json(address::status(&state, &session).await?))
}

async fn change_address(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<ChangeAddress>,
) -> Answer<AddressStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        address::request_change(&u.state, session, &u.actor, &req.address, &req.password).await?,
    ))
}

async fn remove_address(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<RemoveAddress>,
) -> Answer<AddressStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        address::remove(&u.state, session, &u.actor, &req.password).await?,
    ))
}

async fn confirm_address(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<ConfirmAddress>,
) -> Answer<AddressStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        address::confirm(&u.state, session, &u.actor, &req.code).await?,
    ))
}

async fn status(
    SignedIn(session): SignedIn,
    State(state): State<AppState>,
) -> Answer<AuthenticatorStatus> {
    Ok(Json(authenticator::status(&state, session.user_id).await?))
}

async fn setup(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<BeginAuthenticator>,
) -> Answer<AuthenticatorSetup> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        authenticator::begin(&u.state, session, &u.actor, &req.password).await?,
    ))
}

async fn confirm(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<ConfirmAuthenticator>,
) -> Answer<AuthenticatorStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        authenticator::confirm(&u.state, session, &u.actor, &req.code).await?,
    ))
}

async fn remove(
    u: Caller<SignedIn>,
    ApiJson(req): ApiJson<RemoveAuthenticator>,
) -> Answer<AuthenticatorStatus> {
    let SignedIn(session) = &u.who;
    Ok(Json(
        authenticator::remove(&u.state, session, &u.actor, &req.password).await?,
    ))
}
