//! Domains: the SSPM flag and text, the password policy, the lockout and
//! the self-service settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{AdminDomain, DomainCreate, DomainUpdate};

use sqlx::Row;

use crate::audit::{self, AuditKind};
use crate::domains::{self, Domain};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::provisioning::{insert_domain, NewDomain};
use crate::staff::AdminOnly;
use crate::state::AppState;

pub(super) async fn admin_domain(state: &AppState, d: &Domain) -> AppResult<AdminDomain> {
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE domain_id = $1")
        .bind(d.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
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
        user_count: count,
        self_service: crate::self_service::settings(&state.db, d.id).await?,
    })
}

pub(super) async fn list_domains(
    State(state): State<AppState>,
    _admin: AdminOnly,
) -> AppResult<Json<Vec<AdminDomain>>> {
    let mut out = Vec::new();
    for d in domains::all(&state.db).await? {
        out.push(admin_domain(&state, &d).await?);
    }
    Ok(Json(out))
}

fn clean_text(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub(super) async fn create_domain(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<DomainCreate>,
) -> AppResult<(StatusCode, Json<AdminDomain>)> {
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let slug = req.slug.trim().to_ascii_lowercase();
    if domains::by_slug(&state.db, &slug).await?.is_some() {
        return Err(AppError::BadRequest(format!(
            "A domain with the short name {slug:?} already exists."
        )));
    }
    let actor = admin.as_actor(ip);
    let mut tx = state.db.pool.begin().await?;
    // Slug, name and uniqueness were checked above: what is left is the
    // database's failure, a 500.
    insert_domain(
        &mut tx,
        state.now(),
        &NewDomain {
            slug: slug.clone(),
            name: req.name.trim().to_owned(),
            sspm_available: req.sspm_available,
            unavailable_text: clean_text(req.unavailable_text),
        },
    )
    .await
    .map_err(AppError::internal)?;
    audit::record(
        &mut *tx,
        state.now(),
        &actor.did(AuditKind::AdminDomainCreate).domain(&slug),
    )
    .await?;
    tx.commit().await?;
    let d = domains::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(admin_domain(&state, &d).await?)))
}

pub(super) async fn update_domain(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<DomainUpdate>,
) -> AppResult<Json<AdminDomain>> {
    let d = domains::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    // Lengths and characters are held to `bounds` by the extractor.
    req.validate().map_err(AppError::BadRequest)?;
    let text = clean_text(req.unavailable_text.clone());
    let mut policy = req.policy.clone();
    policy.version = d.policy.version;
    let policy_changed = policy != d.policy;
    let policy_json = serde_json::to_string(&policy).map_err(AppError::internal)?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query(
        "UPDATE domains SET name = $1, sspm_available = $2, unavailable_text = $3, policy = $4, \
         policy_version = policy_version + $5, lockout_threshold = $6, lockout_minutes = $7 \
         WHERE id = $8",
    )
    .bind(req.name.trim())
    .bind(req.sspm_available)
    .bind(text.as_deref())
    .bind(&policy_json)
    .bind(i64::from(policy_changed))
    .bind(req.lockout_threshold)
    .bind(req.lockout_minutes)
    .bind(d.id)
    .execute(&mut *tx)
    .await?;
    if let Some(ss) = &req.self_service {
        crate::self_service::set_settings(&mut *tx, d.id, ss).await?;
    }
    let actor = admin.as_actor(ip);
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
    Ok(Json(admin_domain(&state, &d).await?))
}
