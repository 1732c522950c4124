//! Server-side sessions. The cookie holds a random 32-byte token (base64url);
//! the database holds only its SHA-256, so a leaked database cannot be used to
//! ride sessions. Sessions end after `session_idle_minutes` without a request.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Db, RowExt};
use crate::error::AppError;
use crate::state::AppState;

/// A fresh random token and the id (its SHA-256, hex) stored for it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let id = token_id(&token);
    (token, id)
}

/// The stored id of a token.
pub fn token_id(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a session row; returns the token for the cookie.
pub async fn create<'e, E>(
    executor: E,
    user_id: i64,
    must_change: bool,
    now: i64,
) -> Result<String, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (token, id) = new_token();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, must_change, reauth_at) \
         VALUES ($1, $2, $3, $3, $4, $3)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(now)
    .bind(must_change)
    .execute(executor)
    .await?;
    Ok(token)
}

pub async fn delete_by_token(db: &Db, token: &str) -> Result<bool, sqlx::Error> {
    delete_by_token_in(&db.pool, token).await
}

/// [`delete_by_token`] on `executor` (e.g. the sign-in's transaction).
pub async fn delete_by_token_in<'e, E>(executor: E, token: &str) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let res = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(token_id(token))
        .execute(executor)
        .await?;
    Ok(res.rows_affected() > 0)
}

/// The signed-in user behind a request's session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub user_id: i64,
    pub username: String,
    pub username_key: String,
    pub display_name: String,
    pub domain_id: i64,
    pub domain_slug: String,
    pub domain_name: String,
    /// The session may only change the (temporary) password.
    pub must_change: bool,
    /// What the person may do (`users.role`).
    pub role: latchkey_shared::admin::Role,
}

impl SessionUser {
    pub fn info(&self, idle_timeout_secs: u64) -> latchkey_shared::api::SessionInfo {
        latchkey_shared::api::SessionInfo {
            user: latchkey_shared::api::UserInfo {
                username: self.username.clone(),
                display_name: self.display_name.clone(),
                domain: self.domain_slug.clone(),
                domain_name: self.domain_name.clone(),
            },
            must_change_password: self.must_change,
            idle_timeout_secs,
            role: self.role,
        }
    }
}

/// Looks the token up, refuses idle or orphaned sessions, and marks the
/// session as seen now.
pub async fn authenticate(state: &AppState, token: &str) -> Result<SessionUser, AppError> {
    let now = state.now();
    let id = token_id(token);
    let idle = state.config.session_idle_secs();
    let row = sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at > $3 \
         RETURNING user_id, must_change",
    )
    .bind(now)
    .bind(&id)
    .bind(now - idle)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else {
        // Unknown, or idle too long: make sure an idle one is gone for good.
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(&id)
            .execute(&state.db.pool)
            .await?;
        return Err(AppError::NotAuthenticated);
    };
    let user_id: i64 = row.try_get("user_id")?;
    let must_change = row.flag("must_change")?;
    let user = sqlx::query(
        "SELECT u.username, u.username_key, u.display_name, u.disabled, u.domain_id, u.role, \
                d.slug, d.name AS domain_name \
         FROM users u JOIN domains d ON d.id = u.domain_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(user) = user else {
        return Err(AppError::NotAuthenticated);
    };
    if user.flag("disabled")? {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&state.db.pool)
            .await?;
        return Err(AppError::NotAuthenticated);
    }
    Ok(SessionUser {
        session_id: id,
        user_id,
        username: user.try_get("username")?,
        username_key: user.try_get("username_key")?,
        display_name: user.try_get("display_name")?,
        domain_id: user.try_get("domain_id")?,
        domain_slug: user.try_get("slug")?,
        domain_name: user.try_get("domain_name")?,
        must_change,
        role: latchkey_shared::admin::Role::parse(&user.try_get::<String, _>("role")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_the_id() {
        let (t1, id1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(t1.len(), 43);
        assert_eq!(id1.len(), 64);
        assert_ne!(t1, id1);
        assert_eq!(token_id(&t1), id1);
    }
}
