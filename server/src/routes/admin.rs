//! The administrator's console API: domains (SSPM flag and text, policy,
//! lockout), notices and the one-step mandatory reset, the Help Desk contact,
//! the audit log (filters, CSV), API keys for the portal, and staff roles.
//! Every configuration change is an audit event.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::Engine;
use latchkey_shared::admin::{
    paths, AdminDomain, AdminNotice, ApiKeyCreate, ApiKeyCreated, ApiKeyInfo, AuditEntry,
    AuditPage, AuditQuery, DomainCreate, DomainUpdate, MandatoryResetRequest,
    MandatoryResetResponse, NoticeInput, Role, RoleUpdate, UserState, MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::api::HelpDesk;
use latchkey_shared::bounds::{
    MAX_API_KEY_NAME_CHARS, MAX_DOMAIN_NAME_CHARS, MAX_NOTICE_BODY_CHARS, MAX_NOTICE_TITLE_CHARS,
};
use latchkey_shared::Username;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::admin::{insert_domain, NewDomain};
use crate::audit::{self, result, AuditEvent};
use crate::db::RowExt;
use crate::domains::{self, Domain};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::routes::bootstrap::{HELP_DESK_EMAIL, HELP_DESK_PHONE};
use crate::routes::lra::Actor;
use crate::staff::{self, kind, load_target, valid_reason, AdminOnly};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ADMIN_DOMAINS, get(list_domains).post(create_domain))
        .route(paths::ADMIN_DOMAIN, put(update_domain))
        .route(paths::ADMIN_NOTICES, get(list_notices).post(create_notice))
        .route(
            paths::ADMIN_NOTICE,
            put(update_notice).delete(delete_notice),
        )
        .route(paths::ADMIN_MANDATORY_RESET, post(mandatory_reset))
        .route(
            paths::ADMIN_HELP_DESK,
            get(get_help_desk).put(put_help_desk),
        )
        .route(paths::ADMIN_AUDIT, get(audit_log))
        .route(paths::ADMIN_AUDIT_CSV, get(audit_csv))
        .route(
            paths::ADMIN_API_KEYS,
            get(list_api_keys).post(create_api_key),
        )
        .route(paths::ADMIN_API_KEY, delete(revoke_api_key))
        .route(paths::ADMIN_USER_ROLE, put(update_role))
}

// ---------------------------------------------------------------- domains

async fn admin_domain(state: &AppState, d: &Domain) -> AppResult<AdminDomain> {
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

async fn list_domains(
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

async fn create_domain(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<DomainCreate>,
) -> AppResult<(StatusCode, Json<AdminDomain>)> {
    let slug = req.slug.trim().to_ascii_lowercase();
    if !domains::valid_slug(&slug) {
        return Err(AppError::BadRequest(
            "The short name must be 1-32 of a-z, 0-9 and -.".to_owned(),
        ));
    }
    // Lengths and characters are held to `bounds` by the extractor.
    if req.name.trim().is_empty() {
        return Err(AppError::BadRequest(format!(
            "The domain name must be 1-{MAX_DOMAIN_NAME_CHARS} characters."
        )));
    }
    if domains::by_slug(&state.db, &slug).await?.is_some() {
        return Err(AppError::BadRequest(format!(
            "A domain with the short name {slug:?} already exists."
        )));
    }
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
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
        &actor.did(kind::DOMAIN_CREATE).domain(&slug),
    )
    .await?;
    tx.commit().await?;
    let d = domains::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(admin_domain(&state, &d).await?)))
}

