//! The one way to call the server (after jetli's rust-yew-realworld
//! `services/requests.rs`): [`request`] and its shorthands [`get`],
//! [`post`], [`put`], [`delete`]. Every request carries the CSRF header and
//! sends cookies same-origin only; every failure becomes an
//! [`ApiClientError`], whose message is ready to show. Private to
//! `services/`: pages call a resource's file, never this.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use latchkey_shared::api::{messages, ApiError, ErrorCode, CSRF_HEADER};
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::RequestCredentials;

use super::error::ApiClientError;

/// `method url` with `body` as JSON (if any), answered by a JSON `T`. An
/// empty answer (204) decodes as `null`, so `T = ()` suits those.
pub async fn request<B, T>(method: Method, url: &str, body: Option<&B>) -> Result<T, ApiClientError>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let builder = prepare(RequestBuilder::new(url).method(method));
    let request = match body {
        Some(body) => {
            let body = super::json::to_string(body).ok_or(ApiClientError::Decode)?;
            builder
                .header("Content-Type", "application/json")
                .body(body)
        }
        None => builder.build(),
    }
    .map_err(|_| ApiClientError::Decode)?;
    let response = request.send().await.map_err(|_| ApiClientError::Network)?;
    decode(check(response).await?).await
}

pub async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiClientError> {
    request::<(), T>(Method::GET, url, None).await
}

pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiClientError> {
    request(Method::POST, url, Some(body)).await
}

pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiClientError> {
    request(Method::PUT, url, Some(body)).await
}

pub async fn delete(url: &str) -> Result<(), ApiClientError> {
    request::<(), ()>(Method::DELETE, url, None).await
}

fn prepare(builder: RequestBuilder) -> RequestBuilder {
    builder
        .header(CSRF_HEADER, "1")
        .header("Accept", "application/json")
        .credentials(RequestCredentials::SameOrigin)
}

/// The answer to a conditional GET ([`get_conditional`]).
pub enum Conditional<T> {
    /// 304: the copy the caller holds is current.
    NotModified,
    Fresh {
        body: T,
        etag: Option<String>,
    },
}

/// `GET url` with `If-None-Match: etag` (when there is one): 304 comes back
/// as [`Conditional::NotModified`], a 2xx with its `ETag`.
pub(super) async fn get_conditional<T: DeserializeOwned>(
    url: &str,
    etag: Option<&str>,
) -> Result<Conditional<T>, ApiClientError> {
    let mut builder = Request::get(url);
    if let Some(etag) = etag {
        builder = builder.header("If-None-Match", etag);
    }
    let response = prepare(builder)
        .send()
        .await
        .map_err(|_| ApiClientError::Network)?;
    let response = check(response).await?;
    if response.status() == 304 {
        return Ok(Conditional::NotModified);
    }
    let etag = response.headers().get("etag");
    let body = decode(response).await?;
    Ok(Conditional::Fresh { body, etag })
}

/// A non-2xx answer becomes its error.
async fn check(response: Response) -> Result<Response, ApiClientError> {
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

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiClientError> {
    let body = response.text().await.map_err(|_| ApiClientError::Network)?;
    let body = if body.is_empty() { "null" } else { &body };
    super::json::from_str(body).ok_or(ApiClientError::Decode)
}

/// An error made up from the HTTP status when the body is not an
/// [`ApiError`] (a proxy's page, say).
fn error_from_status(status: u16) -> ApiError {
    let code = ErrorCode::from_status(status);
    let message = match code {
        ErrorCode::NotAuthenticated => messages::NOT_AUTHENTICATED,
        ErrorCode::Forbidden => "This action is not allowed.",
        ErrorCode::NotFound => "Not found.",
        ErrorCode::AccountLocked => messages::ACCOUNT_LOCKED,
        ErrorCode::TooManyRequests => "Too many attempts. Please wait a moment and try again.",
        ErrorCode::Busy => messages::BUSY,
        ErrorCode::Internal => messages::INTERNAL,
        _ => "The request was not accepted. Reload the page and try again.",
    };
    ApiError {
        code,
        message: message.to_owned(),
        request_id: None,
        details: None,
    }
}
