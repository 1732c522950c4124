//! Notices on the sign-in page, and the one-step mandatory reset (mark the
//! users, publish the notice).

use latchkey_shared::admin::{
    AdminNotice, MandatoryResetRequest, MandatoryResetResponse, NoticeInput,
    MANDATORY_RESET_NOTICE_TITLE,
};
use latchkey_shared::Username;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::accounts::staff::{valid_reason, StaffScope};
use crate::audit::Actor;
use crate::audit::{self, AuditKind};
use crate::db::domains::{self, Domain};
use crate::db::{Db, RowExt};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const MANDATORY_RESET_BODY: &str = "As a security precaution, every user must choose a new \
     password. At your next sign-in you will be asked to change it: open the Change Password tab \
     of the Self Service Password Manager, pick a new password that meets the listed \
     requirements, and sign in again with it.";

const NOTICE_COLUMNS: &str = "id, title, body, posted_on, published, sort_order";

/// Every notice, published or not, in the order the sign-in page shows them.
pub async fn list(db: &Db) -> AppResult<Vec<AdminNotice>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY sort_order, posted_on DESC, id"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(notice_from_row).collect()
}

/// A new notice.
pub async fn create(state: &AppState, actor: &Actor, n: &NoticeInput) -> AppResult<AdminNotice> {
    // Lengths and characters are held to `bounds` by the extractor.
    n.validate().map_err(AppError::BadRequest)?;
    let mut tx = state.db.pool.begin().await?;
    let id = insert_notice(&mut tx, n, state.now()).await?;
    record_change(
        &mut tx,
        state,
        actor,
        AuditKind::AdminNoticeCreate,
        n.title.trim(),
    )
    .await?;
    tx.commit().await?;
    existing(&state.db, id).await
}

/// Edits the notice `id`; 404 if there is none.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    n: &NoticeInput,
) -> AppResult<AdminNotice> {
    n.validate().map_err(AppError::BadRequest)?;
    let mut tx = state.db.pool.begin().await?;
    if !write_notice(&mut tx, id, n).await? {
        return Err(AppError::NotFound);
    }
    record_change(
        &mut tx,
        state,
        actor,
        AuditKind::AdminNoticeUpdate,
        n.title.trim(),
    )
    .await?;
    tx.commit().await?;
    existing(&state.db, id).await
}

