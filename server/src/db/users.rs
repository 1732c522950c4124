//! User accounts.

use latchkey_shared::Username;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{Db, RowExt};
use crate::error::AppError;
use crate::password::HashTicket;

/// The key to look `typed` up and count it under: the user name's key, or,
/// for text no user name can be (see [`Username::parse`]), a key no user can
/// have (`!` is not allowed in a user name) derived from it: bounded, safe
/// for either database, and the same for the same text, so repeated tries
/// of one impossible name are counted like those of any unknown name.
pub fn lookup_key(typed: &str) -> String {
    match Username::parse(typed) {
        Ok(name) => name.key(),
        Err(_) => {
            let digest = Sha256::digest(typed.trim().to_lowercase().as_bytes());
            format!("!{}", hex::encode(&digest[..16]))
        }
    }
}

#[derive(Clone)]
pub struct UserRecord {
    pub id: i64,
    pub domain_id: i64,
    /// As first entered (trimmed).
    pub username: String,
    /// Lower-cased; unique per domain.
    pub username_key: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub password_changed_at: i64,
    pub temp_password: bool,
    pub temp_password_expires_at: Option<i64>,
    pub must_change: bool,
    pub disabled: bool,
    pub role: String,
    /// A directory user's stable id (`entryUUID`, `objectGUID`): the
    /// person this row is, whatever name they have now.
    pub directory_id: Option<String>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("domain_id", &self.domain_id)
            .field("username", &self.username)
            .field("temp_password", &self.temp_password)
            .field("must_change", &self.must_change)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

const COLUMN_NAMES: [&str; 14] = [
    "id",
    "domain_id",
    "username",
    "username_key",
    "display_name",
    "email",
    "password_hash",
    "password_changed_at",
    "temp_password",
    "temp_password_expires_at",
    "must_change",
    "disabled",
    "role",
    "directory_id",
];

static COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| COLUMN_NAMES.join(", "));

/// The columns as `{alias}.col AS {prefix}col`, for a query that joins users
/// with tables whose column names clash (read back with
/// [`UserRecord::from_prefixed_row`]).
pub fn prefixed_columns(alias: &str, prefix: &str) -> String {
    COLUMN_NAMES
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl UserRecord {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Self::from_prefixed_row(row, "")
    }

    /// A user from columns selected with [`prefixed_columns`].
    pub fn from_prefixed_row(row: &AnyRow, prefix: &str) -> Result<Self, sqlx::Error> {
        let col = |c: &str| format!("{prefix}{c}");
        Ok(Self {
            id: row.try_get(col("id").as_str())?,
            domain_id: row.try_get(col("domain_id").as_str())?,
            username: row.try_get(col("username").as_str())?,
            username_key: row.try_get(col("username_key").as_str())?,
            display_name: row.try_get(col("display_name").as_str())?,
            email: row.try_get(col("email").as_str())?,
            password_hash: row.try_get(col("password_hash").as_str())?,
            password_changed_at: row.try_get(col("password_changed_at").as_str())?,
            temp_password: row.flag(&col("temp_password"))?,
            temp_password_expires_at: row.try_get(col("temp_password_expires_at").as_str())?,
            must_change: row.flag(&col("must_change"))?,
            disabled: row.flag(&col("disabled"))?,
            role: row.try_get(col("role").as_str())?,
            directory_id: row.try_get(col("directory_id").as_str())?,
        })
    }

    /// The temporary password has expired at `now`.
    pub fn temp_password_expired(&self, now: i64) -> bool {
        self.temp_password && self.temp_password_expires_at.is_some_and(|t| now >= t)
    }
}

pub async fn by_key(
    db: &Db,
    domain_id: i64,
    username_key: &str,
) -> Result<Option<UserRecord>, AppError> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM users WHERE domain_id = $1 AND username_key = $2",
        *COLUMNS
    ))
    .bind(domain_id)
    .bind(username_key)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.as_ref().map(UserRecord::from_row).transpose()?)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<UserRecord>, AppError> {
    let row = sqlx::query(&format!("SELECT {} FROM users WHERE id = $1", *COLUMNS))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(UserRecord::from_row).transpose()?)
}

/// Clears a user's enrolment so they enrol again: deletes their enrolled answers.
pub async fn clear_enrolment(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM security_answers WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many previous passwords a domain's policy keeps (bounded by the
/// shared maximum, whatever a stored policy says).
pub fn history_depth(policy: &latchkey_shared::PasswordPolicy) -> i64 {
    i64::from(
        policy
            .history_depth
            .min(latchkey_shared::policy::MAX_HISTORY_DEPTH),
    )
}

/// Whether `new_password` is one of `hashes` (a user's current and previous
/// ones), each checked with argon2 on `ticket`'s place in the queue. Change
/// Password and Forgot Password both refuse a reused password through this.
pub async fn reuses_any(
    ticket: &HashTicket,
    new_password: &str,
    hashes: &[String],
) -> Result<bool, AppError> {
    for old in hashes {
        if ticket.verify(new_password, old).await?.matched {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The hashes of the user's last `depth` previous passwords, newest first.
pub async fn password_history(db: &Db, user_id: i64, depth: i64) -> Result<Vec<String>, AppError> {
    if depth <= 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT hash FROM password_history WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(depth)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| r.try_get::<String, _>("hash").map_err(AppError::from))
        .collect()
}

/// Inside the caller's transaction: replaces `user`'s password with
/// `new_hash` (clearing any temporary-password state), keeps the old hash in
/// the history and trims the history to `depth`. Change password and Forgot
/// Password both end here, so the two cannot drift.
///
/// Returns false, changing nothing, when the stored hash is no longer the
/// one `user` was read with (another request changed it meanwhile).
pub async fn replace_password(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &UserRecord,
    new_hash: &str,
    depth: i64,
    now: i64,
) -> Result<bool, AppError> {
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, temp_password = $3, \
         temp_password_expires_at = NULL, must_change = $3 \
         WHERE id = $4 AND password_hash = $5",
    )
    .bind(new_hash)
    .bind(now)
    .bind(false)
    .bind(user.id)
    .bind(&user.password_hash)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    if depth > 0 {
        sqlx::query("INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)")
            .bind(user.id)
            .bind(&user.password_hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
         (SELECT id FROM password_history WHERE user_id = $1 \
          ORDER BY created_at DESC, id DESC LIMIT $2)",
    )
    .bind(user.id)
    .bind(depth.max(0))
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    #[test]
    fn an_impossible_name_gets_a_short_key_no_user_can_have() {
        let long = format!("a\u{0}b{}", "x".repeat(5000));
        let key = lookup_key(&long);
        assert!(key.starts_with('!') && key.len() == 33, "{key}");
        assert!(Username::parse(&key).is_err());
        assert_eq!(key, lookup_key(&long), "the same text, the same key");
        assert_ne!(key, lookup_key("a\u{0}c"));
    }

    #[test]
    fn a_real_name_is_looked_up_by_its_own_key() {
        assert_eq!(lookup_key(" JSmith "), "jsmith");
    }
}
