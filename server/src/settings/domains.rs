//! Domains: the SSPM flag and text, the password policy, the lockout and
//! the self-service settings.

use latchkey_shared::admin::{AdminDomain, DomainCreate, DomainUpdate};
use sqlx::{Any, Row, Transaction};

use crate::accounts::Actor;
use crate::audit::{self, AuditKind};
use crate::domains::{self, Domain};
use crate::error::{AppError, AppResult};
use crate::provisioning::{insert_domain, NewDomain};
use crate::state::AppState;

/// Every domain with its settings.
pub async fn list(state: &AppState) -> AppResult<Vec<AdminDomain>> {
    let mut out = Vec::new();
    for d in domains::all(&state.db).await? {
        out.push(admin_domain(state, &d).await?);
    }
    Ok(out)
}

/// A new domain with the default policy; 409 if the short name is taken.
pub async fn create(state: &AppState, actor: &Actor, req: &DomainCreate) -> AppResult<AdminDomain> {
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let slug = req.slug.trim().to_ascii_lowercase();
    if domains::by_slug(&state.db, &slug).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "A domain with the short name {slug:?} already exists."
        )));
    }
    let new = NewDomain {
        slug: slug.clone(),
        name: req.name.trim().to_owned(),
        sspm_available: req.sspm_available,
        unavailable_text: clean_text(req.unavailable_text.as_deref()),
    };
    let mut tx = state.db.pool.begin().await?;
    // Slug, name and uniqueness were checked above: what is left is the
    // database's failure, a 500.
    insert_domain(&mut tx, state.now(), &new)
        .await
        .map_err(AppError::internal)?;
    let ev = actor.did(AuditKind::AdminDomainCreate).domain(&slug);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let d = domains::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    admin_domain(state, &d).await
}

/// Edits the domain `slug`; its policy version goes up if the policy
/// changed.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    slug: &str,
    req: &DomainUpdate,
) -> AppResult<AdminDomain> {
    let d = domains::by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let mut policy = req.policy.clone();
    policy.version = d.policy.version;
    let policy_changed = policy != d.policy;
    let policy_json = serde_json::to_string(&policy).map_err(AppError::internal)?;
    let mut tx = state.db.pool.begin().await?;
    write_domain(&mut tx, d.id, req, &policy_json, policy_changed).await?;
    if let Some(ss) = &req.self_service {
        crate::self_service::set_settings(&mut *tx, d.id, ss).await?;
    }
    let ev = actor
        .did(AuditKind::AdminDomainUpdate)
        .domain(&d.slug)
        .detail(if policy_changed {
            "settings and password policy changed"
        } else {
            "settings changed"
        });
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let d = domains::by_id(&state.db, d.id)
        .await?
        .ok_or(AppError::NotFound)?;
    admin_domain(state, &d).await
}

/// The domain as the console shows it: with the defaults it falls back on
/// and its number of users.
async fn admin_domain(state: &AppState, d: &Domain) -> AppResult<AdminDomain> {
    Ok(AdminDomain {
        slug: d.slug.clone(),
        name: d.name.clone(),
        sspm_available: d.sspm_available,
        unavailable_text: d.unavailable_text.clone(),
        policy: d.policy.clone(),
        lockout_threshold: d.lockout_threshold,
        lockout_minutes: d.lockout_minutes,
        default_lockout_threshold: i64::from(state.config.lockout_threshold),
        default_lockout_minutes: i64::from(state.config.lockout_minutes),
        user_count: user_count(state, d.id).await?,
        store: d.store.to_column(),
        self_service: crate::self_service::settings(&state.db, d.id).await?,
        unreadable_authenticators: unreadable_authenticators(state, d.id).await?,
    })
}

/// Authenticators in use in the domain whose key does not open with the
/// server's key (all of them without one): after `secret_key` changed.
async fn unreadable_authenticators(state: &AppState, domain_id: i64) -> AppResult<i64> {
    let rows = sqlx::query(
        "SELECT a.user_id, a.secret FROM authenticators a JOIN users u ON u.id = a.user_id \
         WHERE u.domain_id = $1 AND a.confirmed_at IS NOT NULL",
    )
    .bind(domain_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut count = 0;
    for r in &rows {
        let (user_id, sealed): (i64, String) = (r.try_get("user_id")?, r.try_get("secret")?);
        let opens = state
            .secret_box
            .as_deref()
            .is_some_and(|key| key.open(user_id, &sealed).is_ok());
        count += i64::from(!opens);
    }
    Ok(count)
}

async fn user_count(state: &AppState, domain_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM users WHERE domain_id = $1")
        .bind(domain_id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")
}

/// The text trimmed; none if that leaves nothing.
fn clean_text(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The domain's own columns from `req` (the policy as JSON).
async fn write_domain(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    req: &DomainUpdate,
    policy_json: &str,
    policy_changed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE domains SET name = $1, sspm_available = $2, unavailable_text = $3, policy = $4, \
         policy_version = policy_version + $5, lockout_threshold = $6, lockout_minutes = $7 \
         WHERE id = $8",
    )
    .bind(req.name.trim())
    .bind(req.sspm_available)
    .bind(clean_text(req.unavailable_text.as_deref()))
    .bind(policy_json)
    .bind(i64::from(policy_changed))
    .bind(req.lockout_threshold)
    .bind(req.lockout_minutes)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