async fn update_domain(
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
    if req.name.trim().is_empty() {
        return Err(AppError::BadRequest(format!(
            "The domain name must be 1-{MAX_DOMAIN_NAME_CHARS} characters."
        )));
    }
    let text = clean_text(req.unavailable_text);
    if let Some(t) = req.lockout_threshold {
        if !(1..=100).contains(&t) {
            return Err(AppError::BadRequest(
                "The lockout threshold must be between 1 and 100 failed attempts.".to_owned(),
            ));
        }
    }
    if let Some(m) = req.lockout_minutes {
        if !(0..=10_080).contains(&m) {
            return Err(AppError::BadRequest(
                "The auto-unlock time must be between 0 (never) and 10080 minutes.".to_owned(),
            ));
        }
    }
    if let Some(ss) = &req.self_service {
        ss.validate().map_err(|e| {
            AppError::BadRequest(format!("The self-service settings are not valid: {e}"))
        })?;
    }
    let mut policy = req.policy.clone();
    policy.version = d.policy.version;
    policy
        .validate()
        .map_err(|e| AppError::BadRequest(format!("The password policy is not valid: {e}")))?;
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
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let ev = actor
        .did(kind::DOMAIN_UPDATE)
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

// ---------------------------------------------------------------- notices

fn notice_from_row(r: &sqlx::any::AnyRow) -> Result<AdminNotice, AppError> {
    Ok(AdminNotice {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        posted_on: r.try_get("posted_on")?,
        published: r.flag("published")?,
        sort_order: r.try_get("sort_order")?,
    })
}

const NOTICE_COLUMNS: &str = "id, title, body, posted_on, published, sort_order";

async fn notice_by_id(state: &AppState, id: i64) -> AppResult<Option<AdminNotice>> {
    sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .as_ref()
    .map(notice_from_row)
    .transpose()
}

async fn list_notices(
    State(state): State<AppState>,
    _admin: AdminOnly,
) -> AppResult<Json<Vec<AdminNotice>>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY sort_order, posted_on DESC, id"
    ))
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(
        rows.iter().map(notice_from_row).collect::<Result<_, _>>()?,
    ))
}

fn validate_notice(n: &NoticeInput) -> AppResult<()> {
    // Lengths and characters are held to `bounds` by the extractor.
    if n.title.trim().is_empty() {
        return Err(AppError::BadRequest(format!(
            "The notice title must be 1-{MAX_NOTICE_TITLE_CHARS} characters."
        )));
    }
    if n.body.trim().is_empty() {
        return Err(AppError::BadRequest(format!(
            "The notice text must be 1-{MAX_NOTICE_BODY_CHARS} characters."
        )));
    }
    if !staff::valid_iso_date(n.posted_on.trim()) {
        return Err(AppError::BadRequest(
            "The posted date must be a date like 2019-12-13.".to_owned(),
        ));
    }
    Ok(())
}

async fn create_notice(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(n): ApiJson<NoticeInput>,
) -> AppResult<(StatusCode, Json<AdminNotice>)> {
    validate_notice(&n)?;
    let mut tx = state.db.pool.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO notices (title, body, posted_on, published, sort_order, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(n.title.trim())
    .bind(n.body.trim())
    .bind(n.posted_on.trim())
    .bind(n.published)
    .bind(n.sort_order)
    .bind(state.now())
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let ev = actor.did(kind::NOTICE_CREATE).detail(n.title.trim());
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let notice = notice_by_id(&state, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(notice)))
}

async fn update_notice(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NoticeInput>,
) -> AppResult<Json<AdminNotice>> {
    validate_notice(&n)?;
    let mut tx = state.db.pool.begin().await?;
    let res = sqlx::query(
        "UPDATE notices SET title = $1, body = $2, posted_on = $3, published = $4, sort_order = $5 \
         WHERE id = $6",
    )
    .bind(n.title.trim())
    .bind(n.body.trim())
    .bind(n.posted_on.trim())
    .bind(n.published)
    .bind(n.sort_order)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if res.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let ev = actor.did(kind::NOTICE_UPDATE).detail(n.title.trim());
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(
        notice_by_id(&state, id).await?.ok_or(AppError::NotFound)?,
    ))
}

