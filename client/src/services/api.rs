//! The one place that talks to the server. Every request carries the CSRF
//! header and sends cookies same-origin only; every failure becomes an
//! [`ApiClientError`], whose message is ready to show.

use gloo_net::http::{Request, RequestBuilder, Response};
use latchkey_shared::api::{
    messages, paths, ApiError, Bootstrap, ChangePasswordRequest, ChangePasswordResponse, ErrorCode,
    SessionInfo, SignInRequest, CSRF_HEADER,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::RequestCredentials;

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

/// An error made up from the HTTP status when the body is not an [`ApiError`].
fn error_from_status(status: u16) -> ApiError {
    let (code, message) = match status {
        400 => (
            ErrorCode::BadRequest,
            "The request was not accepted. Reload the page and try again.",
        ),
        401 => (ErrorCode::NotAuthenticated, messages::NOT_AUTHENTICATED),
        403 => (ErrorCode::Forbidden, "This action is not allowed."),
        404 => (ErrorCode::NotFound, "Not found."),
        415 => (
            ErrorCode::UnsupportedMediaType,
            "The request was not accepted. Reload the page and try again.",
        ),
        423 => (ErrorCode::AccountLocked, messages::ACCOUNT_LOCKED),
        429 => (
            ErrorCode::TooManyRequests,
            "Too many attempts. Please wait a moment and try again.",
        ),
        502..=504 => (ErrorCode::Busy, messages::BUSY),
        _ => (ErrorCode::Internal, messages::INTERNAL),
    };
    ApiError {
        code,
        message: message.to_owned(),
        request_id: None,
        details: None,
    }
}

fn prepare(builder: RequestBuilder) -> RequestBuilder {
    builder
        .header(CSRF_HEADER, "1")
        .header("Accept", "application/json")
        .credentials(RequestCredentials::SameOrigin)
}

pub(crate) async fn send(builder: RequestBuilder) -> Result<Response, ApiClientError> {
    prepare(builder)
        .send()
        .await
        .map_err(|_| ApiClientError::Network)
}

pub(crate) async fn send_json<B: Serialize>(
    builder: RequestBuilder,
    body: &B,
) -> Result<Response, ApiClientError> {
    let body = super::json::to_string(body).ok_or(ApiClientError::Decode)?;
    prepare(builder)
        .header("Content-Type", "application/json")
        .body(body)
        .map_err(|_| ApiClientError::Decode)?
        .send()
        .await
        .map_err(|_| ApiClientError::Network)
}

/// Turns a non-2xx answer into an error; passes 2xx (and 304) through.
pub(crate) async fn check(response: Response) -> Result<Response, ApiClientError> {
    let status = response.status();
    if (200..300).contains(&status) || status == 304 {
        return Ok(response);
    }
    let error = match response.text().await {
        Ok(body) => {
            super::json::from_str::<ApiError>(&body).unwrap_or_else(|| error_from_status(status))
        }
        Err(_) => error_from_status(status),
    };
    Err(ApiClientError::Api(error))
}

pub(crate) async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiClientError> {
    let body = response.text().await.map_err(|_| ApiClientError::Network)?;
    super::json::from_str(&body).ok_or(ApiClientError::Decode)
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
    let response = check(send(builder).await?).await?;
    if response.status() == 304 {
        return Ok(BootstrapFetch::NotModified);
    }
    let etag = response.headers().get("etag");
    let bootstrap = decode(response).await?;
    Ok(BootstrapFetch::Fresh { bootstrap, etag })
}

pub async fn sign_in(request: &SignInRequest) -> Result<SessionInfo, ApiClientError> {
    decode(check(send_json(Request::post(paths::SESSION), request).await?).await?).await
}

pub async fn get_session() -> Result<SessionInfo, ApiClientError> {
    decode(check(send(Request::get(paths::SESSION)).await?).await?).await
}

/// Ends the session. Already ended counts as success.
pub async fn sign_out() -> Result<(), ApiClientError> {
    match check(send(Request::delete(paths::SESSION)).await?).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_authenticated() => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn change_password(
    request: &ChangePasswordRequest,
) -> Result<ChangePasswordResponse, ApiClientError> {
    decode(check(send_json(Request::post(paths::CHANGE_PASSWORD), request).await?).await?).await
}
