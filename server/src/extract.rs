//! Extractors whose rejections are [`AppError`]s, so a malformed request gets
//! the same JSON error body as everything else.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `axum::Json` with rejections mapped: a missing/wrong content type is 415,
/// a body that is not the expected JSON is 400 with serde's explanation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(map_json_rejection(rejection)),
        }
    }
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
        JsonRejection::BytesRejection(e) => AppError::BadRequest(format!(
            "The request body could not be read: {}",
            e.body_text()
        )),
        other => AppError::BadRequest(format!("Invalid request body: {}", other.body_text())),
    }
}

/// The peer address of the connection, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        ))
    }
}
