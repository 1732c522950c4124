//! Administrative operations behind the CLI, the demo seed and the tests'
//! setup: creating domains and users, setting passwords and policies. Like
//! the console's ([`crate::settings`]), they return [`AppError`]; the
//! command line turns one into its message at its edge
//! ([`crate::cli::main`]).

use latchkey_shared::{PasswordPolicy, Username};
use sqlx::{AnyConnection, Row};

use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::domains::{self, valid_slug};
use crate::error::{AppError, AppResult};
use crate::password::generate_temporary_password;
use crate::state::AppState;

fn no_domain(slug: &str) -> AppError {
    AppError::BadRequest(format!("no domain with slug {slug:?}"))
}

#[derive(Debug, Clone)]
pub struct NewDomain {
    pub slug: String,
    pub name: String,
    pub sspm_available: bool,
    pub unavailable_text: Option<String>,
}

impl NewDomain {
    pub fn new(slug: &str, name: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            name: name.to_owned(),
            sspm_available: true,
            unavailable_text: None,
        }
    }
}

/// Makes the domain `slug` use `store` for its passwords, with its audit
/// row: the console's operation ([`crate::settings::domain_store::set`]). A
/// directory must be one of the configuration's.
pub async fn set_domain_store(
    state: &AppState,
    slug: &str,
    store: &crate::accounts::store::StoreKind,
) -> AppResult<()> {
    let domain = domains::by_slug(&state.db, slug)
        .await?
        .ok_or_else(|| no_domain(slug))?;
    crate::settings::domain_store::set(
        state,
        &Actor::cli(),
        AuditKind::CliDomainStore,
        &domain,
        store,
    )
    .await
}

/// Sets whether the domain's Unlock Account and Forgot Password ask for a
/// code (`latchkey domain second-factor`), with its audit row.
pub async fn set_second_factor(
    state: &AppState,
    slug: &str,
    factor: latchkey_shared::self_service::SecondFactor,
) -> AppResult<()> {
    let domain = domains::by_slug(&state.db, slug)
        .await?
        .ok_or_else(|| no_domain(slug))?;
    let mut settings =
        crate::accounts::self_service::checks::settings(&state.db, domain.id).await?;
    settings.second_factor = factor;
    let mut tx = state.db.pool.begin().await?;
    crate::accounts::self_service::checks::set_settings(&mut *tx, domain.id, &settings).await?;
    let detail = serde_json::to_string(&factor).map_err(AppError::internal)?;
    let actor = Actor::cli();
    let ev = actor
        .did(AuditKind::CliDomainSecondFactor)
        .domain(&domain.slug)
        .detail(detail.trim_matches('"'));
    crate::audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts a domain with the default policy; returns its id.
pub async fn insert_domain(conn: &mut AnyConnection, now: i64, d: &NewDomain) -> AppResult<i64> {
    if !valid_slug(&d.slug) {
        return Err(AppError::BadRequest(format!(
            "invalid domain slug {:?}: {}",
            d.slug,
            latchkey_shared::admin::SLUG_RULE
        )));
    }
    if d.name.trim().is_empty() {
        return Err(AppError::BadRequest(
            "the domain name must not be empty".to_owned(),
        ));
    }
    let exists = sqlx::query("SELECT id FROM domains WHERE slug = $1")
        .bind(&d.slug)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(format!(
            "a domain with slug {:?} already exists",
            d.slug
        )));
    }
    let policy = PasswordPolicy::default();
    let row = sqlx::query(
        "INSERT INTO domains (slug, name, sspm_available, unavailable_text, policy, policy_version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&d.slug)
    .bind(d.name.trim())
    .bind(d.sspm_available)
    .bind(d.unavailable_text.as_deref())
    .bind(serde_json::to_string(&policy).map_err(AppError::internal)?)
    .bind(i64::from(policy.version))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Inserts a user whose password hash is already computed; returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_user(
    conn: &mut AnyConnection,
    now: i64,
    domain_id: i64,
    username: &Username,
    display_name: &str,
    email: Option<&str>,
    password_hash: &str,
    temp_expires_at: Option<i64>,
) -> AppResult<i64> {
    let key = username.key();
    let exists = sqlx::query("SELECT id FROM users WHERE domain_id = $1 AND username_key = $2")
        .bind(domain_id)
        .bind(&key)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(format!(
            "user {:?} already exists in this domain",
            username.as_str()
        )));
    }
    let row = sqlx::query(
        "INSERT INTO users (domain_id, username, username_key, display_name, email, password_hash, \
         password_changed_at, temp_password, temp_password_expires_at, must_change, disabled, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $7) RETURNING id",
    )
    .bind(domain_id)
    .bind(username.as_str())
    .bind(&key)
    .bind(display_name.trim())
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .bind(temp_expires_at.is_some())
    .bind(temp_expires_at)
    .bind(false)
    .bind(false)
    .bind("user")
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// `latchkey domain create`.
pub async fn create_domain(state: &AppState, d: &NewDomain) -> AppResult<i64> {
    let now = state.now();
    let mut tx = state.db.pool.begin().await?;
    let id = insert_domain(&mut tx, now, d).await?;
    let actor = Actor::cli();
    let ev = actor.did(AuditKind::CliDomainCreate).domain(&d.slug);
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    Ok(id)
}

