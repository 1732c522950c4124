//! `GET /api/bootstrap`: what the sign-in page needs (domains and their
//! policies, notices, the Help Desk), asked conditionally so that a copy in
//! local storage costs a 304.

use gloo_net::http::Request;
use latchkey_shared::api::{paths, Bootstrap};

use super::error::ApiClientError;
use super::requests::{decode, fetch};

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
