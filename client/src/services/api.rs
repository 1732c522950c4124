//! The sign-in page's and the account's endpoints, and [`ApiClientError`],
//! what every failed request becomes (see [`super::requests`]).

use gloo_net::http::Request;
use latchkey_shared::api::{
    paths, ApiError, Bootstrap, ChangePasswordRequest, ChangePasswordResponse, ErrorCode,
    SessionInfo, SignInRequest,
};

use super::requests::{self, decode, fetch};

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

/// The answer to a conditional `GET /api/bootstrap`.
pub enum BootstrapFetch {
    /// 304: the copy we hold is current.
    NotModified,
    Fresh {
        bootstrap: Bootstrap,
        etag: Option<String>,
    },
}

pub async fn get_bootstrap(etag: Option<&str>) -> Result<BootstrapFetch, ApiClientError> {
    let mut builder = Request::get(paths::BOOTSTRAP);
    if let Some(etag) = etag {
        builder = builder.header("If-None-Match", etag);
    }
    let response = fetch(builder).await?;
    if response.status() == 304 {
        return Ok(BootstrapFetch::NotModified);
    }
    let etag = response.headers().get("etag");
    let bootstrap = decode(response).await?;
    Ok(BootstrapFetch::Fresh { bootstrap, etag })
}

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

pub async fn change_password(
    request: &ChangePasswordRequest,
) -> Result<ChangePasswordResponse, ApiClientError> {
    requests::post(paths::CHANGE_PASSWORD, request).await
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
