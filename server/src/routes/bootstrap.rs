//! `GET /api/bootstrap`: what the client needs to work offline. Answers with a
//! strong `ETag` (a hash of the content) and 304 to a matching
//! `If-None-Match`. The body for one `ETag` is cached, so it is byte-identical
//! for as long as the content is (its `generated_at` is when this version was
//! first produced).
//!
//! It is the only API answer sent compressed (gzip or brotli, by
//! `Accept-Encoding`; a 304 has no body and stays as it is): it holds nothing
//! secret, while every other answer may carry a secret next to something an
//! attacker chooses, which compression would leak by its length (BREACH).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use latchkey_shared::api::{paths, Bootstrap, HelpDesk, Notice};
use latchkey_shared::PRODUCT_NAME;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tower_http::compression::CompressionLayer;

use crate::domains;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    // Only this router's routes: the layer does not reach the other API routers.
    Router::new()
        .route(paths::BOOTSTRAP, get(bootstrap))
        .layer(CompressionLayer::new().gzip(true).br(true))
}

#[derive(Debug, Clone)]
pub struct CachedBootstrap {
    etag: String,
    body: Bytes,
}

/// Settings keys of the help desk contact.
pub const HELP_DESK_PHONE: &str = "help_desk_phone";
pub const HELP_DESK_EMAIL: &str = "help_desk_email";

async fn setting(state: &AppState, key: &str) -> Result<Option<String>, AppError> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("value")?),
        None => None,
    })
}

/// The current content (with `generated_at` 0).
pub async fn load(state: &AppState) -> Result<Bootstrap, AppError> {
    let domains = domains::all(&state.db)
        .await?
        .iter()
        .map(domains::Domain::info)
        .collect();
    let notices = sqlx::query(
        "SELECT id, title, body, posted_on FROM notices WHERE published = $1 \
         ORDER BY sort_order, posted_on DESC, id",
    )
    .bind(true)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Notice {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            body: r.try_get("body")?,
            posted_on: r.try_get("posted_on")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Bootstrap {
        product_name: PRODUCT_NAME.to_owned(),
        portal_name: state.config.portal_name.clone(),
        domains,
        notices,
        help_desk: HelpDesk {
            phone: setting(state, HELP_DESK_PHONE).await?.unwrap_or_default(),
            email: setting(state, HELP_DESK_EMAIL).await?.unwrap_or_default(),
        },
        generated_at: 0,
    })
}

fn if_none_match_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        // If-None-Match uses the weak comparison.
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

async fn bootstrap(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let mut content = load(&state).await?;
    let canonical = serde_json::to_vec(&content).map_err(AppError::internal)?;
    let digest = hex::encode(Sha256::digest(&canonical));
    let etag = format!("\"{}\"", &digest[..32]);

    let cached = {
        let cache = state
            .bootstrap_cache
            .lock()
            .map_err(|_| AppError::internal("bootstrap cache poisoned"))?;
        cache.as_ref().filter(|c| c.etag == etag).cloned()
    };
    let cached = match cached {
        Some(c) => c,
        None => {
            content.generated_at = state.now();
            let body = serde_json::to_vec(&content).map_err(AppError::internal)?;
            let fresh = CachedBootstrap {
                etag: etag.clone(),
                body: body.into(),
            };
            if let Ok(mut cache) = state.bootstrap_cache.lock() {
                *cache = Some(fresh.clone());
            }
            fresh
        }
    };

    let etag_value = HeaderValue::from_str(&cached.etag).map_err(AppError::internal)?;
    let builder = Response::builder()
        .header(header::ETAG, etag_value)
        .header(header::CACHE_CONTROL, "no-cache");
    let response = if if_none_match_matches(&headers, &cached.etag) {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(cached.body))
    };
    response.map_err(AppError::internal)
}
