//! How an [`AppError`] becomes an HTTP answer: an [`ApiError`] JSON body
//! with its code's status ([`ErrorCode::status`]) and, for a 503 or a 429,
//! `Retry-After`. An internal failure keeps the error itself (its whole
//! `source()` chain) in the response's extensions as an [`InternalError`];
//! the [`crate::http::middleware::internal_errors`] layer logs it once, with
//! the request id, and answers with that id only, never the details.
//!
//! [`ApiError`]: latchkey_shared::api::ApiError
//! [`ErrorCode::status`]: latchkey_shared::api::ErrorCode::status

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use latchkey_shared::api::ErrorCode;

use crate::error::{AppError, BUSY_RETRY_AFTER_SECS};
use crate::http::throttle::FailedCheck;

impl AppError {
    /// The status of [`Self::code`]: the map lives once, in `shared`.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for AppError {
    /// Internal errors are not logged here: the answer carries the error in
    /// its extensions, and [`crate::http::middleware::internal_errors`] logs it
    /// once and puts the request id into the body.
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.to_api_error(None);
        let mut response = (status, Json(body)).into_response();
        if matches!(
            self,
            Self::Busy | Self::DirectoryUnavailable(_) | Self::DatabaseUnavailable(_)
        ) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
        }
        if let Self::TooMany { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if matches!(
            self,
            Self::InvalidCredentials | Self::SelfService(ErrorCode::VerificationFailed)
        ) {
            response.extensions_mut().insert(FailedCheck);
        }
        if self.is_logged() {
            response
                .extensions_mut()
                .insert(InternalError(Arc::new(self)));
        }
        response
    }
}

/// The failure behind a 500, in the response's extensions until the
/// middleware logs it.
#[derive(Clone, Debug)]
pub struct InternalError(pub Arc<AppError>);

impl InternalError {
    /// The error and each of its sources, outermost first, joined by ": ".
    pub fn chain(&self) -> String {
        let mut text = self.0.to_string();
        let mut next = std::error::Error::source(&*self.0);
        while let Some(e) = next {
            text.push_str(": ");
            text.push_str(&e.to_string());
            next = e.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_error_code_contract() {
        assert_eq!(
            AppError::InvalidCredentials.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(AppError::AccountLocked.status(), StatusCode::LOCKED);
        assert_eq!(
            AppError::PasswordReused.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            AppError::PolicyChanged(Box::default()).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(AppError::Busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            AppError::internal("x").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("could not write the row")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_internal_error_keeps_its_whole_chain() {
        let e = AppError::internal(Outer(std::io::Error::other("disk full")));
        let response = e.into_response();
        let stashed = response
            .extensions()
            .get::<InternalError>()
            .expect("the error travels with the answer");
        assert_eq!(stashed.chain(), "could not write the row: disk full");
    }

    #[test]
    fn only_internal_errors_travel_with_the_answer() {
        let response = AppError::NotFound.into_response();
        assert!(response.extensions().get::<InternalError>().is_none());
    }
}