/// A user created by [`create_user`].
#[derive(Clone)]
pub struct CreatedUser {
    pub id: i64,
    /// Shown once; only its hash is stored.
    pub temporary_password: String,
}

/// `latchkey user create`: a user with a fresh temporary password that
/// expires after `temp_password_hours`.
pub async fn create_user(
    state: &AppState,
    domain_slug: &str,
    username: &str,
    display_name: &str,
    email: Option<&str>,
) -> AppResult<CreatedUser> {
    let domain = domains::by_slug(&state.db, domain_slug)
        .await?
        .ok_or_else(|| no_domain(domain_slug))?;
    let username = Username::parse(username)
        .map_err(|e| AppError::BadRequest(format!("invalid user name: {e}")))?;
    if display_name.trim().is_empty() {
        return Err(AppError::BadRequest(
            "the display name must not be empty".to_owned(),
        ));
    }
    let temporary_password = generate_temporary_password();
    let hash = state.hasher.ticket()?.hash(&temporary_password).await?;
    let now = state.now();
    let expires = now + state.config.temp_password_secs();
    let mut tx = state.db.pool.begin().await?;
    let id = insert_user(
        &mut tx,
        now,
        domain.id,
        &username,
        display_name,
        email,
        &hash,
        Some(expires),
    )
    .await?;
    let key = username.key();
    let actor = Actor::cli();
    let ev = actor
        .did(AuditKind::CliUserCreate)
        .subject(&key)
        .domain(&domain.slug);
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    Ok(CreatedUser {
        id,
        temporary_password,
    })
}

/// Sets a user's password directly (an administrator's reset). With
/// `temporary`, it expires after `temp_password_hours` and must be changed.
pub async fn set_password(
    state: &AppState,
    user_id: i64,
    password: &str,
    temporary: bool,
) -> AppResult<()> {
    let hash = state.hasher.ticket()?.hash(password).await?;
    set_password_hash(state, user_id, &hash, temporary).await
}

/// Like [`set_password`] with a hash computed elsewhere.
pub async fn set_password_hash(
    state: &AppState,
    user_id: i64,
    hash: &str,
    temporary: bool,
) -> AppResult<()> {
    let now = state.now();
    let expires = temporary.then(|| now + state.config.temp_password_secs());
    let res = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, temp_password = $3, \
         temp_password_expires_at = $4 WHERE id = $5",
    )
    .bind(hash)
    .bind(now)
    .bind(temporary)
    .bind(expires)
    .bind(user_id)
    .execute(&state.db.pool)
    .await?;
    if res.rows_affected() == 0 {
        return Err(AppError::BadRequest(format!("no user with id {user_id}")));
    }
    Ok(())
}

/// Replaces a domain's policy and bumps its version; returns the new version.
pub async fn set_domain_policy(
    state: &AppState,
    slug: &str,
    policy: &PasswordPolicy,
) -> AppResult<u32> {
    policy
        .validate()
        .map_err(|e| AppError::BadRequest(format!("invalid policy: {e}")))?;
    let row = sqlx::query(
        "UPDATE domains SET policy = $1, policy_version = policy_version + 1 WHERE slug = $2 \
         RETURNING policy_version",
    )
    .bind(serde_json::to_string(policy).map_err(AppError::internal)?)
    .bind(slug)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| no_domain(slug))?;
    let version: i64 = row.try_get("policy_version")?;
    u32::try_from(version).map_err(AppError::internal)
}

/// Per-domain lockout overrides (`None` = the server-wide setting).
pub async fn set_domain_lockout(
    state: &AppState,
    slug: &str,
    threshold: Option<i64>,
    minutes: Option<i64>,
) -> AppResult<()> {
    sqlx::query("UPDATE domains SET lockout_threshold = $1, lockout_minutes = $2 WHERE slug = $3")
        .bind(threshold)
        .bind(minutes)
        .bind(slug)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

pub async fn set_user_disabled(state: &AppState, user_id: i64, disabled: bool) -> AppResult<()> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
