//! API keys for the portal (`POST /api/portal/verify`), stored hashed: the
//! key itself is shown once, when it is created.

use base64::Engine;
use latchkey_shared::admin::{ApiKeyCreate, ApiKeyCreated, ApiKeyInfo};
use latchkey_shared::bounds::MAX_API_KEY_NAME_CHARS;
use rand::RngCore;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::accounts::portal::api_key_hash;
use crate::accounts::staff::StaffScope;
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const API_KEY_COLUMNS: &str = "id, name, prefix, created_at, created_by, last_used_at, revoked_at";

/// Every key, revoked ones included.
pub async fn list(db: &Db) -> AppResult<Vec<ApiKeyInfo>> {
    let rows = sqlx::query(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(api_key_from_row).collect()
}

/// A new key named `req.name` (re-authentication needed).
pub async fn create(
    state: &AppState,
    admin: &StaffScope,
    actor: &Actor,
    req: &ApiKeyCreate,
) -> AppResult<ApiKeyCreated> {
    admin.require_fresh(state.now())?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest(format!(
            "Name the key (1-{MAX_API_KEY_NAME_CHARS} characters), e.g. the portal it is for."
        )));
    }
    let key = generate_key();
    let mut tx = state.db.pool.begin().await?;
    let id = insert_api_key(&mut tx, name, &key, &actor.name, state.now()).await?;
    let ev = actor.did(AuditKind::AdminApiKeyCreate).detail(name);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let info = api_key_by_id(&state.db, id).await?;
    Ok(ApiKeyCreated { key, info })
}

/// Revokes the live key `id` (re-authentication needed); 404 if there is
/// none.
pub async fn revoke(state: &AppState, admin: &StaffScope, actor: &Actor, id: i64) -> AppResult<()> {
    admin.require_fresh(state.now())?;
    let key_name = live_key_name(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.pool.begin().await?;
    if !mark_revoked(&mut tx, id, state.now()).await? {
        return Err(AppError::NotFound);
    }
    let ev = actor.did(AuditKind::AdminApiKeyRevoke).detail(&key_name);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// `lk_` and 32 random bytes, URL-safe base64.
fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "lk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn api_key_from_row(r: &AnyRow) -> Result<ApiKeyInfo, AppError> {
    Ok(ApiKeyInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

async fn api_key_by_id(db: &Db, id: i64) -> AppResult<ApiKeyInfo> {
    let row = sqlx::query(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    api_key_from_row(&row)
}

/// Stores the key's hash and its first ten characters; returns its id.
async fn insert_api_key(
    tx: &mut Transaction<'_, Any>,
    name: &str,
    key: &str,
    created_by: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let prefix: String = key.chars().take(10).collect();
    sqlx::query(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(&prefix)
    .bind(api_key_hash(key))
    .bind(now)
    .bind(created_by)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

async fn live_key_name(db: &Db, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT name FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()
}

/// Whether a live key was revoked.
async fn mark_revoked(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let res =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    Ok(res.rows_affected() > 0)
}
