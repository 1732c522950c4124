//! Notices on the sign-in page, and the one-step mandatory reset.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use latchkey_shared::admin::{
    AdminNotice, MandatoryResetRequest, MandatoryResetResponse, NoticeInput,
    MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::Username;
use sqlx::Row;

use crate::accounts::Actor;
use crate::audit::{self, AuditKind};
use crate::db::RowExt;
use crate::domains::{self};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ClientIp};
use crate::staff::{valid_reason, AdminOnly};
use crate::state::AppState;

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

pub(super) async fn notice_by_id(state: &AppState, id: i64) -> AppResult<Option<AdminNotice>> {
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

pub(super) async fn list_notices(
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
    n.validate().map_err(AppError::BadRequest)
}

pub(super) async fn create_notice(
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
    let actor = admin.as_actor(ip);
    let ev = actor
        .did(AuditKind::AdminNoticeCreate)
        .detail(n.title.trim());
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    let notice = notice_by_id(&state, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(notice)))
}

pub(super) async fn update_notice(
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
    let actor = admin.as_actor(ip);
    let ev = actor
        .did(AuditKind::AdminNoticeUpdate)
        .detail(n.title.trim());
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(Json(
        notice_by_id(&state, id).await?.ok_or(AppError::NotFound)?,
    ))
}

pub(super) async fn delete_notice(
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
    let actor = admin.as_actor(ip);
    let ev = actor
        .did(AuditKind::AdminNoticeDelete)
        .detail(&notice.title);
    audit::record(&mut *tx, state.now(), &ev).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub const MANDATORY_RESET_BODY: &str = "As a security precaution, every user must choose a new \
     password. At your next sign-in you will be asked to change it: open the Change Password tab \
     of the Self Service Password Manager, pick a new password that meets the listed \
     requirements, and sign in again with it.";

pub(super) async fn mandatory_reset(
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
    let today = latchkey_shared::dates::iso_date(now);
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
    let actor = Actor::new(name, ip);
    let ev = actor
        .did(AuditKind::AdminMandatoryReset)
        .domain(&slugs)
        .detail(&detail);
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