async fn delete_notice(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    let notice = notice_by_id(&state, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.db.pool.begin().await?;
    let res = sqlx::query("DELETE FROM notices WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if res.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let ev = actor.did(kind::NOTICE_DELETE).detail(&notice.title);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub const MANDATORY_RESET_BODY: &str = "As a security precaution, every user must choose a new \
     password. At your next sign-in you will be asked to change it: open the Change Password tab \
     of the Self Service Password Manager, pick a new password that meets the listed \
     requirements, and sign in again with it.";

async fn mandatory_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<MandatoryResetRequest>,
) -> AppResult<Json<MandatoryResetResponse>> {
    admin.require_fresh(state.now())?;
    let reason = valid_reason(&req.reason)?;
    if req.domains.is_empty() {
        return Err(AppError::BadRequest(
            "Choose at least one domain.".to_owned(),
        ));
    }
    let mut targets = Vec::new();
    for slug in &req.domains {
        let d = domains::by_slug(&state.db, slug)
            .await?
            .ok_or_else(|| AppError::BadRequest(format!("There is no domain {slug:?}.")))?;
        targets.push(d);
    }
    let mut keys = Vec::new();
    for name in &req.usernames {
        if name.trim().is_empty() {
            continue;
        }
        let u = Username::parse(name)
            .map_err(|e| AppError::BadRequest(format!("Invalid user name {name:?}: {e}")))?;
        keys.push((name.trim().to_owned(), u.key()));
    }
    if let Some(id) = req.notice_id {
        notice_by_id(&state, id)
            .await?
            .ok_or_else(|| AppError::BadRequest("That notice does not exist.".to_owned()))?;
    }
    let now = state.now();
    let today = staff::iso_date(now);
    let mut tx = state.db.pool.begin().await?;
    let mut marked = 0i64;
    let mut found = vec![false; keys.len()];
    for d in &targets {
        if keys.is_empty() {
            let res = sqlx::query("UPDATE users SET must_change = $1 WHERE domain_id = $2")
                .bind(true)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            marked += i64::try_from(res.rows_affected()).unwrap_or(i64::MAX);
        } else {
            for (i, (_, key)) in keys.iter().enumerate() {
                let res = sqlx::query(
                    "UPDATE users SET must_change = $1 WHERE domain_id = $2 AND username_key = $3",
                )
                .bind(true)
                .bind(d.id)
                .bind(key)
                .execute(&mut *tx)
                .await?;
                if res.rows_affected() > 0 {
                    found[i] = true;
                    marked += 1;
                }
            }
        }
    }
    let notice_id = match req.notice_id {
        Some(id) => id,
        None => {
            let existing =
                sqlx::query("SELECT id FROM notices WHERE title = $1 ORDER BY id LIMIT 1")
                    .bind(MANDATORY_RESET_NOTICE_TITLE)
                    .fetch_optional(&mut *tx)
                    .await?;
            match existing {
                Some(r) => r.try_get("id")?,
                None => sqlx::query(
                    "INSERT INTO notices (title, body, posted_on, published, sort_order, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(MANDATORY_RESET_NOTICE_TITLE)
                .bind(MANDATORY_RESET_BODY)
                .bind(&today)
                .bind(true)
                .bind(0i64)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?,
            }
        }
    };
    sqlx::query("UPDATE notices SET published = $1, posted_on = $2 WHERE id = $3")
        .bind(true)
        .bind(&today)
        .bind(notice_id)
        .execute(&mut *tx)
        .await?;
    let name = admin.actor();
    let slugs = targets
        .iter()
        .map(|d| d.slug.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let detail = format!("{reason} ({marked} users marked)");
    let ev = AuditEvent {
        kind: kind::MANDATORY_RESET,
        actor: Some(&name),
        subject: None,
        domain: Some(&slugs),
        source_ip: ip.as_deref(),
        result: result::SUCCESS,
        detail: Some(&detail),
    };
    audit::record(&mut *tx, now, &ev).await?;
    tx.commit().await?;
    let unknown_usernames = keys
        .iter()
        .zip(found)
        .filter(|(_, f)| !f)
        .map(|((n, _), _)| n.clone())
        .collect();
    Ok(Json(MandatoryResetResponse {
        users_marked: marked,
        notice: notice_by_id(&state, notice_id)
            .await?
            .ok_or(AppError::NotFound)?,
        unknown_usernames,
    }))
}

// ---------------------------------------------------------------- help desk

async fn read_setting(state: &AppState, key: &str) -> AppResult<String> {
    Ok(sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|r| r.try_get::<String, _>("value"))
        .transpose()?
        .unwrap_or_default())
}

async fn get_help_desk(
    State(state): State<AppState>,
    _admin: AdminOnly,
) -> AppResult<Json<HelpDesk>> {
    Ok(Json(HelpDesk {
        phone: read_setting(&state, HELP_DESK_PHONE).await?,
        email: read_setting(&state, HELP_DESK_EMAIL).await?,
    }))
}

async fn put_help_desk(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiJson(req): ApiJson<HelpDesk>,
) -> AppResult<Json<HelpDesk>> {
    let phone = req.phone.trim();
    let email = req.email.trim();
    if !email.is_empty() && !email.contains('@') {
        return Err(AppError::BadRequest(
            "The e-mail address must contain an @.".to_owned(),
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    for (key, value) in [(HELP_DESK_PHONE, phone), (HELP_DESK_EMAIL, email)] {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
    }
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    audit::record(&mut *tx, state.now(), &actor.did(kind::HELP_DESK_UPDATE)).await?;
    tx.commit().await?;
    Ok(Json(HelpDesk {
        phone: phone.to_owned(),
        email: email.to_owned(),
    }))
}

// ---------------------------------------------------------------- audit log

const AUDIT_DEFAULT_LIMIT: i64 = 200;
const AUDIT_MAX_LIMIT: i64 = 1000;
const AUDIT_CSV_LIMIT: i64 = 100_000;

async fn query_audit(state: &AppState, q: &AuditQuery, limit: i64) -> AppResult<Vec<AuditEntry>> {
    // What this instance has not written yet is shown too; other instances
    // write theirs within a second.
    if let Err(e) = state.flush_audit().await {
        tracing::warn!(error = %e, "writing deferred audit events before the audit view failed");
    }
    enum Arg {
        S(String),
        I(i64),
    }
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let mut n = 0usize;
    let mut param = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        n += 1;
        format!("${n}")
    };
    if let Some(user) = q.user.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let u = user.to_lowercase();
        let p1 = param(&mut args, Arg::S(u.clone()));
        let p2 = param(&mut args, Arg::S(u.clone()));
        let p3 = param(&mut args, Arg::S(format!("{u}@%")));
        clauses.push(format!(
            "(subject = {p1} OR actor = {p2} OR actor LIKE {p3})"
        ));
    }
    if let Some(domain) = q.domain.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let d = domain.to_lowercase();
        let p1 = param(&mut args, Arg::S(d.clone()));
        let p2 = param(&mut args, Arg::S(format!("%@{d}")));
        clauses.push(format!("(domain = {p1} OR actor LIKE {p2})"));
    }
    if let Some(k) = q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let p = param(&mut args, Arg::S(k.to_owned()));
        clauses.push(format!("kind = {p}"));
    }
    if let Some(from) = q.from {
        let p = param(&mut args, Arg::I(from));
        clauses.push(format!("at >= {p}"));
    }
    if let Some(to) = q.to {
        let p = param(&mut args, Arg::I(to));
        clauses.push(format!("at < {p}"));
    }
    let lp = param(&mut args, Arg::I(limit));
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at, kind, actor, subject, domain, source_ip, result, detail FROM audit_events \
         {where_sql} ORDER BY at DESC, id DESC LIMIT {lp}"
    );
    let mut query = sqlx::query(&sql);
    for a in args {
        query = match a {
            Arg::S(s) => query.bind(s),
            Arg::I(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                actor: r.try_get("actor")?,
                subject: r.try_get("subject")?,
                domain: r.try_get("domain")?,
                source_ip: r.try_get("source_ip")?,
                result: r.try_get("result")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

async fn audit_log(
    State(state): State<AppState>,
    _admin: AdminOnly,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let limit = q
        .limit
        .unwrap_or(AUDIT_DEFAULT_LIMIT)
        .clamp(1, AUDIT_MAX_LIMIT);
    let mut events = query_audit(&state, &q, limit + 1).await?;
    let truncated = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Json(AuditPage { events, truncated }))
}

/// One CSV field: quoted when needed; a leading `= + - @` is neutralised so a
/// spreadsheet never runs it as a formula.
fn csv_field(s: &str) -> String {
    let mut s = s.to_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

async fn audit_csv(
    State(state): State<AppState>,
    _admin: AdminOnly,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Response> {
    let limit = q.limit.unwrap_or(AUDIT_CSV_LIMIT).clamp(1, AUDIT_CSV_LIMIT);
    let events = query_audit(&state, &q, limit).await?;
    let mut out = String::from("time,kind,result,actor,subject,domain,source_ip,detail\r\n");
    for e in events {
        let fields = [
            staff::iso_datetime(e.at),
            e.kind,
            e.result,
            e.actor.unwrap_or_default(),
            e.subject.unwrap_or_default(),
            e.domain.unwrap_or_default(),
            e.source_ip.unwrap_or_default(),
            e.detail.unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    let filename = format!("latchkey-audit-{}.csv", staff::iso_date(state.now()));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from(out),
    )
        .into_response())
}

// ---------------------------------------------------------------- API keys

/// The stored form of an API key.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

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

async fn list_api_keys(
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

async fn create_api_key(
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
    let actor = Actor {
        name: &actor_name,
        ip: ip.as_deref(),
    };
    audit::record(
        &mut *tx,
        state.now(),
        &actor.did(kind::API_KEY_CREATE).detail(name),
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

async fn revoke_api_key(
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
    let name = admin.actor();
    let actor = Actor {
        name: &name,
        ip: ip.as_deref(),
    };
    let ev = actor.did(kind::API_KEY_REVOKE).detail(&key_name);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- roles

/// Sets a user's role (and an LRA's domains) in `conn`'s transaction.
pub async fn set_role(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    role: Role,
    domain_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM staff_domains WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if role == Role::Lra {
        for d in domain_ids {
            sqlx::query("INSERT INTO staff_domains (user_id, domain_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(d)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

async fn update_role(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AdminOnly(admin): AdminOnly,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RoleUpdate>,
) -> AppResult<Json<UserState>> {
    let target = load_target(&state, id).await?.ok_or(AppError::NotFound)?;
    admin.require_fresh(state.now())?;
    let reason = valid_reason(&req.reason)?;
    if id == admin.user.user_id {
        return Err(AppError::BadRequest(
            "You cannot change your own role.".to_owned(),
        ));
    }
    let mut domain_ids = Vec::new();
    if req.role == Role::Lra {
        if req.domains.is_empty() {
            return Err(AppError::BadRequest(
                "Choose at least one domain for the Local Registration Authority.".to_owned(),
            ));
        }
        for slug in &req.domains {
            let d = domains::by_slug(&state.db, slug)
                .await?
                .ok_or_else(|| AppError::BadRequest(format!("There is no domain {slug:?}.")))?;
            domain_ids.push(d.id);
        }
    }
    let mut tx = state.db.pool.begin().await?;
    set_role(&mut tx, id, req.role, &domain_ids).await?;
    let name = admin.actor();
    let detail = format!(
        "{} -> {}{}: {reason}",
        target.state.role.as_str(),
        req.role.as_str(),
        if req.role == Role::Lra {
            format!(" ({})", req.domains.join(","))
        } else {
            String::new()
        }
    );
    let ev = AuditEvent {
        kind: kind::ROLE_CHANGE,
        actor: Some(&name),
        subject: Some(&target.username_key),
        domain: Some(&target.state.domain),
        source_ip: ip.as_deref(),
        result: result::SUCCESS,
        detail: Some(&detail),
    };
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(
        load_target(&state, id)
            .await?
            .ok_or(AppError::NotFound)?
            .state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
