//! [`ApiClientError`]: what every failed request becomes (see
//! [`super::requests`]), with a message ready to show.

use latchkey_shared::api::{ApiError, ErrorCode};

/// Why a request did not give the expected answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiClientError {
    /// No answer at all: offline, DNS, connection refused, CORS…
    Network,
    /// The server answered with an error (its body, or one made up from the
    /// status when the body was not an [`ApiError`], e.g. from a proxy).
    Api(ApiError),
    /// The server answered 2xx but the body was not what this client expects
    /// (typically a client older than the server).
    Decode,
}

impl ApiClientError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api(e) => Some(e.code),
            _ => None,
        }
    }

    /// A sentence a person can act on.
    pub fn message(&self) -> String {
        match self {
            Self::Network => "This needs a connection to the server, which cannot be reached \
                              right now. What you typed is kept (except passwords): try again \
                              when you are back online."
                .to_owned(),
            Self::Decode => "The server sent an answer this page does not understand. \
                             Reload the page; if it keeps happening, call the Help Desk."
                .to_owned(),
            Self::Api(e) => match &e.request_id {
                Some(id) => format!("{} (Reference: {id})", e.message),
                None => e.message.clone(),
            },
        }
    }

    pub fn is_not_authenticated(&self) -> bool {
        self.code() == Some(ErrorCode::NotAuthenticated)
    }
}

/// An error the server could have sent, for the reducers' tests.
#[cfg(test)]
pub fn api_error(
    code: ErrorCode,
    details: Option<latchkey_shared::api::ErrorDetails>,
) -> ApiClientError {
    ApiClientError::Api(ApiError {
        code,
        message: "server says no".into(),
        request_id: None,
        details,
    })
}