/// Deletes the notice `id`; 404 if there is none.
pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let notice = existing(&state.db, id).await?;
    let mut tx = state.db.pool.begin().await?;
    if !delete_notice(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    record_change(
        &mut tx,
        state,
        actor,
        AuditKind::AdminNoticeDelete,
        &notice.title,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every user of the domains (or only the named ones) must change their
/// password at the next sign-in, and the notice (the given one, else the
/// standing "mandatory reset" one) is published dated today: one
/// transaction, one audit row (re-authentication and a reason needed).
pub async fn mandatory_reset(
    state: &AppState,
    admin: &StaffScope,
    actor: &Actor,
    req: &MandatoryResetRequest,
) -> AppResult<MandatoryResetResponse> {
    admin.require_fresh(state.now())?;
    let reason = valid_reason(&req.reason)?;
    if req.domains.is_empty() {
        return Err(AppError::BadRequest(
            "Choose at least one domain.".to_owned(),
        ));
    }
    let targets = named_domains(&state.db, &req.domains).await?;
    let keys = named_users(&req.usernames)?;
    if let Some(id) = req.notice_id {
        notice_by_id(&state.db, id)
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
            marked += mark_domain(&mut tx, d.id).await?;
        } else {
            for (i, (_, key)) in keys.iter().enumerate() {
                if mark_user(&mut tx, d.id, key).await? {
                    found[i] = true;
                    marked += 1;
                }
            }
        }
    }
    let notice_id = match req.notice_id {
        Some(id) => id,
        None => standing_reset_notice(&mut tx, &today, now).await?,
    };
    publish_notice(&mut tx, notice_id, &today).await?;
    let slugs = targets
        .iter()
        .map(|d| d.slug.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let detail = format!("{reason} ({marked} users marked)");
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
    Ok(MandatoryResetResponse {
        users_marked: marked,
        notice: existing(&state.db, notice_id).await?,
        unknown_usernames,
    })
}

/// The audit row of a change to a notice, titled `title`.
async fn record_change(
    tx: &mut Transaction<'_, Any>,
    state: &AppState,
    actor: &Actor,
    kind: AuditKind,
    title: &str,
) -> Result<(), sqlx::Error> {
    audit::record(&mut **tx, state.now(), &actor.did(kind).detail(title)).await
}

fn notice_from_row(r: &AnyRow) -> Result<AdminNotice, AppError> {
    Ok(AdminNotice {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        posted_on: r.try_get("posted_on")?,
        published: r.flag("published")?,
        sort_order: r.try_get("sort_order")?,
    })
}

async fn notice_by_id(db: &Db, id: i64) -> AppResult<Option<AdminNotice>> {
    sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(notice_from_row)
    .transpose()
}

/// The notice `id`; 404 if there is none.
async fn existing(db: &Db, id: i64) -> AppResult<AdminNotice> {
    notice_by_id(db, id).await?.ok_or(AppError::NotFound)
}

async fn insert_notice(
    tx: &mut Transaction<'_, Any>,
    n: &NoticeInput,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO notices (title, body, posted_on, published, sort_order, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(n.title.trim())
    .bind(n.body.trim())
    .bind(n.posted_on.trim())
    .bind(n.published)
    .bind(n.sort_order)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Whether the notice `id` existed.
async fn write_notice(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    n: &NoticeInput,
) -> Result<bool, sqlx::Error> {
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
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// Whether the notice `id` existed.
async fn delete_notice(tx: &mut Transaction<'_, Any>, id: i64) -> Result<bool, sqlx::Error> {
    let res = sqlx::query("DELETE FROM notices WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(res.rows_affected() > 0)
}

/// The domains named by `slugs`; 400 naming the first unknown one.
async fn named_domains(db: &Db, slugs: &[String]) -> AppResult<Vec<Domain>> {
    let mut out = Vec::with_capacity(slugs.len());
    for slug in slugs {
        let d = domains::by_slug(db, slug)
            .await?
            .ok_or_else(|| AppError::BadRequest(format!("There is no domain {slug:?}.")))?;
        out.push(d);
    }
    Ok(out)
}

/// `(as typed, key)` of every non-blank name; 400 for an impossible one.
fn named_users(names: &[String]) -> AppResult<Vec<(String, String)>> {
    let mut keys = Vec::new();
    for name in names {
        if name.trim().is_empty() {
            continue;
        }
        let u = Username::parse(name)
            .map_err(|e| AppError::BadRequest(format!("Invalid user name {name:?}: {e}")))?;
        keys.push((name.trim().to_owned(), u.key()));
    }
    Ok(keys)
}

/// Marks every user of the domain; returns how many.
async fn mark_domain(tx: &mut Transaction<'_, Any>, domain_id: i64) -> Result<i64, sqlx::Error> {
    let res = sqlx::query("UPDATE users SET must_change = $1 WHERE domain_id = $2")
        .bind(true)
        .bind(domain_id)
        .execute(&mut **tx)
        .await?;
    Ok(i64::try_from(res.rows_affected()).unwrap_or(i64::MAX))
}

/// Whether the user `key` of the domain exists (and is now marked).
async fn mark_user(
    tx: &mut Transaction<'_, Any>,
    domain_id: i64,
    key: &str,
) -> Result<bool, sqlx::Error> {
    let res =
        sqlx::query("UPDATE users SET must_change = $1 WHERE domain_id = $2 AND username_key = $3")
            .bind(true)
            .bind(domain_id)
            .bind(key)
            .execute(&mut **tx)
            .await?;
    Ok(res.rows_affected() > 0)
}

/// The id of the "mandatory reset" notice, created if there is none yet.
async fn standing_reset_notice(
    tx: &mut Transaction<'_, Any>,
    today: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let existing = sqlx::query("SELECT id FROM notices WHERE title = $1 ORDER BY id LIMIT 1")
        .bind(MANDATORY_RESET_NOTICE_TITLE)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(r) = existing {
        return r.try_get("id");
    }
    let input = NoticeInput {
        title: MANDATORY_RESET_NOTICE_TITLE.to_owned(),
        body: MANDATORY_RESET_BODY.to_owned(),
        posted_on: today.to_owned(),
        published: true,
        sort_order: 0,
    };
    insert_notice(tx, &input, now).await
}

async fn publish_notice(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    today: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notices SET published = $1, posted_on = $2 WHERE id = $3")
        .bind(true)
        .bind(today)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
