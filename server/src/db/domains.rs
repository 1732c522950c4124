//! Authentication domains (e.g. Partners, HRCC, HHSC) and their policies.

use latchkey_shared::api::DomainInfo;
use latchkey_shared::bounds::{check_text, TextKind, MAX_SLUG_CHARS};
use latchkey_shared::PasswordPolicy;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::accounts::store::StoreKind;
use crate::db::{Db, RowExt};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub sspm_available: bool,
    pub unavailable_text: Option<String>,
    /// With `version` set from the authoritative `policy_version` column.
    pub policy: PasswordPolicy,
    pub lockout_threshold: Option<i64>,
    pub lockout_minutes: Option<i64>,
    /// Where this domain's passwords live.
    pub store: StoreKind,
}

const COLUMN_NAMES: [&str; 10] = [
    "id",
    "slug",
    "name",
    "sspm_available",
    "unavailable_text",
    "policy",
    "policy_version",
    "lockout_threshold",
    "lockout_minutes",
    "credential_store",
];

static COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| COLUMN_NAMES.join(", "));

/// The columns as `{alias}.col AS {prefix}col`, for a query that joins
/// domains with tables whose column names clash (read back with
/// [`Domain::from_prefixed_row`]).
pub fn prefixed_columns(alias: &str, prefix: &str) -> String {
    COLUMN_NAMES
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Domain {
    fn from_row(row: &AnyRow) -> Result<Self, AppError> {
        Self::from_prefixed_row(row, "")
    }

    /// A domain from columns selected with [`prefixed_columns`].
    pub fn from_prefixed_row(row: &AnyRow, prefix: &str) -> Result<Self, AppError> {
        let col = |c: &str| format!("{prefix}{c}");
        let policy_json: String = row.try_get(col("policy").as_str())?;
        let version: i64 = row.try_get(col("policy_version").as_str())?;
        let mut policy: PasswordPolicy = serde_json::from_str(&policy_json)
            .map_err(|e| AppError::internal(format!("stored policy is not valid JSON: {e}")))?;
        policy.version = u32::try_from(version).unwrap_or(u32::MAX);
        Ok(Self {
            id: row.try_get(col("id").as_str())?,
            slug: row.try_get(col("slug").as_str())?,
            name: row.try_get(col("name").as_str())?,
            sspm_available: row.flag(&col("sspm_available"))?,
            unavailable_text: row.try_get(col("unavailable_text").as_str())?,
            policy,
            lockout_threshold: row.try_get(col("lockout_threshold").as_str())?,
            lockout_minutes: row.try_get(col("lockout_minutes").as_str())?,
            store: {
                let text: String = row.try_get(col("credential_store").as_str())?;
                StoreKind::parse(&text).ok_or_else(|| {
                    AppError::internal(format!("domain has an unknown credential store {text:?}"))
                })?
            },
        })
    }

    /// What people are told when self-service is not offered here.
    pub fn unavailable_message(&self) -> String {
        self.unavailable_text
            .clone()
            .unwrap_or_else(|| latchkey_shared::api::messages::sspm_unavailable(&self.name))
    }

    pub fn info(&self) -> DomainInfo {
        DomainInfo {
            id: self.slug.clone(),
            name: self.name.clone(),
            sspm_available: self.sspm_available,
            unavailable_text: if self.sspm_available {
                None
            } else {
                Some(self.unavailable_message())
            },
            policy: self.policy.clone(),
        }
    }
}

/// The slug to look `typed` up under: its trimmed lower-case form, or, for
/// text no slug can be (too long, control characters), one that no domain
/// has, so such text still runs the same query and finds nothing.
pub fn lookup_slug(typed: &str) -> String {
    let slug = typed.trim().to_ascii_lowercase();
    match check_text("domain", &slug, MAX_SLUG_CHARS, TextKind::Line) {
        Ok(()) => slug,
        Err(_) => NO_SUCH_SLUG.to_owned(),
    }
}

/// A slug no domain can have (`!` is not allowed in one).
const NO_SUCH_SLUG: &str = "!";

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Domain>, AppError> {
    let slug = lookup_slug(slug);
    let row = sqlx::query(&format!("SELECT {} FROM domains WHERE slug = $1", *COLUMNS))
        .bind(slug)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(Domain::from_row).transpose()
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Domain>, AppError> {
    let row = sqlx::query(&format!("SELECT {} FROM domains WHERE id = $1", *COLUMNS))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(Domain::from_row).transpose()
}

/// All domains in the order they were created.
pub async fn all(db: &Db) -> Result<Vec<Domain>, AppError> {
    let rows = sqlx::query(&format!("SELECT {} FROM domains ORDER BY id", *COLUMNS))
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(Domain::from_row).collect()
}

pub use latchkey_shared::admin::valid_slug;
