//! What every page shows before anyone signs in (`GET /api/bootstrap`):
//! the domains, the published notices and the Help Desk contact. The body
//! for one `ETag` is cached, so it is byte-identical for as long as the
//! content is (its `generated_at` is when this version was first produced).

use bytes::Bytes;
use latchkey_shared::api::{Bootstrap, Notice};
use latchkey_shared::PRODUCT_NAME;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::domains;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct CachedBootstrap {
    pub etag: String,
    pub body: Bytes,
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
        portal_name: state.config.portal_name.clone(),
        product_name: PRODUCT_NAME.to_owned(),
        domains,
        notices,
        help_desk: crate::settings::help_desk::current(&state.db).await?,
        generated_at: 0,
    })
}

/// The current content's `ETag` and body, from the cache while the content
/// is unchanged.
pub async fn current(state: &AppState) -> Result<CachedBootstrap, AppError> {
    let mut content = load(state).await?;
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
    if let Some(c) = cached {
        return Ok(c);
    }
    content.generated_at = state.now();
    let body = serde_json::to_vec(&content).map_err(AppError::internal)?;
    let fresh = CachedBootstrap {
        etag,
        body: body.into(),
    };
    if let Ok(mut cache) = state.bootstrap_cache.lock() {
        *cache = Some(fresh.clone());
    }
    Ok(fresh)
}
