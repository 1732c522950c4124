//! API keys for the portal (`POST /api/portal/verify`), stored hashed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use latchkey_shared::admin::{ApiKeyCreate, ApiKeyCreated, ApiKeyInfo};
use latchkey_shared::bounds::MAX_API_KEY_NAME_CHARS;
use rand::RngCore;
use sqlx::Row;

use crate::accounts::portal::api_key_hash;
use crate::accounts::Actor;
use crate::audit::{self, AuditKind};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::staff::AdminOnly;
use crate::state::AppState;

/// The stored form of an API key.

fn api_key_from_row(r: &sqlx::any::AnyRow) -> Result<ApiKeyInfo, AppError> {
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

const API_KEY_COLUMNS: &str = "id, name, prefix, created_at, created_by, last_used_at, revoked_at";

pub(super) async fn list_api_keys(
    State(state): State<AppState>,
    _admin: AdminOnly,
) -> AppResult<Json<Vec<ApiKeyInfo>>> {
    let rows = sqlx::query(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id"
    ))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(
        rows.iter()
            .map(api_key_from_row)
            .collect::<Result<_, _>>()?,
    ))
}

pub(super) async fn create_api_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<ApiKeyCreate>,
) -> AppResult<(StatusCode, Json<ApiKeyCreated>)> {
    admin.require_fresh(state.now())?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest(format!(
            "Name the key (1-{MAX_API_KEY_NAME_CHARS} characters), e.g. the portal it is for."
        )));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!(
        "lk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let prefix: String = key.chars().take(10).collect();
    let actor_name = admin.actor();
    let mut tx = state.db.pool.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(&prefix)
    .bind(api_key_hash(&key))
    .bind(state.now())
    .bind(&actor_name)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let actor = Actor::new(actor_name.clone(), ip);
    audit::record(
        &mut *tx,
        state.now(),
        &actor.did(AuditKind::AdminApiKeyCreate).detail(name),
    )
    .await?;
    tx.commit().await?;
    let info = sqlx::query(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&state.db.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            key,
            info: api_key_from_row(&info)?,
        }),
    ))
}

pub(super) async fn revoke_api_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    admin.require_fresh(state.now())?;
    let row = sqlx::query("SELECT name FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let key_name: String = row.try_get("name")?;
    let mut tx = state.db.pool.begin().await?;
    let revoked =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(state.now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if revoked.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let actor = admin.as_actor(ip);
    let ev = actor.did(AuditKind::AdminApiKeyRevoke).detail(&key_name);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
