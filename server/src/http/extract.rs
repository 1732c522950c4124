//! Extractors whose rejections are [`AppError`]s, so a malformed request gets
//! the same JSON error body as everything else.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use latchkey_shared::bounds::{Bounded, BoundedParam};
use serde::de::DeserializeOwned;

use crate::audit::Actor;
use crate::error::AppError;
use crate::http::client_addr::{client_address, forwarded_https};
use crate::http::serve::is_body_timeout;
use crate::state::AppState;

/// `axum::Json` with rejections mapped: a missing/wrong content type is 415,
/// a body over the limit 413, a body that is not the expected JSON 400 with
/// serde's explanation; then every text in it is held to its
/// [`Bounded`] bound (400 naming the field), before any handler runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + Bounded,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let value = match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(map_json_rejection(rejection)),
        };
        value.check_bounds().map_err(AppError::invalid_field)?;
        Ok(Self(value))
    }
}

/// `axum::extract::Query`, bounded like [`ApiJson`], with a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Bounded,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let value = match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => value,
            Err(rejection) => return Err(map_query_rejection(&rejection)),
        };
        value.check_bounds().map_err(AppError::invalid_field)?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path` of one parameter, bounded, with a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + BoundedParam + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let value = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => value,
            Err(rejection) => return Err(map_path_rejection(&rejection)),
        };
        value.check_param().map_err(AppError::invalid_field)?;
        Ok(Self(value))
    }
}

fn map_query_rejection(rejection: &QueryRejection) -> AppError {
    AppError::BadRequest(format!(
        "The query parameters are not valid: {}",
        rejection.body_text()
    ))
}

fn map_path_rejection(rejection: &PathRejection) -> AppError {
    AppError::BadRequest(format!(
        "The address is not valid: {}",
        rejection.body_text()
    ))
}

fn map_json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
            "Send the request body as JSON with `Content-Type: application/json`.".to_owned(),
        ),
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(format!(
            "The request body is not valid JSON: {}",
            e.body_text()
        )),
        JsonRejection::JsonDataError(e) => AppError::BadRequest(format!(
            "The request body does not have the expected fields: {}",
            e.body_text()
        )),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge
        }
        JsonRejection::BytesRejection(e) if is_body_timeout(&e) => AppError::RequestTimeout,
        JsonRejection::BytesRejection(e) => AppError::BadRequest(format!(
            "The request body could not be read: {}",
            e.body_text()
        )),
        other => AppError::BadRequest(format!("Invalid request body: {}", other.body_text())),
    }
}

/// The client's address, for the audit trail, mails and metrics: the
/// connection's peer, or what a trusted proxy reports
/// ([`client_address`]).
#[derive(Debug, Clone, Default)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| {
                    client_address(addr.ip(), &parts.headers, &state.config.trusted_proxies)
                        .to_string()
                }),
        ))
    }
}

/// Whether the client's request came over https, for the session
/// cookie's `Secure` and HSTS: always when the server serves TLS or its
/// `public_url` is https ([`crate::Config::secure_cookies`]); otherwise
/// when a trusted proxy says so ([`forwarded_https`]). A proxy's word can
/// only add `Secure`, never take it away.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverHttps(pub bool);

impl OverHttps {
    pub fn of(
        extensions: &axum::http::Extensions,
        headers: &axum::http::HeaderMap,
        state: &AppState,
    ) -> Self {
        if state.config.secure_cookies() {
            return Self(true);
        }
        Self(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .is_some_and(|ConnectInfo(peer)| {
                    forwarded_https(peer.ip(), headers, &state.config.trusted_proxies)
                }),
        )
    }
}

impl FromRequestParts<AppState> for OverHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions, &parts.headers, state))
    }
}

/// Who asks (the extractor `W`: a session, a staff member) and who that is
/// in the audit trail (from the client's address), with the application
/// state: what a handler hands to an operation. Destructure it in the
/// handler's arguments: `Caller { state, who: AdminOnly(admin), actor }: AdminCaller`.
#[derive(Clone)]
pub struct Caller<W> {
    pub state: AppState,
    pub who: W,
    pub actor: Actor,
}

/// An extractor that names someone for the audit trail.
pub trait Acting {
    /// The audit log's actor: `user@domain` for staff, the user name for a
    /// user acting on their own account.
    fn actor_name(&self) -> String;
}

impl<W> FromRequestParts<AppState> for Caller<W>
where
    W: Acting + FromRequestParts<AppState, Rejection = AppError> + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let who = W::from_request_parts(parts, state).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        Ok(Self {
            state: state.clone(),
            actor: Actor::new(who.actor_name(), ip),
            who,
        })
    }
}
